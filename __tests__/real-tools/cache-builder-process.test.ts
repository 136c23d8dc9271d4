/**
 * The image-cache builder and `cache list` / `cache gc` as real processes (`tsx cli/cache/main.ts`)
 * against the AWS emulator (moto_server), with the SSM agent played by a loopback proxy
 * (helpers/ssm-agent-proxy.ts): Online status, and Run Command results computed from the commands sent,
 * with `ctr` parsed the way containerd 2.1 parses it.
 *
 * One emulator for the suite; each build scenario has its own cache (own parameter, own tags), seeded with
 * a previous snapshot, so the scenarios cannot see each other's leftovers.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  Instance,
  RunInstancesCommand,
  Tag,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describeWithRealTools, emulatorEnv, Moto, sharedMoto } from '../helpers/real-tools';
import { SsmAgentProxy } from '../helpers/ssm-agent-proxy';
import { builderNetwork } from '../helpers/builder-network';
import { PROJECT_ROOT, tempDir, validFleet } from '../helpers/fleet';
import { loadFleet } from '../../modules/fleet/load';
import { collectOutput } from '../helpers/capture';
import { readManifest } from '../../cli/cache/manifest';

const REGION = 'us-west-2';
const NGINX = 'public.ecr.aws/docker/library/nginx:1.27';
const UNPULLABLE = 'docker.io/library/does-not-exist:1';
const VANISHING = 'public.ecr.aws/docker/library/vanishing:1';
const param = (cache: string) => `/bottlerocket-fleet/image-cache/${cache}/snapshot-id`;
const history = (cache: string) => `${param(cache)}-history`;

/** One cache per scenario. `busybox:1.36` is a short name: the fleet loader must qualify it (issue 8.3). */
const CACHES: Record<string, string[]> = {
  success: [NGINX, 'busybox:1.36'],
  pullfails: [NGINX, UNPULLABLE],
  vanishes: [NGINX, VANISHING],
  historyfails: [NGINX],
  interrupted: [NGINX],
};

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

