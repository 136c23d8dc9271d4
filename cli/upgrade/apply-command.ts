/** `upgrade apply`: checks every context, then runs the release upgrade; Ctrl-C stops it between writes. */
import type { CommandClock } from '../shared/command-line';
import type { CommandOutput } from '../shared/command-output';
import { RolloutBlocked } from '../rollout/pre-write';
import { RolloutFailed, RolloutHeld, RolloutInterrupted, stageClock } from '../rollout/stages';
import { applyUpgrade, UpgradeRefused, type ApplyDeps } from './apply';
import { clusterUpdater, EksUpdateFailed, nodegroupUpdater } from './eks-updates';
import { bottlerocketImageIds } from './image-ids';
import { ControlPlaneRefused } from './minor-steps';
import { GenerationUnavailable, type BuildGeneration } from './cache-generation';
import { UpgradeOwned } from './owner';
import type { UpgradeState } from './state';
import type { UpgradeWorld } from './world';
import { memo } from '../shared/cluster-contexts';

/**
 * A cache build as `cache build` runs it (cli/cache/builder.ts: its named steps, its undo stack run whatever fails,
 * Ctrl-C included), on the command's client factory in the cache's home region.
 */
function sdkBuild(world: UpgradeWorld, log: (line: string) => void, signal: AbortSignal): BuildGeneration {
  return async (cache) => {
    const { buildCache } = await import('../cache/builder');
    const c = world.clients;
    const built = await buildCache({ ec2: c.ec2(cache.homeRegion), ssm: c.ssm(cache.homeRegion), ssmIn: c.ssm, ecr: c.ecr, log, signal }, cache);
    return built.snapshotId;
  };
}

/** The deps of a run on real clients: the factory's EKS client per region, the public image_version parameter through SSM. */
function applyDeps(world: UpgradeWorld, clock: ApplyDeps['clock'], build: BuildGeneration): ApplyDeps {
  return {
    kube: world.rolloutKube,
    nodegroups: memo((region) => nodegroupUpdater(world.clients.eks(region))),
    clusters: memo((region) => clusterUpdater(world.clients.eks(region))),
    imageIds: (region, k8s, release) => bottlerocketImageIds((name) => world.region(region).getParameter(name), k8s, release),
    imageVersion: (region, k8s, arch, release) =>
      world.region(region).getParameter(`/aws/service/bottlerocket/aws-k8s-${k8s}/${arch}/${release}/image_version`),
    clock,
    aws: world.region,
    build,
  };
}

/** How `apply` waits: the poll interval (--poll-interval) and the clock (CliIo.clock, real time by default). */
export interface ApplyTiming {
  readonly pollIntervalMs?: number;
  readonly clock?: CommandClock;
}

export async function applyCommand(world: UpgradeWorld, state: UpgradeState, output: CommandOutput, timing: ApplyTiming = {}): Promise<number> {
  // Before the first write: every context must reach its cluster (server and CA as EKS DescribeCluster reports them).
  const identity = await import('../shared/cluster-identity');
  const clusters = world.fleet.clusters.filter((c) => state.running.has(c.name));
  const controller = new AbortController();
  const onInterrupt = () => {
    output.err('interrupted: finishing the current write, then stopping (re-run to resume)...\n');
    controller.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onInterrupt);
  try {
    await identity.verifyClusterContexts(clusters.map((c) => ({ name: c.name, region: c.region, context: world.context(c.name) })));
    const clock = stageClock({
      log: (l) => output.info(`${l}\n`),
      signal: controller.signal,
      pollIntervalMs: timing.pollIntervalMs,
      now: timing.clock?.now,
      sleep: timing.clock?.sleep,
    });
    const build = sdkBuild(world, (l) => output.info(`  ${l}\n`), controller.signal);
    const outcomes = await applyUpgrade(world.fleet, state.plan, state.running, applyDeps(world, clock, build));
    output.result({ ok: true, clusters: outcomes });
    if (!output.json) output.out(`done: ${outcomes.map((o) => `${o.cluster} ${o.outcome}`).join(', ') || 'nothing to do'}\n`);
    return 0;
  } catch (e) {
    return failure(e, output, identity.ClusterIdentityMismatch);
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

function failure(e: unknown, output: CommandOutput, Mismatch: typeof import('../shared/cluster-identity').ClusterIdentityMismatch): number {
  if (e instanceof Mismatch || e instanceof UpgradeRefused || e instanceof RolloutBlocked || e instanceof ControlPlaneRefused || e instanceof UpgradeOwned)
    return output.fail(1, e.message, { label: 'refused' });
  if (e instanceof GenerationUnavailable) return output.fail(1, e.message, { label: 'FAILED' });
  if (e instanceof RolloutFailed)
    return output.fail(1, `${e.message}${e.leftovers.length ? `\nleft after the rollback: ${e.leftovers.join('; ')}` : ''}`, {
      label: 'FAILED',
      details: { stage: e.stage, cluster: e.cluster, pool: e.pool, reason: e.reason, leftovers: e.leftovers, clusters: e.completed },
    });
  if (e instanceof RolloutHeld) return output.fail(1, e.message, { label: 'blocked', details: { blocked: true, cluster: e.cluster, holds: e.holds } });
  if (e instanceof RolloutInterrupted)
    return output.fail(1, 'progress is recorded on the node classes; re-run the same command to resume', { label: 'interrupted' });
  if (e instanceof EksUpdateFailed) return output.fail(1, e.message, { label: 'FAILED', details: { update: e.update.id, errors: e.update.errors } });
  throw e;
}
