/**
 * terraform-aws-modules/eks/aws//modules/karpenter v20 as a typed construct: controller IAM with the
 * v1 permissions, EKS Pod Identity association, interruption queue and rules, and the node IAM role
 * with its access entry. Inputs are checked against contracts/terraform-aws-eks-v20-interface.json.
 */
import { Construct } from 'constructs';
import { TypedModule } from '../terraform/typed-module';
import { eksModuleContract } from '../contracts/terraform-interface';
import { EKS_MODULE } from '../eks/eks-cluster';

export interface KarpenterModuleProps {
  readonly clusterName: string;
  /** Namespace of the Karpenter controller (Pod Identity association). @default 'kube-system' */
  readonly namespace?: string;
  /** Name of the node IAM role, referenced by every EC2NodeClass. */
  readonly nodeIamRoleName: string;
  /** Extra policies for the node role by name, e.g. AmazonSSMManagedInstanceCore. @default {} */
  readonly nodeIamRoleAdditionalPolicies?: Record<string, string>;
  readonly tags?: Record<string, string>;
}

/**
 * What Karpenter 1.14's controller calls and the eks v20 submodule's policy lacks
 * (contracts/karpenter/v1.14.1/controller-iam-actions.json: Karpenter's getting-started cloudformation.yaml
 * vs eks v20.37.2 modules/karpenter/policy.tf). Without iam:ListInstanceProfiles the EC2NodeClass
 * finalizer never completes, so destroying a Karpenter stack hangs; the others are read-only calls the
 * controller makes unconditionally. Statement IDs and resources follow the cloudformation policy.
 */
export const KARPENTER_CONTROLLER_EXTRA_STATEMENTS = [
  { sid: 'AllowUnscopedInstanceProfileListAction', effect: 'Allow', actions: ['iam:ListInstanceProfiles'], resources: ['*'] },
  {
    sid: 'AllowKarpenter114RegionalReadActions',
    effect: 'Allow',
    actions: ['ec2:DescribeCapacityReservations', 'ec2:DescribeInstanceStatus', 'ec2:DescribePlacementGroups'],
    resources: ['*'],
  },
] as const;

export class KarpenterModule extends TypedModule {
  constructor(
    scope: Construct,
    id: string,
    private readonly props: KarpenterModuleProps,
  ) {
    super(scope, id, {
      source: `${EKS_MODULE.source}//modules/karpenter`,
      version: EKS_MODULE.version,
      variables: eksModuleContract().submodules.karpenter.variables,
    });
  }

  inputs(): Record<string, unknown> {
    const p = this.props;
    return {
      cluster_name: p.clusterName,
      enable_v1_permissions: true,
      enable_pod_identity: true,
      create_pod_identity_association: true,
      namespace: p.namespace ?? 'kube-system',
      service_account: 'karpenter',
      // A fixed, documented name (KarpenterNodeRole-<cluster>) instead of a generated prefix.
      node_iam_role_name: p.nodeIamRoleName,
      node_iam_role_use_name_prefix: false,
      node_iam_role_additional_policies: p.nodeIamRoleAdditionalPolicies ?? {},
      create_access_entry: true,
      // The submodule (v20) lags the controller (1.14): grant what its policy lacks (see above).
      iam_policy_statements: KARPENTER_CONTROLLER_EXTRA_STATEMENTS,
      tags: p.tags,
    };
  }

  get queueName(): string {
    return this.getString('queue_name');
  }
  get queueArn(): string {
    return this.getString('queue_arn');
  }
  get nodeIamRoleName(): string {
    return this.getString('node_iam_role_name');
  }
  get serviceAccount(): string {
    return this.getString('service_account');
  }
}
