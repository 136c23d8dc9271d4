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

export interface BuildAppOptions {
  /** Output directory; default: cdktf's (cdktf.out, or what the CLI passes in CDKTF_OUTDIR). */
  readonly outdir?: string;
}

export function buildApp(fleet: Fleet, options: BuildAppOptions = {}): App {
  const app = new App({ outdir: options.outdir, skipValidation: false });
  const common = { backend: fleet.backend, tags: fleet.tags };
  for (const cluster of fleet.clusters) {
    new ClusterStack(app, `${cluster.name}-cluster`, { ...common, cluster });
    if (cluster.karpenter) new KarpenterStack(app, `${cluster.name}-karpenter`, { ...common, cluster, imageCaches: fleet.imageCaches });
  }
  for (const region of [...new Set(fleet.imageCaches.map((c) => c.homeRegion))]) {
    new ImageCacheBuilderStack(app, `image-cache-builder-${region}`, { ...common, region, caches: fleet.imageCaches.filter((c) => c.homeRegion === region) });
  }
  // A cache not built yet has no snapshot to replicate; its stack appears once built: false is removed.
  for (const cache of fleet.imageCaches.filter((c) => c.built && (c.replicaRegions.length > 0 || c.fastSnapshotRestoreAzs[c.homeRegion]))) {
    new ImageCacheStack(app, `image-cache-${cache.name}`, { ...common, cache });
  }
  return app;
}