describeWithRealTools('image-cache builder, cache list and cache gc as processes against the AWS emulator', () => {
  let moto: Moto;
  let proxy: SsmAgentProxy;
  let ec2: EC2Client;
  let ssm: SSMClient;
  let fleetFile: string;
  /** The fleet file's fleet ID: what the builder tags with, and all gc acts on. */
  let fleetId: string;
  let ami: string;
  const previous: Record<string, string> = {};

  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const tags = (t: Record<string, string>): Tag[] => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

  async function snapshot(t: Record<string, string>): Promise<string> {
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 1 }));
    return (
      await ec2.send(
        new CreateSnapshotCommand({
          VolumeId: vol.VolumeId!,
          ...(Object.keys(t).length ? { TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags(t) }] } : {}),
        }),
      )
    ).SnapshotId!;
  }

  async function instancesTagged(key: string, value?: string): Promise<Instance[]> {
    const r = await ec2.send(
      new DescribeInstancesCommand({ Filters: [value === undefined ? { Name: 'tag-key', Values: [key] } : { Name: `tag:${key}`, Values: [value] }] }),
    );
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
  }

  async function snapshotsOf(cache: string): Promise<string[]> {
    const r = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:bottlerocket-fleet:cache', Values: [cache] }] }));
    return (r.Snapshots ?? []).map((s) => s.SnapshotId!).sort();
  }

  async function parameter(name: string): Promise<string | undefined> {
    try {
      return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  function cli(args: string[], onStart?: (child: ChildProcess) => void): Promise<Run> {
    const child = spawn(process.execPath, ['bin/bottlerocket-fleet.js', 'cache', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...emulatorEnv(proxy.endpoint, REGION), FLEET_FILE: fleetFile, BRF_POLL_INTERVAL_MS: '20', NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const done = collectOutput(child).then(({ exitCode, signal, stdout, stderr }) => ({ code: exitCode, signal, stdout, stderr }));
    onStart?.(child);
    return done;
  }

  beforeAll(async () => {
    // The worker's emulator, reset: one Bottlerocket AMI instead of moto's ~1,200 defaults (see startMoto).
    const dir = tempDir('cache-process-');
    moto = await sharedMoto();
    // The test itself talks to moto directly: only the processes under test go through the proxy.
    ec2 = new EC2Client({ region: REGION, endpoint: moto.endpoint, credentials });
    ssm = new SSMClient({ region: REGION, endpoint: moto.endpoint, credentials });
    // moto has no Bottlerocket public parameters and refuses PutParameter under /aws/: the proxy answers the
    // one the builder reads, naming an AMI moto knows (RunInstances accepts any of its DescribeImages).
    ami = (await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'architecture', Values: ['x86_64'] }] }))).Images![0].ImageId!;
    proxy = await SsmAgentProxy.start(moto.endpoint, {
      unpullable: new Set([UNPULLABLE]),
      vanish: new Set([VANISHING]),
      publicParameters: {
        '/aws/service/bottlerocket/aws-k8s-1.31/x86_64/latest/image_id': ami,
        '/aws/service/bottlerocket/aws-k8s-1.31/x86_64/latest/image_version': '1.26.2',
      },
    });

    // What the builder-infrastructure stack would have created: a real subnet, security group and instance profile.
    await builderNetwork(moto.endpoint, ec2, ssm, 2);

    fleetFile = path.join(dir, 'fleet.yaml');
    const fleet = validFleet();
    fleet.imageCaches = Object.fromEntries(
      Object.entries(CACHES).map(([name, images]) => [
        name,
        { variant: 'cpu', arch: 'x86_64', homeRegion: REGION, kubernetesVersion: '1.31', dataVolumeGiB: 50, images },
      ]),
    );
    const cluster = fleet.clusters['my-cluster'];
    // Trusted certificates must lie inside the fleet file's folder (issue 21): a copy beside the fleet file.
    for (const f of cluster.trustedCertificates as string[]) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(dir, f));
    }
    cluster.karpenter.nodePools = { default: { dataVolumeGiB: 100 } };
    fs.writeFileSync(fleetFile, stringify(fleet));
    fleetId = loadFleet(fleetFile).id;

    // Each cache already has a build: its snapshot is the parameter's value and the history's only entry.
    for (const cache of Object.keys(CACHES)) {
      previous[cache] = await snapshot({ 'bottlerocket-fleet:cache': cache, 'bottlerocket-fleet:build-id': `${cache}-seed` });
      await ssm.send(new PutParameterCommand({ Name: param(cache), Value: previous[cache], Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: history(cache), Value: JSON.stringify([previous[cache]]), Type: 'String' }));
    }
  }, 60_000);

  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed before assigning them */
  afterAll(async () => {
    ec2?.destroy();
    ssm?.destroy();
    await proxy?.stop();
    await moto?.stop();
  });
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */

  /**
   * success, pullfails, vanishes and historyfails are built by ONE process, as a user runs several caches
   * (`cache build a b c`: in parallel, exit 1 if any failed): each build must clean up after itself while
   * the others go on. A process costs seconds of CPU to start; the calls are told apart per cache below.
   */
  let shared: Promise<{ run: Run; summaries: any[] }> | undefined;
  function sharedBuild() {
    shared ??= (async () => {
      proxy.fault = (c) =>
        c.action === 'PutParameter' && c.input.Name === history('historyfails')
          ? { code: 'AccessDeniedException', message: 'not authorized to perform ssm:PutParameter' }
          : undefined;
      try {
        const run = await cli(['build', 'success', 'pullfails', 'vanishes', 'historyfails', '--json']);
        try {
          return { run, summaries: JSON.parse(run.stdout) as any[] };
        } catch {
          throw new Error(`cache build printed no JSON summary (exit ${run.code}, signal ${run.signal}):\n${run.stdout}\n${run.stderr}`);
        }
      } finally {
        proxy.fault = undefined;
      }
    })();
    return shared;
  }

  /** The shared run's summary for one cache and the calls that were about that cache (its instance, parameters, snapshots). */
  async function builtInSharedRun(cache: string) {
    const { run, summaries } = await sharedBuild();
    const summary = summaries.find((x) => x.cache === cache);
    const instance = (await instancesTagged('bottlerocket-fleet:cache', cache)).at(0);
    const own = [instance?.InstanceId, `/image-cache/${cache}/`, `"${cache}"`, `${cache}-`].filter(Boolean) as string[];
    const mine = (ids: string[]) => proxy.calls.filter((c) => ids.some((o) => JSON.stringify(c.input).includes(o)));
    // A snapshot is this cache's once its parameter named it (DeleteSnapshot carries nothing else).
    own.push(
      ...mine(own)
        .filter((c) => c.action === 'PutParameter' && /^snap-/.test(c.input.Value ?? ''))
        .map((c) => c.input.Value as string),
    );
    const calls = mine(own);
    return { run, calls, names: calls.map((c) => `${c.service}:${c.action}`), summary };
  }

  /** Runs `cache build <cache> --json` and returns the run, the calls it made and its one summary entry. */
  async function build(cache: string, onStart?: (child: ChildProcess) => void) {
    const from = proxy.calls.length;
    const run = await cli(['build', cache, '--json'], onStart);
    const calls = proxy.calls.slice(from);
    let summary: any;
    try {
      summary = JSON.parse(run.stdout)[0];
    } catch {
      throw new Error(`cache build ${cache} printed no JSON summary (exit ${run.code}, signal ${run.signal}):\n${run.stdout}\n${run.stderr}`);
    }
    return { run, calls, names: calls.map((c) => `${c.service}:${c.action}`), summary };
  }

  /** After every build: no builder instance left, the parameter and history as expected, no stray snapshot. */
  async function expectCleanUp(
    cache: string,
    calls: { service: string; action: string; input: any }[],
    expected: { parameter: string; history: string[]; snapshots: string[] },
  ) {
    const instances = await instancesTagged('bottlerocket-fleet:cache', cache);
    expect(instances).toHaveLength(1);
    expect(instances.map((i) => i.State?.Name)).toEqual(['terminated']);
    const terminate = calls.filter((c) => c.action === 'TerminateInstances');
    expect(terminate.map((c) => c.input['InstanceId.1'])).toEqual([instances[0].InstanceId]);
    expect(await parameter(param(cache))).toBe(expected.parameter);
    expect(JSON.parse((await parameter(history(cache)))!)).toEqual(expected.history);
    expect(await snapshotsOf(cache)).toEqual([...expected.snapshots].sort());
    return instances[0];
  }

  /** The instance was stopped (and seen stopped) before its data volume was snapshotted. */
  function expectStoppedBeforeSnapshot(names: string[], calls: { action: string; input: any }[], instanceId: string) {
    const create = names.indexOf('ec2:CreateSnapshot');
    expect(create).toBeGreaterThan(-1);
    const stop = names.indexOf('ec2:StopInstances');
    expect(stop).toBeGreaterThan(-1);
    expect(stop).toBeLessThan(create);
    expect(calls[stop].input['InstanceId.1']).toBe(instanceId);
  }

  test('one process builds several caches; it exits 1 because some failed', async () => {
    const { run, summaries } = await sharedBuild();
    expect(run.code).toBe(1);
    expect(summaries.map((x) => [x.cache, x.ok])).toEqual([
      ['success', true],
      ['pullfails', false],
      ['vanishes', false],
      ['historyfails', false],
    ]);
  });

  test('success: launch (IMDSv2, hop limit 2), pull, verify, stop, snapshot, parameter and history, terminate', async () => {
    const { calls, names, summary } = await builtInSharedRun('success');
    expect(summary).toMatchObject({ ok: true, cache: 'success', previousSnapshotId: previous.success });
    const snap = summary.snapshotId as string;
    expect(snap).toMatch(/^snap-/);
    const instance = await expectCleanUp('success', calls, { parameter: snap, history: [snap, previous.success], snapshots: [previous.success, snap] });
    expectStoppedBeforeSnapshot(names, calls, instance.InstanceId!);
    // The launch as moto recorded it.
    expect(instance.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' });
    const launch = calls.find((c) => c.action === 'RunInstances')!.input;
    expect(launch['IamInstanceProfile.Name']).toBe('bottlerocket-fleet-builder-us-west-2');
    expect(launch.ImageId).toBe(ami);
    // The snapshot is of the instance's /dev/xvdb and names the images with their digests.
    // (A terminated instance has no block devices left in moto: the data volume is told by its size, 50 GiB; the OS volume has 4.)
    const create = calls.find((c) => c.action === 'CreateSnapshot')!;
    const s = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0];
    expect({ volume: s.VolumeId, size: s.VolumeSize }).toEqual({ volume: create.input.VolumeId, size: 50 });
    // The snapshot records the builder's kernel release and the data volume's use (issue 20), in a fixed set of tags.
    const tagOf = (k: string) => s.Tags?.find((t) => t.Key === k)?.Value;
    expect(tagOf('bottlerocket-fleet:kernel-release')).toBe('6.1.170');
    expect(Number(tagOf('bottlerocket-fleet:data-used-bytes'))).toBe(100_000_000 + 2 * Math.round(67.7 * 2 ** 20));
    expect(tagOf('bottlerocket-fleet:data-size-bytes')).toBe(String(50 * 2 ** 30));
    expect(s.Tags!.some((t) => /^bottlerocket-fleet:image-\d+$/.test(t.Key!))).toBe(false);
    // The image -> digest manifest, read back from the emulator's parameters.
    const manifest = await readManifest(
      ssm,
      { name: 'success', parameterPath: param('success') },
      summary.buildId,
      tagOf('bottlerocket-fleet:manifest-parts')!,
    );
    expect(manifest.images.map((i) => `${i.image}@${i.digest}`).sort()).toEqual([
      expect.stringMatching(/^docker\.io\/library\/busybox:1\.36@sha256:[0-9a-f]{64}$/),
      expect.stringMatching(/^public\.ecr\.aws\/docker\/library\/nginx:1\.27@sha256:[0-9a-f]{64}$/),
    ]);
    // The --json result names, per image, every name recorded on the data volume.
    expect(summary.images).toContainEqual({
      image: NGINX,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      names: [NGINX, expect.stringMatching(/^public\.ecr\.aws\/docker\/library\/nginx@sha256:[0-9a-f]{64}$/)],
    });
    // Every Run Command the agent ran succeeded: each ctr call was one containerd 2.x accepts.
    const invocations = [...proxy.invocations.values()].filter((i) => i.instanceId === instance.InstanceId);
    expect(invocations.map((i) => [i.comment.replace(/^\S+: /, ''), i.status, i.stderr])).toEqual([
      ['stop kubelet', 'Success', ''],
      [`pull ${NGINX}`, 'Success', ''],
      [`names of ${NGINX}`, 'Success', ''],
      ['pull docker.io/library/busybox:1.36', 'Success', ''],
      ['names of docker.io/library/busybox:1.36', 'Success', ''],
      ['verify names', 'Success', ''],
      ['read the kernel release and the data volume use', 'Success', ''],
      ['remove builder state', 'Success', ''],
      ['check builder state is gone', 'Success', ''],
    ]);
    // On the modelled host: kubelet stopped before the first pull; no pull command is left in the SSM agent's state.
    const host = proxy.hosts.get(instance.InstanceId!)!;
    expect(host.events[0]).toBe('systemctl stop kubelet.service');
    expect([...host.files.values()].some((c) => c?.includes('images pull'))).toBe(false);
    expect(host.files.has('/var/lib/systemd/random-seed')).toBe(false);
    expect(names.indexOf('ssm:PutParameter')).toBeGreaterThan(names.lastIndexOf('ec2:DescribeSnapshots'));
  });

  test("a pull fails: the build stops at that image with ctr's error, and nothing is left", async () => {
    const { calls, names, summary } = await builtInSharedRun('pullfails');
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatch(
      /step "pull image 2\/2: docker.io\/library\/does-not-exist:1" failed: .*ended Failed.*failed to resolve reference "docker.io\/library\/does-not-exist:1"/s,
    );
    await expectCleanUp('pullfails', calls, { parameter: previous.pullfails, history: [previous.pullfails], snapshots: [previous.pullfails] });
    expect(names).not.toContain('ec2:CreateSnapshot');
  });

  test('an image missing at verification fails the build before any snapshot', async () => {
    const { calls, names, summary } = await builtInSharedRun('vanishes');
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatch(
      /step "verify every name is on the data volume" failed: not on the data volume: public.ecr.aws\/docker\/library\/vanishing:1/,
    );
    await expectCleanUp('vanishes', calls, { parameter: previous.vanishes, history: [previous.vanishes], snapshots: [previous.vanishes] });
    expect(names).not.toContain('ec2:CreateSnapshot');
  });

  test('a failure after the parameter was written puts the previous snapshot back and deletes the new one', async () => {
    {
      // The history write of this cache is refused (sharedBuild's fault): the parameter was already written.
      const { calls, names, summary } = await builtInSharedRun('historyfails');
      expect(summary.ok).toBe(false);
      expect(summary.error).toMatch(/step "write the snapshot ID to SSM" failed: .*not authorized/);
      // The parameter really was changed first, then restored.
      const puts = calls.filter((c) => c.action === 'PutParameter' && c.input.Name === param('historyfails')).map((c) => c.input.Value);
      expect(puts).toHaveLength(2);
      expect(puts[0]).toMatch(/^snap-/);
      expect(puts[1]).toBe(previous.historyfails);
      // Only the build's manifest is deleted again, never the parameter; none of it is left in the emulator.
      const deleted = calls.filter((c) => c.action === 'DeleteParameter').map((c) => c.input.Name as string);
      expect(deleted).toHaveLength(1);
      expect(deleted[0]).toMatch(new RegExp(`^${param('historyfails')}-manifests/historyfails-\\d{14}-[0-9a-f]{6}/0$`));
      for (const name of deleted) expect(await parameter(name)).toBeUndefined();
      const instance = await expectCleanUp('historyfails', calls, {
        parameter: previous.historyfails,
        history: [previous.historyfails],
        snapshots: [previous.historyfails],
      });
      expectStoppedBeforeSnapshot(names, calls, instance.InstanceId!);
      expect(calls.filter((c) => c.action === 'DeleteSnapshot').map((c) => c.input.SnapshotId)).toEqual([puts[0]]);
    }
  });

  test('SIGINT while pulling: the process cleans up and exits 1', async () => {
    const { run, calls, names, summary } = await build('interrupted', (child) => {
      proxy
        .waitForCall((c) => c.action === 'SendCommand' && String(c.input.Comment).startsWith('interrupted-') && String(c.input.Comment).includes(': pull '))
        .then(
          () => child.kill('SIGINT'),
          () => child.kill('SIGKILL'),
        );
    });
    expect(run.signal).toBeNull();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('interrupted: cleaning up');
    expect(summary.error).toMatch(/step "pull image 1\/1: .*" failed: interrupted/);
    await expectCleanUp('interrupted', calls, { parameter: previous.interrupted, history: [previous.interrupted], snapshots: [previous.interrupted] });
    expect(names).not.toContain('ec2:CreateSnapshot');
  });

  describe('cache list and cache gc', () => {
    let orphan: string;
    let foreign: Record<string, string>;
    let crashed: string;
    let foreignInstances: string[];
    /** When every builder launched above is a second old (gc's test waits for it; the list process meanwhile runs). */
    let allOldAt = 0;

    beforeAll(async () => {
      // The fleet's own leftovers: a snapshot of cache "success" that nothing references, a builder left by a crash.
      const ours = { 'bottlerocket-fleet:cache': 'success', 'bottlerocket-fleet:fleet': fleetId };
      orphan = await snapshot({ ...ours, 'bottlerocket-fleet:build-id': 'success-crashed' });
      // Not the fleet's: untagged, another tool's tags, a cache this fleet does not have, a copy (replication's).
      foreign = {
        untagged: await snapshot({}),
        otherTool: await snapshot({ 'other-tool:cache': 'success', Name: 'image-cache-builder-success' }),
        otherCache: await snapshot({ 'bottlerocket-fleet:cache': 'not-in-this-fleet' }),
        copy: await snapshot({ 'bottlerocket-fleet:cache': 'success', 'bottlerocket-fleet:source-snapshot': previous.success }),
        // Issue 21: another fleet in the account with a cache of the same name.
        otherFleet: await snapshot({ 'bottlerocket-fleet:cache': 'success', 'bottlerocket-fleet:fleet': 'fleet-other', 'bottlerocket-fleet:build-id': 'x' }),
      };
      const subnet = (await ssm.send(new GetParameterCommand({ Name: '/bottlerocket-fleet/builder/subnet-ids' }))).Parameter!.Value!.split(',')[0];
      const launch = async (t: Record<string, string>) =>
        (
          await ec2.send(
            new RunInstancesCommand({
              ImageId: ami,
              InstanceType: 'm6i.large',
              MinCount: 1,
              MaxCount: 1,
              SubnetId: subnet,
              ...(Object.keys(t).length ? { TagSpecifications: [{ ResourceType: 'instance', Tags: tags(t) }] } : {}),
            }),
          )
        ).Instances![0].InstanceId!;
      crashed = await launch({ ...ours, 'bottlerocket-fleet:build-id': 'success-crashed', Name: 'image-cache-builder-success' });
      foreignInstances = [
        await launch({}),
        await launch({ 'other-tool:build-id': 'x', Name: 'image-cache-builder-success' }),
        await launch({ 'bottlerocket-fleet:cache': 'success', 'bottlerocket-fleet:fleet': 'fleet-other', 'bottlerocket-fleet:build-id': 'y' }),
      ];
      // LaunchTime has a 1 s resolution and moto cannot backdate it: "--older-than 0s" makes every builder "old" once
      // a second has passed. Only gc needs that: its test waits for what is left of the second, not this hook.
      allOldAt = Date.now() + 1100;
    });

    test("cache list shows each cache's current and previous snapshot", async () => {
      const run = await cli(['list', '--json']);
      expect(run.code).toBe(0);
      const rows = JSON.parse(run.stdout);
      const success = rows.find((r: any) => r.cache === 'success');
      const built = JSON.parse((await parameter(history('success')))!)[0];
      expect(success).toMatchObject({ cache: 'success', region: REGION, current: built, previous: previous.success });
      // A real build passes every provenance check (issue 21): this account's, its build ID, in the history.
      expect(success).toMatchObject({ owner: '123456789012', buildId: expect.stringMatching(/^success-\d{14}-[0-9a-f]{6}$/), inHistory: true });
      expect(success.untrusted).toBeUndefined();
      const pullfails = rows.find((r: any) => r.cache === 'pullfails');
      expect(pullfails).toMatchObject({ cache: 'pullfails', region: REGION, current: previous.pullfails });
      expect(pullfails.previous).toBeUndefined();
      expect(JSON.stringify(rows)).not.toMatch(new RegExp(Object.values(foreign).join('|')));
    });

    test("cache gc: the fleet's orphan snapshot and crashed builder go; nothing that is not the fleet's is listed or touched", async () => {
      await new Promise((r) => setTimeout(r, Math.max(0, allOldAt - Date.now())));
      const dry = await cli(['gc', '--older-than', '0s', '--dry-run', '--json']);
      expect(dry.code).toBe(0);
      const planned = JSON.parse(dry.stdout.slice(0, dry.stdout.lastIndexOf(']') + 1)) as { action: string; id: string }[];
      expect(planned.map((a) => [a.action, a.id]).sort()).toEqual(
        [
          ['delete-snapshot', orphan],
          ['terminate', crashed],
        ].sort(),
      );

      const from = proxy.calls.length;
      const run = await cli(['gc', '--older-than', '0s', '--json']);
      expect(run.code).toBe(0);
      const calls = proxy.calls.slice(from);
      expect(calls.filter((c) => c.action === 'DeleteSnapshot').map((c) => c.input.SnapshotId)).toEqual([orphan]);
      expect(calls.filter((c) => c.action === 'TerminateInstances').map((c) => c.input['InstanceId.1'])).toEqual([crashed]);
      const left = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots!.map((s) => s.SnapshotId);
      expect(left).not.toContain(orphan);
      expect(left).toEqual(expect.arrayContaining([...Object.values(foreign), ...Object.values(previous)]));
      const states = Object.fromEntries(
        (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [crashed, ...foreignInstances] })))
          .Reservations!.flatMap((r) => r.Instances!)
          .map((i) => [i.InstanceId, i.State?.Name]),
      );
      expect(states).toEqual({
        [crashed]: 'terminated',
        [foreignInstances[0]]: 'running',
        [foreignInstances[1]]: 'running',
        [foreignInstances[2]]: 'running',
      });
    });
  });
});
