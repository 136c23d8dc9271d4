import { createHash } from 'crypto';
import { buildCache, BuildError } from '../cli/cache/builder';
import { decodeManifest, encodeManifest, readManifest } from '../cli/cache/manifest';
import { listCaches } from '../cli/cache/inventory';
import { CACHE_TAG, SOURCE_SNAPSHOT_TAG } from '../modules/image-cache/parameters';
import { main } from '../cli/cache/main';
import { amiParameterPath, dryRunLines, ecrRegions, pullCommands, verifyProblems } from '../cli/cache/plan';
import { loadFleet } from '../modules/fleet/load';
import { FakeAws, Faults } from './helpers/fake-aws';
import { contentDigest } from './helpers/ssm-agent-proxy';
import { DEFAULT_FLEET, fleetFrom, validFleet } from './helpers/fleet';

const general = loadFleet(DEFAULT_FLEET).imageCaches.find((c) => c.name === 'general')!;
const PARAM = '/bottlerocket-fleet/image-cache/general/snapshot-id';
const HISTORY = `${PARAM}-history`;

function setup(faults: Faults = {}, signal?: AbortSignal) {
  const aws = new FakeAws(faults);
  const replica = new FakeAws(); // us-east-1, which holds a copy: the manifest is written there too
  aws.params.set(PARAM, 'snap-previous0000');
  aws.params.set(HISTORY, JSON.stringify(['snap-previous0000']));
  const lines: string[] = [];
  let clock = 0;
  const deps = {
    ec2: aws.ec2,
    ssm: aws.ssm,
    ssmIn: () => replica.ssm,
    ecr: aws.ecr,
    log: (l: string) => lines.push(l),
    now: () => clock,
    sleep: async (ms: number, s?: AbortSignal) => {
      s?.throwIfAborted();
      clock += ms;
    },
    signal,
  };
  return { aws, replica, deps, lines, paramsBefore: new Map(aws.params) };
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
        // The fleet ID: the CI policy and gc act only on this fleet's builders and snapshots.
        { Key: 'bottlerocket-fleet:fleet', Value: general.fleetId },
      ]),
    );
    expect(aws.snapshots.get(result.snapshotId)!.tags).toEqual(expect.arrayContaining([{ Key: 'bottlerocket-fleet:fleet', Value: general.fleetId }]));
    expect(aws.snapshots.get(result.snapshotId)!.tags).toEqual(
      expect.arrayContaining([
        { Key: 'bottlerocket-fleet:kernel-release', Value: '6.1.170' },
        { Key: 'bottlerocket-fleet:data-used-bytes', Value: '70000000' },
        { Key: 'bottlerocket-fleet:data-size-bytes', Value: String(100 * 2 ** 30) },
        { Key: 'bottlerocket-fleet:manifest-parts', Value: '1' },
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

  // Issue 21: a tag can be moved; a digest names content. A pull that yields another digest is not the image pinned.
  test('a pinned image whose pulled digest differs fails the build before any snapshot; a matching one passes', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const f = validFleet();
    f.imageCaches.general.images = [`public.ecr.aws/docker/library/nginx:1.27@${digest}`];
    f.imageCaches.general.requireDigests = true;
    const pinned = fleetFrom(f).imageCaches.find((c) => c.name === 'general')!;
    const bad = setup({ wrongDigest: pinned.images[0] });
    const error = await buildCache(bad.deps, pinned, { pollIntervalMs: 1000 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as Error).message).toBe(
      `cache general: step "pull image 1/1: ${pinned.images[0]}" failed: ${pinned.images[0]}: the registry served digest sha256:${'e'.repeat(64)}, not the pinned ${digest}`,
    );
    expect(bad.aws.snapshots.size).toBe(0);
    expect([...bad.aws.instances.values()].map((i) => i.state)).toEqual(['terminated']);
    expect(bad.aws.params).toEqual(bad.paramsBefore);
    const good = setup();
    const result = await buildCache(good.deps, pinned, { pollIntervalMs: 1000 });
    expect(result.images).toEqual([{ image: pinned.images[0], digest, names: [pinned.images[0]] }]);
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
    await expectFailure({}, /stop kubelet/, /interrupted/, controller.signal, controller); // the first Run Command
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
    // fleet.yaml pins bottlerocketRelease 1.55.0 (issue 30): the cache builds on that release's parameter.
    expect(amiParameterPath(general)).toBe('/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.55.0/image_id');
    const f = validFleet();
    delete f.clusters['my-cluster'].bottlerocketRelease; // unpinned (latest): the builder reads latest
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
    const calls = dryRunLines(general)
      .map((l) => l.trim())
      .filter((l) => !l.startsWith('$ ')) // the scripts of the Run Commands, below
      .map((l) => l.split(/\s+/)[0]);
    expect(calls).toEqual([
      'cache',
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
      'ssm:PutParameter', // manifest, home region
      'ssm:PutParameter', // manifest, us-east-1
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
    expect(out).toContain('/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.55.0/image_id'); // fleet.yaml pins 1.55.0 (issue 30)
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
    // Manifest part, new value, history (fails), previous value back; only the manifest is deleted again.
    expect(aws.paramWrites.filter((n) => !n.includes('-manifests/'))).toEqual([PARAM, HISTORY, PARAM]);
    expect(aws.paramDeletes.every((n) => n.includes('-manifests/'))).toBe(true);
    expect(aws.params).toEqual(paramsBefore);
    expect(aws.snapshots.size).toBe(0);
    expect(aws.instanceStates()).toEqual(['terminated']);
  });
});

describe('a clean volume with room to run, and digests without the tag limit (issue 20)', () => {
  /** The Run Command scripts of the build, in order, each as one text. */
  const scripts = (aws: FakeAws) => [...aws.commands.values()].map((c) => c.commands.join('\n'));

  test('kubelet is stopped before the first pull', async () => {
    const { aws, deps } = setup();
    await buildCache(deps, general);
    const s = scripts(aws);
    expect(s[0]).toContain('apiclient exec admin nsenter -t 1 -a systemctl stop kubelet.service');
    expect(s.findIndex((x) => x.includes('images pull'))).toBe(1);
  });

  test("after the verify step and before the stop, the builder's state is removed, then a final command checks it is gone", async () => {
    const { aws, deps } = setup();
    await buildCache(deps, general);
    const s = scripts(aws);
    const verify = s.findIndex((x) => x.includes('labels."io.cri-containerd.pinned"==pinned'));
    const clean = s.findIndex((x) => x.includes('-delete'));
    expect(clean).toBe(verify + 2); // after reading the kernel release and the fill
    for (const path of ['/local/host-containers/control/ssm', '/local/host-containers/admin', '/var/log/journal'])
      expect(s[clean]).toContain(`find ${path} -mindepth 1 -delete`);
    expect(s[clean]).toContain('rm -f /var/lib/systemd/random-seed');
    expect(s[clean].indexOf('systemctl stop systemd-random-seed.service')).toBeLessThan(s[clean].indexOf('rm -f /var/lib/systemd/random-seed'));
    expect(s[clean].indexOf('journalctl --relinquish-var')).toBeLessThan(s[clean].indexOf('find /var/log/journal'));
    expect(s[clean + 1]).toContain("grep -rls 'images[ ]pull' /local/host-containers/control/ssm");
    expect(s).toHaveLength(clean + 2); // the check is the last command
    expect(aws.calls.indexOf('ec2:StopInstances')).toBeGreaterThan(aws.calls.lastIndexOf('ssm:GetCommandInvocation'));
  });

  test('a final check that finds builder state fails the build before any snapshot', async () => {
    const { aws, deps, paramsBefore } = setup({ stateLeftOver: true });
    const err = await buildCache(deps, general).catch((e) => e);
    expect(err.step).toBe("check that the builder's state is gone");
    expect(aws.calls).not.toContain('ec2:CreateSnapshot');
    expect(aws.params).toEqual(paramsBefore);
    expect(aws.instanceStates()).toEqual(['terminated']);
  });

  test('a data volume above maxFillPercent (70% by default) fails the build, naming the size that fits', async () => {
    const { aws, deps, paramsBefore } = setup({ usedBytes: 80 * 2 ** 30 }); // 80 of 100 GiB
    const err = await buildCache(deps, general).catch((e) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect(err.step).toBe('read the kernel release and the data volume use');
    expect(err.message).toContain('80% full after the pulls (80.0 of 100.0 GiB), above imageCaches.general.maxFillPercent (70%)');
    expect(err.message).toContain('raise imageCaches.general.dataVolumeGiB to at least 115');
    expect(aws.calls).not.toContain('ec2:CreateSnapshot');
    expect(aws.params).toEqual(paramsBefore);
    // The same fill passes a cache that allows 85%.
    const { deps: deps2 } = setup({ usedBytes: 80 * 2 ** 30 });
    await expect(buildCache(deps2, { ...general, maxFillPercent: 85 })).resolves.toMatchObject({ volume: { fillPercent: 80 } });
  });

  test('a 60-image cache builds: its snapshot keeps within 50 tags and its manifest holds every digest, in every region with a copy', async () => {
    const { aws, replica, deps } = setup();
    const images = Array.from({ length: 60 }, (_, i) => `public.ecr.aws/docker/library/app-${i}:1.${i}`);
    const result = await buildCache(deps, { ...general, images, imageTemplates: images });
    const tags = aws.snapshots.get(result.snapshotId)!.tags;
    expect(tags.length).toBeLessThanOrEqual(50);
    expect(tags.some((t) => /^bottlerocket-fleet:image-\d+$/.test(t.Key!))).toBe(false); // no tag per image
    const parts = Number(tags.find((t) => t.Key === 'bottlerocket-fleet:manifest-parts')!.Value);
    for (const region of [aws, replica]) {
      const m = await readManifest(region.ssm, general, result.buildId, String(parts));
      expect(m.images.map((i) => i.image)).toEqual(images);
      expect(m.images.every((i) => /^sha256:[0-9a-f]{64}$/.test(i.digest ?? ''))).toBe(true);
    }
  });

  // Issue 29 item 10: GetCommandInvocation answers only the first 24,000 characters of stdout (the fake cuts as AWS does).
  test('a 60-image cache (120 names) builds although SSM returns only 24,000 characters of output: the lookup prints only what is wrong', async () => {
    const { aws, deps } = setup();
    const images = Array.from({ length: 60 }, (_, i) => `public.ecr.aws/docker/library/app${i}:1.${i}`);
    const result = await buildCache(deps, { ...general, images, imageTemplates: images });
    expect(result.images.flatMap((i) => i.names)).toHaveLength(120);
    const verify = [...aws.commands.values()].find((c) => c.commands.some((l) => l.startsWith('echo "VERIFIED')))!;
    expect(verify.stdout).toBe('VERIFIED 120\n');
  });

  test('a Run Command answer at the output limit fails the build naming the limit; nothing is read past it', async () => {
    const aws = new FakeAws({}, { runCommands: () => ({ code: 0, stdout: `DIGEST sha256:${'a'.repeat(64)}\n${'x'.repeat(30_000)}`, stderr: '' }) });
    const { deps } = setup();
    const err = await buildCache({ ...deps, ec2: aws.ec2, ssm: aws.ssm, ecr: aws.ecr }, general).catch((e) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect(err.step).toBe('pull image 1/1: public.ecr.aws/docker/library/nginx:1.27');
    expect(err.message).toContain("its standard output reached GetCommandInvocation's limit of 24,000 characters, so the answer may be cut short");
    expect(aws.instanceStates()).toEqual(['terminated']);
  });

  test("a pull's progress never reaches the answer: ctr 2.x redraws it on stdout past 24,000 characters, and the DIGEST line after it survives", () => {
    const { aws } = setup();
    const image = 'public.ecr.aws/docker/library/nginx:1.27';
    const commands = pullCommands(image, general);
    expect(aws.host.run(commands.map((l) => l.replace(' >/dev/null', ''))).stdout.length).toBeGreaterThan(24_000); // the model prints as ctr does
    expect(aws.host.run(commands).stdout).toBe(`DIGEST ${contentDigest(image)}\n`);
  });

  test('a lookup whose last line is missing (cut or stopped early) fails the verification instead of passing unprinted names', () => {
    const expected = new Map([['docker.io/library/nginx:1.27', undefined]]);
    expect(verifyProblems('', expected)).toEqual(['the lookup of 1 names did not finish (no "VERIFIED 1" line); output:\n']);
    expect(verifyProblems('VERIFIED 1\n', expected)).toEqual([]);
  });

  test('cache list reads the manifest and shows the kernel release and the fill, for the copies too', async () => {
    const { aws, replica, deps } = setup();
    const images = Array.from({ length: 60 }, (_, i) => `public.ecr.aws/docker/library/app-${i}:1.${i}`);
    const result = await buildCache(deps, { ...general, images, imageTemplates: images });
    replica.params.set(PARAM, replica.addSnapshot({ tags: { [CACHE_TAG]: 'general', [SOURCE_SNAPSHOT_TAG]: result.snapshotId } }));
    const rows = await listCaches(
      [general],
      (r) => (r === 'us-west-2' ? aws : replica),
      async () => '123456789012',
    );
    for (const row of rows) {
      expect(row).toMatchObject({ kernelRelease: '6.1.170', fill: '4%' }); // 60 x 70 MB of 100 GiB
      expect(row.images).toHaveLength(60);
      expect(row.images![59]).toEqual({ image: images[59], digest: contentDigest(images[59]) });
    }
  });

  test('a manifest larger than one standard parameter is split into parts of 4096 characters', () => {
    const images = Array.from({ length: 400 }, (_, i) => ({ image: `registry.example.com/team-${i}/service-${i}:v${i}`, digest: `sha256:${randomHex(i)}` }));
    const parts = encodeManifest({ version: 1, cache: 'general', buildId: 'general-20261201000000-abcdef', images });
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.length <= 4096)).toBe(true);
    expect(decodeManifest(parts, { cache: 'general', buildId: 'general-20261201000000-abcdef' }).images).toEqual(images);
    expect(() => decodeManifest(parts, { cache: 'gpu', buildId: 'general-20261201000000-abcdef' })).toThrow(/does not describe build/);
  });

  test('a failed build deletes the manifest it wrote, in every region', async () => {
    const { aws, replica, deps } = setup({ putParameterFails: HISTORY });
    await buildCache(deps, general).catch((e) => e);
    for (const region of [aws, replica]) expect([...region.params.keys()].filter((k) => k.includes('-manifests/'))).toEqual([]);
  });

  test('the dry run shows the scripts: kubelet stopped, state removed, the final check', () => {
    const text = dryRunLines(general).join('\n');
    expect(text).toContain('$ apiclient exec admin nsenter -t 1 -a systemctl stop kubelet.service');
    expect(text).toContain('$ apiclient exec admin nsenter -t 1 -a find /local/host-containers/control/ssm -mindepth 1 -delete');
    expect(text).toContain('images[ ]pull');
    expect(text).toContain('fail above 70% full');
  });
});

function randomHex(seed: number): string {
  return createHash('sha256').update(String(seed)).digest('hex');
}
