/**
 * First deployment with no surprise (issue 12, item 5): `bottlerocket-fleet deploy` checks, before
 * Terraform runs, that every image-cache parameter the named Karpenter stacks read exists, and names the
 * missing step of "First deployment, in order". SSM and cdktf are fakes: no AWS call, no process.
 */
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import type { GetParameterCommand } from '@aws-sdk/client-ssm';
import { fleetFrom, tempDir, validFleet } from './helpers/fleet';
import { fleetStacks } from '../modules/fleet/stacks';
import { cacheParameterChecks, missingDependencies, missingParameterMessage, selectStacks } from '../cli/deploy/preflight';
import { CdktfRunner, DeployDeps, main } from '../cli/deploy/main';
import type { SnapshotRecord } from '../modules/image-cache/provenance';
import { main as cliMain } from '../cli/main';
import { captureMain } from './helpers/capture';

const GENERAL = '/bottlerocket-fleet/image-cache/general/snapshot-id';
const GPU = '/bottlerocket-fleet/image-cache/gpu/snapshot-id';

/** validFleet() plus a cluster "east" in us-east-1 (a replica region of general) with one cached pool. */
function twoRegionFleetSpec(change: (f: any) => void = () => undefined) {
  const f = validFleet();
  delete f.clusters['my-cluster'].trustedCertificates;
  f.clusters.east = {
    ...f.clusters['my-cluster'],
    region: 'us-east-1',
    vpc: { cidr: '10.1.0.0/16', azCount: 3 },
    karpenter: { nodePools: { default: { imageCache: 'general', dataVolumeGiB: 100 } } },
  };
  change(f);
  return f;
}
const twoRegionFleet = (change?: (f: any) => void) => fleetFrom(twoRegionFleetSpec(change));

/** Runs fn with FLEET_FILE pointing at the fleet written to a temporary file (the CLI reads it like a user's). */
async function withFleetFile<T>(spec: unknown, fn: () => Promise<T>): Promise<T> {
  const file = path.join(tempDir('deploy-fleet-'), 'fleet.yaml');
  fs.writeFileSync(file, stringify(spec));
  const saved = process.env.FLEET_FILE;
  process.env.FLEET_FILE = file;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.FLEET_FILE;
    else process.env.FLEET_FILE = saved;
  }
}
const withRollout = (f: any) => {
  f.rollout = {
    stages: [
      { name: 'canary', clusters: ['my-cluster'] },
      { name: 'prod', clusters: ['east'] },
    ],
  };
};

