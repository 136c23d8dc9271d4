/**
 * The names a cache records for a region: what kubelet must ask for to find an image on a node restored
 * from that region's copy. The list is issue 19's (modules/image-cache/image-names.ts): the regional name
 * ({region}/{eksRegistry} expanded, normalised as the CRI's ParseDockerRef) and repository@digest.
 *
 * The report reads no AWS: without the build's manifest a digest is known only when the fleet file pins
 * it, so a `repository@<digest>` name whose digest is unknown is left out (the report's alias match covers
 * digest references of a cached repository).
 */
import { cacheImageNames, NamedCache, UNKNOWN_DIGEST } from '../../modules/image-cache/image-names';

export interface CachedImage {
  /** The image as the builder pulls it (its normalised name in the cache's home region). */
  readonly image: string;
  /** Every name under which a node in the region finds it. */
  readonly names: readonly string[];
}

export function cacheNamesFor(cache: NamedCache, region: string, digests: readonly (string | undefined)[] = []): CachedImage[] {
  return cacheImageNames(cache, region, digests).map((n) => ({ image: n.image, names: n.names.filter((name) => !name.endsWith(`@${UNKNOWN_DIGEST}`)) }));
}
