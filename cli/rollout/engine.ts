/**
 * Moves the clusters that use a cache to a new snapshot generation, stage by stage. Per cluster: pre-write
 * checks, record progress (and the exact spec to restore) on its node classes, write its snapshot parameter,
 * server-side-apply the node classes with only the snapshot changed (as the kubectl provider would), wait
 * until Karpenter has replaced every node of the affected pools with Initialized nodes of the new generation
 * and they are healthy; after a stage, soak.
 *  - A health failure rolls that cluster back (parameter and exact previous spec; the failed generation's
 *    never-initialized NodeClaims deleted; its nodes drift back) and stops before any later stage.
 *  - A stall that Karpenter's own rules explain (a PDB, do-not-disrupt, a budget, a class not Ready) is
 *    `blocked`: left as it is, progress recorded, no rollback.
 *  - An apply that fails after the parameter was written restores the parameter and the classes applied.
 * Writes are never interrupted half way: Ctrl-C is honoured only while waiting.
 */
import { nodeClassName } from '../../modules/karpenter/node-class';
import type { RegionApi } from './aws';
import { ApplyConflictError, RolloutKube } from './kube';
import { ANNOTATIONS, ClusterStep, NODE_CLASS_HASH_ANNOTATION, ProgressState, RolloutPlan, replicationStack } from './model';
import { isInitialized, observe } from './converge';
import { formatHold, Hold } from './holds';
import { desiredNodeClass, restoredNodeClass } from './node-class-spec';
import { checkHashVersions, RolloutBlocked } from './pre-write';
import { CacheGateDeps, startCacheGate } from './cache-gate';
import type { CacheKube } from '../cache/report-kube';
import { formatDuration } from '../shared/duration';
import { abortableSleep } from '../shared/sleep';
import { poolsTooSmall } from '../shared/generation-size';
import { nodeImageGate, NodeImageGateDeps } from './node-image-gate';
import type { NodeImageOptions } from '../shared/node-image-checks';
import { historyParameterPath } from '../../modules/image-cache/parameters';
import { untrustedMessage } from '../../modules/image-cache/provenance';
import { checkSnapshot, parseHistory, ProvenanceContext } from '../shared/snapshot-provenance';

export { RolloutBlocked };

export interface RolloutDeps {
  readonly aws: (region: string) => RegionApi;
  /** The cluster's Kubernetes API (kubeconfig context). */
  readonly kube: (cluster: string) => RolloutKube;
  readonly log: (line: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly signal?: AbortSignal;
  /** @default 15 seconds */
  readonly pollIntervalMs?: number;
  /** What the cache gate reads (cache-gate.ts). @default none: no cache gate */
  readonly cacheKube?: (cluster: string) => CacheKube;
  /** Receives the cache gate's figures per cluster. */
  readonly onCacheMeasured?: CacheGateDeps['onCacheMeasured'];
}

/** A cluster failed its health gate and was rolled back. */
export class RolloutFailed extends Error {
  /** What this run did per cluster: those moved stay on the new generation (earlier stages, converged clusters of the failing stage); the failing one is rolled back. */
  readonly completed: ClusterOutcome[] = [];
  /** After the rollback: what is left of the failed generation (NodeClaims not deleted, nodes not drifted back), with what to do. */
  leftovers: string[] = [];

