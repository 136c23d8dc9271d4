/**
 * A small stateful fake of the Kubernetes API, on 127.0.0.1 only: nodes, pods, ReplicaSets,
 * Deployments, StatefulSets, DaemonSets and PodDisruptionBudgets, with the Eviction API (429 with the
 * DisruptionBudget cause while a budget allows no disruption) and a controller that replaces evicted
 * Deployment pods on a Bottlerocket node after a delay — or never, for Deployments marked broken (their
 * replacements stay Pending). An evicted pod with `terminatingForMs` keeps running with a
 * deletionTimestamp that long (its graceful shutdown); a StatefulSet pod is recreated under the same
 * name, with a new UID, once the old one is gone. `faults` makes chosen requests fail.
 */
import * as http from 'http';
import * as https from 'https';
import * as fs from 'fs';
import * as path from 'path';
import type { AddressInfo } from 'net';

/**
 * The TLS identity of the fake API server under `start({ tls: true })`: a self-signed certificate for 127.0.0.1
 * (CA:TRUE, so it is its own trust anchor) and its key, made for these tests only (fixtures/fake-kube-tls/).
 */
const TLS_DIR = path.join(__dirname, '..', 'fixtures', 'fake-kube-tls');
/** The fake cluster's CA as EKS and update-kubeconfig write it: base64 of the PEM. */
export const FAKE_CLUSTER_CA = fs.readFileSync(path.join(TLS_DIR, 'cert.pem')).toString('base64');

export interface FakePod {
  namespace: string;
  name: string;
  nodeName?: string;
  phase: 'Pending' | 'Running';
  createdAt: number;
  labels: Record<string, string>;
  owner?: { kind: string; name: string };
  annotations?: Record<string, string>;
  /** The owner reference is not marked controller: true (an owner that manages nothing). */
  ownerNotController?: boolean;
  runningAt?: number;
  /** Assigned by addPod when left out. */
  uid?: string;
  /** spec.terminationGracePeriodSeconds (left out of the JSON when unset: the API's default is 30). */
  gracePeriodSeconds?: number;
  emptyDirs?: { name: string; medium?: 'Memory' }[];
  /** Once evicted, the pod stays (with a deletionTimestamp) this long before it is gone. */
  terminatingForMs?: number;
  /** Set by an eviction of a pod with terminatingForMs. */
  deletionTimestamp?: number;
}

/**
 * One injected failure: the next `times` requests (default 1) matching method and path are answered
 * with `answer` instead: an HTTP status (a 429 here is throttling, without the DisruptionBudget cause),
 * 'drop' (the connection is closed without an answer), or, for an eviction, 'vanish' (someone else
 * evicted the pod a moment earlier: it goes, and this request gets 404) or 'lost' (the eviction happens,
 * then the connection is closed before the answer), 'namespace-terminating' (403 with the status cause
 * NamespaceTerminating: the namespace is being deleted) or 'multiple-pdbs' (the Eviction API's 500 for a pod
 * that more than one PodDisruptionBudget selects).
 */
export interface FakeFault {
  method?: string;
  path: RegExp;
  answer: 403 | 429 | 500 | 503 | 'drop' | 'vanish' | 'lost' | 'namespace-terminating' | 'multiple-pdbs';
  times?: number;
}

export interface FakeNode {
  name: string;
  osImage: string;
  unschedulable?: boolean;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

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
  /**
   * ReplicaSets no Deployment owns (namespace "default"): with no owner, or owned by another controller
   * (an Argo Rollout). Their pods carry the label app=<ReplicaSet name>.
   */
  otherReplicaSets = new Map<string, { replicas: number; owner?: { kind: string; name: string } }>();
  deployments = new Map<string, { replicas: number; broken?: boolean }>();
  daemonSets = new Set<string>();
  /** StatefulSet name -> replicas (namespace "default"). */
  statefulSets = new Map<string, number>();
  faults: FakeFault[] = [];
  /** "503 POST /api/v1/..." for every fault that fired. */
  faultsFired: string[] = [];
  pdbs: { matchLabels: Record<string, string>; minAvailable: number }[] = [];
  /** What clients did, for assertions. */
  calls: string[] = [];
  replaceAfterMs = 30;
  /** The clock replacements are scheduled by; tests share a virtual one with the drain. */
  now: () => number = Date.now;
  private server?: http.Server | https.Server;
  private counter = 0;
  private uids = 0;

  addNode(name: string, osImage: string): void {
    this.nodes.set(name, { name, osImage, annotations: {}, labels: {} });
  }

