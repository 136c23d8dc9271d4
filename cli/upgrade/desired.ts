/**
 * The fleet file as `upgrade` wants it (DesiredCluster), and the contracts the plan checks against
 * (UpgradeContracts), from the one config model (modules/fleet) and contracts/.
 */
import type { Cluster, Fleet } from '../../modules/fleet/load';
import { karpenterCompatibility, variantReleaseProblems } from '../../modules/fleet/compatibility';
import { CACHE_TAG, SOURCE_SNAPSHOT_TAG } from '../../modules/image-cache/parameters';
import { KERNEL_RELEASE_TAG } from '../cache/tags';
import { kernelLineOfRelease } from '../shared/generation-build';
import type { RegionApi } from '../rollout/aws';
import type { DesiredCluster, DesiredPool, RunningCluster, UpgradeContracts } from './plan';

/**
 * The kernel line the pool's current generation was built on: the live class's snapshot's kernel-release tag,
 * for a copy its source's (the replication stack tags the copy with bottlerocket-fleet:source-snapshot). The
 * pointer is checked before it is trusted: the source must be a snapshot of the same cache, else the kernel is
 * unknown (and the plan refuses a minor that depends on it).
 */
export async function builtOnKernel(cache: string, snapshot: string, region: RegionApi, home: RegionApi): Promise<string | undefined> {
  const here = await region.describeSnapshot(snapshot);
  if (!here || here.tags[CACHE_TAG] !== cache) return undefined;
  const tags: Readonly<Partial<Record<string, string>>> = here.tags;
  const source = tags[SOURCE_SNAPSHOT_TAG];
  const origin = source === undefined ? here : await home.describeSnapshot(source);
  if (!origin || origin.tags[CACHE_TAG] !== cache) return undefined;
  return kernelLineOfRelease(origin.tags[KERNEL_RELEASE_TAG]);
}

export interface DesiredDeps {
  /** The region API of a region. */
  readonly aws: (region: string) => RegionApi;
}

/** One cluster of the fleet file; each pool's cache with the generation it mounts now (the live class's snapshot). */
export async function desiredCluster(fleet: Fleet, cluster: Cluster, running: RunningCluster | undefined, deps: DesiredDeps): Promise<DesiredCluster> {
  const pools = await Promise.all(
    (cluster.karpenter?.nodePools ?? []).map(async (pool): Promise<DesiredPool> => {
      const variant = pool.gpu ? 'gpu' : 'cpu';
      const cache = fleet.imageCaches.find((c) => c.name === pool.imageCache);
      if (!cache) return { name: pool.name, variant };
      const snapshot = running?.pools.find((p) => p.name === pool.name)?.snapshot;
      const kernel = snapshot ? await builtOnKernel(cache.name, snapshot, deps.aws(cluster.region), deps.aws(cache.regions[0])) : undefined;
      return { name: pool.name, variant, cache: { name: cache.name, snapshot, builtOnKernel: kernel } };
    }),
  );
  const addons = Object.fromEntries(Object.entries(cluster.addons).filter((e): e is [string, string] => e[1] !== undefined));
  return {
    name: cluster.name,
    kubernetesVersion: cluster.kubernetesVersion,
    release: cluster.bottlerocketRelease === 'latest' ? undefined : cluster.bottlerocketRelease,
    addons,
    pools,
  };
}

/** The contracts for one cluster: the variant's releases and its Karpenter chart's supported versions. */
export function upgradeContracts(cluster: Cluster): UpgradeContracts {
  return {
    releaseProblem: (k8s, release) => variantReleaseProblems(k8s, release, `clusters.${cluster.name}.bottlerocketRelease`)[0]?.message,
    karpenterProblem: (k8s) => (cluster.karpenter ? karpenterCompatibility(cluster.name, k8s, cluster.karpenter.chartVersion)[0]?.message : undefined),
  };
}
