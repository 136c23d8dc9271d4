/** The Karpenter CRDs the manifests are validated against (contracts/karpenter/<version>/, copied from upstream). */
export const KARPENTER_CRD_VERSION = 'v1.14.1';
export const KARPENTER_CRD_FILES = ['karpenter.k8s.aws_ec2nodeclasses.yaml', 'karpenter.sh_nodepools.yaml', 'karpenter.sh_nodeclaims.yaml'] as const;
