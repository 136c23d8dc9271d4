/**
 * Trust no pointer: with a cache parameter naming another account's snapshot, a self-owned snapshot
 * without the cache tag, or a snapshot of another cache, real Terraform (aws 5.100.0, against the emulator)
 * fails the plan of the Karpenter stack and of the replication stack naming the parameter and the snapshot,
 * and the rollout refuses each before it writes anything; a genuine build plans cleanly and rolls out.
 * The checks are modules/image-cache/provenance.ts (postconditions) and cli/shared/snapshot-provenance.ts.
 */
import * as path from 'path';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateSnapshotCommand, CreateTagsCommand, CreateVolumeCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { describeWithRealTools, EMULATOR_AMI, emulatorEnv, terraformEnv } from '../helpers/real-tools';
import { P, useRolloutWorld } from '../helpers/rollout-world';
import { synthFleet, tempDir } from '../helpers/fleet';
import { plannedChanges, prepareForPlanning } from '../helpers/terraform-plan';
import { ANNOTATIONS, planRollout } from '../../cli/rollout/model';
import { resolveRollout, runRollout, RolloutBlocked } from '../../cli/rollout/engine';

describeWithRealTools('a cache parameter naming an untrusted snapshot (real Terraform and the rollout against the emulator)', () => {
  const world = useRolloutWorld();
  /** The three bad pointers' snapshots, by case, and what the failure must say about each. */
  const bad: Record<'foreign' | 'untagged' | 'otherCache', { id: string; reason: RegExp }> = {} as any;
  let stacks: Record<string, any>;
  const put = (region: string, name: string, value: string) =>
    world.w.ssm(region).send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

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
    stacks = synthFleet(world.w.fleet);
  }, 60_000);

  const cases = ['foreign', 'untagged', 'otherCache'] as const;

  test('the Karpenter stack: each bad cluster parameter fails the plan naming the parameter and the snapshot; a genuine build plans', async () => {
    await new EKSClient({ region: 'us-west-2', endpoint: world.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }).send(
      new CreateClusterCommand({ name: 'ml-train', roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
    );
    const dir = path.join(tempDir('provenance-karpenter-'), 'ml-train-karpenter');
    const env = terraformEnv(path.dirname(dir), emulatorEnv(world.moto.endpoint));
    await prepareForPlanning(stacks['ml-train-karpenter'], dir, env);
    const parameter = `${P}/clusters/ml-train`;
    try {
      for (const c of cases) {
        await put('us-west-2', parameter, bad[c].id);
        const error = await plannedChanges(dir, env).catch((e: Error) => e);
        expect(error).toBeInstanceOf(Error);
        const message = (error as Error).message.replace(/\s+/g, ' ');
        expect(message).toMatch(new RegExp(`SSM parameter ${escape(parameter)} in us-west-2 names snapshot ${bad[c].id}, which ${bad[c].reason.source}`));
      }
      await put('us-west-2', parameter, world.w.gen.homeOld);
      const changes = await plannedChanges(dir, env);
      expect(Object.keys(changes).length).toBeGreaterThan(0);
    } finally {
      await put('us-west-2', parameter, world.w.gen.homeOld);
    }
  }, 300_000);

  test('the Karpenter stack of a replica-region cluster: a copy of a build the history does not name fails the plan; the genuine copy plans', async () => {
    await new EKSClient({ region: 'us-east-1', endpoint: world.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }).send(
      new CreateClusterCommand({ name: 'payments-prod', roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
    );
    // Self-owned, encrypted, tagged like a copy: only its source (a snapshot no history names) gives it away.
    const replica = world.w.ec2('us-east-1');
    const vol = await replica.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 100, Encrypted: true }));
    const forged = (
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
    const dir = path.join(tempDir('provenance-karpenter-replica-'), 'payments-prod-karpenter');
    const env = terraformEnv(path.dirname(dir), emulatorEnv(world.moto.endpoint, 'us-east-1'));
    await prepareForPlanning(stacks['payments-prod-karpenter'], dir, env);
    const parameter = `${P}/clusters/payments-prod`;
    try {
      await put('us-east-1', parameter, forged);
      const error = await plannedChanges(dir, env).catch((e: Error) => e);
      expect((error as Error).message.replace(/\s+/g, ' ')).toMatch(
        new RegExp(
          `SSM parameter ${escape(parameter)} in us-east-1 names snapshot ${forged}, which is a copy of snap-0000000000000dead \\(its bottlerocket-fleet:source-snapshot tag\\), which is not a build ${escape(`${P}-history`)} \\(us-west-2\\) names`,
        ),
      );
      await put('us-east-1', parameter, world.w.gen.copyOld);
      expect(Object.keys(await plannedChanges(dir, env)).length).toBeGreaterThan(0);
    } finally {
      await put('us-east-1', parameter, world.w.gen.copyOld);
    }
  }, 300_000);

  test('the replication stack: each bad cache parameter fails the plan naming the parameter and the snapshot; a genuine build plans', async () => {
    const dir = path.join(tempDir('provenance-replication-'), 'image-cache-general');
    const env = terraformEnv(path.dirname(dir), emulatorEnv(world.moto.endpoint));
    await prepareForPlanning(stacks['image-cache-general'], dir, env);
    try {
      for (const c of cases) {
        await put('us-west-2', P, bad[c].id);
        const error = await plannedChanges(dir, env).catch((e: Error) => e);
        expect(error).toBeInstanceOf(Error);
        const message = (error as Error).message.replace(/\s+/g, ' ');
        expect(message).toMatch(new RegExp(`SSM parameter ${escape(P)} in us-west-2 names snapshot ${bad[c].id}, which ${bad[c].reason.source}`));
      }
      await put('us-west-2', P, world.w.gen.homeNew);
      const copies = Object.keys(await plannedChanges(dir, env)).filter((a) => a.startsWith('aws_ebs_snapshot_copy.'));
      expect(copies.length).toBeGreaterThan(0);
    } finally {
      await put('us-west-2', P, world.w.gen.homeNew);
    }
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
