/**
 * What holds an old node back from drifting, by Karpenter v1.14.1's own rules (kubernetes-sigs/karpenter at
 * v1.14.1 unless marked AWS). Pure over what RolloutKube returns. The engine asks only when the rollout
 * stalls: a stall with a hold is `blocked` (left as it is, no rollback), not a health failure.
 */
import { describeBudget, formatAllowed, poolBudget, PoolBudget, BudgetLike } from '../../modules/karpenter/disruption-budget';
import { parseDuration } from '../shared/duration';
import { NODE_CLASS_HASH_VERSION_ANNOTATION } from './model';
import { selectorMatches, type NodeClaimInfo, type NodeClassInfo, type NodeInfo, type PdbInfo, type PodInfo } from './kube';

export const DO_NOT_DISRUPT = 'karpenter.sh/do-not-disrupt';

export interface Hold {
  readonly pool: string;
  /** The NodeClaim held (undefined: the whole pool). */
  readonly claim?: string;
  readonly node?: string;
  /** The holder, in one phrase: "PodDisruptionBudget default/web allows 0 disruptions". */
  readonly by: string;
  /** What to do about it. */
  readonly fix: string;
}

export interface PoolView {
  readonly pool: string;
  readonly nodeClass: NodeClassInfo | undefined;
  /** The NodePool's budgets as the cluster has them (undefined: the NodePool is missing). */
  readonly budgets: readonly BudgetLike[] | undefined;
  /** Every NodeClaim of the pool. */
  readonly claims: readonly NodeClaimInfo[];
  /** Claims still to be replaced (not on the new generation). */
  readonly old: readonly NodeClaimInfo[];
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  readonly pods: readonly PodInfo[];
  readonly pdbs: readonly PdbInfo[];
  readonly now: number;
}

const initialized = (c: NodeClaimInfo, nodes: ReadonlyMap<string, NodeInfo>) =>
  c.conditions.Initialized?.status === 'True' || (c.nodeName !== undefined && nodes.get(c.nodeName)?.initialized === true);
/** StateNode.MarkedForDeletion (state/statenode.go): deleting, or chosen by a disruption command (the DisruptionReason condition the queue sets, disruption/queue.go markDisrupted). */
const markedForDeletion = (c: NodeClaimInfo, nodes: ReadonlyMap<string, NodeInfo>) =>
  c.deleting || c.conditions.DisruptionReason?.status === 'True' || (c.nodeName !== undefined && nodes.get(c.nodeName)?.deleting === true);

/** The pool's Drifted budget now, counted as BuildDisruptionBudgetMapping counts it (disruption/helpers.go). */
export function driftBudgetNow(v: Pick<PoolView, 'budgets' | 'claims' | 'nodes' | 'now'>): PoolBudget {
  return poolBudget(
    v.budgets ?? [],
    v.claims.map((c) => ({
      name: c.nodeName ?? c.name,
      initialized: initialized(c, v.nodes),
      ready: c.nodeName !== undefined && v.nodes.get(c.nodeName)?.ready === true,
      deleting: markedForDeletion(c, v.nodes),
      terminating: c.conditions.InstanceTerminating?.status === 'True',
    })),
    new Date(v.now),
  );
}

/** pod.IsDoNotDisruptActive (utils/pod/scheduling.go): "true", or a Go duration not yet elapsed since the pod started. */
function doNotDisruptActive(p: PodInfo, now: number): boolean {
  const v = p.annotations[DO_NOT_DISRUPT] as string | undefined;
  if (v === undefined) return false;
  if (v === 'true') return true;
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch {
    return false; // an invalid value is treated as absent
  }
  if (ms <= 0) return false;
  return p.startedAt === undefined || now - p.startedAt.getTime() < ms;
}
/** pod.IsActive: not Succeeded/Failed and not terminating. */
const active = (p: PodInfo) => p.phase !== 'Succeeded' && p.phase !== 'Failed' && !p.deleting;

