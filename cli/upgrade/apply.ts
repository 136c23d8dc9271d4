/**
 * `upgrade apply` for a Bottlerocket release (same Kubernetes minor): the plan's clusters, stage by stage, through
 * the rollout's stage machinery (cli/rollout/stages.ts: gates, soak, rollback, resume) with the node image as its
 * payload (node-image-payload.ts), for a Bottlerocket release and for a Kubernetes minor (minor-steps.ts, with the
 * cache generation both variants mount found or built first, cache-generation.ts). A plan with any refusal is refused
 * before anything is written.
 */
import type { Fleet, NodePool } from '../../modules/fleet/load';
import { clusterParameterPath } from '../../modules/image-cache/parameters';
import { parseDuration } from '../shared/duration';
import { IN_PROGRESS_STATES, UPGRADE_ANNOTATIONS } from '../rollout/model';
import { runStages, type ClusterOutcome, type StageClock } from '../rollout/stages';
import type { RolloutKube } from '../rollout/kube';
import type { RegionApi } from '../rollout/aws';
import type { ClusterUpdater, NodegroupUpdater } from './eks-updates';
import { generationRefusals, poolGenerations, type GenerationInputs, type PoolGeneration } from './generation';
import { generationProvider, type BuildGeneration } from './cache-generation';
import { checkOwner, HEARTBEAT_MS } from './owner';
import { nodeClassName } from '../../modules/karpenter/node-class';
import { NodeImagePayload, type NodeImageTarget } from './node-image-payload';
import type { ClusterPlan, RunningCluster, UpgradePlan } from './plan';

/** The plan cannot be applied: why, per cluster. Nothing was written. */
export class UpgradeRefused extends Error {}

export interface ApplyDeps {
  readonly kube: (cluster: string) => RolloutKube;
  readonly nodegroups: (region: string) => NodegroupUpdater;
  /** The control plane and add-on updates of a region (eks-updates.ts). */
  readonly clusters: (region: string) => ClusterUpdater;
  /**
   * The image IDs of a release for a variant: the public parameters
   * /aws/service/bottlerocket/aws-k8s-<version>[-nvidia]/<arch>/<release>/image_id that Karpenter's alias resolves
   * (A pkg/providers/amifamily/bottlerocket.go DescribeImageQuery); empty when none exists.
   */
  readonly imageIds: (region: string, kubernetesVersion: string, release: string) => Promise<string[]>;
  /**
   * The system node group's releaseVersion for a release: the public parameter
   * /aws/service/bottlerocket/aws-k8s-<version>/<arch>/<release>/image_version (as the cluster stack reads it,
   * modules/eks/bottlerocket-image-version.ts); undefined when the parameter does not exist.
   */
  readonly imageVersion: (region: string, kubernetesVersion: string, arch: string, release: string) => Promise<string | undefined>;
  readonly clock: StageClock;
  /** The region API of a region (the pools' cache parameters and snapshots, generation.ts). */
  readonly aws: (region: string) => RegionApi;
  /**
   * Builds a cache generation (cli/cache/builder.ts buildCache, the one code path `cache build` uses) and returns its
   * snapshot ID. @default none: a minor that needs a generation is refused before any write
   */
  readonly build?: BuildGeneration;
}

/**
 * Why the plan cannot be applied, per cluster (empty: it can). A minor whose plan builds a cache generation is applied:
 * the generation is found or built after the freeze, before the control plane moves (cache-generation.ts).
 */
export function applyRefusals(plan: UpgradePlan): string[] {
  return plan.stages.flatMap((s) => s.clusters).flatMap((c) => c.refusals.map((r) => `${c.cluster}: ${r}`));
}

/**
 * Per pool, the generation a re-run takes from what the upgrade recorded on its class (checked like any pointer), and
 * the caches whose pools still need a generation both variants mount (the plan's build-cache steps the pointer does
 * not satisfy). Reads only; a recorded generation that fails the checks refuses the cluster.
 */
