/**
 * Deadlines for AWS (issue 27 items 2, 3 and 5): every command that reaches AWS, pointed (AWS_ENDPOINT_URL) at a
 * loopback socket that accepts connections and never answers, or at a port that refuses them, exits 1 within
 * its deadline, naming the step, the service and operation, the region and the endpoint.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { captureMain } from './helpers/capture';
import { DEFAULT_FLEET, PROJECT_ROOT } from './helpers/fleet';
import { emulatorEnv, refusedPort } from './helpers/real-tools';
import { main as cacheMain } from '../cli/cache/main';
import { main as deployMain } from '../cli/deploy/main';
import { main as rolloutMain } from '../cli/rollout/main';
import { main as migrateMain } from '../cli/migrate/main';
import { main as addonsMain } from '../cli/addons/main';
import { main as upgradeMain, upgradeArguments } from '../cli/upgrade/main';
import { awsClients, clientConfig, CONNECTION_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS, unreachableError } from '../cli/shared/aws-clients';
import { DEFAULT_REQUEST_TIMEOUT_MS, requestTimeoutMs } from '../cli/shared/request-timeout';
import { version } from '../package.json';

const STAGED = path.join(PROJECT_ROOT, 'examples', 'staged-rollout', 'fleet.yaml');

/** A TCP server on loopback that accepts every connection and never writes a byte. */
async function silentServer(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * 0.1 s per request against the silent endpoint: the tests assert the deadline's behaviour (exit 1, what is named,
 * attempts), not the default's value (that has its own test above), so the 10 commands do not wait out 0.9 s each.
 * The refusing endpoint keeps 0.3 s: its time is the SDK's backoff, not the limit, and the refusal must arrive
 * before the connect limit even on a starved machine.
 */
const SHORT = ['--request-timeout', '100ms'];
const REFUSED_LIMIT = ['--request-timeout', '300ms'];
/** 3 attempts of 0.1 s and the SDK's backoff (under 1 s): far below this, and far below the default's 90 s. */
const WITHIN_MS = 20_000;

async function timed<T>(fn: () => Promise<T>): Promise<{ r: T; ms: number }> {
  const started = Date.now();
  const r = await fn();
  return { r, ms: Date.now() - started };
}

describe('the AWS client factory', () => {
  test('every client gets the region, 3 adaptive attempts, timeouts that throw, and the tool in its user agent', () => {
    expect(clientConfig('eu-west-1')).toEqual({
      region: 'eu-west-1',
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      retryMode: 'adaptive',
      requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
      customUserAgent: [['bottlerocket-fleet', version]],
    });
  });

  test('the default deadline of one call (attempts × request timeout + backoff) is within 2 minutes', () => {
    // Backoff before retry i is at most 100 ms × 2^i (@smithy/core retry DEFAULT_RETRY_DELAY_BASE).
    const backoff = Array.from({ length: DEFAULT_MAX_ATTEMPTS - 1 }, (_, i) => 100 * 2 ** (i + 1)).reduce((a, b) => a + b, 0);
    expect(DEFAULT_MAX_ATTEMPTS * DEFAULT_REQUEST_TIMEOUT_MS + backoff).toBeLessThan(120_000);
  });

  test('a short request timeout also shortens the connect limit', () => {
    expect(clientConfig('us-west-2', { requestTimeoutMs: 1000 }).requestHandler.connectionTimeout).toBe(1000);
  });

  test('no region leaves it to the SDK (AWS_REGION, the profile)', () => {
    expect(clientConfig(undefined)).not.toHaveProperty('region');
  });

  test('one client per service and region', () => {
    const aws = awsClients();
    expect(aws.ssm('us-west-2')).toBe(aws.ssm('us-west-2'));
    expect(aws.ssm('us-east-1')).not.toBe(aws.ssm('us-west-2'));
  });

  test('an AWS error (the endpoint answered) is not an unreachable endpoint', () => {
    const answered = Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403, attempts: 1 } });
    expect(unreachableError(answered, { service: 'SSM', operation: 'GetParameter', region: 'us-west-2', requestTimeoutMs: 1000 })).toBeUndefined();
  });

  test('AWS_ENDPOINT_URL_<SERVICE> is honoured by the SDK itself, before AWS_ENDPOINT_URL', async () => {
    const silent = await silentServer();
    const saved = { ...process.env };
    Object.assign(process.env, emulatorEnv('http://127.0.0.1:9'), { AWS_ENDPOINT_URL_SSM: silent.endpoint });
    try {
      const call = awsClients({ requestTimeoutMs: 200, maxAttempts: 1 })
        .ssm('us-west-2')
        .send(new GetParameterCommand({ Name: '/x' }));
      await expect(call).rejects.toThrow(`SSM GetParameter in us-west-2 (endpoint ${silent.endpoint}) did not answer within 0.2 s (1 attempt)`);
    } finally {
      process.env = saved;
      await silent.close();
    }
  });
});

