/**
 * Plug-ins for FakeKube (its `routes`, tried first) that serve what `cache report` reads:
 *  - FakeCacheCluster: NodeClaims with their Registered/Initialized conditions (Karpenter v1
 *    pkg/apis/v1/nodeclaim_status.go condition types), Nodes with topology labels, Pods with PodScheduled/
 *    Ready conditions and container start times, and core/v1 Events;
 *  - every list honours `limit` and answers with `metadata.continue` while more items remain, as the API
 *    server's chunked lists do (apiserver pkg/storage: the token resumes the same list), so a client
 *    that reads only the first page undercounts.
 * Events are written in both shapes core/v1 serves: kubelet's own (client-go tools/record: source.host,
 * count, firstTimestamp/lastTimestamp) and events written through events.k8s.io/v1 (reportingInstance,
 * eventTime, series {count, lastObservedTime}; count left out, as deprecatedCount 0 is).
 */
import type { FakeKube, FakeRequest } from './fake-kube';

export interface FakeEvent {
  namespace: string;
  pod: string;
  container: string;
  node: string;
  reason: 'Pulled' | 'Failed' | 'Pulling' | 'Created' | 'Started';
  message: string;
  at: number;
  /** Occurrences: `count` in the tools/record shape, series.count in the events.k8s.io shape. */
  count?: number;
  shape?: 'record' | 'series';
  /** Where the last occurrence happened (aggregated events). @default at */
  lastAt?: number;
  type?: 'Normal' | 'Warning';
}

export interface FakeClaim {
  name: string;
  pool: string;
  nodeName: string;
  createdAt: number;
  registeredAt?: number;
  initializedAt?: number;
}

export interface FakeReportPod {
  namespace: string;
  name: string;
  nodeName: string;
  scheduledAt?: number;
  readyAt?: number;
  containers: { name: string; image: string; startedAt?: number }[];
}

const iso = (t: number) => new Date(t).toISOString();

/** Answers a list with paging: `limit` items from the offset in `continue`, and a `continue` token while more remain. */
export function pagedList(req: FakeRequest, kind: string, apiVersion: string, items: unknown[], pages: string[]): void {
  const limit = Number(req.url.searchParams.get('limit') ?? 0);
  const offset = Number(Buffer.from(req.url.searchParams.get('continue') ?? '', 'base64').toString() || 0);
  const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
  const next = limit > 0 && offset + limit < items.length ? Buffer.from(String(offset + limit)).toString('base64') : undefined;
  pages.push(`${req.url.pathname} offset ${offset}`);
  req.send(200, { kind, apiVersion, metadata: next ? { continue: next, resourceVersion: '1' } : { resourceVersion: '1' }, items: page });
}

export function eventJson(e: FakeEvent, i: number) {
  const base = {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name: `${e.pod}.${i}`, namespace: e.namespace, creationTimestamp: iso(e.at) },
    involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: e.namespace, name: e.pod, fieldPath: `spec.containers{${e.container}}` },
    reason: e.reason,
    message: e.message,
    type: e.type ?? (e.reason === 'Failed' ? 'Warning' : 'Normal'),
  };
  if (e.shape === 'series')
    return {
      ...base,
      eventTime: new Date(e.at).toISOString().replace('Z', '000Z'),
      reportingComponent: 'kubelet',
      reportingInstance: e.node,
      action: 'Pulled',
      ...((e.count ?? 1) > 1 ? { series: { count: e.count, lastObservedTime: iso(e.lastAt ?? e.at) } } : {}),
    };
  return { ...base, source: { component: 'kubelet', host: e.node }, count: e.count ?? 1, firstTimestamp: iso(e.at), lastTimestamp: iso(e.lastAt ?? e.at) };
}

export class FakeCacheCluster {
  claims: FakeClaim[] = [];
  nodes: { name: string; labels: Record<string, string> }[] = [];
  pods: FakeReportPod[] = [];
  events: FakeEvent[] = [];
  /** Every page served, for assertions ("/api/v1/events offset 500"). */
  readonly pages: string[] = [];

  constructor(readonly kube: FakeKube) {
    kube.routes.unshift((req) => this.route(req));
  }

