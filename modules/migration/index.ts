/**
 * Extra Kubernetes objects a cluster's Karpenter stack applies for the migration from Amazon Linux 2
 * (headroom placeholder pods, keeping the legacy NVIDIA device plugin off Bottlerocket nodes).
 * The Karpenter stack applies every entry with kubectl_manifest after the Karpenter Helm release.
 */
import type { Cluster } from '../fleet/load';
import type { KubernetesManifest } from '../kubernetes/manifest';

export interface ClusterAddonManifest {
  /** Stable construct ID, derived from the object's kind and name. */
  readonly id: string;
  readonly manifest: KubernetesManifest;
  /** Patch an object that exists already (server-side apply of only the fields we own). */
  readonly serverSideApply?: boolean;
}

/** The migration objects for a cluster; empty while the fleet file asks for none. */
export function migrationManifests(cluster: Cluster): ClusterAddonManifest[] {
  void cluster; // filled in by the migration work (issue 5): headroom and the legacy device plugin
  return [];
}
