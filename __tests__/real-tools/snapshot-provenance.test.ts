/**
 * Trust no pointer: with a cache parameter naming another account's snapshot, a self-owned snapshot
 * without the cache tag, or a snapshot of another cache, real Terraform (aws 5.100.0, against the emulator)
 * fails the plan of the Karpenter stack and of the replication stack naming the parameter and the snapshot,
 * and the rollout refuses each before it writes anything; a genuine build plans cleanly and rolls out.
 * The checks are modules/image-cache/provenance.ts (postconditions) and cli/shared/snapshot-provenance.ts.
 *
 * One `terraform init` and one `terraform plan` for every Terraform case (issue 27 item 5; it was 3 inits and
 * 10 plans, each loading the aws provider): every bad case is a stack of its own fleet, whose cache keeps its
 * parameters under a path of its own holding the world's parameters with the one bad value, so the bad cases
 * and the genuine ones (the world's own fleet and parameters) are child modules of one root
 * (helpers/terraform-batch.ts). Each case is asserted on its own: a bad one on the errors in its own
 * module's files, a genuine one on having none there (and none outside every case) and on its planned changes.
 */
import { TerraformStack, Testing } from 'cdktf';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateSnapshotCommand, CreateTagsCommand, CreateVolumeCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { describeWithRealTools, EMULATOR_AMI, emulatorEnv, terraformEnv } from '../helpers/real-tools';
import { P, useRolloutWorld } from '../helpers/rollout-world';
import { rolloutFleet } from '../helpers/rollout-fixtures';
import { fleetFrom, tempDir } from '../helpers/fleet';
import { BatchRun, TerraformBatch } from '../helpers/terraform-batch';
import { RELAXED_GO_GC } from '../helpers/provider-server';
import { buildApp } from '../../stacks/app';
import type { Fleet } from '../../modules/fleet/load';
import { ANNOTATIONS, planRollout } from '../../cli/rollout/model';
import { resolveRollout, runRollout, RolloutBlocked } from '../../cli/rollout/engine';

type BadCase = 'foreign' | 'untagged' | 'otherCache';

/** Some stacks of a fleet, synthesized (with construct validations) into parsed Terraform JSON. */
function synthStacks<T extends string>(fleet: Fleet, ids: readonly T[]): Record<T, Record<string, any>> {
  const app = buildApp(fleet, { outdir: tempDir('provenance-synth-') });
  const stacks = app.node.children.filter((c): c is TerraformStack => c instanceof TerraformStack);
  return Object.fromEntries(
    ids.map((id) => {
      const stack = stacks.find((s) => s.node.id === id);
      if (!stack) throw new Error(`the fleet has no stack ${id}`);
      return [id, JSON.parse(Testing.synth(stack, true))];
    }),
  ) as Record<T, Record<string, any>>;
}

/** The rollout world's fleet (rollout-world.ts setUp) with cache `general`'s parameters under `parameterPath`. */
function fleetWithParameters(parameterPath: string): Fleet {
  const fleet = rolloutFleet();
  fleet.imageCaches.general.parameterPath = parameterPath;
  for (const cluster of Object.values<any>(fleet.clusters)) delete cluster.trustedCertificates;
  return fleetFrom(fleet);
}

