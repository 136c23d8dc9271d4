/**
 * What `deploy` checks against the running clusters before Terraform runs (issue 30): the control plane's
 * version (EKS DescribeCluster) for every cluster whose cluster or Karpenter stack is deployed. A cluster
 * stack may move it by at most one minor, never down (cli/shared/version-guard.ts); a Karpenter stack's
 * generation must be mountable by the nodes of the running version too (cli/shared/node-image-checks.ts).
 */
import type { Fleet } from '../../modules/fleet/load';
import type { PlannedStack } from '../../modules/fleet/stacks';
import type { RunningVersion } from '../shared/eks-versions';
import type { CliIo } from '../shared/command-line';
import { versionGuard } from '../shared/version-guard';

/** The clusters of the selected stacks of one kind. */
function clustersOf(fleet: Fleet, selected: readonly string[], plan: readonly PlannedStack[], kind: 'cluster' | 'karpenter') {
  const subjects = new Set(plan.filter((s) => selected.includes(s.name) && s.kind === kind).map((s) => s.subject));
  return fleet.clusters.filter((c) => subjects.has(c.name));
}

/** Running version per cluster of the selected stacks of a kind (none selected: no EKS call). */
export async function runningVersionsFor(
  fleet: Fleet,
  selected: readonly string[],
  plan: readonly PlannedStack[],
  kind: 'cluster' | 'karpenter',
  running?: RunningVersion,
): Promise<Map<string, string | undefined>> {
  const clusters = clustersOf(fleet, selected, plan, kind);
  if (clusters.length === 0) return new Map();
  const { runningVersions, sdkRunningVersion } = await import('../shared/eks-versions');
  return runningVersions(running ?? (await sdkRunningVersion()), clusters);
}

/** One refusal per selected cluster stack whose version EKS cannot move to in one step. */
export function clusterVersionRefusals(
  fleet: Fleet,
  selected: readonly string[],
  plan: readonly PlannedStack[],
  running: ReadonlyMap<string, string | undefined>,
): string[] {
  const clusterStacks = new Set(plan.filter((s) => selected.includes(s.name) && s.kind === 'cluster').map((s) => s.subject));
  return fleet.clusters.filter((c) => clusterStacks.has(c.name)).flatMap((c) => versionGuard(c, running.get(c.name)) ?? []);
}

/** The version guard as `deploy` runs it: false (and the refusals written) when a selected cluster stack may not run. */
export async function versionGuardPasses(
  fleet: Fleet,
  selected: readonly string[],
  plan: readonly PlannedStack[],
  deps: CliIo & { readonly runningVersion?: RunningVersion },
  json: boolean,
): Promise<boolean> {
  const refused = clusterVersionRefusals(fleet, selected, plan, await runningVersionsFor(fleet, selected, plan, 'cluster', deps.runningVersion));
  if (refused.length === 0) return true;
  if (json) deps.out(`${JSON.stringify({ ok: false, stacks: selected, refused, ran: false }, null, 2)}\n`);
  deps.err(`${refused.join('\n')}\nnothing was deployed (checked against EKS DescribeCluster before Terraform ran)\n`);
  return false;
}