  constructor(
    readonly stage: string,
    readonly cluster: string,
    readonly pool: string | undefined,
    readonly reason: string,
  ) {
    super(`stage ${stage}, cluster ${cluster}${pool ? `, pool ${pool}` : ''}: ${reason}; rolled back to the previous snapshot, later stages untouched`);
  }
}

/** Karpenter holds old nodes for reasons of its own (not health): the cluster is left as it is, progress recorded, no rollback. */
export class RolloutHeld extends Error {
  readonly completed: ClusterOutcome[] = [];
  constructor(
    readonly stage: string,
    readonly cluster: string,
    readonly holds: readonly Hold[],
    readonly stalledForMs: number,
  ) {
    super(
      `stage ${stage}, cluster ${cluster}: no node replaced for ${formatDuration(stalledForMs)}, and Karpenter holds the rest: ${
        holds.length ? holds.map(formatHold).join('; ') : 'no cause found (is Karpenter running? kubectl get events -A --field-selector source=karpenter)'
      }. Nothing was rolled back; the new generation stays where it is. ${
        holds.length ? `To do: ${[...new Set(holds.map((h) => h.fix))].join('; ')}` : 'Find the cause, then re-run'
      } (the re-run resumes)`,
    );
  }
}

/** A node-class apply failed after the parameter was written; parameter and classes were restored. */
export class RolloutApplyFailed extends Error {
  constructor(
    readonly stage: string,
    readonly cluster: string,
    readonly cause: Error,
    readonly restored: string,
  ) {
    const conflicts =
      cause instanceof ApplyConflictError && cause.conflicts.length > 0
        ? `EC2NodeClass ${cause.nodeClass}: field manager ${[...new Set(cause.conflicts.map((c) => `"${c.manager}"`))].join(', ')} owns ${cause.conflicts.map((c) => c.field).join(', ')} with other values (server-side apply conflict, not forced)`
        : cause.message;
    super(
      `stage ${stage}, cluster ${cluster}: applying the node classes failed: ${conflicts}. Restored ${restored}; nothing else changed. Resolve the ownership (remove that manager's fields, or let the kubectl provider own them), then re-run`,
    );
  }
}
export class RolloutInterrupted extends Error {}

export interface ClusterTarget {
  readonly step: ClusterStep;
  /** The cluster parameter's current value. */
  readonly from?: string;
  /** The target's copy in the cluster's region. */
  readonly to: string;
}

export interface ResolvedRollout {
  /** The generation: the home-region snapshot ID. */
  readonly source: string;
  readonly targets: readonly ClusterTarget[];
  /** What every snapshot the rollout reads is checked against, rollback targets read back on a resumed run too. */
  readonly provenance: ProvenanceContext;
}

/** Untrusted pointers, as sentences (empty: all trusted); see cli/shared/snapshot-provenance.ts. */
async function untrusted(deps: Pick<RolloutDeps, 'aws'>, provenance: ProvenanceContext, region: string, pointer: string, id: string): Promise<string[]> {
  const r = await checkSnapshot((x) => deps.aws(region).describeSnapshot(x), provenance, region, id);
  return r.problems.length === 0 ? [] : [untrustedMessage(pointer, id, r.problems)];
}

/** Reads only: the target, its copy in every cluster's region and every cluster parameter. Throws RolloutBlocked naming everything missing. */
export async function resolveRollout(
  deps: Pick<RolloutDeps, 'aws'> & NodeImageGateDeps,
  plan: RolloutPlan,
  to?: string,
  options: NodeImageOptions = {},
): Promise<ResolvedRollout> {
  const { cache } = plan;
  const home = deps.aws(cache.homeRegion);
  const source = to ?? (await home.getParameter(cache.parameterPath));
  if (!source)
    throw new RolloutBlocked(`${cache.parameterPath} does not exist in ${cache.homeRegion}: build the cache first (npm run cache -- build ${cache.name})`);
  const provenance: ProvenanceContext = {
    account: await home.accountId(),
    cache,
    history: parseHistory(await home.getParameter(historyParameterPath(cache.parameterPath))),
  };
  // Only a build of this cache may go out: --to and the parameter are pointers anyone with PutParameter can move.
  const bad = await untrusted(deps, provenance, cache.homeRegion, to ? `--to ${to}` : `SSM parameter ${cache.parameterPath} in ${cache.homeRegion}`, source);
  if (bad.length > 0) throw new RolloutBlocked(`${bad[0]}; nothing was changed`);
  const missing: string[] = [];
  const distrusted: string[] = [];
  const targets: ClusterTarget[] = [];
  for (const step of plan.stages.flatMap((s) => s.clusters)) {
    const api = deps.aws(step.region);
    const copy: string | undefined = step.region === cache.homeRegion ? source : await api.findCopy(cache.name, source);
    const from = await api.getParameter(step.parameter);
    if (!copy) missing.push(`${step.region} has no copy of ${source} (needed by cluster ${step.cluster.name})`);
    if (from === undefined) missing.push(`${step.parameter} does not exist in ${step.region} (cluster ${step.cluster.name})`);
    if (copy) targets.push({ step, from, to: copy });
    // The copy is what the cluster's nodes will boot from; `from` is what a rollback writes back.
    if (copy && copy !== source) distrusted.push(...(await untrusted(deps, provenance, step.region, `the copy of ${source} in ${step.region}`, copy)));
    if (from)
      distrusted.push(...(await untrusted(deps, provenance, step.region, `SSM parameter ${step.parameter} in ${step.region} (the rollback target)`, from)));
  }
  if (distrusted.length > 0) throw new RolloutBlocked(`nothing was changed: ${distrusted.join('; ')}`);
  if (missing.length > 0)
    throw new RolloutBlocked(
      `nothing was changed: ${missing.join('; ')}. Apply the ${replicationStack(cache)} stack (npm run deploy -- ${replicationStack(cache)}), then re-run`,
    );
  // Both generations a cluster may launch with during the rollout: the target, and the one a rollback returns to.
  const tooSmall: string[] = [];
  for (const t of targets) {
    const api = deps.aws(t.step.region);
    for (const [snapshot, role] of [
      [t.to, `the rollout's target generation ${source}`],
      [t.from, 'the generation a rollback returns to'],
    ] as const) {
      const sizeGiB = snapshot ? await api.snapshotSizeGiB(snapshot) : undefined;
      if (snapshot && sizeGiB !== undefined)
        tooSmall.push(
          ...poolsTooSmall(
            { ...t.step.cluster, karpenter: t.step.cluster.karpenter && { ...t.step.cluster.karpenter, nodePools: t.step.pools } },
            { cache: cache.name, snapshot, region: t.step.region, sizeGiB, role },
          ),
        );
    }
  }
  // Release and kernel against what each cluster's nodes will run (node-image-gate.ts).
  tooSmall.push(...(await nodeImageGate(deps, cache, source, targets, options)));
  if (tooSmall.length > 0) throw new RolloutBlocked(`nothing was changed: ${tooSmall.join('; ')}`);
  return { source, targets, provenance };
}

export interface ClusterOutcome {
  readonly stage: string;
  readonly cluster: string;
  readonly region: string;
  readonly from?: string;
  readonly to: string;
  readonly outcome: 'rolled-out' | 'already-current' | 'rolled-back' | 'blocked';
}

interface Rolled {
  readonly target: ClusterTarget;
  readonly previous?: string;
  readonly since: number;
}

export async function runRollout(
  deps: RolloutDeps,
  plan: RolloutPlan,
  fleetTags: Record<string, string>,
  resolved: ResolvedRollout,
): Promise<ClusterOutcome[]> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? abortableSleep;
  const poll = deps.pollIntervalMs ?? 15_000;
  const outcomes: ClusterOutcome[] = [];
  const { source } = resolved;
  const wait = async () => {
    if (deps.signal?.aborted) throw new RolloutInterrupted('interrupted');
    try {
      await sleep(poll, deps.signal);
    } catch {
      throw new RolloutInterrupted('interrupted');
    }
  };