describe('the status line names a call that takes a while', () => {
  const recorder = () => {
    const seen: string[] = [];
    return { seen, progress: { step: (name: string, lane = '') => seen.push(`step ${lane}: ${name}`), end: (lane = '') => seen.push(`end ${lane}`) } };
  };

  test('a call still running after a second is shown until it ends', async () => {
    const silent = await silentServer();
    const saved = { ...process.env };
    Object.assign(process.env, emulatorEnv(silent.endpoint));
    const { seen, progress } = recorder();
    try {
      const call = awsClients({ requestTimeoutMs: 1500, maxAttempts: 1, progress })
        .ssm('us-west-2')
        .send(new GetParameterCommand({ Name: '/x' }));
      await expect(call).rejects.toThrow(/did not answer within 1.5 s/);
    } finally {
      process.env = saved;
      await silent.close();
    }
    expect(seen).toEqual([
      expect.stringMatching(/^step (aws call \d+): waiting for SSM GetParameter in us-west-2$/),
      expect.stringMatching(/^end aws call \d+$/),
    ]);
    expect(seen[1].slice(4)).toBe(seen[0].slice(5, seen[0].indexOf(':')));
  });

  test('a quick call never reaches it', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, emulatorEnv(`http://127.0.0.1:${await refusedPort()}`));
    const { seen, progress } = recorder();
    try {
      await expect(
        awsClients({ maxAttempts: 1, progress })
          .ssm('us-west-2')
          .send(new GetParameterCommand({ Name: '/x' })),
      ).rejects.toThrow(/connection refused/);
    } finally {
      process.env = saved;
    }
    expect(seen.filter((s) => s.startsWith('step'))).toEqual([]);
  });
});

