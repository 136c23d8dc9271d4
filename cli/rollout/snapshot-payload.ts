/**
 * The snapshot generation as a rollout payload (stages.ts runs it): per cluster, pre-write checks, record
 * progress (and the exact spec to restore) on its node classes, write its snapshot parameter, server-side-apply
 * the node classes with only the snapshot changed (as the kubectl provider would); converged when Karpenter
 * has replaced every node of the affected pools with Initialized nodes of the new generation (converge.ts).
 *  - Restore: parameter and exact previous spec; the failed generation's never-initialized NodeClaims
 *    deleted; its nodes drift back (leftovers.ts).
 *  - An apply that fails after the parameter was written restores the parameter and the classes applied.
 */
import { nodeClassName } from '../../modules/karpenter/node-class';
import { checkSnapshot, ProvenanceContext } from '../shared/snapshot-provenance';
import { untrustedMessage } from '../../modules/image-cache/provenance';
import type { RegionApi } from './aws';
import { startCacheGate, CacheGateDeps } from './cache-gate';
import type { CacheKube } from '../cache/report-kube';
import { observe } from './converge';
import { ApplyConflictError, NodeClassInfo, RolloutKube } from './kube';
import { removeLeftovers } from './leftovers';
import { ANNOTATIONS, ClusterStep, NODE_CLASS_HASH_ANNOTATION, ProgressState, RolloutPlan } from './model';
import { desiredNodeClass, restoredNodeClass } from './node-class-spec';
import { checkHashVersions, RolloutBlocked } from './pre-write';
import type { ConvergedGate, Look, Payload, PayloadState, RolloutFailed, StageClock, StageTarget } from './stages';

export interface SnapshotDeps {
  readonly aws: (region: string) => RegionApi;
  /** The cluster's Kubernetes API (kubeconfig context). */
  readonly kube: (cluster: string) => RolloutKube;
  readonly log: (line: string) => void;
  /** What the cache gate reads (cache-gate.ts). @default none: no cache gate */
  readonly cacheKube?: (cluster: string) => CacheKube;
  /** Receives the cache gate's figures per cluster. */
  readonly onCacheMeasured?: CacheGateDeps['onCacheMeasured'];
}

/** A cluster's part: its step of the plan, the parameter's current value (`from`) and the target's copy in its region (`to`). */
export interface SnapshotTarget extends StageTarget {
  readonly step: ClusterStep;
}

export interface SnapshotState extends PayloadState {
  /** The node classes of the step's pools as they were when this run began. */
  readonly classes: readonly (NodeClassInfo | undefined)[];
  /** A previous run got this far: its progress annotations are kept. */
  readonly resumed: boolean;
  /** When the node classes were first applied (ms); NaN until then. Only NodeClaims launched since are the new generation. */
  appliedAt: number;
  /** A previous run applied the classes and saw them converge: nothing to apply again. */
  readonly convergedBefore: boolean;
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

/** Untrusted pointers, as sentences (empty: all trusted); see cli/shared/snapshot-provenance.ts. */
export async function untrusted(
  aws: (region: string) => RegionApi,
  provenance: ProvenanceContext,
  region: string,
  pointer: string,
  id: string,
): Promise<string[]> {
  const r = await checkSnapshot((x) => aws(region).describeSnapshot(x), provenance, region, id);
  return r.problems.length === 0 ? [] : [untrustedMessage(pointer, id, r.problems)];
}

export class SnapshotPayload implements Payload<SnapshotTarget, SnapshotState> {
  constructor(
    private readonly deps: SnapshotDeps,
    private readonly plan: RolloutPlan,
    private readonly fleetTags: Record<string, string>,
    /** The generation: the home-region snapshot ID. */
    private readonly source: string,
    private readonly provenance: ProvenanceContext,
    private readonly clock: StageClock,
  ) {}

