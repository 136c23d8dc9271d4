/**
 * What a failed generation leaves behind, and waiting until it is gone. Its NodeClaims that never
 * initialized stay forever (Karpenter has no initialization timeout, lifecycle/liveness.go only times out
 * registration) and hold every other node of their pool (disruption/helpers.go SimulateScheduling): they are
 * deleted, and the wait for them ends within healthTimeout. After a rollback the pools also drift back to the
 * restored spec; that wait ends once a healthTimeout passes without progress. Ctrl-C ends a wait, and what is
 * left is reported by name, with what to do.
 */
import { nodeClassName } from '../../modules/karpenter/node-class';
import { isInitialized } from './converge';
import type { NodeClaimInfo, RolloutKube } from './kube';
import { ClusterStep, NODE_CLASS_HASH_ANNOTATION } from './model';
import type { StageClock } from './stages';

export interface LeftoverDeps {
  readonly kube: RolloutKube;
  readonly step: ClusterStep;
  readonly clock: StageClock;
  readonly healthTimeoutMs: number;
  /** The cache's name, for the status command in the report. */
  readonly cache: string;
}

type FailedHashes = readonly (string | undefined)[];

/** Deletes the failed generation's stranded NodeClaims; with `driftBack`, also waits for the pools to drift back. Returns what is left. */
export async function removeLeftovers(d: LeftoverDeps, failedHashes: FailedHashes, driftBack = false): Promise<string[]> {
  const report = await deleteStranded(d, failedHashes);
  if (driftBack) report.push(...(await waitDriftedBack(d, failedHashes)));
  if (report.length) d.clock.log(`  ${d.step.cluster.name}: ${report.join('; ')}`);
  return report;
}

/** One poll interval; false when Ctrl-C ended it (stop waiting, report what is left). */
async function interruptible(clock: StageClock): Promise<boolean> {
  try {
    await clock.wait();
    return true;
  } catch {
    return false;
  }
}

async function stranded(d: LeftoverDeps, failedHashes: FailedHashes): Promise<NodeClaimInfo[]> {
  const [claims, nodes] = [await d.kube.listNodeClaims(), new Map((await d.kube.listNodes()).map((n) => [n.name, n]))];
  return claims.filter((c) => {
    const i = d.step.pools.findIndex((p) => p.name === c.nodePool);
    return i >= 0 && failedHashes[i] !== undefined && c.hash === failedHashes[i] && !isInitialized(c, nodes);
  });
}

async function deleteStranded(d: LeftoverDeps, failedHashes: FailedHashes): Promise<string[]> {
  let left = await stranded(d, failedHashes);
  const refused = new Map<string, string>();
  if (left.length > 0) {
    d.clock.log(`  ${d.step.cluster.name}: deleting NodeClaims of the failed generation that never initialized: ${left.map((c) => c.name).join(', ')}`);
    for (const c of left)
      await d.kube.deleteNodeClaim(c.name).catch((e: unknown) => {
        refused.set(c.name, (e as Error).message);
      });
    const until = d.clock.now() + d.healthTimeoutMs;
    while ((left = await stranded(d, failedHashes)).length > 0 && refused.size < left.length && d.clock.now() < until && (await interruptible(d.clock)));
  }
  return left.map(
    (c) =>
      `NodeClaim ${c.name}${c.nodeName ? ` (node ${c.nodeName})` : ''} of the failed generation never initialized and is still there${refused.has(c.name) ? ` (delete failed: ${refused.get(c.name)})` : ''}: kubectl delete nodeclaim ${c.name}`,
  );
}

/** NodeClaims of the pools not yet on their class's (restored) hash and initialized. */
async function behind(d: LeftoverDeps, failedHashes: FailedHashes): Promise<string[]> {
  const [claims, nodes] = [await d.kube.listNodeClaims(), new Map((await d.kube.listNodes()).map((n) => [n.name, n]))];
  const out: string[] = [];
  for (const [i, pool] of d.step.pools.entries()) {
    const hash = (await d.kube.getNodeClass(nodeClassName(pool)))?.annotations[NODE_CLASS_HASH_ANNOTATION];
    for (const c of claims.filter((x) => x.nodePool === pool.name))
      if (c.hash !== hash || !isInitialized(c, nodes))
        out.push(`${c.name}${c.nodeName ? ` (node ${c.nodeName})` : ''}${c.hash === failedHashes[i] ? ' on the failed generation' : ''}`);
  }
  return out;
}

/** The pools drift back to the restored spec: wait while that makes progress. */
async function waitDriftedBack(d: LeftoverDeps, failedHashes: FailedHashes): Promise<string[]> {
  const { clock } = d;
  let lastProgress = clock.now();
  let best = Infinity;
  for (;;) {
    const late = await behind(d, failedHashes);
    if (late.length === 0) {
      clock.log(`  ${d.step.cluster.name}: rolled back: every node of ${d.step.pools.map((p) => p.name).join(', ')} is on the restored node class`);
      return [];
    }
    if (late.length < best) {
      best = late.length;
      lastProgress = clock.now();
    }
    if (clock.now() - lastProgress > d.healthTimeoutMs || !(await interruptible(clock)))
      return [`not yet drifted back: ${late.join(', ')} (Karpenter replaces them within the pools' budgets; rollout status ${d.cache} shows progress)`];
  }
}
