/**
 * Every command that talks to a cluster goes through the Kubernetes access layer (cli/shared/kube), whose
 * deadlines hold against an API server that accepts connections and never answers, or refuses them: the
 * command exits 1 within its deadline and names the kubeconfig context, the endpoint and the step.
 * A short --request-timeout keeps these fast (the total is at most 4 request timeouts and 2 minutes).
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { stringify } from 'yaml';
import { FAKE_CLUSTER_CA } from './helpers/fake-kube';
import { captureMain } from './helpers/capture';
import { fleetFrom, PROJECT_ROOT, tempDir } from './helpers/fleet';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { refusedPort } from './helpers/real-tools';
import { main as migrate } from '../cli/migrate/main';
import { main as cache } from '../cli/cache/main';
import { main as debugNode } from '../cli/debug-node/main';
import { main as rollout } from '../cli/rollout/main';
import { exitCodeFor } from '../cli/shared/exit-code';
import * as http from 'http';
import { rolloutKube } from '../cli/rollout/kube-client';
import { status } from '../cli/rollout/report';
import { planRollout } from '../cli/rollout/model';
import { API_RETRY, connectKube, KubeApiError, MAX_TOTAL_MS, RequestTimeout, withDeadline } from '../cli/shared/kube';

const FLEET = path.join(PROJECT_ROOT, 'fleet.yaml'); // one cluster: my-cluster
/**
 * The --request-timeout of each kind of endpoint. The tests assert the deadline's behaviour (exit 1, context,
 * endpoint, step), not the default's value ('the deadlines themselves' below). A silent server is given 100 ms (at
 * most 4 x 100 ms in all). A refusing one is given 240 ms: the refusal must arrive before the request limit even on a
 * starved machine (at 100 ms one run under load 10 timed out first), and below 250 ms the total of 4 request
 * timeouts stays under the first 1 s retry backoff, which at the former 300 ms every refused test waited out.
 */
const REQUEST_TIMEOUT = { silent: '100ms', refused: '240ms' } as const;
const REQUEST_TIMEOUT_MS = { silent: 100, refused: 240 } as const;
const WITHIN_MS = 5000;

type Endpoint = { kind: 'silent' | 'refused'; server: string; close: () => Promise<void> };

/** A loopback socket that accepts every connection and never writes a byte (not even a TLS handshake). */
async function silentServer(): Promise<Endpoint> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { kind: 'silent', server: `https://127.0.0.1:${port}`, close };
}

/** A loopback port nobody listens on and nobody can be handed while the test runs: every connection is refused. */
async function refusingEndpoint(): Promise<Endpoint> {
  return { kind: 'refused', server: `https://127.0.0.1:${await refusedPort()}`, close: async () => {} };
}

/** A kubeconfig with one context per name, all at `server`, trusting the fake cluster CA. */
function kubeconfigFor(server: string, contexts: string[]): string {
  const file = path.join(tempDir('kube-deadline-'), 'kubeconfig');
  fs.writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'somewhere-else',
      clusters: contexts.map((name) => ({ name, cluster: { server, 'certificate-authority-data': FAKE_CLUSTER_CA } })),
      users: [{ name: 'fake', user: { token: 'fake-token' } }],
      contexts: contexts.map((name) => ({ name, context: { cluster: name, user: 'fake' } })),
    }),
  );
  return file;
}

/** What a failed call must say: the context, the endpoint and the step; for a silent server, the deadline. */
function expectNamed(message: string, e: Endpoint, context: string, step: string | RegExp): void {
  expect(message).toContain(`kubeconfig context "${context}"`);
  expect(message).toContain(e.server);
  if (typeof step === 'string') expect(message).toContain(`${step}: `);
  else expect(message).toMatch(step);
  if (e.kind === 'silent') expect(message).toMatch(/no (connection|answer) within 100ms/);
  else expect(message).toContain('ECONNREFUSED');
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - start };
}

