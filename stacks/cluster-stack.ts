/**
 * `<cluster>-cluster`: the VPC (new, or an existing one tagged for discovery), the EKS control plane
 * via terraform-aws-modules/eks/aws v20 and the Bottlerocket system node group. Composition only.
 */
import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { FleetStack, FleetStackProps } from '../modules/terraform/fleet-stack';
import type { Cluster } from '../modules/fleet/load';
import { ClusterVpc } from '../modules/vpc/vpc';
import { ExistingVpc } from '../modules/vpc/existing-vpc';
import { EksCluster } from '../modules/eks/eks-cluster';
import { systemNodeGroupProps } from '../modules/eks/system-node-group';
import { accessEntries } from '../modules/eks/access-entries';
import { BottlerocketImageVersion } from '../modules/eks/bottlerocket-image-version';

export interface ClusterStackProps extends FleetStackProps {
  readonly cluster: Cluster;
}

export class ClusterStack extends FleetStack {
  readonly eks: EksCluster;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    const { cluster } = props;
    super(scope, id, { ...props, tags: { ...props.tags, ...cluster.tags, 'bottlerocket-fleet:cluster': cluster.name } });
    this.awsProvider(cluster.region);

    const vpc =
      'cidr' in cluster.vpc
        ? new ClusterVpc(this, 'vpc', { clusterName: cluster.name, ...cluster.vpc })
        : new ExistingVpc(this, 'vpc', { clusterName: cluster.name, ...cluster.vpc });

    // The pinned release's image_version for the system node group (latest: the eks module reads the newest itself).
    const release =
      cluster.bottlerocketRelease === 'latest'
        ? undefined
        : new BottlerocketImageVersion(this, 'system-node-group-release', {
            kubernetesVersion: cluster.kubernetesVersion,
            arch: cluster.systemNodeGroup.arch,
            release: cluster.bottlerocketRelease,
          }).imageVersion;
    this.eks = new EksCluster(this, 'eks', {
      clusterName: cluster.name,
      clusterVersion: cluster.kubernetesVersion,
      vpcId: vpc.vpcId,
      subnetIds: vpc.privateSubnets,
      endpointPublicAccess: cluster.endpointPublicAccess,
      endpointPublicAccessCidrs: cluster.endpointPublicAccessCidrs,
      nodeSecurityGroupTags: { 'karpenter.sh/discovery': cluster.name },
      managedNodeGroups: { system: systemNodeGroupProps(cluster, release) },
      vpcCniPrefixDelegation: cluster.vpcCniPrefixDelegation,
      accessEntries: accessEntries(cluster.access),
      addonVersions: cluster.addons,
    });

    // What the next layers need; the Karpenter stack looks the cluster up by name instead of reading state.
    const outputs: Record<string, string | string[]> = {
      cluster_name: this.eks.clusterNameOutput,
      cluster_endpoint: this.eks.clusterEndpoint,
      cluster_certificate_authority_data: this.eks.clusterCertificateAuthorityData,
      oidc_provider_arn: this.eks.oidcProviderArn,
      node_security_group_id: this.eks.nodeSecurityGroupId,
      private_subnets: vpc.privateSubnets,
    };
    for (const [name, value] of Object.entries(outputs)) new TerraformOutput(this, name, { value });
  }
}