describe('which parameters a Karpenter stack needs, in which region, written by which step', () => {
  test('home region: the cache parameter the build writes; replica region: the copy image-cache-<cache> writes', () => {
    const fleet = twoRegionFleet();
    const { checks } = cacheParameterChecks(fleet, ['my-cluster-karpenter', 'east-karpenter'], false);
    expect(checks.map((c) => [c.stack, c.cache, c.check.region, c.check.name, c.checkWriter])).toEqual([
      ['my-cluster-karpenter', 'general', 'us-west-2', GENERAL, 'cache-build'],
      ['my-cluster-karpenter', 'gpu', 'us-west-2', GPU, 'cache-build'],
      ['east-karpenter', 'general', 'us-east-1', GENERAL, 'image-cache-stack'],
    ]);
  });

  test("with a rollout: each cluster's own parameter in its region, created by image-cache-<cache> (home region too)", () => {
    const fleet = twoRegionFleet(withRollout);
    const { checks } = cacheParameterChecks(fleet, ['my-cluster-karpenter', 'east-karpenter'], false);
    expect(checks.map((c) => [c.stack, c.check.region, c.check.name, c.checkWriter])).toEqual([
      ['my-cluster-karpenter', 'us-west-2', `${GENERAL}/clusters/my-cluster`, 'image-cache-stack'],
      ['my-cluster-karpenter', 'us-west-2', `${GPU}/clusters/my-cluster`, 'image-cache-stack'],
      ['east-karpenter', 'us-east-1', `${GENERAL}/clusters/east`, 'image-cache-stack'],
    ]);
  });

  test('a cache marked built: false needs nothing; a pool without imageCache needs nothing', () => {
    const fleet = twoRegionFleet((f) => {
      f.imageCaches.gpu.built = false;
      f.clusters.east.karpenter.nodePools.default = { dataVolumeGiB: 50 };
    });
    const { checks, skipped } = cacheParameterChecks(fleet, ['my-cluster-karpenter', 'east-karpenter'], false);
    expect(checks.map((c) => [c.stack, c.cache])).toEqual([['my-cluster-karpenter', 'general']]);
    expect(skipped).toEqual([{ stack: 'my-cluster-karpenter', cache: 'gpu', reason: expect.stringContaining('built: false') }]);
  });

  test('stacks that are not Karpenter stacks need nothing', () => {
    expect(cacheParameterChecks(twoRegionFleet(), ['my-cluster-cluster', 'image-cache-general', 'image-cache-builder-us-west-2'], false).checks).toEqual([]);
  });

  test('image-cache-<cache> in the same ordered run: the copy will exist, so the home parameter it copies from must', () => {
    const fleet = twoRegionFleet();
    const ordered = cacheParameterChecks(fleet, ['east-cluster', 'image-cache-general', 'east-karpenter'], true).checks;
    expect(ordered.map((c) => [c.check.region, c.check.name, c.checkWriter, c.writtenInThisRunBy])).toEqual([
      ['us-west-2', GENERAL, 'cache-build', 'image-cache-general'],
    ]);
    // With --ignore-missing-stack-dependencies cdktf runs the stacks in parallel: nothing is written "first".
    const parallel = cacheParameterChecks(fleet, ['image-cache-general', 'east-karpenter'], false).checks;
    expect(parallel.map((c) => [c.check.region, c.checkWriter, c.writtenInThisRunBy])).toEqual([['us-east-1', 'image-cache-stack', undefined]]);
  });

  test('each message names the cache, region, parameter and the missing step', () => {
    const fleet = twoRegionFleet(withRollout);
    const [home] = cacheParameterChecks(twoRegionFleet(), ['my-cluster-karpenter'], false).checks;
    expect(missingParameterMessage(home)).toBe(
      `my-cluster-karpenter: SSM parameter ${GENERAL} does not exist in us-west-2: cache general has not been built yet (the build writes its snapshot ID there). ` +
        'Run `npm run cache -- build general` (First deployment, step 3; it needs image-cache-builder-us-west-2, step 2), ' +
        'or mark the cache `built: false` (imageCaches.general.built) to deploy without it: its pools then pull their images at boot.',
    );
    const [replica] = cacheParameterChecks(twoRegionFleet(), ['east-karpenter'], false).checks;
    expect(missingParameterMessage(replica)).toMatch(
      /^east-karpenter: SSM parameter \/bottlerocket-fleet\/image-cache\/general\/snapshot-id does not exist in us-east-1, where image-cache-general writes the ID of the cache's copy\. Deploy image-cache-general \(First deployment, step 4\), or mark the cache `built: false`/,
    );
    expect(missingParameterMessage(replica, true)).toContain(
      'the cache has not been built yet either: run `npm run cache -- build general` (First deployment, step 3',
    );
    const [perCluster] = cacheParameterChecks(fleet, ['east-karpenter'], false).checks;
    expect(missingParameterMessage(perCluster)).toContain(
      `SSM parameter ${GENERAL}/clusters/east does not exist in us-east-1, where, with the fleet's rollout, image-cache-general creates cluster east's own snapshot parameter. Deploy image-cache-general (First deployment, step 4)`,
    );
  });
});

