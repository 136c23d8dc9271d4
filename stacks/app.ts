/**
 * Builds the cdktf App from a validated fleet: one stack per cluster, per Karpenter installation,
 * per image-cache builder region and per image cache. Only composition happens here.
 */
import { App } from 'cdktf';
import type { Fleet } from '../modules/fleet/load';
import { ClusterStack } from './cluster-stack';
import { KarpenterStack } from './karpenter-stack';
import { ImageCacheStack } from './image-cache-stack';
import { ImageCacheBuilderStack } from './image-cache-builder-stack';
import { clustersUsingCache } from '../modules/fleet/rollout';

export interface BuildAppOptions {
  /** Output directory; default: cdktf's (cdktf.out, or what the CLI passes in CDKTF_OUTDIR). */
  readonly outdir?: string;
}

export function buildApp(fleet: Fleet, options: BuildAppOptions = {}): App {
  const app = new App({ outdir: options.outdir, skipValidation: false });
  const common = { backend: fleet.backend, tags: fleet.tags };
  for (const cluster of fleet.clusters) {
    new ClusterStack(app, `${cluster.name}-cluster`, { ...common, cluster });
    if (cluster.karpenter) new KarpenterStack(app, `${cluster.name}-karpenter`, { ...common, cluster, imageCaches: fleet.imageCaches, perClusterSnapshotParameters: fleet.rollout !== undefined });
  }
  for (const region of [...new Set(fleet.imageCaches.map((c) => c.homeRegion))]) {
    new ImageCacheBuilderStack(app, `image-cache-builder-${region}`, { ...common, region, caches: fleet.imageCaches.filter((c) => c.homeRegion === region) });
  }
  // A cache not built yet has no snapshot to replicate; its stack appears once built: false is removed.
  // With a rollout it also holds the per-cluster snapshot parameters, so it exists whenever clusters use the cache.
  for (const cache of fleet.imageCaches.filter((c) => c.built)) {
    const rolloutClusters = fleet.rollout ? clustersUsingCache(fleet.clusters, cache.name).map((c) => ({ name: c.name, region: c.region })) : [];
    if (cache.replicaRegions.length > 0 || cache.fastSnapshotRestoreAzs[cache.homeRegion] || rolloutClusters.length > 0) {
      new ImageCacheStack(app, `image-cache-${cache.name}`, { ...common, cache, rolloutClusters });
    }
  }
  return app;
}
