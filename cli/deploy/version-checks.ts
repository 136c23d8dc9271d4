/**
 * What `deploy` checks against the running clusters before Terraform runs (issue 30): the control plane's
 * version (EKS DescribeCluster) for every cluster whose cluster or Karpenter stack is deployed. A cluster
 * stack may move it by at most one minor, never down (cli/shared/version-guard.ts); a Karpenter stack's
 * generation must be mountable by the nodes of the running version too (cli/shared/node-image-checks.ts).
 */
import type { Fleet } from '../../modules/fleet/load';
import type { PlannedStack } from '../../modules/fleet/stacks';
import type { RunningVersion } from '../shared/eks-versions';
import type { LazyAwsClients } from '../shared/lazy-aws';
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
  aws?: LazyAwsClients,
): Promise<Map<string, string | undefined>> {
  const clusters = clustersOf(fleet, selected, plan, kind);
  if (clusters.length === 0) return new Map();
  const { runningVersions, sdkRunningVersion } = await import('../shared/eks-versions');
  return runningVersions(running ?? sdkRunningVersion(aws), clusters);
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
