/**
 * Moves the clusters that use a cache to a new snapshot generation, stage by stage: `resolveRollout` reads
 * what the rollout needs and refuses before any write; `runRollout` runs the stage machinery (stages.ts:
 * gates, soak, rollback, resume) with the snapshot generation as its payload (snapshot-payload.ts).
 *  - A health failure rolls that cluster back (parameter and exact previous spec; the failed generation's
 *    never-initialized NodeClaims deleted; its nodes drift back) and stops before any later stage.
 *  - A stall that Karpenter's own rules explain (a PDB, do-not-disrupt, a budget, a class not Ready) is
 *    `blocked`: left as it is, progress recorded, no rollback.
 *  - An apply that fails after the parameter was written restores the parameter and the classes applied.
 * Writes are never interrupted half way: Ctrl-C is honoured only while waiting.
 */
import type { RegionApi } from './aws';
import type { RolloutKube } from './kube';
import { ClusterStep, RolloutPlan, replicationStack } from './model';
import { RolloutBlocked } from './pre-write';
import type { CacheGateDeps } from './cache-gate';
import type { CacheKube } from '../cache/report-kube';
import { poolsTooSmall } from '../shared/generation-size';
import { nodeImageGate, NodeImageGateDeps, upgradesInProgress } from './node-image-gate';
import type { NodeImageOptions } from '../shared/node-image-checks';
import { historyParameterPath } from '../../modules/image-cache/parameters';
import { parseHistory, ProvenanceContext } from '../shared/snapshot-provenance';
import { ClusterOutcome, runStages, stageClock } from './stages';
import { SnapshotPayload, SnapshotTarget, untrusted } from './snapshot-payload';

export { RolloutBlocked };
export { RolloutFailed, RolloutHeld, RolloutInterrupted } from './stages';
export type { ClusterOutcome } from './stages';
export { RolloutApplyFailed } from './snapshot-payload';

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
  const bad = await untrusted(
    deps.aws,
    provenance,
    cache.homeRegion,
    to ? `--to ${to}` : `SSM parameter ${cache.parameterPath} in ${cache.homeRegion}`,
    source,
  );
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
    if (copy && copy !== source) distrusted.push(...(await untrusted(deps.aws, provenance, step.region, `the copy of ${source} in ${step.region}`, copy)));
    if (from)
      distrusted.push(...(await untrusted(deps.aws, provenance, step.region, `SSM parameter ${step.parameter} in ${step.region} (the rollback target)`, from)));
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
  tooSmall.push(...(await upgradesInProgress(deps, targets)));
  if (tooSmall.length > 0) throw new RolloutBlocked(`nothing was changed: ${tooSmall.join('; ')}`);
  return { source, targets, provenance };
}

export async function runRollout(
  deps: RolloutDeps,
  plan: RolloutPlan,
  fleetTags: Record<string, string>,
  resolved: ResolvedRollout,
): Promise<ClusterOutcome[]> {
  const clock = stageClock(deps);
  const targets = resolved.targets.map((t): SnapshotTarget => ({
    step: t.step,
    stage: t.step.stage,
    cluster: t.step.cluster.name,
    region: t.step.region,
    from: t.from,
    to: t.to,
  }));
  return runStages({
    stages: plan.stages,
    targets,
    healthTimeoutMs: plan.healthTimeoutMs,
    payload: new SnapshotPayload(deps, plan, fleetTags, resolved.source, resolved.provenance, clock),
    clock,
  });
}
