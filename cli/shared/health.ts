/**
 * Workload health checks shared by the commands that replace nodes (`migrate drain`, `rollout`): pure
 * functions over what the API server reports, so each command keeps its own polling and clock.
 */

/** Container waiting reasons that mean a pod on a new node will not start by itself. */
export const FAILING_WAITING_REASONS = ['ImagePullBackOff', 'ErrImagePull', 'CrashLoopBackOff'] as const;

export interface PodHealth {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName?: string;
  readonly phase: string;
  readonly createdAt: Date;
  /** state.waiting.reason of every container (init containers included) that is waiting. */
  readonly waitingReasons: readonly string[];
}

export interface WorkloadAvailability {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly desired: number;
  readonly available: number;
}

export const podName = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;

/** Pods on the given nodes whose containers wait for a reason that will not heal by itself. */
export function failingPods(pods: readonly PodHealth[], nodes: ReadonlySet<string>): { pod: PodHealth; reason: string }[] {
  return pods.flatMap((pod) => {
    const reason = pod.waitingReasons.find((r) => (FAILING_WAITING_REASONS as readonly string[]).includes(r));
    return pod.nodeName && nodes.has(pod.nodeName) && reason ? [{ pod, reason }] : [];
  });
}

/**
 * Pods Pending longer than the limit, counting only pods created since `since` (a pod stuck since before
 * the operation began is not its doing — the drain's rule).
 */
export function pendingTooLong<P extends Pick<PodHealth, 'phase' | 'createdAt'>>(pods: readonly P[], since: number, now: number, limitMs: number): P[] {
  return pods.filter((p) => p.phase === 'Pending' && p.createdAt.getTime() >= since && now - p.createdAt.getTime() > limitMs);
}

/** "Deployment default/web 2/3 available" for every workload below its desired replicas. */
export function unavailableWorkloads(workloads: readonly WorkloadAvailability[]): string[] {
  return workloads.filter((w) => w.available < w.desired).map((w) => `${w.kind} ${w.namespace}/${w.name} ${w.available}/${w.desired} available`);
}
