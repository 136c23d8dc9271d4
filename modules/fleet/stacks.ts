/**
 * Which stacks a fleet has, what they are called and which ones each depends on — decided once, here,
 * from the fleet model alone (no cdktf import). stacks/app.ts builds exactly these stacks and declares
 * these dependencies; `bottlerocket-fleet deploy` reads them without synthesizing anything.
 */
import type { Fleet } from './load';
import { clustersUsingCache } from './rollout';

export type StackKind = 'cluster' | 'karpenter' | 'image-cache-builder' | 'image-cache';

export interface PlannedStack {
  readonly name: string;
  readonly kind: StackKind;
  /** The cluster (cluster, karpenter), the cache (image-cache) or the region (image-cache-builder). */
  readonly subject: string;
  /** Stacks to deploy first (cdktf `addDependency`, recorded in manifest.json). */
  readonly dependsOn: readonly string[];
}

export const stackName = {
  cluster: (cluster: string) => `${cluster}-cluster`,
  karpenter: (cluster: string) => `${cluster}-karpenter`,
  imageCacheBuilder: (region: string) => `image-cache-builder-${region}`,
  imageCache: (cache: string) => `image-cache-${cache}`,
};

/** With a rollout: the clusters using the cache, each of which gets its own parameter from image-cache-<cache>. */
export function rolloutClustersOf(fleet: Pick<Fleet, 'clusters' | 'rollout'>, cache: string): { name: string; region: string }[] {
  return fleet.rollout ? clustersUsingCache(fleet.clusters, cache).map((c) => ({ name: c.name, region: c.region })) : [];
}

/**
 * Whether the cache has an `image-cache-<cache>` stack: only once built (a cache not built yet has no
 * snapshot to replicate), and only when it has something to do — replicas, Fast Snapshot Restore in the
 * home region, or the per-cluster parameters of a rollout.
 */
export function hasImageCacheStack(fleet: Pick<Fleet, 'imageCaches' | 'clusters' | 'rollout'>, cacheName: string): boolean {
  const cache = fleet.imageCaches.find((c) => c.name === cacheName);
  if (!cache?.built) return false;
  return cache.replicaRegions.length > 0 || cache.fastSnapshotRestoreAzs[cache.homeRegion] !== undefined || rolloutClustersOf(fleet, cacheName).length > 0;
}

/**
 * Every stack of the fleet in app order. `<cluster>-karpenter` depends on its cluster stack (it finds the
 * cluster by name) and on `image-cache-<cache>` for each built cache its pools use that has such a stack
 * (it reads the regional copy's or the cluster's snapshot parameter that stack writes). The cache
 * build between the builder stack and `image-cache-<cache>` is not a stack: the deploy preflight checks it.
 */
export function fleetStacks(fleet: Pick<Fleet, 'imageCaches' | 'clusters' | 'rollout'>): PlannedStack[] {
  const stacks: PlannedStack[] = [];
  for (const cluster of fleet.clusters) {
    stacks.push({ name: stackName.cluster(cluster.name), kind: 'cluster', subject: cluster.name, dependsOn: [] });
    if (!cluster.karpenter) continue;
    const caches = [...new Set(cluster.karpenter.nodePools.flatMap((p) => (p.imageCache ? [p.imageCache] : [])))];
    stacks.push({
      name: stackName.karpenter(cluster.name),
      kind: 'karpenter',
      subject: cluster.name,
      dependsOn: [stackName.cluster(cluster.name), ...caches.filter((c) => hasImageCacheStack(fleet, c)).map(stackName.imageCache)],
    });
  }
  for (const region of [...new Set(fleet.imageCaches.map((c) => c.homeRegion))]) {
    stacks.push({ name: stackName.imageCacheBuilder(region), kind: 'image-cache-builder', subject: region, dependsOn: [] });
  }
  for (const cache of fleet.imageCaches) {
    if (hasImageCacheStack(fleet, cache.name)) stacks.push({ name: stackName.imageCache(cache.name), kind: 'image-cache', subject: cache.name, dependsOn: [] });
  }
  return stacks;
}
