/**
 * A pool's data volume must be at least as large as the snapshot it is restored from: EC2 refuses a volume
 * smaller than its snapshot, so every launch of that pool fails. The fleet loader compares the pool with the
 * cache's configured dataVolumeGiB; this compares it with the real size (DescribeSnapshots VolumeSize) of
 * each generation a cluster may launch with, which differs once dataVolumeGiB is lowered while a larger
 * generation is still referenced. Used by `deploy` (what the node classes will read) and `rollout` (the
 * generation rolled out, and the one a rollback returns to).
 */
import type { Cluster } from '../../modules/fleet/load';
import type { AwsClients } from './aws-clients';

export interface GenerationInRegion {
  readonly cache: string;
  /** The snapshot the cluster's node classes would name, in the cluster's region. */
  readonly snapshot: string;
  readonly region: string;
  /** Its size, GiB (DescribeSnapshots VolumeSize). */
  readonly sizeGiB: number;
  /** What the generation is to this cluster, e.g. "the current generation" or "the rollout's target". */
  readonly role: string;
}

/** One refusal per pool of `cluster` on the cache whose dataVolumeGiB is below the generation's size. */
export function poolsTooSmall(cluster: Cluster, g: GenerationInRegion): string[] {
  return (cluster.karpenter?.nodePools ?? [])
    .filter((p) => p.imageCache === g.cache && p.dataVolumeGiB < g.sizeGiB)
    .map(
      (p) =>
        `clusters.${cluster.name}.karpenter.nodePools.${p.name}.dataVolumeGiB: ${p.dataVolumeGiB} GiB is smaller than ${g.role} of cache ${g.cache}, snapshot ${g.snapshot} in ${g.region} (${g.sizeGiB} GiB): EC2 refuses a volume smaller than its snapshot, so every launch of the pool would fail. Set dataVolumeGiB to at least ${g.sizeGiB}, or move the cluster to a smaller generation first`,
    );
}

// The release a generation was built on, against the cluster's pin: cli/shared/node-image-checks.ts (issue 30).

/** What EC2 says about one snapshot: its size and its tags (DescribeSnapshots). */
export interface SnapshotFacts {
  describe(region: string, snapshotId: string): Promise<{ readonly sizeGiB?: number; readonly tags: Readonly<Record<string, string>> } | undefined>;
}

/** The SDK implementation (loaded when used), through the command's client factory. */
export async function sdkSnapshotFacts(aws: AwsClients): Promise<SnapshotFacts> {
  const { DescribeSnapshotsCommand } = await import('@aws-sdk/client-ec2');
  return {
    async describe(region, snapshotId) {
      try {
        const r = await aws.ec2(region).send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
        const snap = r.Snapshots?.find((x) => x.SnapshotId === snapshotId);
        return snap && { sizeGiB: snap.VolumeSize, tags: Object.fromEntries((snap.Tags ?? []).map((t) => [t.Key!, t.Value!])) };
      } catch (e) {
        if (/NotFound/.test((e as Error).name)) return undefined;
        throw e;
      }
    },
  };
}
