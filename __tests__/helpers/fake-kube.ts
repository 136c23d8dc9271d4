/**
 * A small stateful fake of the Kubernetes API, on 127.0.0.1 only: nodes, pods, ReplicaSets,
 * Deployments, DaemonSets and PodDisruptionBudgets, with the Eviction API (429 while a budget allows no
 * disruption) and a controller that replaces evicted Deployment pods on a Bottlerocket node after a
 * delay — or never, for Deployments marked broken (their replacements stay Pending).
 */
import * as http from 'http';
import * as fs from 'fs';
import * as path from 'path';
import type { AddressInfo } from 'net';

export interface FakePod {
  namespace: string;
  name: string;
  nodeName?: string;
  phase: 'Pending' | 'Running';
  createdAt: number;
  labels: Record<string, string>;
  owner?: { kind: string; name: string };
  runningAt?: number;
}

export interface FakeNode { name: string; osImage: string; unschedulable?: boolean; annotations: Record<string, string>; labels: Record<string, string> }

/** A request as plug-in routes see it; `send` answers with a status code and a JSON body. */
export interface FakeRequest {
  readonly method: string;
  readonly url: URL;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
  send(code: number, obj: unknown): void;
}

export class FakeKube {
  /** Extra API routes, tried before the built-in ones (see fake-karpenter.ts). */
  routes: ((req: FakeRequest) => boolean)[] = [];
  nodes = new Map<string, FakeNode>();
  pods = new Map<string, FakePod>();
  /** ReplicaSet name -> Deployment name (namespace "default"). */
  replicaSets = new Map<string, string>();
  deployments = new Map<string, { replicas: number; broken?: boolean }>();
  daemonSets = new Set<string>();
  pdbs: { matchLabels: Record<string, string>; minAvailable: number }[] = [];
  /** What clients did, for assertions. */
  calls: string[] = [];
  replaceAfterMs = 30;
  /** The clock replacements are scheduled by; tests share a virtual one with the drain. */
  now: () => number = Date.now;
  private server?: http.Server;
  private counter = 0;

  addNode(name: string, osImage: string): void {
    this.nodes.set(name, { name, osImage, annotations: {}, labels: {} });
  }

  addDeploymentPods(deployment: string, nodes: string[], broken = false): void {
    this.deployments.set(deployment, { replicas: nodes.length, broken });
    this.replicaSets.set(`${deployment}-rs`, deployment);
    nodes.forEach((node, i) => this.addPod({ namespace: 'default', name: `${deployment}-${i}`, nodeName: node, phase: 'Running', createdAt: this.now(), labels: { app: deployment }, owner: { kind: 'ReplicaSet', name: `${deployment}-rs` } }));
  }

