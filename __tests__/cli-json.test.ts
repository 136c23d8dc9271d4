/**
 * --json on every command that prints a result, dry runs included: stdout holds one JSON document and
 * nothing else (progress lines go to stderr). In-process, through each command's main(argv, deps) with
 * fakes for AWS and Kubernetes. rollout's --json (dry run, status) is covered in real-tools/rollout-scenarios.test.ts (its last block)
 * against the AWS emulator.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeInstancesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { main as cache, CacheDeps } from '../cli/cache/main';
import { main as migrate } from '../cli/migrate/main';
import { main as debugNode } from '../cli/debug-node/main';
import { DEFAULT_ADMIN_IMAGE } from '../cli/debug-node/command';
import type { KubeApi, NodeInfo } from '../cli/migrate/kube';
import type { Terminal } from '../cli/shared/progress';
import { FakeAws } from './helpers/fake-aws';
import { DEFAULT_FLEET } from './helpers/fleet';

beforeAll(() => {
  process.env.FLEET_FILE = DEFAULT_FLEET;
});
afterAll(() => {
  delete process.env.FLEET_FILE;
});

function capture() {
  const o = {
    stdout: '',
    stderr: '',
    out: (t: string) => {
      o.stdout += t;
    },
    err: (t: string) => {
      o.stderr += t;
    },
  };
  return o;
}

const noAws = () => {
  throw new Error('no AWS client may be constructed');
};

describe('cache', () => {
  // Issue 12, first run: `npm run cache -- build general --dry-run --json` printed the text dry run.
  test('regression: build --dry-run --json prints the planned calls as JSON and makes no AWS call', async () => {
    const io = capture();
    expect(await cache(['build', 'general', '--dry-run', '--json'], { ...io, clients: noAws, buildClients: noAws })).toBe(0);
    const result = JSON.parse(io.stdout);
    expect(result).toMatchObject({
      dryRun: true,
      caches: [
        {
          cache: 'general',
          variant: 'cpu',
          arch: 'x86_64',
          homeRegion: 'us-west-2',
          images: [{ image: 'public.ecr.aws/docker/library/nginx:1.27', names: expect.arrayContaining(['public.ecr.aws/docker/library/nginx@<digest>']) }],
        },
      ],
    });
    expect(result.caches[0].calls.map((c: { api: string }) => c.api)).toEqual([
      'ssm:GetParameter',
      'ssm:GetParameters',
      'ec2:RunInstances',
      'ssm:DescribeInstanceInformation',
      'ssm:SendCommand', // stop kubelet
      'ssm:SendCommand', // pull
      'ssm:SendCommand', // the image's other names
      'ssm:SendCommand', // look every name up
      'ssm:SendCommand', // kernel release and fill
      'ssm:SendCommand', // remove the builder state
      'ssm:SendCommand', // check it is gone
      'ec2:StopInstances',
      'ec2:CreateSnapshot',
      'ssm:PutParameter', // manifest, us-west-2
      'ssm:PutParameter', // manifest, us-east-1
      'ssm:PutParameter',
      'ssm:PutParameter',
      'ec2:TerminateInstances',
    ]);
    // The Run Commands' scripts are part of the plan.
    expect(result.caches[0].calls[4].commands).toEqual(['set -euo pipefail', 'apiclient exec admin nsenter -t 1 -a systemctl stop kubelet.service']);
    expect(io.stderr).toBe('');
  });

  test('build --dry-run without --json stays text', async () => {
    const io = capture();
    await cache(['build', 'general', '--dry-run'], { ...io, buildClients: noAws });
    expect(io.stdout).toMatch(/^dry run: no AWS call is made\ncache general /);
  });

  /** EC2 and SSM of a region: the general cache's parameter and history, no snapshot or builder to collect. */
  const regionClients = () => {
    const ec2 = new EC2Client({ region: 'us-west-2' });
    const ssm = new SSMClient({ region: 'us-west-2' });
    mockClient(ssm)
      .on(GetParameterCommand)
      .callsFake((i) => {
        if (i.Name.endsWith('-history')) return { Parameter: { Value: '["snap-new","snap-old"]' } };
        return { Parameter: { Value: 'snap-new' } };
      });
    mockClient(ec2).on(DescribeSnapshotsCommand).resolves({ Snapshots: [] }).on(DescribeInstancesCommand).resolves({ Reservations: [] });
    return { ec2, ssm };
  };

  test('list --json', async () => {
    const io = capture();
    expect(await cache(['list', 'general', '--json'], { ...io, clients: regionClients, accountId: async () => '123456789012' })).toBe(0);
    // No snapshot exists in these regions: each row says so (the provenance check, issue 21).
    expect(JSON.parse(io.stdout)).toEqual([
      { cache: 'general', region: 'us-west-2', current: 'snap-new', previous: 'snap-old', untrusted: 'does not exist in us-west-2' },
      { cache: 'general', region: 'us-east-1', current: 'snap-new', untrusted: 'does not exist in us-east-1' },
    ]);
  });

  // Issue 28 (9): the text rows had no header, and rows without a manifest had fewer columns than the others.
  test('list without --json: a header row, then one row per cache and region in the same columns', async () => {
    const io = capture();
    expect(await cache(['list', 'general'], { ...io, clients: regionClients, accountId: async () => '123456789012' })).toBe(0);
    const [header, ...rows] = io.stdout.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual([
      'CACHE',
      'REGION',
      'CURRENT',
      'PREVIOUS',
      'RELEASE',
      'KERNEL',
      'FILL',
      'IMAGES',
      'OWNER',
      'BUILD ID',
      'IN HISTORY',
      'PROBLEM',
    ]);
    expect(rows.map((r) => r.split(/\s{2,}/).slice(0, 4))).toEqual([
      ['general', 'us-west-2', 'snap-new', 'snap-old'],
      ['general', 'us-east-1', 'snap-new', '-'],
    ]);
    expect(rows[0].indexOf('snap-new')).toBe(header.indexOf('CURRENT'));
    expect(rows[1]).toMatch(/untrusted: does not exist in us-east-1$/);
  });

  test('gc without --json says when there is nothing to collect', async () => {
    const io = capture();
    expect(await cache(['gc', '--dry-run'], { ...io, clients: regionClients })).toBe(0);
    expect(io.stdout).toBe('nothing to collect\ndry run: nothing was terminated or deleted\n');
  });

  // The dry run's closing remark once followed the JSON on stdout, so `gc --dry-run --json` did not parse.
  test('gc --dry-run --json: stdout is the JSON alone, the dry-run remark goes to stderr', async () => {
    const io = capture();
    expect(await cache(['gc', '--dry-run', '--json'], { ...io, clients: regionClients })).toBe(0);
    expect(JSON.parse(io.stdout)).toEqual([]);
    expect(io.stderr).toBe('dry run: nothing was terminated or deleted\n');
  });

  /** A build against the stateful EC2/SSM fake on a virtual clock, as cache-builder.test.ts does. */
  function fakeBuild(terminal?: Terminal): CacheDeps & { stdout: string; stderr: string } {
    const aws = new FakeAws();
    aws.params.set('/bottlerocket-fleet/image-cache/general/snapshot-id', 'snap-previous0000');
    let clock = 0;
    const io = capture();
    return Object.assign(io, {
      terminal,
      buildClients: async () => ({ ec2: aws.ec2, ssm: aws.ssm, ssmIn: () => aws.ssm, ecr: aws.ecr }),
      runningVersion: async () => undefined, // no such EKS cluster yet (issue 30: the build version reads it)
      buildOptions: {
        now: () => clock,
        sleep: async (ms: number) => {
          clock += ms;
        },
      },
    });
  }

  test('build --json: the summary on stdout, the step lines on stderr', async () => {
    const deps = fakeBuild();
    expect(await cache(['build', 'general', '--json'], deps)).toBe(0);
    expect(JSON.parse(deps.stdout)).toEqual([
      expect.objectContaining({ ok: true, cache: 'general', snapshotId: expect.stringMatching(/^snap-/), previousSnapshotId: 'snap-previous0000' }),
    ]);
    expect(deps.stderr).toMatch(/^\[general\] read the Bottlerocket AMI \(\+0s\)$/m);
  });

  test('build on a terminal: the status line shows each step of the build; without a terminal nothing is drawn', async () => {
    const screen: string[] = [];
    const deps = fakeBuild({
      isTTY: true,
      columns: 200,
      write: (t: string) => {
        screen.push(t);
      },
    });
    expect(await cache(['build', 'general'], deps)).toBe(0);
    const drawn = screen.join('');
    expect(drawn).toMatch(/… general: read the Bottlerocket AMI \d+s \(total \d+s\)/);
    for (const step of ['launch the builder instance', 'wait until the snapshot is completed', 'cleanup: terminate'])
      expect(drawn).toContain(`general: ${step}`);
    expect(drawn.endsWith('\r\x1b[2K')).toBe(true); // erased at the end
    expect(deps.stdout).not.toContain('\x1b');

    const piped: string[] = [];
    const plain = fakeBuild({
      isTTY: false,
      write: (t: string) => {
        piped.push(t);
      },
    });
    expect(await cache(['build', 'general'], plain)).toBe(0);
    expect(piped).toEqual([]);
    expect(plain.stdout).toMatch(/^OK {3}general: snap-/m);
  });
});

