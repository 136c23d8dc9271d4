/**
 * terraform-aws-modules/eks/aws v20 as a typed construct: camelCase props for the inputs this project
 * uses, emitted as the module's snake_case variables and checked against
 * contracts/terraform-aws-eks-v20-interface.json at synth time.
 */
import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { compact, TypedModule } from '../terraform/typed-module';
import { checkNodeGroupInputs, eksModuleContract } from '../contracts/terraform-interface';

/** `~> 20.0` resolves to 20.37.2, the last 20.x and the version of the interface in contracts/. */
export const EKS_MODULE = { source: 'terraform-aws-modules/eks/aws', version: '~> 20.0' } as const;

export interface EbsVolume {
  readonly deviceName: string;
  readonly sizeGiB: number;
  /** @default 'gp3' */
  readonly type?: string;
  readonly iops?: number;
  readonly throughputMiBps?: number;
  readonly kmsKeyId?: string;
}

export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  /** The EKS API spelling: NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE. */
  readonly effect: 'NO_SCHEDULE' | 'NO_EXECUTE' | 'PREFER_NO_SCHEDULE';
}

export interface ManagedNodeGroupProps {
  /** BOTTLEROCKET_x86_64, BOTTLEROCKET_ARM_64, ... (case-sensitive EKS values). */
  readonly amiType: string;
  readonly instanceTypes: string[];
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredSize: number;
  readonly labels: Record<string, string>;
  readonly taints: Record<string, NodeTaint>;
  /** Bottlerocket TOML; with enable_bootstrap_user_data = false it is exactly the node's user data. */
  readonly bootstrapExtraArgs: string;
  /** Both Bottlerocket volumes: /dev/xvda (OS) and /dev/xvdb (data). */
  readonly blockDevices: EbsVolume[];
  /** IMDS: tokens required; hop limit 2 so containerized workloads that need IMDS can reach it. */
  readonly metadataHopLimit: number;
  /** @default 33 — at most a third of the group is replaced at once during updates */
  readonly maxUnavailablePercentage?: number;
  /**
   * The Bottlerocket image_version the group runs (e.g. 1.55.0-d93bb1b1, bottlerocket-image-version.ts).
   * @default — none: the newest release of the variant on every apply (use_latest_ami_release_version)
   */
  readonly amiReleaseVersion?: string;
}

export interface EksClusterProps {
  readonly clusterName: string;
  readonly clusterVersion: string;
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly endpointPublicAccess: boolean;
  /** @default — the module's default (0.0.0.0/0 when public access is on) */
  readonly endpointPublicAccessCidrs?: string[];
  /** Tags on the node security group, e.g. karpenter.sh/discovery. */
  readonly nodeSecurityGroupTags: Record<string, string>;
  readonly managedNodeGroups: Record<string, ManagedNodeGroupProps>;
  /**
   * VPC CNI prefix delegation: set when a Karpenter pool's maxPods is above the ENI-based pod limit of a
   * type it allows (modules/fleet/instance-checks.ts). @default false
   */
  readonly vpcCniPrefixDelegation?: boolean;
  /** The module's access_entries (modules/eks/access-entries.ts). @default none: only the cluster creator has access */
  readonly accessEntries?: Record<string, Record<string, unknown>>;
  /**
   * Version per EKS add-on (coredns, kube-proxy, vpc-cni, eks-pod-identity-agent).
   * @default — per add-on: EKS's default version for clusterVersion (never the most recent)
   */
  readonly addonVersions?: Readonly<Record<string, string | undefined>>;
  readonly tags?: Record<string, string>;
}

/** The rule docs/network_connectivity.md of the eks module (v20.37.2) gives for node-to-node traffic. */
export const NODE_TO_NODE_ALL = {
  description: 'Node to node all ports/protocols',
  protocol: '-1',
  from_port: 0,
  to_port: 0,
  type: 'ingress',
  self: true,
} as const;

/**
 * The aws provider (5.100.0) caps an IAM role's name_prefix at 38 characters, and the module names the
 * cluster role with the prefix `<cluster>-cluster-` (main.tf, iam_role_use_name_prefix defaults to true):
 * a cluster name above 29 characters synthesizes, then fails at plan.
 */
export const MAX_CLUSTER_NAME_FOR_ROLE_PREFIX = 38 - '-cluster-'.length;

/**
 * The cluster role's name: the module's default prefix where it fits (so a deployed cluster's role, and with
 * it the cluster, is never replaced), else the fixed name `<cluster>-cluster` (at most 47 of the 64 allowed).
 */
export function clusterRoleNaming(clusterName: string): Record<string, boolean> {
  return clusterName.length > MAX_CLUSTER_NAME_FOR_ROLE_PREFIX ? { iam_role_use_name_prefix: false } : {};
}

/**
 * The vpc-cni add-on's settings for prefix delegation (Amazon VPC CNI README: ENABLE_PREFIX_DELEGATION,
 * WARM_PREFIX_TARGET; passed as the add-on's configuration_values, main.tf aws_eks_addon, eks v20.37.2):
 * each ENI slot then holds a /28 prefix, so a node holds the pods its maxPods allows.
 */
