import { mockClient } from 'aws-sdk-client-mock';
import { DeleteSnapshotCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { collectGarbage, listCaches } from '../cli/cache/inventory';
import { loadFleet } from '../modules/fleet/load';
import { DEFAULT_FLEET } from './helpers/fleet';
import { FakeAws } from './helpers/fake-aws';

const general = loadFleet(DEFAULT_FLEET).imageCaches.filter((c) => c.name === 'general');
const NOW = Date.parse('2026-11-25T12:00:00Z');

function region(params: Record<string, string>, snapshots: any[], instances: any[] = []) {
  const ec2 = new EC2Client({ region: 'us-west-2' });
  const ssm = new SSMClient({ region: 'us-west-2' });
  const e = mockClient(ec2);
  const s = mockClient(ssm);
  s.on(GetParameterCommand).callsFake((i) => {
    if (!(i.Name! in params)) throw Object.assign(new Error('nf'), { name: 'ParameterNotFound' });
    return { Parameter: { Value: params[i.Name!] } };
  });
  e.on(DescribeSnapshotsCommand).resolves({ Snapshots: snapshots });
  e.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: instances }] });
  e.on(TerminateInstancesCommand).resolves({});
  e.on(DeleteSnapshotCommand).resolves({});
  return { ec2, ssm, e };
}

const P = '/bottlerocket-fleet/image-cache/general/snapshot-id';

const ACCOUNT = '123456789012';
const built = (id: string, tags: Record<string, string>, more: object = {}) => ({
  SnapshotId: id,
  OwnerId: ACCOUNT,
  State: 'completed',
  Encrypted: true,
  Tags: Object.entries({ 'bottlerocket-fleet:cache': 'general', ...tags }).map(([Key, Value]) => ({ Key, Value })),
  ...more,
});

test('cache list shows the current and previous snapshot in every region, with owner, build ID and whether the history names it', async () => {
  const home = region({ [P]: 'snap-new', [`${P}-history`]: '["snap-new","snap-old"]' }, [built('snap-new', { 'bottlerocket-fleet:build-id': 'general-2' })]);
  const replica = region({ [P]: 'snap-copy-new' }, [
    built(
      'snap-copy-old',
      { 'bottlerocket-fleet:build-id': 'general-1', 'bottlerocket-fleet:source-snapshot': 'snap-old' },
      { StartTime: new Date(NOW - 86_400_000) },
    ),
    built('snap-copy-new', { 'bottlerocket-fleet:build-id': 'general-2', 'bottlerocket-fleet:source-snapshot': 'snap-new' }, { StartTime: new Date(NOW) }),
  ]);
  const rows = await listCaches(
    general,
    (r) => (r === 'us-west-2' ? home : replica),
    async () => ACCOUNT,
  );
  expect(rows).toEqual([
    { cache: 'general', region: 'us-west-2', current: 'snap-new', previous: 'snap-old', owner: ACCOUNT, buildId: 'general-2', inHistory: true },
    { cache: 'general', region: 'us-east-1', current: 'snap-copy-new', previous: 'snap-copy-old', owner: ACCOUNT, buildId: 'general-2', inHistory: true },
  ]);
});

// Issue 21: a parameter anyone with ssm:PutParameter can move is shown with what is wrong with it.
test('cache list flags a current snapshot that fails the provenance checks', async () => {
  const home = region({ [P]: 'snap-public', [`${P}-history`]: '["snap-new"]' }, [built('snap-public', {}, { OwnerId: '210987654321', Encrypted: false })]);
  const replica = region({ [P]: 'snap-gone' }, []);
  const rows = await listCaches(
    general,
    (r) => (r === 'us-west-2' ? home : replica),
    async () => ACCOUNT,
  );
  expect(rows.map((r) => [r.region, r.owner, r.inHistory, r.untrusted])).toEqual([
    [
      'us-west-2',
      '210987654321',
      false,
      'is owned by account 210987654321, not by this account (123456789012); is not encrypted; has no bottlerocket-fleet:build-id tag; is not a build /bottlerocket-fleet/image-cache/general/snapshot-id-history (us-west-2) names',
    ],
    ['us-east-1', undefined, undefined, 'does not exist in us-east-1'],
  ]);
});