  let rolled: Rolled[] = [];
  try {
    await runStages();
  } catch (e) {
    if (e instanceof RolloutFailed || e instanceof RolloutHeld) {
      const failing = e.cluster;
      e.completed.push(
        ...outcomes,
        ...rolled
          .filter((r) => r.target.step.cluster.name !== failing)
          .map((r): ClusterOutcome => ({
            stage: r.target.step.stage,
            cluster: r.target.step.cluster.name,
            region: r.target.step.region,
            from: r.previous,
            to: r.target.to,
            outcome: 'rolled-out',
          })),
      );
    }
    throw e;
  }
  return outcomes;

  async function runStages(): Promise<void> {
    for (const stage of plan.stages) {
      const targets = resolved.targets.filter((t) => t.step.stage === stage.name);
      deps.log(`stage ${stage.name}: ${targets.map((t) => t.step.cluster.name).join(', ') || '(no cluster uses this cache)'}`);
      rolled = [];
      for (const target of targets) {
        const r = await rollCluster(target);
        if (r) rolled.push(r);
      }
      if (rolled.length > 0 && stage.soakMs > 0) await soak(stage.name, stage.soakMs);
      for (const r of rolled) {
        await setState(deps.kube(r.target.step.cluster.name), r.target.step, 'done', now);
        outcomes.push({
          stage: stage.name,
          cluster: r.target.step.cluster.name,
          region: r.target.step.region,
          from: r.previous,
          to: r.target.to,
          outcome: 'rolled-out',
        });
      }
      deps.log(`stage ${stage.name}: done`);
    }
  }

