/** What ships with the rollout: the Bottlerocket version on each cache generation, shown by `cache list`. */
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { amiVersionParameterPath } from '../cli/cache/plan';
import { listCaches } from '../cli/cache/inventory';
import { loadFleet } from '../modules/fleet/load';
import { DEFAULT_FLEET } from './helpers/fleet';

const general = loadFleet(DEFAULT_FLEET).imageCaches.filter((c) => c.name === 'general');
const P = '/bottlerocket-fleet/image-cache/general/snapshot-id';

test('the builder reads the Bottlerocket version next to the AMI ID', () => {
  // fleet.yaml pins bottlerocketRelease 1.55.0 (issue 30): the release's own folder, next to its image_id.
  expect(amiVersionParameterPath(general[0])).toBe('/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.55.0/image_version');
});

test('cache list shows the Bottlerocket version of the current generation in every region', async () => {
  const region = (params: Record<string, string>, snapshots: any[]) => {
    const ec2 = new EC2Client({ region: 'us-west-2' });
    const ssm = new SSMClient({ region: 'us-west-2' });
    mockClient(ssm)
      .on(GetParameterCommand)
      .callsFake((i) => {
        if (!(i.Name! in params)) throw Object.assign(new Error('nf'), { name: 'ParameterNotFound' });
        return { Parameter: { Value: params[i.Name!] } };
      });
    mockClient(ec2)
      .on(DescribeSnapshotsCommand)
      .callsFake((i) => ({ Snapshots: i.SnapshotIds ? snapshots.filter((s) => i.SnapshotIds.includes(s.SnapshotId)) : snapshots }));
    return { ec2, ssm };
  };
  const home = region({ [P]: 'snap-new', [`${P}-history`]: '["snap-new","snap-old"]' }, [
    { SnapshotId: 'snap-new', Tags: [{ Key: 'bottlerocket-fleet:bottlerocket-version', Value: '1.50.0' }] },
  ]);
  const replica = region({ [P]: 'snap-copy-new' }, [
    { SnapshotId: 'snap-copy-new', StartTime: new Date(), Tags: [{ Key: 'bottlerocket-fleet:source-snapshot', Value: 'snap-new' }] },
  ]);
  const rows = await listCaches(
    general,
    (r) => (r === 'us-west-2' ? home : replica),
    async () => '123456789012',
  );
  expect(rows.map((r) => [r.region, r.current, r.bottlerocketVersion])).toEqual([
    ['us-west-2', 'snap-new', '1.50.0'],
    ['us-east-1', 'snap-copy-new', '1.50.0'],
  ]);
});
