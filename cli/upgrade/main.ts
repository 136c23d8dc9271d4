/**
 * bottlerocket-fleet upgrade plan|status|apply [--json] [--context <cluster>=<context>]...
 * Compares each cluster's running node image (Kubernetes minor, Bottlerocket release, cache generation) with the
 * fleet file (FLEET_FILE or ./fleet.yaml). See usage() below and docs/upgrades.md.
 */
import { CliIo, commandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';
import { answering, CommandOutput } from '../shared/command-output';
import { parseDuration } from '../shared/duration';
import { requestTimeoutMs as parseRequestTimeout } from '../shared/request-timeout';
import { clusterContexts } from '../shared/cluster-contexts';
import type { UpgradePlan } from './plan';
import type { ClusterStatus } from './status';

export const usage = (prog: string): string => `usage:
  ${prog} plan [--json] [--context <cluster>=<context>]...
  ${prog} status [--json] [--context <cluster>=<context>]...
  ${prog} apply [--json] [--context <cluster>=<context>]... [--poll-interval 15s]

Compares what each cluster of the fleet file (FLEET_FILE or ./fleet.yaml) runs with what the file says: the
control plane (EKS DescribeCluster), the system node group's version and release (DescribeNodegroup), the
add-ons (DescribeAddon), and per Karpenter pool the live EC2NodeClass's alias and data-volume snapshot and the
variant and release each NodeClaim's node runs (the Node's osImage and kubeletVersion). Reads only.

  plan               per stage of the fleet's rollout section, per cluster the ordered steps of the upgrade
                     and what each replaces; or why it cannot be done safely (a jump of two minors, a
                     downgrade, no Bottlerocket release of the target variant, a Karpenter chart that does not
                     support the target, a cache generation whose kernel tag is missing or that the nodes of
                     the running and the target variant could not both mount). Exit 1 when any cluster is refused.
  status             per cluster the running versions, per pool the NodeClaims grouped by (variant, release,
                     generation)
  apply              carries out the plan stage by stage with the rollout's gates and soak (a later stage only
                     after the earlier one converged and soaked). Per cluster, for a Kubernetes minor: a drift
                     freeze on every NodePool (a Drifted budget of 0 and its owner, one patch), the cache
                     generation both variants mount when the plan has a build step (the one recorded by an
                     earlier run, the cache's parameter when it passes the checks, else built as cache build
                     builds it, once), the control plane (EKS UpdateClusterVersion); then the system node group
                     (UpdateNodegroupVersion with the release's image_version), add-ons pinned differently
                     (UpdateAddon), each waited on with DescribeUpdate; the wait until every class resolves the
                     new variant (status.amis); each EC2NodeClass's alias, and the pool's newer cache generation
                     if any, in one apply (its exact previous spec recorded first; in a fleet with a rollout
                     section the cluster's generation parameter with it); the freeze lifted. Karpenter replaces
                     each node once. A health failure restores the exact previous spec (and parameter) and
                     deletes the never-initialized new NodeClaims (node group and control plane stay: EKS cannot
                     roll them back); later stages are untouched. Refused before any write: a refused plan,
                     another upgrade apply working on a cluster (its claim on the node classes renewed within 2
                     minutes), an untrusted or unusable new generation, a context that does not reach its
                     cluster (EKS DescribeCluster endpoint and CA). EKS refusing the control plane, or a failed
                     build: the freeze is lifted, nothing else written, exit 1 with EKS's or the builder's
                     message. Progress and the step are recorded on the node classes; a re-run resumes (an EKS
                     update still in progress is waited for)
  --poll-interval d  apply: how often to look at the cluster while waiting (default 15s)
  --json             machine-readable result on stdout
  --context c=ctx    kubeconfig context for cluster c (repeatable; default: a context named like the cluster)
  --request-timeout d
                     limit of each request to a cluster (default 30s)
  -h, --help         this text

Exit codes: 0 done (plan: nothing refused), 1 refused or failed, 2 usage or fleet file error.
`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  context: { type: 'string', multiple: true, default: [] as string[] },
  'request-timeout': { type: 'string' },
  'poll-interval': { type: 'string', default: '15s' },
} as const;

export interface UpgradeArguments {
  readonly action: 'plan' | 'status' | 'apply';
  readonly contexts: ReadonlyMap<string, string>;
  readonly requestTimeoutMs?: number;
  readonly pollIntervalMs?: number;
}

