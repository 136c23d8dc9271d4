/**
 * CacheKube on the Kubernetes access layer (cli/shared/kube). Every list is read completely, page by page
 * (the layer's listAll), so a cluster with more events than one answer holds is still counted in full.
 * Events come from core/v1, which serves both kinds: kubelet's own (client-go tools/record: `count`) and
 * events written through events.k8s.io/v1 (`series`).
 */
import {
  connectKube,
  NODE_CLAIM,
  trueSince,
  type CoreV1Event,
  type KubeConnection,
  type KubeOptions,
  type RawCondition,
  type V1ObjectMeta,
  type V1Pod,
} from '../shared/kube';
import type { CacheKube, ClaimRecord, EventRecord, PodRecord } from './report-kube';

export { PAGE_SIZE } from '../shared/kube';

const date = (d: string | Date | undefined): Date | undefined => (d ? new Date(d) : undefined);

type Claim = { metadata: V1ObjectMeta; status?: { nodeName?: string; conditions?: RawCondition[] } };
const toClaim = (c: Claim): ClaimRecord => ({
  name: c.metadata.name!,
  pool: c.metadata.labels?.['karpenter.sh/nodepool'] ?? '',
  nodeName: c.status?.nodeName,
  createdAt: new Date(c.metadata.creationTimestamp ?? 0),
  hash: c.metadata.annotations?.['karpenter.k8s.aws/ec2nodeclass-hash'],
  registeredAt: trueSince(c.status?.conditions, 'Registered'),
  initializedAt: trueSince(c.status?.conditions, 'Initialized'),
});

const toPod = (p: V1Pod): PodRecord => ({
  namespace: p.metadata!.namespace!,
  name: p.metadata!.name!,
  nodeName: p.spec?.nodeName,
  scheduledAt: trueSince(p.status?.conditions, 'PodScheduled'),
  readyAt: trueSince(p.status?.conditions, 'Ready'),
  containers: [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].map((s) => ({
    name: s.name,
    image: s.image,
    startedAt: date(s.state?.running?.startedAt ?? s.state?.terminated?.startedAt ?? s.lastState?.terminated?.startedAt),
  })),
});

const toEvent = (e: CoreV1Event): EventRecord => {
  const firstAt = date(e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) ?? new Date(0);
  return {
    reason: e.reason ?? '',
    message: e.message ?? '',
    pod: e.involvedObject.kind === 'Pod' && e.involvedObject.name ? { namespace: e.involvedObject.namespace ?? '', name: e.involvedObject.name } : undefined,
    fieldPath: e.involvedObject.fieldPath,
    node: e.source?.host || e.reportingInstance || undefined,
    count: Math.max(e.count ?? 1, e.series?.count ?? 0, 1),
    firstAt,
    lastAt: date(e.series?.lastObservedTime ?? e.lastTimestamp) ?? firstAt,
  };
};

/** The report's API on one connection. */
export function cacheKubeOn(kube: KubeConnection): CacheKube {
  return {
    listNodeClaims: async () =>
      (await kube.listAll<Claim>('list NodeClaims', (q, o) => kube.custom.listClusterCustomObject({ ...NODE_CLAIM, ...q }, o))).map(toClaim),
    listNodes: async () =>
      (await kube.listAll('list nodes', (q, o) => kube.core.listNode(q, o))).map((n) => ({ name: n.metadata!.name!, labels: n.metadata?.labels ?? {} })),
    listPods: async () => (await kube.listAll('list pods', (q, o) => kube.core.listPodForAllNamespaces(q, o))).map(toPod),
    listEvents: async () => (await kube.listAll('list events', (q, o) => kube.core.listEventForAllNamespaces(q, o))).map(toEvent),
  };
}

/** The report's API at kubeconfig context `context` (for cluster `o.cluster`, named in hints; default: the context's name). */
export function cacheKube(context: string, o: KubeOptions & { readonly cluster?: string; readonly region?: string } = {}): CacheKube {
  return cacheKubeOn(connectKube({ cluster: o.cluster ?? context, context, region: o.region }, o));
}