async function generationNeeds(
  inputs: GenerationInputs,
  c: ClusterPlan,
  pools: readonly NodePool[],
  generations: readonly (PoolGeneration | undefined)[],
  running: RunningCluster | undefined,
): Promise<{ snapshots: (string | undefined)[]; needs: { cache: string; pools: number[] }[] }> {
  const snapshots = generations.map((g) => g?.to);
  const needs = new Map<string, number[]>();
  const toBuild = new Set(c.steps.filter((s) => s.kind === 'build-cache').map((s) => s.pool));
  for (const [i, pool] of pools.entries()) {
    const upgrade = running?.pools.find((p) => p.name === pool.name)?.upgrade;
    const cache = inputs.fleet.imageCaches.find((x) => x.name === pool.imageCache);
    if (cache && upgrade?.generation && upgrade.target === inputs.alias && IN_PROGRESS_STATES.has(upgrade.state)) {
      const where = `the generation EC2NodeClass ${nodeClassName(pool)} records (${UPGRADE_ANNOTATIONS.generation})`;
      const bad = await generationRefusals(inputs, cache, where, upgrade.generation);
      if (bad.length > 0) throw new UpgradeRefused(`${inputs.cluster.name}: nothing was changed: ${bad.join('; ')}`);
      snapshots[i] = upgrade.generation;
    } else if (cache && toBuild.has(pool.name) && generations[i]?.to === generations[i]?.from) needs.set(cache.name, [...(needs.get(cache.name) ?? []), i]);
  }
  return { snapshots, needs: [...needs].map(([cache, indexes]) => ({ cache, pools: indexes })) };
}

async function targetOf(fleet: Fleet, stage: string, c: ClusterPlan, running: RunningCluster | undefined, deps: ApplyDeps): Promise<NodeImageTarget> {
  const cluster = fleet.clusters.find((x) => x.name === c.cluster)!;
  const release = c.to.release!;
  const group = c.steps.some((s) => s.kind === 'update-node-group') ? running?.nodegroup : undefined;
  let nodegroup: NodeImageTarget['nodegroup'];
  if (group) {
    const releaseVersion = await deps.imageVersion(cluster.region, cluster.kubernetesVersion, cluster.systemNodeGroup.arch, release);
    if (!releaseVersion)
      throw new UpgradeRefused(
        `${cluster.name}: no image_version parameter for Bottlerocket ${release} on aws-k8s-${cluster.kubernetesVersion} (${cluster.systemNodeGroup.arch}) in ${cluster.region}: the release has no build there; nothing was changed`,
      );
    nodegroup = { name: group.name, releaseVersion, version: group.version === cluster.kubernetesVersion ? undefined : cluster.kubernetesVersion };
  }
  const pools = cluster.karpenter?.nodePools ?? [];
  const to = `bottlerocket@v${release}`;
  const inputs: GenerationInputs = {
    fleet,
    cluster,
    alias: to,
    runningVersion: running?.controlPlane ?? cluster.kubernetesVersion,
    liveSnapshot: (pool) => running?.pools.find((p) => p.name === pool)?.snapshot,
    aws: deps.aws,
  };
  const { generations, refusals } = await poolGenerations(inputs, pools);
  if (refusals.length > 0) throw new UpgradeRefused(`${cluster.name}: nothing was changed: ${refusals.join('; ')}`);
  for (const g of generations)
    if (g && g.to !== g.from) deps.clock.log(`  ${cluster.name}: the generation moves with the alias: ${g.from ?? '-'} -> ${g.to ?? '-'} (${g.pointer})`);
  const { snapshots, needs } = await generationNeeds(inputs, c, pools, generations, running);
  if (needs.length > 0 && !deps.build)
    throw new UpgradeRefused(
      `${cluster.name}: needs a cache generation both variants mount (${needs.map((n) => n.cache).join(', ')}) and this run cannot build one: nothing was changed`,
    );
  const minorMoves = running !== undefined && running.controlPlane !== cluster.kubernetesVersion;
  const addons = Object.entries(cluster.addons).flatMap(([name, version]) =>
    version !== undefined && running?.addons[name] !== undefined && running.addons[name] !== version ? [{ name, version }] : [],
  );
  const images = c.from.release ? await deps.imageIds(cluster.region, cluster.kubernetesVersion, c.from.release) : [];
  return {
    stage,
    minor: minorMoves
      ? { controlPlane: cluster.kubernetesVersion, owner: `upgrade of ${cluster.name} to Kubernetes ${cluster.kubernetesVersion}, ${to}` }
      : undefined,
    addons,
    variant: { version: cluster.kubernetesVersion, images },
    cluster: cluster.name,
    region: cluster.region,
    from: c.from.release && `bottlerocket@v${c.from.release}`,
    to,
    fleetCluster: cluster,
    pools,
    nodegroup,
    snapshots,
    needs,
    // Only in a fleet with a rollout section: then the Karpenter stack reads the cluster's own parameter
    // (snapshotParameterPath). Without one it reads the cache's home parameter, which `cache build` owns.
    parameters: pools.map((p) => {
      const cache = fleet.rollout && fleet.imageCaches.find((x) => x.name === p.imageCache);
      return cache ? clusterParameterPath(cache.parameterPath, cluster.name) : undefined;
    }),
  };
}

