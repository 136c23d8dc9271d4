/**
 * A simulated Karpenter v1 inside FakeKube (plugged in through its routes): EC2NodeClasses (server-side
 * apply with field managers, merge patches), NodeClaims, their nodes and the pods of one Deployment per
 * pool. On `step()` it does what Karpenter's controllers do, in miniature:
 *  - the hash controller sets `karpenter.k8s.aws/ec2nodeclass-hash` on a class whose spec changed
 *    (Karpenter hashes the spec with hashstructure; here sha256 of the JSON stands in);
 *  - drift: a NodeClaim whose hash differs from its class's is Drifted and replaced by a new NodeClaim
 *    carrying the class's hash, no more at once than the pool's Drifted budget allows (percentages
 *    rounded up, replacements not yet Ready count against the budget, as in Karpenter v1.14.1);
 *  - the pods of a replaced node start again on the new node.
 * Faults: new nodes stay NotReady, or their pods fail to pull (ErrImagePull).
 */
import { createHash } from 'crypto';
import type { FakeKube, FakeRequest } from './fake-kube';

const HASH = 'karpenter.k8s.aws/ec2nodeclass-hash';
const NODE_CLASSES = /^\/apis\/karpenter\.k8s\.aws\/v1\/ec2nodeclasses\/([^/]+)$/;

export interface SimNodeClass {
  spec: unknown;
  annotations: Record<string, string>;
  managers: Set<string>;
  generation: number;
}
export interface SimNodeClaim {
  name: string;
  pool: string;
  hash: string;
  nodeName: string;
  createdAt: number;
}
export interface SimPod {
  namespace: string;
  name: string;
  nodeName: string;
  phase: 'Running' | 'Pending';
  createdAt: number;
  waiting: string[];
  owner: string;
}

export class FakeKarpenter {
  nodeClasses = new Map<string, SimNodeClass>();
  nodeClaims = new Map<string, SimNodeClaim>();
  /** Node name -> Ready. */
  nodes = new Map<string, boolean>();
  pods = new Map<string, SimPod>();
  /** Pool -> Drifted budget ("1", "50%"). */
  budgets = new Map<string, string>();
  faults = { newNodesNotReady: false, failPulls: false };
  /** Every write request (method, path, field manager, content type), for assertions. */
  writes: { method: string; path: string; fieldManager?: string; force?: string; contentType?: string; body: any }[] = [];
  /** Called on every step (e.g. to interrupt a rollout mid-stage). */
  onStep?: (k: FakeKarpenter) => void;
  private n = 0;

  constructor(
    readonly kube: FakeKube,
    readonly now: () => number,
  ) {
    kube.routes.push((req) => this.route(req));
  }

  /** A pool as Terraform left it: its node class applied by the kubectl provider, `nodes` nodes on it, one Deployment pod per node. */
  addPool(pool: string, nodeClass: { spec: unknown }, nodes: number, driftBudget = '1'): void {
    this.nodeClasses.set(pool, { spec: nodeClass.spec, annotations: {}, managers: new Set(['kubectl']), generation: 1 });
    this.budgets.set(pool, driftBudget);
    this.hashClasses();
    for (let i = 0; i < nodes; i++) this.launch(pool, this.nodeClasses.get(pool)!.annotations[HASH], true);
  }

  /** One reconcile of every controller. */
  step(): void {
    this.onStep?.(this);
    this.hashClasses();
    for (const [pool, cls] of this.nodeClasses) {
      const hash = cls.annotations[HASH];
      const claims = [...this.nodeClaims.values()].filter((c) => c.pool === pool);
      const drifted = claims.filter((c) => c.hash !== hash);
      const notReady = claims.filter((c) => c.hash === hash && !this.nodes.get(c.nodeName)).length;
      const allowed = Math.max(0, this.allowed(pool, claims.length) - notReady);
      for (const old of drifted.slice(0, allowed)) this.replace(old, hash);
    }
  }

