/**
 * The Kubernetes access layer's own rules (cli/shared/kube): which answers are worth a retry, the total limit
 * of retries, the connect limit, Status causes, and one keep-alive connection per cluster. The commands' behaviour on top of it is tested with them
 * (migrate-drain, cache-report, rollout-cache-gate, debug-node, kube-deadlines).
 */
import * as net from 'net';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { stringify } from 'yaml';
import { FAKE_CLUSTER_CA } from './helpers/fake-kube';
import { tempDir } from './helpers/fleet';
import {
  API_RETRY,
  classify,
  connectKube,
  fieldManagerConflicts,
  IDLE_CONNECTION_MS,
  isBudgetRefusal,
  KeepAliveAgent,
  KubeApiError,
  MAX_TOTAL_MS,
  withRetry,
  type CallOptions,
  type KubeConnection,
} from '../cli/shared/kube';

/** A client-node ApiException as the layer sees it: the HTTP code and the Status body as text. */
const apiException = (code: number, status: object) => Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify(status) });

describe('which failures are worth a retry', () => {
  test.each([
    ['a 429 without the DisruptionBudget cause (API server throttling)', apiException(429, { message: 'slow down' }), true],
    ['a 503', apiException(503, { message: 'unavailable' }), true],
    [
      'a 500 for a pod under more than one PodDisruptionBudget',
      apiException(500, { message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' }),
      false,
    ],
    ['a 403', apiException(403, { message: 'forbidden' }), false],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    ['a certificate the CA does not sign', Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), false],
  ])('%s', (_name, e, transient) => {
    expect(classify('list nodes', e).transient).toBe(transient);
  });

  test('a 429 naming the DisruptionBudget cause is a budget refusal, not throttling', () => {
    const refusal = apiException(429, { message: 'Cannot evict pod', details: { causes: [{ reason: 'DisruptionBudget', message: 'needs 2 healthy' }] } });
    expect(isBudgetRefusal(refusal)).toBe(true);
    expect(isBudgetRefusal(apiException(429, { message: 'slow down' }))).toBe(false);
  });

  test('no answer at all names the context and the endpoint; an HTTP answer keeps its message', () => {
    const target = { context: 'prod', endpoint: 'https://10.0.0.1:443' };
    expect(classify('list nodes', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), target).message).toBe(
      'list nodes: socket hang up (kubeconfig context "prod", endpoint https://10.0.0.1:443)',
    );
    expect(classify('list nodes', apiException(403, { message: 'forbidden' }), target).message).toBe('list nodes: HTTP 403 forbidden');
  });

  test('a server-side apply conflict names each field and its manager', () => {
    const e = apiException(409, {
      message: 'Apply failed with 1 conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "someone-else" using karpenter.k8s.aws/v1', field: '.spec.role' }] },
    });
    expect(fieldManagerConflicts(e)).toEqual([{ manager: 'someone-else', field: '.spec.role' }]);
    expect(fieldManagerConflicts(apiException(404, {}))).toBeUndefined();
  });
});

describe('retries', () => {
  test('a policy asking for more than 2 minutes is held to 2 minutes', async () => {
    let now = 0;
    const ctx = { now: () => now, sleep: async (ms: number) => void (now += ms), log: () => {}, policy: { ...API_RETRY, giveUpAfterMs: 3_600_000 } };
    const failing = () => Promise.reject(new KubeApiError('list nodes', 503, 'unavailable', true));
    await expect(withRetry(failing, ctx)).rejects.toThrow(/still failing after 1\d\d\.\ds of retries/);
    expect(now).toBeLessThanOrEqual(MAX_TOTAL_MS);
  });

  test('each attempt is told the time left of the total', async () => {
    let now = 0;
    const seen: number[] = [];
    const ctx = { now: () => now, sleep: async (ms: number) => void (now += ms), log: () => {}, policy: { ...API_RETRY, giveUpAfterMs: 10_000 } };
    await withRetry((left) => {
      seen.push(left);
      return Promise.reject(new KubeApiError('x', 503, '', true));
    }, ctx).catch(() => {});
    expect(seen).toEqual([10_000, 9000, 7000, 3000]);
  });
});

test('a server that accepts TCP but never completes the TLS handshake fails at the connect limit, before the request limit', async () => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = path.join(tempDir('kube-layer-'), 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: endpoint, 'certificate-authority-data': FAKE_CLUSTER_CA } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    }),
  );
  try {
    const kube = connectKube({ cluster: 'c' }, { kubeconfig, connectTimeoutMs: 200, requestTimeoutMs: 5000, retry: { ...API_RETRY, giveUpAfterMs: 1000 } });
    const start = Date.now();
    const e = await kube.call('list nodes', (o) => kube.core.listNode({}, o)).catch((x: unknown) => x);
    expect(Date.now() - start).toBeLessThan(3000);
    expect((e as Error).message).toMatch(
      /^list nodes: .*no connection within 200ms \(connect timeout\) \(kubeconfig context "c", endpoint https:\/\/127\.0\.0\.1:\d+\)/,
    );
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

const TLS_DIR = path.join(__dirname, 'fixtures', 'fake-kube-tls');

/** A kubeconfig with one context `c` at `endpoint`, for user `u` with a token; `cluster` adds to (or drops from) the cluster entry. */
function kubeconfigAt(endpoint: string, cluster: Record<string, unknown> = { 'certificate-authority-data': FAKE_CLUSTER_CA }): string {
  const file = path.join(tempDir('kube-layer-'), 'kubeconfig');
  fs.writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: endpoint, ...cluster } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    }),
  );
  return file;
}