  addPod(p: FakePod): void {
    this.pods.set(`${p.namespace}/${p.name}`, p);
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** A kubeconfig file pointing at this server. */
  writeKubeconfig(dir: string, server: string): string {
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: fake',
      'clusters:', `- name: fake`, `  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
      'users:', '- name: fake', '  user: {token: fake-token}',
      'contexts:', '- name: fake', '  context: {cluster: fake, user: fake}', '',
    ].join('\n'));
    return file;
  }

  private tick(): void {
    for (const p of this.pods.values()) {
      if (p.phase === 'Pending' && p.runningAt !== undefined && p.runningAt <= this.now()) {
        p.phase = 'Running';
        p.nodeName = [...this.nodes.values()].find((n) => /bottlerocket/i.test(n.osImage))?.name;
      }
    }
  }

  private running(labels: Record<string, string>): FakePod[] {
    return [...this.pods.values()].filter((p) => p.phase === 'Running' && Object.entries(labels).every(([k, v]) => p.labels[k] === v));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      this.tick();
      const url = new URL(req.url!, 'http://x');
      this.calls.push(`${req.method} ${url.pathname}`);
      const send = (code: number, obj: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
      const notFound = () => send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
      // Plug-ins (e.g. fake-karpenter.ts) answer first; they return true when they handled the request.
      if (this.routes.some((route) => route({ method: req.method!, url, body, headers: req.headers, send }))) return;
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && url.pathname === '/api/v1/nodes') {
        const sel = url.searchParams.get('labelSelector');
        const nodes = [...this.nodes.values()].filter((n) => !sel || sel.split(',').every((kv) => { const [k, v] = kv.split('='); return n.labels[k] === v; }));
        return send(200, { kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: nodes.map((n) => this.nodeJson(n)) });
      }
      if (req.method === 'PATCH' && (m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname))) {
        const node = this.nodes.get(m[1]);
        if (!node) return notFound();
        const patch = JSON.parse(body);
        if (patch.spec?.unschedulable !== undefined) node.unschedulable = patch.spec.unschedulable;
        Object.assign(node.annotations, patch.metadata?.annotations ?? {});
        return send(200, this.nodeJson(node));
      }
      if (req.method === 'GET' && url.pathname === '/api/v1/pods') {
        const [field, value] = (url.searchParams.get('fieldSelector') ?? '=').split('=');
        const pods = [...this.pods.values()].filter((p) => (field === 'spec.nodeName' ? p.nodeName === value : field === 'status.phase' ? p.phase === value : true));
        return send(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: pods.map((p) => this.podJson(p)) });
      }
      if (req.method === 'POST' && (m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(url.pathname))) {
        const pod = this.pods.get(`${m[1]}/${m[2]}`);
        if (!pod) return notFound();
        const blocking = this.pdbs.find((b) => Object.entries(b.matchLabels).every(([k, v]) => pod.labels[k] === v) && this.running(b.matchLabels).length - 1 < b.minAvailable);
        if (blocking) return send(429, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', message: 'Cannot evict pod as it would violate the pod\'s disruption budget.', code: 429 });
        this.pods.delete(`${m[1]}/${m[2]}`);
        const deployment = pod.owner?.kind === 'ReplicaSet' ? this.replicaSets.get(pod.owner.name) : undefined;
        if (deployment) {
          const broken = this.deployments.get(deployment)?.broken;
          this.addPod({ ...pod, name: `${deployment}-r${++this.counter}`, nodeName: undefined, phase: 'Pending', createdAt: this.now(), runningAt: broken ? undefined : this.now() + this.replaceAfterMs });
        }
        return send(201, { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: pod.name, namespace: pod.namespace } });
      }
      if (req.method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets\/([^/]+)$/.exec(url.pathname))) {
        const d = this.replicaSets.get(m[2]);
        if (!d) return notFound();
        return send(200, { kind: 'ReplicaSet', apiVersion: 'apps/v1', metadata: { name: m[2], namespace: m[1], ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d, uid: d, controller: true }] } });
      }
      if (req.method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(url.pathname))) {
        const d = this.deployments.get(m[2]);
        if (!d) return notFound();
        return send(200, { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: m[2], namespace: m[1] }, spec: { replicas: d.replicas, selector: { matchLabels: { app: m[2] } }, template: {} }, status: { availableReplicas: this.running({ app: m[2] }).length } });
      }
      if (req.method === 'DELETE' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/daemonsets\/([^/]+)$/.exec(url.pathname))) {
        if (!this.daemonSets.delete(`${m[1]}/${m[2]}`)) return notFound();
        return send(200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
      return notFound();
    });
  }

  private nodeJson(n: FakeNode) {
    return { kind: 'Node', apiVersion: 'v1', metadata: { name: n.name, annotations: n.annotations, labels: n.labels }, spec: { unschedulable: n.unschedulable }, status: { nodeInfo: { osImage: n.osImage } } };
  }

  private podJson(p: FakePod) {
    return {
      kind: 'Pod', apiVersion: 'v1',
      metadata: { name: p.name, namespace: p.namespace, labels: p.labels, creationTimestamp: new Date(p.createdAt).toISOString(), ownerReferences: p.owner ? [{ apiVersion: 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: p.owner.name, controller: true }] : [] },
      spec: { nodeName: p.nodeName, containers: [] },
      status: { phase: p.phase },
    };
  }
}
