/** What `rollout --dry-run` and `rollout status` print (pure, plus the reads status needs). */
import { nodeClassName } from '../../modules/karpenter/node-class';
import type { RegionApi } from './aws';
import type { RolloutKube } from './kube';
import type { ResolvedRollout } from './engine';
import { ANNOTATIONS, NODE_CLASS_HASH_ANNOTATION, RolloutPlan } from './model';
import { recordedHitRatio } from './cache-gate';

export interface DryRunCluster {
  readonly cluster: string;
  readonly region: string;
  readonly pools: string[];
  readonly from?: string;
  readonly to: string;
}
export interface DryRunStage {
  readonly name: string;
  readonly soak: string;
  readonly clusters: DryRunCluster[];
}

export function dryRun(plan: RolloutPlan, resolved: ResolvedRollout): DryRunStage[] {
  return plan.stages.map((s) => ({
    name: s.name,
    soak: s.soak,
    clusters: resolved.targets
      .filter((t) => t.step.stage === s.name)
      .map((t) => ({ cluster: t.step.cluster.name, region: t.step.region, pools: t.step.pools.map((p) => p.name), from: t.from, to: t.to })),
  }));
}

export function dryRunLines(plan: RolloutPlan, resolved: ResolvedRollout): string[] {
  return [
    `rollout of cache ${plan.cache.name} to ${resolved.source} (home region ${plan.cache.homeRegion}); healthTimeout ${plan.healthTimeout}`,
    ...dryRun(plan, resolved).flatMap((s) => [
      `stage ${s.name} (soak ${s.soak}):`,
      ...(s.clusters.length === 0
        ? ['  (no cluster in this stage uses the cache)']
        : s.clusters.map(
            (c) => `  ${c.cluster} (${c.region}) pools ${c.pools.join(', ')}: ${c.from ?? '-'} -> ${c.to}${c.from === c.to ? ' (already current)' : ''}`,
          )),
    ]),
    'dry run: nothing was changed',
  ];
}

export interface ClusterStatus {
  readonly stage: string;
  readonly cluster: string;
  readonly region: string;
  /** The cluster parameter's value (the regional snapshot the node classes use). */
  readonly snapshot?: string;
  /** The home-region snapshot it is a generation of. */
  readonly generation?: string;
  /** Progress state recorded on the node classes (starting, applied, converged, done, rolled-back). */
  readonly state?: string;
  /** NodeClaims on their class's current hash with a Ready node / all NodeClaims of the pools. */
  readonly nodes: string;
  readonly converged: boolean;
  /** The cache hit ratio the rollout last measured on the cluster's new nodes (null: no cached image used), and when; absent: never measured. */
  readonly cacheHitRatio?: number | null;
  readonly cacheMeasured?: string;
}

export async function status(
  plan: RolloutPlan,
  deps: { aws: (region: string) => RegionApi; kube: (cluster: string) => RolloutKube },
): Promise<ClusterStatus[]> {
  const rows: ClusterStatus[] = [];
  for (const step of plan.stages.flatMap((s) => s.clusters)) {
    const api = deps.aws(step.region);
    const snapshot = await api.getParameter(step.parameter);
    const generation = snapshot && (step.region === plan.cache.homeRegion ? snapshot : await api.sourceOf(snapshot));
    const kube = deps.kube(step.cluster.name);
    const [claims, nodes] = [await kube.listNodeClaims(), await kube.listNodes()];
    const ready = new Set(nodes.filter((n) => n.ready).map((n) => n.name));
    let good = 0;
    let total = 0;
    let state: string | undefined;
    const annotations: Readonly<Record<string, string>>[] = [];
    for (const pool of step.pools) {
      const cls = await kube.getNodeClass(nodeClassName(pool));
      if (cls) annotations.push(cls.annotations);
      state ??= cls?.annotations[ANNOTATIONS.state];
      const mine = claims.filter((c) => c.nodePool === pool.name);
      total += mine.length;
      good += mine.filter((c) => c.hash === cls?.annotations[NODE_CLASS_HASH_ANNOTATION] && c.nodeName && ready.has(c.nodeName)).length;
    }
    const cache = recordedHitRatio(annotations);
    rows.push({
      stage: step.stage,
      cluster: step.cluster.name,
      region: step.region,
      snapshot,
      generation,
      state,
      nodes: `${good}/${total}`,
      converged: good === total,
      ...(cache ? { cacheHitRatio: cache.ratio, cacheMeasured: cache.measured } : {}),
    });
  }
  return rows;
}
