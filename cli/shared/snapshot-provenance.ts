/**
 * The CLIs' provenance check of a snapshot ID read from a pointer (`rollout --to`, a parameter, a
 * node-class annotation; deploy's preflight; `cache list`): the rules of modules/image-cache/provenance.ts,
 * which the Karpenter and replication stacks check as Terraform postconditions, applied to the snapshot as
 * DescribeSnapshots shows it. One function for every command, so they agree on what is trusted.
 */
import type { DescribeSnapshotsCommandOutput, Snapshot } from '@aws-sdk/client-ec2';
import { historyParameterPath } from '../../modules/image-cache/parameters';
import { provenanceProblems, SnapshotRecord, untrustedMessage } from '../../modules/image-cache/provenance';

/** Looks a snapshot up by ID in one region; undefined when it does not exist there. */
export type SnapshotLookup = (id: string) => Promise<SnapshotRecord | undefined>;

/** What a cache's snapshots are checked against. */
export interface ProvenanceContext {
  /** This account (sts:GetCallerIdentity). */
  readonly account: string;
  readonly cache: { readonly name: string; readonly homeRegion: string; readonly parameterPath: string };
  /** `<parameterPath>-history` in the home region, newest first. */
  readonly history: readonly string[];
}

export interface ProvenanceResult {
  readonly snapshot?: SnapshotRecord;
  /** Empty: the snapshot may be used. */
  readonly problems: string[];
}

/** The problems of the snapshot `id` in `region` (a copy unless it is the cache's home region). */
export async function checkSnapshot(lookup: SnapshotLookup, context: ProvenanceContext, region: string, id: string): Promise<ProvenanceResult> {
  const snapshot = await lookup(id);
  if (!snapshot) return { problems: [`does not exist in ${region}`] };
  const problems = provenanceProblems(snapshot, {
    account: context.account,
    cache: context.cache.name,
    history: context.history,
    copy: region !== context.cache.homeRegion,
    historyParameter: `${historyParameterPath(context.cache.parameterPath)} (${context.cache.homeRegion})`,
  });
  return { snapshot, problems };
}

/** A pointer names a snapshot that fails the checks. */
export class UntrustedSnapshot extends Error {
  constructor(
    readonly pointer: string,
    readonly snapshotId: string,
    readonly problems: readonly string[],
  ) {
    super(untrustedMessage(pointer, snapshotId, problems));
  }
}

/** Throws UntrustedSnapshot naming `pointer` unless the snapshot passes every check. */
export async function assertTrusted(lookup: SnapshotLookup, context: ProvenanceContext, region: string, pointer: string, id: string): Promise<SnapshotRecord> {
  const r = await checkSnapshot(lookup, context, region, id);
  if (r.problems.length > 0 || !r.snapshot) throw new UntrustedSnapshot(pointer, id, r.problems);
  return r.snapshot;
}

/** DescribeSnapshots' view of a snapshot as the rules read it. */
export function snapshotRecord(s: Snapshot): SnapshotRecord {
  return {
    id: s.SnapshotId!,
    ownerId: s.OwnerId,
    state: s.State,
    encrypted: s.Encrypted,
    tags: Object.fromEntries((s.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

/**
 * A SnapshotLookup over DescribeSnapshots by ID, with no owner filter: another account's public snapshot
 * is found, and then refused by name. NotFound (InvalidSnapshot.NotFound, InvalidSnapshotID.Malformed) is undefined.
 */
export function describeSnapshotLookup(describe: (id: string) => Promise<Pick<DescribeSnapshotsCommandOutput, 'Snapshots'>>): SnapshotLookup {
  return async (id) => {
    try {
      const s = (await describe(id)).Snapshots?.find((x) => x.SnapshotId === id);
      return s ? snapshotRecord(s) : undefined;
    } catch (e) {
      if (/NotFound|Malformed/.test((e as Error).name)) return undefined;
      throw e;
    }
  };
}

/** The history parameter's value as a list (a missing or malformed one is empty: nothing is trusted). */
export function parseHistory(value: string | undefined): string[] {
  if (!value) return [];
  try {
    const list: unknown = JSON.parse(value);
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
