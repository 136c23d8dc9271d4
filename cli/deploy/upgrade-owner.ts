/**
 * `deploy <c>-karpenter` while `upgrade apply` owns the cluster (issue 31): the Karpenter stack renders every
 * NodePool's budgets and every EC2NodeClass's alias and snapshot, so applying it mid-upgrade would drop the drift
 * freeze (each node then replaced twice) or move the node image behind the upgrade's back. Refused before Terraform
 * runs while a pool's NodePool carries an upgrade's freeze (cli/upgrade/freeze.ts) or its EC2NodeClass an upgrade
 * or rollout in progress (cli/rollout/model.ts).
 */
import type { Cluster, Fleet } from '../../modules/fleet/load';
import type { PlannedStack } from '../../modules/fleet/stacks';
import { nodeClassName } from '../../modules/karpenter/node-class';
import type { NodeClassInfo, NodePoolInfo } from '../rollout/kube';
import { ANNOTATIONS, IN_PROGRESS_STATES, UPGRADE_ANNOTATIONS } from '../rollout/model';
import { FREEZE_ANNOTATION } from '../upgrade/freeze';
import { ClusterIdentityMismatch, defaultKubeconfig, verifyClusterIdentity, type DescribeCluster } from '../shared/cluster-identity';
import type { KubeConfig } from '../shared/kube/kubeconfig';

/** What owns a cluster's node image, as a sentence naming the object; undefined: nothing. */
export function ownerOf(pools: readonly { readonly name: string; readonly nodePool?: NodePoolInfo; readonly nodeClass?: NodeClassInfo }[]): string | undefined {
  for (const p of pools) {
    const freeze = p.nodePool?.annotations[FREEZE_ANNOTATION];
    if (freeze) return `NodePool ${p.name} is frozen by ${(JSON.parse(freeze) as { owner?: string }).owner ?? 'an upgrade'}`;
    const a = p.nodeClass?.annotations ?? {};
    if (IN_PROGRESS_STATES.has(a[UPGRADE_ANNOTATIONS.state] ?? ''))
      return `an upgrade to ${a[UPGRADE_ANNOTATIONS.target] ?? '?'} is ${a[UPGRADE_ANNOTATIONS.state]} on EC2NodeClass ${p.name}`;
    if (IN_PROGRESS_STATES.has(a[ANNOTATIONS.state] ?? ''))
      return `a rollout of ${a[ANNOTATIONS.target] ?? '?'} is ${a[ANNOTATIONS.state]} on EC2NodeClass ${p.name}`;
  }
  return undefined;
}

/** Reads a cluster's owner; undefined: none (or not readable: see the default in main.ts). */
export type UpgradeOwner = (cluster: Cluster) => Promise<string | undefined>;

/** One refusal per selected Karpenter stack whose cluster is owned by an upgrade or rollout, or whose context cannot be trusted. */
export async function upgradeOwnerRefusals(fleet: Fleet, selected: readonly string[], plan: readonly PlannedStack[], owner: UpgradeOwner): Promise<string[]> {
  const refusals: string[] = [];
  for (const s of plan.filter((x) => x.kind === 'karpenter' && selected.includes(x.name))) {
    const cluster = fleet.clusters.find((c) => c.name === s.subject);
    let why: string | undefined;
    try {
      why = cluster && (await owner(cluster));
    } catch (e) {
      if (!(e instanceof ClusterIdentityMismatch)) throw e;
      refusals.push(`${s.name}: whether an upgrade or rollout owns cluster ${e.cluster} cannot be read: ${e.message}`);
      continue;
    }
    if (why)
      refusals.push(
        `${s.name}: ${why}; the stack would change what the upgrade or rollout owns. Let it finish (npm run upgrade -- apply, or npm run rollout), then deploy`,
      );
  }
  return refusals;
}

/** What the default reader reads with; tests inject a kubeconfig, EKS and the cluster's objects. */
export interface OwnerReaderDeps {
  /** @default the user's kubeconfig (KUBECONFIG or ~/.kube/config) */
  readonly kubeconfig?: () => Promise<KubeConfig>;
  /** @default EKS DescribeCluster (cli/shared/cluster-identity.ts) */
  readonly describe?: DescribeCluster;
  /** @default the Kubernetes access layer at the context (cli/rollout/kube-client.ts) */
  readonly read?: (cluster: Cluster) => Promise<Parameters<typeof ownerOf>[0]>;
}

async function readPools(cluster: Cluster): Promise<Parameters<typeof ownerOf>[0]> {
  const { rolloutKube } = await import('../rollout/kube-client');
  const kube = rolloutKube(cluster.name, { cluster: cluster.name, region: cluster.region });
  return Promise.all(
    (cluster.karpenter?.nodePools ?? []).map(async (pool) => ({
      name: pool.name,
      nodePool: await kube.getNodePool(pool.name),
      nodeClass: await kube.getNodeClass(nodeClassName(pool)),
    })),
  );
}

/**
 * The reader: the cluster's context (named like the cluster, as `deploy`'s kubectl provider uses it), verified
 * against EKS (server and CA as DescribeCluster reports them, cli/shared/cluster-identity.ts) before what it says is
 * trusted: a context on another cluster would answer "nothing owns it" for the wrong cluster. A kubeconfig without
 * that context is not read (nothing to deploy the Karpenter stack with either). Throws ClusterIdentityMismatch.
 */
export function kubeUpgradeOwnerWith(deps: OwnerReaderDeps = {}): UpgradeOwner {
  return async (cluster) => {
    let kubeconfig: KubeConfig;
    try {
      kubeconfig = await (deps.kubeconfig ?? defaultKubeconfig)();
    } catch {
      return undefined;
    }
    if (!kubeconfig.getContexts().some((c) => c.name === cluster.name)) return undefined;
    await verifyClusterIdentity({ cluster: cluster.name, region: cluster.region, context: cluster.name, kubeconfig, describe: deps.describe });
    return ownerOf(await (deps.read ?? readPools)(cluster));
  };
}

export const kubeUpgradeOwner: UpgradeOwner = (cluster) => kubeUpgradeOwnerWith()(cluster);