describeWithRealTools('a cache parameter naming an untrusted snapshot (real Terraform and the rollout against the emulator)', () => {
  const world = useRolloutWorld();
  /** The three bad pointers' snapshots, by case, and what the failure must say about each. */
  const bad: Record<BadCase, { id: string; reason: RegExp }> = {} as any;
  /** A self-owned, encrypted snapshot in us-east-1 tagged like a copy, of a source no history names. */
  let forged: string;
  const put = (region: string, name: string, value: string) =>
    world.w.ssm(region).send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const cases = ['foreign', 'untagged', 'otherCache'] as const;

  /**
   * A bad case's parameter path: the world's parameters (rollout-world.ts setUp, and the history this suite
   * puts) copied under it, with the one pointer under test changed.
   */
  const badParameters = async (parameterPath: string, pointer: { region: string; name: string; value: string }) => {
    const values: [string, string, string][] = [
      ['us-west-2', parameterPath, world.w.gen.homeNew],
      ['us-west-2', `${parameterPath}-history`, (await world.w.param('us-west-2', `${P}-history`))!],
      ['us-east-1', parameterPath, world.w.gen.copyNew ?? world.w.gen.copyOld],
      ['us-west-2', `${parameterPath}/clusters/ml-train`, world.w.gen.homeOld],
      ['us-east-1', `${parameterPath}/clusters/payments-prod`, world.w.gen.copyOld],
    ];
    await Promise.all(values.map(([region, name, value]) => put(region, name, region === pointer.region && name === pointer.name ? pointer.value : value)));
  };
  const karpenterPath = (c: BadCase) => `/bottlerocket-fleet/image-cache/provenance-karpenter-${c}/snapshot-id`;
  const replicationPath = (c: BadCase) => `/bottlerocket-fleet/image-cache/provenance-replication-${c}/snapshot-id`;
  const replicaPath = '/bottlerocket-fleet/image-cache/provenance-replica-forged/snapshot-id';

  /** Every case's plan, in one Terraform run, made once for the three Terraform tests. */
  let planned: Promise<BatchRun> | undefined;
  const plan = () => (planned ??= planAll());
  const planAll = async () => {
    const genuine = synthStacks(world.w.fleet, ['ml-train-karpenter', 'payments-prod-karpenter', 'image-cache-general']);
    const stacks: Record<string, Record<string, any>> = {
      karpenter: genuine['ml-train-karpenter'],
      replica: genuine['payments-prod-karpenter'],
      replication: genuine['image-cache-general'],
      'replica-forged': synthStacks(fleetWithParameters(replicaPath), ['payments-prod-karpenter'])['payments-prod-karpenter'],
    };
    for (const c of cases) {
      stacks[`karpenter-${c}`] = synthStacks(fleetWithParameters(karpenterPath(c)), ['ml-train-karpenter'])['ml-train-karpenter'];
      stacks[`replication-${c}`] = synthStacks(fleetWithParameters(replicationPath(c)), ['image-cache-general'])['image-cache-general'];
    }
    await Promise.all([
      ...cases.flatMap((c) => [
        badParameters(karpenterPath(c), { region: 'us-west-2', name: `${karpenterPath(c)}/clusters/ml-train`, value: bad[c].id }),
        badParameters(replicationPath(c), { region: 'us-west-2', name: replicationPath(c), value: bad[c].id }),
      ]),
      badParameters(replicaPath, { region: 'us-east-1', name: `${replicaPath}/clusters/payments-prod`, value: forged }),
    ]);
    const dir = tempDir('provenance-plan-');
    // Every provider block of the stacks names its region; the environment's is the home region.
    const batch = new TerraformBatch(dir, terraformEnv(dir, { ...emulatorEnv(world.moto.endpoint), ...RELAXED_GO_GC }));
    for (const [id, stack] of Object.entries(stacks)) batch.addStack(id, stack);
    expect(await batch.init()).toBe('');
    const result = await batch.plan();
    // Errors that no case carries (the root, a shared provider) would make every verdict below meaningless.
    expect(result.unattributed).toEqual([]);
    return result;
  };
  /** A bad case's failure: the plan failed, with errors in the case's own module, as one line. */
  const failure = (result: BatchRun, id: string): string => {
    expect(result.code).not.toBe(0);
    expect(result.cases[id].errors.length).toBeGreaterThan(0);
    return result.cases[id].report.replace(/\s+/g, ' ');
  };
  /** A genuine case's planned changes: no error in its module (nor outside every case), so it planned completely. */
  const cleanChanges = (result: BatchRun, id: string): Record<string, string> => TerraformBatch.changesOf(result, id);

  beforeAll(async () => {
    const home = world.w.ec2('us-west-2');
    // (a) Another account's snapshot: the emulator's public Bottlerocket AMI brings one, owned by the AMI's owner.
    // Tagged like a build, so that the owner alone is what fails.
    const foreign = (await home.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'owner-id', Values: [EMULATOR_AMI.owner_id] }] }))).Snapshots![0]
      .SnapshotId!;
    await home.send(
      new CreateTagsCommand({
        Resources: [foreign],
        Tags: [
          { Key: 'bottlerocket-fleet:cache', Value: 'general' },
          { Key: 'bottlerocket-fleet:build-id', Value: 'general-forged' },
        ],
      }),
    );
    const own = async (tags: Record<string, string>) => {
      const vol = await home.send(new CreateVolumeCommand({ AvailabilityZone: 'us-west-2a', Size: 100, Encrypted: true }));
      const tagList = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
      return (await home.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId, TagSpecifications: [{ ResourceType: 'snapshot', Tags: tagList }] })))
        .SnapshotId!;
    };
    // (b) and (c): self-owned, encrypted, with a build ID; one without the cache tag, one of another cache.
    const untagged = await own({ 'bottlerocket-fleet:build-id': 'general-3' });
    const otherCache = await own({ 'bottlerocket-fleet:cache': 'gpu', 'bottlerocket-fleet:build-id': 'gpu-1' });
    bad.foreign = { id: foreign, reason: new RegExp(`is owned by account ${EMULATOR_AMI.owner_id}, not by this account \\(123456789012\\)`) };
    bad.untagged = { id: untagged, reason: /(is tagged bottlerocket-fleet:cache=, not general|has no bottlerocket-fleet:cache tag)/ };
    bad.otherCache = { id: otherCache, reason: /is tagged bottlerocket-fleet:cache=gpu, not general/ };
    // Every bad one is in the history too: the history is a pointer as well, and must not be what saves the day.
    await put('us-west-2', `${P}-history`, JSON.stringify([world.w.gen.homeNew, world.w.gen.homeOld, foreign, untagged, otherCache]));
    // (d) In a replica region: self-owned, encrypted, tagged like a copy; only its source (a snapshot no history names) gives it away.
    const replica = world.w.ec2('us-east-1');
    const vol = await replica.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 100, Encrypted: true }));
    forged = (
      await replica.send(
        new CreateSnapshotCommand({
          VolumeId: vol.VolumeId,
          TagSpecifications: [
            {
              ResourceType: 'snapshot',
              Tags: [
                { Key: 'bottlerocket-fleet:cache', Value: 'general' },
                { Key: 'bottlerocket-fleet:build-id', Value: 'general-9' },
                { Key: 'bottlerocket-fleet:source-snapshot', Value: 'snap-0000000000000dead' },
              ],
            },
          ],
        }),
      )
    ).SnapshotId!;
    // The clusters the Karpenter stacks look up.
    for (const [region, name] of [
      ['us-west-2', 'ml-train'],
      ['us-east-1', 'payments-prod'],
    ])
      await new EKSClient({ region, endpoint: world.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }).send(
        new CreateClusterCommand({ name, roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
      );
  }, 60_000);

  test('the Karpenter stack: each bad cluster parameter fails the plan naming the parameter and the snapshot; a genuine build plans', async () => {
    const result = await plan();
    for (const c of cases) {
      const parameter = `${karpenterPath(c)}/clusters/ml-train`;
      const message = failure(result, `karpenter-${c}`);
      expect(message).toMatch(new RegExp(`SSM parameter ${escape(parameter)} in us-west-2 names snapshot ${bad[c].id}, which ${bad[c].reason.source}`));
    }
    const changes = cleanChanges(result, 'karpenter');
    expect(Object.keys(changes).length).toBeGreaterThan(0);
  }, 300_000);

  test('the Karpenter stack of a replica-region cluster: a copy of a build the history does not name fails the plan; the genuine copy plans', async () => {
    const result = await plan();
    const parameter = `${replicaPath}/clusters/payments-prod`;
    expect(failure(result, 'replica-forged')).toMatch(
      new RegExp(
        `SSM parameter ${escape(parameter)} in us-east-1 names snapshot ${forged}, which is a copy of snap-0000000000000dead \\(its bottlerocket-fleet:source-snapshot tag\\), which is not a build ${escape(`${replicaPath}-history`)} \\(us-west-2\\) names`,
      ),
    );
    expect(Object.keys(cleanChanges(result, 'replica')).length).toBeGreaterThan(0);
  }, 300_000);

  test('the replication stack: each bad cache parameter fails the plan naming the parameter and the snapshot; a genuine build plans', async () => {
    const result = await plan();
    for (const c of cases) {
      const message = failure(result, `replication-${c}`);
      expect(message).toMatch(
        new RegExp(`SSM parameter ${escape(replicationPath(c))} in us-west-2 names snapshot ${bad[c].id}, which ${bad[c].reason.source}`),
      );
    }
    const copies = Object.keys(cleanChanges(result, 'replication')).filter((a) => a.startsWith('aws_ebs_snapshot_copy.'));
    expect(copies.length).toBeGreaterThan(0);
  }, 300_000);

  test('the rollout refuses each bad snapshot, as --to and as the parameter value, before it writes anything', async () => {
    const plan = planRollout(world.w.fleet, 'general');
    const deps = world.w.deps();
    try {
      for (const c of cases) {
        const viaTo = await resolveRollout(deps, plan, bad[c].id).catch((e: Error) => e);
        expect(viaTo).toBeInstanceOf(RolloutBlocked);
        expect((viaTo as Error).message).toMatch(
          new RegExp(`^--to ${bad[c].id} names snapshot ${bad[c].id}, which ${bad[c].reason.source}.*; nothing was changed$`),
        );
        await put('us-west-2', P, bad[c].id);
        const viaParameter = await resolveRollout(deps, plan).catch((e: Error) => e);
        expect(viaParameter).toBeInstanceOf(RolloutBlocked);
        expect((viaParameter as Error).message).toMatch(
          new RegExp(`^SSM parameter ${escape(P)} in us-west-2 names snapshot ${bad[c].id}, which ${bad[c].reason.source}`),
        );
      }
    } finally {
      await put('us-west-2', P, world.w.gen.homeNew);
    }
    expect(world.w.karpenter('ml-train').writes).toEqual([]);
    expect(world.w.karpenter('payments-prod').writes).toEqual([]);
    // A genuine build is accepted.
    expect((await resolveRollout(deps, plan, world.w.gen.homeNew)).source).toBe(world.w.gen.homeNew);
  });

  test('a resumed rollout refuses a rollback target read back from a node-class annotation that fails the checks', async () => {
    const k = world.w.karpenter('ml-train');
    // An interrupted run's record, with its rollback target swapped for another account's snapshot.
    for (const cls of k.nodeClasses.values())
      Object.assign(cls.annotations, { [ANNOTATIONS.target]: world.w.gen.homeNew, [ANNOTATIONS.state]: 'applied', [ANNOTATIONS.previous]: bad.foreign.id });
    const plan = planRollout(world.w.fleet, 'general');
    const deps = world.w.deps();
    const error = await runRollout(deps, plan, world.w.fleet.tags, await resolveRollout(deps, plan)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RolloutBlocked);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^annotation ${ANNOTATIONS.previous} on EC2NodeClass \\S+ \\(cluster ml-train\\) names snapshot ${bad.foreign.id}, which ${bad.foreign.reason.source}`,
      ),
    );
    expect(await world.w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(world.w.gen.homeOld);
    expect(k.writes).toEqual([]);
  });
});
