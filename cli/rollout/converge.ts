/**
 * One look at a cluster during a rollout: have the affected pools' NodeClaims all been relaunched with
 * the node class's new hash, are their nodes Ready, and are the pods on them and their workloads healthy?
 * Pure over what RolloutKube returns; the engine decides how long to keep looking.
 */
import type { NodePool } from '../../modules/fleet/load';
import { nodeClassName } from '../../modules/karpenter/node-class';
import type { RolloutKube } from './kube';
import { ANNOTATIONS, NODE_CLASS_HASH_ANNOTATION } from './model';
import { failingPods, pendingTooLong, podName, unavailableWorkloads, WorkloadAvailability } from '../shared/health';
import { formatDuration } from '../shared/duration';

export interface Observation {
  /** A problem that will not heal by waiting: roll back now. */
  readonly failure?: { readonly pool?: string; readonly reason: string };
  /** Every NodeClaim of every affected pool carries its class's new hash and its node is Ready. */
  readonly converged: boolean;
  /** Workloads on the pools' nodes below their desired replicas (not yet a failure). */
  readonly unavailable: readonly string[];
  /** NodeClaims on the new hash with a Ready node, summed over the pools (progress measure). */
  readonly readyNew: number;
  readonly total: number;
  /** Per pool: "2/3 nodes on the new hash, Ready" for progress lines. */
  readonly summary: string;
  /** The first replacement node that is not Ready yet, with its pool (named when progress stalls). */
  readonly notReady?: { readonly pool: string; readonly node: string };
}

export interface ObserveOptions {
  readonly pools: readonly NodePool[];
  /** Pending pods created before this are not the rollout's doing. */
  readonly since: number;
  readonly now: number;
  readonly healthTimeoutMs: number;
  /** Require the class hash to differ from the recorded previous hash (the class spec changed). */
  readonly expectNewHash: boolean;
}

export async function observe(kube: RolloutKube, o: ObserveOptions): Promise<Observation> {
  const [claims, nodes, pods] = [await kube.listNodeClaims(), await kube.listNodes(), await kube.listPods()];
  const ready = new Set(nodes.filter((n) => n.ready).map((n) => n.name));
  let converged = true;
  let readyNew = 0;
  let total = 0;
  const summary: string[] = [];
  const poolNodes = new Set<string>();
  const newNodes = new Map<string, string>(); // node -> pool
  let notReady: Observation['notReady'];
  for (const pool of o.pools) {
    const cls = await kube.getNodeClass(nodeClassName(pool));
    const hash = cls?.annotations[NODE_CLASS_HASH_ANNOTATION];
    const rehashed = hash !== undefined && (!o.expectNewHash || hash !== cls?.annotations[ANNOTATIONS.previousHash]);
    const mine = claims.filter((c) => c.nodePool === pool.name);
    mine.forEach((c) => c.nodeName && poolNodes.add(c.nodeName));
    const fresh = rehashed ? mine.filter((c) => c.hash === hash) : [];
    fresh.forEach((c) => c.nodeName && newNodes.set(c.nodeName, pool.name));
    const up = fresh.filter((c) => c.nodeName && ready.has(c.nodeName));
    readyNew += up.length;
    total += mine.length;
    if (!rehashed || up.length < mine.length) converged = false;
    summary.push(
      `${pool.name} ${rehashed ? `${up.length}/${mine.length} nodes on the new hash and Ready` : 'waiting for Karpenter to hash the new node class'}`,
    );
    const waiting = fresh.find((c) => !(c.nodeName && ready.has(c.nodeName)));
    notReady ??= waiting && { pool: pool.name, node: waiting.nodeName ?? `of NodeClaim ${waiting.name}` };
    const stuck = fresh.find((c) => !(c.nodeName && ready.has(c.nodeName)) && o.now - c.createdAt.getTime() > o.healthTimeoutMs);
    if (stuck)
      return fail(
        pool.name,
        `node ${stuck.nodeName ?? `of NodeClaim ${stuck.name}`} not Ready ${formatDuration(o.now - stuck.createdAt.getTime())} after launch (limit ${formatDuration(o.healthTimeoutMs)})`,
      );
  }
  const failing = failingPods(pods, new Set(newNodes.keys()));
  if (failing.length > 0)
    return fail(newNodes.get(failing[0].pod.nodeName!), `pod ${podName(failing[0].pod)} on new node ${failing[0].pod.nodeName} is in ${failing[0].reason}`);
  const pending = pendingTooLong(pods, o.since, o.now, o.healthTimeoutMs);
  if (pending.length > 0)
    return fail(
      undefined,
      `pod ${podName(pending[0])} has been Pending for ${formatDuration(o.now - pending[0].createdAt.getTime())} (limit ${formatDuration(o.healthTimeoutMs)})`,
    );
  const workloads = new Map<string, WorkloadAvailability>();
  for (const p of pods.filter((x) => x.owner && x.nodeName && poolNodes.has(x.nodeName))) {
    const key = `${p.owner!.kind}/${p.namespace}/${p.owner!.name}`;
    if (workloads.has(key)) continue;
    const w = await kube.workload(p.owner!.kind, p.namespace, p.owner!.name);
    if (w) workloads.set(key, w);
  }
  return {
    notReady,
    converged,
    unavailable: unavailableWorkloads([...new Map([...workloads.values()].map((w) => [`${w.kind}/${w.namespace}/${w.name}`, w])).values()]),
    readyNew,
    total,
    summary: summary.join('; '),
  };

  function fail(pool: string | undefined, reason: string): Observation {
    return { failure: { pool, reason }, converged: false, unavailable: [], readyNew, total, summary: summary.join('; '), notReady };
  }
}