/** A duration option, or why it is not one. */
function durationOption(flag: string, value: string | undefined): number | undefined | { readonly problem: string } {
  try {
    return value === undefined ? undefined : parseDuration(value);
  } catch (e) {
    return { problem: `${flag}: ${(e as Error).message}` };
  }
}

/** The checked arguments, or the usage problem. Pure. */
export function upgradeArguments(
  values: { readonly context: readonly string[]; readonly 'request-timeout'?: string; readonly 'poll-interval'?: string },
  positionals: string[],
): UpgradeArguments | { readonly problem: string } {
  const [action, ...extra] = positionals;
  if (action !== 'plan' && action !== 'status' && action !== 'apply')
    return { problem: action ? `unknown action "${action}" (expected plan, status or apply)` : 'missing action: plan, status or apply' };
  if (extra.length > 0) return { problem: `unexpected argument ${extra[0]}` };
  const contexts = clusterContexts(values.context);
  if ('problem' in contexts) return contexts;
  let requestTimeoutMs: number | undefined;
  try {
    // The shared rule (request-timeout.ts): a duration above 0; left out, the factory's and the layer's default.
    requestTimeoutMs = values['request-timeout'] === undefined ? undefined : parseRequestTimeout(values['request-timeout']);
  } catch (e) {
    return { problem: (e as Error).message };
  }
  const pollIntervalMs = durationOption('--poll-interval', values['poll-interval']);
  if (typeof pollIntervalMs === 'object') return pollIntervalMs;
  return { action, contexts, requestTimeoutMs, pollIntervalMs };
}

/** Runs the command; returns the exit code. */
export async function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  const prog = programName('upgrade');
  const cl = commandLine(argv, OPTIONS, io, () => usage(prog));
  if (cl.exit !== undefined) return cl.exit;
  const args = upgradeArguments(cl.values, cl.positionals);
  if ('problem' in args) return usageError(cl.output, args.problem, usage(prog));
  return answering(cl.output, async () => {
    const world = (await import('./world')).upgradeWorld(args, (line) => cl.output.err(`${line}\n`));
    const state = await (await import('./state')).upgradeState(world.fleet, world);
    if (args.action === 'plan') return printPlan(state.plan, cl.output);
    if (args.action === 'status') return printStatus(state.status, cl.output);
    return (await import('./apply-command')).applyCommand(world, state, cl.output, { pollIntervalMs: args.pollIntervalMs, clock: io.clock });
  });
}

/** "1.34 / 1.50.0" */
const image = (v: { kubernetesVersion: string; release?: string }) => `Kubernetes ${v.kubernetesVersion}, Bottlerocket ${v.release ?? '?'}`;

function printPlan(plan: UpgradePlan, output: CommandOutput): number {
  if (!output.json)
    for (const stage of plan.stages) {
      output.out(`stage ${stage.name}\n`);
      for (const c of stage.clusters) {
        output.out(`  ${c.cluster}: ${image(c.from)} → ${image(c.to)}\n`);
        if (c.refusals.length === 0 && c.steps.length === 0) output.out('    nothing to do\n');
        c.steps.forEach((s, i) => output.out(`    ${i + 1}. ${s.description}\n       replaces: ${s.replaces}\n`));
      }
    }
  if (!plan.refused) {
    output.result({ ok: true, ...plan });
    return 0;
  }
  const refusals = plan.stages.flatMap((s) => s.clusters.flatMap((c) => c.refusals.map((r) => `${c.cluster}: ${r}`)));
  return output.fail(1, `the upgrade is refused, nothing was written:\n  ${refusals.join('\n  ')}`, { label: 'refused', details: { ...plan } });
}

function printStatus(status: readonly ClusterStatus[], output: CommandOutput): number {
  output.result({ ok: true, clusters: status });
  if (!output.json)
    for (const c of status) {
      output.out(`${c.cluster}\t${c.running ? `control plane ${c.running.controlPlane}` : 'not running'}\tupgrade: ${c.upgrade}\n`);
      if (c.running?.nodegroup) output.out(`  node group ${c.running.nodegroup.name}\t${c.running.nodegroup.version}\t${c.running.nodegroup.releaseVersion}\n`);
      for (const p of c.pools)
        for (const g of p.groups)
          output.out(`  pool ${p.pool}\t${g.variant ?? '?'}\t${g.release ?? '?'}\t${g.generation ?? 'earlier generation'}\t${g.nodeClaims} NodeClaim(s)\n`);
    }
  return 0;
}

if (require.main === module) runAsProcess(main);
