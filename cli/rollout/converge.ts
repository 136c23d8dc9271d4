/**
 * One look at a cluster during a rollout: is every NodeClaim of the affected pools on the node class's new
 * hash, launched after the apply and Initialized (as Karpenter waits for it: Ready, startup taints gone,
 * extended resources registered — kubernetes-sigs/karpenter v1.14.1 pkg/controllers/nodeclaim/lifecycle/
 * initialization.go), and are the pods on them and their workloads healthy? When not, what holds the old
 * nodes (holds.ts). Pure over what RolloutKube returns; the engine decides how long to keep looking.
 */
import type { NodePool } from '../../modules/fleet/load';
import { nodeClassName } from '../../modules/karpenter/node-class';
import type { NodeClaimInfo, NodeInfo, RolloutKube } from './kube';
import { ANNOTATIONS, NODE_CLASS_HASH_ANNOTATION } from './model';
import { findHolds, Hold, PoolView } from './holds';
import { failingPods, pendingTooLong, podName, unavailableWorkloads, WorkloadAvailability } from '../shared/health';
import { formatDuration } from '../shared/duration';

export interface Observation {
  /** A health failure that will not heal by waiting: roll back now. */
  readonly failure?: { readonly pool?: string; readonly reason: string };
  /** Every NodeClaim of every affected pool is on the new generation and Initialized. */
  readonly converged: boolean;
  /** Workloads on the pools' nodes below their desired replicas (not yet a failure). */
  readonly unavailable: readonly string[];
  /** NodeClaims of the new generation that are Initialized, summed over the pools (progress measure). */
  readonly readyNew: number;
  /** NodeClaims not on the new generation, summed over the pools (progress measure: it falls as Karpenter drifts). */
  readonly oldLeft: number;
  readonly total: number;
  /** Per pool: "2/3 nodes on the new hash and initialized" for progress lines. */
  readonly summary: string;
  /** The first replacement node that is not initialized yet, with its pool. */
  readonly notReady?: { readonly pool: string; readonly node: string };
  /** What holds old nodes back (asked for with `holds: true`). */
  readonly holds: readonly Hold[];
  /** Claims carrying the new hash that were launched before the apply: rehashed in place, not replaced. */
  readonly rehashedInPlace: readonly string[];
}

export interface ObserveOptions {
  readonly pools: readonly NodePool[];
  /** Pending pods created before this are not the rollout's doing. */
  readonly since: number;
  readonly now: number;
  readonly healthTimeoutMs: number;
  /** Require the class hash to differ from the recorded previous hash (the class spec changed). */
  readonly expectNewHash: boolean;
  /** Only NodeClaims created at or after this (ms) are the new generation (0: any). */
  readonly appliedAt: number;
  /** Also work out what holds the old nodes (costs a PDB and NodePool read). */
  readonly holds?: boolean;
}

/**
 * The API server serializes metav1.Time in whole seconds (k8s.io/apimachinery pkg/apis/meta/v1/time.go
 * MarshalJSON: time.RFC3339), so a NodeClaim launched in the apply's second reads as created before it.
 * Compare at the server's precision: the apply time truncated to its second.
 */
export const atServerPrecision = (ms: number): number => Math.floor(ms / 1000) * 1000;
const launchedBeforeApply = (c: NodeClaimInfo, appliedAt: number): boolean => c.createdAt.getTime() < atServerPrecision(appliedAt);

export const isInitialized = (c: NodeClaimInfo, nodes: ReadonlyMap<string, NodeInfo>): boolean =>
  c.conditions.Initialized?.status === 'True' || (c.nodeName !== undefined && nodes.get(c.nodeName)?.initialized === true);

/** What one look has found so far, over the pools looked at. */
interface Tally {
  converged: boolean;
  readyNew: number;
  oldLeft: number;
  total: number;
  readonly summary: string[];
  /** Nodes of the pools, and the new ones with their pool. */
  readonly poolNodes: Set<string>;
  readonly newNodes: Map<string, string>;
  readonly holds: Hold[];
  readonly rehashedInPlace: string[];
  notReady?: Observation['notReady'];
}