  /** The Deployment of a pool: desired = its nodes at creation, available = Running pods without waiting containers. */
  available(pool: string): number {
    return [...this.pods.values()].filter((p) => p.owner === `app-${pool}` && p.phase === 'Running' && p.waiting.length === 0).length;
  }

  snapshotOf(pool: string): string | undefined {
    const devices = (this.nodeClasses.get(pool)?.spec as { blockDeviceMappings?: { deviceName: string; ebs: { snapshotID?: string } }[] } | undefined)
      ?.blockDeviceMappings;
    return devices?.find((d) => d.deviceName === '/dev/xvdb')?.ebs.snapshotID;
  }

  private allowed(pool: string, total: number): number {
    const budget = this.budgets.get(pool) ?? '10%';
    return budget.endsWith('%') ? Math.ceil((total * Number(budget.slice(0, -1))) / 100) : Number(budget);
  }

  private hashClasses(): void {
    for (const cls of this.nodeClasses.values()) cls.annotations[HASH] = createHash('sha256').update(JSON.stringify(cls.spec)).digest('hex').slice(0, 16);
  }

  private launch(pool: string, hash: string, initial = false): SimNodeClaim {
    const id = ++this.n;
    const claim = { name: `${pool}-${id}`, pool, hash, nodeName: `ip-10-0-0-${id}`, createdAt: this.now() };
    this.nodeClaims.set(claim.name, claim);
    this.nodes.set(claim.nodeName, initial || !this.faults.newNodesNotReady);
    const fail = !initial && this.faults.failPulls;
    this.pods.set(`default/app-${pool}-${id}`, {
      namespace: 'default',
      name: `app-${pool}-${id}`,
      nodeName: claim.nodeName,
      phase: fail ? 'Pending' : 'Running',
      createdAt: this.now(),
      waiting: fail ? ['ErrImagePull'] : [],
      owner: `app-${pool}`,
    });
    return claim;
  }

  private replace(old: SimNodeClaim, hash: string): void {
    this.launch(old.pool, hash);
    this.nodeClaims.delete(old.name);
    this.nodes.delete(old.nodeName);
    for (const [key, p] of this.pods) if (p.nodeName === old.nodeName) this.pods.delete(key);
  }

