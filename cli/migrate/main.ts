/**
 * bottlerocket-fleet migrate (npm run migrate --) drain --cluster <name> [--batch-size N|N%] [--selector <labels>] [--pending-timeout 5m]
 *                          [--health-timeout 15m] [--eviction-timeout 10m] [--pod-timeout <duration>]
 *                          [--skip-wait-for-delete-timeout <duration>] [--context <ctx>]
 *                          [--force] [--delete-emptydir-data] [--dry-run] [--json]
 * bottlerocket-fleet migrate remove-device-plugin --cluster <name> [--context <ctx>] [--dry-run] [--json]
 * Uses the user's kubeconfig; the cluster must be in the fleet file (FLEET_FILE or ./fleet.yaml).
 */
import type { KubeApi } from './kube';
import type { KubeOptions } from '../shared/kube/connection';
import { batchSize, oldNodes, planBatches } from './batches';
import { drain, DrainStopped } from './drain';
import { retryPolicyFor } from '../shared/kube/retry';
import { parseDuration } from '../shared/duration';
import { CliIo, commandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';
import { answering, CommandOutput } from '../shared/command-output';
import { createProgress, stepLog } from '../shared/progress';
import type { Progress, Terminal } from '../shared/progress';
import { ClusterIdentityMismatch } from '../shared/cluster-identity';
import type { Fleet } from '../../modules/fleet/load';

const USAGE = {
  drain: (
    p: string,
  ) => `${p} drain --cluster <name> [--batch-size N|N%] [--selector <labels>] [--pending-timeout 5m] [--health-timeout 15m] [--eviction-timeout 10m]
      [--pod-timeout <each pod's grace period + 1m, at most 1h>] [--skip-wait-for-delete-timeout <duration>] [--context <ctx>]
      [--force] [--delete-emptydir-data] [--dry-run] [--json] [--request-timeout 30s]
  Cordons and drains the cluster's old (non-Bottlerocket) nodes in batches through the Eviction API,
  waiting for the workloads to be healthy again after each batch. --json: the result on stdout, progress on stderr.
  --dry-run reads only and lists every pod that would stop a batch (or that a flag accepts), per node;
  when the drain would stop, it says so ("ok": false under --json) and exits 1.
`,
  'remove-device-plugin': (p: string) => `${p} remove-device-plugin --cluster <name> [--context <ctx>] [--dry-run] [--json] [--request-timeout 30s]
  Deletes the NVIDIA device plugin DaemonSet (Bottlerocket's NVIDIA variants bring their own).
  --dry-run reads the cluster and says whether the DaemonSet exists, i.e. what a run would delete.
`,
};

/** The usage of one subcommand, or of both. */
export function usage(prog: string, sub?: string): string {
  if (sub === 'drain' || sub === 'remove-device-plugin') return `usage: ${USAGE[sub](prog)}`;
  return `usage:\n${Object.values(USAGE)
    .map((u) => `  ${u(prog).replace(/\n(?=.)/g, '\n  ')}`)
    .join('\n')}
The cluster must be in the fleet file (FLEET_FILE or ./fleet.yaml). --context defaults to the kubeconfig context
named like the cluster (never the current context). Before any write (not with --dry-run) the context's server URL
and certificate authority must equal the cluster's endpoint and CA from EKS DescribeCluster; a mismatch changes
nothing and exits 1. Every request to the cluster has a deadline (--request-timeout, default 30s; connect 10s);
transient faults are retried for at most 2 minutes in all, then the command exits 1 naming the context, the
endpoint and the step. Exit codes: 0 done, 1 stopped by a check, 2 usage.
`;
}

/** What the command talks to; tests inject a clock and capture the output, the process uses the real ones. */
export interface MigrateDeps {
  /** @default the Kubernetes access layer (cli/shared/kube) on the kubeconfig at the context (--context, or the one named like the cluster) */
  readonly api?: (context: string) => KubeApi;
  /** Options of the access layer (kubeconfig file, deadlines, retry policy); --request-timeout overrides requestTimeoutMs. @default the user's kubeconfig, 30 s */
  readonly kube?: KubeOptions;
  /**
   * Refuses (ClusterIdentityMismatch) a context that is not the fleet's cluster; runs before any write.
   * @default the context's server and CA against EKS DescribeCluster (cli/shared/cluster-identity.ts)
   */
  readonly verifyCluster?: (cluster: { readonly name: string; readonly region: string }, context: string) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default process.stdout */
  readonly out?: (text: string) => void;
  /** @default process.stderr */
  readonly err?: (text: string) => void;
  /** Where progress is drawn. @default process.stderr when err is (none when err is injected) */
  readonly terminal?: Terminal;
}

const OPTIONS = {
  cluster: { type: 'string' },
  'batch-size': { type: 'string', default: '1' },
  selector: { type: 'string' },
  'pending-timeout': { type: 'string', default: '5m' },
  'health-timeout': { type: 'string', default: '15m' },
  'eviction-timeout': { type: 'string', default: '10m' },
  // No default: each evicted pod gets its own terminationGracePeriodSeconds + 1m, at most 1h (pods.ts).
  'pod-timeout': { type: 'string' },
  // No default: every evicted pod is waited for (kubectl's default 0).
  'skip-wait-for-delete-timeout': { type: 'string' },
  'poll-interval': { type: 'string', default: '5s' },
  'request-timeout': { type: 'string' },
  context: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  'delete-emptydir-data': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

/** Every duration of the command line, parsed before anything is read (a bad one is a usage error). */
interface Durations {
  readonly pendingMs: number;
  readonly healthMs: number;
  readonly evictionMs: number;
  readonly podMs?: number;
  readonly skipWaitMs?: number;
  readonly pollMs: number;
  readonly requestMs?: number;
}

/** The durations and the batch size's syntax, or the usage problem (checked before the kubeconfig or the network). */
function checkArguments(v: Record<string, string | boolean | undefined>, command: string): Durations | string {
  const opt = (name: string): string | undefined => {
    const value = v[name];
    return typeof value === 'string' ? value : undefined;
  };
  const duration = (name: string) => {
    const text = opt(name);
    if (text === undefined) return undefined;
    try {
      return parseDuration(text);
    } catch (e) {
      throw new Error(`--${name} ${text}: ${(e as Error).message}`, { cause: e });
    }
  };
  try {
    const d = {
      pendingMs: duration('pending-timeout')!,
      healthMs: duration('health-timeout')!,
      evictionMs: duration('eviction-timeout')!,
      podMs: duration('pod-timeout'),
      skipWaitMs: duration('skip-wait-for-delete-timeout'),
      pollMs: duration('poll-interval')!,
      requestMs: duration('request-timeout'),
    };
    // 0 would stop the drain on the first evicted pod that is not gone at once, however healthy its shutdown.
    if (command === 'drain' && d.podMs === 0) return `--pod-timeout ${opt('pod-timeout')}: must be more than 0 (leave it out for each pod's grace period + 1m)`;
    if (d.requestMs === 0) return `--request-timeout ${opt('request-timeout')}: must be more than 0`;
    batchSize(opt('batch-size') ?? '1', 1); // the syntax only; a percentage is resolved once the nodes are known
    return d;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Runs the command; returns the exit code (0 done, 1 stopped by a check, 2 usage). */
export async function main(argv: string[], deps: MigrateDeps = {}): Promise<number> {
  const io: CliIo = { out: deps.out ?? PROCESS_IO.out, err: deps.err ?? PROCESS_IO.err, terminal: deps.terminal ?? (deps.err ? undefined : process.stderr) };
  const prog = programName('migrate');
  const cl = commandLine(argv, OPTIONS, io, (p) => usage(prog, p[0]));
  if (cl.exit !== undefined) return cl.exit;
  const { values, positionals, output } = cl;
  const [command] = positionals;
  if (command !== 'drain' && command !== 'remove-device-plugin')
    return usageError(output, command ? `unknown command "${command}"` : 'missing command: drain or remove-device-plugin', usage(prog));
  if (!values.cluster) return usageError(output, 'missing option: --cluster <name>', usage(prog, command));
  const durations = checkArguments(values, command);
  if (typeof durations === 'string') return usageError(output, durations, usage(prog, command));
  return answering(output, () => migrate(command, values, durations, deps, output));
}

async function migrate(
  command: 'drain' | 'remove-device-plugin',
  values: Values,
  durations: Durations,
  deps: MigrateDeps,
  output: CommandOutput,
): Promise<number> {
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load'); // not needed by --help
  const cluster = loadFleet(fleetFileFromEnvironment()).clusters.find((c) => c.name === values.cluster);
  if (!cluster) return output.fail(2, `cluster "${values.cluster}" is not in the fleet file`);
  // Under --json, stdout holds the JSON alone and the lines go to stderr.
  const progress = createProgress({ write: output.info, terminal: output.terminal });
  const run: Run = { cluster, values, durations, progress, deps, output };
  try {
    return await (command === 'drain' ? runDrain(run) : removeDevicePlugin(run));
  } catch (e) {
    progress.done();
    // The cluster did not answer (deadline, refused, reset) or refused a call: exit 1, naming context, endpoint and step.
    const { KubeApiError, KubeContextError } = await import('../shared/kube/errors');
    if (!(e instanceof KubeApiError || e instanceof KubeContextError)) throw e;
    return output.fail(1, e.message, { label: command, details: { cluster: cluster.name } });
  }
}

type Values = ReturnType<typeof commandLine<typeof OPTIONS>>['values'] & {};
type FleetCluster = Fleet['clusters'][number];

/** One invocation, parsed and checked. */
interface Run {
  readonly cluster: FleetCluster;
  readonly values: Values;
  readonly durations: Durations;
  readonly progress: Progress;
  readonly deps: MigrateDeps;
  readonly output: CommandOutput;
}

/** Like the rollout's: the context named like the cluster, never whatever the kubeconfig's current context is. */
const contextOf = (r: Run): string => r.values.context ?? r.cluster.name;

/** The cluster as the command sees it: its API, and the identity check that runs before any write. */
interface Target {
  readonly api: KubeApi;
  readonly verify: () => Promise<void>;
}

/** The injected API, or the access layer on the cluster's context (whose kubeconfig the identity check reads). */
async function targetOf(r: Run): Promise<Target> {
  const cluster = r.cluster;
  if (r.deps.api) {
    const verify = r.deps.verifyCluster ?? verifyFromKubeconfig;
    return { api: r.deps.api(contextOf(r)), verify: () => verify(cluster, contextOf(r)) };
  }
  // Loaded only now: the Kubernetes client costs a second of start-up that usage errors need not pay.
  const [{ connectKube }, { verifyConnection }, { migrateKube }] = await Promise.all([
    import('../shared/kube/connection'),
    import('../shared/kube/identity'),
    import('./kube-client'),
  ]);
  const kube = connectKube(
    { cluster: cluster.name, context: r.values.context, region: cluster.region },
    {
      ...r.deps.kube,
      requestTimeoutMs: r.durations.requestMs ?? r.deps.kube?.requestTimeoutMs,
      now: r.deps.now,
      sleep: r.deps.sleep,
      log: stepLog(r.progress),
    },
  );
  const verify = r.deps.verifyCluster;
  return { api: migrateKube(kube), verify: () => (verify ? verify(cluster, kube.target.context) : verifyConnection(kube, cluster)) };
}

/** A dry run only reads; everything else writes (cordons, evictions, a deletion), so first: is this the cluster? The API, or the exit code when refused. */
async function checkedApi(r: Run): Promise<KubeApi | number> {
  const { api, verify } = await targetOf(r);
  if (r.values['dry-run']) return api;
  try {
    await verify();
    return api;
  } catch (e) {
    if (!(e instanceof ClusterIdentityMismatch)) throw e;
    return r.output.fail(1, e.message, { label: 'refused', details: { cluster: r.cluster.name, context: contextOf(r), refused: e.message } });
  }
}

async function removeDevicePlugin(r: Run): Promise<number> {
  const api = await checkedApi(r);
  if (typeof api === 'number') return api;
  const log = r.progress.line;
  const ds = { name: r.cluster.gpu?.daemonSetName ?? 'nvidia-device-plugin-daemonset', namespace: r.cluster.gpu?.namespace ?? 'kube-system' };
  const name = `DaemonSet ${ds.namespace}/${ds.name}`;
  if (r.values['dry-run']) {
    // Reads the cluster: what a run would delete, if anything.
    const found = await api.readDaemonSet(ds.namespace, ds.name);
    r.output.result({ cluster: r.cluster.name, daemonSet: ds, dryRun: true, deleted: false, exists: found !== undefined });
    if (!r.output.json) log(found ? `dry run: would delete ${name} (${found.desired} pod(s) scheduled)` : `dry run: ${name} does not exist; nothing to delete`);
    return 0;
  }
  const deleted = await api.deleteDaemonSet(ds.namespace, ds.name);
  r.output.result({ cluster: r.cluster.name, daemonSet: ds, dryRun: false, deleted });
  if (!r.output.json) log(deleted ? `deleted ${name}` : `${name} does not exist (already removed)`);
  return 0;
}

async function runDrain(r: Run): Promise<number> {
  const api = await checkedApi(r);
  if (typeof api === 'number') return api;
  const { values, durations: d, progress } = r;
  const nodes = oldNodes(await api.listNodes(values.selector), Boolean(values.selector));
  const size = batchSize(values['batch-size'], nodes.length);
  const result = { cluster: r.cluster.name, dryRun: values['dry-run'], batches: planBatches(nodes, size).map((b) => b.map((n) => n.name)) };
  try {
    const { drained, blockers } = await drain(api, {
      nodes,
      batchSize: size,
      dryRun: values['dry-run'],
      force: values.force,
      deleteEmptyDirData: values['delete-emptydir-data'],
      pendingTimeoutMs: d.pendingMs,
      healthTimeoutMs: d.healthMs,
      evictionTimeoutMs: d.evictionMs,
      podTimeoutMs: d.podMs,
      skipWaitForDeleteTimeoutMs: d.skipWaitMs,
      pollIntervalMs: d.pollMs,
      log: stepLog(progress),
      now: r.deps.now,
      sleep: r.deps.sleep,
      // Evictions are retried by the drain itself, within the same total as every other call.
      retry: retryPolicyFor(d.requestMs ?? r.deps.kube?.requestTimeoutMs, r.deps.kube?.retry),
    });
    progress.done();
    const done = { ...result, drained, ...(blockers ? { blockers } : {}) };
    if (blockers?.some((b) => b.stops))
      return r.output.fail(1, 'the drain would stop before cordoning (see the blockers above)', { label: 'stopped', details: done });
    r.output.result({ ...done, ok: true });
    return 0;
  } catch (e) {
    progress.done();
    if (!(e instanceof DrainStopped)) throw e;
    return r.output.fail(1, e.message, { label: 'stopped', details: { ...result, stopped: e.message } });
  }
}

/** The default check: the user's kubeconfig against EKS DescribeCluster in the cluster's region. */
async function verifyFromKubeconfig(cluster: { readonly name: string; readonly region: string }, context: string): Promise<void> {
  const { defaultKubeconfig, verifyClusterIdentity } = await import('../shared/cluster-identity');
  await verifyClusterIdentity({ cluster: cluster.name, region: cluster.region, context, kubeconfig: await defaultKubeconfig() });
}

if (require.main === module) runAsProcess(main);