export const VPC_CNI_PREFIX_DELEGATION = { env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' } } as const;

function withVpcCniPrefixDelegation(inputs: Record<string, unknown>): Record<string, unknown> {
  const addons = inputs.cluster_addons as Record<string, Record<string, unknown>>;
  const vpcCni = { ...addons['vpc-cni'], configuration_values: JSON.stringify(VPC_CNI_PREFIX_DELEGATION) };
  return { ...inputs, cluster_addons: { ...addons, 'vpc-cni': vpcCni } };
}

export class EksCluster extends TypedModule {
  constructor(
    scope: Construct,
    id: string,
    private readonly props: EksClusterProps,
  ) {
    const contract = eksModuleContract();
    super(scope, id, { ...EKS_MODULE, variables: contract.variables });
    this.node.addValidation({ validate: () => checkNodeGroupInputs(compact(this.nodeGroupInputs()) as Record<string, Record<string, unknown>>, contract) });
  }

  inputs(): Record<string, unknown> {
    const inputs = this.moduleInputs();
    return this.props.vpcCniPrefixDelegation ? withVpcCniPrefixDelegation(inputs) : inputs;
  }

  private moduleInputs(): Record<string, unknown> {
    const p = this.props;
    return {
      cluster_name: p.clusterName,
      cluster_version: p.clusterVersion,
      vpc_id: p.vpcId,
      subnet_ids: p.subnetIds,
      cluster_endpoint_public_access: p.endpointPublicAccess,
      cluster_endpoint_public_access_cidrs: p.endpointPublicAccessCidrs,
      // Private access always on: nodes reach the API server without leaving the VPC.
      cluster_endpoint_private_access: true,
      authentication_mode: 'API',
      enable_cluster_creator_admin_permissions: true,
      access_entries: p.accessEntries,
      // Pinned, never most_recent (eks v20.37.2 main.tf: addon_version = coalesce(addon_version,
      // data.aws_eks_addon_version.version), that data source's most_recent from the entry, else EKS's default version).
      cluster_addons: {
        coredns: this.addon('coredns'),
        'kube-proxy': this.addon('kube-proxy'),
        // before_compute: the CNI must be ready before the first nodes join.
        'vpc-cni': { ...this.addon('vpc-cni'), before_compute: true },
        'eks-pod-identity-agent': { ...this.addon('eks-pod-identity-agent'), before_compute: true },
      },
      ...clusterRoleNaming(p.clusterName),
      node_security_group_tags: p.nodeSecurityGroupTags,
      // Node to node on every port and protocol, as the module's docs/network_connectivity.md advises: its own
      // rules allow nodes only 53 and 1025-65535 among themselves (node_groups.tf, v20.37.2), so a pod on :80
      // is unreachable from another node. Karpenter's nodes join this group through the discovery tag.
      node_security_group_additional_rules: { ingress_self_all: NODE_TO_NODE_ALL },
      eks_managed_node_groups: this.nodeGroupInputs(),
      tags: p.tags,
    };
  }

  private addon(name: string): { addon_version?: string } {
    const version = this.props.addonVersions?.[name];
    return version === undefined ? {} : { addon_version: version };
  }

  private nodeGroupInputs(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(
      Object.entries(this.props.managedNodeGroups).map(([name, g]) => [
        name,
        {
          ami_type: g.amiType,
          instance_types: g.instanceTypes,
          min_size: g.minSize,
          max_size: g.maxSize,
          desired_size: g.desiredSize,
          labels: g.labels,
          taints: Object.fromEntries(Object.entries(g.taints).map(([k, t]) => [k, { key: t.key, value: t.value, effect: t.effect }])),
          // v20: for Bottlerocket, user data is exactly bootstrap_extra_args; EKS adds cluster settings itself.
          enable_bootstrap_user_data: false,
          bootstrap_extra_args: g.bootstrapExtraArgs,
          block_device_mappings: Object.fromEntries(
            g.blockDevices.map((v) => [
              v.deviceName.replace('/dev/', ''),
              {
                device_name: v.deviceName,
                ebs: {
                  volume_size: v.sizeGiB,
                  volume_type: v.type ?? 'gp3',
                  iops: v.iops,
                  throughput: v.throughputMiBps,
                  encrypted: true,
                  kms_key_id: v.kmsKeyId,
                  delete_on_termination: true,
                },
              },
            ]),
          ),
          metadata_options: {
            http_endpoint: 'enabled',
            http_tokens: 'required',
            http_put_response_hop_limit: g.metadataHopLimit,
          },
          update_config: { max_unavailable_percentage: g.maxUnavailablePercentage ?? 33 },
          // Always explicit (eks v20.37.2 modules/eks-managed-node-group main.tf: release_version = use_latest ?
          // the `latest/image_version` parameter : ami_release_version). Without either, EKS picks the newest
          // release at creation and the group then moves only on a Kubernetes bump.
          ami_release_version: g.amiReleaseVersion,
          use_latest_ami_release_version: g.amiReleaseVersion === undefined,
          // false: an update that a PodDisruptionBudget blocks fails instead of evicting the pods anyway
          // (the module's variable: "Force version update if existing pods are unable to be drained due to a pod disruption budget issue").
          force_update_version: false,
        },
      ]),
    );
  }

  get clusterNameOutput(): string {
    return this.getString('cluster_name');
  }
  get clusterEndpoint(): string {
    return this.getString('cluster_endpoint');
  }
  get clusterCertificateAuthorityData(): string {
    return this.getString('cluster_certificate_authority_data');
  }
  get oidcProviderArn(): string {
    return this.getString('oidc_provider_arn');
  }
  get nodeSecurityGroupId(): string {
    return this.getString('node_security_group_id');
  }
  get clusterSecurityGroupId(): string {
    return this.getString('cluster_security_group_id');
  }
  get nodeGroups(): unknown {
    return Token.asAny(this.interpolationForOutput('eks_managed_node_groups'));
  }
}
