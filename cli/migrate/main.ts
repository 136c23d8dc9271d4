/**
 * bottlerocket-fleet migrate (npm run migrate --) drain --cluster <name> [--batch-size N|N%] [--selector <labels>] [--pending-timeout 5m]
 *                          [--health-timeout 15m] [--eviction-timeout 10m] [--pod-timeout <duration>]
 *                          [--skip-wait-for-delete-timeout <duration>] [--context <ctx>]
 *                          [--force] [--delete-emptydir-data] [--dry-run] [--json]
 * bottlerocket-fleet migrate remove-device-plugin --cluster <name> [--context <ctx>] [--dry-run] [--json]
 * Uses the user's kubeconfig; the cluster must be in the fleet file (FLEET_FILE or ./fleet.yaml).
 */
import type { KubeApi } from './kube';
import { batchSize, oldNodes, planBatches } from './batches';
import { drain, DrainStopped } from './drain';
import { parseDuration } from '../shared/duration';
import { commandLine, programName, runAsProcess, usageError } from '../shared/command-line';
import { createProgress, stepLog } from '../shared/progress';
import type { Terminal } from '../shared/progress';
import { ClusterIdentityMismatch } from '../shared/cluster-identity';
import { REQUEST_TIMEOUT_HELP, REQUEST_TIMEOUT_OPTION, requestTimeoutMs } from '../shared/request-timeout';

const USAGE = {
  drain: (
    p: string,
  ) => `${p} drain --cluster <name> [--batch-size N|N%] [--selector <labels>] [--pending-timeout 5m] [--health-timeout 15m] [--eviction-timeout 10m]
      [--pod-timeout <each pod's grace period + 1m, at most 1h>] [--skip-wait-for-delete-timeout <duration>] [--context <ctx>]
      [--force] [--delete-emptydir-data] [--dry-run] [--json]
  Cordons and drains the cluster's old (non-Bottlerocket) nodes in batches through the Eviction API,
  waiting for the workloads to be healthy again after each batch. --json: the result on stdout, progress on stderr.
`,
  'remove-device-plugin': (p: string) => `${p} remove-device-plugin --cluster <name> [--context <ctx>] [--dry-run] [--json]
  Deletes the NVIDIA device plugin DaemonSet (Bottlerocket's NVIDIA variants bring their own).
`,
};

/** The usage of one subcommand, or of both. */
export function usage(prog: string, sub?: string): string {
  if (sub === 'drain' || sub === 'remove-device-plugin') return `usage: ${USAGE[sub](prog)}${REQUEST_TIMEOUT_HELP}\n`;
  return `usage:\n${Object.values(USAGE)
    .map((u) => `  ${u(prog).replace(/\n(?=.)/g, '\n  ')}`)
    .join('\n')}
The cluster must be in the fleet file (FLEET_FILE or ./fleet.yaml). --context defaults to the kubeconfig context
named like the cluster (never the current context). Before any write (not with --dry-run) the context's server URL
and certificate authority must equal the cluster's endpoint and CA from EKS DescribeCluster; a mismatch changes
nothing and exits 1.
${REQUEST_TIMEOUT_HELP}
Exit codes: 0 done, 1 stopped by a check, 2 usage.
`;
}

