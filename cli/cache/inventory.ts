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
export type CacheRegionState = { cache: string; region: string; current: string | undefined; previous: string | undefined; bottlerocketVersion?: string };

/** The Bottlerocket release the builder recorded on a home-region snapshot (tag bottlerocket-fleet:bottlerocket-version). */
async function bottlerocketVersion(ec2: EC2Client, snapshotId: string | undefined): Promise<string | undefined> {
  if (!snapshotId) return undefined;
  try {
    const s = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.find((x) => x.SnapshotId === snapshotId);
    return s?.Tags?.find((t) => t.Key === 'bottlerocket-fleet:bottlerocket-version')?.Value;
  } catch {
    return undefined;
  }
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
      const version = await bottlerocketVersion(clients(cache.homeRegion).ec2, source);
      rows.push({ cache: cache.name, region, current, previous, ...(version ? { bottlerocketVersion: version } : {}) });
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