/** What a look reads once for every pool. */
interface ClusterView {
  readonly claims: readonly NodeClaimInfo[];
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  readonly pods: Awaited<ReturnType<RolloutKube['listPods']>>;
  readonly pdbs: Awaited<ReturnType<RolloutKube['listPdbs']>>;
}

export async function observe(kube: RolloutKube, o: ObserveOptions): Promise<Observation> {
  const [claims, nodeList, pods] = [await kube.listNodeClaims(), await kube.listNodes(), await kube.listPods()];
  const view: ClusterView = { claims, pods, pdbs: o.holds ? await kube.listPdbs() : [], nodes: new Map(nodeList.map((n) => [n.name, n])) };
  const t: Tally = {
    converged: true,
    readyNew: 0,
    oldLeft: 0,
    total: 0,
    summary: [],
    poolNodes: new Set(),
    newNodes: new Map(),
    holds: [],
    rehashedInPlace: [],
  };
  for (const pool of o.pools) {
    const stuck = await lookAtPool(kube, pool, o, view, t);
    if (stuck) return failed(t, pool.name, stuck);
  }
  const sick = podFailure(view, t, o);
  if (sick) return failed(t, sick.pool, sick.reason);
  return {
    notReady: t.notReady,
    converged: t.converged,
    unavailable: await unavailableOnPools(kube, view, t),
    readyNew: t.readyNew,
    oldLeft: t.oldLeft,
    total: t.total,
    summary: t.summary.join('; '),
    holds: t.holds,
    rehashedInPlace: t.rehashedInPlace,
  };
}

function failed(t: Tally, pool: string | undefined, reason: string): Observation {
  return {
    failure: { pool, reason },
    converged: false,
    unavailable: [],
    readyNew: t.readyNew,
    oldLeft: t.oldLeft,
    total: t.total,
    summary: t.summary.join('; '),
    notReady: t.notReady,
    holds: t.holds,
    rehashedInPlace: t.rehashedInPlace,
  };
}

/** Adds one pool to the tally; returns why a new node of it failed, if one did. */
async function lookAtPool(kube: RolloutKube, pool: NodePool, o: ObserveOptions, view: ClusterView, t: Tally): Promise<string | undefined> {
  const { nodes } = view;
  const cls = await kube.getNodeClass(nodeClassName(pool));
  const hash = cls?.annotations[NODE_CLASS_HASH_ANNOTATION];
  const rehashed = hash !== undefined && (!o.expectNewHash || hash !== cls?.annotations[ANNOTATIONS.previousHash]);
  const mine = view.claims.filter((c) => c.nodePool === pool.name);
  mine.forEach((c) => c.nodeName && t.poolNodes.add(c.nodeName));
  const onHash = rehashed ? mine.filter((c) => c.hash === hash) : [];
  const fresh = onHash.filter((c) => !launchedBeforeApply(c, o.appliedAt));
  const inPlace = o.expectNewHash ? onHash.filter((c) => launchedBeforeApply(c, o.appliedAt) && !c.deleting) : [];
  t.rehashedInPlace.push(...inPlace.map((c) => c.name));
  fresh.forEach((c) => c.nodeName && t.newNodes.set(c.nodeName, pool.name));
  const up = fresh.filter((c) => isInitialized(c, nodes));
  const old = mine.filter((c) => !fresh.includes(c));
  t.readyNew += up.length;
  t.oldLeft += old.length;
  t.total += mine.length;
  if (!rehashed || up.length < mine.length) t.converged = false;
  t.summary.push(
    `${pool.name} ${rehashed ? `${up.length}/${mine.length} nodes on the new hash and initialized` : 'waiting for Karpenter to hash the new node class'}`,
  );
  const waiting = fresh.find((c) => !isInitialized(c, nodes));
  t.notReady ??= waiting && { pool: pool.name, node: waiting.nodeName ?? `of NodeClaim ${waiting.name}` };
  const stuck = neverInitialized(fresh, nodes, o);
  if (stuck) return stuck;
  if (o.holds) {
    const v: PoolView = {
      pool: pool.name,
      nodeClass: cls,
      budgets: await kube.nodePoolBudgets(pool.name),
      claims: mine,
      old,
      nodes,
      pods: view.pods,
      pdbs: view.pdbs,
      now: o.now,
    };
    const freshNames = new Set(fresh.map((c) => c.name));
    t.holds.push(...findHolds(v).filter((h) => !(h.claim && freshNames.has(h.claim)))); // a replacement initializing is the health gate's
    t.holds.push(...inPlace.map((c) => rehashedHold(pool.name, c)));
  }
  return undefined;
}

