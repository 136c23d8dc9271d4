/**
 * CacheKube on @kubernetes/client-node with the user's kubeconfig. Every list is read completely, page by
 * page (limit + continue, as the API server documents for chunked lists), so a cluster with more events
 * than one answer holds is still counted in full. Events come from core/v1, which serves both kinds:
 * kubelet's own (client-go tools/record: `count`) and events written through events.k8s.io/v1 (`series`).
 */
import * as k8s from '@kubernetes/client-node';
import type { CacheKube, ClaimRecord, EventRecord, PodRecord } from './report-kube';
import { ClusterRef, missingContextMessage } from '../shared/kubeconfig-hint';

const NODE_CLAIM = { group: 'karpenter.sh', version: 'v1', plural: 'nodeclaims' };
/** Items per page: the API server's answers stay small; kubectl uses 500 as well (--chunk-size). */
export const PAGE_SIZE = 500;

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string | Date;
}
const trueAt = (conditions: readonly Condition[] | undefined, type: string): Date | undefined => {
  const c = conditions?.find((x) => x.type === type && x.status === 'True');
  return c?.lastTransitionTime ? new Date(c.lastTransitionTime) : undefined;
};
const date = (d: string | Date | undefined): Date | undefined => (d ? new Date(d) : undefined);

/** Reads every page of a list. */
export async function readAll<T>(
  page: (cont: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string; continue?: string } }>,
): Promise<T[]> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    const r = await page(cont);
    items.push(...r.items);
    cont = r.metadata?._continue ?? r.metadata?.continue;
  } while (cont);
  return items;
}

export function cacheKube(context: string, cluster?: ClusterRef): CacheKube {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  // A pointer is checked before it is trusted: the context must exist (no silent fall-back to the current one).
  if (!kc.getContexts().some((c) => c.name === context)) throw new Error(missingContextMessage(context, cluster, '--context <context>'));
  kc.setCurrentContext(context);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const limit = PAGE_SIZE;

  return {
    async listNodeClaims() {
      type Claim = { metadata: k8s.V1ObjectMeta; status?: { nodeName?: string; conditions?: Condition[] } };
      const claims = await readAll(
        async (cont) =>
          (await custom.listClusterCustomObject({ ...NODE_CLAIM, limit, _continue: cont })) as { items: Claim[]; metadata?: { continue?: string } },
      );
      return claims.map((c): ClaimRecord => ({
        name: c.metadata.name!,
        pool: c.metadata.labels?.['karpenter.sh/nodepool'] ?? '',
        nodeName: c.status?.nodeName,
        createdAt: new Date(c.metadata.creationTimestamp ?? 0),
        hash: c.metadata.annotations?.['karpenter.k8s.aws/ec2nodeclass-hash'],
        registeredAt: trueAt(c.status?.conditions, 'Registered'),
        initializedAt: trueAt(c.status?.conditions, 'Initialized'),
      }));
    },
    async listNodes() {
      const nodes = await readAll((cont) => core.listNode({ limit, _continue: cont }));
      return nodes.map((n) => ({ name: n.metadata!.name!, labels: n.metadata?.labels ?? {} }));
    },
    async listPods() {
      const pods = await readAll((cont) => core.listPodForAllNamespaces({ limit, _continue: cont }));
      return pods.map((p): PodRecord => ({
        namespace: p.metadata!.namespace!,
        name: p.metadata!.name!,
        nodeName: p.spec?.nodeName,
        scheduledAt: trueAt(p.status?.conditions, 'PodScheduled'),
        readyAt: trueAt(p.status?.conditions, 'Ready'),
        containers: [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].map((s) => ({
          name: s.name,
          image: s.image,
          startedAt: date(s.state?.running?.startedAt ?? s.state?.terminated?.startedAt ?? s.lastState?.terminated?.startedAt),
        })),
      }));
    },
    async listEvents() {
      const events = await readAll((cont) => core.listEventForAllNamespaces({ limit, _continue: cont }));
      return events.map((e): EventRecord => {
        const firstAt = date(e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) ?? new Date(0);
        return {
          reason: e.reason ?? '',
          message: e.message ?? '',
          pod:
            e.involvedObject.kind === 'Pod' && e.involvedObject.name ? { namespace: e.involvedObject.namespace ?? '', name: e.involvedObject.name } : undefined,
          fieldPath: e.involvedObject.fieldPath,
          node: e.source?.host || e.reportingInstance || undefined,
          count: Math.max(e.count ?? 1, e.series?.count ?? 0, 1),
          firstAt,
          lastAt: date(e.series?.lastObservedTime ?? e.lastTimestamp) ?? firstAt,
        };
      });
    },
  };
}