describe('--request-timeout', () => {
  test.each([
    ['banana', /--request-timeout banana: "banana" is not a duration/],
    ['0s', /--request-timeout 0s: must be more than 0/],
  ])('%s is a usage error', (value, message) => {
    expect(() => requestTimeoutMs(value)).toThrow(message);
  });

  test('defaults to 30 s', () => {
    expect(requestTimeoutMs(undefined)).toBe(30_000);
    expect(requestTimeoutMs('30s')).toBe(30_000);
  });

  test.each([
    ['cache', ['list']],
    ['deploy', ['my-cluster-karpenter', '--dry-run']],
    ['rollout', ['status', 'general']],
    ['migrate', ['drain', '--cluster', 'my-cluster']],
    ['upgrade', ['plan']],
  ])('%s with a bad value exits 2 before reading the fleet file or calling AWS', async (command, args) => {
    const { main } = await import('../cli/main');
    // Every command's usage errors go through the shared parser (cli/shared/command-line.ts): exit 2, the message on stderr.
    const r = await captureMain(main, [command, ...args, '--request-timeout', 'soon'], {
      FLEET_FILE: '/nonexistent/fleet.yaml',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--request-timeout soon: "soon" is not a duration (e.g. 500ms, 30s, 5m, 1h30m)');
    expect(r.stderr).not.toMatch(/nonexistent|127\.0\.0\.1/);
  });

  test('upgrade refuses 0 as every command does (its parser once took any duration)', () => {
    expect(upgradeArguments({ context: [], 'request-timeout': '0s' }, ['plan'])).toEqual({
      problem: '--request-timeout 0s: must be more than 0 (e.g. 30s); every request has a deadline',
    });
    expect(upgradeArguments({ context: [], 'request-timeout': '7s' }, ['plan'])).toMatchObject({ requestTimeoutMs: 7000 });
  });

  test('cache report hands the parsed value to the Kubernetes access layer', async () => {
    const seen: unknown[] = [];
    const r = await captureMain(
      cacheMain,
      ['report', '--cluster', 'my-cluster', '--request-timeout', '7s'],
      { FLEET_FILE: DEFAULT_FLEET },
      {
        reportKube: (context: string, options: unknown) => {
          seen.push({ context, options });
          throw new Error('no cluster here');
        },
      },
    );
    expect(r.code).toBe(1);
    expect(seen).toEqual([{ context: 'my-cluster', options: { requestTimeoutMs: 7000 } }]);
  });

  test.each(['cache', 'deploy', 'rollout', 'migrate', 'debug-node', 'addons', 'upgrade'])('%s --help documents it', async (command) => {
    const { main } = await import('../cli/main');
    const r = await captureMain(main, [command, '--help']);
    expect(r.stdout).toMatch(/--request-timeout/);
  });
});

/** Each command that reaches AWS, with the endpoint given; `expected` is the start of what it must say. */
function commands(endpoint: string, kubeconfig: string, limit = SHORT) {
  const env = (fleet: string) => ({ ...emulatorEnv(endpoint), FLEET_FILE: fleet, KUBECONFIG: kubeconfig });
  return [
    { name: 'cache list', run: () => captureMain(cacheMain, ['list', ...limit], env(DEFAULT_FLEET)), says: /cache list: (SSM|EC2|STS) \w+ in us-west-2/ },
    { name: 'cache gc', run: () => captureMain(cacheMain, ['gc', '--dry-run', ...limit], env(DEFAULT_FLEET)), says: /cache gc: (SSM|EC2) \w+ in us-west-2/ },
    {
      name: 'cache build',
      run: () => captureMain(cacheMain, ['build', 'general', ...limit], env(DEFAULT_FLEET)),
      says: /(cache general: step "[^"]+" failed: (SSM|EC2) \w+|cache build: EKS DescribeCluster) in us-west-2/,
    },
    {
      name: 'deploy --dry-run',
      run: () => captureMain(deployMain, ['my-cluster-karpenter', '--dry-run', '--ignore-missing-stack-dependencies', ...limit], env(DEFAULT_FLEET)),
      says: /deploy preflight: SSM GetParameter in us-west-2/,
    },
    {
      name: 'rollout status',
      run: () => captureMain(rolloutMain, ['status', 'general', ...limit], env(STAGED)),
      says: /rollout status: SSM GetParameter in us-west-2/,
    },
    {
      name: 'rollout (preflight reads)',
      run: () => captureMain(rolloutMain, ['general', ...limit], env(STAGED)),
      says: /rollout: SSM GetParameter in us-west-2/,
    },
    {
      name: 'rollout --dry-run',
      run: () => captureMain(rolloutMain, ['general', '--dry-run', ...limit], env(STAGED)),
      says: /rollout: SSM GetParameter in us-west-2/,
    },
    {
      name: 'addons',
      run: () => captureMain(addonsMain, ['--cluster', 'my-cluster', ...limit], env(DEFAULT_FLEET)),
      says: /addons: EKS DescribeCluster in us-west-2/,
    },
    {
      name: 'upgrade plan',
      run: () => captureMain(upgradeMain, ['plan', ...limit], env(STAGED)),
      says: /upgrade plan: EKS \w+ in us-\w+-\d/,
    },
    {
      name: 'migrate drain (identity check)',
      run: () => captureMain(migrateMain, ['drain', '--cluster', 'my-cluster', ...limit], env(DEFAULT_FLEET)),
      says: /migrate: identity check: EKS DescribeCluster in us-west-2/,
    },
  ];
}

/** Runs a command to its exit code, a thrown error counting as exit 1 with its message (as runAsProcess does). */
async function exitOf(run: () => Promise<{ code: number; stdout: string; stderr: string }>) {
  try {
    return await run();
  } catch (e) {
    return { code: 1, stdout: '', stderr: `error: ${(e as Error).message}\n` };
  }
}

/** A kubeconfig whose context named like the cluster points somewhere (the identity check then asks EKS). */
function kubeconfigFile(dir: string): string {
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: my-cluster, cluster: {server: "https://127.0.0.1:9"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: my-cluster, context: {cluster: my-cluster, user: u}}]',
      'current-context: my-cluster',
      '',
    ].join('\n'),
  );
  return file;
}

describe('a command against an endpoint that never answers exits 1 in time, naming what it waited on', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let dir: string;
  beforeAll(async () => {
    silent = await silentServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brf-deadlines-'));
  });
  afterAll(async () => {
    await silent.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const names = commands('', '').map((c) => c.name);
  test.each(names)('%s', async (name) => {
    const c = commands(silent.endpoint, kubeconfigFile(dir)).find((x) => x.name === name)!;
    const { r, ms } = await timed(() => exitOf(c.run));
    expect(r.code).toBe(1);
    const said = r.stdout + r.stderr;
    expect(said).toMatch(c.says);
    expect(said).toContain(`(endpoint ${silent.endpoint}) did not answer within 0.1 s (3 attempts)`);
    expect(ms).toBeLessThan(WITHIN_MS);
  });
});

describe('a command against a port that refuses connections exits 1, naming the endpoint', () => {
  let refused: string;
  let dir: string;
  beforeAll(async () => {
    refused = `http://127.0.0.1:${await refusedPort()}`; // below the ephemeral range: nobody is handed it meanwhile
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brf-deadlines-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const names = commands('', '').map((c) => c.name);
  test.each(names)('%s', async (name) => {
    const c = commands(refused, kubeconfigFile(dir), REFUSED_LIMIT).find((x) => x.name === name)!;
    const { r, ms } = await timed(() => exitOf(c.run));
    expect(r.code).toBe(1);
    const said = r.stdout + r.stderr;
    expect(said).toMatch(c.says);
    expect(said).toContain(`(endpoint ${refused}) could not be reached (connection refused) (3 attempts)`);
    expect(ms).toBeLessThan(WITHIN_MS);
  });
});