/**
 * A new node that does not initialize within healthTimeout is a health failure: Karpenter would wait forever
 * (initialization has no timeout once registered; lifecycle/liveness.go only times out registration).
 */
function neverInitialized(fresh: readonly NodeClaimInfo[], nodes: ReadonlyMap<string, NodeInfo>, o: ObserveOptions): string | undefined {
  const stuck = fresh.find((c) => !isInitialized(c, nodes) && !c.deleting && o.now - c.createdAt.getTime() > o.healthTimeoutMs);
  if (!stuck) return undefined;
  const why = stuck.conditions.Initialized?.reason ?? (stuck.nodeName ? undefined : 'not registered');
  return `node ${stuck.nodeName ?? `of NodeClaim ${stuck.name}`} not initialized ${formatDuration(o.now - stuck.createdAt.getTime())} after launch${why ? ` (${why})` : ''} (limit ${formatDuration(o.healthTimeoutMs)})`;
}

/** AWS pkg/controllers/nodeclass/hash/controller.go: a hash-version migration rewrites a not-yet-drifted claim's hash in place. */
function rehashedHold(pool: string, c: NodeClaimInfo): Hold {
  return {
    pool,
    claim: c.name,
    node: c.nodeName,
    by: `NodeClaim ${c.name} carries the new hash but was launched before the apply: Karpenter rehashed it in place (hash-version migration), so it is not replaced`,
    fix: `kubectl delete nodeclaim ${c.name} so Karpenter replaces it, then re-run`,
  };
}

/** A pod failing on a new node, or Pending (created since the start) longer than healthTimeout. */
function podFailure(view: ClusterView, t: Tally, o: ObserveOptions): { pool?: string; reason: string } | undefined {
  const failing = failingPods(view.pods, new Set(t.newNodes.keys()));
  if (failing.length > 0)
    return {
      pool: t.newNodes.get(failing[0].pod.nodeName!),
      reason: `pod ${podName(failing[0].pod)} on new node ${failing[0].pod.nodeName} is in ${failing[0].reason}`,
    };
  const pending = pendingTooLong(view.pods, o.since, o.now, o.healthTimeoutMs);
  if (pending.length > 0)
    return {
      reason: `pod ${podName(pending[0])} has been Pending for ${formatDuration(o.now - pending[0].createdAt.getTime())} (limit ${formatDuration(o.healthTimeoutMs)})`,
    };
  return undefined;
}

/** Workloads with a pod on the pools' nodes that are below their desired replicas. */
async function unavailableOnPools(kube: RolloutKube, view: ClusterView, t: Tally): Promise<string[]> {
  const workloads = new Map<string, WorkloadAvailability>();
  for (const p of view.pods.filter((x) => x.owner && x.nodeName && t.poolNodes.has(x.nodeName))) {
    const key = `${p.owner!.kind}/${p.namespace}/${p.owner!.name}`;
    if (workloads.has(key)) continue;
    const w = await kube.workload(p.owner!.kind, p.namespace, p.owner!.name);
    if (w) workloads.set(key, w);
  }
  return unavailableWorkloads([...new Map([...workloads.values()].map((w) => [`${w.kind}/${w.namespace}/${w.name}`, w])).values()]);
}