describe('stack names and declared dependencies on the command line', () => {
  const plan = fleetStacks(twoRegionFleet());

  test('names and cdktf-style patterns select stacks in dependency order; an unknown one is reported', () => {
    expect(selectStacks(['east-karpenter', 'image-cache-general', 'east-cluster'], plan)).toEqual({
      selected: ['east-cluster', 'image-cache-general', 'east-karpenter'],
      unknown: [],
    });
    expect(selectStacks(['*-karpenter'], plan).selected).toEqual(['my-cluster-karpenter', 'east-karpenter']);
    expect(selectStacks(['*'], plan).selected).toHaveLength(plan.length);
    expect(selectStacks(['nope', 'my-cluster-?luster'], plan)).toEqual({ selected: ['my-cluster-cluster'], unknown: ['nope'] });
  });

  test('a run that leaves out a dependency of a named stack is found (cdktf would refuse it)', () => {
    expect(missingDependencies(['east-karpenter'], plan)).toEqual([{ stack: 'east-karpenter', missing: ['east-cluster', 'image-cache-general'] }]);
    expect(missingDependencies(['east-cluster', 'image-cache-general', 'east-karpenter'], plan)).toEqual([]);
  });
});

const SNAPSHOT = 'snap-0123456789abcdef0';
const GPU_SNAPSHOT = 'snap-0123456789abcdef1';
/** The snapshot a cache's parameters name (the gpu cache's, or general's). */
const snapshotOf = (parameter: string) => (parameter.includes('/gpu/') ? GPU_SNAPSHOT : SNAPSHOT);
const ACCOUNT = '123456789012';
/** What every parameter names: a genuine build (home region), or its copy (other regions), unless a test changes it. */
function fakeProvenance(change: (s: SnapshotRecord, region: string) => SnapshotRecord = (s) => s) {
  return (region: string) => async (id: string) =>
    change(
      {
        id,
        ownerId: ACCOUNT,
        state: 'completed',
        encrypted: true,
        tags: {
          'bottlerocket-fleet:cache': id === GPU_SNAPSHOT ? 'gpu' : 'general',
          'bottlerocket-fleet:build-id': 'build-1',
          ...(region === 'us-west-2' ? {} : { 'bottlerocket-fleet:source-snapshot': id }),
        },
      },
      region,
    );
}

/** A fake SSM: the parameters that exist, per region; records every lookup. */
function fakeSsm(present: Record<string, string[]>) {
  const calls: [string, string][] = [];
  const ssm = (region: string) => ({
    send: async (command: GetParameterCommand) => {
      const name = command.input.Name!;
      calls.push([region, name]);
      // A cache's history always exists, naming the snapshot its parameters hold (the provenance check reads it).
      if (name.endsWith('-history')) return { Parameter: { Name: name, Value: JSON.stringify([snapshotOf(name)]) }, $metadata: {} };
      if (Object.hasOwn(present, region) && present[region].includes(name)) return { Parameter: { Name: name, Value: snapshotOf(name) }, $metadata: {} };
      throw Object.assign(new Error(`Parameter ${name} not found.`), { name: 'ParameterNotFound' });
    },
  });
  return { ssm, calls };
}

/** Every snapshot the parameters name is `sizeGiB` large (DescribeSnapshots VolumeSize) and built on `release`; records the lookups. */
function fakeSnapshots(sizeGiB = 100, release = '1.50.0') {
  const looked: [string, string][] = [];
  return {
    looked,
    snapshots: {
      describe: async (region: string, id: string) => {
        looked.push([region, id]);
        // The builder records the kernel too (issue 30); 6.12 is the line of the fleet's 1.35.
        return { sizeGiB, tags: { 'bottlerocket-fleet:bottlerocket-version': release, 'bottlerocket-fleet:kernel-release': '6.12.40' } };
      },
    },
  };
}

async function deploy(
  argv: string[],
  present: Record<string, string[]>,
  fleetChange?: (f: any) => void,
  runnerCode = 0,
  snapshotGiB = 100,
  release = '1.50.0',
  provenanceLookup: DeployDeps['provenanceLookup'] = fakeProvenance(),
) {
  const { ssm, calls } = fakeSsm(present);
  const { snapshots, looked } = fakeSnapshots(snapshotGiB, release);
  const runs: { args: string[]; env: NodeJS.ProcessEnv; stdoutToStderr: boolean }[] = [];
  const runCdktf: CdktfRunner = async (args, options) => {
    runs.push({ args, ...options });
    return runnerCode;
  };
  const { code, stdout, stderr } = await withFleetFile(twoRegionFleetSpec(fleetChange), () =>
    // Every cluster runs the fleet file's version (EKS DescribeCluster, issue 30).
    captureMain(main, argv, {}, { ssm, runCdktf, snapshots, provenanceLookup, accountId: async () => ACCOUNT, runningVersion: async () => '1.35' }),
  );
  return { code, stdout, stderr, calls, runs, looked };
}