/**
 * An upgrade a previous run left unfinished (interrupted, blocked): the classes already select the new alias, so the
 * plan shows no step, but the cluster has not converged and soaked; it is resumed, not skipped.
 */
function upgradeInProgress(r: RunningCluster | undefined): boolean {
  return r?.pools.some((p) => p.upgrade !== undefined && IN_PROGRESS_STATES.has(p.upgrade.state)) ?? false;
}

/** Runs a release upgrade across the plan's stages. Throws UpgradeRefused (nothing written), or what runStages throws. */
export async function applyUpgrade(fleet: Fleet, plan: UpgradePlan, running: ReadonlyMap<string, RunningCluster>, deps: ApplyDeps): Promise<ClusterOutcome[]> {
  const refusals = applyRefusals(plan);
  if (refusals.length > 0) throw new UpgradeRefused(`nothing was changed:\n  ${refusals.join('\n  ')}`);
  const targets: NodeImageTarget[] = [];
  for (const s of plan.stages)
    for (const c of s.clusters)
      if (c.to.release !== undefined && (c.steps.length > 0 || upgradeInProgress(running.get(c.cluster))))
        targets.push(await targetOf(fleet, s.name, c, running.get(c.cluster), deps));
  const stages = fleet.rollout
    ? fleet.rollout.stages.map((s) => ({ name: s.name, soakMs: parseDuration(s.soak) }))
    : plan.stages.map((s) => ({ name: s.name, soakMs: 0 }));
  const healthTimeoutMs = parseDuration(fleet.rollout?.healthTimeout ?? '20m');
  const build = deps.build;
  const generation = build && generationProvider({ fleet, runningVersion: (c) => running.get(c)?.controlPlane, aws: deps.aws, build, log: deps.clock.log });
  // Each wait renews this run's claims on the clusters it works on (owner.ts); so does a timer, for the waits of a cache build.
  const clock: StageClock = { ...deps.clock, wait: async () => (await deps.clock.wait(), payload.claims.renew()) };
  const payload = new NodeImagePayload(
    { kube: deps.kube, nodegroups: deps.nodegroups, clusters: deps.clusters, healthTimeoutMs, generation, aws: deps.aws },
    clock,
  );
  // A second run is refused before it writes anything, whichever cluster the first one works on.
  for (const t of targets) checkOwner(t.cluster, await classesOf(deps.kube(t.cluster), t), payload.claims.run, clock.now());
  const heartbeat = setInterval(() => void payload.claims.renew().catch(() => undefined), HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await runStages({ stages, targets, healthTimeoutMs, payload, clock });
  } finally {
    clearInterval(heartbeat);
    // Best effort: a claim left behind (the cluster unreachable) is stale once its process is gone (owner.ts); the error that ended the run is the one to report.
    await payload.claims.release().catch((e: unknown) => deps.clock.log(`  could not remove this run's claim: ${(e as Error).message}`));
  }
}

function classesOf(kube: RolloutKube, t: NodeImageTarget) {
  return Promise.all(t.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
}
