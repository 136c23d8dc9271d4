/**
 * Facts the fleet schema checks against. Each list says where it came from; update it with its source.
 */

/**
 * AWS commercial and GovCloud regions where EKS and Bottlerocket are offered
 * (AWS "Regions and endpoints" for Amazon EKS, checked 2026-11). China regions are left out on purpose:
 * their ARN partition and public ECR mirror differ and nothing here is tested against them.
 */
export const AWS_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'mx-central-1',
  'sa-east-1',
  'us-gov-east-1',
  'us-gov-west-1',
] as const;

/**
 * Kubernetes minor versions that have both an EKS release (standard or extended support) and a
 * Bottlerocket `aws-k8s-<version>` variant (SSM path /aws/service/bottlerocket/aws-k8s-<version>/...).
 * 1.29 and 1.30 are gone: past the end of EKS extended support (EKS upgrades such clusters itself), and
 * Bottlerocket stopped building aws-k8s-1.30 in 2026-07 (bottlerocket-os/bottlerocket PR 4880).
 * 1.35 (Bottlerocket 1.53.0) and 1.36 (PR 4827) variants exist. Keep this list current.
 */
export const SUPPORTED_KUBERNETES_VERSIONS = ['1.31', '1.32', '1.33', '1.34', '1.35', '1.36'] as const;
export type KubernetesVersion = (typeof SUPPORTED_KUBERNETES_VERSIONS)[number];

/**
 * From this version on, kubelet refuses to start on cgroup v1 (KEP-5573: failCgroupV1 defaults to true)
 * and Bottlerocket has no setting to turn that off, so a cgroup v1 pool could never join.
 */
export const FIRST_KUBERNETES_VERSION_WITHOUT_CGROUP_V1: KubernetesVersion = '1.35';

/** Orders Kubernetes minor versions ("1.9" < "1.31"). */
export function compareKubernetesVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** Default Karpenter release; must match the CRDs in contracts/karpenter/. */
export const DEFAULT_KARPENTER_VERSION = '1.14.1';

/** Label every Bottlerocket node of this project carries (system node group and every Karpenter pool).
 *  Kubernetes has no standard OS-image label, so a `NotIn` affinity needs one that really exists. */
export const BOTTLEROCKET_NODE_LABEL = { key: 'bottlerocket-fleet/os', value: 'bottlerocket' } as const;

/** SSM parameter where the builder writes a cache's current snapshot ID (same path in every region). */
export function defaultCacheParameterPath(cache: string): string {
  return `/bottlerocket-fleet/image-cache/${cache}/snapshot-id`;
}