  async begin(target: SnapshotTarget): Promise<SnapshotState | undefined> {
    const { step, to, cluster: name } = target;
    const kube = this.deps.kube(name);
    const classes = await Promise.all(step.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
    const states = classes.map((c) => (c?.annotations[ANNOTATIONS.target] === this.source ? (c.annotations[ANNOTATIONS.state] as ProgressState) : undefined));
    if (states.every((s) => s === 'done') && target.from === to) {
      this.clock.log(`  ${name}: already on ${to} (done)`);
      return undefined;
    }
    const resumed = states.every((s) => s === 'starting' || s === 'applied' || s === 'converged' || s === 'blocked');
    const from = resumed ? classes[0]!.annotations[ANNOTATIONS.previous] || undefined : target.from;
    // Read back from the cluster: a rollback would write it to SSM, so it must pass the same checks (issue 21).
    if (resumed && from) {
      const pointer = `annotation ${ANNOTATIONS.previous} on EC2NodeClass ${nodeClassName(step.pools[0])} (cluster ${name})`;
      const bad = await untrusted(this.deps.aws, this.provenance, step.region, pointer, from);
      if (bad.length > 0) throw new RolloutBlocked(`${bad[0]}; nothing was changed in cluster ${name}`);
    }
    const since = this.clock.now();
    const appliedAt = resumed ? Number(classes[0]!.annotations[ANNOTATIONS.appliedAt] ?? NaN) : NaN;
    const convergedBefore = states.every((s) => s === 'converged') && !Number.isNaN(appliedAt);
    if (convergedBefore) this.clock.log(`  ${name}: resuming, node classes already converged on ${to}`);
    return { from, since, classes, resumed, appliedAt, convergedBefore };
  }

  async apply(target: SnapshotTarget, state: SnapshotState): Promise<void> {
    const { step, to } = target;
    const kube = this.deps.kube(target.cluster);
    if (state.convergedBefore) return;
    checkHashVersions(step, state.classes); // pre-write: throws RolloutBlocked, nothing changed
    if (!state.resumed)
      await removeLeftovers(
        this.leftoverDeps(target),
        state.classes.map((c) => c?.annotations[ANNOTATIONS.failedHash]),
      );
    const desired = step.pools.map((pool, i) => desiredNodeClass(this.fleetTags, step.cluster, pool, to, state.classes[i]?.spec));
    for (const [i, d] of desired.entries())
      if (d.heldBack.length > 0)
        this.clock.log(
          `  ${target.cluster}: pool ${step.pools[i].name}: the fleet file changed ${d.heldBack.join(', ')} since the node class was last applied; the rollout changes only the snapshot (apply the Karpenter stack to ship the rest)`,
        );
    // Not interruptible: progress first (so a crash leaves a record), then parameter, then node classes.
    await this.recordStart(target, state);
    await this.deps.aws(step.region).putParameter(step.parameter, to);
    const applied: number[] = [];
    try {
      for (const [i, d] of desired.entries()) {
        await kube.applyNodeClass(d.manifest);
        applied.push(i);
      }
    } catch (e) {
      throw await this.undoApply(target, state.from, applied, e as Error);
    }
    // Kept across a resume: replacements launched since the first apply are the new generation.
    if (Number.isNaN(state.appliedAt)) state.appliedAt = this.clock.now();
    for (const pool of step.pools)
      await kube.annotateNodeClass(nodeClassName(pool), { [ANNOTATIONS.appliedAt]: String(state.appliedAt), [ANNOTATIONS.state]: 'applied' });
  }

  /** Progress and the exact spec to restore, on every affected node class, before anything else is written. */
  private async recordStart(target: SnapshotTarget, state: SnapshotState): Promise<void> {
    const { step, to } = target;
    const kube = this.deps.kube(target.cluster);
    const now = () => new Date(this.clock.now()).toISOString();
    this.clock.log(
      `  ${target.cluster} (${step.region}): ${state.resumed ? 'resuming' : 'starting'}; ${step.parameter}: ${state.from ?? '-'} -> ${to}; pools ${step.pools.map((p) => p.name).join(', ')}`,
    );
    for (const [i, pool] of step.pools.entries()) {
      const cls = state.classes[i];
      await kube.annotateNodeClass(
        nodeClassName(pool),
        state.resumed
          ? { [ANNOTATIONS.updated]: now() }
          : {
              [ANNOTATIONS.target]: this.source,
              [ANNOTATIONS.state]: 'starting',
              [ANNOTATIONS.reason]: null,
              [ANNOTATIONS.previous]: state.from ?? '',
              [ANNOTATIONS.previousHash]: cls?.annotations[NODE_CLASS_HASH_ANNOTATION] ?? '',
              [ANNOTATIONS.previousSpec]: cls?.spec === undefined ? null : JSON.stringify(cls.spec),
              [ANNOTATIONS.appliedAt]: null,
              [ANNOTATIONS.updated]: now(),
            },
      );
    }
  }

  async gate(target: SnapshotTarget, state: SnapshotState): Promise<ConvergedGate> {
    // The cache gate (rollout.cacheMisses) reads the nodes about to be replaced now, and judges the new ones once converged.
    return startCacheGate(this.deps, this.plan, target.step, state.since);
  }

  async look(target: SnapshotTarget, state: SnapshotState, o: { readonly soak: boolean; readonly holds: boolean }): Promise<Look> {
    const kube = this.deps.kube(target.cluster);
    const common = { pools: target.step.pools, since: state.since, now: this.clock.now(), healthTimeoutMs: this.plan.healthTimeoutMs };
    // During the soak every node of the pools counts, whatever its hash or launch time.
    const seen = await observe(
      kube,
      o.soak
        ? { ...common, expectNewHash: false, appliedAt: 0 }
        : { ...common, expectNewHash: state.from !== target.to, appliedAt: state.appliedAt, holds: o.holds },
    );
    return { ...seen, replaced: seen.readyNew, remaining: seen.oldLeft, starting: seen.notReady !== undefined };
  }

  async restore(target: SnapshotTarget, state: SnapshotState, why: RolloutFailed): Promise<string[]> {
    const previous = state.from;
    if (!previous) return [];
    const { step } = target;
    const kube = this.deps.kube(target.cluster);
    const classes = await Promise.all(step.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
    const failedHashes = classes.map((c) => c?.annotations[NODE_CLASS_HASH_ANNOTATION]);
    await this.deps.aws(step.region).putParameter(step.parameter, previous);
    for (const [i, pool] of step.pools.entries())
      await kube.applyNodeClass(restoredNodeClass(this.fleetTags, step.cluster, pool, previous, classes[i]?.annotations[ANNOTATIONS.previousSpec]));
    for (const [i, pool] of step.pools.entries())
      await kube.annotateNodeClass(nodeClassName(pool), {
        [ANNOTATIONS.state]: 'rolled-back',
        [ANNOTATIONS.reason]: why.reason,
        [ANNOTATIONS.failedHash]: failedHashes[i] ?? null,
        [ANNOTATIONS.updated]: new Date(this.clock.now()).toISOString(),
      });
    return removeLeftovers(this.leftoverDeps(target), failedHashes, true);
  }

  async record(target: SnapshotTarget, state: ProgressState, reason?: string): Promise<void> {
    const kube = this.deps.kube(target.cluster);
    for (const pool of target.step.pools)
      await kube.annotateNodeClass(nodeClassName(pool), {
        [ANNOTATIONS.state]: state,
        [ANNOTATIONS.reason]: reason ?? null,
        [ANNOTATIONS.updated]: new Date(this.clock.now()).toISOString(),
      });
  }

  private leftoverDeps(target: SnapshotTarget) {
    return {
      kube: this.deps.kube(target.cluster),
      step: target.step,
      clock: this.clock,
      healthTimeoutMs: this.plan.healthTimeoutMs,
      cache: this.plan.cache.name,
    };
  }

  /** The apply failed after the parameter was written: put the parameter and the classes already applied back. */
  private async undoApply(target: SnapshotTarget, previous: string | undefined, applied: readonly number[], cause: Error): Promise<Error> {
    const { step } = target;
    const kube = this.deps.kube(target.cluster);
    const restored: string[] = [];
    if (previous) {
      await this.deps.aws(step.region).putParameter(step.parameter, previous);
      restored.push(`${step.parameter} to ${previous}`);
    }
    const classes = await Promise.all(step.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
    for (const i of applied) {
      const pool = step.pools[i];
      await kube.applyNodeClass(
        restoredNodeClass(this.fleetTags, step.cluster, pool, previous ?? target.to, classes[i]?.annotations[ANNOTATIONS.previousSpec]),
      );
      restored.push(`EC2NodeClass ${nodeClassName(pool)} to its previous spec`);
    }
    await this.record(target, 'rolled-back', cause.message);
    const err = new RolloutApplyFailed(step.stage, target.cluster, cause, restored.join(', ') || 'nothing (no write had happened)');
    this.clock.log(`  ${target.cluster}: ${err.message}`);
    return err;
  }
}
