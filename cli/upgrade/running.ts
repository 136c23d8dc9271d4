/**
 * A cluster's running state for `upgrade plan` and `status`: EKS (control plane, the system node group,
 * add-ons) and, per pool, the live EC2NodeClass and the image each NodeClaim's node runs (kube-client.ts).
 */
import type { Cluster } from '../../modules/fleet/load';
import { nodeClassName } from '../../modules/karpenter/node-class';
import { NODE_CLASS_HASH_ANNOTATION, UPGRADE_ANNOTATIONS } from '../rollout/model';
import type { UpgradeEks, EksNodegroup } from './aws';
import type { LiveNode, UpgradeKube } from './kube-client';
import type { NodeImage, RunningCluster, RunningPool } from './plan';

/**
 * The system node group among the cluster's: the eks module names a group after its key with a random suffix
 * (terraform-aws-eks modules/eks-managed-node-group/main.tf: node_group_name_prefix = "${var.name}-" with
 * use_name_prefix, the default), and the cluster stack's key is `system` (stacks/cluster-stack.ts).
 */
export function systemNodegroup(groups: readonly EksNodegroup[]): EksNodegroup | undefined {
  return groups.find((g) => g.name === 'system') ?? groups.find((g) => g.name.startsWith('system-'));
}

/** "v1.35.2-eks-113cf36" -> "1.35". */
export function kubeletMinor(kubeletVersion: string | undefined): string | undefined {
  return /^v?(\d+\.\d+)\./.exec(kubeletVersion ?? '')?.[1];
}

/** "Bottlerocket OS 1.55.0 (aws-k8s-1.35)" or "(aws-k8s-1.35-nvidia)" -> release and variant's Kubernetes version. */
export function bottlerocketImage(osImage: string | undefined): { release: string; variantVersion: string } | undefined {
  const m = /^Bottlerocket OS (\d+\.\d+\.\d+) \(aws-k8s-(\d+\.\d+)(?:-nvidia)?\)$/.exec(osImage ?? '');
  return m ? { release: m[1], variantVersion: m[2] } : undefined;
}

/** What a node runs: the variant's version from the OS image (else the kubelet's), the release from the OS image. */
export function nodeImageOf(node: LiveNode | undefined): NodeImage {
  const image = bottlerocketImage(node?.osImage);
  return { kubernetesVersion: image?.variantVersion ?? kubeletMinor(node?.kubeletVersion), release: image?.release };
}

function recordedUpgrade(a: Readonly<Record<string, string>>): RunningPool['upgrade'] {
  const state = a[UPGRADE_ANNOTATIONS.state] as string | undefined;
  return state === undefined
    ? undefined
    : {
        target: a[UPGRADE_ANNOTATIONS.target],
        state,
        reason: a[UPGRADE_ANNOTATIONS.reason],
        step: a[UPGRADE_ANNOTATIONS.step],
        generation: a[UPGRADE_ANNOTATIONS.generation],
      };
}

async function runningPools(cluster: Cluster, kube: UpgradeKube): Promise<RunningPool[]> {
  const [claims, nodes] = await Promise.all([kube.nodeClaims(), kube.nodes()]);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return Promise.all(
    (cluster.karpenter?.nodePools ?? []).map(async (pool) => {
      const live = await kube.nodeClass(nodeClassName(pool));
      const mine = claims.filter((c) => c.pool === pool.name);
      return {
        name: pool.name,
        alias: live?.alias,
        snapshot: live?.snapshot,
        upgrade: recordedUpgrade(live?.annotations ?? {}),
        // The snapshot is in the class's static hash (only amiSelectorTerms and the selector fields are hash:"ignore",
        // A pkg/apis/v1/ec2nodeclass.go): a claim launched for the live class's hash mounts its snapshot; any other an
        // earlier generation, unknown here.
        nodes: mine.map((c) => ({
          ...nodeImageOf(c.nodeName ? byName.get(c.nodeName) : undefined),
          claim: c.name,
          snapshot: live?.snapshot !== undefined && c.hash !== undefined && c.hash === live.annotations[NODE_CLASS_HASH_ANNOTATION] ? live.snapshot : undefined,
        })),
      };
    }),
  );
}

/** The cluster as it runs, or undefined when EKS has no such cluster (not deployed yet). */
export async function readRunningCluster(cluster: Cluster, eks: UpgradeEks, kube: () => UpgradeKube): Promise<RunningCluster | undefined> {
  const version = await eks.clusterVersion(cluster.name);
  if (version === undefined) return undefined;
  const [groups, addons, pools] = await Promise.all([eks.nodegroups(cluster.name), eks.addons(cluster.name), runningPools(cluster, kube())]);
  return { name: cluster.name, controlPlane: version, nodegroup: systemNodegroup(groups), addons, pools };
}
