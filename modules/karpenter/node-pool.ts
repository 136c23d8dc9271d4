/** NodePool for a pool (pure). GPU pools differ only in the taint and the GPU-maker requirement added here. */
import type { NodePool } from '../fleet/load';
import type { KubernetesManifest } from '../kubernetes/manifest';
import { BOTTLEROCKET_NODE_LABEL } from '../fleet/constants';
import { nodeClassName } from './node-class';

/** GPU nodes are tainted so only pods that ask for GPUs (and tolerate it) land there. */
const GPU_TAINT = { key: 'nvidia.com/gpu', effect: 'NoSchedule' } as const;
/**
 * A GPU pool runs the NVIDIA Bottlerocket variant, so only NVIDIA instances: categories g and p also hold
 * AMD (g4ad) instances, which would boot the plain variant and offer no nvidia.com/gpu at all.
 */
const NVIDIA_ONLY = { key: 'karpenter.k8s.aws/instance-gpu-manufacturer', operator: 'In', values: ['nvidia'] };

export function nodePool(pool: NodePool): KubernetesManifest {
  const requirements = [
    { key: 'kubernetes.io/arch', operator: 'In', values: pool.arch },
    { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
    { key: 'karpenter.sh/capacity-type', operator: 'In', values: pool.capacityTypes },
    { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: pool.instanceCategories },
    ...(pool.instanceFamilies ? [{ key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: pool.instanceFamilies }] : []),
    // A generation floor only when the pool sets one: an implicit "Gt 4" would exclude g4dn and p3 from GPU pools.
    ...(pool.instanceGenerationGreaterThan !== undefined
      ? [{ key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: [String(pool.instanceGenerationGreaterThan)] }]
      : []),
    ...(pool.gpu ? [NVIDIA_ONLY] : []),
    // Types that cannot hold the pool's maxPods even with prefix delegation (modules/fleet/instance-checks.ts).
    ...(pool.excludedInstanceTypes ? [{ key: 'node.kubernetes.io/instance-type', operator: 'NotIn', values: [...pool.excludedInstanceTypes] }] : []),
  ];
  const taints = [...pool.taints, ...(pool.gpu ? [GPU_TAINT] : [])];
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: pool.name },
    spec: {
      template: {
        metadata: { labels: { ...pool.labels, [BOTTLEROCKET_NODE_LABEL.key]: BOTTLEROCKET_NODE_LABEL.value } },
        spec: {
          nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: nodeClassName(pool) },
          requirements,
          ...(taints.length > 0 ? { taints } : {}),
          expireAfter: pool.expireAfter,
        },
      },
      // A new snapshot ID drifts every node of the class; the budgets bound how many are replaced at once.
      disruption: {
        consolidationPolicy: pool.consolidation.policy,
        consolidateAfter: pool.consolidation.after,
        budgets: pool.disruptionBudgets,
      },
      ...(pool.limits ? { limits: pool.limits } : {}),
      ...(pool.weight ? { weight: pool.weight } : {}),
    },
  };
}
