/**
 * `<cluster>-karpenter`: Karpenter v1 for an existing cluster — IAM, Pod Identity and interruption
 * queue (eks//modules/karpenter), the CRD and controller charts, one EC2NodeClass + NodePool per pool,
 * and the migration objects. Composition only.
 */
import { Construct } from 'constructs';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { FleetStack, FleetStackProps } from '../modules/terraform/fleet-stack';
import type { Cluster, ImageCache } from '../modules/fleet/load';
import { ClusterAccess } from '../modules/kubernetes/cluster-access';
import { KarpenterModule } from '../modules/karpenter/karpenter-module';
import { KarpenterCharts } from '../modules/karpenter/charts';
import { KarpenterNodePools } from '../modules/karpenter/node-pools';
import { ClusterAddonManifests } from '../modules/kubernetes/addon-manifests';
import { migrationManifests } from '../modules/migration';
import { karpenterClusterTags, karpenterNodeRoleName } from '../modules/karpenter/rendered-node-class';
import { CapacityReservationInterruption } from '../modules/karpenter/capacity-reservation-interruption';
import { SpotServiceLinkedRoleCheck } from '../modules/karpenter/spot-service-linked-role';

export interface KarpenterStackProps extends FleetStackProps {
  readonly cluster: Cluster;
  readonly imageCaches: readonly ImageCache[];
  /** The fleet has a `rollout`: node classes read the cluster's own snapshot parameter. @default false */
  readonly perClusterSnapshotParameters?: boolean;
}

export class KarpenterStack extends FleetStack {
  constructor(scope: Construct, id: string, props: KarpenterStackProps) {
    const { cluster } = props;
    const karpenter = cluster.karpenter!;
    super(scope, id, { ...props, tags: karpenterClusterTags(props.tags, cluster) });
    this.awsProvider(cluster.region);
    const partition = new DataAwsPartition(this, 'partition');
    const access = new ClusterAccess(this, 'cluster', { clusterName: cluster.name, region: cluster.region });

    const iam = new KarpenterModule(this, 'karpenter', {
      clusterName: cluster.name,
      namespace: karpenter.namespace,
      nodeIamRoleName: karpenterNodeRoleName(cluster.name),
      // SSM agent on nodes: Session Manager access and Run Command without SSH.
      nodeIamRoleAdditionalPolicies: { AmazonSSMManagedInstanceCore: `arn:${partition.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore` },
    });

    const spotPools = karpenter.nodePools.filter((p) => p.capacityTypes.includes('spot')).map((p) => p.name);
    if (spotPools.length > 0) new SpotServiceLinkedRoleCheck(this, 'spot-service-linked-role', { pools: spotPools, clusterName: cluster.name });
    if (karpenter.nodePools.some((p) => p.capacityTypes.includes('reserved')))
      new CapacityReservationInterruption(this, 'capacity-reservation-interruption', { queueArn: iam.queueArn });

    const charts = new KarpenterCharts(this, 'charts', {
      provider: access.helm,
      version: karpenter.chartVersion,
      namespace: karpenter.namespace,
      clusterName: cluster.name,
      clusterEndpoint: access.cluster.endpoint,
      interruptionQueue: iam.queueName,
      replicas: karpenter.replicas,
      dependsOn: [iam],
    });

    // A cache's history lives in its home region: one aliased provider per other home region, made when used.
    const homeProviders = new Map<string, AwsProvider>();
    const awsProviderFor = (region: string) => {
      if (region === cluster.region) return undefined;
      if (!homeProviders.has(region)) homeProviders.set(region, this.awsProvider(region, region.replace(/-/g, '_')));
      return homeProviders.get(region);
    };

    // Node classes and pools need the CRDs, and a controller to act on them.
    new KarpenterNodePools(this, 'pools', {
      cluster,
      imageCaches: props.imageCaches,
      perClusterSnapshotParameters: props.perClusterSnapshotParameters,
      nodeRoleName: iam.nodeIamRoleName,
      awsProviderFor,
      tags: this.tags,
      provider: access.kubectl,
      dependsOn: [charts.crds, charts.controller],
    });

    new ClusterAddonManifests(this, 'migration', { provider: access.kubectl, manifests: migrationManifests(cluster), dependsOn: [charts.controller] });
  }
}