/**
 * client-node 1.4.0 builds a new https.Agent for every request it authenticates (dist/config.js,
 * applySecurityAuthentication -> createAgent): without the layer's keep-alive agent (cli/shared/kube/agent.ts) each
 * request below opened its own connection and TLS handshake.
 */
describe('one keep-alive connection per cluster', () => {
  let server: https.Server;
  let endpoint: string;
  const seen = { connections: 0, handshakes: 0 };
  /** While set, requests get no answer (a server that stalls on a connection it answered before). */
  let stalled: http.ServerResponse[] | undefined;
  beforeAll(async () => {
    server = https.createServer(
      { cert: fs.readFileSync(path.join(TLS_DIR, 'cert.pem')), key: fs.readFileSync(path.join(TLS_DIR, 'test-only-key.pem')) },
      (_req, res) => {
        if (stalled) return void stalled.push(res);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: [] }));
      },
    );
    server.on('connection', () => seen.connections++);
    server.on('secureConnection', () => seen.handshakes++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => Object.assign(seen, { connections: 0, handshakes: 0 }));
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const listNodes = (kube: KubeConnection, o?: CallOptions) => kube.call('list nodes', (x) => kube.core.listNode({}, x), o);

  test('five requests to a cluster share one TCP connection and one TLS handshake', async () => {
    const kube = connectKube({ cluster: 'c' }, { kubeconfig: kubeconfigAt(endpoint) });
    try {
      for (let i = 0; i < 5; i++) expect((await listNodes(kube)).items).toEqual([]);
      expect(seen).toEqual({ connections: 1, handshakes: 1 });
    } finally {
      kube.close();
    }
  });

  test('a request on a kept connection still ends at its request deadline', async () => {
    const kube = connectKube({ cluster: 'c' }, { kubeconfig: kubeconfigAt(endpoint), requestTimeoutMs: 300 });
    try {
      await listNodes(kube);
      stalled = [];
      const e = await listNodes(kube, { retry: false }).catch((x: unknown) => x);
      expect((e as Error).message).toMatch(/^list nodes: no answer within 300ms \(request timeout\) \(kubeconfig context "c", endpoint /);
      // The stalled request was sent on the connection the first one opened.
      expect(seen).toEqual({ connections: 1, handshakes: 1 });
    } finally {
      for (const res of stalled ?? []) res.destroy();
      stalled = undefined;
      kube.close();
    }
  });

  test('the kept connection trusts what the kubeconfig trusts: no CA, refused; insecure-skip-tls-verify, answered', async () => {
    const untrusting = connectKube({ cluster: 'c' }, { kubeconfig: kubeconfigAt(endpoint, {}) });
    const skipping = connectKube({ cluster: 'c' }, { kubeconfig: kubeconfigAt(endpoint, { 'insecure-skip-tls-verify': true }) });
    try {
      const e = await listNodes(untrusting).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(KubeApiError);
      expect((e as Error).message).toMatch(/^list nodes: .*self[- ]signed certificate/);
      expect((await listNodes(skipping)).items).toEqual([]);
      expect((await listNodes(skipping)).items).toEqual([]);
    } finally {
      untrusting.close();
      skipping.close();
    }
  });
});

describe('KeepAliveAgent', () => {
  const ca = (s: string) => Buffer.from(s);
  test('keeps one agent per set of TLS options, with keep-alive; new options (a rotated client certificate) get a new one', () => {
    const agents = new KeepAliveAgent();
    const first = agents.reuse(new https.Agent({ ca: ca('A'), cert: ca('cert-1') }));
    expect(first).toBeInstanceOf(https.Agent);
    expect((first as https.Agent).options).toMatchObject({ ca: ca('A'), cert: ca('cert-1'), keepAlive: true, timeout: IDLE_CONNECTION_MS });
    expect(agents.reuse(new https.Agent({ ca: ca('A'), cert: ca('cert-1') }))).toBe(first);
    const rotated = agents.reuse(new https.Agent({ ca: ca('A'), cert: ca('cert-2') }));
    expect(rotated).not.toBe(first);
    expect((rotated as https.Agent).options.cert).toEqual(ca('cert-2'));
    agents.destroy();
  });

  test('an http: agent (insecure-skip-tls-verify) stays http; a proxy agent (a subclass, as hpagent) is used as built', () => {
    const agents = new KeepAliveAgent();
    const plain = agents.reuse(new http.Agent({}));
    expect(plain.constructor).toBe(http.Agent);
    expect((plain as http.Agent & { keepAlive: boolean }).keepAlive).toBe(true);
    class ProxyAgent extends https.Agent {}
    const proxy = new ProxyAgent({});
    expect(agents.reuse(proxy)).toBe(proxy);
    expect(agents.reuse(undefined)).toBeUndefined();
    agents.destroy();
  });
});
