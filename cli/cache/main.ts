/**
 * bottlerocket-fleet cache (npm run cache --) build <cache...> [--dry-run] [--json] | list | gc | report
 * Builds image-cache snapshots for caches of the fleet file (FLEET_FILE or ./fleet.yaml), in parallel
 * when several are named. --dry-run makes no AWS call and prints the planned calls. `report` measures
 * the caches on a cluster (docs/measuring-the-cache.md).
 */
import type { ImageCache } from '../../modules/fleet/load';
import type { ClientsFor } from './inventory';
import type { BuilderDeps } from './builder';
import type { CacheKube } from './report-kube';
import { parseDuration } from '../shared/duration';
import { CliIo, commandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';
import { createProgress } from '../shared/progress';
import { KubeRequestOptions, REQUEST_TIMEOUT_HELP, REQUEST_TIMEOUT_OPTION, requestTimeoutMs } from '../shared/request-timeout';
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
  report: (p: string) => `${p} report --cluster <name> [--context <ctx>] [--since 1h] [--slow-start 60s] [--json] [--html <file>]
  Measures the caches on a cluster from its NodeClaims, Nodes, Pods and Events: per Karpenter pool, the
  nodes launched in the window and their start-up, each image's hits and pulls against the names the
  pool's cache records for the cluster's region, slow starts, suggestions, pod start-up.
  --context      kubeconfig context (default: one named like the cluster)
  --since        window: nodes launched this long ago or later (default 1h; EKS keeps events about an hour)
  --slow-start   image present but container started this much later (default 60s)
  --json         the report as JSON on stdout
  --html <file>  also write a self-contained page with charts to <file>
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
  /** The cluster `report` reads, by kubeconfig context. @default @kubernetes/client-node with the user's kubeconfig */
  readonly reportKube?: (context: string, options: KubeRequestOptions) => CacheKube;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Runs the command; returns the exit code (0 done, 1 a build failed, 2 usage). */
export async function main(argv: string[], deps: CacheDeps = PROCESS_IO): Promise<number> {
  const prog = programName('cache');
  const cl = commandLine(
    argv,
    {
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'older-than': { type: 'string', default: '6h' },
      cluster: { type: 'string' },
      context: { type: 'string' },
      since: { type: 'string', default: '1h' },
      'slow-start': { type: 'string', default: '60s' },
      html: { type: 'string' },
      ...REQUEST_TIMEOUT_OPTION,
    },
    deps,
    (p) => usage(prog, p[0]),
  );
  if (cl.exit !== undefined) return cl.exit;
  const { values, positionals } = cl;
  const [command, ...names] = positionals;
  if (!isSubcommand(command)) return usageError(deps, command ? `unknown command "${command}"` : 'missing command: build, list, gc or report', usage(prog));
  const timeoutMs = requestTimeoutMs(values['request-timeout']);
  if (command === 'report') return report(values, names, deps, prog, { requestTimeoutMs: timeoutMs });
  // On a terminal, an AWS call that takes a while is named on the status line (list and gc print nothing until done).
  const waiting = createProgress({ write: values.json ? deps.err : deps.out, terminal: deps.terminal });
  const aws = lazyAwsClients({ requestTimeoutMs: timeoutMs, step: `cache ${command}`, progress: waiting });
  if (command === 'build' && names.length === 0) return usageError(deps, 'missing argument: the name of the cache(s) to build', usage(prog, 'build'));
  // Loaded only now, like every module below: --help and usage errors need not pay for the fleet loader or the SDK.
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load');
  const fleet = loadFleet(fleetFileFromEnvironment());
  const unknown = names.filter((n) => !fleet.imageCaches.some((c) => c.name === n));
  if (unknown.length > 0) {
    deps.err(`unknown image cache(s): ${unknown.join(', ')} (known: ${fleet.imageCaches.map((c) => c.name).join(', ')})\n`);
    return 2;
  }
  const json = (obj: unknown) => deps.out(`${JSON.stringify(obj, null, 2)}\n`);

  if (command === 'list' || command === 'gc') {
    const inventory = await import('./inventory');
    const clients = deps.clients ?? (await sdkClients(aws));
    const caches = names.length > 0 ? fleet.imageCaches.filter((c) => names.includes(c.name)) : fleet.imageCaches;
    const { rolloutClustersOf } = await import('../../modules/fleet/stacks');
    const out = await (
      command === 'list'
        ? inventory.listCaches(caches, clients, deps.accountId ?? sdkAccountId(aws, caches[0]?.homeRegion))
        : inventory.collectGarbage(caches, clients, {
            olderThanMs: parseDuration(values['older-than']),
            dryRun: values['dry-run'],
            clusterParameters: inventory.rolloutClusterParameters((cache) => rolloutClustersOf(fleet, cache)),
          })
    ).finally(() => waiting.done());
    if (values.json) json(out);
    else
      for (const row of out)
        deps.out(
          `${Object.values(row)
            .map((v) => (Array.isArray(v) ? `${v.length} image(s)` : (v ?? '-')))
            .join('\t')}\n`,
        );
    // Under --json stdout holds the JSON alone.
    if (command === 'gc' && values['dry-run']) (values.json ? deps.err : deps.out)('dry run: nothing was terminated or deleted\n');
    return 0;
  }

  const caches = names.map((n) => fleet.imageCaches.find((c) => c.name === n)!);
  if (values['dry-run']) {
    // No SDK client is even constructed.
    const { dryRunJson, dryRunLines } = await import('./plan');
    if (values.json) json(dryRunJson(caches));
    else deps.out(`dry run: no AWS call is made\n${caches.flatMap(dryRunLines).join('\n')}\n`);
    return 0;
  }
  const { buildCache } = await import('./builder');
  const controller = new AbortController();
  const onInterrupt = () => {
    deps.err('interrupted: cleaning up...\n');
    controller.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onInterrupt);
  const progress = createProgress({ write: values.json ? deps.err : deps.out, terminal: deps.terminal });
  // No step in the clients' errors: a BuildError names the cache and the build step it failed in.
  const buildClients = deps.buildClients ?? sdkBuildClients(lazyAwsClients({ requestTimeoutMs: timeoutMs, progress }));
  // Test-only: BRF_POLL_INTERVAL_MS shortens the 5 s poll interval (the process tests against the AWS emulator).
  const pollIntervalMs = deps.buildOptions?.pollIntervalMs ?? (process.env.BRF_POLL_INTERVAL_MS ? Number(process.env.BRF_POLL_INTERVAL_MS) : undefined);
  let results;
  try {
    results = await Promise.allSettled(
      caches.map(async (cache) => {
        try {
          return await buildCache(
            {
              ...(await buildClients(cache)),
              ...deps.buildOptions,
              log: progress.line,
              onStep: (step) => progress.step(step, cache.name),
              signal: controller.signal,
            },
            cache,
            pollIntervalMs ? { pollIntervalMs } : {},
          );
        } finally {
          progress.end(cache.name);
        }
      }),
    );
  } finally {
    progress.done();
    process.removeListener('SIGINT', onInterrupt);
  }
  const summary = results.map((r, i) =>
    r.status === 'fulfilled' ? { ok: true, ...r.value } : { ok: false, cache: caches[i].name, error: (r.reason as Error).message },
  );
  if (values.json) json(summary);
  else for (const s of summary) deps.out(s.ok ? `OK   ${s.cache}: ${(s as { snapshotId: string }).snapshotId}\n` : `FAIL ${(s as { error: string }).error}\n`);
  return summary.every((s) => s.ok) ? 0 : 1;
}

interface ReportValues {
  readonly cluster?: string;
  readonly context?: string;
  readonly since: string;
  readonly 'slow-start': string;
  readonly json: boolean;
  readonly html?: string;
}

/** `cache report`: reads only; exit 0 with a report, 1 when the cluster cannot be read, 2 for usage. */
async function report(values: ReportValues, extra: string[], deps: CacheDeps, prog: string, kubeOptions: KubeRequestOptions): Promise<number> {
  const use = usage(prog, 'report');
  if (extra.length > 0) return usageError(deps, `unexpected argument(s): ${extra.join(' ')}`, use);
  if (!values.cluster) return usageError(deps, 'missing --cluster <name>', use);
  let sinceMs: number;
  let slowStartMs: number;
  try {
    sinceMs = parseDuration(values.since);
    slowStartMs = parseDuration(values['slow-start']);
  } catch (e) {
    return usageError(deps, (e as Error).message, use);
  }
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load');
  const fleet = loadFleet(fleetFileFromEnvironment());
  const cluster = fleet.clusters.find((c) => c.name === values.cluster);
  if (!cluster) return usageError(deps, `unknown cluster "${values.cluster}" (known: ${fleet.clusters.map((c) => c.name).join(', ')})`, use);
  const { cacheReport } = await import('./report');
  let r;
  try {
    const { cacheKube } = await import('./report-kube-client');
    const kube = deps.reportKube ?? ((context: string) => cacheKube(context));
    r = await cacheReport(kube(values.context ?? cluster.name, kubeOptions), fleet, cluster, { now: (deps.now ?? Date.now)(), sinceMs, slowStartMs });
  } catch (e) {
    deps.err(`cache report: ${(e as Error).message}\n`);
    return 1;
  }
  if (values.html) {
    const { reportHtml } = await import('./report-html');
    const fs = await import('fs');
    fs.writeFileSync(values.html, reportHtml(r));
    deps.err(`wrote ${values.html}\n`);
  }
  if (values.json) deps.out(`${JSON.stringify(r, null, 2)}\n`);
  else deps.out((await import('./report-text')).reportText(r, slowStartMs / 1000));
  return 0;
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
