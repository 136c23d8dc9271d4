/**
 * Combinations the upstream contracts rule out, refused at synth (issue 30, item 7):
 * - a Karpenter chart older than the minimum its compatibility matrix names for the cluster's Kubernetes minor,
 *   or a minor outside the range the chart's own version check accepts (contracts/karpenter-compatibility.json);
 * - a pinned Bottlerocket release older than the first (or newer than the last) release of the cluster's
 *   aws-k8s-<version> variant (contracts/bottlerocket-variant-releases.json): Karpenter's alias discovery would
 *   find no image, and the nodes would silently stay put.
 */
import { readJsonContract } from '../contracts/index';
import { compareReleases } from './cache-release';
import { compareKubernetesVersions } from './constants';
import type { Problem } from './problems';

interface KarpenterCompatibility {
  readonly minimumKarpenter: Partial<Record<string, string>>;
  readonly supportedRange: Partial<Record<string, { min: string; max: string }>>;
}
interface VariantReleases {
  readonly variants: Partial<Record<string, { first: string | null; last: string | null }>>;
}

/** Problems of a Karpenter chart version on a Kubernetes minor. */
export function karpenterCompatibility(cluster: string, kubernetesVersion: string, chartVersion: string): Problem[] {
  const c = readJsonContract<KarpenterCompatibility>('karpenter-compatibility.json');
  const at = `clusters.${cluster}.karpenter.chartVersion`;
  const min = c.minimumKarpenter[kubernetesVersion];
  if (min && compareReleases(chartVersion, min) < 0)
    return [
      {
        path: at,
        message: `Karpenter ${chartVersion} does not support Kubernetes ${kubernetesVersion}: its compatibility matrix asks for ${min} or newer`,
        fix: `raise chartVersion to at least ${min} (with the CRDs of that release), or keep the cluster on an older Kubernetes version`,
      },
    ];
  const range = c.supportedRange[chartVersion.split('.').slice(0, 2).join('.')];
  if (range && (compareKubernetesVersions(kubernetesVersion, range.min) < 0 || compareKubernetesVersions(kubernetesVersion, range.max) > 0))
    return [
      {
        path: at,
        message: `Karpenter ${chartVersion} refuses to run on Kubernetes ${kubernetesVersion}: it accepts ${range.min} to ${range.max} (pkg/providers/version/version.go)`,
        fix: `use a Karpenter release that supports ${kubernetesVersion}`,
      },
    ];
  return [];
}

/** Problems of a pinned Bottlerocket release for aws-k8s-<kubernetesVersion>. */
export function variantReleaseProblems(kubernetesVersion: string, release: string, key: string): Problem[] {
  if (release === 'latest') return [];
  const v = readJsonContract<VariantReleases>('bottlerocket-variant-releases.json').variants[kubernetesVersion];
  if (v?.first && compareReleases(release, v.first) < 0)
    return [
      {
        path: key,
        message: `Bottlerocket ${release} has no aws-k8s-${kubernetesVersion} variant: its first release is ${v.first}, so Karpenter's alias finds no image and the nodes silently stay where they are`,
        fix: `pin ${v.first} or newer for Kubernetes ${kubernetesVersion} (docs/upgrades.md)`,
      },
    ];
  if (v?.last && compareReleases(release, v.last) > 0)
    return [
      {
        path: key,
        message: `Bottlerocket ${release} no longer builds aws-k8s-${kubernetesVersion}: its last release is ${v.last}`,
        fix: `pin ${v.last} or older, or upgrade the cluster's Kubernetes version first`,
      },
    ];
  return [];
}
