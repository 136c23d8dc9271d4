/** The few AWS calls a rollout makes in one region, behind an interface (SDK v3 implementation below). */
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CACHE_TAG, SOURCE_SNAPSHOT_TAG } from '../../modules/image-cache/parameters';
import { BOTTLEROCKET_VERSION_TAG } from '../cache/tags';

export interface RegionApi {
  /** The parameter's value, or undefined when it does not exist. */
  getParameter(name: string): Promise<string | undefined>;
  putParameter(name: string, value: string): Promise<void>;
  /** The completed copy of `source` made by the replication stack for this cache, or undefined. */
  findCopy(cache: string, source: string): Promise<string | undefined>;
  /** Whether a completed snapshot with this ID exists here. */
  snapshotExists(id: string): Promise<boolean>;
  /** The home-region snapshot a copy was made from (its source-snapshot tag), or undefined. */
  sourceOf(id: string): Promise<string | undefined>;
  /** The image cache a snapshot belongs to (its bottlerocket-fleet:cache tag), or undefined. */
  cacheOf(id: string): Promise<string | undefined>;
  /** The Bottlerocket release the builder recorded on a home-region snapshot (bottlerocket-fleet:bottlerocket-version). */
  bottlerocketVersionOf(id: string): Promise<string | undefined>;
  /** A snapshot's size in GiB (DescribeSnapshots VolumeSize), or undefined when it does not exist. */
  snapshotSizeGiB(id: string): Promise<number | undefined>;
}

/** @param clients the SDK clients to call through (tests record their calls) @default new clients for the region */
export function regionApi(region: string, clients: { readonly ssm?: SSMClient; readonly ec2?: EC2Client } = {}): RegionApi {
  const config = { region, maxAttempts: 8, retryMode: 'adaptive' };
  const ssm = clients.ssm ?? new SSMClient(config);
  const ec2 = clients.ec2 ?? new EC2Client(config);
  const tagOf = async (id: string, key: string): Promise<string | undefined> => {
    try {
      const r = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
      return r.Snapshots?.[0]?.Tags?.find((t) => t.Key === key)?.Value;
    } catch (e) {
      if (/NotFound/.test((e as Error).name)) return undefined;
      throw e;
    }
  };
  return {
    async getParameter(name) {
      try {
        return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
      } catch (e) {
        if ((e as Error).name === 'ParameterNotFound') return undefined;
        throw e;
      }
    },
    async putParameter(name, value) {
      await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
    },
    async findCopy(cache, source) {
      const r = await ec2.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ['self'],
          Filters: [
            { Name: `tag:${SOURCE_SNAPSHOT_TAG}`, Values: [source] },
            { Name: `tag:${CACHE_TAG}`, Values: [cache] },
          ],
        }),
      );
      return (r.Snapshots ?? []).find((s) => s.State === 'completed')?.SnapshotId;
    },
    sourceOf: (id) => tagOf(id, SOURCE_SNAPSHOT_TAG),
    cacheOf: (id) => tagOf(id, CACHE_TAG),
    bottlerocketVersionOf: (id) => tagOf(id, BOTTLEROCKET_VERSION_TAG),
    async snapshotSizeGiB(id) {
      try {
        return (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots?.find((s) => s.SnapshotId === id)?.VolumeSize;
      } catch (e) {
        if (/NotFound/.test((e as Error).name)) return undefined;
        throw e;
      }
    },
    async snapshotExists(id) {
      try {
        const r = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
        return (r.Snapshots ?? []).some((s) => s.State === 'completed');
      } catch (e) {
        if (/NotFound/.test((e as Error).name)) return false;
        throw e;
      }
    },
  };
}
