/**
 * The one Bottlerocket release a cluster's nodes run (`clusters.<c>.bottlerocketRelease`): it becomes the
 * alias of every pool (bottlerocket@v<release>) and the system node group's release. `latest` lets Karpenter
 * resolve the newest release itself (cached 24 hours, then every node drifts at its own moment), which
 * Karpenter's docs advise against outside pre-production; so it warns, and a staged rollout refuses it.
 */
import type { Problem } from './problems';
import { pinnedRelease } from './cache-release';

export type BottlerocketRelease = 'latest' | `${number}.${number}.${number}`;

export interface ClusterReleaseInput {
  /** clusters.<c>.bottlerocketRelease as written (undefined: not set). */
  readonly bottlerocketRelease?: string;
  /** clusters.<c>.karpenter.amiAlias as written (undefined: not set, or no karpenter). */
  readonly amiAlias?: string;
}

export interface ClusterRelease {
  readonly release: BottlerocketRelease;
  /** What every EC2NodeClass of the cluster selects. */
  readonly amiAlias: string;
  readonly problems: Problem[];
  readonly warnings: Problem[];
}

/** Karpenter's alias for a release: bottlerocket@v1.55.0 or bottlerocket@latest. */
export function aliasOf(release: BottlerocketRelease): string {
  return release === 'latest' ? 'bottlerocket@latest' : `bottlerocket@v${release}`;
}

/**
 * The cluster's release: bottlerocketRelease, else what an older fleet file's amiAlias pins, else latest.
 * Both set: they must agree. `hasRollout`: the fleet has a rollout section, which cannot stage @latest.
 */
export function resolveClusterRelease(cluster: string, input: ClusterReleaseInput, hasRollout: boolean): ClusterRelease {
  const at = `clusters.${cluster}`;
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const fromAlias = input.amiAlias === undefined ? undefined : (pinnedRelease(input.amiAlias) ?? 'latest');
  if (input.bottlerocketRelease !== undefined && fromAlias !== undefined && fromAlias !== input.bottlerocketRelease)
    problems.push({
      path: `${at}.karpenter.amiAlias`,
      message: `${input.amiAlias} disagrees with ${at}.bottlerocketRelease (${input.bottlerocketRelease}): the pools and the system node group would run different releases`,
      fix: `remove karpenter.amiAlias (it follows bottlerocketRelease), or set it to ${aliasOf(input.bottlerocketRelease as BottlerocketRelease)}`,
    });
  const release = (input.bottlerocketRelease ?? fromAlias ?? 'latest') as BottlerocketRelease;
  const key = input.bottlerocketRelease === undefined && input.amiAlias !== undefined ? `${at}.karpenter.amiAlias` : `${at}.bottlerocketRelease`;
  if (release === 'latest') {
    const why =
      'nodes follow the newest Bottlerocket release without anyone deciding: Karpenter caches bottlerocket@latest for 24 hours and then drifts every node at its own moment, and the system node group takes the newest release on every apply';
    if (hasRollout)
      problems.push({
        path: key,
        message: `${input.bottlerocketRelease === undefined && input.amiAlias === undefined ? 'not set, so latest' : 'latest'}, and the fleet has a rollout section: ${why}, past every stage and health gate`,
        fix: `pin a release, e.g. ${at}.bottlerocketRelease: 1.55.0 (docs/upgrades.md)`,
      });
    else
      warnings.push({
        path: key,
        message: `${input.bottlerocketRelease === undefined && input.amiAlias === undefined ? 'not set: latest' : 'latest'} (pre-production only): ${why}`,
        fix: `pin a release, e.g. ${at}.bottlerocketRelease: 1.55.0 (docs/upgrades.md)`,
      });
  }
  return { release, amiAlias: aliasOf(release), problems, warnings };
}
