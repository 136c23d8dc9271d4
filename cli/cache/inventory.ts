/**
 * `cache list` and `cache gc`: what each region holds, and cleanup after crashed runs — builder
 * instances left running (older than a limit, found by tag) and home-region snapshots that neither the
 * parameter nor its history references any more. Copies in replica regions belong to the replication
 * stack (Terraform deletes them as they leave the retention window) and are never touched here.
 */
import { DeleteSnapshotCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ImageCache } from '../../modules/fleet/load';
import { historyParameterPath, SOURCE_SNAPSHOT_TAG } from '../../modules/image-cache/parameters';
import { BOTTLEROCKET_VERSION_TAG, BUILD_ID_TAG, KERNEL_RELEASE_TAG, SIZE_BYTES_TAG, USED_BYTES_TAG } from './tags';
import { fillPercent } from './volume';
import { ManifestImage, MANIFEST_PARTS_TAG, readManifest } from './manifest';

export interface RegionClients {
  ec2: EC2Client;
  ssm: SSMClient;
}
export type ClientsFor = (region: string) => RegionClients;

async function parameter(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch (e) {
    if ((e as Error).name === 'ParameterNotFound') return undefined;
    throw e;
  }
}

// Row types are aliases, not interfaces, so `Object.values` on a row is typed (string cells for the table).
export type CacheRegionState = {
  cache: string;
  region: string;
  current: string | undefined;
  previous: string | undefined;
  bottlerocketVersion?: string;
  /** The builder's kernel release (tag bottlerocket-fleet:kernel-release). */
  kernelRelease?: string;
  /** How full the data volume was after the pulls, e.g. "41%" (tags data-used-bytes / data-size-bytes). */
  fill?: string;
  /** From the build's manifest (manifest.ts): every image and its digest; the table shows the count. */
  images?: ManifestImage[];
  /** Why the manifest could not be read, when it could not. */
  manifestError?: string;
};

type GenerationFacts = Pick<CacheRegionState, 'bottlerocketVersion' | 'kernelRelease' | 'fill' | 'images' | 'manifestError'>;

/** What the builder recorded on a home-region snapshot (its tags) and in its manifest. */
async function generationFacts(ec2: EC2Client, ssm: SSMClient, cache: ImageCache, snapshotId: string | undefined): Promise<GenerationFacts> {
  if (!snapshotId) return {};
  let tags: Record<string, string>;
  try {
    const s = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.find((x) => x.SnapshotId === snapshotId);
    tags = Object.fromEntries((s?.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  } catch {
    return {};
  }
  const facts: { -readonly [K in keyof GenerationFacts]: GenerationFacts[K] } = {};
  if (tags[BOTTLEROCKET_VERSION_TAG]) facts.bottlerocketVersion = tags[BOTTLEROCKET_VERSION_TAG];
  if (tags[KERNEL_RELEASE_TAG]) facts.kernelRelease = tags[KERNEL_RELEASE_TAG];
  const used = Number(tags[USED_BYTES_TAG]);
  const size = Number(tags[SIZE_BYTES_TAG]);
  if (used >= 0 && size > 0) facts.fill = `${fillPercent({ usedBytes: used, sizeBytes: size })}%`;
  // Builds from before the manifest carry no parts tag: nothing to read.
  if (tags[MANIFEST_PARTS_TAG]) {
    try {
      facts.images = [...(await readManifest(ssm, cache, tags[BUILD_ID_TAG] ?? '', tags[MANIFEST_PARTS_TAG])).images];
    } catch (e) {
      facts.manifestError = (e as Error).message;
    }
  }
  return facts;
}

export async function listCaches(caches: readonly ImageCache[], clients: ClientsFor): Promise<CacheRegionState[]> {
  const rows: CacheRegionState[] = [];
  for (const cache of caches) {
    for (const region of cache.regions) {
      const { ec2, ssm } = clients(region);
      const current = await parameter(ssm, cache.parameterPath);
      let previous: string | undefined;
      let source = current;
      if (region === cache.homeRegion) {
        previous = (JSON.parse((await parameter(ssm, historyParameterPath(cache.parameterPath))) ?? '[]') as string[]).find((id) => id !== current);
      } else {
        const snaps =
          (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:bottlerocket-fleet:cache', Values: [cache.name] }] })))
            .Snapshots ?? [];
        previous = snaps
          .sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0))
          .map((s) => s.SnapshotId!)
          .find((id) => id !== current);
        source = snaps.find((s) => s.SnapshotId === current)?.Tags?.find((t) => t.Key === SOURCE_SNAPSHOT_TAG)?.Value;
      }
      const home = clients(cache.homeRegion);
      rows.push({ cache: cache.name, region, current, previous, ...(await generationFacts(home.ec2, home.ssm, cache, source)) });
    }
  }
  return rows;
}

export type GcAction = { region: string; action: 'terminate' | 'delete-snapshot'; id: string; reason: string };

export async function collectGarbage(
  caches: readonly ImageCache[],
  clients: ClientsFor,
  o: { olderThanMs: number; dryRun: boolean; now?: number },
): Promise<GcAction[]> {
  const now = o.now ?? Date.now();
  const actions: GcAction[] = [];
  for (const region of [...new Set(caches.map((c) => c.homeRegion))]) {
    const { ec2, ssm } = clients(region);
    const instances = (
      (
        await ec2.send(
          new DescribeInstancesCommand({
            Filters: [
              { Name: 'tag-key', Values: ['bottlerocket-fleet:build-id'] },
              { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
            ],
          }),
        )
      ).Reservations ?? []
    ).flatMap((r) => r.Instances ?? []);
    for (const i of instances) {
      const age = now - (i.LaunchTime?.getTime() ?? now);
      if (age > o.olderThanMs)
        actions.push({ region, action: 'terminate', id: i.InstanceId!, reason: `builder instance left running for ${Math.round(age / 3_600_000)}h` });
    }
    for (const cache of caches.filter((c) => c.homeRegion === region)) {
      const referenced = new Set([
        await parameter(ssm, cache.parameterPath),
        ...(JSON.parse((await parameter(ssm, historyParameterPath(cache.parameterPath))) ?? '[]') as string[]),
      ]);
      const snaps =
        (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:bottlerocket-fleet:cache', Values: [cache.name] }] })))
          .Snapshots ?? [];
      for (const s of snaps) {
        const isCopy = s.Tags?.some((t) => t.Key === SOURCE_SNAPSHOT_TAG);
        if (!isCopy && !referenced.has(s.SnapshotId))
          actions.push({
            region,
            action: 'delete-snapshot',
            id: s.SnapshotId!,
            reason: `cache ${cache.name}: referenced by neither the parameter nor its history`,
          });
      }
    }
    if (!o.dryRun) {
      const terminate = actions.filter((a) => a.region === region && a.action === 'terminate').map((a) => a.id);
      if (terminate.length > 0) await ec2.send(new TerminateInstancesCommand({ InstanceIds: terminate }));
      for (const a of actions.filter((x) => x.region === region && x.action === 'delete-snapshot'))
        await ec2.send(new DeleteSnapshotCommand({ SnapshotId: a.id }));
    }
  }
  return actions;
}
