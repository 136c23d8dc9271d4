/** `image-cache-builder-<region>`: what the image-cache builder runs with in one home region. Composition only. */
import { Construct } from 'constructs';
import { FleetStack, FleetStackProps } from '../modules/terraform/fleet-stack';
import type { ImageCache } from '../modules/fleet/load';
import { BuilderInfrastructure } from '../modules/image-cache/builder-infra';
import { builderInstanceType } from '../modules/image-cache/builder-launch';
import { RolloutPolicy } from '../modules/image-cache/rollout-policy';
import { ReplicationPolicy } from '../modules/image-cache/replication-policy';
import { clusterParameterPath } from '../modules/image-cache/parameters';
import { pulledImages } from '../modules/image-cache/image-names';

export interface ImageCacheBuilderStackProps extends FleetStackProps {
  readonly region: string;
  /** The caches whose home is this region. */
  readonly caches: readonly ImageCache[];
  /** Per cache, the clusters a rollout moves (rolloutClustersOf); a cache with some gets its rollout policy. @default none */
  readonly rolloutClusters?: Readonly<Record<string, readonly { readonly name: string; readonly region: string }[]>>;
  /** The caches that have an image-cache-<cache> stack; each gets the policy to deploy it. @default none */
  readonly replicated?: readonly string[];
  /** The fleet's ID (the bottlerocket-fleet:fleet tag the CI policy's conditions match). */
  readonly fleetId: string;
}

export class ImageCacheBuilderStack extends FleetStack {
  constructor(scope: Construct, id: string, props: ImageCacheBuilderStackProps) {
    super(scope, id, props);
    this.awsProvider(props.region);
    new BuilderInfrastructure(this, 'builder', {
      region: props.region,
      cacheNames: props.caches.map((c) => c.name),
      fleetId: props.fleetId,
      parameterPaths: props.caches.map((c) => c.parameterPath),
      // Every regional name is pulled (the same-content check): the CI role needs each of their repositories.
      images: props.caches.flatMap((c) => pulledImages(c)),
      replicaParameters: props.caches.flatMap((c) => [
        ...c.replicaRegions.map((region) => ({ region, parameterPath: c.parameterPath })),
        // Home-region cluster parameters are under /bottlerocket-fleet/* already (ReadParameters); `cache gc`
        // reads the others (generations they still name).
        ...(props.rolloutClusters?.[c.name] ?? [])
          .filter((cl) => cl.region !== c.homeRegion)
          .map((cl) => ({ region: cl.region, parameterPath: clusterParameterPath(c.parameterPath, cl.name) })),
      ]),
      instanceTypes: props.caches.map(builderInstanceType),
    });
    for (const cache of props.caches) {
      const clusters = props.rolloutClusters?.[cache.name] ?? [];
      if (clusters.length > 0) new RolloutPolicy(this, `rollout-policy-${cache.name}`, { cache, clusters });
      if (props.replicated?.includes(cache.name)) new ReplicationPolicy(this, `replication-policy-${cache.name}`, { cache, rolloutClusters: clusters });
    }
  }
}