  addDeploymentPods(deployment: string, nodes: string[], broken = false): void {
    this.deployments.set(deployment, { replicas: nodes.length, broken });
    this.replicaSets.set(`${deployment}-rs`, deployment);
    nodes.forEach((node, i) =>
      this.addPod({
        namespace: 'default',
        name: `${deployment}-${i}`,
        nodeName: node,
        phase: 'Running',
        createdAt: this.now(),
        labels: { app: deployment },
        owner: { kind: 'ReplicaSet', name: `${deployment}-rs` },
      }),
    );
  }

  /** Pods of a ReplicaSet no Deployment owns (`owner`: its controller, e.g. an Argo Rollout). */
  addReplicaSetPods(name: string, nodes: string[], owner?: { kind: string; name: string }): void {
    this.otherReplicaSets.set(name, { replicas: nodes.length, owner });
    nodes.forEach((node, i) =>
      this.addPod({
        namespace: 'default',
        name: `${name}-${i}`,
        nodeName: node,
        phase: 'Running',
        createdAt: this.now(),
        labels: { app: name },
        owner: { kind: 'ReplicaSet', name },
      }),
    );
  }

  addStatefulSetPods(name: string, nodes: string[], extra: Partial<FakePod> = {}): void {
    this.statefulSets.set(name, nodes.length);
    nodes.forEach((node, i) =>
      this.addPod({
        namespace: 'default',
        name: `${name}-${i}`,
        nodeName: node,
        phase: 'Running',
        createdAt: this.now(),
        labels: { app: name },
        owner: { kind: 'StatefulSet', name },
        ...extra,
      }),
    );
  }

  addPod(p: FakePod): void {
    p.uid ??= `uid-${++this.uids}`;
    this.pods.set(`${p.namespace}/${p.name}`, p);
  }

