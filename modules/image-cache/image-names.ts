/**
 * Every name a pod may use for a cached image, per region. The CRI finds an image only by the exact
 * normalised string a pod asks for (see image-ref.ts), so a cache records, for each image and each region
 * that holds a copy of the cache:
 * - the regional name: the fleet file's reference with its placeholders expanded for that region
 *   (`{region}`, `{eksRegistry}`), normalised; identical in every region when it has no placeholder;
 * - `<regional repository>@<digest>`: what a digest reference and a tag-plus-digest reference resolve to.
 * Pure: the builder, the dry run and other commands (e.g. a pod-image check) share it.
 */
import { readJsonContract } from '../contracts';
import { parseImageRef, ParsedImage } from './image-ref';

/** The two placeholders an image reference may hold. */
export const PLACEHOLDERS = ['region', 'eksRegistry'] as const;

/** Shown in place of a digest that is not known before the pull (dry run). */
export const UNKNOWN_DIGEST = '<digest>';

export interface EksAddonRegistry {
  readonly account: string;
  /** The registry's own region, as published (ap-east-2's is published as ap-east-1). */
  readonly registryRegion: string;
  readonly domain: string;
  readonly registry: string;
}

/** contracts/eks-addon-registries.json: the EKS add-on image registry of each region (AWS's table). */
export function eksAddonRegistry(region: string): EksAddonRegistry | undefined {
  return readJsonContract<{ registries: Partial<Record<string, EksAddonRegistry>> }>('eks-addon-registries.json').registries[region];
}

/** The reference with its placeholders expanded for `region`, or why it cannot be. */
export function expandImage(template: string, region: string): { image: string } | { error: string } {
  let error: string | undefined;
  const image = template.replace(/\{([^}]*)\}/g, (whole, name: string, at: number) => {
    if (name === 'region') return region;
    if (name === 'eksRegistry') {
      if (at !== 0 || template[at + whole.length] !== '/') {
        error ??= '{eksRegistry} is a registry host: it must open the reference, followed by "/"';
        return whole;
      }
      const r = eksAddonRegistry(region);
      if (!r) {
        error ??= `no EKS add-on registry is published for ${region} (contracts/eks-addon-registries.json, from AWS's list of add-on image registries)`;
        return whole;
      }
      return r.registry;
    }
    error ??= `unknown placeholder {${name}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`;
    return whole;
  });
  return error ? { error } : { image };
}

/** True when the reference names a different image per region. */
export function hasPlaceholders(template: string): boolean {
  return /\{[^}]*\}/.test(template);
}

/** What the names are computed from: the images as written, the home region, the regions holding copies. */
export interface NamedCache {
  /** The fleet file's references, placeholders unexpanded (validated at load time). */
  readonly imageTemplates: readonly string[];
  readonly homeRegion: string;
  readonly regions: readonly string[];
}

export interface ImageNames {
  /** The image as the builder pulls it: its normalised name in the home region. */
  readonly image: string;
  readonly region: string;
  /** The regional name (repository:tag, or repository@digest when the reference has a digest). */
  readonly ref: string;
  readonly repository: string;
  /** The content digest, when known (written in the reference, or given). */
  readonly digest?: string;
  /** Every name a pod in the region may use: `ref`, then `repository@digest` (UNKNOWN_DIGEST when not known). */
  readonly names: string[];
}

function parsed(template: string, region: string): ParsedImage {
  const e = expandImage(template, region);
  if ('error' in e) throw new Error(`${template} in ${region}: ${e.error}`);
  const p = parseImageRef(e.image);
  if ('error' in p) throw new Error(p.error);
  return p;
}

/**
 * Per image of the cache, every name a pod in `region` may use. `digests[i]` is image i's digest as
 * pulled (the same content in every region: the builder checks it); without it, a digest written in the
 * reference, else UNKNOWN_DIGEST.
 */
export function cacheImageNames(cache: NamedCache, region: string, digests: readonly (string | undefined)[] = []): ImageNames[] {
  return cache.imageTemplates.map((template, i) => {
    const home = parsed(template, cache.homeRegion);
    const here = parsed(template, region);
    const digest = digests[i] ?? here.digest;
    const byDigest = `${here.repository}@${digest ?? UNKNOWN_DIGEST}`;
    return {
      image: home.ref,
      region,
      ref: here.ref,
      repository: here.repository,
      ...(digest ? { digest } : {}),
      names: byDigest === here.ref ? [here.ref] : [here.ref, byDigest],
    };
  });
}

/** Every name of every image in every region of the cache, once each, in region order. */
export function allCacheImageNames(cache: NamedCache, digests: readonly (string | undefined)[] = []): string[] {
  return [...new Set(cache.regions.flatMap((r) => cacheImageNames(cache, r, digests).flatMap((n) => n.names)))];
}

/** The references the builder pulls from a registry: each image's regional name in every region (digest names are tags). */
export function pulledImages(cache: NamedCache): string[] {
  return [...new Set(cache.regions.flatMap((r) => cacheImageNames(cache, r).map((n) => n.ref)))];
}
