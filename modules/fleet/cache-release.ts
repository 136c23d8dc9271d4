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
export function resolveCacheRelease(
  cache: string,
  explicit: string | undefined,
  users: readonly ReleaseUser[],
): { release?: string; warnings: Problem[]; problems: Problem[] } {
  const pins = [...new Set(users.flatMap((u) => pinnedRelease(u.amiAlias) ?? []))].sort(compareReleases);
  const latest = users.filter((u) => pinnedRelease(u.amiAlias) === undefined).map((u) => u.cluster);
  const release = explicit ?? pins[0];
  const warnings: Problem[] = [];
  // An explicit release newer than a user's pin: those nodes would run a cache from a newer release than theirs.
  const older = explicit ? users.filter((u) => pinnedRelease(u.amiAlias) !== undefined && compareReleases(explicit, pinnedRelease(u.amiAlias)!) > 0) : [];
  const problems: Problem[] = older.map((u) => ({
    path: `imageCaches.${cache}.bottlerocketVersion`,
    message: `${explicit} is newer than the release cluster ${u.cluster} pins (${u.amiAlias}): its nodes would run a cache built on a newer Bottlerocket than theirs`,
    fix: `set bottlerocketVersion to ${pinnedRelease(u.amiAlias)} or remove it (it follows the clusters' bottlerocketRelease), or raise clusters.${u.cluster}.bottlerocketRelease`,
  }));
  if (pins.length > 1)
    warnings.push({
      path: `imageCaches.${cache}`,
      message: `its clusters pin different Bottlerocket releases (${users.map((u) => `${u.cluster}: ${u.amiAlias}`).join(', ')}); the cache is built on ${release}, so nodes on a newer release run a cache from an older one`,
      fix: `pin the same release in every cluster's bottlerocketRelease (older fleet files: pin the same release in every cluster's karpenter.amiAlias), or give the clusters caches of their own`,
    });
  if (release && latest.length > 0)
    warnings.push({
      path: `imageCaches.${cache}`,
      message: `the cache is built on Bottlerocket ${release}, and ${latest.join(', ')} use${latest.length === 1 ? 's' : ''} bottlerocket@latest: their nodes move to newer releases than the cache's without a rebuild`,
      fix: `set bottlerocketRelease: ${release} in ${latest.join(', ')} (older fleet files: pin karpenter.amiAlias to bottlerocket@v${release}), or rebuild the cache when Bottlerocket releases`,
    });
  return { release, warnings, problems };
}
