/**
 * The Bottlerocket variant a cache build runs on, against what the clusters really run (issue 30, item 5): the
 * lowest Kubernetes version among the fleet file's (the cache's resolved kubernetesVersion, already the lowest of
 * its users or set explicitly) and the running control planes of the clusters whose pools use the cache (EKS
 * DescribeCluster). A cluster whose control plane has not moved to the fleet file's version yet keeps launching
 * nodes of its running variant, whose kernel line may not mount what a newer line formats; every newer line
 * mounts what an older one formats (modules/image-cache/kernel-lines.ts), so the lowest is safe for all.
 */
import type { Fleet, ImageCache } from '../../modules/fleet/load';
import { compareKubernetesVersions } from '../../modules/fleet/constants';
import type { RunningVersion } from '../shared/eks-versions';

export interface BuildVersion {
  readonly cache: ImageCache;
  /** Set when a running cluster lowered the version: what changed and why. */
  readonly note?: string;
}

/** The cache to build, on the lowest version among the fleet file and the running clusters that use it. */
export async function buildVersionFor(fleet: Pick<Fleet, 'clusters'>, cache: ImageCache, running: RunningVersion): Promise<BuildVersion> {
  const users = fleet.clusters.filter((c) => c.karpenter?.nodePools.some((p) => p.imageCache === cache.name));
  const found = await Promise.all(users.map(async (c) => ({ cluster: c.name, version: await running({ name: c.name, region: c.region }) })));
  const lower = found
    .filter((f): f is { cluster: string; version: string } => f.version !== undefined && compareKubernetesVersions(f.version, cache.kubernetesVersion) < 0)
    .sort((a, b) => compareKubernetesVersions(a.version, b.version));
  if (lower.length === 0) return { cache };
  const version = lower[0].version as ImageCache['kubernetesVersion'];
  return {
    cache: { ...cache, kubernetesVersion: version },
    note: `cache ${cache.name}: building on aws-k8s-${version}, not ${cache.kubernetesVersion}: ${lower.map((l) => `cluster ${l.cluster} still runs ${l.version}`).join(', ')} (EKS DescribeCluster), and its nodes must mount the volume too`,
  };
}
