/**
 * The one rendering of a pool's EC2NodeClass with concrete values, shared by the Karpenter stack (which
 * passes Terraform references for the role and the snapshot ID) and `npm run rollout` (which passes the
 * values those references resolve to). Same function, same YAML: after a rollout the kubectl provider
 * finds exactly the object it would apply. No cdktf import, so the CLI stays light.
 */
import type { Cluster, NodePool } from '../fleet/load';
import { stackTags } from '../terraform/stack-tags';
import { KubernetesManifest, manifestYaml } from '../kubernetes/manifest';
import { ec2NodeClass } from './node-class';

export function karpenterStackName(cluster: string): string {
  return `${cluster}-karpenter`;
}

/** A fixed, documented node role name (the karpenter module runs with node_iam_role_use_name_prefix = false). */
export function karpenterNodeRoleName(cluster: string): string {
  return `KarpenterNodeRole-${cluster}`;
}

/** Tags the Karpenter stack is built with (before FleetStack adds the stack name). */
export function karpenterClusterTags(fleetTags: Readonly<Record<string, string>>, cluster: Pick<Cluster, 'name' | 'tags'>): Record<string, string> {
  return { ...fleetTags, ...cluster.tags, 'bottlerocket-fleet:cluster': cluster.name };
}

/** The tags on every EC2NodeClass of the cluster: the Karpenter stack's provider default tags. */
export function nodeClassTags(fleetTags: Readonly<Record<string, string>>, cluster: Pick<Cluster, 'name' | 'tags'>): Record<string, string> {
  return { ...stackTags(karpenterClusterTags(fleetTags, cluster), karpenterStackName(cluster.name)) };
}

export interface RenderedNodeClass {
  readonly manifest: KubernetesManifest;
  /** Exactly the kubectl_manifest yaml_body Terraform applies once its references are resolved. */
  readonly yaml: string;
}

export function renderNodeClass(
  fleetTags: Readonly<Record<string, string>>,
  cluster: Cluster,
  pool: NodePool,
  snapshotId: string | undefined,
): RenderedNodeClass {
  const manifest = ec2NodeClass({ cluster, pool, role: karpenterNodeRoleName(cluster.name), snapshotId, tags: nodeClassTags(fleetTags, cluster) });
  return { manifest, yaml: manifestYaml(manifest) };
}
