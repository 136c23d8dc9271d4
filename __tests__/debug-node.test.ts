import { debugNodeCommand, DEFAULT_ADMIN_IMAGE, shellQuote } from '../cli/debug-node/command';
import { main } from '../cli/debug-node/main';
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { FAKE_CLUSTER_CA, FakeKube } from './helpers/fake-kube';
import { captureMain } from './helpers/capture';
import { DEFAULT_FLEET, tempDir } from './helpers/fleet';
import { ClusterIdentityMismatch } from '../cli/shared/cluster-identity';

test('kubectl debug node/<node> with the Bottlerocket admin image and the sysadmin profile', () => {
  // A pinned release of the public admin image, never a moving tag.
  expect(DEFAULT_ADMIN_IMAGE).toMatch(/^public\.ecr\.aws\/bottlerocket\/bottlerocket-admin:v\d+\.\d+\.\d+$/);
  expect(debugNodeCommand({ node: 'ip-10-0-1-23.us-west-2.compute.internal' })).toEqual([
    'kubectl',
    'debug',
    'node/ip-10-0-1-23.us-west-2.compute.internal',
    '-it',
    '--profile=sysadmin',
    `--image=${DEFAULT_ADMIN_IMAGE}`,
  ]);
  expect(debugNodeCommand({ node: 'n1', image: 'my.registry/admin:1', context: 'prod' })).toEqual([
    'kubectl',
    '--context',
    'prod',
    'debug',
    'node/n1',
    '-it',
    '--profile=sysadmin',
    '--image=my.registry/admin:1',
  ]);
});

test('a node name that is not one is rejected before anything runs', () => {
  expect(() => debugNodeCommand({ node: 'node; rm -rf /' })).toThrow(/is not a node name/);
});

// In-process (the bin's process test is in cli-help.test.ts): `run` would start kubectl; --print must not call it.
test('--print shows the command without running it', async () => {
  let stdout = '';
  const run = jest.fn();
  expect(
    await main(['ip-10-0-1-23.ec2.internal', '--print'], {
      out: (t) => {
        stdout += t;
      },
      err: () => {},
      run,
    }),
  ).toBe(0);
  expect(run).not.toHaveBeenCalled();
  // Issue 27: never the kubeconfig's current context; the fleet file's only cluster names it (was: no --context at all).
  expect(stdout).toBe(`kubectl --context my-cluster debug node/ip-10-0-1-23.ec2.internal -it --profile=sysadmin --image=${DEFAULT_ADMIN_IMAGE}\n`);
  expect(shellQuote(['a b', "it's"])).toBe(`'a b' 'it'\\''s'`);
});

describe('debug-node reads the node through the Kubernetes access layer first', () => {
  let k: FakeKube;
  let kubeconfig: string;
  beforeEach(async () => {
    k = new FakeKube();
    k.addNode('ip-10-0-1-23.ec2.internal', 'Bottlerocket OS 1.50.0 (aws-k8s-1.31)');
    k.addNode('al2-a', 'Amazon Linux 2');
    const server = await k.start({ tls: true });
    // The current context is another cluster (a port nobody answers on): it must never be used.
    kubeconfig = path.join(tempDir('debug-node-'), 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'staging',
        clusters: [
          { name: 'my-cluster', cluster: { server, 'certificate-authority-data': FAKE_CLUSTER_CA } },
          { name: 'staging', cluster: { server: 'https://127.0.0.1:1', 'certificate-authority-data': FAKE_CLUSTER_CA } },
        ],
        users: [{ name: 'fake', user: { token: 'fake-token' } }],
        contexts: ['my-cluster', 'staging'].map((name) => ({ name, context: { cluster: name, user: 'fake' } })),
      }),
    );
  });
  afterEach(() => k.stop());

  const runDebug = (args: string[], extra: object = {}) => {
    const checked: string[] = [];
    const run = jest.fn(() => ({ status: 0 }));
    const verifyCluster = async (c: { name: string }, context: string) => void checked.push(`${c.name} via ${context}`);
    return captureMain(main, args, { FLEET_FILE: DEFAULT_FLEET }, { kube: { kubeconfig }, run, verifyCluster, ...extra }).then((r) => ({ ...r, run, checked }));
  };

  test('at the context named like the cluster (never the current one), checked against EKS, then kubectl runs there', async () => {
    const r = await runDebug(['ip-10-0-1-23.ec2.internal']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(k.calls).toEqual(['GET /api/v1/nodes/ip-10-0-1-23.ec2.internal']);
    expect(r.checked).toEqual(['my-cluster via my-cluster']);
    expect(r.run).toHaveBeenCalledWith(expect.arrayContaining(['--context', 'my-cluster', 'debug', 'node/ip-10-0-1-23.ec2.internal']));
  });

  test('a node the context does not have exits 1 without running kubectl', async () => {
    const r = await runDebug(['ip-10-9-9-9.ec2.internal']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('debug-node: node ip-10-9-9-9.ec2.internal does not exist at kubeconfig context "my-cluster" (kubectl get nodes lists them)\n');
    expect(r.run).not.toHaveBeenCalled();
  });

  test('a context that is not the cluster (EKS says otherwise) is refused before kubectl creates its pod', async () => {
    const verifyCluster = async () => {
      throw new ClusterIdentityMismatch('my-cluster', 'my-cluster', "its server is https://a, but EKS reports the cluster's endpoint as https://b");
    };
    const r = await runDebug(['ip-10-0-1-23.ec2.internal'], { verifyCluster });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^refused: kubeconfig context "my-cluster" is not cluster my-cluster/);
    expect(r.run).not.toHaveBeenCalled();
  });

  test('a node that is not Bottlerocket is named in a warning', async () => {
    const r = await runDebug(['al2-a']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: node al2-a runs "Amazon Linux 2", not Bottlerocket');
  });

  test('an unknown --cluster is a usage error, before any call', async () => {
    const r = await runDebug(['al2-a', '--cluster', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cluster "nope" is not in the fleet file \(known: my-cluster\)/);
    expect(k.calls).toEqual([]);
  });
});

test('--request-timeout is passed to kubectl as its own, and only when given', async () => {
  let stdout = '';
  const io = { out: (t: string) => void (stdout += t), err: () => {}, run: jest.fn() };
  expect(await main(['n1', '--print', '--request-timeout', '45s'], io)).toBe(0);
  expect(stdout).toBe(`kubectl --context my-cluster --request-timeout=45s debug node/n1 -it --profile=sysadmin --image=${DEFAULT_ADMIN_IMAGE}\n`);
  expect(debugNodeCommand({ node: 'n1' })).not.toContainEqual(expect.stringMatching(/request-timeout/));
});

test.each(['0s', 'soon'])('--request-timeout %s is a usage error (exit 2) and nothing runs', async (value) => {
  let stderr = '';
  const run = jest.fn();
  expect(await main(['n1', '--request-timeout', value], { out: () => {}, err: (t) => void (stderr += t), run })).toBe(2);
  expect(stderr).toMatch(new RegExp(`--request-timeout ${value}: `));
  expect(run).not.toHaveBeenCalled();
});
