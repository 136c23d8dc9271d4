/**
 * The names a cache records for a region: what kubelet must ask for to find an image on a node restored
 * from that region's copy. ONE function, so that the list issue 19 creates (normalised ref, repo@digest,
 * regional names through {region}/{eksRegistry} placeholders) can replace it at a single place.
 *
 * Today a cache records exactly its images as the fleet file names them, normalised at load time the
 * way kubelet's CRI lookup sees them (modules/image-cache/image-ref.ts), whatever the region.
 */
import type { ImageCache } from '../../modules/fleet/load';
import { normaliseImageRef } from '../../modules/image-cache/image-ref';

export interface CachedImage {
  /** The image as the fleet file lists it (normalised). */
  readonly image: string;
  /** Every name under which a node in the region finds it. */
  readonly names: readonly string[];
}

export function cacheNamesFor(cache: Pick<ImageCache, 'images'>, region: string): CachedImage[] {
  void region; // every region records the same names until issue 19's regional names land
  return cache.images.map((image) => ({ image, names: [normaliseImageRef(image).ref ?? image] }));
}
