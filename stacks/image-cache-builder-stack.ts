/** `image-cache-builder-<region>`: what the image-cache builder runs with in one home region. Composition only. */
import { Construct } from 'constructs';
import { FleetStack, FleetStackProps } from '../modules/terraform/fleet-stack';
import type { ImageCache } from '../modules/fleet/load';
import { BuilderInfrastructure } from '../modules/image-cache/builder-infra';
import { pulledImages } from '../modules/image-cache/image-names';

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
      // Every regional name is pulled (the same-content check): the CI role needs each of their repositories.
      images: props.caches.flatMap((c) => pulledImages(c)),
      replicaParameters: props.caches.flatMap((c) => c.replicaRegions.map((region) => ({ region, parameterPath: c.parameterPath }))),
    });
  }
}
