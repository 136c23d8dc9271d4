/** The Karpenter CRDs the manifests are validated against (contracts/karpenter/<version>/, copied from upstream). */
export const KARPENTER_CRD_VERSION = 'v1.14.1';
export const KARPENTER_CRD_FILES = ['karpenter.k8s.aws_ec2nodeclasses.yaml', 'karpenter.sh_nodepools.yaml', 'karpenter.sh_nodeclaims.yaml'] as const;

/** A CEL rule of a CRD schema node (x-kubernetes-validations). */
export interface CelRule {
  readonly rule: string;
  readonly message?: string;
}

/** A CRD schema pruned to the paths that lead to CEL rules (what modules/karpenter/generated/crd-rules.json holds). */
export interface RuleNode {
  readonly 'x-kubernetes-validations'?: readonly CelRule[];
  readonly properties?: Readonly<Record<string, RuleNode>>;
  readonly items?: RuleNode;
  readonly additionalProperties?: RuleNode;
}
