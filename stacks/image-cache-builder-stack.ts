/** `image-cache-builder-<region>`: what the image-cache builder runs with in one home region. Composition only. */
import { Construct } from 'constructs';
import { FleetStack, FleetStackProps } from '../modules/terraform/fleet-stack';
import type { ImageCache } from '../modules/fleet/load';
import { BuilderInfrastructure } from '../modules/image-cache/builder-infra';
import { builderInstanceType } from '../modules/image-cache/builder-launch';
import { RolloutPolicy } from '../modules/image-cache/rollout-policy';
import { ReplicationPolicy } from '../modules/image-cache/replication-policy';

export interface ImageCacheBuilderStackProps extends FleetStackProps {
  readonly region: string;
  /** The caches whose home is this region. */
  readonly caches: readonly ImageCache[];
  /** Per cache, the clusters a rollout moves (rolloutClustersOf); a cache with some gets its rollout policy. @default none */
  readonly rolloutClusters?: Readonly<Record<string, readonly { readonly name: string; readonly region: string }[]>>;
  /** The caches that have an image-cache-<cache> stack; each gets the policy to deploy it. @default none */
  readonly replicated?: readonly string[];
}

export class ImageCacheBuilderStack extends FleetStack {
  constructor(scope: Construct, id: string, props: ImageCacheBuilderStackProps) {
    super(scope, id, props);
    this.awsProvider(props.region);
    new BuilderInfrastructure(this, 'builder', {
      region: props.region,
      parameterPaths: props.caches.map((c) => c.parameterPath),
      images: props.caches.flatMap((c) => c.images),
      replicaParameters: props.caches.flatMap((c) => c.replicaRegions.map((region) => ({ region, parameterPath: c.parameterPath }))),
      instanceTypes: props.caches.map(builderInstanceType),
    });
    for (const cache of props.caches) {
      const clusters = props.rolloutClusters?.[cache.name] ?? [];
      if (clusters.length > 0) new RolloutPolicy(this, `rollout-policy-${cache.name}`, { cache, clusters });
      if (props.replicated?.includes(cache.name)) new ReplicationPolicy(this, `replication-policy-${cache.name}`, { cache, rolloutClusters: clusters });
    }
  }
}
