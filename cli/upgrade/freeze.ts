/**
 * The drift freeze of a Kubernetes minor (issue 31): before the control plane moves, every NodePool of the cluster
 * gets a `Drifted` budget of 0 in front of its own budgets, and, in the SAME merge patch, an owner annotation that
 * records who froze it and the budgets to put back. Karpenter takes the most restrictive active budget for a reason
 * (K pkg/apis/v1/nodepool.go GetAllowedDisruptionsByReason: budgets without reasons or listing the reason, minimum
 * wins), so no node is replaced while the control plane and the variant move: Karpenter's 5-minute version poll
 * (A pkg/controllers/providers/version/controller.go) otherwise AMI-drifts every node on its own schedule. Lifted after
 * alias and snapshot were applied: each node is then replaced once, onto the new variant.
 */
import type { NodePool } from '../../modules/fleet/load';
import type { BudgetLike } from '../../modules/karpenter/disruption-budget';
import type { RolloutKube } from '../rollout/kube';

/** The NodePool of a pool: named after it (modules/karpenter/node-pool.ts `metadata: { name: pool.name }`). */
const nodePoolName = (pool: NodePool): string => pool.name;

/** On each frozen NodePool: JSON { owner, budgets } (the budgets before the freeze). */
export const FREEZE_ANNOTATION = 'bottlerocket-fleet/upgrade-freeze';
export const FREEZE_BUDGET: BudgetLike = { nodes: '0', reasons: ['Drifted'] };

interface Recorded {
  readonly owner: string;
  readonly budgets: BudgetLike[];
}

function recorded(annotations: Readonly<Record<string, string>>): Recorded | undefined {
  const raw = annotations[FREEZE_ANNOTATION];
  return raw ? (JSON.parse(raw) as Recorded) : undefined;
}

/** Freezes drift on every pool (a pool already frozen by this owner is left as it is: a resumed run). */
export async function freezeDrift(kube: RolloutKube, pools: readonly NodePool[], owner: string): Promise<void> {
  for (const pool of pools) {
    const name = nodePoolName(pool);
    const live = await kube.getNodePool(name);
    if (!live) throw new Error(`NodePool ${name} does not exist: deploy the cluster's Karpenter stack first`);
    const mine = recorded(live.annotations);
    if (mine && mine.owner === owner) continue;
    if (mine) throw new Error(`NodePool ${name} is frozen by "${mine.owner}", not this upgrade ("${owner}"): finish that one first`);
    await kube.patchNodePool(name, {
      annotations: { [FREEZE_ANNOTATION]: JSON.stringify({ owner, budgets: live.budgets }) },
      budgets: [FREEZE_BUDGET, ...live.budgets],
    });
  }
}

/**
 * Lifts the freeze: the recorded budgets back and the owner removed, in one patch. The annotation is a pointer anyone
 * who can patch the NodePool can move: the live budgets must be the freeze budget followed by exactly the recorded
 * ones, else nothing is written for that pool and the error says what differs.
 */
export async function liftFreeze(kube: RolloutKube, pools: readonly NodePool[]): Promise<void> {
  for (const pool of pools) {
    const name = nodePoolName(pool);
    const live = await kube.getNodePool(name);
    const mine = live && recorded(live.annotations);
    if (!live || !mine) continue;
    if (JSON.stringify(live.budgets) !== JSON.stringify([FREEZE_BUDGET, ...mine.budgets]))
      throw new Error(
        `NodePool ${name}: its budgets ${JSON.stringify(live.budgets)} are not the freeze followed by the recorded ${JSON.stringify(mine.budgets)}: not lifted; fix the budgets by hand (kubectl edit nodepool ${name}) and re-run`,
      );
    await kube.patchNodePool(name, { annotations: { [FREEZE_ANNOTATION]: null }, budgets: mine.budgets });
  }
}

/** Whether any pool carries a freeze (a resumed run lifts it after the apply). */
export async function frozen(kube: RolloutKube, pools: readonly NodePool[]): Promise<boolean> {
  for (const pool of pools) if (recorded((await kube.getNodePool(nodePoolName(pool)))?.annotations ?? {})) return true;
  return false;
}
