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
import { createProgress, stepLog } from '../shared/progress';
import { REQUEST_TIMEOUT_HELP, REQUEST_TIMEOUT_OPTION, requestTimeoutMs } from '../shared/request-timeout';

export const usage = (prog: string): string => `usage:
  ${prog} <cache> [--to <snapshot-id>] [--dry-run] [--json] [--context <cluster>=<context>]... [--poll-interval 15s]
  ${prog} status <cache> [--json] [--context <cluster>=<context>]...

Rolls a new generation of an image cache's snapshot out to the clusters that use it, in the stages of
the fleet file's rollout section (FLEET_FILE or ./fleet.yaml), each gated on health, with automatic rollback.

  <cache>            image cache name from the fleet file
  --to <id>          snapshot ID in the cache's home region to roll out
  --allow-version-skew
                     roll out even to clusters pinned (karpenter.amiAlias) to an older Bottlerocket release
                     than the generation was built on
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
  -h, --help         this text

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

/** Runs the command; returns the exit code (0 done or dry run, 1 rolled back / blocked / interrupted, 2 usage). */
export async function main(argv: string[], io: RolloutIo = PROCESS_IO): Promise<number> {
  const prog = programName('rollout');
  const cl = commandLine(
    argv,
    {
      to: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'allow-version-skew': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      context: { type: 'string', multiple: true, default: [] },
      'poll-interval': { type: 'string', default: '15s' },
      ...REQUEST_TIMEOUT_OPTION,
    },
    io,
    () => usage(prog),
  );
  if (cl.exit !== undefined) return cl.exit;
  const { values, positionals } = cl;
  const isStatus = positionals[0] === 'status';
  const cacheName = isStatus ? positionals[1] : positionals[0];
  if (!cacheName) return usageError(io, 'missing argument: the image cache to roll out', usage(prog));
  if (positionals.length > (isStatus ? 2 : 1))
    return usageError(io, `one image cache at a time (got ${positionals.slice(isStatus ? 1 : 0).join(', ')})`, usage(prog));
  // Every AWS call of the command goes through one client factory (cli/shared/aws-clients.ts); the Kubernetes
  // access layer takes the same per-request limit (timeoutMs).
  const timeoutMs = requestTimeoutMs(values['request-timeout']);
  const contexts = new Map<string, string>();
  for (const c of values.context) {
    const [cluster, context] = c.split('=');
    if (!cluster || !context) return usageError(io, `--context ${c}: expected <cluster>=<context>`, usage(prog));
    contexts.set(cluster, context);
  }
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load'); // not needed by --help
  const fleet = loadFleet(fleetFileFromEnvironment());
  const plan = planRollout(fleet, cacheName);
  // Under --json, stdout holds the JSON alone and the lines go to stderr.
  const progress = createProgress({ write: values.json ? io.err : io.out, terminal: io.terminal });
  const log = progress.line;
  const out = (obj: unknown) => io.out(`${JSON.stringify(obj, null, 2)}\n`);

  const { regionApi } = await import('./aws');
  const awsClients = (await import('../shared/aws-clients')).awsClients({
    requestTimeoutMs: timeoutMs,
    step: isStatus ? 'rollout status' : 'rollout',
    progress,
  });
  const awsByRegion = new Map<string, ReturnType<typeof regionApi>>();
  const aws = (region: string) => {
    if (!awsByRegion.has(region)) awsByRegion.set(region, regionApi(region, {}, awsClients));
    return awsByRegion.get(region)!;
  };
  const engine = await import('./engine');
  const report = await import('./report');

  if (isStatus) {
    const { rolloutKube } = await import('./kube-client');
    const rows = await report.status(plan, { aws, kube: (c) => rolloutKube(contexts.get(c) ?? c) }).finally(() => progress.done());
    if (values.json) out(rows);
    else
      for (const r of rows)
        io.out(
          `${r.stage}\t${r.cluster}\t${r.region}\t${r.snapshot ?? '-'}\tgeneration ${r.generation ?? '?'}\t${r.state ?? '-'}\tnodes ${r.nodes}${r.converged ? ' converged' : ' converging'}\tcache hit ratio ${hitRatioText(r)}\n`,
        );
    return 0;
  }

  let resolved;
  try {
    resolved = await engine.resolveRollout({ aws }, plan, values.to, { allowVersionSkew: values['allow-version-skew'] });
  } catch (e) {
    progress.done();
    if (e instanceof engine.RolloutBlocked) {
      io.err(`blocked: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const { rolloutKube } = await import('./kube-client');
  const { cacheKube } = await import('../cache/report-kube-client');
  const kubes = new Map<string, ReturnType<typeof rolloutKube>>();
  const kube = (c: string) => {
    if (!kubes.has(c)) kubes.set(c, rolloutKube(contexts.get(c) ?? c));
    return kubes.get(c)!;
  };
  if (values['dry-run']) {
    // Reads only: each pool's drift concurrency as Karpenter computes it now, from the cluster's NodePools and nodes.
    const stages = await report.withDrift(report.dryRun(plan, resolved), kube, Date.now());
    if (values.json) out({ cache: plan.cache.name, source: resolved.source, dryRun: true, stages });
    else io.out(`${report.dryRunLines(plan, resolved, stages).join('\n')}\n`);
    return 0;
  }
  // Before the first write: every context of the rollout must reach its cluster (server and CA as EKS reports them).
  const identity = await import('../shared/cluster-identity');
  try {
    await identity.verifyClusterContexts(
      plan.stages.flatMap((s) => s.clusters.map((c) => ({ name: c.cluster.name, region: c.region, context: contexts.get(c.cluster.name) ?? c.cluster.name }))),
      { describe: (name, region) => identity.describeEksCluster(name, region, undefined, awsClients) },
    );
  } catch (e) {
    if (!(e instanceof identity.ClusterIdentityMismatch)) throw e;
    if (values.json) out({ cache: plan.cache.name, source: resolved.source, ok: false, cluster: e.cluster, refused: e.message, clusters: [] });
    io.err(`refused: ${e.message}\n`);
    return 1;
  }
  const controller = new AbortController();
  const onInterrupt = () => {
    io.err('interrupted: finishing the current write, then stopping (re-run to resume)...\n');
    controller.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onInterrupt);
  // The cache gate's figures per cluster (docs/measuring-the-cache.md), for --json.
  const cache: Record<string, unknown> = {};
  try {
    const outcomes = await engine.runRollout(
      {
        aws,
        kube,
        cacheKube: (c) => cacheKube(contexts.get(c) ?? c),
        onCacheMeasured: (cluster, pools) => {
          cache[cluster] = pools;
        },
        log: stepLog(progress),
        signal: controller.signal,
        pollIntervalMs: parseDuration(values['poll-interval']),
      },
      plan,
      fleet.tags,
      resolved,
    );
    progress.done();
    if (values.json) out({ cache: plan.cache.name, source: resolved.source, ok: true, clusters: outcomes, cacheMeasurements: cache });
    else log(`done: ${plan.cache.name} ${resolved.source} rolled out (${outcomes.map((o) => `${o.cluster} ${o.outcome}`).join(', ') || 'no cluster'})`);
    return 0;
  } catch (e) {
    progress.done();
    if (e instanceof engine.RolloutFailed) {
      if (values.json)
        out({
          cache: plan.cache.name,
          source: resolved.source,
          ok: false,
          stage: e.stage,
          cluster: e.cluster,
          pool: e.pool,
          reason: e.reason,
          leftovers: e.leftovers,
          clusters: e.completed,
          cacheMeasurements: cache,
        });
      io.err(`FAILED: ${e.message}${e.leftovers.length ? `\nleft after the rollback: ${e.leftovers.join('; ')}` : ''}\n`);
      return 1;
    }
    if (e instanceof engine.RolloutHeld) {
      if (values.json)
        out({
          cache: plan.cache.name,
          source: resolved.source,
          ok: false,
          blocked: true,
          stage: e.stage,
          cluster: e.cluster,
          holds: e.holds,
          clusters: e.completed,
        });
      io.err(`blocked: ${e.message}\n`);
      return 1;
    }
    if (e instanceof engine.RolloutApplyFailed || e instanceof engine.RolloutBlocked) {
      if (values.json) out({ cache: plan.cache.name, source: resolved.source, ok: false, reason: e.message });
      io.err(`${e instanceof engine.RolloutBlocked ? 'blocked' : 'FAILED'}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof engine.RolloutInterrupted) {
      io.err('interrupted: parameters and node classes are consistent; re-run the same command to resume\n');
      return 1;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

/** "77.8% (measured 2026-11-25T12:30:00.000Z)", or "-" when the rollout never measured the cluster. */
function hitRatioText(r: { cacheHitRatio?: number | null; cacheMeasured?: string }): string {
  if (r.cacheMeasured === undefined) return '-';
  return `${r.cacheHitRatio === null || r.cacheHitRatio === undefined ? '-' : `${Math.round(r.cacheHitRatio * 1000) / 10}%`} (measured ${r.cacheMeasured})`;
}

if (require.main === module) runAsProcess(main);