  private route(req: FakeRequest): boolean {
    if (req.method !== 'GET') return false;
    const p = req.url.pathname;
    if (p === '/apis/karpenter.sh/v1/nodeclaims') {
      pagedList(req, 'NodeClaimList', 'karpenter.sh/v1', this.claims.map(claimJson), this.pages);
      return true;
    }
    if (p === '/api/v1/nodes') {
      pagedList(
        req,
        'NodeList',
        'v1',
        this.nodes.map((n) => ({ kind: 'Node', apiVersion: 'v1', metadata: { name: n.name, labels: n.labels } })),
        this.pages,
      );
      return true;
    }
    if (p === '/api/v1/pods') {
      pagedList(req, 'PodList', 'v1', this.pods.map(podJson), this.pages);
      return true;
    }
    if (p === '/api/v1/events') {
      pagedList(req, 'EventList', 'v1', this.events.map(eventJson), this.pages);
      return true;
    }
    return false;
  }
}

function claimJson(c: FakeClaim) {
  const cond = (type: string, at?: number) => (at === undefined ? [] : [{ type, status: 'True', reason: type, message: '', lastTransitionTime: iso(at) }]);
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodeClaim',
    metadata: { name: c.name, creationTimestamp: iso(c.createdAt), labels: { 'karpenter.sh/nodepool': c.pool } },
    status: {
      nodeName: c.nodeName,
      conditions: [...cond('Launched', c.createdAt + 5_000), ...cond('Registered', c.registeredAt), ...cond('Initialized', c.initializedAt)],
    },
  };
}

function podJson(p: FakeReportPod) {
  const cond = (type: string, at?: number) => (at === undefined ? [] : [{ type, status: 'True', lastTransitionTime: iso(at) }]);
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: p.name, namespace: p.namespace, creationTimestamp: iso(p.scheduledAt ?? 0) },
    spec: { nodeName: p.nodeName, containers: p.containers.map((c) => ({ name: c.name, image: c.image })) },
    status: {
      phase: 'Running',
      conditions: [...cond('PodScheduled', p.scheduledAt), ...cond('Ready', p.readyAt)],
      containerStatuses: p.containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: p.readyAt !== undefined,
        restartCount: 0,
        state: c.startedAt === undefined ? { waiting: { reason: 'ContainerCreating' } } : { running: { startedAt: iso(c.startedAt) } },
      })),
    },
  };
}

/**
 * Kubelet's image events for the pods of a simulated Karpenter (fake-karpenter.ts), served as core/v1
 * Events: each pod, when first seen by sync(), uses its pool's images; an image its node's snapshot holds
 * is "already present", any other is pulled. Events outlive their pods and nodes, as in a cluster.
 */
export class FakeKubelet {
  readonly events: FakeEvent[] = [];
  readonly pages: string[] = [];
  private readonly seen = new Set<string>();

  constructor(
    kube: FakeKube,
    readonly karpenter: {
      pods: Map<string, { namespace: string; name: string; nodeName: string; owner: string }>;
      snapshotOf(pool: string): string | undefined;
    },
    /** Pool -> the images its pods run. */
    readonly workload: (pool: string) => string[],
    /** Snapshot ID -> the images it holds. */
    readonly held: (snapshot: string | undefined) => string[],
    readonly now: () => number,
  ) {
    kube.routes.unshift((req) => {
      if (req.method !== 'GET' || req.url.pathname !== '/api/v1/events') return false;
      pagedList(req, 'EventList', 'v1', this.events.map(eventJson), this.pages);
      return true;
    });
  }

  /** Records the events of every pod not seen before (call after each Karpenter step). */
  sync(): void {
    for (const pod of this.karpenter.pods.values()) {
      if (this.seen.has(pod.name)) continue;
      this.seen.add(pod.name);
      const pool = pod.owner.replace(/^app-/, '');
      const held = this.held(this.karpenter.snapshotOf(pool));
      for (const image of this.workload(pool))
        this.events.push({
          namespace: pod.namespace,
          pod: pod.name,
          container: 'app',
          node: pod.nodeName,
          reason: 'Pulled',
          at: this.now(),
          message: held.includes(image)
            ? `Container image "${image}" already present on machine and can be accessed by the pod`
            : `Successfully pulled image "${image}" in 41.5s (41.5s including waiting). Image size: 900000000 bytes.`,
        });
    }
  }
}
