/**
 * `upgrade apply` for a Bottlerocket release (same Kubernetes minor): the plan's clusters, stage by stage, through
 * the rollout's stage machinery (cli/rollout/stages.ts: gates, soak, rollback, resume) with the node image as its
 * payload (node-image-payload.ts). A plan with any refusal, or a cluster whose plan moves the Kubernetes minor (not
 * built yet), is refused before anything is written.
 */
import type { Fleet } from '../../modules/fleet/load';
import { parseDuration } from '../shared/duration';
import { IN_PROGRESS_STATES } from '../rollout/model';
import { runStages, type ClusterOutcome, type StageClock } from '../rollout/stages';
import type { RolloutKube } from '../rollout/kube';
import type { RegionApi } from '../rollout/aws';
import type { ClusterUpdater, NodegroupUpdater } from './eks-updates';
import { poolGenerations } from './generation';
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
}

/** Why the plan cannot be applied by this version of `upgrade apply`, per cluster (empty: it can). */
export function applyRefusals(plan: UpgradePlan): string[] {
  const clusters = plan.stages.flatMap((s) => s.clusters);
  return [
    ...clusters.flatMap((c) => c.refusals.map((r) => `${c.cluster}: ${r}`)),
    ...clusters
      .filter((c) => c.steps.some((s) => s.kind === 'build-cache'))
      .map(
        (c) =>
          `${c.cluster}: moving Kubernetes ${c.from.kubernetesVersion} → ${c.to.kubernetesVersion} needs a cache generation both variants mount; build it first (npm run cache -- build <cache>, docs/upgrades.md), then re-run`,
      ),
  ];
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
  const { generations, refusals } = await poolGenerations(
    {
      fleet,
      cluster,
      alias: to,
      runningVersion: running?.controlPlane ?? cluster.kubernetesVersion,
      liveSnapshot: (pool) => running?.pools.find((p) => p.name === pool)?.snapshot,
      aws: deps.aws,
    },
    pools,
  );
  if (refusals.length > 0) throw new UpgradeRefused(`${cluster.name}: nothing was changed: ${refusals.join('; ')}`);
  for (const g of generations)
    if (g && g.to !== g.from) deps.clock.log(`  ${cluster.name}: the generation moves with the alias: ${g.from ?? '-'} -> ${g.to ?? '-'} (${g.pointer})`);
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
    snapshots: generations.map((g) => g?.to),
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
  return runStages({
    stages,
    targets,
    healthTimeoutMs,
    payload: new NodeImagePayload({ kube: deps.kube, nodegroups: deps.nodegroups, clusters: deps.clusters, healthTimeoutMs }, deps.clock),
    clock: deps.clock,
  });
}
