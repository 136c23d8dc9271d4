/**
 * Issue 28 (7): `--json` holds on the failing path of every command. `rollout status --json` and `rollout --dry-run
 * --json` printed nothing on stdout when they failed; every failure now prints exactly one JSON document on stdout
 * (and nothing else) with `ok: false`, the exit code and the message, while the message still goes to stderr.
 * In-process through the one command line (cli/main.ts); AWS is a loopback server that denies every call, and
 * Kubernetes and cdktf are fakes that fail.
 */
import * as http from 'http';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { main } from '../cli/main';
import { main as cache } from '../cli/cache/main';
import { main as deploy } from '../cli/deploy/main';
import { main as migrate } from '../cli/migrate/main';
import type { KubeApi } from '../cli/migrate/kube';
import { answering, commandOutput } from '../cli/shared/command-output';
import { captureMain, Captured } from './helpers/capture';
import { DEFAULT_FLEET, PROJECT_ROOT } from './helpers/fleet';

const STAGED = path.join(PROJECT_ROOT, 'examples', 'staged-rollout', 'fleet.yaml');

/** The one JSON document stdout must be (JSON.parse refuses a second document or any other text). */
function document(r: Captured): Record<string, unknown> {
  expect(r.stdout.endsWith('}\n') || r.stdout.endsWith(']\n')).toBe(true);
  return JSON.parse(r.stdout);
}

/** A failure as every command reports it under --json: the exit code in the document and the message on stderr too. */
function expectFailure(r: Captured, code: 1 | 2, message: RegExp): Record<string, unknown> {
  expect(r.code).toBe(code);
  const doc = document(r);
  expect(doc).toMatchObject({ ok: false, exitCode: code, error: expect.stringMatching(message) });
  expect(r.stderr).toMatch(message);
  return doc;
}

/**
 * An AWS endpoint that refuses every call as AWS does: JSON-protocol services (SSM) get an AccessDeniedException,
 * query-protocol ones (EC2, STS) an UnauthorizedOperation error document. Not retryable, so the SDK gives up at once.
 */
