/**
 * Which pods the drain evicts, which stop a batch before it is cordoned, and how long an evicted pod may
 * take to terminate (pure). The rules follow `kubectl drain`'s filters (kubernetes/kubectl
 * pkg/drain/filters.go: daemonSetFilter, mirrorPodFilter, localStorageFilter, unreplicatedFilter).
 */
import type { PodInfo } from './kube';
import { podName } from '../shared/health';

/** DaemonSet pods stay (their controller would recreate them); mirror pods belong to the kubelet; finished pods need nothing. */
export function evictable(p: PodInfo): boolean {
  return !p.mirror && p.owner?.kind !== 'DaemonSet' && p.phase !== 'Succeeded' && p.phase !== 'Failed';
}

/** What stops a batch before it is cordoned, and the flag that accepts it. */
export interface Blocker {
  readonly flag: '--force' | '--delete-emptydir-data';
  readonly pods: readonly PodInfo[];
  /** "unmanaged pod(s) a/b: no controller recreates them once evicted" */
  readonly what: string;
  /** What to do instead of the flag. */
  readonly fix: string;
}

/**
 * Pods the drain would evict that lose something for good: no controller recreates them (`--force`), or
 * their emptyDir data is deleted with them (`--delete-emptydir-data`). Like kubectl's
 * localStorageFilter, any emptyDir counts, medium "Memory" too: tmpfs is as gone after an eviction as disk,
 * and nothing in the pod spec says whether a volume holds only scratch. Pods already terminating are not
 * counted: the drain can no longer save what they hold.
 */
export function blockers(pods: readonly PodInfo[]): Blocker[] {
  const candidates = pods.filter((p) => evictable(p) && !p.terminatingSince);
  const unmanaged = candidates.filter((p) => !p.owner);
  const local = candidates.filter((p) => p.emptyDirs.length > 0);
  return [
    ...(unmanaged.length === 0
      ? []
      : [
          {
            flag: '--force' as const,
            pods: unmanaged,
            what: `unmanaged pod(s) ${unmanaged.map(podName).join(', ')}: no controller recreates them once evicted`,
            fix: 'move them, or re-run with --force to evict them anyway',
          },
        ]),
    ...(local.length === 0
      ? []
      : [
          {
            flag: '--delete-emptydir-data' as const,
            pods: local,
            what: `pod(s) with emptyDir volumes ${local.map((p) => `${podName(p)} (${p.emptyDirs.map((v) => (v.medium ? `${v.name}, ${v.medium}` : v.name)).join('; ')})`).join(', ')}: their data is deleted with the pod`,
            fix: 'copy what must survive elsewhere, then re-run with --delete-emptydir-data to evict them',
          },
        ]),
  ];
}

/** Margin over a pod's own grace period: the kubelet's SIGKILL, volume teardown and the API's final delete. */
export const POD_TIMEOUT_MARGIN_MS = 60_000;
/** A pod asking for more than this (hours of grace) stops the drain instead of holding it silently. */
export const POD_TIMEOUT_MAX_MS = 3_600_000;

/** How long an evicted pod may take to be gone: `--pod-timeout` if given, else its grace period + 1m, at most 1h. */
export function podTimeoutMs(pod: Pick<PodInfo, 'gracePeriodSeconds'>, explicitMs?: number): number {
  return explicitMs ?? Math.min(POD_TIMEOUT_MAX_MS, pod.gracePeriodSeconds * 1000 + POD_TIMEOUT_MARGIN_MS);
}

/**
 * kubectl's waitForDelete test (kubernetes/kubectl pkg/drain/drain.go): an evicted pod is done when a
 * read answers 404, or the name now belongs to a new pod (another UID, a StatefulSet's replacement).
 */
export function goneOrReplaced(evicted: Pick<PodInfo, 'uid'>, current: Pick<PodInfo, 'uid'> | undefined): boolean {
  return current === undefined || current.uid !== evicted.uid;
}

/**
 * `--skip-wait-for-delete-timeout` (kubectl's shouldSkipPod, kubernetes/kubectl pkg/drain/filters.go): a pod
 * whose deletionTimestamp is older than the limit is neither evicted nor waited for (a node gone NotReady
 * never confirms the deletion). No limit, or 0, skips nothing, as in kubectl.
 */
export function skipWaitForDelete(pod: Pick<PodInfo, 'terminatingSince'>, now: number, limitMs?: number): boolean {
  return Boolean(limitMs) && pod.terminatingSince !== undefined && now - pod.terminatingSince.getTime() > limitMs!;
}
