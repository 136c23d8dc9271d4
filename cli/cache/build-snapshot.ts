/**
 * The steps that publish a build, in order, each with its undo beside it: snapshot the data volume (undo:
 * delete it unless the build succeeded), wait until it is completed, write the image manifest in every
 * region with a copy (undo: delete the parts written), write the snapshot ID and its history (undo until
 * the history is written: put the previous ID back). builder.ts runs them under their step names.
 */
import { CreateSnapshotCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { DeleteParameterCommand, PutParameterCommand, PutParameterCommandInput } from '@aws-sdk/client-ssm';
import { historyParameterPath } from '../../modules/image-cache/parameters';
import type { BuildContext } from './build-context';
import { deleteManifest, MANIFEST_PARTS_TAG } from './manifest';
import { EC2_TAG_LIMIT, IMAGE_COUNT_TAG, KERNEL_RELEASE_TAG, SIZE_BYTES_TAG, USED_BYTES_TAG } from './tags';
import type { VolumeFacts } from './volume';

export interface SnapshotFacts {
  readonly releaseTags: readonly { Key: string; Value: string }[];
  readonly volume: VolumeFacts;
  readonly imageCount: number;
  readonly manifestParts: number;
}

export async function snapshotDataVolume(b: BuildContext, instanceId: string, facts: SnapshotFacts): Promise<string> {
  const volumeId = (await b.describeInstance(instanceId)).BlockDeviceMappings?.find((d) => d.DeviceName === '/dev/xvdb')?.Ebs?.VolumeId;
  if (!volumeId) throw new Error(`instance ${instanceId} has no /dev/xvdb volume`);
  // A fixed set of tags, whatever the number of images: the digests are in the manifest (manifest.ts).
  const snapshotTags = [
    ...b.tags(),
    ...facts.releaseTags,
    { Key: KERNEL_RELEASE_TAG, Value: facts.volume.kernelRelease },
    { Key: USED_BYTES_TAG, Value: String(facts.volume.usedBytes) },
    { Key: SIZE_BYTES_TAG, Value: String(facts.volume.sizeBytes) },
    { Key: IMAGE_COUNT_TAG, Value: String(facts.imageCount) },
    { Key: MANIFEST_PARTS_TAG, Value: String(facts.manifestParts) },
  ];
  if (snapshotTags.length > EC2_TAG_LIMIT) throw new Error(`${snapshotTags.length} snapshot tags exceed EC2's limit of ${EC2_TAG_LIMIT}`);
  const r = await b.call(() =>
    b.deps.ec2.send(
      new CreateSnapshotCommand({
        VolumeId: volumeId,
        Description: `bottlerocket-fleet image cache ${b.cache.name}, build ${b.buildId}`,
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: snapshotTags }],
      }),
    ),
  );
  const snapshotId = r.SnapshotId!;
  b.undo.push({
    what: `delete snapshot ${snapshotId} (build failed)`,
    run: async () => {
      if (!b.succeeded) await b.call(() => b.deps.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })), null);
    },
  });
  return snapshotId;
}

export async function waitSnapshotCompleted(b: BuildContext, snapshotId: string): Promise<void> {
  await b.poll(`snapshot ${snapshotId} completed`, b.o.snapshotTimeoutMs, async () => {
    const s = (await b.call(() => b.deps.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })))).Snapshots?.[0];
    // The SDK's snapshot waiter keeps polling on "error"; a failed snapshot must fail the build.
    if (s?.State === 'error') throw new Error(`snapshot ${snapshotId} is in error state${s.StateMessage ? `: ${s.StateMessage}` : ''}`);
    return s?.State === 'completed';
  });
}

export async function writeManifest(b: BuildContext, parts: readonly PutParameterCommandInput[]): Promise<void> {
  for (const region of b.cache.regions) {
    const ssm = b.ssmIn(region);
    const written: string[] = [];
    // Removed again unless the whole build succeeds (parts written before a failure included).
    b.undo.push({
      what: `delete the manifest of ${b.buildId} in ${region} (build failed)`,
      run: async () => {
        if (!b.succeeded) await b.call(() => deleteManifest(ssm, written), null);
      },
    });
    for (const input of parts) {
      written.push(input.Name!);
      await b.call(() => ssm.send(new PutParameterCommand(input)));
    }
  }
}

/** Writes the ID and prepends it to the history; returns the previous ID. The build has succeeded once both are written. */
export async function writeSnapshotId(b: BuildContext, snapshotId: string): Promise<string | undefined> {
  const { cache } = b;
  const ssm = b.deps.ssm;
  const previous = await b.getParameter(cache.parameterPath);
  const history = JSON.parse((await b.getParameter(historyParameterPath(cache.parameterPath))) ?? '[]') as string[];
  await b.call(() =>
    ssm.send(
      new PutParameterCommand({
        Name: cache.parameterPath,
        Value: snapshotId,
        Type: 'String',
        Overwrite: true,
        Description: `Image cache ${cache.name}: snapshot of build ${b.buildId}`,
      }),
    ),
  );
  // Until the history is written too, a failure puts the previous value back.
  const restore = b.undo.push({
    what: `restore ${cache.parameterPath}`,
    run: () =>
      previous
        ? b.call(() => ssm.send(new PutParameterCommand({ Name: cache.parameterPath, Value: previous, Type: 'String', Overwrite: true })), null)
        : b.call(() => ssm.send(new DeleteParameterCommand({ Name: cache.parameterPath })), null),
  });
  const next = [snapshotId, ...history.filter((id) => id !== snapshotId)].slice(0, b.o.historyLength);
  await b.call(() =>
    ssm.send(new PutParameterCommand({ Name: historyParameterPath(cache.parameterPath), Value: JSON.stringify(next), Type: 'String', Overwrite: true })),
  );
  b.undo.drop(restore);
  b.succeeded = true;
  return previous;
}