/** Everything that holds the pool's old nodes back, by Karpenter's rules in the order it applies them. */
export function findHolds(v: PoolView): Hold[] {
  return [...nodeClassHolds(v), ...budgetHolds(v), ...uninitializedHolds(v), ...v.old.flatMap((c) => claimHolds(v, c))];
}

/** AWS pkg/cloudprovider/cloudprovider.go Create: no launch unless the class is Ready for its current generation. */
function nodeClassHolds(v: PoolView): Hold[] {
  const cls = v.nodeClass;
  const ready = cls?.ready;
  if (ready?.status !== 'True')
    return [
      {
        pool: v.pool,
        by: `EC2NodeClass ${cls?.name ?? '?'} is not Ready${ready ? ` (${ready.status}${ready.reason ? ` ${ready.reason}` : ''}${ready.message ? `: ${ready.message}` : ''})` : ''}, so Karpenter launches no replacement`,
        fix: `kubectl describe ec2nodeclass ${cls?.name ?? ''} and fix what its Ready condition names (subnets, security groups, AMI, instance profile), then re-run`,
      },
    ];
  if (ready.observedGeneration !== undefined && ready.observedGeneration !== cls!.generation)
    return [
      {
        pool: v.pool,
        by: `EC2NodeClass ${cls!.name}'s Ready status is for generation ${ready.observedGeneration}, not ${cls!.generation}: Karpenter launches nothing until it has reconciled the new spec`,
        fix: `check the Karpenter controller is running (kubectl -n kube-system logs deploy/karpenter), then re-run`,
      },
    ];
  return [];
}

function budgetHolds(v: PoolView): Hold[] {
  const budget = driftBudgetNow(v);
  // Nodes Karpenter is deleting use the budget too, but that is drift in progress; NotReady nodes that stay are a hold.
  const notReady = budget.disrupting.filter((n) => {
    const c = v.claims.find((x) => (x.nodeName ?? x.name) === n);
    return c !== undefined && !markedForDeletion(c, v.nodes);
  });
  if (budget.remaining !== 0 || (budget.allowed !== 0 && notReady.length === 0)) return [];
  const limiting = budget.limitedBy !== undefined && v.budgets ? describeBudget(v.budgets[budget.limitedBy]) : undefined;
  return [
    {
      pool: v.pool,
      by:
        budget.error !== undefined
          ? `NodePool ${v.pool} has a budget Karpenter cannot evaluate (${budget.error}), so it allows no disruption`
          : budget.allowed === 0
            ? `NodePool ${v.pool}'s budget (${limiting ?? '?'}) allows 0 drift disruptions now`
            : `NodePool ${v.pool}'s drift budget of ${formatAllowed(budget.allowed)}${limiting ? ` (${limiting})` : ''} is used up by NotReady node(s) ${notReady.join(', ')}`,
      fix:
        budget.allowed === 0
          ? `wait for the budget's window or raise it (fleet file disruptionBudgets / driftBudget), then re-run`
          : `bring ${notReady.join(', ')} back to Ready or delete its NodeClaim (kubectl describe node ${notReady[0]}), then re-run`,
    },
  ];
}

/** Karpenter skips a candidate whose pods would land on a node that is not initialized (disruption/helpers.go SimulateScheduling). */
function uninitializedHolds(v: PoolView): Hold[] {
  return v.claims
    .filter((x) => x.nodeName && !initialized(x, v.nodes) && !markedForDeletion(x, v.nodes))
    .map((c) => ({
      pool: v.pool,
      node: c.nodeName,
      claim: c.name,
      by: `node ${c.nodeName} (NodeClaim ${c.name}) is registered but not initialized${c.conditions.Initialized?.reason ? ` (${c.conditions.Initialized.reason})` : ''}: Karpenter does not drift a node whose pods would land on it, and never removes it`,
      fix: `kubectl delete nodeclaim ${c.name} (Karpenter keeps a registered node that never initializes), then re-run`,
    }));
}

