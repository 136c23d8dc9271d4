/**
 * Moves the clusters that use a cache to a new snapshot generation, stage by stage. Per cluster: record
 * progress on its node classes, write its snapshot parameter, server-side-apply the re-rendered node
 * classes (as the kubectl provider would), wait until Karpenter has replaced every node of the affected
 * pools and they are healthy; after a stage, soak. A failure rolls that cluster back (parameter and node
 * classes; its nodes drift back) and stops before any later stage. Writes are never interrupted half
 * way: Ctrl-C is honoured only while waiting, so parameter and node classes always agree.
 */
import { nodeClassName } from '../../modules/karpenter/node-class';
import { renderNodeClass } from '../../modules/karpenter/rendered-node-class';
import type { RegionApi } from './aws';
import type { RolloutKube } from './kube';
import { ANNOTATIONS, ClusterStep, NODE_CLASS_HASH_ANNOTATION, ProgressState, RolloutPlan, replicationStack } from './model';
import { observe } from './converge';
import { CacheGateDeps, startCacheGate } from './cache-gate';
import type { CacheKube } from '../cache/report-kube';
import { formatDuration } from '../shared/duration';
import { abortableSleep } from '../shared/sleep';
import { poolsTooSmall, releaseSkew } from '../shared/generation-size';

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

  constructor(
    readonly stage: string,
    readonly cluster: string,
    readonly pool: string | undefined,
    readonly reason: string,
  ) {
    super(`stage ${stage}, cluster ${cluster}${pool ? `, pool ${pool}` : ''}: ${reason}; rolled back to the previous snapshot, later stages untouched`);
  }
}
/** Something is missing before anything was touched (a copy, a parameter). */
export class RolloutBlocked extends Error {}
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
}

/** Reads only: the target, its copy in every cluster's region and every cluster parameter. Throws RolloutBlocked naming everything missing. */
export async function resolveRollout(
  deps: Pick<RolloutDeps, 'aws'>,
  plan: RolloutPlan,
  to?: string,
  options: { readonly allowVersionSkew?: boolean } = {},
): Promise<ResolvedRollout> {
  const { cache } = plan;
  const home = deps.aws(cache.homeRegion);
  const source = to ?? (await home.getParameter(cache.parameterPath));
  if (!source)
    throw new RolloutBlocked(`${cache.parameterPath} does not exist in ${cache.homeRegion}: build the cache first (npm run cache -- build ${cache.name})`);
  if (to && !(await home.snapshotExists(to)))
    throw new RolloutBlocked(`--to ${to}: no completed snapshot with that ID in ${cache.homeRegion} (the cache's home region)`);
  if (to) {
    // Any snapshot would do for home-region clusters otherwise: only a build of this cache may go out.
    const owner = await home.cacheOf(to);
    if (owner !== cache.name)
      throw new RolloutBlocked(
        `--to ${to} is not a build of image cache ${cache.name} (its bottlerocket-fleet:cache tag is ${owner ? `"${owner}"` : 'missing'}); nothing was changed`,
      );
  }
  const missing: string[] = [];
  const targets: ClusterTarget[] = [];
  for (const step of plan.stages.flatMap((s) => s.clusters)) {
    const api = deps.aws(step.region);
    const copy = step.region === cache.homeRegion ? source : await api.findCopy(cache.name, source);
    const from = await api.getParameter(step.parameter);
    if (!copy) missing.push(`${step.region} has no copy of ${source} (needed by cluster ${step.cluster.name})`);
    if (from === undefined) missing.push(`${step.parameter} does not exist in ${step.region} (cluster ${step.cluster.name})`);
    if (copy) targets.push({ step, from, to: copy });
  }
  if (missing.length > 0)
    throw new RolloutBlocked(
      `nothing was changed: ${missing.join('; ')}. Apply the ${replicationStack(cache)} stack (npm run deploy -- ${replicationStack(cache)}), then re-run`,
    );
  // Both generations a cluster may launch with during the rollout: the target, and the one a rollback returns to.
  const tooSmall: string[] = [];
  const builtOn = options.allowVersionSkew ? undefined : await home.bottlerocketVersionOf(source);
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
    tooSmall.push(
      ...releaseSkew(t.step.cluster, { cache: cache.name, snapshot: t.to, region: t.step.region, role: `the rollout's target generation ${source}`, builtOn }),
    );
  }
  if (tooSmall.length > 0) throw new RolloutBlocked(`nothing was changed: ${tooSmall.join('; ')}`);
  return { source, targets };
}

export interface ClusterOutcome {
  readonly stage: string;
  readonly cluster: string;
  readonly region: string;
  readonly from?: string;
  readonly to: string;
  readonly outcome: 'rolled-out' | 'already-current' | 'rolled-back';
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

