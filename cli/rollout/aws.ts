/** The few AWS calls a rollout makes in one region, behind an interface (SDK v3 implementation below). */
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { AwsClients, awsClients } from '../shared/aws-clients';
import { CACHE_TAG, SOURCE_SNAPSHOT_TAG } from '../../modules/image-cache/parameters';
import type { SnapshotRecord } from '../../modules/image-cache/provenance';
import { describeSnapshotLookup } from '../shared/snapshot-provenance';
import { BOTTLEROCKET_VERSION_TAG } from '../cache/tags';

export interface RegionApi {
  /** The parameter's value, or undefined when it does not exist. */
  getParameter(name: string): Promise<string | undefined>;
  putParameter(name: string, value: string): Promise<void>;
  /** The completed copy of `source` made by the replication stack for this cache, or undefined. */
  findCopy(cache: string, source: string): Promise<string | undefined>;
  /** The home-region snapshot a copy was made from (its source-snapshot tag), or undefined. */
  sourceOf(id: string): Promise<string | undefined>;
  /** The snapshot as the provenance checks read it (any owner), or undefined when it does not exist here. */
  describeSnapshot(id: string): Promise<SnapshotRecord | undefined>;
  /** This account's ID (sts:GetCallerIdentity). */
  accountId(): Promise<string>;
  /** The Bottlerocket release the builder recorded on a home-region snapshot (bottlerocket-fleet:bottlerocket-version). */
  bottlerocketVersionOf(id: string): Promise<string | undefined>;
  /** A snapshot's size in GiB (DescribeSnapshots VolumeSize), or undefined when it does not exist. */
  snapshotSizeGiB(id: string): Promise<number | undefined>;
}

/**
 * @param clients the SDK clients to call through (tests record their calls) @default those of `aws` for the region
 * @param aws the command's client factory (--request-timeout) @default its defaults
 */
export function regionApi(
  region: string,
  clients: { readonly ssm?: SSMClient; readonly ec2?: EC2Client } = {},
  aws: AwsClients = awsClients({ step: 'rollout' }),
): RegionApi {
  const ssm = clients.ssm ?? aws.ssm(region);
  const ec2 = clients.ec2 ?? aws.ec2(region);
  const tagOf = async (id: string, key: string): Promise<string | undefined> => {
    try {
      const r = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
      return r.Snapshots?.[0]?.Tags?.find((t) => t.Key === key)?.Value;
    } catch (e) {
      if (/NotFound/.test((e as Error).name)) return undefined;
      throw e;
    }
  };
  const describeSnapshot = describeSnapshotLookup((id) => ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })));
  let account: Promise<string> | undefined;
  return {
    describeSnapshot,
    accountId: () =>
      (account ??= aws
        .sts(region)
        .send(new GetCallerIdentityCommand({}))
        .then((r) => r.Account!)),
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
    bottlerocketVersionOf: (id) => tagOf(id, BOTTLEROCKET_VERSION_TAG),
    async snapshotSizeGiB(id) {
      try {
        return (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots?.find((s) => s.SnapshotId === id)?.VolumeSize;
      } catch (e) {
        if (/NotFound/.test((e as Error).name)) return undefined;
        throw e;
      }
    },
  };
}
