/**
 * What every step of a cache build shares (builder.ts runs the steps, build-*.ts hold them): the clients,
 * the clock, one way to call AWS (backoff on throttling), to poll, to name the step under way, and the stack
 * of undo steps that `finally` runs, newest first, whatever failed.
 */
import { randomBytes } from 'crypto';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ImageCache } from '../../modules/fleet/load';
import { CACHE_TAG, FLEET_TAG } from '../../modules/image-cache/parameters';
import { abortableSleep } from '../shared/sleep';
import type { BuilderDeps, BuildOptions } from './builder';
import { BUILD_ID_TAG } from './tags';

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'TooManyRequestsException', 'RequestThrottled']);

const DEFAULTS: Required<BuildOptions> = {
  onlineTimeoutMs: 600_000,
  pullTimeoutMs: 7_200_000,
  snapshotTimeoutMs: 7_200_000,
  pollIntervalMs: 5_000,
  historyLength: 10,
};

/** What undoes one step; `run` ignores the interrupt signal (cleanup must finish). */
export interface UndoStep {
  readonly what: string;
  readonly run: () => Promise<unknown>;
}

export class UndoStack {
  private readonly steps: UndoStep[] = [];

  push(step: UndoStep): UndoStep {
    this.steps.push(step);
    return step;
  }

  /** What the step undoes is now part of the result: never undo it. */
  drop(step: UndoStep): void {
    this.steps.splice(this.steps.indexOf(step), 1);
  }

  /** Newest first; a failing undo is logged and the others still run. */
  async runAll(log: (line: string) => void, onStep?: (step: string) => void): Promise<void> {
    for (const u of this.steps.reverse()) {
      try {
        log(`cleanup: ${u.what}`);
        onStep?.(`cleanup: ${u.what}`);
        await u.run();
      } catch (e) {
        log(`cleanup failed: ${u.what}: ${(e as Error).message} — run "npm run cache -- gc" to remove leftovers`);
      }
    }
  }
}

export class BuildContext {
  readonly o: Required<BuildOptions>;
  readonly now: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly started: number;
  /** Unique per build: the launch's idempotency token, a tag on everything the build makes, the manifest's folder. */
  readonly buildId: string;
  readonly undo = new UndoStack();
  /** The step under way, named in a BuildError. */
  step = 'start';
  /** Set once the snapshot ID and its history are written: the undo steps that discard the build's results then do nothing. */
  succeeded = false;

  constructor(
    readonly deps: BuilderDeps,
    readonly cache: ImageCache,
    options: BuildOptions,
  ) {
    this.o = { ...DEFAULTS, ...options };
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? abortableSleep;
    this.started = this.now();
    const stamp = new Date(this.started)
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14);
    this.buildId = `${cache.name}-${stamp}-${randomBytes(3).toString('hex')}`;
  }

  log(line: string): void {
    this.deps.log(`[${this.cache.name}] ${line} (+${Math.round((this.now() - this.started) / 1000)}s)`);
  }

  /** One named step: progress and `--json` print the name; a failure inside names it. */
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.step = name;
    this.log(name);
    this.deps.onStep?.(name);
    return fn();
  }

  /** One API call with backoff on throttling; never retried once the build is interrupted (cleanup passes null). */
  async call<T>(fn: () => Promise<T>, signal: AbortSignal | null = this.deps.signal ?? null): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await fn();
      } catch (e) {
        if (!THROTTLING.has((e as Error).name) || attempt >= 7) throw e;
        await this.sleep(Math.min(20_000, 200 * 2 ** attempt), signal ?? undefined);
      }
    }
  }

  async poll(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const until = this.now() + timeoutMs;
    while (!(await check())) {
      if (this.now() > until) throw new Error(`${what}: not done after ${Math.round(timeoutMs / 1000)}s`);
      await this.sleep(this.o.pollIntervalMs, this.deps.signal);
    }
  }

  /** SSM in a region of the cache (the home region's client, or BuilderDeps.ssmIn). */
  ssmIn(region: string): SSMClient {
    if (region === this.cache.homeRegion) return this.deps.ssm;
    if (!this.deps.ssmIn) throw new Error(`no SSM client for ${region}: cache ${this.cache.name} has a copy there (BuilderDeps.ssmIn)`);
    return this.deps.ssmIn(region);
  }

  async getParameter(name: string): Promise<string | undefined> {
    try {
      return (await this.call(() => this.deps.ssm.send(new GetParameterCommand({ Name: name })))).Parameter?.Value;
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  async describeInstance(id: string) {
    const r = await this.call(() => this.deps.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })));
    return r.Reservations![0].Instances![0];
  }

  /** On the instance, its volumes and the snapshot. */
  tags(): { Key: string; Value: string }[] {
    return [
      { Key: 'Name', Value: `image-cache-builder-${this.cache.name}` },
      { Key: CACHE_TAG, Value: this.cache.name },
      { Key: BUILD_ID_TAG, Value: this.buildId },
      // The CI policy and gc act only on this fleet's builders and snapshots (exact values, not tag keys).
      { Key: FLEET_TAG, Value: this.cache.fleetId },
    ];
  }
}