describe('deploy: the preflight before cdktf', () => {
  test('a Karpenter stack whose home-region cache was never built: exit 1 naming the build step, cdktf never runs', async () => {
    const r = await deploy(['my-cluster-karpenter', '--ignore-missing-stack-dependencies'], { 'us-west-2': [GPU] });
    expect(r.code).toBe(1);
    expect(r.runs).toEqual([]);
    expect(r.stderr).toContain(`my-cluster-karpenter: SSM parameter ${GENERAL} does not exist in us-west-2: cache general has not been built yet`);
    expect(r.stderr).toContain('Run `npm run cache -- build general` (First deployment, step 3');
    expect(r.stderr).toContain('nothing was deployed: 1 cache parameter(s) missing (checked before Terraform ran)');
    expect(r.calls).toEqual(
      expect.arrayContaining([
        ['us-west-2', GENERAL],
        ['us-west-2', GPU],
      ]),
    );
  });

  test('a replica region without the copy: exit 1 naming image-cache-<cache> (step 4), and step 3 when the home parameter is missing too', async () => {
    const built = await deploy(['east-karpenter', '--ignore-missing-stack-dependencies'], { 'us-west-2': [GENERAL] });
    expect(built.code).toBe(1);
    expect(built.stderr).toContain(
      `east-karpenter: SSM parameter ${GENERAL} does not exist in us-east-1, where image-cache-general writes the ID of the cache's copy. Deploy image-cache-general (First deployment, step 4)`,
    );
    expect(built.stderr).not.toContain('step 3;');
    const notBuilt = await deploy(['east-karpenter', '--ignore-missing-stack-dependencies'], {});
    expect(notBuilt.stderr).toContain('the cache has not been built yet either: run `npm run cache -- build general` (First deployment, step 3');
    expect(notBuilt.runs).toEqual([]);
  });

  test('with a rollout, a missing cluster parameter names image-cache-<cache>', async () => {
    const r = await deploy(
      ['my-cluster-karpenter', '--ignore-missing-stack-dependencies'],
      { 'us-west-2': [GENERAL, GPU, `${GPU}/clusters/my-cluster`] },
      withRollout,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `SSM parameter ${GENERAL}/clusters/my-cluster does not exist in us-west-2, where, with the fleet's rollout, image-cache-general creates cluster my-cluster's own snapshot parameter`,
    );
  });

  test('every parameter present: runs cdktf deploy with the stacks, --auto-approve and CHECKPOINT_DISABLE=1, and returns its exit code', async () => {
    const r = await deploy(['my-cluster-karpenter', '--auto-approve', '--ignore-missing-stack-dependencies'], { 'us-west-2': [GENERAL, GPU] }, undefined, 3);
    expect(r.code).toBe(3);
    expect(r.runs).toEqual([
      {
        args: ['deploy', 'my-cluster-karpenter', '--auto-approve', '--ignore-missing-stack-dependencies'],
        env: expect.objectContaining({ CHECKPOINT_DISABLE: '1' }),
        stdoutToStderr: false,
      },
    ]);
    expect(r.stdout).toContain(`ok   my-cluster-karpenter: ${GENERAL} exists in us-west-2`);
  });

  // Issue 21: the parameter is a pointer anyone with ssm:PutParameter can move; the stack's plan would fail on it.
  test.each([
    [
      'another account',
      (s: SnapshotRecord) => ({ ...s, ownerId: '210987654321' }),
      /which is owned by account 210987654321, not by this account \(123456789012\)/,
    ],
    ['no cache tag', (s: SnapshotRecord) => ({ ...s, tags: { 'bottlerocket-fleet:build-id': 'x' } }), /which has no bottlerocket-fleet:cache tag/],
    [
      'another cache',
      (s: SnapshotRecord) => ({ ...s, tags: { ...s.tags, 'bottlerocket-fleet:cache': 'gpu' } }),
      /which is tagged bottlerocket-fleet:cache=gpu, not general/,
    ],
  ])('a parameter naming a snapshot of %s: exit 1 naming the parameter and the snapshot, cdktf never runs', async (_name, change, reason) => {
    const provenance = fakeProvenance((s, region) => (s.id === SNAPSHOT && region === 'us-west-2' ? change(s) : s));
    const r = await deploy(
      ['my-cluster-karpenter', '--ignore-missing-stack-dependencies'],
      { 'us-west-2': [GENERAL, GPU] },
      undefined,
      0,
      100,
      '1.50.0',
      provenance,
    );
    expect(r.code).toBe(1);
    expect(r.runs).toEqual([]);
    expect(r.stderr).toMatch(new RegExp(`my-cluster-karpenter: SSM parameter ${GENERAL} in us-west-2 names snapshot ${SNAPSHOT}, ${reason.source}`));
    expect(r.stderr).toContain('nothing was deployed: 1 cache parameter(s) naming an untrusted snapshot (checked before Terraform ran)');
  });

  test('options after a lone -- go to cdktf deploy as they are, and are not parsed as our own', async () => {
    const r = await deploy(
      ['image-cache-builder-us-west-2', '--auto-approve', '--', '--skip-provider-lock', '--output', '/tmp/out', '--json'],
      {},
      undefined,
      0,
    );
    expect(r.code).toBe(0);
    expect(r.runs.map((run) => run.args)).toEqual([
      ['deploy', 'image-cache-builder-us-west-2', '--auto-approve', '--skip-provider-lock', '--output', '/tmp/out', '--json'],
    ]);
    expect(r.runs[0].stdoutToStderr).toBe(false); // the --json after -- is cdktf's, not ours
  });

  test('a built: false cache is not looked up, and the stack deploys', async () => {
    const r = await deploy(['my-cluster-karpenter', '--ignore-missing-stack-dependencies'], { 'us-west-2': [GENERAL] }, (f) => {
      f.imageCaches.gpu.built = false;
    });
    expect(r.code).toBe(0);
    // The parameter, and its history (what the snapshot it names is checked against).
    expect(r.calls).toEqual([
      ['us-west-2', GENERAL],
      ['us-west-2', `${GENERAL}-history`],
    ]);
    expect(r.runs).toHaveLength(1);
  });

  test('a first deployment in one ordered run: image-cache-general writes the copy first, so only the build is required', async () => {
    const argv = ['east-cluster', 'image-cache-general', 'east-karpenter'];
    const r = await deploy(argv, { 'us-west-2': [GENERAL] });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([['us-west-2', GENERAL]]);
    expect(r.runs[0].args).toEqual(['deploy', 'east-cluster', 'image-cache-general', 'east-karpenter']);
    const unbuilt = await deploy(argv, {});
    expect(unbuilt.code).toBe(1);
    expect(unbuilt.stderr).toContain('Run `npm run cache -- build general` (First deployment, step 3');
    expect(unbuilt.stderr).toContain('image-cache-general, deployed first in this run, copies it to us-east-1');
  });

  test('stacks that are not Karpenter stacks pass through unchecked', async () => {
    const r = await deploy(['my-cluster-cluster', 'image-cache-builder-us-west-2'], {});
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.runs[0].args).toEqual(['deploy', 'my-cluster-cluster', 'image-cache-builder-us-west-2']);
  });

  test('an SSM error other than "not found" fails (exit 1 through the process) instead of passing', async () => {
    const ssm = () => ({
      send: async () => {
        throw Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
      },
    });
    let ran = false;
    await expect(
      withFleetFile(twoRegionFleetSpec(), () =>
        main(['my-cluster-karpenter', '--ignore-missing-stack-dependencies'], {
          out: () => undefined,
          err: () => undefined,
          ssm,
          runCdktf: async () => {
            ran = true;
            return 0;
          },
        }),
      ),
    ).rejects.toThrow(`could not read SSM parameter ${GENERAL} in us-west-2 to check it (AccessDeniedException: User is not authorized); nothing was deployed`);
    expect(ran).toBe(false);
  });
});

