/**
 * bottlerocket-fleet deploy (npm run deploy --) <stack...> [--auto-approve] [--dry-run] [--json]
 *   [--ignore-missing-stack-dependencies]
 * `cdktf deploy` with a preflight: before Terraform runs, every cache parameter the named Karpenter
 * stacks read is looked up in SSM (in the cluster's region); a missing one stops the run with the step
 * of the first deployment that writes it. Only then runs `cdktf deploy <stacks>` (CHECKPOINT_DISABLE=1),
 * as a child process on this terminal, and exits with its code. `cdktf deploy` stays the raw path.
 */
import type { GetParameterCommand, GetParameterCommandOutput } from '@aws-sdk/client-ssm';
import { CliIo, commandLine, parseCommandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';
import { answering, CommandOutput } from '../shared/command-output';
import type { CacheParameterCheck, ParameterLocation } from './preflight';
import type { SnapshotLookup } from '../shared/snapshot-provenance';
import type { SnapshotFacts } from '../shared/generation-size';
import type { RunningVersion } from '../shared/eks-versions';
import { REQUEST_TIMEOUT_HELP, REQUEST_TIMEOUT_OPTION, requestTimeoutMs } from '../shared/request-timeout';
import { LazyAwsClients, lazyAwsClients } from '../shared/lazy-aws';
import { createProgress } from '../shared/progress';

export const usage = (prog: string) => `usage: ${prog} <stack...> [--auto-approve] [--dry-run] [--json] [--ignore-missing-stack-dependencies]
  Checks that every image-cache SSM parameter the named <cluster>-karpenter stacks read exists (the
  cache build writes it in the home region, image-cache-<cache> in the other regions and, with a
  rollout, per cluster) and names a trusted build (owned by this account, completed, encrypted, the
  cache's tags, in its history: docs/security-model.md), then runs \`cdktf deploy <stack...>\`. Stacks are names or patterns ('*').
  Other stacks are deployed without a check.
  --auto-approve   passed to cdktf deploy: apply without asking
  --dry-run        check only (reads SSM); print the cdktf command instead of running it
  --json           the checks and the result as JSON on stdout (cdktf's own output goes to stderr)
  --ignore-missing-stack-dependencies
                   deploy stacks without the stacks they depend on (already deployed); passed to cdktf
  --allow-version-skew
                   deploy even when a cluster pinned to a Bottlerocket release (bottlerocketRelease) would
                   launch from a cache generation built on a newer release, or one that records none
  --allow-unknown-kernel
                   deploy a generation that records no kernel release (one the nodes cannot mount is always
                   refused: the running control plane's version, EKS DescribeCluster, and the fleet file's)
  Before any <cluster>-cluster stack: its kubernetesVersion must be the running control plane's or the
  next minor (EKS upgrades one minor at a time and never down); otherwise nothing runs (exit 1).
${REQUEST_TIMEOUT_HELP}
  -- <cdktf options>  after a lone --: passed to cdktf deploy as they are (e.g. -- --skip-provider-lock
                   --output <dir>)
  A local state of a named stack whose resources carry another fleet's tag is refused first (state-owner.ts).
  A <cluster>-karpenter stack is refused while an upgrade or rollout owns the cluster (a drift freeze on a
  NodePool, an upgrade or rollout in progress on an EC2NodeClass; read through the context named like the cluster).
  The fleet file is FLEET_FILE or ./fleet.yaml. Exit codes: 0 deployed (or dry run passed), 1 a cache
  parameter is missing, a local state belongs to another fleet, a version move EKS refuses, or cdktf failed, 2 usage (unknown stack, a
  dependency left out).
`;

/** One SSM client per region, as far as the preflight uses it. */
export interface SsmLike {
  send(command: GetParameterCommand): Promise<GetParameterCommandOutput>;
}

/** Runs `cdktf <args>`; resolves with its exit code. */
export type CdktfRunner = (args: string[], options: { readonly env: NodeJS.ProcessEnv; readonly stdoutToStderr: boolean }) => Promise<number>;

/** What the command talks to; tests inject fakes. */
export interface DeployDeps extends CliIo {
  /** SSM in a region. @default an SDK v3 SSMClient */
  readonly ssm?: (region: string) => SsmLike;
  /** @default cdktf-cli's bin under node, stdio inherited */
  readonly runCdktf?: CdktfRunner;
  /** DescribeSnapshots (size and tags of a generation). @default SDK v3 EC2Client per region */
  readonly snapshots?: SnapshotFacts;
  /** Snapshots by ID in a region, for the provenance check of what each parameter names. @default EC2 DescribeSnapshots */
  readonly provenanceLookup?: (region: string) => SnapshotLookup;
  /** This account's ID. @default sts:GetCallerIdentity */
  readonly accountId?: () => Promise<string>;
  /** A cluster's running Kubernetes version. @default EKS DescribeCluster */
  readonly runningVersion?: RunningVersion;
  /** Where cdktf runs, whose cdktf.out/stacks/<stack>/ resolve local state paths (state-owner.ts). @default process.cwd() */
  readonly projectRoot?: string;
  /**
   * What owns a cluster's node image (an upgrade's freeze or state, a rollout in progress), checked before a
   * <cluster>-karpenter stack. @default its NodePools and EC2NodeClasses through the context named like the cluster
   */
  readonly upgradeOwner?: import('./upgrade-owner').UpgradeOwner;
  /** The AWS clients of the defaults above. @default cli/shared/aws-clients.ts with --request-timeout */
  readonly aws?: LazyAwsClients;
}

interface CheckResult extends CacheParameterCheck {
  readonly exists: boolean;
  /** The parameter names a snapshot that fails the provenance checks (the plan would fail on it). */
  readonly untrusted?: boolean;
  /** The snapshot ID the checked parameter holds. */
  readonly value?: string;
  readonly message?: string;
}

const OPTIONS = {
  'auto-approve': { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  'ignore-missing-stack-dependencies': { type: 'boolean', default: false },
  'allow-version-skew': { type: 'boolean', default: false },
  'allow-unknown-kernel': { type: 'boolean', default: false },
  ...REQUEST_TIMEOUT_OPTION,
} as const;

/** The deps once the command's AWS client factory is settled. */
type AwsDeployDeps = DeployDeps & { readonly aws: LazyAwsClients };

type DeployValues = ReturnType<typeof parseCommandLine<typeof OPTIONS>>['values'];
type Preflight = typeof import('./preflight');
type Fleet = import('../../modules/fleet/load').Fleet;

/** Runs the command; returns the exit code (0 deployed or dry run passed, 1 a check or cdktf failed, 2 usage). */
export async function main(argv: string[], deps: DeployDeps = PROCESS_IO): Promise<number> {
  const prog = programName('deploy');
  // Everything after a lone `--` is cdktf's (npm run deploy -- <stack> -- --skip-provider-lock).
  const cut = argv.indexOf('--');
  const cl = commandLine(cut < 0 ? argv : argv.slice(0, cut), OPTIONS, deps, () => usage(prog));
  if (cl.exit !== undefined) return cl.exit;
  if (cl.positionals.length === 0) return usageError(cl.output, 'missing argument: the stack(s) to deploy', usage(prog));
  let timeoutMs: number;
  try {
    timeoutMs = requestTimeoutMs(cl.values['request-timeout']);
  } catch (e) {
    return usageError(cl.output, (e as Error).message, usage(prog));
  }
  const cdktfOptions = cut < 0 ? [] : argv.slice(cut + 1);
  // On a terminal, an AWS call of the preflight that takes a while is named on the status line.
  const waiting = createProgress({ write: cl.output.info, terminal: cl.output.terminal });
  const withAws = { ...deps, aws: deps.aws ?? lazyAwsClients({ requestTimeoutMs: timeoutMs, step: 'deploy preflight', progress: waiting }) };
  return answering(cl.output, () => deploy(cl.positionals, cl.values, cdktfOptions, withAws, cl.output, prog).finally(() => waiting.done()));
}

async function deploy(
  patterns: string[],
  values: DeployValues,
  cdktfOptions: string[],
  deps: AwsDeployDeps,
  output: CommandOutput,
  prog: string,
): Promise<number> {
  const ignoreDependencies = values['ignore-missing-stack-dependencies'];
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load');
  const { fleetStacks } = await import('../../modules/fleet/stacks');
  const preflight = await import('./preflight');
  const fleet = loadFleet(fleetFileFromEnvironment());
  const plan = fleetStacks(fleet);
  const { selected, unknown } = preflight.selectStacks(patterns, plan);
  if (unknown.length > 0) return output.fail(2, `unknown stack(s): ${unknown.join(', ')}\nthe fleet's stacks: ${plan.map((s) => s.name).join(', ')}`);
  const missingDeps = ignoreDependencies ? [] : preflight.missingDependencies(selected, plan);
  if (missingDeps.length > 0) return output.fail(2, preflight.missingDependenciesMessage(missingDeps, selected, plan, prog));

  const stateRefusals = await localStateRefusals(fleet, selected, deps);
  if (stateRefusals.length > 0) {
    if (values.json) deps.out(`${JSON.stringify({ ok: false, stacks: selected, stateRefusals, ran: false }, null, 2)}\n`);
    deps.err(`${stateRefusals.map((r) => r.message).join('\n')}\n`);
    return 1;
  }

  // The running control planes of the cluster stacks (version guard), then, after the cache checks, of the Karpenter stacks.
  const versions = await import('./version-checks');
  const versionRefusals = versions.clusterVersionRefusals(
    fleet,
    selected,
    plan,
    await versions.runningVersionsFor(fleet, selected, plan, 'cluster', deps.runningVersion, deps.aws),
  );
  if (versionRefusals.length > 0)
    return output.fail(1, `${versionRefusals.join('\n')}\nnothing was deployed (checked against EKS DescribeCluster before Terraform ran)`, {
      details: { stacks: selected, refused: versionRefusals, ran: false },
    });
  const { checks, skipped } = preflight.cacheParameterChecks(fleet, selected, !ignoreDependencies);
  const results = await runChecks(checks, deps, preflight);
  const args = [
    'deploy',
    ...selected,
    ...(values['auto-approve'] ? ['--auto-approve'] : []),
    ...(ignoreDependencies ? ['--ignore-missing-stack-dependencies'] : []),
    ...cdktfOptions,
  ];
  const report = { stacks: selected, checks: results.map(checkJson), skipped, command: ['cdktf', ...args] };
  const refusal = await refusalOf(fleet, results, deps, {
    allowVersionSkew: values['allow-version-skew'],
    allowUnknownKernel: values['allow-unknown-kernel'],
    running: results.some((r) => r.value) ? await versions.runningVersionsFor(fleet, selected, plan, 'karpenter', deps.runningVersion, deps.aws) : new Map(),
  });
  if (refusal) return output.fail(1, refusal.message, { details: { ...report, ...refusal.details, ran: false } });
  // One change of the node image at a time: not while an upgrade or rollout owns the cluster (upgrade-owner.ts).
  const owners = await import('./upgrade-owner');
  // The context is verified against EKS through this command's clients (--request-timeout) before it is read.
  const { describeEksCluster } = await import('../shared/cluster-identity');
  const describe = async (name: string, region: string) => describeEksCluster(name, region, undefined, await deps.aws());
  const owned = await owners.upgradeOwnerRefusals(fleet, selected, plan, deps.upgradeOwner ?? owners.kubeUpgradeOwnerWith({ describe }));
  if (owned.length > 0)
    return output.fail(1, `${owned.join('\n')}\nnothing was deployed (checked before Terraform ran)`, { details: { ...report, refused: owned, ran: false } });
  for (const r of results)
    output.info(
      `ok   ${r.stack}: ${r.check.name} exists in ${r.check.region}${r.writtenInThisRunBy ? ` (${r.writtenInThisRunBy} copies it first)` : ' and names a trusted build'}\n`,
    );
  for (const s of skipped) output.info(`skip ${s.stack}: cache ${s.cache} is ${s.reason}\n`);
  if (values['dry-run']) {
    output.result({ ok: true, ...report, ran: false });
    if (!output.json) output.out(`dry run: would run CHECKPOINT_DISABLE=1 cdktf ${args.join(' ')}\n`);
    return 0;
  }
  const exitCode = await (deps.runCdktf ?? spawnCdktf)(args, { env: { ...process.env, CHECKPOINT_DISABLE: '1' }, stdoutToStderr: output.json });
  if (exitCode === 0) output.result({ ok: true, ...report, ran: true, exitCode });
  // cdktf printed its own errors; the document says it failed and with which code (cdktf's, which is the command's).
  else if (output.json) output.result({ ...report, ran: true, ok: false, exitCode, error: `cdktf deploy exited ${exitCode}` });
  return exitCode;
}

/** One check as the --json document shows it. */
function checkJson({ stack, cache, check, checkWriter, writtenInThisRunBy, exists, untrusted, message }: CheckResult) {
  return {
    stack,
    cache,
    region: check.region,
    parameter: check.name,
    writtenBy: checkWriter,
    ...(writtenInThisRunBy ? { copiedInThisRunBy: writtenInThisRunBy } : {}),
    exists,
    ...(untrusted ? { untrusted: true } : {}),
    ...(message ? { message } : {}),
  };
}

/** Why nothing may be deployed (a parameter missing or untrusted, a generation a pool or pin cannot launch from), or undefined. */
async function refusalOf(
  fleet: Fleet,
  results: CheckResult[],
  deps: AwsDeployDeps,
  options: GenerationOptions,
): Promise<{ message: string; details: Record<string, unknown> } | undefined> {
  const missing = results.filter((r) => !r.exists || r.untrusted);
  if (missing.length > 0) {
    const counts = [
      ...[missing.filter((m) => !m.exists).length].filter(Boolean).map((n) => `${n} cache parameter(s) missing`),
      ...[missing.filter((m) => m.untrusted).length].filter(Boolean).map((n) => `${n} cache parameter(s) naming an untrusted snapshot`),
    ];
    return { message: `${missing.map((m) => m.message).join('\n')}\nnothing was deployed: ${counts.join(', ')} (checked before Terraform ran)`, details: {} };
  }
  // The generation each node class will name: its real size against the pools, its release against the
  // cluster's pin (cli/shared/generation-size.ts).
  const refused = await generationRefusals(fleet, results, deps, options);
  if (refused.length === 0) return undefined;
  return {
    message: `${refused.join('\n')}\nnothing was deployed: ${refused.length} pool(s) or cluster(s) cannot launch from the generation they would name`,
    details: { refused },
  };
}

/** The selected stacks' local state files, each checked to belong to this fleet before anything runs (state-owner.ts). */
async function localStateRefusals(fleet: import('../../modules/fleet/load').Fleet, selected: string[], deps: DeployDeps) {
  const fs = await import('fs');
  const path = await import('path');
  const owner = await import('./state-owner');
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined);
  const root = deps.projectRoot ?? process.cwd();
  if (fleet.backend.type === 'local') {
    const dir = path.resolve(root, fleet.backend.directory ?? '.');
    const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    for (const note of owner.otherFleetStateNotes(fleet, selected, files, root)) deps.err(`${note}\n`);
  }
  return owner.localStateRefusals(fleet, selected, read, root);
}

/**
 * Looks each parameter up once (several stacks may read the same one), all at once; then checks the
 * snapshot each parameter a stack reads names, as the stack's postconditions will (cli/shared/snapshot-provenance.ts).
 */
async function runChecks(checks: CacheParameterCheck[], deps: AwsDeployDeps, preflight: Preflight): Promise<CheckResult[]> {
  if (checks.length === 0) return [];
  const ssmFor = deps.ssm ?? (await deps.aws()).ssm;
  const { GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const provenance = await import('../shared/snapshot-provenance');
  const { historyParameterPath } = await import('../../modules/image-cache/parameters');
  const clients = new Map<string, SsmLike>();
  const lookups = new Map<string, Promise<string | undefined>>();
  const valueOf = (p: ParameterLocation): Promise<string | undefined> => {
    const key = `${p.region}\u0000${p.name}`;
    let found = lookups.get(key);
    if (!found) {
      if (!clients.has(p.region)) clients.set(p.region, ssmFor(p.region));
      found = parameterValue(clients.get(p.region)!, new GetParameterCommand({ Name: p.name }), p);
      lookups.set(key, found);
    }
    return found;
  };
  const snapshots = deps.provenanceLookup ?? (await sdkSnapshots(deps.aws));
  let account: Promise<string> | undefined;
  const accountId = () => (account ??= (deps.accountId ?? sdkAccountId(deps.aws, checks[0].home.region))());
  return Promise.all(
    checks.map(async (c) => {
      const value = await valueOf(c.check);
      if (value === undefined) {
        // For a copy the image-cache stack writes: is the cache built at all? Then the message names step 3 too.
        const homeMissing = c.checkWriter === 'image-cache-stack' && (await valueOf(c.home)) === undefined;
        return { ...c, exists: false, message: preflight.missingParameterMessage(c, homeMissing) };
      }
      // A parameter another stack of this run writes first is checked by that stack's plan (its postconditions).
      if (c.writtenInThisRunBy) return { ...c, exists: true, value };
      const history = provenance.parseHistory(await valueOf({ region: c.home.region, name: historyParameterPath(c.home.name) }));
      const cache = { name: c.cache, homeRegion: c.home.region, parameterPath: c.home.name };
      const r = await provenance.checkSnapshot(snapshots(c.reads.region), { account: await accountId(), cache, history }, c.reads.region, value);
      if (r.problems.length === 0) return { ...c, exists: true, value };
      const { untrustedMessage } = await import('../../modules/image-cache/provenance');
      return {
        ...c,
        exists: true,
        value,
        untrusted: true,
        message: `${c.stack}: ${untrustedMessage(`SSM parameter ${c.reads.name} in ${c.reads.region}`, value, r.problems)}`,
      };
    }),
  );
}

/** What the generation checks take: the overrides, and each Karpenter stack's cluster's running version. */
type GenerationOptions = import('../shared/node-image-checks').NodeImageOptions & { readonly running: ReadonlyMap<string, string | undefined> };

/** Each pool against the real size of the snapshot its node class will name, each cluster's pin against its release. */
async function generationRefusals(fleet: Fleet, results: CheckResult[], deps: AwsDeployDeps, options: GenerationOptions): Promise<string[]> {
  const named = results.filter((r) => r.value);
  if (named.length === 0) return [];
  const { poolsTooSmall, sdkSnapshotFacts } = await import('../shared/generation-size');
  const { SOURCE_SNAPSHOT_TAG } = await import('../../modules/image-cache/parameters');
  const { nodeImageRefusals } = await import('../shared/node-image-checks');
  const { generationBuild } = await import('../shared/generation-build');
  const snapshots = deps.snapshots ?? (await sdkSnapshotFacts(await deps.aws()));
  const seen = new Set<string>();
  const refusals: string[] = [];
  for (const r of named) {
    const key = `${r.cluster}\u0000${r.cache}\u0000${r.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const snap = await snapshots.describe(r.check.region, r.value!);
    const cluster = fleet.clusters.find((c) => c.name === r.cluster);
    const cache = fleet.imageCaches.find((c) => c.name === r.cache);
    if (!snap || !cluster || !cache) continue; // a snapshot that is gone fails the plan anyway, with its own error
    const g = { cache: r.cache, snapshot: r.value!, region: r.check.region, role: 'the generation its node classes will name' };
    if (snap.sizeGiB !== undefined) refusals.push(...poolsTooSmall(cluster, { ...g, sizeGiB: snap.sizeGiB }));
    // A copy carries no build tags: the generation (its source, in the home region) does. Release against the
    // fleet file's alias (what this deploy applies), kernel against every version the nodes may run.
    const source = snap.tags[SOURCE_SNAPSHOT_TAG];
    const tags = source ? (await snapshots.describe(cache.homeRegion, source))?.tags : snap.tags;
    refusals.push(
      ...nodeImageRefusals(
        {
          cluster,
          alias: cluster.karpenter!.amiAlias,
          aliasSource: `clusters.${cluster.name}.karpenter.amiAlias: pins`,
          runningVersion: options.running.get(cluster.name),
        },
        { ...g, variant: cache.variant, build: generationBuild(tags) },
        options,
      ),
    );
  }
  return refusals;
}

async function parameterValue(ssm: SsmLike, command: GetParameterCommand, p: ParameterLocation): Promise<string | undefined> {
  try {
    return (await ssm.send(command)).Parameter?.Value ?? '';
  } catch (e) {
    if ((e as Error).name === 'ParameterNotFound') return undefined;
    throw new Error(`could not read SSM parameter ${p.name} in ${p.region} to check it (${(e as Error).name}: ${(e as Error).message}); nothing was deployed`, {
      cause: e,
    });
  }
}

async function sdkSnapshots(aws: LazyAwsClients): Promise<(region: string) => SnapshotLookup> {
  const { DescribeSnapshotsCommand } = await import('@aws-sdk/client-ec2');
  const { describeSnapshotLookup } = await import('../shared/snapshot-provenance');
  const clients = await aws();
  return (region) => describeSnapshotLookup((id) => clients.ec2(region).send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })));
}

function sdkAccountId(aws: LazyAwsClients, region: string): () => Promise<string> {
  return async () => {
    const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    return (await (await aws()).sts(region).send(new GetCallerIdentityCommand({}))).Account!;
  };
}

/**
 * cdktf-cli's bin run by this node (a devDependency, as for `npm run synth`), else `cdktf` on the PATH.
 * Ctrl-C reaches cdktf too (same terminal): this process waits for it to clean up rather than exit first.
 */
export const spawnCdktf: CdktfRunner = async (args, { env, stdoutToStderr }) => {
  const { spawn } = await import('child_process');
  let command = 'cdktf';
  let commandArgs = args;
  try {
    commandArgs = [require.resolve('cdktf-cli/bundle/bin/cdktf'), ...args];
    command = process.execPath;
  } catch {
    /* not installed here: the PATH's cdktf */
  }
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(command, commandArgs, { env, stdio: ['inherit', stdoutToStderr ? process.stderr : 'inherit', 'inherit'] });
      child.on('error', (e) =>
        reject(new Error(`could not run ${command === 'cdktf' ? 'cdktf' : 'cdktf-cli'} (${e.message}); run npm ci in the project first`)),
      );
      child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    process.removeListener('SIGINT', ignore);
  }
};

if (require.main === module) runAsProcess(main);
