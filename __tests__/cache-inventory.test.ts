import { mockClient } from 'aws-sdk-client-mock';
import { DeleteSnapshotCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { collectGarbage, listCaches } from '../cli/cache/inventory';
import { loadFleet } from '../modules/fleet/load';
import { DEFAULT_FLEET } from './helpers/fleet';

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

test('cache list shows the current and previous snapshot in every region', async () => {
  const home = region({ [P]: 'snap-new', [`${P}-history`]: '["snap-new","snap-old"]' }, []);
  const replica = region({ [P]: 'snap-copy-new' }, [
    { SnapshotId: 'snap-copy-old', StartTime: new Date(NOW - 86_400_000) },
    { SnapshotId: 'snap-copy-new', StartTime: new Date(NOW) },
  ]);
  const rows = await listCaches(general, (r) => (r === 'us-west-2' ? home : replica));
  expect(rows).toEqual([
    { cache: 'general', region: 'us-west-2', current: 'snap-new', previous: 'snap-old' },
    { cache: 'general', region: 'us-east-1', current: 'snap-copy-new', previous: 'snap-copy-old' },
  ]);
});

test('cache gc terminates old builder instances and deletes unreferenced home snapshots, never copies', async () => {
  const home = region({ [P]: 'snap-new', [`${P}-history`]: '["snap-new","snap-old"]' }, [
    { SnapshotId: 'snap-new' }, { SnapshotId: 'snap-old' }, { SnapshotId: 'snap-orphan' },
    { SnapshotId: 'snap-copy', Tags: [{ Key: 'bottlerocket-fleet:source-snapshot', Value: 'snap-x' }] },
  ], [
    { InstanceId: 'i-crashed', LaunchTime: new Date(NOW - 10 * 3_600_000) },
    { InstanceId: 'i-building', LaunchTime: new Date(NOW - 600_000) },
  ]);
  const dry = await collectGarbage(general, () => home, { olderThanMs: 6 * 3_600_000, dryRun: true, now: NOW });
  expect(dry.map((a) => [a.action, a.id])).toEqual([['terminate', 'i-crashed'], ['delete-snapshot', 'snap-orphan']]);
  expect(home.e.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  expect(home.e.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);

  await collectGarbage(general, () => home, { olderThanMs: 6 * 3_600_000, dryRun: false, now: NOW });
  expect(home.e.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds)).toEqual([['i-crashed']]);
  expect(home.e.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)).toEqual(['snap-orphan']);
});
