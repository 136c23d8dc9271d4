/**
 * The Kubernetes access layer's own rules (cli/shared/kube): which answers are worth a retry, the total limit
 * of retries, the connect limit, and Status causes. The commands' behaviour on top of it is tested with them
 * (migrate-drain, cache-report, rollout-cache-gate, debug-node, kube-deadlines).
 */
import * as net from 'net';
import * as fs from 'fs';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { stringify } from 'yaml';
import { FAKE_CLUSTER_CA } from './helpers/fake-kube';
import { tempDir } from './helpers/fleet';
import { API_RETRY, classify, connectKube, fieldManagerConflicts, isBudgetRefusal, KubeApiError, MAX_TOTAL_MS, withRetry } from '../cli/shared/kube';

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
