/**
 * Facts the fleet schema checks against. Each list says where it came from; update it with its source.
 */

/**
 * AWS commercial and GovCloud regions where EKS and Bottlerocket are offered
 * (AWS "Regions and endpoints" for Amazon EKS, checked 2026-11). China regions are left out on purpose:
 * their ARN partition and public ECR mirror differ and nothing here is tested against them.
 */
export const AWS_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  'af-south-1',
  'ap-east-1', 'ap-east-2', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ca-central-1', 'ca-west-1',
  'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'eu-south-1', 'eu-south-2', 'eu-north-1',
  'il-central-1', 'me-south-1', 'me-central-1', 'mx-central-1', 'sa-east-1',
  'us-gov-east-1', 'us-gov-west-1',
] as const;

/**
 * Kubernetes minor versions that have both an EKS release (standard or extended support) and a
 * Bottlerocket `aws-k8s-<version>` variant (SSM path /aws/service/bottlerocket/aws-k8s-<version>/...).
 * Older variants are out of Bottlerocket support; newer ones are added here when EKS ships them.
 */
export const SUPPORTED_KUBERNETES_VERSIONS = ['1.29', '1.30', '1.31', '1.32', '1.33', '1.34'] as const;

/** Default Karpenter release; must match the CRDs in contracts/karpenter/. */
export const DEFAULT_KARPENTER_VERSION = '1.14.1';

/** Label every Bottlerocket node of this project carries (system node group and every Karpenter pool).
 *  Kubernetes has no standard OS-image label, so a `NotIn` affinity needs one that really exists. */
export const BOTTLEROCKET_NODE_LABEL = { key: 'bottlerocket-fleet/os', value: 'bottlerocket' } as const;

/** SSM parameter where the builder writes a cache's current snapshot ID (same path in every region). */
export function defaultCacheParameterPath(cache: string): string {
  return `/bottlerocket-fleet/image-cache/${cache}/snapshot-id`;
}
