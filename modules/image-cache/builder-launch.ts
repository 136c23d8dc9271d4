/**
 * How a builder instance is launched, shared by the builder CLI (what it asks for) and the CI policy (what
 * the role may ask for): its instance type and its instance metadata options.
 */
import type { ImageCache } from '../fleet/load';

/** The cache's `instanceType`, or a general-purpose large of its architecture. */
export function builderInstanceType(cache: Pick<ImageCache, 'instanceType' | 'arch'>): string {
  return cache.instanceType ?? (cache.arch === 'arm64' ? 'm7g.large' : 'm6i.large');
}

/**
 * IMDSv2 only. Hop limit 2 as before: the SSM agent and host-ctr run in Bottlerocket host containers, and whether
 * those reach IMDS in one hop was not verified (docs/not-verified.md). The CI policy refuses any launch above it.
 */
export const BUILDER_METADATA_OPTIONS = { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 2 } as const;
