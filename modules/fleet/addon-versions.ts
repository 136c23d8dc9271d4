/**
 * The EKS add-on versions a cluster stack pins: the fleet file's (clusters.<c>.addons), else the default for
 * the cluster's Kubernetes version in contracts/eks-addon-versions.json. Nothing follows "most recent": an
 * apply of the cluster stack never changes CoreDNS, kube-proxy, the VPC CNI or the Pod Identity agent because
 * AWS published a version. Where the contract has no checked version, EKS's default version for that
 * Kubernetes version is used (it moves only when AWS changes the default, not with every release); no synth
 * warning for it, so fleets on such versions stay warning-free: `bottlerocket-fleet addons` shows it, and
 * docs/not-verified.md lists the versions without a checked default.
 */
import { readJsonContract } from '../contracts/index';
import type { Problem } from './problems';

export const EKS_ADDONS = ['coredns', 'kube-proxy', 'vpc-cni', 'eks-pod-identity-agent'] as const;
export type EksAddon = (typeof EKS_ADDONS)[number];

/** An EKS add-on version as DescribeAddonVersions spells it, e.g. v1.11.4-eksbuild.22. */
export const ADDON_VERSION_PATTERN = /^v\d+\.\d+\.\d+-eksbuild\.\d+$/;

interface AddonVersionsContract {
  readonly versions: Partial<Record<string, Partial<Record<EksAddon, { version: string; source: string } | null>>>>;
}

/** The contract's default for an add-on on a Kubernetes minor (undefined: none checked). */
export function defaultAddonVersion(kubernetesVersion: string, addon: EksAddon): string | undefined {
  return readJsonContract<AddonVersionsContract>('eks-addon-versions.json').versions[kubernetesVersion]?.[addon]?.version;
}

export interface ResolvedAddons {
  /** Per add-on: the pinned version, or undefined for EKS's default version of the Kubernetes minor. */
  readonly versions: Readonly<Record<EksAddon, string | undefined>>;
  /** Add-ons without a pinned version (EKS's default version for the Kubernetes minor is installed). */
  readonly unpinned: readonly EksAddon[];
  readonly problems: Problem[];
}

/**
 * Versions for a cluster. kube-proxy must be of the cluster's own minor (EKS User Guide, "Manage kube-proxy":
 * the add-on version is per Kubernetes version), so a v1.34 kube-proxy on a 1.35 cluster is refused.
 */
export function resolveAddons(cluster: string, kubernetesVersion: string, explicit: Partial<Record<EksAddon, string>> = {}): ResolvedAddons {
  const at = `clusters.${cluster}.addons`;
  const problems: Problem[] = [];
  const versions = Object.fromEntries(EKS_ADDONS.map((addon) => [addon, explicit[addon] ?? defaultAddonVersion(kubernetesVersion, addon)])) as Record<
    EksAddon,
    string | undefined
  >;
  const proxy = versions['kube-proxy'];
  const proxyMinor = proxy && /^v(\d+\.\d+)\./.exec(proxy)?.[1];
  if (proxyMinor && proxyMinor !== kubernetesVersion)
    problems.push({
      path: `${at}.kube-proxy`,
      message: `${proxy} is kube-proxy for Kubernetes ${proxyMinor}, and the cluster runs ${kubernetesVersion}`,
      fix: `use a v${kubernetesVersion}.x-eksbuild.N version (bottlerocket-fleet addons --cluster ${cluster} lists them), or remove it for the default`,
    });
  return { versions, unpinned: EKS_ADDONS.filter((a) => versions[a] === undefined), problems };
}
