/** `image-cache-builder-<region>`: what the image-cache builder runs with in one home region. Composition only. */
import { Construct } from 'constructs';
import { FleetStack, FleetStackProps } from '../modules/terraform/fleet-stack';
import type { ImageCache } from '../modules/fleet/load';
import { BuilderInfrastructure } from '../modules/image-cache/builder-infra';
import { clusterParameterPath } from '../modules/image-cache/parameters';

export interface ImageCacheBuilderStackProps extends FleetStackProps {
  readonly region: string;
  /** The caches whose home is this region. */
  readonly caches: readonly ImageCache[];
  /** The fleet's ID (the bottlerocket-fleet:fleet tag the CI policy's conditions match). */
  readonly fleetId: string;
  /** With a rollout: per cache, the clusters whose own parameters `cache gc` reads (generations they still name). @default none */
  readonly rolloutClusters?: (cache: string) => readonly { readonly name: string; readonly region: string }[];
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
      images: props.caches.flatMap((c) => c.images),
      replicaParameters: props.caches.flatMap((c) => [
        ...c.replicaRegions.map((region) => ({ region, parameterPath: c.parameterPath })),
        // Home-region cluster parameters are under /bottlerocket-fleet/* already (ReadParameters).
        ...(props.rolloutClusters?.(c.name) ?? [])
          .filter((cl) => cl.region !== c.homeRegion)
          .map((cl) => ({ region: cl.region, parameterPath: clusterParameterPath(c.parameterPath, cl.name) })),
      ]),
    });
  }
}
