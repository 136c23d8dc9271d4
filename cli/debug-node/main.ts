/**
 * bottlerocket-fleet debug-node (npm run debug-node --) <node> [--cluster <name>] [--context <name>] [--print] [--json] [--image <ref>] [--request-timeout 30s]
 * Opens a root shell on a Bottlerocket node through `kubectl debug` (see docs/migration.md, "Node debugging without SSH").
 */
import { spawnSync } from 'child_process';
import { debugNodeCommand, DEFAULT_ADMIN_IMAGE, shellQuote } from './command';
import type { NodeSummary } from './node-check';
import type { KubeOptions } from '../shared/kube/connection';
import { requestTimeoutMs as parseRequestTimeout } from '../shared/request-timeout';
import { CliIo, commandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';

export function usage(prog: string): string {
  return `usage: ${prog} <node> [--print] [--json] [--image <ref>] [--context <name>] [--cluster <name>] [--request-timeout 30s]
  Opens a root shell on a Bottlerocket node: kubectl debug node/<node> with the admin image and the
  sysadmin profile (no SSH, no admin host container). kubectl's exit code is the command's.
  --cluster <name> the fleet file's cluster (FLEET_FILE or ./fleet.yaml; default: its only cluster)
  --context <name> the kubeconfig context (default: the one named like the cluster; never the current context)
  --print          print the kubectl command instead of running it
  --json           print it as JSON ({"argv": [...]}) instead of running it
  --image <ref>    the debug image (default ${DEFAULT_ADMIN_IMAGE})
  --request-timeout d  limit of each request of the node check (default 30s; the check gives up after at
                   most 2 minutes in all and exits 1 naming context, endpoint and step); when given, also passed to
                   kubectl as its --request-timeout (left out, kubectl's default applies to the interactive session)
Before kubectl runs, the node is read at that context (a node that does not exist there exits 1), and the
context's server and CA must equal the cluster's endpoint and CA from EKS DescribeCluster (else exit 1).
`;
}

/** What the command runs; tests inject fakes, the process runs kubectl attached to the terminal. */
export interface DebugNodeDeps extends CliIo {
  /** @default spawnSync with the terminal inherited */
  readonly run?: (argv: string[]) => { status: number | null; error?: Error };
  /** The node check. @default a read of the node through the Kubernetes access layer (node-check.ts) */
  readonly readNode?: (choice: { cluster: string; context: string }, node: string) => Promise<NodeSummary | undefined>;
  /**
   * Refuses (ClusterIdentityMismatch) a context that is not the fleet's cluster, before kubectl creates its pod.
   * @default the context's server and CA against EKS DescribeCluster (cli/shared/cluster-identity.ts)
   */
  readonly verifyCluster?: (cluster: { readonly name: string; readonly region: string }, context: string) => Promise<void>;
  /** Options of the access layer (kubeconfig file, deadlines); --request-timeout overrides requestTimeoutMs. */
  readonly kube?: KubeOptions;
}

const OPTIONS = {
  print: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  image: { type: 'string' },
  context: { type: 'string' },
  cluster: { type: 'string' },
  'request-timeout': { type: 'string' },
} as const;

type Cluster = { readonly name: string; readonly region: string };

/** The cluster named by --cluster, else the fleet file's only one; a problem is a usage message. */
async function clusterOf(name: string | undefined): Promise<Cluster | { problem: string }> {
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load');
  const clusters = loadFleet(fleetFileFromEnvironment()).clusters;
  const names = clusters.map((c) => c.name).join(', ');
  if (name !== undefined) return clusters.find((c) => c.name === name) ?? { problem: `cluster "${name}" is not in the fleet file (known: ${names})` };
  return clusters.length === 1 ? clusters[0] : { problem: `name the cluster: --cluster <name> (the fleet file has ${names || 'none'})` };
}

/** Runs the command; returns the exit code (kubectl's, 127 when kubectl cannot run, 1 node check failed, 2 usage). */
export async function main(argv: string[], deps: DebugNodeDeps = PROCESS_IO): Promise<number> {
  const prog = programName('debug-node');
  const cl = commandLine(argv, OPTIONS, deps, () => usage(prog));
  if (cl.exit !== undefined) return cl.exit;
  const { values, positionals, output } = cl;
  if (positionals.length !== 1)
    return usageError(output, positionals.length === 0 ? 'missing argument: the node name' : `one node at a time (got ${positionals.length})`, usage(prog));
  let requestTimeoutMs: number | undefined;
  try {
    // A usage error unless a duration above 0 (request-timeout.ts); undefined: the access layer's default.
    requestTimeoutMs = values['request-timeout'] === undefined ? undefined : parseRequestTimeout(values['request-timeout']);
  } catch (e) {
    return usageError(output, (e as Error).message, usage(prog));
  }
  const cluster = await clusterOf(values.cluster);
  if (!('name' in cluster)) return usageError(output, cluster.problem, usage(prog));
  // Never the kubeconfig's current context: the one given, else the one named like the cluster.
  const context = values.context ?? cluster.name;
  let command: string[];
  try {
    command = debugNodeCommand({ node: positionals[0], image: values.image, context, requestTimeout: values['request-timeout'] });
  } catch (e) {
    return usageError(output, (e as Error).message, usage(prog));
  }
  if (values.json) {
    output.result({ argv: command });
    return 0;
  }
  if (values.print) {
    deps.out(`${shellQuote(command)}\n`);
    return 0;
  }
  const checked = await checkTarget(deps, cluster, context, positionals[0], requestTimeoutMs);
  if (checked !== undefined) return checked;
  const r = (deps.run ?? ((a: string[]) => spawnSync(a[0], a.slice(1), { stdio: 'inherit' })))(command);
  if (r.error) {
    deps.err(`could not run kubectl: ${r.error.message}\n`);
    return 127;
  }
  return r.status ?? 1;
}

/** Reads the node at the context, then checks the context is the cluster; the exit code when no shell may open, undefined when it may. */
async function checkTarget(deps: DebugNodeDeps, cluster: Cluster, context: string, node: string, requestTimeoutMs?: number): Promise<number | undefined> {
  const { KubeApiError, KubeContextError } = await import('../shared/kube/errors');
  const { ClusterIdentityMismatch } = await import('../shared/cluster-identity');
  const kube = { log: (line: string) => deps.err(`${line}\n`), ...deps.kube, requestTimeoutMs: requestTimeoutMs ?? deps.kube?.requestTimeoutMs };
  let found: NodeSummary | undefined;
  try {
    const read = deps.readNode ?? (async (c, n) => (await import('./node-check')).readNode(c, n, kube));
    found = await read({ cluster: cluster.name, context }, node);
    if (found) await (deps.verifyCluster ?? verifyContext(kube.kubeconfig))(cluster, context);
  } catch (e) {
    if (e instanceof ClusterIdentityMismatch) {
      deps.err(`refused: ${e.message}\n`);
      return 1;
    }
    if (!(e instanceof KubeApiError || e instanceof KubeContextError)) throw e;
    deps.err(`debug-node: ${e.message}\n`);
    return 1;
  }
  if (!found) {
    deps.err(`debug-node: node ${node} does not exist at kubeconfig context "${context}" (kubectl get nodes lists them)\n`);
    return 1;
  }
  if (!/bottlerocket/i.test(found.osImage)) deps.err(`warning: node ${node} runs "${found.osImage}", not Bottlerocket: sheltie and apiclient are not there\n`);
  return undefined;
}

/** The default identity check: the context's server and CA against EKS DescribeCluster (kubectl debug creates a pod: a write). */
const verifyContext = (kubeconfig?: string) => async (cluster: Cluster, context: string) => {
  const [{ verifyClusterIdentity }, { loadKubeconfig }] = await Promise.all([import('../shared/cluster-identity'), import('../shared/kube/kubeconfig')]);
  await verifyClusterIdentity({ cluster: cluster.name, region: cluster.region, context, kubeconfig: loadKubeconfig(kubeconfig) });
};

if (require.main === module) runAsProcess(main);
