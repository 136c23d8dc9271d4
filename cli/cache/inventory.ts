/**
 * `cache list` and `cache gc`: what each region holds, and cleanup after crashed runs — builder
 * instances left running (older than a limit, found by tag) and home-region snapshots that neither the
 * parameter nor its history references any more. Copies in replica regions belong to the replication
 * stack (Terraform deletes them as they leave the retention window) and are never touched here.
 */
import { DeleteSnapshotCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ImageCache } from '../../modules/fleet/load';
import { CACHE_TAG, clusterParameterPath, FLEET_TAG, historyParameterPath, SOURCE_SNAPSHOT_TAG } from '../../modules/image-cache/parameters';
import { checkSnapshot, describeSnapshotLookup, parseHistory, SnapshotLookup } from '../shared/snapshot-provenance';
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
  /** The current snapshot's owner account and build ID, and whether its generation is in the history. */
  owner?: string;
  buildId?: string;
  inHistory?: boolean;
  /** Set when the current snapshot fails a provenance check (cli/shared/snapshot-provenance.ts): what fails. */
  untrusted?: string;
};

/** The snapshots of one region by ID, through the provenance check's lookup (any owner). */
const lookupIn = (ec2: EC2Client): SnapshotLookup => describeSnapshotLookup((id) => ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })));

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

/** `accountId`: this account (sts:GetCallerIdentity), which the provenance checks compare owners with. */
export async function listCaches(caches: readonly ImageCache[], clients: ClientsFor, accountId: () => Promise<string>): Promise<CacheRegionState[]> {
  const rows: CacheRegionState[] = [];
  for (const cache of caches) {
    const history = parseHistory(await parameter(clients(cache.homeRegion).ssm, historyParameterPath(cache.parameterPath)));
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
      const trust = current ? await checkSnapshot(lookupIn(ec2), { account: await accountId(), cache, history }, region, current) : undefined;
      const s = trust?.snapshot;
      const generation = region === cache.homeRegion ? s?.id : s?.tags[SOURCE_SNAPSHOT_TAG];
      rows.push({
        cache: cache.name,
        region,
        current,
        previous,
        ...(await generationFacts(home.ec2, home.ssm, cache, source)),
        ...(s ? { owner: s.ownerId, buildId: s.tags[BUILD_ID_TAG], inHistory: generation !== undefined && history.includes(generation) } : {}),
        ...(trust && trust.problems.length > 0 ? { untrusted: trust.problems.join('; ') } : {}),
      });
    }
  }
  return rows;
}

export type GcAction = { region: string; action: 'terminate' | 'delete-snapshot'; id: string; reason: string };

/** Where a cache's generations are named besides its parameter and history: each rollout cluster's parameter (region, name). */
export type ClusterParametersOf = (cache: ImageCache) => readonly { readonly region: string; readonly name: string }[];

/**
 * Only this fleet's resources (exact cache and fleet tag values, never a tag key alone), never a build in
 * progress (its instance is still there, or its snapshot is pending), never a generation any parameter names:
 * the cache's parameter and history, its copies' parameters, and every rollout cluster's parameter.
 */
export async function collectGarbage(
  caches: readonly ImageCache[],
  clients: ClientsFor,
  o: { olderThanMs: number; dryRun: boolean; now?: number; clusterParameters?: ClusterParametersOf },
): Promise<GcAction[]> {
  const now = o.now ?? Date.now();
  const actions: GcAction[] = [];
  for (const region of [...new Set(caches.map((c) => c.homeRegion))]) {
    const { ec2 } = clients(region);
    const here = caches.filter((c) => c.homeRegion === region);
    const instances = (
      (
        await ec2.send(
          new DescribeInstancesCommand({
            Filters: [
              { Name: `tag:${FLEET_TAG}`, Values: [...new Set(here.map((c) => c.fleetId))] },
              { Name: `tag:${CACHE_TAG}`, Values: here.map((c) => c.name) },
              { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
            ],
          }),
        )
      ).Reservations ?? []
    ).flatMap((r) => r.Instances ?? []);
    const inProgress = new Set<string>();
    for (const i of instances) {
      const age = now - (i.LaunchTime?.getTime() ?? now);
      if (age > o.olderThanMs)
        actions.push({ region, action: 'terminate', id: i.InstanceId!, reason: `builder instance left running for ${Math.round(age / 3_600_000)}h` });
      else inProgress.add(i.Tags?.find((t) => t.Key === BUILD_ID_TAG)?.Value ?? i.InstanceId!);
    }
    for (const cache of here) {
      const referenced = await namedGenerations(cache, clients, o.clusterParameters?.(cache) ?? []);
      const snaps =
        (
          await ec2.send(
            new DescribeSnapshotsCommand({
              OwnerIds: ['self'],
              Filters: [
                { Name: `tag:${CACHE_TAG}`, Values: [cache.name] },
                { Name: `tag:${FLEET_TAG}`, Values: [cache.fleetId] },
              ],
            }),
          )
        ).Snapshots ?? [];
      for (const s of snaps) {
        const tag = (key: string) => s.Tags?.find((t) => t.Key === key)?.Value;
        if (tag(SOURCE_SNAPSHOT_TAG) !== undefined || referenced.has(s.SnapshotId!)) continue;
        const build = tag(BUILD_ID_TAG);
        if (s.State === 'pending' || (build !== undefined && inProgress.has(build))) continue; // a build still running writes it next
        actions.push({
          region,
          action: 'delete-snapshot',
          id: s.SnapshotId!,
          reason: `cache ${cache.name}: named by no parameter, its history or a cluster parameter`,
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

/** Home-region snapshot IDs (generations) some parameter names: copies count through their source-snapshot tag. */
async function namedGenerations(cache: ImageCache, clients: ClientsFor, clusterParameters: ReturnType<ClusterParametersOf>): Promise<Set<string>> {
  const home = clients(cache.homeRegion);
  const named = new Set<string>(parseHistory(await parameter(home.ssm, historyParameterPath(cache.parameterPath))));
  const pointers = [...cache.regions.map((region) => ({ region, name: cache.parameterPath })), ...clusterParameters];
  for (const p of pointers) {
    const { ec2, ssm } = clients(p.region);
    const id = await parameter(ssm, p.name);
    if (!id) continue;
    if (p.region === cache.homeRegion) named.add(id);
    else {
      const source = (await lookupIn(ec2)(id))?.tags[SOURCE_SNAPSHOT_TAG];
      if (source) named.add(source);
    }
  }
  return named;
}

/** The parameters of a fleet's rollout clusters, per cache (none without a rollout). */
export function rolloutClusterParameters(rolloutClusters: (cache: string) => readonly { name: string; region: string }[]): ClusterParametersOf {
  return (cache) => rolloutClusters(cache.name).map((c) => ({ region: c.region, name: clusterParameterPath(cache.parameterPath, c.name) }));
}