  /** Listens on a free loopback port; with `tls`, HTTPS with the certificate FAKE_CLUSTER_CA names (what writeKubeconfig trusts). */
  async start(o: { tls?: boolean } = {}): Promise<string> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = o.tls
      ? https.createServer({ cert: fs.readFileSync(path.join(TLS_DIR, 'cert.pem')), key: fs.readFileSync(path.join(TLS_DIR, 'test-only-key.pem')) }, handler)
      : http.createServer(handler);
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `${o.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /**
   * A kubeconfig file pointing at this server (started with `tls`): one context, named like the fleet's cluster
   * (`migrate` defaults to that name), trusting the server's certificate and nothing else.
   */
  writeKubeconfig(dir: string, server: string, context = 'my-cluster'): string {
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `current-context: ${context}`,
        'clusters:',
        `- name: ${context}`,
        `  cluster: {server: "${server}", certificate-authority-data: "${FAKE_CLUSTER_CA}"}`,
        'users:',
        '- name: fake',
        '  user: {token: fake-token}',
        'contexts:',
        `- name: ${context}`,
        `  context: {cluster: ${context}, user: fake}`,
        '',
      ].join('\n'),
    );
    return file;
  }

  private tick(): void {
    for (const p of [...this.pods.values()]) {
      if (p.deletionTimestamp !== undefined && p.deletionTimestamp + (p.terminatingForMs ?? 0) <= this.now()) this.gone(p);
    }
    for (const p of this.pods.values()) {
      if (p.phase === 'Pending' && p.runningAt !== undefined && p.runningAt <= this.now()) {
        p.phase = 'Running';
        p.nodeName = [...this.nodes.values()].find((n) => /bottlerocket/i.test(n.osImage))?.name;
      }
    }
  }

  /** The eviction's effect: the pod shuts down (or is gone at once); a Deployment's ReplicaSet replaces it right away. */
  private evict(pod: FakePod): void {
    const rs = pod.owner?.kind === 'ReplicaSet' ? pod.owner.name : undefined;
    const deployment = rs === undefined ? undefined : this.replicaSets.get(rs);
    if (deployment || (rs !== undefined && this.otherReplicaSets.has(rs))) {
      const broken = deployment !== undefined && this.deployments.get(deployment)?.broken;
      this.addPod({
        ...pod,
        uid: undefined,
        name: `${deployment ?? rs}-r${++this.counter}`,
        nodeName: undefined,
        phase: 'Pending',
        createdAt: this.now(),
        runningAt: broken ? undefined : this.now() + this.replaceAfterMs,
        terminatingForMs: undefined,
      });
    }
    if (pod.terminatingForMs) pod.deletionTimestamp = this.now();
    else this.gone(pod);
  }

  /** The pod is deleted; a StatefulSet recreates it under the same name, with a new UID. */
  private gone(pod: FakePod): void {
    this.pods.delete(`${pod.namespace}/${pod.name}`);
    if (pod.owner?.kind === 'StatefulSet') {
      this.addPod({
        ...pod,
        uid: undefined,
        nodeName: undefined,
        phase: 'Pending',
        createdAt: this.now(),
        runningAt: this.now() + this.replaceAfterMs,
        deletionTimestamp: undefined,
        terminatingForMs: undefined,
      });
    }
  }

  private running(labels: Record<string, string>): FakePod[] {
    return [...this.pods.values()].filter(
      (p) => p.phase === 'Running' && p.deletionTimestamp === undefined && Object.entries(labels).every(([k, v]) => p.labels[k] === v),
    );
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      this.tick();
      const url = new URL(req.url!, 'http://x');
      this.calls.push(`${req.method} ${url.pathname}`);
      const send = (code: number, obj: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      const notFound = () => send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
      const fault = this.faults.find((f) => (f.times ?? 1) > 0 && (!f.method || f.method === req.method) && f.path.test(url.pathname));
      if (fault) {
        fault.times = (fault.times ?? 1) - 1;
        this.faultsFired.push(`${fault.answer} ${req.method} ${url.pathname}`);
        if (fault.answer === 'drop') return void req.socket.destroy();
        if (fault.answer === 'vanish' || fault.answer === 'lost') {
          const [, ns, name] = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(url.pathname)!;
          const pod = this.pods.get(`${ns}/${name}`);
          if (pod) this.evict(pod);
          return fault.answer === 'lost' ? void req.socket.destroy() : notFound();
        }
        if (fault.answer === 'multiple-pdbs')
          return send(500, {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
            code: 500,
          });
        if (fault.answer === 'namespace-terminating')
          return send(403, {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'Forbidden',
            message: `unable to create new content in namespace ${url.pathname.split('/')[4]} because it is being terminated`,
            details: { causes: [{ type: 'NamespaceTerminating', message: 'namespace is being terminated' }] },
            code: 403,
          });
        const reason = { 403: 'Forbidden', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable' }[fault.answer];
        return send(fault.answer, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message: `injected ${fault.answer}`, code: fault.answer });
      }
      // Plug-ins (e.g. fake-karpenter.ts) answer first; they return true when they handled the request.
      if (this.routes.some((route) => route({ method: req.method!, url, body, headers: req.headers, send }))) return;
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && url.pathname === '/api/v1/nodes') {
        const sel = url.searchParams.get('labelSelector');
        const nodes = [...this.nodes.values()].filter(
          (n) =>
            !sel ||
            sel.split(',').every((kv) => {
              const [k, v] = kv.split('=');
              return n.labels[k] === v;
            }),
        );
        return send(200, { kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: nodes.map((n) => this.nodeJson(n)) });
      }
      if (req.method === 'GET' && (m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname))) {
        const node = this.nodes.get(m[1]);
        return node ? send(200, this.nodeJson(node)) : notFound();
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
        const pods = [...this.pods.values()].filter((p) =>
          field === 'spec.nodeName' ? p.nodeName === value : field === 'status.phase' ? p.phase === value : true,
        );
        return send(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: pods.map((p) => this.podJson(p)) });
      }
      if (req.method === 'GET' && (m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname))) {
        const pod = this.pods.get(`${m[1]}/${m[2]}`);
        return pod ? send(200, this.podJson(pod)) : notFound();
      }
      if (req.method === 'POST' && (m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(url.pathname))) {
        const pod = this.pods.get(`${m[1]}/${m[2]}`);
        if (!pod) return notFound();
        // The delete behind the eviction honours deleteOptions.preconditions.uid: another pod under the name
        // answers 409 Conflict (the budget check comes first, as in eviction.go, so a refusal is still a 429).
        const wantedUid = (JSON.parse(body || '{}') as { deleteOptions?: { preconditions?: { uid?: string } } }).deleteOptions?.preconditions?.uid;
        const conflict = () =>
          send(409, {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'Conflict',
            message: `Operation cannot be fulfilled on Pod "${pod.name}": Precondition failed: UID in precondition: ${wantedUid}, UID in object meta: ${pod.uid}`,
            code: 409,
          });
        const uidMismatch = wantedUid !== undefined && wantedUid !== pod.uid;
        // A pod already shutting down is deleted without a budget check (canIgnorePDB in kubernetes/kubernetes
        // pkg/registry/core/pod/storage/eviction.go); its shutdown goes on as before.
        if (pod.deletionTimestamp !== undefined) {
          if (uidMismatch) return conflict();
          return send(201, { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: pod.name, namespace: pod.namespace } });
        }
        const blocking = this.pdbs.find(
          (b) => Object.entries(b.matchLabels).every(([k, v]) => pod.labels[k] === v) && this.running(b.matchLabels).length - 1 < b.minAvailable,
        );
        // The real refusal carries the DisruptionBudget cause (checkAndDecrement, same file); throttling does not.
        if (blocking)
          return send(429, {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'TooManyRequests',
            message: "Cannot evict pod as it would violate the pod's disruption budget.",
            details: { causes: [{ type: 'DisruptionBudget', message: 'The disruption budget needs more healthy pods' }] },
            code: 429,
          });
        if (uidMismatch) return conflict();
        this.evict(pod);
        return send(201, { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: pod.name, namespace: pod.namespace } });
      }
      if (req.method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets\/([^/]+)$/.exec(url.pathname))) {
        const d = this.replicaSets.get(m[2]);
        const other = this.otherReplicaSets.get(m[2]);
        if (other)
          return send(200, {
            kind: 'ReplicaSet',
            apiVersion: 'apps/v1',
            metadata: {
              name: m[2],
              namespace: m[1],
              ownerReferences: other.owner ? [{ apiVersion: 'argoproj.io/v1alpha1', ...other.owner, uid: other.owner.name, controller: true }] : [],
            },
            spec: { replicas: other.replicas, selector: { matchLabels: { app: m[2] } } },
            status: { replicas: other.replicas, availableReplicas: this.running({ app: m[2] }).length },
          });
        if (!d) return notFound();
        return send(200, {
          kind: 'ReplicaSet',
          apiVersion: 'apps/v1',
          metadata: { name: m[2], namespace: m[1], ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d, uid: d, controller: true }] },
        });
      }
      if (req.method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(url.pathname))) {
        const d = this.deployments.get(m[2]);
        if (!d) return notFound();
        return send(200, {
          kind: 'Deployment',
          apiVersion: 'apps/v1',
          metadata: { name: m[2], namespace: m[1] },
          spec: { replicas: d.replicas, selector: { matchLabels: { app: m[2] } }, template: {} },
          status: { availableReplicas: this.running({ app: m[2] }).length },
        });
      }
      if (req.method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/statefulsets\/([^/]+)$/.exec(url.pathname))) {
        const replicas = this.statefulSets.get(m[2]);
        if (replicas === undefined) return notFound();
        return send(200, {
          kind: 'StatefulSet',
          apiVersion: 'apps/v1',
          metadata: { name: m[2], namespace: m[1] },
          spec: { replicas, selector: { matchLabels: { app: m[2] } }, serviceName: m[2], template: {} },
          status: { replicas, availableReplicas: this.running({ app: m[2] }).length },
        });
      }
      if (req.method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/daemonsets\/([^/]+)$/.exec(url.pathname))) {
        if (!this.daemonSets.has(`${m[1]}/${m[2]}`)) return notFound();
        const scheduled = [...this.nodes.values()].length;
        return send(200, {
          kind: 'DaemonSet',
          apiVersion: 'apps/v1',
          metadata: { name: m[2], namespace: m[1] },
          spec: {},
          status: { desiredNumberScheduled: scheduled },
        });
      }
      if (req.method === 'DELETE' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/daemonsets\/([^/]+)$/.exec(url.pathname))) {
        if (!this.daemonSets.delete(`${m[1]}/${m[2]}`)) return notFound();
        return send(200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
      return notFound();
    });
  }

  private nodeJson(n: FakeNode) {
    return {
      kind: 'Node',
      apiVersion: 'v1',
      metadata: { name: n.name, annotations: n.annotations, labels: n.labels },
      spec: { unschedulable: n.unschedulable },
      status: { nodeInfo: { osImage: n.osImage } },
    };
  }

  private podJson(p: FakePod) {
    return {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        name: p.name,
        namespace: p.namespace,
        uid: p.uid,
        labels: p.labels,
        ...(p.annotations ? { annotations: p.annotations } : {}),
        creationTimestamp: new Date(p.createdAt).toISOString(),
        ...(p.deletionTimestamp === undefined
          ? {}
          : { deletionTimestamp: new Date(p.deletionTimestamp).toISOString(), deletionGracePeriodSeconds: p.gracePeriodSeconds ?? 30 }),
        ownerReferences: p.owner
          ? [{ apiVersion: 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: p.owner.name, ...(p.ownerNotController ? {} : { controller: true }) }]
          : [],
      },
      spec: {
        nodeName: p.nodeName,
        containers: [],
        ...(p.gracePeriodSeconds === undefined ? {} : { terminationGracePeriodSeconds: p.gracePeriodSeconds }),
        volumes: (p.emptyDirs ?? []).map((v) => ({ name: v.name, emptyDir: v.medium ? { medium: v.medium } : {} })),
      },
      status: { phase: p.phase },
    };
  }
}