  let rolled: { target: ClusterTarget; previous?: string; since: number }[] = [];
  try {
    await runStages();
  } catch (e) {
    if (e instanceof RolloutFailed) {
      e.completed.push(
        ...outcomes,
        ...rolled
          .filter((r) => r.target.step.cluster.name !== e.cluster)
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
        const { step, to } = target;
        const kube = deps.kube(step.cluster.name);
        const classes = await Promise.all(step.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
        const mark = (c: (typeof classes)[number]) =>
          c?.annotations[ANNOTATIONS.target] === source ? (c.annotations[ANNOTATIONS.state] as ProgressState) : undefined;
        const states = classes.map(mark);
        const name = step.cluster.name;
        if (states.every((s) => s === 'done') && target.from === to) {
          deps.log(`  ${name}: already on ${to} (done)`);
          outcomes.push({ stage: stage.name, cluster: name, region: step.region, from: target.from, to, outcome: 'already-current' });
          continue;
        }
        const resumed = states.every((s) => s === 'starting' || s === 'applied' || s === 'converged');
        const previous = resumed ? classes[0]!.annotations[ANNOTATIONS.previous] : target.from;
        const since = now();
        if (states.every((s) => s === 'converged')) {
          deps.log(`  ${name}: resuming, node classes already converged on ${to}`);
        } else {
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
                    [ANNOTATIONS.previous]: previous ?? '',
                    [ANNOTATIONS.previousHash]: classes[i]?.annotations[NODE_CLASS_HASH_ANNOTATION] ?? '',
                    [ANNOTATIONS.updated]: new Date(now()).toISOString(),
                  },
            );
          }
          await deps.aws(step.region).putParameter(step.parameter, to);
          for (const pool of step.pools) await kube.applyNodeClass(renderNodeClass(fleetTags, step.cluster, pool, to).manifest);
          await setState(kube, step, 'applied', now);
        }
        try {
          await waitConverged(target, since, previous !== to);
        } catch (e) {
          if (e instanceof RolloutFailed) await rollBack(target, previous, e);
          throw e;
        }
        await setState(kube, step, 'converged', now);
        rolled.push({ target, previous, since });
      }

      if (rolled.length > 0 && stage.soakMs > 0) {
        deps.log(`stage ${stage.name}: soaking for ${formatDuration(stage.soakMs)}`);
        const until = now() + stage.soakMs;
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
            });
            const degraded = o.unavailable.length > 0 ? o.unavailable.join('; ') : !o.converged ? o.summary : undefined;
            if (!degraded) degradedSince.delete(name);
            else if (!degradedSince.has(name)) degradedSince.set(name, now());
            const lasting = degraded !== undefined && now() - degradedSince.get(name)! > plan.healthTimeoutMs;
            const reason =
              o.failure?.reason ??
              (lasting ? `during the soak, for longer than healthTimeout (${formatDuration(plan.healthTimeoutMs)}): ${degraded}` : undefined);
            if (reason) {
              const err = new RolloutFailed(stage.name, name, o.failure?.pool, reason);
              await rollBack(r.target, r.previous, err);
              throw err;
            }
          }
        }
      }
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

  /** Polls until converged and healthy; a failure, or no progress for healthTimeout, throws RolloutFailed. */
  async function waitConverged(target: ClusterTarget, since: number, expectNewHash: boolean): Promise<void> {
    const { step } = target;
    const kube = deps.kube(step.cluster.name);
    let best = -1;
    let lastProgress = now();
    let lastSummary = '';
    // The cache gate (rollout.cacheMisses) reads the nodes about to be replaced now, and judges the new ones once converged.
    const cacheGate = await startCacheGate(deps, plan, step, since);
    for (;;) {
      const o = await observe(kube, { pools: step.pools, since, now: now(), healthTimeoutMs: plan.healthTimeoutMs, expectNewHash });
      if (o.failure) throw new RolloutFailed(step.stage, step.cluster.name, o.failure.pool, o.failure.reason);
      if (o.converged && o.unavailable.length === 0) {
        deps.log(`  ${step.cluster.name}: converged (${o.summary})`);
        const cache = await cacheGate.verdict(now());
        if (cache.failure) throw new RolloutFailed(step.stage, step.cluster.name, cache.failure.pool, cache.failure.reason);
        return;
      }
      if (o.summary !== lastSummary) deps.log(`  ${step.cluster.name}: ${o.summary}${o.unavailable.length ? `; ${o.unavailable.join('; ')}` : ''}`);
      lastSummary = o.summary;
      if (o.readyNew > best) {
        best = o.readyNew;
        lastProgress = now();
      }
      if (now() - lastProgress > plan.healthTimeoutMs) {
        const pool = o.notReady?.pool ?? (step.pools.length === 1 ? step.pools[0].name : undefined);
        const why = o.notReady ? `node ${o.notReady.node} not Ready; ` : '';
        throw new RolloutFailed(
          step.stage,
          step.cluster.name,
          pool,
          `no progress for ${formatDuration(now() - lastProgress)} (healthTimeout ${formatDuration(plan.healthTimeoutMs)}): ${why}${o.summary}${o.unavailable.length ? `; ${o.unavailable.join('; ')}` : ''}`,
        );
      }
      await wait();
    }
  }

  async function rollBack(target: ClusterTarget, previous: string | undefined, why: RolloutFailed): Promise<void> {
    const { step } = target;
    deps.log(`  ${step.cluster.name}: FAILED (${why.pool ? `pool ${why.pool}: ` : ''}${why.reason}); rolling back to ${previous ?? '-'}`);
    outcomes.push({ stage: step.stage, cluster: step.cluster.name, region: step.region, from: previous, to: target.to, outcome: 'rolled-back' });
    if (!previous) return;
    const kube = deps.kube(step.cluster.name);
    await deps.aws(step.region).putParameter(step.parameter, previous);
    for (const pool of step.pools) await kube.applyNodeClass(renderNodeClass(fleetTags, step.cluster, pool, previous).manifest);
    await setState(kube, step, 'rolled-back', now);
  }
}

async function setState(kube: RolloutKube, step: ClusterStep, state: ProgressState, now: () => number): Promise<void> {
  for (const pool of step.pools)
    await kube.annotateNodeClass(nodeClassName(pool), { [ANNOTATIONS.state]: state, [ANNOTATIONS.updated]: new Date(now()).toISOString() });
}