test('cache gc terminates old builder instances and deletes unreferenced home snapshots, never copies', async () => {
  const home = region(
    { [P]: 'snap-new', [`${P}-history`]: '["snap-new","snap-old"]' },
    [
      { SnapshotId: 'snap-new' },
      { SnapshotId: 'snap-old' },
      { SnapshotId: 'snap-orphan' },
      { SnapshotId: 'snap-copy', Tags: [{ Key: 'bottlerocket-fleet:source-snapshot', Value: 'snap-x' }] },
    ],
    [
      { InstanceId: 'i-crashed', LaunchTime: new Date(NOW - 10 * 3_600_000) },
      { InstanceId: 'i-building', LaunchTime: new Date(NOW - 600_000) },
    ],
  );
  const dry = await collectGarbage(general, () => home, { olderThanMs: 6 * 3_600_000, dryRun: true, now: NOW });
  expect(dry.map((a) => [a.action, a.id])).toEqual([
    ['terminate', 'i-crashed'],
    ['delete-snapshot', 'snap-orphan'],
  ]);
  expect(home.e.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  expect(home.e.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);

  await collectGarbage(general, () => home, { olderThanMs: 6 * 3_600_000, dryRun: false, now: NOW });
  expect(home.e.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds)).toEqual([['i-crashed']]);
  expect(home.e.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)).toEqual(['snap-orphan']);
});