describe('deploy: command line', () => {
  test('--dry-run checks and prints the command without running it', async () => {
    const r = await deploy(['my-cluster-karpenter', '--dry-run', '--auto-approve', '--ignore-missing-stack-dependencies'], { 'us-west-2': [GENERAL, GPU] });
    expect(r.code).toBe(0);
    expect(r.runs).toEqual([]);
    expect(r.stdout).toContain('dry run: would run CHECKPOINT_DISABLE=1 cdktf deploy my-cluster-karpenter --auto-approve --ignore-missing-stack-dependencies');
  });

  test("--json: one JSON document on stdout (dry run, refusal and run), cdktf's output sent to stderr", async () => {
    const dry = await deploy(['my-cluster-karpenter', '--dry-run', '--json', '--ignore-missing-stack-dependencies'], { 'us-west-2': [GENERAL, GPU] });
    expect(JSON.parse(dry.stdout)).toMatchObject({
      ok: true,
      ran: false,
      stacks: ['my-cluster-karpenter'],
      checks: [
        { cache: 'general', region: 'us-west-2', parameter: GENERAL, exists: true },
        { cache: 'gpu', exists: true },
      ],
      command: ['cdktf', 'deploy', 'my-cluster-karpenter', '--ignore-missing-stack-dependencies'],
    });
    const refused = await deploy(['east-karpenter', '--json', '--ignore-missing-stack-dependencies'], { 'us-west-2': [GENERAL] });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      ok: false,
      ran: false,
      checks: [
        {
          cache: 'general',
          region: 'us-east-1',
          writtenBy: 'image-cache-stack',
          exists: false,
          message: expect.stringContaining('Deploy image-cache-general (First deployment, step 4)'),
        },
      ],
    });
    const ran = await deploy(['my-cluster-karpenter', '--json', '--ignore-missing-stack-dependencies'], { 'us-west-2': [GENERAL, GPU] });
    expect(JSON.parse(ran.stdout)).toMatchObject({ ok: true, ran: true, exitCode: 0 });
    expect(ran.runs[0].stdoutToStderr).toBe(true);
  });

  test("an unknown stack: exit 2 listing the fleet's stacks, nothing checked or run", async () => {
    const r = await deploy(['my-cluster-karpentr'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "unknown stack(s): my-cluster-karpentr\nthe fleet's stacks: my-cluster-cluster, my-cluster-karpenter, east-cluster, east-karpenter, image-cache-builder-us-west-2, image-cache-general\n",
    );
    expect([r.calls, r.runs]).toEqual([[], []]);
  });

  test('a dependency left out: exit 2 with both ways on, before any check', async () => {
    const r = await deploy(['east-karpenter'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('east-karpenter depends on east-cluster, image-cache-general, which this run does not deploy.');
    expect(r.stderr).toContain('east-cluster image-cache-general east-karpenter` (cdktf deploys them in dependency order');
    expect(r.stderr).toContain('add --ignore-missing-stack-dependencies');
    expect([r.calls, r.runs]).toEqual([[], []]);
  });

  test('--help on stdout (exit 0) without reading the fleet; no stack or a bad option: usage on stderr, exit 2', async () => {
    const capture = (argv: string[]) => captureMain(cliMain, argv, { FLEET_FILE: '/nonexistent/fleet.yaml' });
    {
      const help = await capture(['deploy', '--help']);
      expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' });
      expect(help.stdout).toMatch(/^usage: bottlerocket-fleet deploy <stack\.\.\.> \[--auto-approve\] \[--dry-run\] \[--json\]/);
      expect(help.stdout).toContain('cdktf deploy');
      expect((await capture(['--help'])).stdout).toContain('  deploy ');
      for (const [argv, problem] of [
        [['deploy'], /missing argument: the stack\(s\) to deploy/],
        [['deploy', 'x', '--parallelism', '2'], /unknown option --parallelism/],
      ] as const) {
        const r = await capture([...argv]);
        expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
        expect(r.stderr).toMatch(problem);
        expect(r.stderr).toMatch(/\n\nusage: bottlerocket-fleet deploy/);
      }
    }
  });
});

describe('deploy: pools against the real size of the generation they launch from (issue 20)', () => {
  test('a pool smaller than the snapshot its node class will name: exit 1 naming the pool, the generation and the size, cdktf never runs', async () => {
    // general was built at 150 GiB; dataVolumeGiB was lowered to 100 since, but that generation is still current.
    const r = await deploy(['east-karpenter', '--ignore-missing-stack-dependencies'], { 'us-east-1': [GENERAL] }, undefined, 0, 150);
    expect(r.code).toBe(1);
    expect(r.runs).toEqual([]);
    expect(r.looked).toEqual([['us-east-1', 'snap-0123456789abcdef0']]);
    expect(r.stderr).toContain(
      'clusters.east.karpenter.nodePools.default.dataVolumeGiB: 100 GiB is smaller than the generation its node classes will name of cache general, snapshot snap-0123456789abcdef0 in us-east-1 (150 GiB)',
    );
    expect(r.stderr).toContain('Set dataVolumeGiB to at least 150');
    expect(r.stderr).toContain('nothing was deployed: 1 pool(s) or cluster(s) cannot launch from the generation they would name');
  });

  test('pools as large as the snapshot deploy', async () => {
    const r = await deploy(['east-karpenter', '--ignore-missing-stack-dependencies'], { 'us-east-1': [GENERAL] }, undefined, 0, 100);
    expect(r.code).toBe(0);
    expect(r.runs).toHaveLength(1);
  });
});

describe('deploy: a cluster pinned to a Bottlerocket release against the release its generation was built on (issue 20)', () => {
  const pin = (f: any) => {
    delete f.clusters.east.bottlerocketRelease; // the older form of a pin: amiAlias alone
    f.clusters.east.karpenter.amiAlias = 'bottlerocket@v1.50.0';
  };
  test('a generation built on a newer release than the cluster pins: exit 1 naming the pin, the generation and the fix', async () => {
    const r = await deploy(['east-karpenter', '--ignore-missing-stack-dependencies'], { 'us-east-1': [GENERAL] }, pin, 0, 100, '1.51.0');
    expect(r.code).toBe(1);
    expect(r.runs).toEqual([]);
    expect(r.stderr).toContain(
      'clusters.east.karpenter.amiAlias: pins bottlerocket@v1.50.0, and the generation its node classes will name of cache general, snapshot snap-0123456789abcdef0 in us-east-1, was built on the newer Bottlerocket 1.51.0',
    );
    expect(r.stderr).toContain(
      'Rebuild the cache on 1.50.0 (imageCaches.general.bottlerocketVersion), pin the cluster to bottlerocket@v1.51.0, or pass --allow-version-skew',
    );
  });
  test('--allow-version-skew deploys it; the same or an older release, or an unpinned cluster, deploy without it', async () => {
    expect(
      (await deploy(['east-karpenter', '--ignore-missing-stack-dependencies', '--allow-version-skew'], { 'us-east-1': [GENERAL] }, pin, 0, 100, '1.51.0')).code,
    ).toBe(0);
    expect((await deploy(['east-karpenter', '--ignore-missing-stack-dependencies'], { 'us-east-1': [GENERAL] }, pin, 0, 100, '1.50.0')).code).toBe(0);
    expect((await deploy(['east-karpenter', '--ignore-missing-stack-dependencies'], { 'us-east-1': [GENERAL] }, undefined, 0, 100, '1.51.0')).code).toBe(0);
  });
});
