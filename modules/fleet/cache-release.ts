/**
 * The Bottlerocket release an image cache is built on, against the releases its clusters' nodes run
 * (`karpenter.amiAlias`, e.g. bottlerocket@v1.50.0). A builder on `latest` makes every pinned node older
 * than its cache, the less tested direction; so a cache builds on the release its users pin.
 */
import type { Problem } from './problems';

export interface ReleaseUser {
  readonly cluster: string;
  /** karpenter.amiAlias: bottlerocket@latest or bottlerocket@vX.Y.Z */
  readonly amiAlias: string;
}

/** The release an alias pins (1.50.0), or undefined for @latest. */
export function pinnedRelease(amiAlias: string): string | undefined {
  return /^bottlerocket@v(\d+\.\d+\.\d+)$/.exec(amiAlias)?.[1];
}

/** Orders releases 1.9.0 < 1.50.0. */
export function compareReleases(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/**
 * The release to build on, and the warnings: explicit wins; otherwise the users' pin when they agree, or the
 * oldest pin when they differ (nodes then run the cache's release or a newer one); none pinned: latest (undefined).
 */
export function resolveCacheRelease(cache: string, explicit: string | undefined, users: readonly ReleaseUser[]): { release?: string; warnings: Problem[] } {
  const pins = [...new Set(users.flatMap((u) => pinnedRelease(u.amiAlias) ?? []))].sort(compareReleases);
  const latest = users.filter((u) => pinnedRelease(u.amiAlias) === undefined).map((u) => u.cluster);
  const release = explicit ?? pins[0];
  const warnings: Problem[] = [];
  if (pins.length > 1)
    warnings.push({
      path: `imageCaches.${cache}`,
      message: `its clusters pin different Bottlerocket releases (${users.map((u) => `${u.cluster}: ${u.amiAlias}`).join(', ')}); the cache is built on ${release}, so nodes on a newer release run a cache from an older one`,
      fix: `pin the same release in every cluster's karpenter.amiAlias, or give the clusters caches of their own`,
    });
  if (release && latest.length > 0)
    warnings.push({
      path: `imageCaches.${cache}`,
      message: `the cache is built on Bottlerocket ${release}, and ${latest.join(', ')} use${latest.length === 1 ? 's' : ''} bottlerocket@latest: their nodes move to newer releases than the cache's without a rebuild`,
      fix: `pin karpenter.amiAlias to bottlerocket@v${release} in ${latest.join(', ')}, or rebuild the cache when Bottlerocket releases`,
    });
  return { release, warnings };
}
