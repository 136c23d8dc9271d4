/**
 * The fleet's `rollout` section: which clusters take a new image-cache generation in which stage, and
 * the Drifted disruption budget that paces node replacement inside each cluster. Pure functions over
 * the resolved fleet model; load.ts calls them, the stacks and `npm run rollout` read the result.
 */
import type { RolloutSpec } from './schema';
import type { Problem } from './problems';
import { closestKey } from './problems';
import { appliesTo, budgetActive, BudgetLike, describeBudget } from '../karpenter/disruption-budget';

/** Minimal shapes (load.ts's Cluster / NodePool satisfy them) so this file does not import load.ts. */
interface PoolLike {
  readonly name: string;
  readonly imageCache?: string;
  readonly driftBudget?: string;
  readonly disruptionBudgets: readonly { readonly reasons?: readonly string[] }[];
}
interface ClusterLike {
  readonly name: string;
  readonly karpenter?: { readonly nodePools: readonly PoolLike[] };
}

export type Rollout = RolloutSpec;

/**
 * Drifted nodes replaced at once per pool when the fleet has a rollout and the pool sets no driftBudget.
 * One node: the rollout's health gate then sees the first bad replacement before Karpenter has drained
 * more of the pool. Karpenter rounds percentages up (v1.14.1 Budget.GetAllowedDisruptions), so "10%"
 * of a 3-node pool would also be 1, but of a 50-node pool 5 — too many for a canary.
 */
export const DEFAULT_DRIFT_BUDGET = '1';

/** Clusters with at least one pool on the cache (in fleet order). */
export function clustersUsingCache<C extends ClusterLike>(clusters: readonly C[], cache: string): C[] {
  return clusters.filter((c) => c.karpenter?.nodePools.some((p) => p.imageCache === cache));
}

/**
 * The budgets a pool ends up with: its own, plus a `reasons: [Drifted]` budget when it sets driftBudget,
 * or when the fleet has a rollout and the pool uses an image cache (and has no Drifted budget of its own).
 * Without a rollout and without driftBudget the pool is unchanged.
 */
export function poolDisruptionBudgets<B extends { reasons?: readonly string[] }>(
  pool: { readonly imageCache?: string; readonly driftBudget?: string; readonly disruptionBudgets: readonly B[] },
  hasRollout: boolean,
): (B | { nodes: string; reasons: ['Drifted'] })[] {
  const own = [...pool.disruptionBudgets];
  if (pool.driftBudget !== undefined) return [...own, { nodes: pool.driftBudget, reasons: ['Drifted'] }];
  const hasDriftedBudget = own.some((b) => b.reasons?.includes('Drifted'));
  if (hasRollout && pool.imageCache !== undefined && !hasDriftedBudget) return [...own, { nodes: DEFAULT_DRIFT_BUDGET, reasons: ['Drifted'] }];
  return own;
}

/**
 * A driftBudget that another budget applying to drift undercuts has no effect: Karpenter takes the minimum
 * over every budget with no reasons or with Drifted (NodePool.GetAllowedDisruptionsByReason,
 * kubernetes-sigs/karpenter v1.14.1 pkg/apis/v1/nodepool.go). So driftBudget "20%" beside the default
 * "10%" still replaces 10%. Compared only when both are counts or both percentages (a count against a
 * percentage depends on the pool's size). Also: a schedule Karpenter cannot parse makes it fail closed,
 * blocking every disruption of the pool.
 */
export function checkPoolBudgets(
  at: string,
  pool: { readonly driftBudget?: string; readonly disruptionBudgets: readonly BudgetLike[] },
  problems: Problem[],
  warnings: Problem[],
): void {
  pool.disruptionBudgets.forEach((b, i) => {
    if (b.schedule === undefined) return;
    try {
      budgetActive(b, new Date(0));
    } catch (e) {
      problems.push({
        path: `${at}.disruptionBudgets[${i}].schedule`,
        message: `schedule "${b.schedule}" is not a cron expression Karpenter can parse (${(e as Error).message}); Karpenter would then allow no disruption at all in this pool`,
        fix: 'use five cron fields (minute hour day-of-month month day-of-week, UTC) or @daily/@hourly/...',
      });
    }
  });
  if (pool.driftBudget === undefined) return;
  const mine = pool.driftBudget;
  const kind = (n: string) => (n.endsWith('%') ? '%' : '#');
  pool.disruptionBudgets.forEach((b, i) => {
    if (!appliesTo(b, 'Drifted') || kind(b.nodes) !== kind(mine) || parseInt(b.nodes, 10) >= parseInt(mine, 10)) return;
    warnings.push({
      path: `${at}.driftBudget`,
      message: `driftBudget "${mine}" exceeds disruptionBudgets[${i}] (${describeBudget(b)}), which also applies to drift: Karpenter uses the smaller, so at most ${b.nodes}${b.schedule ? ' while that budget is active' : ''} are replaced at once`,
      fix: `lower driftBudget to ${b.nodes} or less, or add reasons to disruptionBudgets[${i}] (e.g. [Underutilized, Empty]) so it no longer applies to drift`,
    });
  });
}

/**
 * Every cluster with a cached pool is in exactly one stage; stages name known clusters; stage names are
 * unique. (Durations are checked by the schema.)
 */
export function checkRollout(rollout: Rollout, clusters: readonly ClusterLike[], problems: Problem[], warnings: Problem[]): void {
  const known = clusters.map((c) => c.name);
  const stageOf = new Map<string, string>();
  const stageNames = new Map<string, number>();
  rollout.stages.forEach((stage, i) => {
    const at = `rollout.stages[${i}]`;
    const other = stageNames.get(stage.name);
    if (other !== undefined)
      problems.push({
        path: `${at}.name`,
        message: `stage name "${stage.name}" is already used by rollout.stages[${other}]`,
        fix: 'give every stage its own name',
      });
    else stageNames.set(stage.name, i);
    stage.clusters.forEach((name, j) => {
      const where = `${at}.clusters[${j}]`;
      if (!known.includes(name)) {
        const guess = closestKey(name, known);
        problems.push({
          path: where,
          message: `unknown cluster "${name}"`,
          fix: guess ? `did you mean "${guess}"?` : `use a cluster defined under clusters (known: ${known.join(', ')})`,
        });
        return;
      }
      const earlier = stageOf.get(name);
      if (earlier !== undefined) {
        problems.push({ path: where, message: `cluster ${name} is already in stage ${earlier}`, fix: 'list every cluster in exactly one stage' });
        return;
      }
      stageOf.set(name, stage.name);
      const cluster = clusters.find((c) => c.name === name)!;
      if (!cluster.karpenter?.nodePools.some((p) => p.imageCache !== undefined)) {
        warnings.push({
          path: where,
          message: `cluster ${name} has no pool with an imageCache: the rollout has nothing to do there`,
          fix: `remove ${name} from the stage, or give one of its pools an imageCache`,
        });
      }
    });
  });
  for (const cluster of clusters) {
    const cached = cluster.karpenter?.nodePools.filter((p) => p.imageCache !== undefined) ?? [];
    if (cached.length > 0 && !stageOf.has(cluster.name)) {
      problems.push({
        path: 'rollout.stages',
        message: `cluster ${cluster.name} uses image cache(s) ${[...new Set(cached.map((p) => p.imageCache))].join(', ')} but is in no stage: it would never receive a new generation`,
        fix: `add ${cluster.name} to the clusters of one stage`,
      });
    }
  }
}
