/**
 * Karpenter's disruption budgets, computed as Karpenter v1.14.1 computes them (kubernetes-sigs/karpenter
 * at v1.14.1, the commit aws/karpenter-provider-aws v1.14.1's go.mod pins). Pure: the fleet loader, the
 * rollout and the simulated Karpenter of the tests all call these functions, so they cannot disagree.
 */
import { Cron } from 'croner';

export interface BudgetLike {
  readonly nodes: string;
  readonly schedule?: string;
  readonly duration?: string;
  readonly reasons?: readonly string[];
}

/** What Karpenter returns for an unlimited (inactive) budget: math.MaxInt32 (pkg/apis/v1/nodepool.go). */
export const UNLIMITED = 2147483647;

/** A budget duration as the NodePool CRD accepts it (hours and minutes, e.g. 1h30m), in ms. */
export function budgetDurationMs(text: string): number {
  // Optional groups that did not match are undefined (the regexp type says string).
  const m: (string | undefined)[] | null = /^(?:(\d+)h)?(?:(\d+)m)?(?:0s)?$/.exec(text);
  const [hours, minutes] = [m?.[1], m?.[2]];
  if (hours === undefined && minutes === undefined) throw new Error(`budget duration "${text}" is not hours and minutes (e.g. 1h30m)`);
  return (Number(hours ?? 0) * 60 + Number(minutes ?? 0)) * 60_000;
}

/**
 * Budget.IsActive (pkg/apis/v1/nodepool.go): a budget without schedule is always active; a scheduled one
 * is active when the schedule's next hit after (now - duration) is not after now, cron in UTC
 * (`cron.ParseStandard("TZ=UTC " + schedule)`). Throws on a schedule Karpenter could not parse.
 */
export function budgetActive(b: BudgetLike, now: Date): boolean {
  if (b.schedule === undefined && b.duration === undefined) return true;
  const schedule = (b.schedule ?? '').trim();
  // robfig/cron's ParseStandard takes five fields or a descriptor; croner would also take seconds (six or seven).
  if (!/^@(annually|yearly|monthly|weekly|daily|midnight|hourly)$/.test(schedule) && schedule.split(/\s+/).length !== 5)
    throw new Error(`"${schedule}" needs exactly five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily`);
  const cron = new Cron(schedule, { timezone: 'UTC' });
  const next = cron.nextRun(new Date(now.getTime() - budgetDurationMs(b.duration ?? '0m')));
  return next !== null && next.getTime() <= now.getTime();
}

/**
 * Budget.GetAllowedDisruptions (pkg/apis/v1/nodepool.go): UNLIMITED while inactive; else `nodes`, a
 * percentage of numNodes rounded up (intstr.GetScaledValueFromIntOrPercent(..., roundUp=true)).
 */
export function budgetAllows(b: BudgetLike, now: Date, numNodes: number): number {
  if (!budgetActive(b, now)) return UNLIMITED;
  const pct = /^(\d+)%$/.exec(b.nodes);
  return pct ? Math.ceil((Number(pct[1]) * numNodes) / 100) : Number(b.nodes);
}

/** Budgets that apply to a reason: those with no `reasons`, or listing it (NodePool.GetAllowedDisruptionsByReason). */
export const appliesTo = (b: BudgetLike, reason: string): boolean => b.reasons === undefined || b.reasons.includes(reason);

export interface AllowedDisruptions {
  /** The minimum over the applicable budgets; UNLIMITED when none is active; 0 when any budget is misconfigured. */
  readonly allowed: number;
  /** Index of the budget that sets the minimum (undefined: unlimited, or misconfigured). */
  readonly limitedBy?: number;
  readonly error?: string;
}

/**
 * NodePool.MustGetAllowedDisruptions (pkg/apis/v1/nodepool.go): the minimum over every budget with no
 * reasons or with this reason; an error in any budget (applicable or not) makes it 0 — Karpenter fails closed.
 */
export function allowedDisruptions(budgets: readonly BudgetLike[], now: Date, numNodes: number, reason: string): AllowedDisruptions {
  let allowed = UNLIMITED;
  let limitedBy: number | undefined;
  for (const [i, b] of budgets.entries()) {
    let value: number;
    try {
      value = budgetAllows(b, now, numNodes);
    } catch (e) {
      return { allowed: 0, error: `budget ${i} (${describeBudget(b)}): ${(e as Error).message}` };
    }
    if (appliesTo(b, reason) && value < allowed) {
      allowed = value;
      limitedBy = i;
    }
  }
  return { allowed, limitedBy };
}

/** A pool's node as BuildDisruptionBudgetMapping (pkg/controllers/disruption/helpers.go) sees it. */
export interface BudgetNode {
  readonly name: string;
  /** The node carries karpenter.sh/initialized=true (StateNode.Initialized). */
  readonly initialized: boolean;
  readonly ready: boolean;
  /** The NodeClaim is deleting or marked for deletion (StateNode.MarkedForDeletion). */
  readonly deleting: boolean;
  /** The NodeClaim's InstanceTerminating condition is True: no longer counted at all. */
  readonly terminating?: boolean;
}

export interface PoolBudget extends AllowedDisruptions {
  /** Nodes counted (managed, initialized, not InstanceTerminating). */
  readonly numNodes: number;
  /** Counted nodes that are NotReady or deleting: each uses one disruption of the budget. */
  readonly disrupting: readonly string[];
  /** max(allowed - disrupting, 0): new drift disruptions Karpenter may start now. */
  readonly remaining: number;
}

/**
 * BuildDisruptionBudgetMapping (pkg/controllers/disruption/helpers.go): count the pool's initialized,
 * not-terminating nodes; every one of them that is NotReady or marked for deletion uses the budget, old
 * nodes included; what remains is max(allowed - disrupting, 0).
 */
export function poolBudget(budgets: readonly BudgetLike[], nodes: readonly BudgetNode[], now: Date, reason = 'Drifted'): PoolBudget {
  const counted = nodes.filter((n) => n.initialized && !n.terminating);
  const disrupting = counted.filter((n) => !n.ready || n.deleting).map((n) => n.name);
  const a = allowedDisruptions(budgets, now, counted.length, reason);
  return { ...a, numNodes: counted.length, disrupting, remaining: Math.max(a.allowed - disrupting.length, 0) };
}

export function describeBudget(b: BudgetLike): string {
  return [
    `nodes ${b.nodes}`,
    b.reasons ? `reasons [${b.reasons.join(', ')}]` : undefined,
    b.schedule ? `schedule "${b.schedule}" for ${b.duration}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

/** "2 of 3 nodes" / "unlimited" for people. */
export const formatAllowed = (n: number): string => (n >= UNLIMITED ? 'unlimited' : String(n));