/** What holds one old NodeClaim: its hash version, then state/statenode.go ValidateNodeDisruptable and ValidatePodsDisruptable. */
function claimHolds(v: PoolView, c: NodeClaimInfo): Hold[] {
  const cls = v.nodeClass;
  const node = c.nodeName !== undefined ? v.nodes.get(c.nodeName) : undefined;
  const at = { pool: v.pool, claim: c.name, node: c.nodeName };
  if (markedForDeletion(c, v.nodes)) return []; // on its way out: progress, not a hold
  const holds: Hold[] = [];
  // AWS pkg/cloudprovider/drift.go areStaticFieldsDrifted: hashes are compared only when both versions match.
  if (cls && c.hashVersion !== undefined && c.hashVersion !== cls.annotations[NODE_CLASS_HASH_VERSION_ANNOTATION])
    holds.push({
      ...at,
      by: `NodeClaim ${c.name} has hash version ${c.hashVersion}, its class ${cls.annotations[NODE_CLASS_HASH_VERSION_ANNOTATION] ?? 'none'}: Karpenter does not compare their hashes, so it never drifts`,
      fix: `kubectl delete nodeclaim ${c.name} so Karpenter replaces it, then re-run`,
    });
  if (!node) return holds; // not registered yet: Karpenter's liveness controller removes it after 15 minutes
  if (!initialized(c, v.nodes)) return holds; // reported by uninitializedHolds
  if (node.annotations[DO_NOT_DISRUPT] === 'true')
    holds.push({
      ...at,
      by: `node ${node.name} carries ${DO_NOT_DISRUPT}=true`,
      fix: `kubectl annotate node ${node.name} ${DO_NOT_DISRUPT}- when it may be replaced, then re-run`,
    });
  // A NodeClaim with a terminationGracePeriod is an eventual-disruption candidate despite blocking pods (disruption/types.go NewCandidate).
  if (c.terminationGracePeriod !== undefined) return holds;
  const pod = podHold(v, at, node.name);
  return pod ? [...holds, pod] : holds;
}

/** state/statenode.go ValidatePodsDisruptable: do-not-disrupt pods first, then PDBs (utils/pdb/pdb.go isEvictable); the first found. */
function podHold(v: PoolView, at: Pick<Hold, 'pool' | 'claim' | 'node'>, nodeName: string): Hold | undefined {
  const pods = v.pods.filter((p) => p.nodeName === nodeName);
  const dnd = pods.find((p) => active(p) && doNotDisruptActive(p, v.now));
  if (dnd)
    return {
      ...at,
      by: `pod ${dnd.namespace}/${dnd.name} on ${nodeName} carries ${DO_NOT_DISRUPT}=${dnd.annotations[DO_NOT_DISRUPT]}`,
      fix: `wait for the pod to finish, or kubectl annotate pod -n ${dnd.namespace} ${dnd.name} ${DO_NOT_DISRUPT}-, then re-run`,
    };
  for (const p of pods.filter((x) => active(x) && !doNotDisruptActive(x, v.now) && x.owner?.kind !== 'Node')) {
    const matching = v.pdbs.filter((b) => b.namespace === p.namespace && b.selector !== undefined && selectorMatches(b.selector, p.labels));
    if (matching.length > 1)
      return {
        ...at,
        by: `pod ${p.namespace}/${p.name} on ${nodeName} is selected by ${matching.length} PodDisruptionBudgets (${matching.map((b) => `${b.namespace}/${b.name}`).join(', ')}); eviction supports one`,
        fix: 'keep one PodDisruptionBudget per pod, then re-run',
      };
    const zero = matching.find((b) => b.disruptionsAllowed === 0);
    if (zero)
      return {
        ...at,
        by: `PodDisruptionBudget ${zero.namespace}/${zero.name} allows 0 disruptions (pod ${p.namespace}/${p.name} on ${nodeName})`,
        fix: `kubectl get pdb -n ${zero.namespace} ${zero.name}: make its workload healthy or relax the budget, then re-run`,
      };
  }
  return undefined;
}

export const formatHold = (h: Hold): string =>
  `pool ${h.pool}: ${h.claim && !h.by.includes(h.claim) && h.node && !h.by.includes(h.node) ? `node ${h.node}: ` : ''}${h.by}`;