describe.each([
  ['accepts connections and never answers', silentServer],
  ['refuses connections', refusingEndpoint],
])('an API server that %s', (_name, open) => {
  let endpoint: Endpoint;
  let kubeconfig: string;
  beforeEach(async () => {
    endpoint = await open();
    kubeconfig = kubeconfigFor(endpoint.server, ['my-cluster', 'ml-train', 'payments-prod']);
  });
  afterEach(() => endpoint.close());

  test('migrate drain --dry-run exits 1 within the deadline, naming context, endpoint and step', async () => {
    const { value: r, ms } = await timed(() =>
      captureMain(
        migrate,
        ['drain', '--cluster', 'my-cluster', '--dry-run', '--request-timeout', REQUEST_TIMEOUT[endpoint.kind]],
        { FLEET_FILE: FLEET },
        { kube: { kubeconfig } },
      ),
    );
    expect(r.code).toBe(1);
    expect(ms).toBeLessThan(WITHIN_MS);
    expectNamed(r.stderr, endpoint, 'my-cluster', 'list nodes');
  });

  test('migrate remove-device-plugin --dry-run reads the cluster, and exits 1 within the deadline', async () => {
    const args = ['remove-device-plugin', '--cluster', 'my-cluster', '--dry-run', '--json', '--request-timeout', REQUEST_TIMEOUT[endpoint.kind]];
    const { value: r, ms } = await timed(() => captureMain(migrate, args, { FLEET_FILE: FLEET }, { kube: { kubeconfig } }));
    expect(r.code).toBe(1);
    expect(ms).toBeLessThan(WITHIN_MS);
    expectNamed(r.stderr, endpoint, 'my-cluster', 'read DaemonSet kube-system/nvidia-device-plugin-daemonset');
    expect(JSON.parse(r.stdout)).toMatchObject({ cluster: 'my-cluster', ok: false, error: expect.stringContaining(endpoint.server) });
  });

  test('cache report exits 1 within the deadline, naming context, endpoint and step', async () => {
    const args = ['report', '--cluster', 'my-cluster', '--request-timeout', REQUEST_TIMEOUT[endpoint.kind]];
    const { value: r, ms } = await timed(() => captureMain(cache, args, { FLEET_FILE: FLEET }, { kube: { kubeconfig } }));
    expect(r.code).toBe(1);
    expect(ms).toBeLessThan(WITHIN_MS);
    expectNamed(r.stderr, endpoint, 'my-cluster', /^cache report: list (NodeClaims|nodes|pods|events): /m);
  });

  test('debug-node exits 1 within the deadline before kubectl runs, at the context named like the cluster', async () => {
    const run = jest.fn();
    const args = ['ip-10-0-1-23.us-west-2.compute.internal', '--request-timeout', REQUEST_TIMEOUT[endpoint.kind]];
    const { value: r, ms } = await timed(() => captureMain(debugNode, args, { FLEET_FILE: FLEET }, { kube: { kubeconfig }, run }));
    expect(r.code).toBe(1);
    expect(ms).toBeLessThan(WITHIN_MS);
    expectNamed(r.stderr, endpoint, 'my-cluster', 'read node ip-10-0-1-23.us-west-2.compute.internal');
    expect(run).not.toHaveBeenCalled();
  });

  test('rollout status (its read path) fails within the deadline, naming context, endpoint and step', async () => {
    const fleet = fleetFrom(rolloutFleet());
    const aws = () => ({ getParameter: async () => undefined, sourceOf: async () => undefined }) as never;
    const kube = (c: string) => rolloutKube(c, { kubeconfig, requestTimeoutMs: REQUEST_TIMEOUT_MS[endpoint.kind] });
    const { value: e, ms } = await timed(() =>
      status(planRollout(fleet, 'general'), { aws, kube }).then(
        () => undefined,
        (x: unknown) => x,
      ),
    );
    expect(ms).toBeLessThan(WITHIN_MS);
    expect(e).toBeInstanceOf(KubeApiError);
    expectNamed((e as Error).message, endpoint, 'ml-train', 'list NodeClaims');
  });
});

