/**
 * The stage machinery (cli/rollout/stages.ts) with a payload that is not a snapshot: a "version" per cluster
 * that converges after a few looks. What `upgrade` will rely on: stage order, soak, the health gate's rollback
 * stopping later stages, a stall reported as blocked without rollback, already-current clusters skipped, and
 * progress recorded through the payload.
 */
import { ClusterOutcome, Look, Payload, PayloadState, RolloutFailed, RolloutHeld, runStages, stageClock, StageTarget } from '../cli/rollout/stages';

interface VersionState extends PayloadState {
  looks: number;
}

/** A cluster runs a version; applying moves it after `convergeAfter` looks, unless told to fail or stall. */
class VersionPayload implements Payload<StageTarget, VersionState> {
  readonly running = new Map<string, string>();
  readonly records: string[] = [];
  readonly restored: string[] = [];
  failing = new Set<string>();
  stalled = new Set<string>();
  failInSoak = new Set<string>();

  constructor(
    private readonly clock: { now: () => number },
    private readonly convergeAfter = 2,
  ) {}

  begin(t: StageTarget): Promise<VersionState | undefined> {
    if (this.running.get(t.cluster) === t.to) return Promise.resolve(undefined);
    return Promise.resolve({ from: this.running.get(t.cluster), since: this.clock.now(), looks: 0 });
  }
  apply(t: StageTarget): Promise<void> {
    this.running.set(t.cluster, t.to);
    return Promise.resolve();
  }
  gate() {
    return Promise.resolve({ verdict: () => Promise.resolve({}) });
  }
  look(t: StageTarget, s: VersionState, o: { soak: boolean }): Promise<Look> {
    s.looks++;
    const failure =
      (!o.soak && this.failing.has(t.cluster)) || (o.soak && this.failInSoak.has(t.cluster)) ? { reason: `${t.cluster} is unhealthy` } : undefined;
    const converged = !this.stalled.has(t.cluster) && s.looks >= this.convergeAfter;
    return Promise.resolve({
      failure,
      converged,
      unavailable: [],
      summary: converged ? 'on the new version' : 'moving',
      replaced: this.stalled.has(t.cluster) ? 0 : s.looks,
      remaining: 1,
      starting: false,
      holds: this.stalled.has(t.cluster) ? [{ pool: 'all', by: 'an upgrade hold', fix: 'release it' }] : [],
    });
  }
  restore(t: StageTarget, s: VersionState): Promise<string[]> {
    if (s.from) this.running.set(t.cluster, s.from);
    this.restored.push(t.cluster);
    return Promise.resolve([]);
  }
  record(t: StageTarget, state: string, reason?: string): Promise<void> {
    this.records.push(`${t.cluster}: ${state}${reason ? ` (${reason.split(':')[0]})` : ''}`);
    return Promise.resolve();
  }
}

function world(convergeAfter = 2) {
  let clock = 0;
  const log: string[] = [];
  const c = stageClock({ log: (l) => log.push(l), now: () => clock, sleep: (ms) => Promise.resolve(void (clock += ms)), pollIntervalMs: 60_000 });
  const payload = new VersionPayload(c, convergeAfter);
  for (const cluster of ['a', 'b', 'c']) payload.running.set(cluster, 'v1');
  const targets: StageTarget[] = [
    { stage: 'canary', cluster: 'a', region: 'r1', from: 'v1', to: 'v2' },
    { stage: 'prod', cluster: 'b', region: 'r1', from: 'v1', to: 'v2' },
    { stage: 'prod', cluster: 'c', region: 'r2', from: 'v1', to: 'v2' },
  ];
  const run = () =>
    runStages({
      stages: [
        { name: 'canary', soakMs: 120_000 },
        { name: 'prod', soakMs: 0 },
      ],
      targets,
      healthTimeoutMs: 300_000,
      payload,
      clock: c,
    });
  return { payload, log, run };
}

const outcomes = (o: readonly ClusterOutcome[]) => o.map((x) => `${x.stage}/${x.cluster}: ${x.outcome}`);

describe('the stage machinery runs a payload other than a snapshot', () => {
  test('every cluster converges stage by stage, the canary soaks, progress is recorded; a re-run finds them current', async () => {
    const w = world();
    expect(outcomes(await w.run())).toEqual(['canary/a: rolled-out', 'prod/b: rolled-out', 'prod/c: rolled-out']);
    expect(w.payload.records).toEqual(['a: converged', 'a: done', 'b: converged', 'c: converged', 'b: done', 'c: done']);
    expect(w.log).toContain('stage canary: soaking for 120.0s');
    expect(outcomes(await w.run())).toEqual(['canary/a: already-current', 'prod/b: already-current', 'prod/c: already-current']);
  });

  test('a health failure restores that cluster and leaves later stages untouched', async () => {
    const w = world();
    w.payload.failing.add('a');
    const error = await w.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RolloutFailed);
    expect((error as RolloutFailed).completed.map((o) => `${o.cluster}: ${o.outcome}`)).toEqual(['a: rolled-back']);
    expect(w.payload.restored).toEqual(['a']);
    expect(w.payload.running.get('a')).toBe('v1');
    expect(w.payload.running.get('b')).toBe('v1');
    // A payload that says nothing of what it restores: the snapshot rollout's words.
    expect((error as Error).message).toMatch(/; rolled back to the previous snapshot, later stages untouched$/);
  });

  test('a failure during the soak rolls the stage back', async () => {
    const w = world();
    w.payload.failInSoak.add('a');
    await expect(w.run()).rejects.toThrow('stage canary, cluster a: a is unhealthy; rolled back');
    expect(w.payload.restored).toEqual(['a']);
  });

  test('no progress for healthTimeout is blocked: recorded, named with its hold, not restored; clusters moved before are reported', async () => {
    const w = world();
    w.payload.stalled.add('c');
    const error = await w.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RolloutHeld);
    expect((error as Error).message).toContain('pool all: an upgrade hold');
    expect((error as RolloutHeld).completed.map((o) => `${o.cluster}: ${o.outcome}`)).toEqual(['a: rolled-out', 'c: blocked', 'b: rolled-out']);
    expect(w.payload.restored).toEqual([]);
    expect(w.payload.records).toContain('c: blocked (stage prod, cluster c)');
  });
});
