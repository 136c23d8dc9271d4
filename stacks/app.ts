/**
 * Builds the cdktf App from a validated fleet: one stack per cluster, per Karpenter installation,
 * per image-cache builder region and per image cache. Only composition happens here; which stacks exist
 * and what each depends on is decided in modules/fleet/stacks.ts (shared with `bottlerocket-fleet deploy`).
 */
import { TerraformStack } from 'cdktf';
import { FleetApp } from '../modules/terraform/fleet-app';
import type { Fleet } from '../modules/fleet/load';
import { ClusterStack } from './cluster-stack';
import { KarpenterStack } from './karpenter-stack';
import { ImageCacheStack } from './image-cache-stack';
import { ImageCacheBuilderStack } from './image-cache-builder-stack';
import { fleetStacks, hasImageCacheStack, rolloutClustersOf } from '../modules/fleet/stacks';

export interface BuildAppOptions {
  /** Output directory; default: cdktf's (cdktf.out, or what the CLI passes in CDKTF_OUTDIR). */
  readonly outdir?: string;
}

export function buildApp(fleet: Fleet, options: BuildAppOptions = {}): FleetApp {
  const app = new FleetApp({ outdir: options.outdir, skipValidation: false });
  const common = { backend: fleet.backend, fleetId: fleet.id, tags: fleet.tags };
  const plan = fleetStacks(fleet);
  const built = new Map<string, TerraformStack>();
  for (const planned of plan) {
    const { name, subject } = planned;
    let stack: TerraformStack;
    switch (planned.kind) {
      case 'cluster':
        stack = new ClusterStack(app, name, { ...common, cluster: fleet.clusters.find((c) => c.name === subject)! });
        break;
      case 'karpenter':
        stack = new KarpenterStack(app, name, {
          ...common,
          cluster: fleet.clusters.find((c) => c.name === subject)!,
          imageCaches: fleet.imageCaches,
          perClusterSnapshotParameters: fleet.rollout !== undefined,
        });
        break;
      case 'image-cache-builder':
        stack = new ImageCacheBuilderStack(app, name, {
          ...common,
          region: subject,
          fleetId: fleet.id,
          caches: fleet.imageCaches.filter((c) => c.homeRegion === subject),
          // The other roles' policies live here too: this stack is deployed before the stacks they deploy or roll out.
          rolloutClusters: Object.fromEntries(fleet.imageCaches.map((c) => [c.name, rolloutClustersOf(fleet, c.name)])),
          replicated: fleet.imageCaches.filter((c) => hasImageCacheStack(fleet, c.name)).map((c) => c.name),
        });
        break;
      case 'image-cache':
        // With a rollout it also holds the per-cluster snapshot parameters (see modules/fleet/stacks.ts).
        stack = new ImageCacheStack(app, name, {
          ...common,
          cache: fleet.imageCaches.find((c) => c.name === subject)!,
          rolloutClusters: rolloutClustersOf(fleet, subject),
        });
        break;
    }
    built.set(name, stack);
  }
  // Recorded in manifest.json: `cdktf deploy` runs a stack only after the stacks it depends on (and
  // refuses a run that leaves one out, unless --ignore-missing-stack-dependencies; see README "Deploy order").
  for (const planned of plan) {
    for (const dependency of planned.dependsOn) built.get(planned.name)!.addDependency(built.get(dependency)!);
  }
  return app;
}
