/**
 * npm run migrate -- drain --cluster <name> [--batch-size N|N%] [--selector <labels>] [--pending-timeout 5m]
 *                          [--health-timeout 15m] [--eviction-timeout 10m] [--context <ctx>] [--force] [--dry-run]
 * npm run migrate -- remove-device-plugin --cluster <name> [--context <ctx>] [--dry-run]
 * Uses the user's kubeconfig; the cluster must be in the fleet file (FLEET_FILE or ./fleet.yaml).
 */
import { parseArgs } from 'util';
import { fleetFileFromEnvironment, loadFleet } from '../../modules/fleet/load';
import type { KubeApi } from './kube';
import { batchSize, oldNodes } from './batches';
import { drain, DrainStopped } from './drain';
import { parseDuration } from '../shared/duration';
import { exitCodeFor } from '../shared/exit-code';

const USAGE = 'usage: npm run migrate -- drain --cluster <name> [--batch-size N|N%] [--selector <labels>] [--pending-timeout 5m] [--health-timeout 15m] [--force] [--dry-run]\n'
  + '       npm run migrate -- remove-device-plugin --cluster <name> [--dry-run]\n';

/** What the command talks to; tests inject a clock and capture the output, the process uses the real ones. */
export interface MigrateDeps {
  /** @default the kubeconfig's API (KUBECONFIG or ~/.kube/config, --context) */
  readonly api?: (context?: string) => KubeApi;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default process.stdout */
  readonly out?: (text: string) => void;
  /** @default process.stderr */
  readonly err?: (text: string) => void;
}

/** Runs the command; returns the exit code (0 done, 1 stopped by a check, 2 usage). */
export async function main(argv: string[], deps: MigrateDeps = {}): Promise<number> {
  const out = deps.out ?? ((t: string) => { process.stdout.write(t); });
  const err = deps.err ?? ((t: string) => { process.stderr.write(t); });
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      cluster: { type: 'string' },
      'batch-size': { type: 'string', default: '1' },
      selector: { type: 'string' },
      'pending-timeout': { type: 'string', default: '5m' },
      'health-timeout': { type: 'string', default: '15m' },
      'eviction-timeout': { type: 'string', default: '10m' },
      'poll-interval': { type: 'string', default: '5s' },
      context: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    },
  });
  const [command] = positionals;
  if (!command || !values.cluster || !['drain', 'remove-device-plugin'].includes(command)) {
    err(USAGE);
    return 2;
  }
  const cluster = loadFleet(fleetFileFromEnvironment()).clusters.find((c) => c.name === values.cluster);
  if (!cluster) {
    err(`cluster "${values.cluster}" is not in the fleet file\n`);
    return 2;
  }
  // Loaded only now: @kubernetes/client-node costs a second of start-up that usage errors need not pay.
  const api = (deps.api ?? (await import('./kube-client')).kubeApiFromKubeconfig)(values.context);
  const log = (line: string) => out(`${line}\n`);

  if (command === 'remove-device-plugin') {
    const ds = { name: cluster.gpu?.daemonSetName ?? 'nvidia-device-plugin-daemonset', namespace: cluster.gpu?.namespace ?? 'kube-system' };
    if (values['dry-run']) {
      log(`dry run: would delete DaemonSet ${ds.namespace}/${ds.name}`);
      return 0;
    }
    log(await api.deleteDaemonSet(ds.namespace, ds.name) ? `deleted DaemonSet ${ds.namespace}/${ds.name}` : `DaemonSet ${ds.namespace}/${ds.name} does not exist (already removed)`);
    return 0;
  }

  const nodes = oldNodes(await api.listNodes(values.selector), Boolean(values.selector));
  try {
    await drain(api, {
      nodes,
      batchSize: batchSize(values['batch-size'], nodes.length),
      dryRun: values['dry-run'],
      force: values.force,
      pendingTimeoutMs: parseDuration(values['pending-timeout']),
      healthTimeoutMs: parseDuration(values['health-timeout']),
      evictionTimeoutMs: parseDuration(values['eviction-timeout']),
      pollIntervalMs: parseDuration(values['poll-interval']),
      log,
      now: deps.now,
      sleep: deps.sleep,
    });
    return 0;
  } catch (e) {
    if (e instanceof DrainStopped) {
      err(`stopped: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = exitCodeFor(e);
  });
}