  /** One cluster to the new generation; undefined when it already was. */
  async function rollCluster(target: ClusterTarget): Promise<Rolled | undefined> {
    const { step, to } = target;
    const kube = deps.kube(step.cluster.name);
    const name = step.cluster.name;
    const classes = await Promise.all(step.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
    const states = classes.map((c) => (c?.annotations[ANNOTATIONS.target] === source ? (c.annotations[ANNOTATIONS.state] as ProgressState) : undefined));
    if (states.every((s) => s === 'done') && target.from === to) {
      deps.log(`  ${name}: already on ${to} (done)`);
      outcomes.push({ stage: step.stage, cluster: name, region: step.region, from: target.from, to, outcome: 'already-current' });
      return undefined;
    }
    const resumed = states.every((s) => s === 'starting' || s === 'applied' || s === 'converged' || s === 'blocked');
    const previous = resumed ? classes[0]!.annotations[ANNOTATIONS.previous] || undefined : target.from;
    // Read back from the cluster: a rollback would write it to SSM, so it must pass the same checks (issue 21).
    if (resumed && previous) {
      const pointer = `annotation ${ANNOTATIONS.previous} on EC2NodeClass ${nodeClassName(step.pools[0])} (cluster ${name})`;
      const bad = await untrusted(deps, resolved.provenance, step.region, pointer, previous);
      if (bad.length > 0) throw new RolloutBlocked(`${bad[0]}; nothing was changed in cluster ${name}`);
    }
    const since = now();
    let appliedAt = resumed ? Number(classes[0]!.annotations[ANNOTATIONS.appliedAt] ?? NaN) : NaN;
    if (states.every((s) => s === 'converged') && !Number.isNaN(appliedAt)) {
      deps.log(`  ${name}: resuming, node classes already converged on ${to}`);
    } else {
      checkHashVersions(step, classes); // pre-write: throws RolloutBlocked, nothing changed
      if (!resumed)
        await removeLeftovers(
          target,
          classes.map((c) => c?.annotations[ANNOTATIONS.failedHash]),
        );
      const desired = step.pools.map((pool, i) => desiredNodeClass(fleetTags, step.cluster, pool, to, classes[i]?.spec));
      for (const [i, d] of desired.entries())
        if (d.heldBack.length > 0)
          deps.log(
            `  ${name}: pool ${step.pools[i].name}: the fleet file changed ${d.heldBack.join(', ')} since the node class was last applied; the rollout changes only the snapshot (apply the Karpenter stack to ship the rest)`,
          );
      // Not interruptible: progress first (so a crash leaves a record), then parameter, then node classes.
      deps.log(
        `  ${name} (${step.region}): ${resumed ? 'resuming' : 'starting'}; ${step.parameter}: ${previous ?? '-'} -> ${to}; pools ${step.pools.map((p) => p.name).join(', ')}`,
      );
      for (const [i, pool] of step.pools.entries()) {
        await kube.annotateNodeClass(
          nodeClassName(pool),
          resumed
            ? { [ANNOTATIONS.updated]: new Date(now()).toISOString() }
            : {
                [ANNOTATIONS.target]: source,
                [ANNOTATIONS.state]: 'starting',
                [ANNOTATIONS.reason]: null,
                [ANNOTATIONS.previous]: previous ?? '',
                [ANNOTATIONS.previousHash]: classes[i]?.annotations[NODE_CLASS_HASH_ANNOTATION] ?? '',
                [ANNOTATIONS.previousSpec]: classes[i]?.spec === undefined ? null : JSON.stringify(classes[i].spec),
                [ANNOTATIONS.appliedAt]: null,
                [ANNOTATIONS.updated]: new Date(now()).toISOString(),
              },
        );
      }
      await deps.aws(step.region).putParameter(step.parameter, to);
      const applied: number[] = [];
      try {
        for (const [i, d] of desired.entries()) {
          await kube.applyNodeClass(d.manifest);
          applied.push(i);
        }
      } catch (e) {
        throw await undoApply(target, previous, applied, e as Error);
      }
      // Kept across a resume: replacements launched since the first apply are the new generation.
      if (Number.isNaN(appliedAt)) appliedAt = now();
      for (const pool of step.pools)
        await kube.annotateNodeClass(nodeClassName(pool), { [ANNOTATIONS.appliedAt]: String(appliedAt), [ANNOTATIONS.state]: 'applied' });
    }
    try {
      await waitConverged(target, since, previous !== to, appliedAt);
    } catch (e) {
      if (e instanceof RolloutFailed) await rollBack(target, previous, e);
      if (e instanceof RolloutHeld) {
        await setState(kube, step, 'blocked', now, e.message);
        outcomes.push({ stage: step.stage, cluster: name, region: step.region, from: previous, to, outcome: 'blocked' });
      }
      throw e;
    }
    await setState(kube, step, 'converged', now);
    return { target, previous, since };
  }

  async function soak(stage: string, soakMs: number): Promise<void> {
    deps.log(`stage ${stage}: soaking for ${formatDuration(soakMs)}`);
    const until = now() + soakMs;
    // A pod failing (pull errors, crash loops, Pending past healthTimeout) fails the soak at once. A node
    // not Ready or a workload short of replicas is what scale-ups and rolling updates look like for a
    // while, so it fails the soak only when it lasts longer than healthTimeout.
    const degradedSince = new Map<string, number>();
    while (now() < until) {
      await wait();
      for (const r of rolled) {
        const name = r.target.step.cluster.name;
        const o = await observe(deps.kube(name), {
          pools: r.target.step.pools,
          since: r.since,
          now: now(),
          healthTimeoutMs: plan.healthTimeoutMs,
          expectNewHash: false,
          appliedAt: 0,
        });
        const degraded = o.unavailable.length > 0 ? o.unavailable.join('; ') : !o.converged ? o.summary : undefined;
        if (!degraded) degradedSince.delete(name);
        else if (!degradedSince.has(name)) degradedSince.set(name, now());
        const lasting = degraded !== undefined && now() - degradedSince.get(name)! > plan.healthTimeoutMs;
        const reason =
          o.failure?.reason ?? (lasting ? `during the soak, for longer than healthTimeout (${formatDuration(plan.healthTimeoutMs)}): ${degraded}` : undefined);
        if (reason) {
          const err = new RolloutFailed(stage, name, o.failure?.pool, reason);
          await rollBack(r.target, r.previous, err);
          throw err;
        }
      }
    }
  }

  /**
   * Polls until converged and healthy. A health failure throws RolloutFailed. No node replaced for
   * healthTimeout (while no replacement is still initializing) throws RolloutHeld naming what holds the rest.
   */
  async function waitConverged(target: ClusterTarget, since: number, expectNewHash: boolean, appliedAt: number): Promise<void> {
    const { step } = target;
    const kube = deps.kube(step.cluster.name);
    let best: [number, number] = [-1, Infinity];
    let lastProgress = now();
    let lastSummary = '';
    let lastHolds = '';
    let quiet = false;
    // The cache gate (rollout.cacheMisses) reads the nodes about to be replaced now, and judges the new ones once converged.
    const cacheGate = await startCacheGate(deps, plan, step, since);
    for (;;) {
      // What holds the old nodes is worked out only once a poll brought no progress (it costs the PDB and NodePool reads).
      const o = await observe(kube, { pools: step.pools, since, now: now(), healthTimeoutMs: plan.healthTimeoutMs, expectNewHash, appliedAt, holds: quiet });
      if (o.failure) throw new RolloutFailed(step.stage, step.cluster.name, o.failure.pool, o.failure.reason);
      if (o.converged && o.unavailable.length === 0) {
        deps.log(`  ${step.cluster.name}: converged (${o.summary})`);
        const cache = await cacheGate.verdict(now());
        if (cache.failure) throw new RolloutFailed(step.stage, step.cluster.name, cache.failure.pool, cache.failure.reason);
        return;
      }
      if (o.summary !== lastSummary) deps.log(`  ${step.cluster.name}: ${o.summary}${o.unavailable.length ? `; ${o.unavailable.join('; ')}` : ''}`);
      lastSummary = o.summary;
      const holds = o.holds.map(formatHold).join('; ');
      if (holds && holds !== lastHolds) deps.log(`  ${step.cluster.name}: waiting on Karpenter: ${holds}`);
      lastHolds = holds;
      quiet = !(o.readyNew > best[0] || o.oldLeft < best[1]);
      if (!quiet) {
        best = [Math.max(best[0], o.readyNew), Math.min(best[1], o.oldLeft)];
        lastProgress = now();
      }
      // A replacement still initializing is judged by the health gate (its own healthTimeout), not as a stall.
      if (now() - lastProgress > plan.healthTimeoutMs && !o.notReady) throw new RolloutHeld(step.stage, step.cluster.name, o.holds, now() - lastProgress);
      await wait();
    }
  }

  /** The apply failed after the parameter was written: put the parameter and the classes already applied back. */
  async function undoApply(target: ClusterTarget, previous: string | undefined, applied: readonly number[], cause: Error): Promise<Error> {
    const { step } = target;
    const kube = deps.kube(step.cluster.name);
    const restored: string[] = [];
    if (previous) {
      await deps.aws(step.region).putParameter(step.parameter, previous);
      restored.push(`${step.parameter} to ${previous}`);
    }
    const classes = await Promise.all(step.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
    for (const i of applied) {
      const pool = step.pools[i];
      await kube.applyNodeClass(restoredNodeClass(fleetTags, step.cluster, pool, previous ?? target.to, classes[i]?.annotations[ANNOTATIONS.previousSpec]));
      restored.push(`EC2NodeClass ${nodeClassName(pool)} to its previous spec`);
    }
    await setState(kube, step, 'rolled-back', now, cause.message);
    const err = new RolloutApplyFailed(step.stage, step.cluster.name, cause, restored.join(', ') || 'nothing (no write had happened)');
    deps.log(`  ${step.cluster.name}: ${err.message}`);
    return err;
  }

  async function rollBack(target: ClusterTarget, previous: string | undefined, why: RolloutFailed): Promise<void> {
    const { step } = target;
    deps.log(`  ${step.cluster.name}: FAILED (${why.pool ? `pool ${why.pool}: ` : ''}${why.reason}); rolling back to ${previous ?? '-'}`);
    outcomes.push({ stage: step.stage, cluster: step.cluster.name, region: step.region, from: previous, to: target.to, outcome: 'rolled-back' });
    if (!previous) return;
    const kube = deps.kube(step.cluster.name);
    const classes = await Promise.all(step.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
    const failedHashes = classes.map((c) => c?.annotations[NODE_CLASS_HASH_ANNOTATION]);
    await deps.aws(step.region).putParameter(step.parameter, previous);
    for (const [i, pool] of step.pools.entries())
      await kube.applyNodeClass(restoredNodeClass(fleetTags, step.cluster, pool, previous, classes[i]?.annotations[ANNOTATIONS.previousSpec]));
    for (const [i, pool] of step.pools.entries())
      await kube.annotateNodeClass(nodeClassName(pool), {
        [ANNOTATIONS.state]: 'rolled-back',
        [ANNOTATIONS.reason]: why.reason,
        [ANNOTATIONS.failedHash]: failedHashes[i] ?? null,
        [ANNOTATIONS.updated]: new Date(now()).toISOString(),
      });
    why.leftovers = await removeLeftovers(target, failedHashes, true);
  }

  /**
   * The failed generation's NodeClaims that never initialized stay forever (Karpenter has no initialization
   * timeout, lifecycle/liveness.go only times out registration) and hold every other node of their pool
   * (disruption/helpers.go SimulateScheduling): delete them and wait, within healthTimeout, until they are
   * gone. After a rollback, also wait (no progress for healthTimeout ends it) until the pools drifted back.
   * Returns what is left, by name, with what to do.
   */
  async function removeLeftovers(target: ClusterTarget, failedHashes: readonly (string | undefined)[], driftBack = false): Promise<string[]> {
    const { step } = target;
    const kube = deps.kube(step.cluster.name);
    const name = step.cluster.name;
    const stranded = async () => {
      const [claims, nodes] = [await kube.listNodeClaims(), new Map((await kube.listNodes()).map((n) => [n.name, n]))];
      return claims.filter((c) => {
        const i = step.pools.findIndex((p) => p.name === c.nodePool);
        return i >= 0 && failedHashes[i] !== undefined && c.hash === failedHashes[i] && !isInitialized(c, nodes);
      });
    };
    const interruptible = async (): Promise<boolean> => {
      try {
        await wait();
        return true;
      } catch {
        return false; // Ctrl-C while cleaning up: stop waiting, report what is left
      }
    };
    let left = await stranded();
    const refused = new Map<string, string>();
    if (left.length > 0) {
      deps.log(`  ${name}: deleting NodeClaims of the failed generation that never initialized: ${left.map((c) => c.name).join(', ')}`);
      for (const c of left)
        await kube.deleteNodeClaim(c.name).catch((e: unknown) => {
          refused.set(c.name, (e as Error).message);
        });
      const until = now() + plan.healthTimeoutMs;
      while ((left = await stranded()).length > 0 && refused.size < left.length && now() < until && (await interruptible()));
    }
    const report = left.map(
      (c) =>
        `NodeClaim ${c.name}${c.nodeName ? ` (node ${c.nodeName})` : ''} of the failed generation never initialized and is still there${refused.has(c.name) ? ` (delete failed: ${refused.get(c.name)})` : ''}: kubectl delete nodeclaim ${c.name}`,
    );
    if (!driftBack) {
      if (report.length) deps.log(`  ${name}: ${report.join('; ')}`);
      return report;
    }
    // The pools drift back to the restored spec: wait while that makes progress.
    let lastProgress = now();
    let best = Infinity;
    for (;;) {
      const [claims, nodes] = [await kube.listNodeClaims(), new Map((await kube.listNodes()).map((n) => [n.name, n]))];
      const behind: string[] = [];
      for (const [i, pool] of step.pools.entries()) {
        const hash = (await kube.getNodeClass(nodeClassName(pool)))?.annotations[NODE_CLASS_HASH_ANNOTATION];
        for (const c of claims.filter((x) => x.nodePool === pool.name))
          if (c.hash !== hash || !isInitialized(c, nodes))
            behind.push(`${c.name}${c.nodeName ? ` (node ${c.nodeName})` : ''}${c.hash === failedHashes[i] ? ' on the failed generation' : ''}`);
      }
      if (behind.length === 0) {
        deps.log(`  ${name}: rolled back: every node of ${step.pools.map((p) => p.name).join(', ')} is on the restored node class`);
        break;
      }
      if (behind.length < best) {
        best = behind.length;
        lastProgress = now();
      }
      if (now() - lastProgress > plan.healthTimeoutMs || !(await interruptible())) {
        report.push(
          `not yet drifted back: ${behind.join(', ')} (Karpenter replaces them within the pools' budgets; rollout status ${plan.cache.name} shows progress)`,
        );
        break;
      }
    }
    if (report.length) deps.log(`  ${name}: ${report.join('; ')}`);
    return report;
  }
}

async function setState(kube: RolloutKube, step: ClusterStep, state: ProgressState, now: () => number, reason?: string): Promise<void> {
  for (const pool of step.pools)
    await kube.annotateNodeClass(nodeClassName(pool), {
      [ANNOTATIONS.state]: state,
      [ANNOTATIONS.reason]: reason ?? null,
      [ANNOTATIONS.updated]: new Date(now()).toISOString(),
    });
}