describe('migrate', () => {
  const node = (name: string, osImage: string): NodeInfo => ({ name, osImage, unschedulable: false, annotations: {}, labels: {} });
  /** A cluster with two old nodes and one Bottlerocket node, no pods; only what the dry runs read. */
  const api = (): KubeApi & { deleted: string[] } => {
    const deleted: string[] = [];
    return {
      deleted,
      listNodes: async () => [node('al2-a', 'Amazon Linux 2'), node('al2-b', 'Amazon Linux 2'), node('br-1', 'Bottlerocket OS 1.50.0 (aws-k8s-1.31)')],
      listPods: async () => [],
      deleteDaemonSet: async (ns, name) => {
        deleted.push(`${ns}/${name}`);
        return true;
      },
      patchNode: async () => {
        throw new Error('a dry run must not patch');
      },
      evictPod: async () => {
        throw new Error('a dry run must not evict');
      },
      getPod: async () => undefined,
      readDaemonSet: async () => ({ desired: 2 }),
      replicaSetOwner: async () => undefined,
      workloadStatus: async () => ({ desired: 0, available: 0 }),
    };
  };

  test('drain --dry-run --json: the planned batches as JSON, the lines on stderr', async () => {
    const io = capture();
    expect(await migrate(['drain', '--cluster', 'my-cluster', '--batch-size', '1', '--dry-run', '--json'], { ...io, api })).toBe(0);
    expect(JSON.parse(io.stdout)).toEqual({ cluster: 'my-cluster', dryRun: true, batches: [['al2-a'], ['al2-b']], ok: true, drained: [], blockers: [] });
    expect(io.stderr).toContain('dry run: nothing changed');
  });

  test('remove-device-plugin --json, dry run and real', async () => {
    const dry = capture();
    const k = api();
    expect(await migrate(['remove-device-plugin', '--cluster', 'my-cluster', '--dry-run', '--json'], { ...dry, api: () => k })).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({
      cluster: 'my-cluster',
      daemonSet: { namespace: 'kube-system', name: 'nvidia-device-plugin-daemonset' },
      dryRun: true,
      deleted: false,
      exists: true,
    });
    expect(k.deleted).toEqual([]);
    const real = capture();
    const checked: string[] = [];
    const verifyCluster = async (c: { name: string }, context: string) => void checked.push(`${c.name} via ${context}`);
    expect(await migrate(['remove-device-plugin', '--cluster', 'my-cluster', '--json'], { ...real, api: () => k, verifyCluster })).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, deleted: true });
    expect(k.deleted).toEqual(['kube-system/nvidia-device-plugin-daemonset']);
    expect(checked).toEqual(['my-cluster via my-cluster']);
  });

  test('a refused cluster identity is JSON too, and deletes nothing', async () => {
    const refused = capture();
    const k = api();
    const { ClusterIdentityMismatch } = await import('../cli/shared/cluster-identity');
    const verifyCluster = async () => {
      throw new ClusterIdentityMismatch('my-cluster', 'my-cluster', "its server is https://a, but EKS reports the cluster's endpoint as https://b");
    };
    expect(await migrate(['remove-device-plugin', '--cluster', 'my-cluster', '--json'], { ...refused, api: () => k, verifyCluster })).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      cluster: 'my-cluster',
      context: 'my-cluster',
      ok: false,
      refused: expect.stringContaining('https://b'),
    });
    expect(k.deleted).toEqual([]);
  });
});

