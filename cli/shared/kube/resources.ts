/** The resources and fields every command reads the same way: Karpenter's kinds, conditions, pods, owners. */
import type * as k8s from '@kubernetes/client-node';

/** Karpenter v1.14.1's kinds (pkg/apis/crds: karpenter.k8s.aws_ec2nodeclasses, karpenter.sh_nodeclaims, karpenter.sh_nodepools). */
export const NODE_CLASS = { group: 'karpenter.k8s.aws', version: 'v1', plural: 'ec2nodeclasses' } as const;
export const NODE_CLAIM = { group: 'karpenter.sh', version: 'v1', plural: 'nodeclaims' } as const;
export const NODE_POOL = { group: 'karpenter.sh', version: 'v1', plural: 'nodepools' } as const;

/** metav1.Condition (and core/v1's condition types), as far as the commands read it. */
export interface RawCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime?: string | Date;
}

/** Conditions by type. */
export function conditionsByType<C extends RawCondition>(list: readonly C[] | undefined): Record<string, C> {
  return Object.fromEntries((list ?? []).map((c) => [c.type, c]));
}

/** When condition `type` last became True, if it is True. */
export function trueSince(conditions: readonly RawCondition[] | undefined, type: string): Date | undefined {
  const c = conditions?.find((x) => x.type === type && x.status === 'True');
  return c?.lastTransitionTime ? new Date(c.lastTransitionTime) : undefined;
}

/** Whether condition `type` is True. */
export const isTrue = (conditions: readonly RawCondition[] | undefined, type: string): boolean =>
  conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

/** The owner reference marked controller: true, if any (metav1.GetControllerOf). */
export function controllerOf(refs: readonly k8s.V1OwnerReference[] | undefined): { kind: string; name: string } | undefined {
  const c = refs?.find((o) => o.controller === true);
  return c && { kind: c.kind, name: c.name };
}

/** What every command reads of a pod (the drain, the rollout). */
export interface PodBasics {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName?: string;
  readonly phase: string;
  readonly createdAt: Date;
}

export function podBasics(p: k8s.V1Pod): PodBasics {
  return {
    namespace: p.metadata!.namespace!,
    name: p.metadata!.name!,
    nodeName: p.spec?.nodeName,
    phase: p.status?.phase ?? 'Unknown',
    createdAt: new Date(p.metadata?.creationTimestamp ?? Date.now()),
  };
}

/** Replica counts of a Deployment, StatefulSet or ReplicaSet (spec.replicas defaults to 1). */
export function replicasOf(o: { spec?: { replicas?: number }; status?: { availableReplicas?: number } }): { desired: number; available: number } {
  return { desired: o.spec?.replicas ?? 1, available: o.status?.availableReplicas ?? 0 };
}
