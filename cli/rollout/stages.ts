/**
 * The rollout's stage machinery, whatever is rolled out: stage by stage, cluster by cluster, begin (or
 * resume), apply, wait until converged and healthy (a health failure rolls the cluster back; a stall that
 * something else explains is `blocked`, left as it is), then soak the stage and record it done. What is
 * applied is a Payload: what to apply to a cluster, how to restore the previous, how to tell converged.
 * The snapshot generation is one (snapshot-payload.ts); `upgrade` is meant to be the next.
 *
 * Writes are never interrupted half way: Ctrl-C is honoured only while waiting (StageClock.wait).
 */
import { formatDuration } from '../shared/duration';
import { abortableSleep } from '../shared/sleep';
import { formatHold, Hold } from './holds';
import type { ProgressState } from './model';

/** What the machinery knows of a cluster's part in a stage. */
export interface StageTarget {
  readonly stage: string;
  readonly cluster: string;
  readonly region: string;
  /** What the cluster runs now (e.g. the snapshot its parameter names). */
  readonly from?: string;
  /** What it is moved to. */
  readonly to: string;
}

/** A payload's per-cluster state between begin and the end of its stage. */
export interface PayloadState {
  /** What a rollback returns to (on a resumed run: what the first run recorded). */
  readonly from?: string;
  /** When this run began with the cluster: what started before is not the rollout's doing. */
  readonly since: number;
}

/** One look at a cluster, as the gates judge it. */
export interface Look {
  /** A health failure that will not heal by waiting: roll back now. */
  readonly failure?: { readonly pool?: string; readonly reason: string };
  /** Everything is on the payload (replaced and initialized). */
  readonly converged: boolean;
  /** Workloads short of their desired replicas (not yet a failure). */
  readonly unavailable: readonly string[];
  /** One line of progress, e.g. per pool "2/3 nodes on the new hash and initialized". */
  readonly summary: string;
  /** Progress measures: more `replaced` or fewer `remaining` than ever before is progress. */
  readonly replaced: number;
  readonly remaining: number;
  /** Something new is still starting: the health gate judges it, it is not a stall. */
  readonly starting: boolean;
  /** What holds the rest back (asked for once a look brought no progress). */
  readonly holds: readonly Hold[];
}

/** A last gate once converged (e.g. the cache gate), started before anything is replaced. */
export interface ConvergedGate {
  verdict(now: number): Promise<{ readonly failure?: { readonly pool?: string; readonly reason: string } }>;
}

export interface Payload<T extends StageTarget, S extends PayloadState> {
  /** Reads the cluster's progress record; undefined when the cluster is already done. Pre-write checks throw (nothing changed). */
  begin(target: T): Promise<S | undefined>;
  /** Applies the payload (or nothing, when a resumed run finds it applied). A failed apply undoes its own writes and throws. */
  apply(target: T, state: S): Promise<void>;
  /** Started before the wait for convergence. */
  gate(target: T, state: S): Promise<ConvergedGate>;
  /** One look: while converging (`holds`: also work out what holds the rest), or during the soak. */
  look(target: T, state: S, o: { readonly soak: boolean; readonly holds: boolean }): Promise<Look>;
  /** Puts the previous back after a health failure; returns what is left of the failed payload, with what to do. */
  restore(target: T, state: S, why: RolloutFailed): Promise<string[]>;
  /** Records progress on the cluster (survives the process, so a re-run resumes). */
  record(target: T, state: ProgressState, reason?: string): Promise<void>;
  /** What restore() puts back, for messages. @default 'the previous snapshot' */
  readonly restores?: string;
}

