/**
 * When each supported Kubernetes version leaves EKS standard and extended support. Source: the AWS "Amazon EKS
 * Kubernetes release calendar" (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html), cross-checked
 * with endoflife.date/amazon-eks, 2026-11. Standard support lasts 14 months from the EKS release, extended support
 * 12 more; at the end of extended support EKS upgrades the control plane itself. A date is the day support ends.
 * Keep this table current with the release calendar.
 */
import type { KubernetesVersion } from './constants';
import type { Problem } from './problems';

export interface EksSupportWindow {
  /** The day standard support ends (extended support, at extra cost per cluster hour, starts). */
  readonly endOfStandardSupport: string;
  /** The day extended support ends: EKS then upgrades such clusters itself. */
  readonly endOfExtendedSupport: string;
}

/** `undefined`: EKS has published no dates for it in the sources above (listed in docs/not-verified.md). */
export const EKS_SUPPORT: Readonly<Record<KubernetesVersion, EksSupportWindow | undefined>> = {
  '1.31': { endOfStandardSupport: '2025-11-26', endOfExtendedSupport: '2026-11-26' },
  '1.32': { endOfStandardSupport: '2026-03-23', endOfExtendedSupport: '2027-03-23' },
  '1.33': { endOfStandardSupport: '2026-07-29', endOfExtendedSupport: '2027-07-29' },
  '1.34': { endOfStandardSupport: '2026-12-02', endOfExtendedSupport: '2027-12-02' },
  '1.35': { endOfStandardSupport: '2027-03-27', endOfExtendedSupport: '2028-03-27' },
  '1.36': undefined,
};

/** How close to the end of standard support synth starts to say so. */
export const STANDARD_SUPPORT_NOTICE_DAYS = 30;

export type EksSupportPhase = 'standard' | 'extended' | 'ended' | 'unknown';

/** The phase of a version on a day (YYYY-MM-DD, UTC). */
export function eksSupportPhase(version: KubernetesVersion, today: string): EksSupportPhase {
  const w = EKS_SUPPORT[version];
  if (!w) return 'unknown';
  if (today >= w.endOfExtendedSupport) return 'ended';
  return today >= w.endOfStandardSupport ? 'extended' : 'standard';
}

/** The newest version with published dates that is in standard support on that day: what a fix should suggest. */
function suggestion(today: string): string {
  const inStandard = (Object.keys(EKS_SUPPORT) as KubernetesVersion[]).filter((v) => eksSupportPhase(v, today) === 'standard');
  const best = inStandard.at(-1);
  return best ? `${best} (EKS standard support until ${EKS_SUPPORT[best]!.endOfStandardSupport})` : 'a version in EKS standard support';
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/**
 * What synth says about a cluster's version on a day: refuse one past extended support (EKS has upgraded it, or
 * will as soon as it exists), warn in extended support and in the last weeks of standard support.
 */
export function eksSupportFinding(version: KubernetesVersion, today: string, path: string): { problem?: Problem; warning?: Problem } {
  const w = EKS_SUPPORT[version];
  if (!w) return {};
  switch (eksSupportPhase(version, today)) {
    case 'ended':
      return {
        problem: {
          path,
          message: `Kubernetes ${version} reached the end of EKS extended support on ${w.endOfExtendedSupport}: EKS upgrades such clusters to the next version by itself`,
          fix: `use ${suggestion(today)}; upgrade an existing cluster one minor version at a time, control plane first`,
        },
      };
    case 'extended':
      return {
        warning: {
          path,
          message: `Kubernetes ${version} left EKS standard support on ${w.endOfStandardSupport}: extended support costs extra per cluster hour and ends on ${w.endOfExtendedSupport}, when EKS upgrades the control plane by itself`,
          fix: `upgrade to ${suggestion(today)}, control plane first, then the nodes`,
        },
      };
    case 'standard': {
      const left = daysBetween(today, w.endOfStandardSupport);
      return left <= STANDARD_SUPPORT_NOTICE_DAYS
        ? {
            warning: {
              path,
              message: `Kubernetes ${version} leaves EKS standard support on ${w.endOfStandardSupport} (in ${left} day(s)); extended support then costs extra per cluster hour`,
              fix: `plan the upgrade to a newer version before ${w.endOfStandardSupport}`,
            },
          }
        : {};
    }
    case 'unknown':
      return {};
  }
}

/** Today as the version checks see it: BOTTLEROCKET_FLEET_TODAY (YYYY-MM-DD; tests pin it) or the UTC date. */
export function todayFromEnvironment(env: NodeJS.ProcessEnv = process.env, now = new Date()): string {
  const pinned = env.BOTTLEROCKET_FLEET_TODAY;
  if (pinned !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(pinned) || Number.isNaN(Date.parse(pinned)))
      throw new Error(`BOTTLEROCKET_FLEET_TODAY must be a date like 2026-11-25, not "${pinned}"`);
    return pinned;
  }
  return now.toISOString().slice(0, 10);
}

/**
 * Days from `today` until the version leaves EKS support altogether (end of extended support; 0 or less: it has
 * left), or `undefined` when EKS has published no dates. The examples' real-clock test warns on this.
 */
export function daysOfSupportLeft(version: KubernetesVersion, today: string): number | undefined {
  const w = EKS_SUPPORT[version];
  return w ? daysBetween(today, w.endOfExtendedSupport) : undefined;
}
