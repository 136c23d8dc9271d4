/** `image-cache-builder-<region>`: what the image-cache builder runs with in one home region. Composition only. */
import { Construct } from 'constructs';
import { FleetStack, FleetStackProps } from '../modules/terraform/fleet-stack';
import type { ImageCache } from '../modules/fleet/load';
import { BuilderInfrastructure } from '../modules/image-cache/builder-infra';
import { builderInstanceType } from '../modules/image-cache/builder-launch';

export interface ImageCacheBuilderStackProps extends FleetStackProps {
  readonly region: string;
  /** The caches whose home is this region. */
  readonly caches: readonly ImageCache[];
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
  }
}