export interface ClusterOutcome {
  readonly stage: string;
  readonly cluster: string;
  readonly region: string;
  readonly from?: string;
  readonly to: string;
  readonly outcome: 'rolled-out' | 'already-current' | 'rolled-back' | 'blocked';
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
    /** What the rollback put back (the payload's `restores`). */
    restored = 'the previous snapshot',
  ) {
    super(`stage ${stage}, cluster ${cluster}${pool ? `, pool ${pool}` : ''}: ${reason}; rolled back to ${restored}, later stages untouched`);
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

export class RolloutInterrupted extends Error {}

/** The clock the machinery and the payload share: Ctrl-C ends a wait, never a write. */
export interface StageClock {
  readonly now: () => number;
  /** One poll interval; throws RolloutInterrupted on Ctrl-C. */
  readonly wait: () => Promise<void>;
  readonly log: (line: string) => void;
}

export function stageClock(deps: {
  readonly log: (line: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly signal?: AbortSignal;
  /** @default 15 seconds */
  readonly pollIntervalMs?: number;
}): StageClock {
  const sleep = deps.sleep ?? abortableSleep;
  const poll = deps.pollIntervalMs ?? 15_000;
  return {
    now: deps.now ?? Date.now,
    log: deps.log,
    wait: async () => {
      if (deps.signal?.aborted) throw new RolloutInterrupted('interrupted');
      try {
        await sleep(poll, deps.signal);
      } catch {
        throw new RolloutInterrupted('interrupted');
      }
    },
  };
}

export interface StagedRollout<T extends StageTarget, S extends PayloadState> {
  readonly stages: readonly { readonly name: string; readonly soakMs: number }[];
  readonly targets: readonly T[];
  /** How long a stall, a degraded soak or a new unit that never starts may last. */
  readonly healthTimeoutMs: number;
  readonly payload: Payload<T, S>;
  readonly clock: StageClock;
}

/** Runs every stage; returns what happened per cluster. A failure or a hold carries what was completed before it. */
export async function runStages<T extends StageTarget, S extends PayloadState>(rollout: StagedRollout<T, S>): Promise<ClusterOutcome[]> {
  return new StageRunner(rollout).run();
}

interface Rolled<T, S> {
  readonly target: T;
  readonly state: S;
}

class StageRunner<T extends StageTarget, S extends PayloadState> {
  private readonly outcomes: ClusterOutcome[] = [];
  /** The clusters of the current stage moved so far. */
  private rolled: Rolled<T, S>[] = [];
  private readonly clock: StageClock;
  private readonly payload: Payload<T, S>;

  constructor(private readonly r: StagedRollout<T, S>) {
    this.clock = r.clock;
    this.payload = r.payload;
  }

  async run(): Promise<ClusterOutcome[]> {
    try {
      for (const stage of this.r.stages) await this.runStage(stage);
    } catch (e) {
      if (e instanceof RolloutFailed || e instanceof RolloutHeld) e.completed.push(...this.outcomes, ...this.movedExcept(e.cluster));
      throw e;
    }
    return this.outcomes;
  }

  private movedExcept(failing: string): ClusterOutcome[] {
    return this.rolled.filter((r) => r.target.cluster !== failing).map((r) => this.outcome(r.target, r.state.from, 'rolled-out'));
  }

  private outcome(t: T, from: string | undefined, outcome: ClusterOutcome['outcome']): ClusterOutcome {
    return { stage: t.stage, cluster: t.cluster, region: t.region, from, to: t.to, outcome };
  }

  private async runStage(stage: { readonly name: string; readonly soakMs: number }): Promise<void> {
    const targets = this.r.targets.filter((t) => t.stage === stage.name);
    this.clock.log(`stage ${stage.name}: ${targets.map((t) => t.cluster).join(', ') || '(no cluster uses this cache)'}`);
    this.rolled = [];
    for (const target of targets) {
      const rolled = await this.rollCluster(target);
      if (rolled) this.rolled.push(rolled);
    }
    if (this.rolled.length > 0 && stage.soakMs > 0) await this.soak(stage.name, stage.soakMs);
    for (const r of this.rolled) {
      await this.payload.record(r.target, 'done');
      this.outcomes.push(this.outcome(r.target, r.state.from, 'rolled-out'));
    }
    this.clock.log(`stage ${stage.name}: done`);
  }

  /** One cluster onto the payload; undefined when it already was. */
  private async rollCluster(target: T): Promise<Rolled<T, S> | undefined> {
    const state = await this.payload.begin(target);
    if (!state) {
      this.outcomes.push(this.outcome(target, target.from, 'already-current'));
      return undefined;
    }
    await this.payload.apply(target, state);
    try {
      await this.waitConverged(target, state);
    } catch (e) {
      if (e instanceof RolloutFailed) await this.rollBack(target, state, e);
      if (e instanceof RolloutHeld) {
        await this.payload.record(target, 'blocked', e.message);
        this.outcomes.push(this.outcome(target, state.from, 'blocked'));
      }
      throw e;
    }
    await this.payload.record(target, 'converged');
    return { target, state };
  }

  /**
   * Polls until converged and healthy. A health failure throws RolloutFailed. No progress for healthTimeout
   * (while nothing new is still starting) throws RolloutHeld naming what holds the rest.
   */
  private async waitConverged(target: T, state: S): Promise<void> {
    const { now, log } = this.clock;
    let best: [number, number] = [-1, Infinity];
    let lastProgress = now();
    let lastSummary = '';
    let lastHolds = '';
    let quiet = false;
    const gate = await this.payload.gate(target, state);
    for (;;) {
      // What holds the rest is worked out only once a look brought no progress (it costs more reads).
      const o = await this.payload.look(target, state, { soak: false, holds: quiet });
      if (o.failure) throw new RolloutFailed(target.stage, target.cluster, o.failure.pool, o.failure.reason, this.payload.restores);
      if (o.converged && o.unavailable.length === 0) {
        log(`  ${target.cluster}: converged (${o.summary})`);
        const verdict = await gate.verdict(now());
        if (verdict.failure) throw new RolloutFailed(target.stage, target.cluster, verdict.failure.pool, verdict.failure.reason, this.payload.restores);
        return;
      }
      if (o.summary !== lastSummary) log(`  ${target.cluster}: ${o.summary}${o.unavailable.length ? `; ${o.unavailable.join('; ')}` : ''}`);
      lastSummary = o.summary;
      const holds = o.holds.map(formatHold).join('; ');
      if (holds && holds !== lastHolds) log(`  ${target.cluster}: waiting on Karpenter: ${holds}`);
      lastHolds = holds;
      quiet = !(o.replaced > best[0] || o.remaining < best[1]);
      if (!quiet) {
        best = [Math.max(best[0], o.replaced), Math.min(best[1], o.remaining)];
        lastProgress = now();
      }
      // Something new still starting is judged by the health gate (its own healthTimeout), not as a stall.
      if (now() - lastProgress > this.r.healthTimeoutMs && !o.starting) throw new RolloutHeld(target.stage, target.cluster, o.holds, now() - lastProgress);
      await this.clock.wait();
    }
  }

  private async soak(stage: string, soakMs: number): Promise<void> {
    const { now } = this.clock;
    this.clock.log(`stage ${stage}: soaking for ${formatDuration(soakMs)}`);
    const until = now() + soakMs;
    // A pod failing (pull errors, crash loops, Pending past healthTimeout) fails the soak at once. A node
    // not Ready or a workload short of replicas is what scale-ups and rolling updates look like for a
    // while, so it fails the soak only when it lasts longer than healthTimeout.
    const degradedSince = new Map<string, number>();
    while (now() < until) {
      await this.clock.wait();
      for (const r of this.rolled) {
        const reason = await this.soakLook(r, degradedSince);
        if (reason) {
          const err = new RolloutFailed(stage, r.target.cluster, reason.pool, reason.reason, this.payload.restores);
          await this.rollBack(r.target, r.state, err);
          throw err;
        }
      }
    }
  }

  /** One soak look at a cluster: why it fails now, if it does. */
  private async soakLook(r: Rolled<T, S>, degradedSince: Map<string, number>): Promise<{ pool?: string; reason: string } | undefined> {
    const { now } = this.clock;
    const name = r.target.cluster;
    const o = await this.payload.look(r.target, r.state, { soak: true, holds: false });
    const degraded = o.unavailable.length > 0 ? o.unavailable.join('; ') : !o.converged ? o.summary : undefined;
    if (!degraded) degradedSince.delete(name);
    else if (!degradedSince.has(name)) degradedSince.set(name, now());
    const lasting = degraded !== undefined && now() - degradedSince.get(name)! > this.r.healthTimeoutMs;
    const reason =
      o.failure?.reason ?? (lasting ? `during the soak, for longer than healthTimeout (${formatDuration(this.r.healthTimeoutMs)}): ${degraded}` : undefined);
    return reason === undefined ? undefined : { pool: o.failure?.pool, reason };
  }

  private async rollBack(target: T, state: S, why: RolloutFailed): Promise<void> {
    this.clock.log(`  ${target.cluster}: FAILED (${why.pool ? `pool ${why.pool}: ` : ''}${why.reason}); rolling back to ${state.from ?? '-'}`);
    this.outcomes.push(this.outcome(target, state.from, 'rolled-back'));
    why.leftovers = await this.payload.restore(target, state, why);
  }
}
