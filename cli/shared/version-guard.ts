/**
 * `deploy` of a cluster stack against the running control plane (issue 30, item 6): EKS moves a control plane
 * one minor at a time and never down (EKS User Guide "Update existing cluster to new Kubernetes version": once
 * upgraded, a cluster cannot be downgraded; eksctl's "Cluster upgrades": "Control plane version upgrades must be
 * done for one minor version at a time"), so a fleet file two minors ahead or behind would fail half-way
 * through an apply. Refused before Terraform runs, naming the version to go through.
 */
import { compareKubernetesVersions } from '../../modules/fleet/constants';

export interface GuardedCluster {
  readonly name: string;
  readonly kubernetesVersion: string;
}

/** The refusal, or undefined when the fleet file's version is the running one or the next minor (or the cluster is new). */
export function versionGuard(cluster: GuardedCluster, running: string | undefined): string | undefined {
  if (running === undefined) return undefined;
  const want = cluster.kubernetesVersion;
  const at = `clusters.${cluster.name}.kubernetesVersion`;
  if (compareKubernetesVersions(want, running) < 0)
    return `${at}: ${want}, and the control plane runs ${running}: EKS cannot downgrade a cluster. Set kubernetesVersion back to ${running}`;
  const [major, minor] = running.split('.').map(Number);
  const next = `${major}.${minor + 1}`;
  if (compareKubernetesVersions(want, next) > 0)
    return `${at}: ${want}, and the control plane runs ${running}: EKS upgrades one minor at a time. Set kubernetesVersion to ${next}, deploy, then move on to ${want}`;
  return undefined;
}
