/**
 * Load-time check that every cluster using an image cache can mount the filesystem the cache is built
 * with (modules/image-cache/kernel-lines.ts says why a mismatch keeps nodes from booting), and the
 * version a cache builds on by default: the lowest among its users, whose mkfs defaults every newer
 * kernel line mounts.
 */
import type { Problem } from './problems';
import { compareKubernetesVersions } from './constants';
import { kernelLineOf, unmountableFeatures } from '../image-cache/kernel-lines';

export interface CacheUser {
  readonly cluster: string;
  readonly kubernetesVersion: string;
}

/** The version to build on when the cache names none: the lowest among its users (undefined: no users). */
export function defaultBuildVersion(users: readonly CacheUser[]): string | undefined {
  return users.map((u) => u.kubernetesVersion).sort(compareKubernetesVersions)[0];
}

/**
 * Problems when a user's kernel line cannot mount what `buildVersion`'s kernel line formats. `explicit`:
 * the version was set in the fleet file (the problem names that key; otherwise the cache itself).
 */
export function checkCacheKernelLines(
  cache: { readonly name: string; readonly variant: 'cpu' | 'gpu' },
  buildVersion: string,
  explicit: boolean,
  users: readonly CacheUser[],
): Problem[] {
  const at = `imageCaches.${cache.name}${explicit ? '.kubernetesVersion' : ''}`;
  const builtOn = kernelLineOf(buildVersion, cache.variant);
  if (!builtOn)
    return [
      {
        path: at,
        message: `no kernel line is recorded for aws-k8s-${buildVersion} in contracts/bottlerocket-kernel-lines.json, so whether its users can mount the cache is unknown`,
        fix: 'add the variant to the contract (from its Cargo.toml in bottlerocket-os/bottlerocket) or build on a listed version',
      },
    ];
  const broken = users.flatMap((u) => {
    const line = kernelLineOf(u.kubernetesVersion, cache.variant);
    const missing = line ? unmountableFeatures(builtOn, line) : ['(unknown kernel line)'];
    return missing.length > 0 ? [{ ...u, line, missing }] : [];
  });
  if (broken.length === 0) return [];
  const lowest = defaultBuildVersion(users)!;
  return [
    {
      path: at,
      message: `built on aws-k8s-${buildVersion} (kernel ${builtOn}), its data volume is formatted with XFS features that ${broken
        .map((b) => `cluster ${b.cluster} (Kubernetes ${b.kubernetesVersion}, kernel ${b.line ?? 'unknown'}) cannot mount: ${b.missing.join(', ')}`)
        .join('; ')}; those nodes would fail local.mount and never join`,
      fix: explicit
        ? `set kubernetesVersion to ${lowest} (the lowest among the cache's clusters) or remove it, or give ${broken.map((b) => b.cluster).join(', ')} a cache of their own`
        : `give ${broken.map((b) => b.cluster).join(', ')} a cache of their own`,
    },
  ];
}
