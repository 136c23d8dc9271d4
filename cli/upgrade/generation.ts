/**
 * The cache generation a pool takes with a release upgrade (issue 31: "alias and generation in one apply per
 * class"). The pool's target generation is what its Karpenter stack would apply: the cache's parameter in the
 * cluster's region, or, for a fleet with a `rollout` section, the cluster's own parameter
 * (<parameterPath>/clusters/<cluster>, modules/karpenter/node-pools.ts `parameterName`). When it differs from the
 * snapshot the live class names, the upgrade applies alias and snapshot together, so Karpenter v1.14.1 replaces each
 * node once: the snapshot is in the static hash and the alias is not (A pkg/apis/v1/ec2nodeclass.go `hash:"ignore"`
 * on amiSelectorTerms), static drift is checked before AMI drift (A pkg/cloudprovider/drift.go isNodeClassDrifted: areStaticFieldsDrifted first), and
 * nothing launches before the class is ready for its new generation (A pkg/cloudprovider/cloudprovider.go).
 *
 * The parameter is a pointer anyone with PutParameter can move: the snapshot it names is checked like the rollout's
 * target (provenance: a build of this cache in this account, in its history; a copy only of such a build) and the
 * generation's recorded build against the NEW alias and every version the cluster's nodes may run (release skew,
 * kernel line: cli/shared/node-image-checks.ts). Reads only.
 */
import type { Cluster, Fleet, ImageCache, NodePool } from '../../modules/fleet/load';
import { historyParameterPath, snapshotParameterPath, SOURCE_SNAPSHOT_TAG } from '../../modules/image-cache/parameters';
import type { RegionApi } from '../rollout/aws';
import { sourceBuild } from '../rollout/node-image-gate';
import { untrusted } from '../rollout/snapshot-payload';
import { nodeImageRefusals } from '../shared/node-image-checks';
import { parseHistory, type ProvenanceContext } from '../shared/snapshot-provenance';

export interface PoolGeneration {
  /** The snapshot the live class names now. */
  readonly from?: string;
  /** The snapshot the pool moves to (in the cluster's region); equal to `from` when the generation stays. */
  readonly to?: string;
  /** Where `to` was read, for messages. */
  readonly pointer: string;
}

export interface GenerationInputs {
  readonly fleet: Fleet;
  readonly cluster: Cluster;
  /** The alias the classes will select after the upgrade (bottlerocket@v1.56.0). */
  readonly alias: string;
  /** EKS DescribeCluster's version. */
  readonly runningVersion: string;
  /** Each pool's live data-volume snapshot (RunningPool.snapshot). */
  readonly liveSnapshot: (pool: string) => string | undefined;
  readonly aws: (region: string) => RegionApi;
}

async function provenanceOf(inputs: GenerationInputs, cacheName: string): Promise<ProvenanceContext> {
  const cache = inputs.fleet.imageCaches.find((c) => c.name === cacheName)!;
  const home = inputs.aws(cache.homeRegion);
  return {
    account: await home.accountId(),
    cache,
    history: parseHistory(await home.getParameter(historyParameterPath(cache.parameterPath))),
  };
}

/**
 * Why a generation of `cache` the upgrade would apply to the cluster's classes is not to be trusted or used (empty: it
 * is): its provenance (a build of this cache in this account, in its history; a copy only of such a build), then its
 * recorded build against the new alias and every version the cluster's nodes may run (release skew, kernel line).
 */
export async function generationRefusals(inputs: GenerationInputs, cache: ImageCache, pointer: string, snapshot: string): Promise<string[]> {
  const { cluster } = inputs;
  const provenance = await provenanceOf(inputs, cache.name);
  const bad = await untrusted(inputs.aws, provenance, cluster.region, pointer, snapshot);
  if (bad.length > 0) return bad;
  // A copy records its source (checked above to be a build of this cache): the build is the source's.
  const source = cluster.region === cache.homeRegion ? snapshot : (await inputs.aws(cluster.region).describeSnapshot(snapshot))?.tags[SOURCE_SNAPSHOT_TAG];
  const build = await sourceBuild(inputs.aws(cache.homeRegion), source ?? snapshot);
  return nodeImageRefusals(
    { cluster, alias: inputs.alias, aliasSource: `the upgrade of cluster ${cluster.name} applies`, runningVersion: inputs.runningVersion },
    { cache: cache.name, variant: cache.variant, snapshot, region: cluster.region, role: `the generation ${pointer} names`, build },
  );
}

/** One pool's target generation, or the refusals that stop the upgrade before any write. */
async function poolGeneration(inputs: GenerationInputs, pool: NodePool): Promise<{ generation?: PoolGeneration; refusals: string[] }> {
  const cache = inputs.fleet.imageCaches.find((c) => c.name === pool.imageCache);
  const from = inputs.liveSnapshot(pool.name);
  if (!cache || !from) return { refusals: [] };
  const { cluster } = inputs;
  const name = snapshotParameterPath(cache.parameterPath, cluster.name, !!inputs.fleet.rollout);
  const pointer = `SSM parameter ${name} in ${cluster.region}`;
  const to = await inputs.aws(cluster.region).getParameter(name);
  if (to === undefined || to === from) return { generation: { from, to: from, pointer }, refusals: [] };
  return { generation: { from, to, pointer }, refusals: await generationRefusals(inputs, cache, pointer, to) };
}

/** Per pool (in the order given), the generation it takes with the upgrade; throws nothing, returns the refusals. */
export async function poolGenerations(
  inputs: GenerationInputs,
  pools: readonly NodePool[],
): Promise<{ generations: (PoolGeneration | undefined)[]; refusals: string[] }> {
  const found = [];
  for (const pool of pools) found.push(await poolGeneration(inputs, pool));
  return { generations: found.map((f) => f.generation), refusals: [...new Set(found.flatMap((f) => f.refusals))] };
}