describe('debug-node', () => {
  test('--json prints the kubectl argv instead of running it', async () => {
    const io = capture();
    const run = jest.fn();
    expect(await debugNode(['ip-10-0-1-23.ec2.internal', '--json', '--context', 'prod'], { ...io, run })).toBe(0);
    expect(JSON.parse(io.stdout)).toEqual({
      argv: ['kubectl', '--context', 'prod', 'debug', 'node/ip-10-0-1-23.ec2.internal', '-it', '--profile=sysadmin', `--image=${DEFAULT_ADMIN_IMAGE}`],
    });
    expect(run).not.toHaveBeenCalled();
  });

  test('without --print or --json it runs kubectl and exits with its code; 127 when kubectl cannot run', async () => {
    const io = Object.assign(capture(), {
      readNode: async () => ({ name: 'n1', osImage: 'Bottlerocket OS 1.50.0 (aws-k8s-1.31)' }),
      verifyCluster: async () => {},
    });
    expect(await debugNode(['n1'], { ...io, run: () => ({ status: 3 }) })).toBe(3);
    expect(await debugNode(['n1'], { ...io, run: () => ({ status: null, error: new Error('spawnSync kubectl ENOENT') }) })).toBe(127);
    expect(io.stderr).toBe('could not run kubectl: spawnSync kubectl ENOENT\n');
  });
});
