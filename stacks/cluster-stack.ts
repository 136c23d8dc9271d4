import { Construct } from 'constructs';
import { FleetStack, FleetStackProps } from '../modules/terraform/fleet-stack';
import type { Cluster } from '../modules/fleet/load';

export interface ClusterStackProps extends FleetStackProps {
  readonly cluster: Cluster;
}

/** `<cluster>-cluster`: VPC, EKS control plane and the Bottlerocket system node group. (being built) */
export class ClusterStack extends FleetStack {
  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    this.awsProvider(props.cluster.region);
  }
}