// Against FakeAws, whose DescribeInstances / DescribeSnapshots honour Filters and OwnerIds as EC2 does:
// gc without its tag filters would list (and delete) what is not the fleet's.
describe("cache gc only ever touches the fleet's own resources", () => {
  const clusterParameters = () => [{ region: 'us-west-2', name: `${P}/clusters/my-cluster` }];
  function account() {
    const aws = new FakeAws();
    const ours = { 'bottlerocket-fleet:cache': 'general', 'bottlerocket-fleet:fleet': general[0].fleetId };
    const fleet = {
      current: aws.addSnapshot({ tags: ours }),
      orphan: aws.addSnapshot({ tags: { ...ours, 'bottlerocket-fleet:build-id': 'general-1' } }),
      crashed: aws.addInstance({ tags: { ...ours, 'bottlerocket-fleet:build-id': 'general-1' }, launchTime: new Date(NOW - 10 * 3_600_000) }),
      // A build running now: its instance is young, its snapshot not in the history yet.
      building: aws.addInstance({ tags: { ...ours, 'bottlerocket-fleet:build-id': 'general-3' }, launchTime: new Date(NOW - 600_000) }),
      buildingSnapshot: aws.addSnapshot({ tags: { ...ours, 'bottlerocket-fleet:build-id': 'general-3' } }),
      // Named by a rollout cluster's parameter only (a cluster held back on an old generation).
      held: aws.addSnapshot({ tags: { ...ours, 'bottlerocket-fleet:build-id': 'general-0' } }),
    };
    aws.params.set(`${P}/clusters/my-cluster`, fleet.held);
    aws.params.set(P, fleet.current);
    aws.params.set(`${P}-history`, JSON.stringify([fleet.current]));
    const foreign = {
      untaggedSnapshot: aws.addSnapshot(),
      otherToolSnapshot: aws.addSnapshot({ tags: { 'other-tool:cache': 'general', Name: 'general' } }),
      otherCacheSnapshot: aws.addSnapshot({ tags: { 'bottlerocket-fleet:cache': 'not-in-this-fleet' } }),
      // Issue 21: a second fleet in the account with a cache of the same name.
      otherFleetSnapshot: aws.addSnapshot({ tags: { 'bottlerocket-fleet:cache': 'general', 'bottlerocket-fleet:fleet': 'fleet-other' } }),
      otherFleetInstance: aws.addInstance({
        tags: { 'bottlerocket-fleet:cache': 'general', 'bottlerocket-fleet:fleet': 'fleet-other', 'bottlerocket-fleet:build-id': 'general-9' },
        launchTime: new Date(NOW - 10 * 3_600_000),
      }),
      unfleetedSnapshot: aws.addSnapshot({ tags: { 'bottlerocket-fleet:cache': 'general', 'bottlerocket-fleet:build-id': 'general-8' } }),
      publicSnapshot: aws.addSnapshot({ tags: { 'bottlerocket-fleet:cache': 'general' }, ownerId: '210987654321' }),
      untaggedInstance: aws.addInstance({ launchTime: new Date(NOW - 10 * 3_600_000) }),
      otherToolInstance: aws.addInstance({
        tags: { 'other-tool:build-id': 'x', Name: 'image-cache-builder-general' },
        launchTime: new Date(NOW - 10 * 3_600_000),
      }),
    };
    return { aws, fleet, foreign };
  }

  test("dry run lists only the fleet's orphan snapshot and crashed builder", async () => {
    const { aws, fleet } = account();
    const actions = await collectGarbage(general, () => ({ ec2: aws.ec2, ssm: aws.ssm }), {
      olderThanMs: 6 * 3_600_000,
      dryRun: true,
      now: NOW,
      clusterParameters,
    });
    expect(actions.map((a) => [a.action, a.id])).toEqual([
      ['terminate', fleet.crashed],
      ['delete-snapshot', fleet.orphan],
    ]);
  });

  test('gc deletes and terminates exactly those, and nothing else', async () => {
    const { aws, fleet, foreign } = account();
    await collectGarbage(general, () => ({ ec2: aws.ec2, ssm: aws.ssm }), { olderThanMs: 6 * 3_600_000, dryRun: false, now: NOW, clusterParameters });
    expect(aws.snapshots.has(fleet.orphan)).toBe(false);
    // A build in progress, and a generation only a cluster parameter still names, stay.
    for (const id of [fleet.buildingSnapshot, fleet.held]) expect(aws.snapshots.has(id)).toBe(true);
    expect(aws.instances.get(fleet.building)!.state).toBe('running');
    // Another fleet's (same cache name) and snapshots without the fleet tag are never this fleet's to delete.
    for (const id of [foreign.otherFleetSnapshot, foreign.unfleetedSnapshot]) expect(aws.snapshots.has(id)).toBe(true);
    expect(aws.instances.get(foreign.otherFleetInstance)!.state).toBe('running');
    expect(aws.instances.get(fleet.crashed)!.state).toBe('terminated');
    for (const id of [fleet.current, foreign.untaggedSnapshot, foreign.otherToolSnapshot, foreign.otherCacheSnapshot, foreign.publicSnapshot])
      expect(aws.snapshots.has(id)).toBe(true);
    expect(aws.instances.get(foreign.untaggedInstance)!.state).toBe('running');
    expect(aws.instances.get(foreign.otherToolInstance)!.state).toBe('running');
  });

  test('the fakes honour Filters and OwnerIds (an unknown filter is an error, never ignored)', async () => {
    const { aws, fleet, foreign } = account();
    const tagged = await aws.ec2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:bottlerocket-fleet:cache', Values: ['general'] }] }),
    );
    expect(tagged.Snapshots!.map((s) => s.SnapshotId).sort()).toEqual(
      [fleet.current, fleet.orphan, fleet.buildingSnapshot, fleet.held, foreign.otherFleetSnapshot, foreign.unfleetedSnapshot].sort(),
    );
    const running = await aws.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag-key', Values: ['bottlerocket-fleet:build-id'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    expect(running.Reservations!.flatMap((r) => r.Instances!).map((i) => i.InstanceId)).toEqual([fleet.crashed, fleet.building, foreign.otherFleetInstance]);
    await expect(aws.ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'volume-size', Values: ['1'] }] }))).rejects.toThrow(/not modelled/);
  });
});