/** SSM on loopback that knows no parameter (JSON protocol: the error type in x-amzn-errortype), so rollout status goes on to the cluster. */
async function emptySsm(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ParameterNotFound' });
      res.end(JSON.stringify({ __type: 'ParameterNotFound', message: 'no such parameter' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe.each([
  ['accepts connections and never answers', silentServer],
  ['refuses connections', refusingEndpoint],
])('rollout status, as the command, against an API server that %s', (_name, open) => {
  test('fails with exit code 1 within the deadline, naming context, endpoint and step', async () => {
    const endpoint = await open();
    const ssm = await emptySsm();
    try {
      const f = rolloutFleet();
      for (const c of Object.values<{ trustedCertificates?: unknown }>(f.clusters)) delete c.trustedCertificates;
      const dir = tempDir('rollout-deadline-');
      fs.writeFileSync(path.join(dir, 'fleet.yaml'), stringify(f));
      const env = {
        FLEET_FILE: path.join(dir, 'fleet.yaml'),
        KUBECONFIG: kubeconfigFor(endpoint.server, ['ml-train', 'payments-prod']),
        AWS_ENDPOINT_URL: ssm.url,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      };
      const { value: e, ms } = await timed(() =>
        captureMain(rollout, ['status', 'general', '--request-timeout', REQUEST_TIMEOUT[endpoint.kind]], env).then(
          () => undefined,
          (x: unknown) => x,
        ),
      );
      expect(ms).toBeLessThan(WITHIN_MS);
      expect(e).toBeInstanceOf(KubeApiError);
      expect(exitCodeFor(e)).toBe(1); // what runAsProcess exits with, after printing the message
      expectNamed((e as Error).message, endpoint, 'ml-train', 'list NodeClaims');
    } finally {
      await ssm.close();
      await endpoint.close();
    }
  });
});

describe('the deadlines themselves', () => {
  test('by default a call retries for 2 minutes at most, each request limited to 30 s', () => {
    const kc = kubeconfigFor('https://127.0.0.1:1', ['my-cluster']);
    expect(connectKube({ cluster: 'my-cluster' }, { kubeconfig: kc }).retry.policy).toEqual({ ...API_RETRY, giveUpAfterMs: MAX_TOTAL_MS });
    // A longer policy is capped all the same.
    const long = connectKube({ cluster: 'my-cluster' }, { kubeconfig: kc, requestTimeoutMs: 60_000, retry: { ...API_RETRY, giveUpAfterMs: 600_000 } });
    expect(long.retry.policy?.giveUpAfterMs).toBe(MAX_TOTAL_MS);
    // A short --request-timeout asks for a quick answer: 4 of them in all.
    expect(connectKube({ cluster: 'my-cluster' }, { kubeconfig: kc, requestTimeoutMs: 300 }).retry.policy?.giveUpAfterMs).toBe(1200);
  });

  test('never the current context: a missing context is refused with the command to create it', () => {
    const kc = kubeconfigFor('https://127.0.0.1:1', ['other']);
    expect(() => connectKube({ cluster: 'prod', region: 'eu-west-1' }, { kubeconfig: kc })).toThrow(
      'kubeconfig has no context "prod" (run: aws eks update-kubeconfig --name prod --region eu-west-1 --alias prod, or pass --context <context>)',
    );
  });

  test('a request that never settles is abandoned at its deadline even when the client ignores the abort signal', async () => {
    const { value: e, ms } = await timed(() =>
      withDeadline(() => new Promise(() => {}), { requestTimeoutMs: 200, connectTimeoutMs: 100 }).catch((x: unknown) => x),
    );
    expect(e).toBeInstanceOf(RequestTimeout);
    expect((e as Error).message).toBe('no answer within 200ms (request timeout)');
    expect(ms).toBeLessThan(2000);
  });
});
