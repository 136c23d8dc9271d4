import { buildCache, BuildError } from '../cli/cache/builder';
import { main } from '../cli/cache/main';
import { amiParameterPath, dryRunLines, ecrRegions, pullCommands } from '../cli/cache/plan';
import { loadFleet } from '../modules/fleet/load';
import { FakeAws, Faults } from './helpers/fake-aws';
import { DEFAULT_FLEET, fleetFrom, validFleet } from './helpers/fleet';

const general = loadFleet(DEFAULT_FLEET).imageCaches.find((c) => c.name === 'general')!;
const PARAM = '/bottlerocket-fleet/image-cache/general/snapshot-id';
const HISTORY = `${PARAM}-history`;

function setup(faults: Faults = {}, signal?: AbortSignal) {
  const aws = new FakeAws(faults);
  aws.params.set(PARAM, 'snap-previous0000');
  aws.params.set(HISTORY, JSON.stringify(['snap-previous0000']));
  const lines: string[] = [];
  let clock = 0;
  const deps = {
    ec2: aws.ec2,
    ssm: aws.ssm,
    ecr: aws.ecr,
    log: (l: string) => lines.push(l),
    now: () => clock,
    sleep: async (ms: number, s?: AbortSignal) => {
      s?.throwIfAborted();
      clock += ms;
    },
    signal,
  };
  return { aws, deps, lines, paramsBefore: new Map(aws.params) };
}

