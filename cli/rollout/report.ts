/** What `rollout --dry-run` and `rollout status` print (pure, plus the reads status needs). */
import { nodeClassName } from '../../modules/karpenter/node-class';
import type { RegionApi } from './aws';
import type { RolloutKube } from './kube';
import type { ResolvedRollout } from './engine';
import { ANNOTATIONS, NODE_CLASS_HASH_ANNOTATION, RolloutPlan } from './model';
import { recordedHitRatio } from './cache-gate';
import { describeBudget, UNLIMITED } from '../../modules/karpenter/disruption-budget';
import { driftBudgetNow } from './holds';
import { isInitialized } from './converge';

export interface DryRunCluster {
  readonly cluster: string;
  readonly region: string;
  readonly pools: string[];
  readonly from?: string;
  readonly to: string;
  /** Per pool: how many drifted nodes Karpenter would replace at once right now (with --dry-run against the cluster). */
  readonly drift?: readonly PoolDrift[];
  /** Why drift could not be worked out (cluster unreachable). */
  readonly driftUnknown?: string;
}

export interface PoolDrift {
  readonly pool: string;
  /** Nodes Karpenter counts (initialized, not terminating). */
  readonly nodes: number;
  /** The Drifted budget now: min over applicable active budgets (unlimited when none is active). */
  readonly allowed: number | 'unlimited';
  /** Nodes using it up (NotReady or being deleted). */
  readonly disrupting: readonly string[];
  /** Drift disruptions Karpenter may start now. */
  readonly concurrency: number | 'unlimited';
  /** The budget setting the minimum. */
  readonly limitedBy?: string;
}

/**
 * Each pool's effective drift concurrency as Karpenter computes it now (disruption/helpers.go
 * BuildDisruptionBudgetMapping over the NodePool's budgets as the cluster has them, pkg/apis/v1/nodepool.go).
 */
export async function driftConcurrency(kube: RolloutKube, pools: readonly string[], now: number): Promise<PoolDrift[]> {
  const [claims, nodeList] = [await kube.listNodeClaims(), await kube.listNodes()];
  const nodes = new Map(nodeList.map((n) => [n.name, n]));
  const out: PoolDrift[] = [];
  for (const pool of pools) {
    const budgets = (await kube.nodePoolBudgets(pool)) ?? [];
    const b = driftBudgetNow({ budgets, claims: claims.filter((c) => c.nodePool === pool), nodes, now });
    const n = (x: number) => (x >= UNLIMITED ? ('unlimited' as const) : x);
    out.push({
      pool,
      nodes: b.numNodes,
      allowed: n(b.allowed),
      disrupting: b.disrupting,
      concurrency: n(b.remaining),
      limitedBy: b.error ?? (b.limitedBy !== undefined ? describeBudget(budgets[b.limitedBy]) : undefined),
    });
  }
  return out;
}

export async function withDrift(stages: DryRunStage[], kube: (cluster: string) => RolloutKube, now: number): Promise<DryRunStage[]> {
  const out: DryRunStage[] = [];
  for (const s of stages) {
    const clusters: DryRunCluster[] = [];
    for (const c of s.clusters) {
      try {
        clusters.push({ ...c, drift: await driftConcurrency(kube(c.cluster), c.pools, now) });
      } catch (e) {
        clusters.push({ ...c, driftUnknown: (e as Error).message });
      }
    }
    out.push({ ...s, clusters });
  }
  return out;
}

const driftLine = (d: PoolDrift) =>
  `    pool ${d.pool}: drift replaces ${d.concurrency === 'unlimited' ? 'any number of' : d.concurrency} node(s) at once now (${d.nodes} nodes; budget ${d.allowed}${d.limitedBy ? ` from ${d.limitedBy}` : ''}${d.disrupting.length ? `; used by ${d.disrupting.join(', ')} (NotReady or being deleted)` : ''})`;
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

export function dryRunLines(plan: RolloutPlan, resolved: ResolvedRollout, stages: DryRunStage[] = dryRun(plan, resolved)): string[] {
  return [
    `rollout of cache ${plan.cache.name} to ${resolved.source} (home region ${plan.cache.homeRegion}); healthTimeout ${plan.healthTimeout}`,
    ...stages.flatMap((s) => [
      `stage ${s.name} (soak ${s.soak}):`,
      ...(s.clusters.length === 0
        ? ['  (no cluster in this stage uses the cache)']
        : s.clusters.flatMap((c) => [
            `  ${c.cluster} (${c.region}) pools ${c.pools.join(', ')}: ${c.from ?? '-'} -> ${c.to}${c.from === c.to ? ' (already current)' : ''}`,
            ...(c.drift ?? []).map(driftLine),
            ...(c.driftUnknown ? [`    drift concurrency unknown: ${c.driftUnknown}`] : []),
          ])),
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
  /** NodeClaims on their class's current hash and Initialized / all NodeClaims of the pools. */
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
    const [claims, nodeList] = [await kube.listNodeClaims(), await kube.listNodes()];
    const nodes = new Map(nodeList.map((n) => [n.name, n]));
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
      good += mine.filter((c) => c.hash === cls?.annotations[NODE_CLASS_HASH_ANNOTATION] && isInitialized(c, nodes)).length;
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
