/**
 * Extra Kubernetes objects a cluster's Karpenter stack applies for the migration from Amazon Linux 2
 * (headroom placeholder pods, keeping the legacy NVIDIA device plugin off Bottlerocket nodes).
 * The Karpenter stack applies every entry with kubectl_manifest after the Karpenter Helm release;
 * removing the fleet keys removes the entries, and Terraform deletes what it created.
 */
import type { Cluster } from '../fleet/load';
import type { KubernetesManifest } from '../kubernetes/manifest';
import { headroomManifests } from './headroom';
import { devicePluginPatch } from './device-plugin';

export interface ClusterAddonManifest {
  /** Stable construct ID, derived from the object's kind and name. */
  readonly id: string;
  readonly manifest: KubernetesManifest;
  /** Patch an object that exists already (server-side apply of only our fields; never deleted by Terraform). */
  readonly serverSideApply?: boolean;
}

export function migrationManifests(cluster: Cluster): ClusterAddonManifest[] {
  const id = (m: KubernetesManifest) => `${m.kind}-${m.metadata.name}`;
  return [
    ...headroomManifests(cluster).map((manifest) => ({ id: id(manifest), manifest })),
    ...devicePluginPatch(cluster).map((manifest) => ({ id: id(manifest), manifest, serverSideApply: true })),
  ];
}