/** What the command talks to; tests inject a clock and capture the output, the process uses the real ones. */
export interface MigrateDeps {
  /** @default the kubeconfig's API (KUBECONFIG or ~/.kube/config) at the context (--context, or the one named like the cluster) */
  readonly api?: (context: string) => KubeApi;
  /**
   * Refuses (ClusterIdentityMismatch) a context that is not the fleet's cluster; runs before any write.
   * @default the context's server and CA against EKS DescribeCluster (cli/shared/cluster-identity.ts)
   */
  readonly verifyCluster?: (cluster: { readonly name: string; readonly region: string }, context: string, requestTimeoutMs: number) => Promise<void>;
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

/** Runs the command; returns the exit code (0 done, 1 stopped by a check, 2 usage). */
export async function main(argv: string[], deps: MigrateDeps = {}): Promise<number> {
  const out =
    deps.out ??
    ((t: string) => {
      process.stdout.write(t);
    });
  const err =
    deps.err ??
    ((t: string) => {
      process.stderr.write(t);
    });
  const prog = programName('migrate');
  const cl = commandLine(
    argv,
    {
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
      context: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      'delete-emptydir-data': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...REQUEST_TIMEOUT_OPTION,
    },
    { out, err },
    (p) => usage(prog, p[0]),
  );
  if (cl.exit !== undefined) return cl.exit;
  const { values, positionals } = cl;
  const [command] = positionals;
  if (command !== 'drain' && command !== 'remove-device-plugin')
    return usageError({ out, err }, command ? `unknown command "${command}"` : 'missing command: drain or remove-device-plugin', usage(prog));
  if (!values.cluster) return usageError({ out, err }, 'missing option: --cluster <name>', usage(prog, command));
  // The per-request limit of the identity check's EKS call; the Kubernetes access layer takes the same (issue 27).
  const timeoutMs = requestTimeoutMs(values['request-timeout']);
  // 0 would stop the drain on the first evicted pod that is not gone at once, however healthy its shutdown.
  if (command === 'drain' && values['pod-timeout'] !== undefined && parseDuration(values['pod-timeout']) === 0)
    return usageError(
      { out, err },
      `--pod-timeout ${values['pod-timeout']}: must be more than 0 (leave it out for each pod's grace period + 1m)`,
      usage(prog, command),
    );
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load'); // not needed by --help
  const cluster = loadFleet(fleetFileFromEnvironment()).clusters.find((c) => c.name === values.cluster);
  if (!cluster) {
    err(`cluster "${values.cluster}" is not in the fleet file\n`);
    return 2;
  }
  // Like the rollout's: the context named like the cluster, never whatever the kubeconfig's current context is.
  const context = values.context ?? cluster.name;
  // Loaded only now: @kubernetes/client-node costs a second of start-up that usage errors need not pay.
  const api = (deps.api ?? (await import('./kube-client')).kubeApiFromKubeconfig)(context);
  const json = (obj: unknown) => out(`${JSON.stringify(obj, null, 2)}\n`);
  // Under --json, stdout holds the JSON alone and the lines go to stderr.
  const progress = createProgress({ write: values.json ? err : out, terminal: deps.terminal ?? (deps.err ? undefined : process.stderr) });
  const log = progress.line;

  // A dry run only reads; everything else writes (cordons, evictions, a deletion), so first: is this the cluster?
  if (!values['dry-run']) {
    try {
      await (deps.verifyCluster ?? verifyFromKubeconfig)(cluster, context, timeoutMs);
    } catch (e) {
      if (!(e instanceof ClusterIdentityMismatch)) throw e;
      if (values.json) json({ cluster: cluster.name, context, ok: false, refused: e.message });
      err(`refused: ${e.message}\n`);
      return 1;
    }
  }

  if (command === 'remove-device-plugin') {
    const ds = { name: cluster.gpu?.daemonSetName ?? 'nvidia-device-plugin-daemonset', namespace: cluster.gpu?.namespace ?? 'kube-system' };
    if (values['dry-run']) {
      if (values.json) json({ cluster: cluster.name, daemonSet: ds, dryRun: true, deleted: false });
      else log(`dry run: would delete DaemonSet ${ds.namespace}/${ds.name}`);
      return 0;
    }
    const deleted = await api.deleteDaemonSet(ds.namespace, ds.name);
    if (values.json) json({ cluster: cluster.name, daemonSet: ds, dryRun: false, deleted });
    else log(deleted ? `deleted DaemonSet ${ds.namespace}/${ds.name}` : `DaemonSet ${ds.namespace}/${ds.name} does not exist (already removed)`);
    return 0;
  }

  const nodes = oldNodes(await api.listNodes(values.selector), Boolean(values.selector));
  const size = batchSize(values['batch-size'], nodes.length);
  const result = { cluster: cluster.name, dryRun: values['dry-run'], batches: planBatches(nodes, size).map((b) => b.map((n) => n.name)) };
  try {
    const { drained } = await drain(api, {
      nodes,
      batchSize: size,
      dryRun: values['dry-run'],
      force: values.force,
      deleteEmptyDirData: values['delete-emptydir-data'],
      pendingTimeoutMs: parseDuration(values['pending-timeout']),
      healthTimeoutMs: parseDuration(values['health-timeout']),
      evictionTimeoutMs: parseDuration(values['eviction-timeout']),
      podTimeoutMs: values['pod-timeout'] === undefined ? undefined : parseDuration(values['pod-timeout']),
      skipWaitForDeleteTimeoutMs: values['skip-wait-for-delete-timeout'] === undefined ? undefined : parseDuration(values['skip-wait-for-delete-timeout']),
      pollIntervalMs: parseDuration(values['poll-interval']),
      log: stepLog(progress),
      now: deps.now,
      sleep: deps.sleep,
    });
    progress.done();
    if (values.json) json({ ...result, ok: true, drained });
    return 0;
  } catch (e) {
    progress.done();
    if (e instanceof DrainStopped) {
      if (values.json) json({ ...result, ok: false, stopped: e.message });
      err(`stopped: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** The default check: the user's kubeconfig against EKS DescribeCluster in the cluster's region. */
async function verifyFromKubeconfig(cluster: { readonly name: string; readonly region: string }, context: string, requestTimeoutMs: number): Promise<void> {
  const { defaultKubeconfig, describeEksCluster, verifyClusterIdentity } = await import('../shared/cluster-identity');
  const aws = (await import('../shared/aws-clients')).awsClients({ requestTimeoutMs, step: 'migrate: identity check' });
  const describe = (name: string, region: string) => describeEksCluster(name, region, undefined, aws);
  await verifyClusterIdentity({ cluster: cluster.name, region: cluster.region, context, kubeconfig: await defaultKubeconfig(), describe });
}

if (require.main === module) runAsProcess(main);