  private route(req: FakeRequest): boolean {
    const { method, url } = req;
    let m: RegExpExecArray | null;
    if (method !== 'GET')
      this.writes.push({
        method,
        path: url.pathname,
        fieldManager: url.searchParams.get('fieldManager') ?? undefined,
        force: url.searchParams.get('force') ?? undefined,
        contentType: req.headers['content-type'],
        body: req.body ? JSON.parse(req.body) : undefined,
      });
    if ((m = NODE_CLASSES.exec(url.pathname))) {
      const name = decodeURIComponent(m[1]);
      if (method === 'GET') {
        const cls = this.nodeClasses.get(name);
        if (!cls) {
          req.send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
          return true;
        }
        req.send(200, this.nodeClassJson(name, cls));
        return true;
      }
      if (method === 'PATCH') return this.patchNodeClass(name, req);
    }
    if (method === 'GET' && url.pathname === '/apis/karpenter.sh/v1/nodeclaims') {
      req.send(200, {
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodeClaimList',
        metadata: {},
        items: [...this.nodeClaims.values()].map((c) => ({
          apiVersion: 'karpenter.sh/v1',
          kind: 'NodeClaim',
          metadata: {
            name: c.name,
            creationTimestamp: new Date(c.createdAt).toISOString(),
            labels: { 'karpenter.sh/nodepool': c.pool },
            annotations: { [HASH]: c.hash },
          },
          status: { nodeName: c.nodeName },
        })),
      });
      return true;
    }
    if (method === 'GET' && url.pathname === '/api/v1/nodes') {
      req.send(200, {
        kind: 'NodeList',
        apiVersion: 'v1',
        metadata: {},
        items: [...this.nodes].map(([name, ready]) => ({
          kind: 'Node',
          apiVersion: 'v1',
          metadata: { name },
          status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
        })),
      });
      return true;
    }
    if (method === 'GET' && url.pathname === '/api/v1/pods') {
      req.send(200, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: {},
        items: [...this.pods.values()].map((p) => ({
          kind: 'Pod',
          apiVersion: 'v1',
          metadata: {
            name: p.name,
            namespace: p.namespace,
            creationTimestamp: new Date(p.createdAt).toISOString(),
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${p.owner}-rs`, uid: p.owner, controller: true }],
          },
          spec: { nodeName: p.nodeName, containers: [] },
          status: {
            phase: p.phase,
            containerStatuses: [
              {
                name: 'app',
                image: 'app',
                imageID: '',
                ready: p.waiting.length === 0,
                restartCount: 0,
                state: p.waiting.length ? { waiting: { reason: p.waiting[0] } } : { running: {} },
              },
            ],
          },
        })),
      });
      return true;
    }
    if (method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets\/(app-[^/]+)-rs$/.exec(url.pathname))) {
      req.send(200, {
        kind: 'ReplicaSet',
        apiVersion: 'apps/v1',
        metadata: {
          name: `${m[2]}-rs`,
          namespace: m[1],
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: m[2], uid: m[2], controller: true }],
        },
      });
      return true;
    }
    if (method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/app-([^/]+)$/.exec(url.pathname)) && this.budgets.has(m[2])) {
      const pool = m[2];
      const desired = [...this.nodeClaims.values()].filter((c) => c.pool === pool).length;
      req.send(200, {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name: `app-${pool}`, namespace: m[1] },
        spec: { replicas: desired, selector: { matchLabels: { app: pool } }, template: {} },
        status: { availableReplicas: this.available(pool) },
      });
      return true;
    }
    return false;
  }

  /** Server-side apply (application/apply-patch+yaml, needs a field manager) or a JSON merge patch. */
  private patchNodeClass(name: string, req: FakeRequest): boolean {
    const body = JSON.parse(req.body);
    const contentType = String(req.headers['content-type'] ?? '');
    const manager = req.url.searchParams.get('fieldManager');
    let cls = this.nodeClasses.get(name);
    if (contentType.startsWith('application/apply-patch')) {
      if (!manager) {
        req.send(422, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Invalid',
          message: 'fieldManager is required for apply requests',
          code: 422,
        });
        return true;
      }
      // Fields owned by another applier would conflict (HTTP 409) unless forced: the kubectl provider applies as "kubectl".
      if (cls && ![...cls.managers].includes(manager) && req.url.searchParams.get('force') !== 'true') {
        req.send(409, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Conflict',
          message: `Apply failed with conflicts: conflict with "kubectl": .spec`,
          code: 409,
        });
        return true;
      }
      if (!cls) {
        cls = { spec: undefined, annotations: {}, managers: new Set(), generation: 0 };
        this.nodeClasses.set(name, cls);
      }
      if (JSON.stringify(cls.spec) !== JSON.stringify(body.spec)) cls.generation++;
      cls.spec = body.spec;
      cls.managers.add(manager);
    } else if (contentType.startsWith('application/merge-patch')) {
      if (!cls) {
        req.send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
        return true;
      }
      for (const [k, v] of Object.entries<string | null>(body.metadata?.annotations ?? {})) {
        if (v === null) delete cls.annotations[k];
        else cls.annotations[k] = v;
      }
      if (manager) cls.managers.add(manager);
    } else {
      req.send(415, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'UnsupportedMediaType', code: 415 });
      return true;
    }
    req.send(200, this.nodeClassJson(name, cls));
    return true;
  }

  private nodeClassJson(name: string, cls: SimNodeClass) {
    return {
      apiVersion: 'karpenter.k8s.aws/v1',
      kind: 'EC2NodeClass',
      metadata: {
        name,
        generation: cls.generation,
        annotations: cls.annotations,
        managedFields: [...cls.managers].map((manager) => ({ manager, operation: manager === 'kubectl' ? 'Apply' : 'Update' })),
      },
      spec: cls.spec,
    };
  }
}
