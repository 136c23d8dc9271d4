/**
 * bottlerocket-fleet rollout (npm run rollout --) <cache> [--to <snapshot-id>] [--dry-run] [--json] [--context <cluster>=<context>]...
 * bottlerocket-fleet rollout status <cache> [--json] [--context <cluster>=<context>]...
 * Moves the clusters that use an image cache to a new snapshot generation, stage by stage, as the fleet
 * file's `rollout` section says (FLEET_FILE or ./fleet.yaml). See usage() below and docs/rollout.md.
 */
import { planRollout, FIELD_MANAGER, ANNOTATIONS } from './model';
import { SOURCE_SNAPSHOT_TAG } from '../../modules/image-cache/parameters';
import { parseDuration } from '../shared/duration';
import { CliIo, commandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';
import { answering, CommandOutput, failedWith } from '../shared/command-output';
import { createProgress, stepLog } from '../shared/progress';
import { clusterContexts, memo } from '../shared/cluster-contexts';
import { DEFAULT_REQUEST_TIMEOUT_MS, REQUEST_TIMEOUT_HELP, requestTimeoutMs as parseRequestTimeout } from '../shared/request-timeout';
import type { ResolvedRollout } from './engine';

export const usage = (prog: string): string => `usage:
  ${prog} <cache> [--to <snapshot-id>] [--dry-run] [--json] [--context <cluster>=<context>]... [--poll-interval 15s]
  ${prog} status <cache> [--json] [--context <cluster>=<context>]...

Rolls a new generation of an image cache's snapshot out to the clusters that use it, in the stages of
the fleet file's rollout section (FLEET_FILE or ./fleet.yaml), each gated on health, with automatic rollback.

  <cache>            image cache name from the fleet file
  --to <id>          snapshot ID in the cache's home region to roll out
  --allow-version-skew
                     roll out even to clusters whose classes select an older Bottlerocket release than the
                     generation was built on (the live class's alias, which the rollout keeps), or when the
                     generation records no release that parses
  --allow-unknown-kernel
                     roll out a generation that records no kernel release (a kernel that cannot mount it is
                     always refused: every version the cluster's nodes may run, the running control plane's
                     from EKS DescribeCluster and the fleet file's, is checked)
                     (default: the current value of the cache's parameter there, i.e. the latest build)
  --dry-run          print per stage and cluster the pools and the snapshot IDs from -> to in each region,
                     and each pool's drift concurrency now (Karpenter's budget: active budgets for Drifted,
                     percentages rounded up, NotReady or deleting nodes counted); reads only, writes nothing
  --json             machine-readable result on stdout (progress lines go to stderr)
  --context c=ctx    kubeconfig context for cluster c (repeatable; default: a context named like the cluster);
                     before the first write, every context's server URL and CA must equal the cluster's
                     endpoint and CA from EKS DescribeCluster, or nothing is changed (exit 1)
  --poll-interval d  how often to look at the cluster while waiting (default 15s)
${REQUEST_TIMEOUT_HELP}
                       (to a cluster, transient faults are retried for at most 4 of these and 2 minutes in all)
  -h, --help         this text

Before anything is written, the generation (its home-region snapshot's tags) is checked against every target
cluster: its Bottlerocket release against the alias each class will keep (the live class's), and its builder's
kernel against every version the cluster's nodes may run (EKS DescribeCluster and the fleet file); a refusal
exits 1 naming both (docs/upgrades.md).

Per stage, in order, and per cluster of the stage:
  1. find the target's copy in the cluster's region (tag ${SOURCE_SNAPSHOT_TAG}; the target
     itself in the home region). Any copy or cluster parameter missing: stop before touching anything and
     name the stack to apply (image-cache-<cache>).
  2. check the node classes' karpenter.k8s.aws/ec2nodeclass-hash-version is v5 (Karpenter v1.14.1), else stop
     before writing: a hash-version migration rehashes old NodeClaims in place;
  3. record progress on the pools' EC2NodeClasses (annotations ${ANNOTATIONS.target}, ${ANNOTATIONS.state},
     ${ANNOTATIONS.previous}, ${ANNOTATIONS.previousSpec}, ...): the exact spec a rollback restores;
  4. write <parameterPath>/clusters/<cluster> in the cluster's region;
  5. server-side-apply the EC2NodeClasses with field manager "${FIELD_MANAGER}" (the kubectl provider's), changing
     only the snapshot (a fleet-file edit not yet applied is named and held back). An apply that fails (a field
     another manager owns) restores the parameter and the classes already applied, and exits 1 naming both;
  6. wait until every NodeClaim of the affected pools carries the class's new karpenter.k8s.aws/ec2nodeclass-hash,
     was launched after the apply and is Initialized (karpenter.sh/initialized: Ready, startup taints gone,
     extended resources registered); Karpenter replaces drifted nodes within each pool's Drifted budget;
  7. health: no pod on a new node in ImagePullBackOff, ErrImagePull or CrashLoopBackOff, none Pending longer
     than healthTimeout, no new node uninitialized longer than healthTimeout, the Deployments and
     StatefulSets on the pools' nodes available;
  8. cache: the image cache measured on the new nodes (as \`cache report\` does) next to the nodes they
     replaced; a cached image pulled from a registry on a new node fails the gate when
     rollout.cacheMisses is fail (the default), or is printed as a warning when it is warn;
then the stage soaks: health must hold for the stage's soak.

On a health failure the cluster is rolled back (previous parameter value and the exact previous node-class
spec; the failed generation's never-initialized NodeClaims deleted; its nodes drift back, within
healthTimeout, or are named), later stages are not touched, and the command exits 1 naming stage, cluster,
pool and reason.
When no node is replaced for healthTimeout and Karpenter holds the rest (a PodDisruptionBudget at 0,
karpenter.sh/do-not-disrupt on a node or pod, a budget at 0 or used up by NotReady nodes, a node class not
Ready, an uninitialized node), the command reports blocked: nothing is rolled back, progress is recorded,
it exits 1 saying what holds which node and what to do; a re-run resumes.
Ctrl-C stops only between writes: parameter and node classes always agree; re-run to resume from the
progress recorded on the node classes. A cluster already done for this generation is skipped.

  status <cache>     per cluster: the snapshot its parameter holds, the generation (home-region snapshot)
                     that is a copy of, the recorded progress, nodes converged on the current class hash, and
                     the cache hit ratio last measured on its new nodes

Exit codes: 0 done (or dry run), 1 rolled back / blocked / apply failed / interrupted, 2 usage or fleet file error.
`;

/** Where the command writes; tests capture it, the process writes to its own streams. */
export type RolloutIo = CliIo;

const OPTIONS = {
  to: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  'allow-version-skew': { type: 'boolean', default: false },
  'allow-unknown-kernel': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  context: { type: 'string', multiple: true, default: [] as string[] },
  'poll-interval': { type: 'string', default: '15s' },
  'request-timeout': { type: 'string' },
} as const;

/**
 * An EBS snapshot ID: `snap-` and 8 (before 2016) or 17 characters of lowercase letters and digits (AWS EC2 User
 * Guide, "Resource IDs": https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html).
 */
const SNAPSHOT_ID = /^snap-(?:[0-9a-z]{8}|[0-9a-z]{17})$/;

/** The command line, checked: everything a usage error can be about is found here, before the fleet file or AWS. */
export interface RolloutArguments {
  readonly cache: string;
  readonly status: boolean;
  readonly to?: string;
  readonly dryRun: boolean;
  readonly allowVersionSkew: boolean;
  readonly allowUnknownKernel: boolean;
  /** kubeconfig context per cluster (--context c=ctx); a cluster not named uses the context named like it. */
  readonly contexts: ReadonlyMap<string, string>;
  readonly pollIntervalMs: number;
  /** --request-timeout: each request to a cluster's API server (undefined: the access layer's default). */
  readonly requestTimeoutMs?: number;
}

interface RolloutValues {
  readonly to?: string;
  readonly 'dry-run': boolean;
  readonly 'allow-version-skew': boolean;
  readonly 'allow-unknown-kernel': boolean;
  readonly context: readonly string[];
  readonly 'poll-interval': string;
  readonly 'request-timeout'?: string;
}

/** The checked arguments, or the usage problem. Pure. */
export function rolloutArguments(values: RolloutValues, positionals: string[]): RolloutArguments | { readonly problem: string } {
  const status = positionals[0] === 'status';
  const names = positionals.slice(status ? 1 : 0);
  if (names.length === 0) return { problem: 'missing argument: the image cache to roll out' };
  if (names.length > 1) return { problem: `one image cache at a time (got ${names.join(', ')})` };
  const contexts = clusterContexts(values.context);
  if ('problem' in contexts) return contexts;
  if (values.to !== undefined && !SNAPSHOT_ID.test(values.to))
    return { problem: `--to ${values.to}: not an EBS snapshot ID (expected snap- and 17 letters or digits, e.g. snap-0123456789abcdef0)` };
  let pollIntervalMs: number;
  let requestTimeoutMs: number | undefined;
  try {
    pollIntervalMs = parseDuration(values['poll-interval']);
  } catch (e) {
    return { problem: `--poll-interval: ${(e as Error).message}` };
  }
  try {
    // A usage error unless a duration above 0 (request-timeout.ts); left out, the factory's and the layer's default.
    requestTimeoutMs = values['request-timeout'] === undefined ? undefined : parseRequestTimeout(values['request-timeout']);
  } catch (e) {
    return { problem: (e as Error).message };
  }
  const { to, 'dry-run': dryRun, 'allow-version-skew': allowVersionSkew, 'allow-unknown-kernel': allowUnknownKernel } = values;
  return { cache: names[0], status, to, dryRun, allowVersionSkew, allowUnknownKernel, contexts, pollIntervalMs, requestTimeoutMs };
}

/** Runs the command; returns the exit code (0 done or dry run, 1 rolled back / blocked / interrupted, 2 usage). */
export async function main(argv: string[], io: RolloutIo = PROCESS_IO): Promise<number> {
  const prog = programName('rollout');
  const cl = commandLine(argv, OPTIONS, io, () => usage(prog));
  if (cl.exit !== undefined) return cl.exit;
  const args = rolloutArguments(cl.values, cl.positionals);
  if ('problem' in args) return usageError(cl.output, args.problem, usage(prog));
  return answering(cl.output, () => rollout(args, cl.output));
}

/** What every rollout path talks to: the fleet's plan, AWS per region and Kubernetes per cluster (each built once). */
async function rolloutWorld(args: RolloutArguments, output: CommandOutput) {
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load'); // not needed by --help
  const fleet = loadFleet(fleetFileFromEnvironment());
  const plan = planRollout(fleet, args.cache);
  const { regionApi } = await import('./aws');
  const { rolloutKube } = await import('./kube-client');
  // Every AWS call of the command goes through one client factory (cli/shared/aws-clients.ts): --request-timeout,
  // and on a terminal a call that takes a while is named on the status line.
  const waiting = createProgress({ write: output.info, terminal: output.terminal });
  const { awsClients } = await import('../shared/aws-clients');
  const clients = awsClients({
    requestTimeoutMs: args.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    step: args.status ? 'rollout status' : 'rollout',
    progress: waiting,
  });
  const context = (cluster: string) => args.contexts.get(cluster) ?? cluster;
  // Every cluster through the Kubernetes access layer (its name and region for the hint when its context is missing).
  const kubeOptions = (cluster: string) => ({
    cluster,
    region: fleet.clusters.find((c) => c.name === cluster)?.region,
    requestTimeoutMs: args.requestTimeoutMs,
    log: (line: string) => output.err(`${line}\n`),
  });
  return {
    fleet,
    plan,
    context,
    kubeOptions,
    clients,
    waiting,
    aws: memo((region: string) => regionApi(region, {}, clients)),
    kube: memo((cluster: string) => rolloutKube(context(cluster), kubeOptions(cluster))),
  };
}
type RolloutWorld = Awaited<ReturnType<typeof rolloutWorld>>;

async function rollout(args: RolloutArguments, output: CommandOutput): Promise<number> {
  const world = await rolloutWorld(args, output);
  if (args.status) return printStatus(world, output).finally(() => world.waiting.done());
  const engine = await import('./engine');
  // The fields every failure document of this rollout carries; the source once it is resolved.
  const base: Record<string, unknown> = { cache: world.plan.cache.name };
  try {
    const { sdkRunningVersion } = await import('../shared/eks-versions');
    const runningVersion = sdkRunningVersion(() => Promise.resolve(world.clients));
    const resolved = await engine
      .resolveRollout({ aws: world.aws, kube: world.kube, runningVersion }, world.plan, args.to, {
        allowVersionSkew: args.allowVersionSkew,
        allowUnknownKernel: args.allowUnknownKernel,
      })
      .finally(() => world.waiting.done());
    base.source = resolved.source;
    if (args.dryRun) return await printDryRun(world, resolved, output);
    return await ship(world, resolved, args, output, base);
  } catch (e) {
    const failure = failureOf(e, engine, (await import('../shared/cluster-identity')).ClusterIdentityMismatch);
    if (!failure) return failedWith(output, e, base);
    return output.fail(1, failure.message ?? (e as Error).message, { label: failure.label, details: { ...base, ...failure.details } });
  }
}

async function printStatus({ plan, aws, kube }: RolloutWorld, output: CommandOutput): Promise<number> {
  const rows = await (await import('./report')).status(plan, { aws, kube });
  output.result(rows);
  if (!output.json)
    for (const r of rows)
      output.out(
        `${r.stage}\t${r.cluster}\t${r.region}\t${r.snapshot ?? '-'}\tgeneration ${r.generation ?? '?'}\t${r.state ?? '-'}\tnodes ${r.nodes}${r.converged ? ' converged' : ' converging'}\tcache hit ratio ${hitRatioText(r)}\n`,
      );
  return 0;
}

/** Reads only: each pool's drift concurrency as Karpenter computes it now, from the cluster's NodePools and nodes. */
async function printDryRun({ plan, kube }: RolloutWorld, resolved: ResolvedRollout, output: CommandOutput): Promise<number> {
  const report = await import('./report');
  const stages = await report.withDrift(report.dryRun(plan, resolved), kube, Date.now());
  output.result({ cache: plan.cache.name, source: resolved.source, dryRun: true, stages });
  if (!output.json) output.out(`${report.dryRunLines(plan, resolved, stages).join('\n')}\n`);
  return 0;
}

/** Checks every context, then runs the rollout; Ctrl-C stops it between writes. Throws what failureOf explains. */
async function ship(
  world: RolloutWorld,
  resolved: ResolvedRollout,
  args: RolloutArguments,
  output: CommandOutput,
  failureFields: Record<string, unknown>,
): Promise<number> {
  const { plan, fleet, aws, kube, context, kubeOptions, clients } = world;
  // Before the first write: every context of the rollout must reach its cluster (server and CA as EKS reports them).
  const identity = await import('../shared/cluster-identity');
  await identity.verifyClusterContexts(
    plan.stages.flatMap((s) => s.clusters.map((c) => ({ name: c.cluster.name, region: c.region, context: context(c.cluster.name) }))),
    { describe: (name, region) => identity.describeEksCluster(name, region, undefined, clients) },
  );
  const engine = await import('./engine');
  const { cacheKube } = await import('../cache/report-kube-client');
  const controller = new AbortController();
  const onInterrupt = () => {
    output.err('interrupted: finishing the current write, then stopping (re-run to resume)...\n');
    controller.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onInterrupt);
  // Under --json, stdout holds the JSON alone and the lines go to stderr.
  const progress = createProgress({ write: output.info, terminal: output.terminal });
  // The cache gate's figures per cluster (docs/measuring-the-cache.md), for --json: on success and in a failure's document.
  const cacheMeasurements: Record<string, unknown> = {};
  failureFields.cacheMeasurements = cacheMeasurements;
  try {
    const deps = {
      aws,
      kube,
      cacheKube: (c: string) => cacheKube(context(c), kubeOptions(c)),
      onCacheMeasured: (cluster: string, pools: unknown) => void (cacheMeasurements[cluster] = pools),
      log: stepLog(progress),
      signal: controller.signal,
      pollIntervalMs: args.pollIntervalMs,
    };
    const outcomes = await engine.runRollout(deps, plan, fleet.tags, resolved);
    progress.done();
    output.result({ cache: plan.cache.name, source: resolved.source, ok: true, clusters: outcomes, cacheMeasurements });
    if (!output.json)
      progress.line(`done: ${plan.cache.name} ${resolved.source} rolled out (${outcomes.map((o) => `${o.cluster} ${o.outcome}`).join(', ') || 'no cluster'})`);
    return 0;
  } finally {
    progress.done();
    process.removeListener('SIGINT', onInterrupt);
  }
}

/** How a rollout that stopped is reported: the label on stderr and the fields of its --json document. */
interface RolloutFailure {
  readonly label: 'FAILED' | 'blocked' | 'refused' | 'interrupted';
  /** @default the error's message */
  readonly message?: string;
  readonly details: Record<string, unknown>;
}

/** The one place a rollout's stop becomes its message and JSON (exit 1); undefined for an error nobody expected. */
function failureOf(
  e: unknown,
  engine: typeof import('./engine'),
  Mismatch: typeof import('../shared/cluster-identity').ClusterIdentityMismatch,
): RolloutFailure | undefined {
  if (e instanceof Mismatch) return { label: 'refused', details: { cluster: e.cluster, refused: e.message, clusters: [] } };
  if (e instanceof engine.RolloutFailed) {
    const { stage, cluster, pool, reason, leftovers, completed } = e;
    const message = `${e.message}${leftovers.length ? `\nleft after the rollback: ${leftovers.join('; ')}` : ''}`;
    return { label: 'FAILED', message, details: { stage, cluster, pool, reason, leftovers, clusters: completed } };
  }
  if (e instanceof engine.RolloutHeld)
    return { label: 'blocked', details: { blocked: true, stage: e.stage, cluster: e.cluster, holds: e.holds, clusters: e.completed } };
  if (e instanceof engine.RolloutApplyFailed) return { label: 'FAILED', details: { reason: e.message } };
  if (e instanceof engine.RolloutBlocked) return { label: 'blocked', details: { blocked: true, reason: e.message } };
  if (e instanceof engine.RolloutInterrupted)
    return { label: 'interrupted', message: 'parameters and node classes are consistent; re-run the same command to resume', details: { interrupted: true } };
  return undefined;
}

/** "77.8% (measured 2026-11-25T12:30:00.000Z)", or "-" when the rollout never measured the cluster. */
function hitRatioText(r: { cacheHitRatio?: number | null; cacheMeasured?: string }): string {
  if (r.cacheMeasured === undefined) return '-';
  return `${r.cacheHitRatio === null || r.cacheHitRatio === undefined ? '-' : `${Math.round(r.cacheHitRatio * 1000) / 10}%`} (measured ${r.cacheMeasured})`;
}

if (require.main === module) runAsProcess(main);
