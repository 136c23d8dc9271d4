/** What every CLI reads of a pod from @kubernetes/client-node, in one place (the drain and the rollout). */
import type * as k8s from '@kubernetes/client-node';

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
