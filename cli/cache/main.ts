/**
 * bottlerocket-fleet cache (npm run cache --) build <cache...> [--dry-run] [--json] | list | gc | report
 * Builds image-cache snapshots for caches of the fleet file (FLEET_FILE or ./fleet.yaml), in parallel
 * when several are named. --dry-run makes no AWS call and prints the planned calls. `report` measures
 * the caches on a cluster (docs/measuring-the-cache.md).
 */
import type { Fleet, ImageCache } from '../../modules/fleet/load';
import type { ClientsFor } from './inventory';
import type { BuilderDeps } from './builder';
import type { CacheKube } from './report-kube';
import type { KubeOptions } from '../shared/kube/connection';
import { parseDuration } from '../shared/duration';
import { CliIo, commandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';
import { answering, CommandOutput } from '../shared/command-output';
import { createProgress } from '../shared/progress';
import { KubeRequestOptions, REQUEST_TIMEOUT_HELP, requestTimeoutMs } from '../shared/request-timeout';
import { LazyAwsClients, lazyAwsClients } from '../shared/lazy-aws';

const SUBCOMMANDS = {
  build: (p: string) => `${p} build <cache...> [--dry-run] [--json]
  Builds each named image cache's snapshot (in parallel when several are named) and writes its ID to SSM.
  --dry-run   make no AWS call; print the calls the build would make
  --json      the result as JSON on stdout (progress lines go to stderr)
`,
  list: (p: string) => `${p} list [<cache...>] [--json]
  Per cache and region: the current and previous snapshot, and what the builder recorded for the current
  generation: Bottlerocket release, kernel release, data-volume fill, images (--json: each with its digest);
  the current snapshot's owner, build ID, whether the history names it, and what fails if it is not a
  trusted build (docs/security-model.md).
`,
  gc: (p: string) => `${p} gc [<cache...>] [--older-than 6h] [--dry-run] [--json]
  Terminates this fleet's builder instances older than --older-than (left by a crash) and deletes its
  home-region snapshots that no parameter, history or cluster parameter names and no running build
  is writing. --dry-run only lists them.
`,
  report: (p: string) => `${p} report --cluster <name> [--context <ctx>] [--since 1h] [--slow-start 60s] [--json] [--html <file>] [--request-timeout 30s]
  Measures the caches on a cluster from its NodeClaims, Nodes, Pods and Events: per Karpenter pool, the
  nodes launched in the window and their start-up, each image's hits and pulls against the names the
  pool's cache records for the cluster's region, slow starts, suggestions, pod start-up.
  --context      kubeconfig context (default: one named like the cluster)
  --since        window: nodes launched this long ago or later (default 1h; EKS keeps events about an hour)
  --slow-start   image present but container started this much later (default 60s)
  --json         the report as JSON on stdout
  --html <file>  also write a self-contained page with charts to <file>
  (--request-timeout limits each request to the cluster too; transient faults are retried for at most 2 minutes
  in all, then the report exits 1 naming the context, endpoint and step)
`,
};
type Subcommand = keyof typeof SUBCOMMANDS;
const isSubcommand = (s: string | undefined): s is Subcommand => s !== undefined && s in SUBCOMMANDS;

/** The usage of one subcommand, or of all of them. */
export function usage(prog: string, sub?: string): string {
  if (isSubcommand(sub)) return `usage: ${SUBCOMMANDS[sub](prog)}${REQUEST_TIMEOUT_HELP}\n`;
  return `usage:\n${Object.values(SUBCOMMANDS)
    .map((u) => `  ${u(prog).replace(/\n(?=.)/g, '\n  ')}`)
    .join('\n')}
${REQUEST_TIMEOUT_HELP}
Caches are those of the fleet file (FLEET_FILE or ./fleet.yaml). Exit codes: 0 done, 1 failed, 2 usage.
`;
}

/** What the command talks to; tests inject fakes, the process builds real SDK clients. */
export interface CacheDeps extends CliIo {
  /** EC2 and SSM in a region, for list and gc. @default SDK clients */
  readonly clients?: ClientsFor;
  /** This account's ID, for the provenance checks of `list`. @default sts:GetCallerIdentity */
  readonly accountId?: () => Promise<string>;
  /** The AWS clients of one cache's build. @default SDK clients in its home region, adaptive retries */
  readonly buildClients?: (cache: ImageCache) => Promise<Pick<BuilderDeps, 'ec2' | 'ssm' | 'ssmIn' | 'ecr'>>;
  /** Passed to each build (tests: a virtual clock). */
  readonly buildOptions?: Pick<BuilderDeps, 'now' | 'sleep'> & { pollIntervalMs?: number };
  /** The cluster `report` reads, by kubeconfig context, with --request-timeout. @default the Kubernetes access layer (cli/shared/kube) on the user's kubeconfig */
  readonly reportKube?: (context: string, options: KubeRequestOptions) => CacheKube;
  /** Options of the Kubernetes access layer for `report` (kubeconfig file, deadlines); --request-timeout overrides requestTimeoutMs. */
  readonly kube?: KubeOptions;
  /** @default Date.now */
  readonly now?: () => number;
  /** A cluster's running Kubernetes version, for the version a build runs on (build-version.ts). @default EKS DescribeCluster */
  readonly runningVersion?: import('../shared/eks-versions').RunningVersion;
}

const OPTIONS = {
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  'older-than': { type: 'string', default: '6h' },
  cluster: { type: 'string' },
  context: { type: 'string' },
  since: { type: 'string', default: '1h' },
  'slow-start': { type: 'string', default: '60s' },
  html: { type: 'string' },
  // No default here: left out, the factory's default applies to AWS and the access layer's (or an injected one) to the cluster.
  'request-timeout': { type: 'string' },
} as const;

interface CacheValues {
  readonly 'dry-run': boolean;
  readonly 'older-than': string;
  readonly cluster?: string;
  readonly context?: string;
  readonly since: string;
  readonly 'slow-start': string;
  readonly html?: string;
  readonly 'request-timeout'?: string;
}

/** The command line, checked before the fleet file is read or AWS is called. */
export interface CacheArguments {
  readonly command: Subcommand;
  /** The caches named (build, list, gc). */
  readonly names: readonly string[];
  readonly dryRun: boolean;
  readonly olderThanMs: number;
  /** --request-timeout: each request to AWS or the cluster (request-timeout.ts; the default when left out). */
  readonly requestTimeoutMs: number;
  /** Whether --request-timeout was given (else the access layer keeps its own, or an injected, limit). */
  readonly requestTimeoutGiven: boolean;
  /** report: the cluster, the kubeconfig context, the window, the slow-start threshold and the HTML file. */
  readonly report: {
    readonly cluster?: string;
    readonly context?: string;
    readonly sinceMs: number;
    readonly slowStartMs: number;
    readonly html?: string;
  };
}

/** The checked arguments, or the usage problem and which subcommand's usage to show. Pure. */
export function cacheArguments(values: CacheValues, positionals: string[]): CacheArguments | { readonly problem: string; readonly sub?: Subcommand } {
  const [command, ...names] = positionals;
  if (!isSubcommand(command)) return { problem: command ? `unknown command "${command}"` : 'missing command: build, list, gc or report' };
  if (command === 'build' && names.length === 0) return { problem: 'missing argument: the name of the cache(s) to build', sub: command };
  if (command === 'report' && names.length > 0) return { problem: `unexpected argument(s): ${names.join(' ')}`, sub: command };
  if (command === 'report' && !values.cluster) return { problem: 'missing --cluster <name>', sub: command };
  const durations: Record<string, number> = {};
  let timeoutMs: number;
  try {
    timeoutMs = requestTimeoutMs(values['request-timeout']);
  } catch (e) {
    return { problem: (e as Error).message, sub: command };
  }
  for (const flag of ['older-than', 'since', 'slow-start'] as const) {
    const value = values[flag];
    try {
      durations[flag] = parseDuration(value);
    } catch (e) {
      return { problem: `--${flag}: ${(e as Error).message}`, sub: command };
    }
  }
  const { cluster, context, html } = values;
  return {
    command,
    names,
    dryRun: values['dry-run'],
    olderThanMs: durations['older-than'],
    requestTimeoutMs: timeoutMs,
    requestTimeoutGiven: values['request-timeout'] !== undefined,
    report: { cluster, context, html, sinceMs: durations.since, slowStartMs: durations['slow-start'] },
  };
}

/** Runs the command; returns the exit code (0 done, 1 a build failed, 2 usage). */
export async function main(argv: string[], deps: CacheDeps = PROCESS_IO): Promise<number> {
  const prog = programName('cache');
  const cl = commandLine(argv, OPTIONS, deps, (p) => usage(prog, p[0]));
  if (cl.exit !== undefined) return cl.exit;
  const args = cacheArguments(cl.values, cl.positionals);
  if ('problem' in args) return usageError(cl.output, args.problem, usage(prog, args.sub));
  return answering(cl.output, () => run(args, deps, cl.output, prog));
}

async function run(args: CacheArguments, deps: CacheDeps, output: CommandOutput, prog: string): Promise<number> {
  // Loaded only now, like every module below: --help and usage errors need not pay for the fleet loader or the SDK.
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load');
  const fleet = loadFleet(fleetFileFromEnvironment());
  if (args.command === 'report') return report(args, fleet, deps, output, prog);
  const unknown = args.names.filter((n) => !fleet.imageCaches.some((c) => c.name === n));
  if (unknown.length > 0) return output.fail(2, `unknown image cache(s): ${unknown.join(', ')} (known: ${fleet.imageCaches.map((c) => c.name).join(', ')})`);
  const named = args.names.length > 0 ? args.names.map((n) => fleet.imageCaches.find((c) => c.name === n)!) : fleet.imageCaches;
  if (args.command === 'list' || args.command === 'gc') return listOrCollect(args, fleet, named, deps, output);
  if (args.dryRun) {
    // No SDK client is even constructed.
    const { dryRunJson, dryRunLines } = await import('./plan');
    output.result(dryRunJson(named));
    if (!output.json) output.out(`dry run: no AWS call is made\n${named.flatMap(dryRunLines).join('\n')}\n`);
    return 0;
  }
  return build(await buildVersions(fleet, named, deps, output, args.requestTimeoutMs), deps, output, args.requestTimeoutMs);
}

/** The lowest version among the fleet file and the running clusters that use each cache (build-version.ts). */
async function buildVersions(fleet: Fleet, caches: readonly ImageCache[], deps: CacheDeps, output: CommandOutput, timeoutMs: number): Promise<ImageCache[]> {
  const { buildVersionFor } = await import('./build-version');
  const running =
    deps.runningVersion ?? (await import('../shared/eks-versions')).sdkRunningVersion(lazyAwsClients({ requestTimeoutMs: timeoutMs, step: 'cache build' }));
  const versions = await Promise.all(caches.map((c) => buildVersionFor(fleet, c, running)));
  for (const v of versions) if (v.note) output.info(`${v.note}\n`);
  return versions.map((v) => v.cache);
}

/** `cache list` and `cache gc`: a table (with a header row) or the JSON rows. */
async function listOrCollect(args: CacheArguments, fleet: Fleet, caches: readonly ImageCache[], deps: CacheDeps, output: CommandOutput): Promise<number> {
  const inventory = await import('./inventory');
  // On a terminal, an AWS call that takes a while is named on the status line (list and gc print nothing until done).
  const waiting = createProgress({ write: output.info, terminal: output.terminal });
  const aws = lazyAwsClients({ requestTimeoutMs: args.requestTimeoutMs, step: `cache ${args.command}`, progress: waiting });
  const clients = deps.clients ?? (await sdkClients(aws));
  const { rolloutClustersOf } = await import('../../modules/fleet/stacks');
  const { listTable, gcTable } = await import('./list-text');
  if (args.command === 'list') {
    const rows = await inventory.listCaches(caches, clients, deps.accountId ?? sdkAccountId(aws, caches[0]?.homeRegion)).finally(() => waiting.done());
    output.result(rows);
    if (!output.json) output.out(listTable(rows));
    return 0;
  }
  const actions = await inventory
    .collectGarbage(caches, clients, {
      olderThanMs: args.olderThanMs,
      dryRun: args.dryRun,
      clusterParameters: inventory.rolloutClusterParameters((cache) => rolloutClustersOf(fleet, cache)),
    })
    .finally(() => waiting.done());
  output.result(actions);
  if (!output.json) output.out(gcTable(actions));
  // Under --json stdout holds the JSON alone.
  if (args.dryRun) output.info('dry run: nothing was terminated or deleted\n');
  return 0;
}

/** Builds the caches in parallel; Ctrl-C cleans up every build. Exit 1 when any build failed. */
async function build(caches: readonly ImageCache[], deps: CacheDeps, output: CommandOutput, timeoutMs: number): Promise<number> {
  const { buildCache } = await import('./builder');
  const controller = new AbortController();
  const onInterrupt = () => {
    output.err('interrupted: cleaning up...\n');
    controller.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onInterrupt);
  const progress = createProgress({ write: output.info, terminal: deps.terminal });
  // No step in the clients' errors: a BuildError names the cache and the build step it failed in.
  const buildClients = deps.buildClients ?? sdkBuildClients(lazyAwsClients({ requestTimeoutMs: timeoutMs, progress }));
  // Test-only: BRF_POLL_INTERVAL_MS shortens the 5 s poll interval (the process tests against the AWS emulator).
  const pollIntervalMs = deps.buildOptions?.pollIntervalMs ?? (process.env.BRF_POLL_INTERVAL_MS ? Number(process.env.BRF_POLL_INTERVAL_MS) : undefined);
  const buildOne = async (cache: ImageCache) => {
    try {
      const clients = await buildClients(cache);
      const onStep = (step: string) => progress.step(step, cache.name);
      return await buildCache(
        { ...clients, ...deps.buildOptions, log: progress.line, onStep, signal: controller.signal },
        cache,
        pollIntervalMs ? { pollIntervalMs } : {},
      );
    } finally {
      progress.end(cache.name);
    }
  };
  let results;
  try {
    results = await Promise.allSettled(caches.map(buildOne));
  } finally {
    progress.done();
    process.removeListener('SIGINT', onInterrupt);
  }
  const summary = results.map((r, i) =>
    r.status === 'fulfilled' ? { ok: true, ...r.value } : { ok: false, cache: caches[i].name, error: (r.reason as Error).message },
  );
  // One document either way: every cache's result (a failed one with ok: false and its error); the exit code says whether all succeeded.
  output.result(summary);
  if (!output.json)
    for (const s of summary) output.out(s.ok ? `OK   ${s.cache}: ${(s as { snapshotId: string }).snapshotId}\n` : `FAIL ${(s as { error: string }).error}\n`);
  return summary.every((s) => s.ok) ? 0 : 1;
}

/** `cache report`: reads only; exit 0 with a report, 1 when the cluster cannot be read, 2 for an unknown cluster. */
async function report(args: CacheArguments, fleet: Fleet, deps: CacheDeps, output: CommandOutput, prog: string): Promise<number> {
  const o = args.report;
  const requestTimeout = args.requestTimeoutGiven ? args.requestTimeoutMs : (deps.kube?.requestTimeoutMs ?? args.requestTimeoutMs);
  const cluster = fleet.clusters.find((c) => c.name === o.cluster);
  if (!cluster) return usageError(output, `unknown cluster "${o.cluster}" (known: ${fleet.clusters.map((c) => c.name).join(', ')})`, usage(prog, 'report'));
  const { cacheReport } = await import('./report');
  let r;
  try {
    const kube = deps.reportKube ?? (await layerKube(deps, output, cluster));
    r = await cacheReport(kube(o.context ?? cluster.name, { requestTimeoutMs: requestTimeout }), fleet, cluster, {
      now: (deps.now ?? Date.now)(),
      sinceMs: o.sinceMs,
      slowStartMs: o.slowStartMs,
    });
  } catch (e) {
    return output.fail(1, (e as Error).message, { label: 'cache report', details: { cluster: cluster.name } });
  }
  if (o.html) {
    const { reportHtml } = await import('./report-html');
    const fs = await import('fs');
    fs.writeFileSync(o.html, reportHtml(r));
    output.err(`wrote ${o.html}\n`);
  }
  output.result(r);
  if (!output.json) output.out((await import('./report-text')).reportText(r, o.slowStartMs / 1000));
  return 0;
}

/** The report's cluster reads on the Kubernetes access layer; its retry lines go to stderr. */
async function layerKube(deps: CacheDeps, output: CommandOutput, cluster: Fleet['clusters'][number]) {
  const { cacheKube } = await import('./report-kube-client');
  return (context: string, o: KubeRequestOptions) =>
    cacheKube(context, { log: (line: string) => output.err(`${line}\n`), ...deps.kube, cluster: cluster.name, region: cluster.region, ...o });
}

/** EC2 and SSM per region from the command's factory (loaded only when used: --help and --dry-run need not pay for the SDK). */
async function sdkClients(aws: LazyAwsClients): Promise<ClientsFor> {
  const clients = await aws();
  return (region) => ({ ec2: clients.ec2(region), ssm: clients.ssm(region) });
}

function sdkAccountId(aws: LazyAwsClients, region: string | undefined): () => Promise<string> {
  let account: Promise<string> | undefined;
  return () =>
    (account ??= (async () => {
      const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      return (await (await aws()).sts(region).send(new GetCallerIdentityCommand({}))).Account!;
    })());
}

/** One cache's build: the clients of its home region (and of the regions holding its copies and private images). */
function sdkBuildClients(aws: LazyAwsClients): (cache: ImageCache) => Promise<Pick<BuilderDeps, 'ec2' | 'ssm' | 'ssmIn' | 'ecr'>> {
  return async (cache) => {
    const clients = await aws();
    return { ec2: clients.ec2(cache.homeRegion), ssm: clients.ssm(cache.homeRegion), ssmIn: clients.ssm, ecr: clients.ecr };
  };
}

if (require.main === module) runAsProcess(main);