async function denyingAws(): Promise<{ env: NodeJS.ProcessEnv; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (String(req.headers['content-type']).includes('json')) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'AccessDeniedException' });
        res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'denied by the test' }));
      } else {
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end(
          '<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>denied by the test</Message></Error></Errors><RequestID>1</RequestID></Response>',
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    env: { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_MAX_ATTEMPTS: '1' },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('rollout', () => {
  let aws: Awaited<ReturnType<typeof denyingAws>>;
  beforeAll(async () => {
    aws = await denyingAws();
  });
  afterAll(() => aws.close());

  // The two the issue names: both printed nothing on stdout.
  test('regression: rollout status --json that AWS refuses is one failure document, exit 1', async () => {
    const r = await captureMain(main, ['rollout', 'status', 'general', '--json'], { ...aws.env, FLEET_FILE: STAGED });
    expectFailure(r, 1, /denied by the test/);
  });

  test('regression: rollout --dry-run --json that AWS refuses is one failure document naming the cache, exit 1', async () => {
    const r = await captureMain(main, ['rollout', 'general', '--dry-run', '--json'], { ...aws.env, FLEET_FILE: STAGED });
    expect(expectFailure(r, 1, /denied by the test/)).toMatchObject({ cache: 'general' });
  });

  test('--to banana is a usage error before the fleet file is read or AWS is called (exit 2), as text and as JSON', async () => {
    const env = { ...aws.env, FLEET_FILE: '/nonexistent/fleet.yaml' };
    const text = await captureMain(main, ['rollout', 'general', '--to', 'banana'], env);
    expect({ code: text.code, stdout: text.stdout }).toEqual({ code: 2, stdout: '' });
    expect(text.stderr).toMatch(/^--to banana: not an EBS snapshot ID \(expected snap- and 17 letters or digits, e\.g\. snap-0123456789abcdef0\)\n\nusage:/);
    expectFailure(await captureMain(main, ['rollout', 'general', '--to', 'banana', '--json'], env), 2, /--to banana: not an EBS snapshot ID/);
    // Both ID lengths AWS has issued pass the check (and then need a fleet file: exit 2 for the missing one, not for --to).
    for (const id of ['snap-1234abcd', 'snap-0123456789abcdef0']) {
      const r = await captureMain(main, ['rollout', 'general', '--to', id, '--json'], env);
      expect(expectFailure(r, 2, /nonexistent/).error).not.toMatch(/--to/);
    }
  });

  test('a bad --poll-interval is a usage error too (it failed only once the rollout ran)', async () => {
    const r = await captureMain(main, ['rollout', 'general', '--poll-interval', 'soon'], { FLEET_FILE: '/nonexistent/fleet.yaml' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^--poll-interval: "soon" is not a duration/);
  });

  test('a fleet without a rollout section is a fleet-file failure document, exit 2', async () => {
    const r = await captureMain(main, ['rollout', 'general', '--json'], { FLEET_FILE: DEFAULT_FLEET });
    expectFailure(r, 2, /has no rollout section/);
  });
});

describe('cache', () => {
  const denied = () => {
    throw Object.assign(new Error('denied by the test'), { name: 'AccessDeniedException' });
  };
  const run = (argv: string[], deps: Parameters<typeof cache>[1] extends infer D ? Omit<D & object, 'out' | 'err'> : never = {}) =>
    captureMain(cache, argv, { FLEET_FILE: DEFAULT_FLEET }, deps);

  test('list and gc that AWS refuses', async () => {
    expectFailure(await run(['list', '--json'], { clients: denied, accountId: async () => '123456789012' }), 1, /denied by the test/);
    expectFailure(await run(['gc', '--json'], { clients: denied }), 1, /denied by the test/);
  });

  test('a build that fails: one document with every cache and its error, exit 1', async () => {
    const r = await run(['build', 'general', 'gpu', '--json'], { buildClients: async () => denied(), runningVersion: async () => undefined });
    expect(r.code).toBe(1);
    expect(document(r)).toEqual([
      { ok: false, cache: 'general', error: 'denied by the test' },
      { ok: false, cache: 'gpu', error: 'denied by the test' },
    ]);
  });

  test('report: a cluster that cannot be read (1) and an unknown cluster (2)', async () => {
    const unreachable = () => {
      throw new Error('kubeconfig has no context "my-cluster"');
    };
    expect(expectFailure(await run(['report', '--cluster', 'my-cluster', '--json'], { reportKube: unreachable }), 1, /no context/)).toMatchObject({
      cluster: 'my-cluster',
    });
    expectFailure(await run(['report', '--cluster', 'nope', '--json']), 2, /unknown cluster "nope"/);
  });

  test('usage problems: an unknown cache, a typo in an option, a bad duration', async () => {
    expectFailure(await run(['build', 'nope', '--json']), 2, /unknown image cache\(s\): nope/);
    expectFailure(await run(['build', 'general', '--dryrun', '--json']), 2, /unknown option --dryrun \(did you mean --dry-run\?\)/);
    expectFailure(await run(['report', '--cluster', 'my-cluster', '--since', 'yesterday', '--json']), 2, /--since: "yesterday" is not a duration/);
  });

  test('a fleet file that cannot be read is a fleet-file failure document (2)', async () => {
    const r = await captureMain(cache, ['list', '--json'], { FLEET_FILE: '/nonexistent/fleet.yaml' });
    expectFailure(r, 2, /nonexistent/);
  });
});

describe('deploy', () => {
  test('an unknown stack (2) and a cdktf that fails (its exit code)', async () => {
    expectFailure(await captureMain(deploy, ['nope-stack', '--json'], { FLEET_FILE: DEFAULT_FLEET }), 2, /unknown stack\(s\): nope-stack/);
    const r = await captureMain(
      deploy,
      ['my-cluster-cluster', '--json'],
      { FLEET_FILE: DEFAULT_FLEET },
      { runCdktf: async () => 1, runningVersion: async () => undefined },
    );
    expect(r.code).toBe(1);
    expect(document(r)).toMatchObject({ ok: false, exitCode: 1, error: 'cdktf deploy exited 1', ran: true, stacks: ['my-cluster-cluster'] });
  });
});

describe('migrate', () => {
  const failing = (): KubeApi =>
    ({
      listNodes: async () => {
        throw new Error('the API server refused the connection');
      },
      deleteDaemonSet: async () => {
        throw new Error('the API server refused the connection');
      },
    }) as unknown as KubeApi;
  const run = (argv: string[]) =>
    captureMain(migrate, argv, { FLEET_FILE: DEFAULT_FLEET }, { api: failing, verifyCluster: async () => undefined, terminal: undefined });

  test('drain and remove-device-plugin that the cluster refuses (1); a cluster not in the fleet (2)', async () => {
    expectFailure(await run(['drain', '--cluster', 'my-cluster', '--dry-run', '--json']), 1, /refused the connection/);
    expectFailure(await run(['remove-device-plugin', '--cluster', 'my-cluster', '--json']), 1, /refused the connection/);
    expectFailure(await run(['drain', '--cluster', 'nope', '--json']), 2, /cluster "nope" is not in the fleet file/);
  });
});

describe('debug-node and the command line', () => {
  test('a node name that is not one, and an unknown option, under --json', async () => {
    expectFailure(await captureMain(main, ['debug-node', 'node; rm -rf /', '--json']), 2, /is not a node name/);
    expectFailure(await captureMain(main, ['debug-node', 'n1', '--json', '--contxt', 'x']), 2, /unknown option --contxt \(did you mean --context\?\)/);
  });

  test('an unknown command under --json', async () => {
    expectFailure(await captureMain(main, ['rolout', 'general', '--json']), 2, /unknown command "rolout" \(did you mean rollout\?\)/);
  });

  test('without --json a failure leaves stdout empty', async () => {
    const r = await captureMain(main, ['cache', 'build', 'nope'], { FLEET_FILE: DEFAULT_FLEET });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  });
});

describe('the shared output (cli/shared/command-output.ts)', () => {
  const io = () => {
    const o = { stdout: '', stderr: '', out: (t: string) => void (o.stdout += t), err: (t: string) => void (o.stderr += t) };
    return o;
  };

  test('one document at most: a second one is a bug in the command and throws', () => {
    const w = io();
    const output = commandOutput(w, true);
    output.result({ ok: true });
    expect(() => output.result({ ok: true })).toThrow(/second JSON document/);
    // A failure after the result still reaches stderr, and stdout keeps the one document.
    expect(output.fail(1, 'late', { label: 'error' })).toBe(1);
    expect(JSON.parse(w.stdout)).toEqual({ ok: true });
    expect(w.stderr).toBe('error: late\n');
  });

  test('without --json: no document, lines for a person on stdout, the failure on stderr', () => {
    const w = io();
    const output = commandOutput(w, false);
    output.result({ ignored: true });
    output.info('line\n');
    expect(output.fail(2, 'bad', { details: { x: 1 } })).toBe(2);
    expect(w).toMatchObject({ stdout: 'line\n', stderr: 'bad\n' });
  });

  test('answering: a thrown error is a failure document under --json, and propagates without', async () => {
    const json = io();
    expect(await answering(commandOutput(json, true), () => Promise.reject(new Error('boom')))).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, exitCode: 1, error: 'boom' });
    expect(json.stderr).toBe('error: boom\n');
    await expect(answering(commandOutput(io(), false), () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