describe('building an image cache against a stateful fake of EC2 and SSM', () => {
  test('happy path: launch, pull, verify, stop, snapshot, write the parameter and history, terminate', async () => {
    const { aws, deps, lines } = setup();
    const result = await buildCache(deps, general);
    expect(result.snapshotId).toMatch(/^snap-/);
    expect(result.previousSnapshotId).toBe('snap-previous0000');
    expect(aws.params.get(PARAM)).toBe(result.snapshotId);
    expect(JSON.parse(aws.params.get(HISTORY)!)).toEqual([result.snapshotId, 'snap-previous0000']);
    expect(aws.instanceStates()).toEqual(['terminated']);
    expect(aws.snapshots.get(result.snapshotId)!.state).toBe('completed');
    const launch = [...aws.instances.values()][0].input;
    expect(launch).toMatchObject({
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 'm6i.large',
      ClientToken: result.buildId,
      MetadataOptions: { HttpTokens: 'required' },
      NetworkInterfaces: [{ AssociatePublicIpAddress: false, SubnetId: 'subnet-0a', Groups: ['sg-0123456789abcdef0'] }],
    });
    expect(launch.BlockDeviceMappings[1]).toEqual({
      DeviceName: '/dev/xvdb',
      Ebs: { VolumeSize: 100, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
    });
    expect(launch.TagSpecifications[0].Tags).toEqual(
      expect.arrayContaining([
        { Key: 'bottlerocket-fleet:cache', Value: 'general' },
        { Key: 'bottlerocket-fleet:build-id', Value: result.buildId },
      ]),
    );
    expect(aws.snapshots.get(result.snapshotId)!.tags).toEqual(
      expect.arrayContaining([
        { Key: 'bottlerocket-fleet:image-0', Value: expect.stringMatching(/^public\.ecr\.aws\/docker\/library\/nginx:1\.27@sha256:[0-9a-f]{64}$/) },
      ]),
    );
    expect(lines.some((l) => /pull image 1\/1: public.ecr.aws\/docker\/library\/nginx:1.27 \(\+\d+s\)/.test(l))).toBe(true);
    expect(aws.calls.indexOf('ssm:PutParameter')).toBeGreaterThan(aws.calls.lastIndexOf('ec2:DescribeSnapshots'));
  });

  async function expectFailure(faults: Faults, step: RegExp, message: RegExp, signal?: AbortSignal, abortWith?: AbortController) {
    const { aws, deps, paramsBefore } = setup(faults, signal);
    if (abortWith) faults.onSendCommand = () => abortWith.abort(new Error('interrupted'));
    const err = await buildCache(deps, general).catch((e) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect(err.step).toMatch(step);
    expect(err.message).toMatch(message);
    expect(aws.instanceStates()).toEqual(['terminated']); // the instance never leaks
    expect(aws.params).toEqual(paramsBefore); // no parameter changed
    return aws;
  }

  test('instance never online in SSM', async () => {
    await expectFailure({ neverOnline: true }, /online in SSM/, /not done after 600s/);
  });

  test('a pull failing shows the Run Command output', async () => {
    await expectFailure(
      { pullFails: 'public.ecr.aws/docker/library/nginx:1.27' },
      /pull image 1\/1/,
      /ended Failed; output:\n.*failed to resolve reference "public.ecr.aws\/docker\/library\/nginx:1.27": .*not found/s,
    );
  });

  test('a snapshot in error state fails the build (the SDK waiter would not) and the snapshot is deleted', async () => {
    const aws = await expectFailure({ snapshotError: true }, /snapshot is completed/, /is in error state/);
    expect(aws.snapshots.size).toBe(0);
  });

  test('throttling is retried with backoff, and the launch stays idempotent', async () => {
    const { aws, deps } = setup({ throttleRunInstances: 3 });
    const result = await buildCache(deps, general);
    expect(aws.calls.filter((c) => c === 'ec2:RunInstances')).toHaveLength(4);
    expect(aws.instances.size).toBe(1);
    expect(aws.params.get(PARAM)).toBe(result.snapshotId);
  });

  test('a private ECR image: a token from its own region, fresh for each pull, kept out of the log', async () => {
    const image = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:1';
    const f = validFleet();
    f.imageCaches.general.images = ['public.ecr.aws/docker/library/nginx:1.27', image, `${image.replace(':1', ':2')}`];
    const cache = fleetFrom(f).imageCaches.find((c) => c.name === 'general')!;
    expect(ecrRegions(cache)).toEqual(['eu-west-1']);
    expect(dryRunLines(cache).some((l) => /ecr:GetAuthorizationToken\s+region eu-west-1/.test(l))).toBe(true);
    const { aws, deps, lines } = setup();
    const result = await buildCache(deps, cache);
    expect(aws.ecrTokenRegions).toEqual(['eu-west-1', 'eu-west-1']); // one per private image, none for the public one
    const pull = [...aws.commands.values()].find((c) => c.commands.join('\n').includes(`'${image}'`))!;
    expect(pull.commands.join('\n')).toContain("--user 'AWS:secret-eu-west-1'");
    expect(lines.join('\n')).not.toContain('secret-eu-west-1');
    expect(JSON.stringify(result)).not.toContain('secret-eu-west-1');
    expect(aws.calls.indexOf('ecr:GetAuthorizationToken')).toBeGreaterThan(aws.calls.indexOf('ssm:DescribeInstanceInformation'));
  });

  test('interruption (Ctrl-C) mid-run terminates the instance and changes nothing', async () => {
    const controller = new AbortController();
    await expectFailure({}, /pull image/, /interrupted/, controller.signal, controller);
  });

  test('a missing builder configuration names the stack to deploy, before any instance exists', async () => {
    const { aws, deps } = setup();
    aws.params.delete('/bottlerocket-fleet/builder/subnet-ids');
    await expect(buildCache(deps, general)).rejects.toThrow(/deploy the image-cache-builder-us-west-2 stack first/);
    expect(aws.instances.size).toBe(0);
  });
});

describe('what a build does, offline', () => {
  test('the AMI comes from the public Bottlerocket parameter for the version, variant and architecture', () => {
    expect(amiParameterPath(general)).toBe('/aws/service/bottlerocket/aws-k8s-1.35/x86_64/latest/image_id');
    const f = validFleet();
    Object.assign(f.imageCaches.gpu, { arch: 'arm64' });
    f.clusters['my-cluster'].karpenter.nodePools.gpu.arch = ['arm64'];
    expect(amiParameterPath(fleetFrom(f).imageCaches.find((c) => c.name === 'gpu')!)).toBe(
      '/aws/service/bottlerocket/aws-k8s-1.35-nvidia/arm64/latest/image_id',
    );
  });

  test('images are pulled into k8s.io, managed and pinned, for the cache platform', () => {
    const pub = pullCommands('public.ecr.aws/docker/library/nginx:1.27', general).join('\n');
    expect(pub).toContain(
      "ctr -n k8s.io images pull --platform linux/amd64 --label io.cri-containerd.image=managed --label io.cri-containerd.pinned=pinned 'public.ecr.aws/docker/library/nginx:1.27'",
    );
    expect(pub).not.toContain('--user');
  });

  // Regression: the commands once ran `aws ecr get-login-password` on the instance, but no container on a
  // Bottlerocket host (host, control, admin) ships the AWS CLI, so every private ECR pull would have failed.
  test('private ECR images authenticate with credentials from the builder, never with an AWS CLI on the instance', () => {
    const image = '111122223333.dkr.ecr.us-west-2.amazonaws.com/team/app:1';
    const ecr = pullCommands(image, general, 'AWS:tok3n').join('\n');
    expect(ecr).not.toMatch(/\baws ecr\b/);
    expect(ecr).toContain(`--user 'AWS:tok3n' '${image}'`); // auth before the reference (containerd 2.x)
    expect(() => pullCommands(image, general)).toThrow(/private ECR image: pass the registry credentials/);
  });
  test('`npm run cache -- build general --dry-run` prints every planned call and makes none', async () => {
    expect(dryRunLines(general).map((l) => l.trim().split(/\s+/)[0])).toEqual([
      'cache',
      'ssm:GetParameter',
      'ssm:GetParameters',
      'ec2:RunInstances',
      'ssm:DescribeInstanceInformation',
      'ssm:SendCommand', // the pull
      'ssm:SendCommand', // its other names
      'ssm:SendCommand', // the lookup of every name
      'ec2:StopInstances',
      'ec2:CreateSnapshot',
      'ssm:PutParameter',
      'ssm:PutParameter',
      'ec2:TerminateInstances',
      'names', // then per image, per region, every name a pod may use
      'public.ecr.aws/docker/library/nginx:1.27',
      'us-west-2',
      'us-east-1',
    ]);
    // In-process; any AWS client asked for fails the command (the bin's process test, cli-help.test.ts, runs it with no credentials).
    let out = '';
    const noAws = () => {
      throw new Error('no AWS client may be constructed');
    };
    const saved = process.env.FLEET_FILE;
    process.env.FLEET_FILE = DEFAULT_FLEET;
    try {
      expect(
        await main(['build', 'general', '--dry-run'], {
          out: (t) => {
            out += t;
          },
          err: () => {},
          clients: noAws,
          buildClients: noAws,
        }),
      ).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.FLEET_FILE;
      else process.env.FLEET_FILE = saved;
    }
    expect(out).toContain('dry run: no AWS call is made');
    expect(out).toMatch(/ec2:RunInstances\s+m6i.large, IMDSv2 required, no public IP, \/dev\/xvdb 100 GiB/);
    expect(out).toContain('/aws/service/bottlerocket/aws-k8s-1.35/x86_64/latest/image_id');
  });
});

// Issue 8, "tests that cannot see what they claim": each test below fails when the safeguard it names is
// removed from the builder (checked by applying the mutation).
describe("the builder's safeguards, each seen by a targeted test", () => {
  test('the builder instance requires IMDSv2 with a hop limit of 2 (containerized pulls need the second hop)', async () => {
    const { aws, deps } = setup();
    await buildCache(deps, general);
    expect([...aws.instances.values()][0].input.MetadataOptions).toEqual({ HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 2 });
  });

  test('the data volume is snapshotted only once the instance is stopped', async () => {
    const { aws, deps } = setup();
    const result = await buildCache(deps, general);
    const [instanceId] = aws.instances.keys();
    expect(aws.snapshots.get(result.snapshotId)).toMatchObject({ volumeId: `vol-data-${instanceId}`, instanceState: 'stopped' });
    expect(aws.calls.indexOf('ec2:StopInstances')).toBeGreaterThan(-1);
    expect(aws.calls.indexOf('ec2:StopInstances')).toBeLessThan(aws.calls.indexOf('ec2:CreateSnapshot'));
  });

  test('an image missing at verification fails the build before any snapshot', async () => {
    const image = general.images[0];
    const { aws, deps, paramsBefore } = setup({ vanish: image });
    const err = await buildCache(deps, general).catch((e) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect(err.step).toBe('verify every name is on the data volume');
    expect(err.message).toContain(`not on the data volume: ${image}`);
    expect(aws.calls).not.toContain('ec2:CreateSnapshot');
    expect(aws.params).toEqual(paramsBefore);
  });

  test('a failure after the parameter was written restores the previous snapshot ID (never deletes the parameter) and deletes the new snapshot', async () => {
    const { aws, deps, paramsBefore } = setup({ putParameterFails: HISTORY });
    const err = await buildCache(deps, general).catch((e) => e);
    expect(err.step).toBe('write the snapshot ID to SSM');
    expect(aws.calls.filter((c) => c === 'ssm:PutParameter')).toHaveLength(3); // new value, history (fails), previous value back
    expect(aws.calls).not.toContain('ssm:DeleteParameter');
    expect(aws.params).toEqual(paramsBefore);
    expect(aws.snapshots.size).toBe(0);
    expect(aws.instanceStates()).toEqual(['terminated']);
  });
});
