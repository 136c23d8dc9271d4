/**
 * Transient API faults (see KubeApiError) are retried with capped exponential backoff on the drain's
 * clock; anything else, or a fault that outlasts the policy, is thrown for the drain to stop on.
 * `kubectl drain` itself retries only 429s (pkg/drain/drain.go evictPods); a migration that runs for an
 * hour meets API server restarts and throttling, so the drain also rides those out.
 */
import { KubeApiError, type KubeApi } from './kube';
import { formatDuration } from '../shared/duration';

export interface RetryPolicy {
  readonly firstDelayMs: number;
  /** No single wait is longer than this. */
  readonly maxDelayMs: number;
  /** A call still failing this long after its first attempt is given up. */
  readonly giveUpAfterMs: number;
}

/** 1s, 2s, 4s, 8s, then every 15s, for 2 minutes: longer than an API server restart behind a load balancer takes. */
export const API_RETRY: RetryPolicy = { firstDelayMs: 1000, maxDelayMs: 15_000, giveUpAfterMs: 120_000 };

export interface RetryContext {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: (line: string) => void;
  readonly policy?: RetryPolicy;
}

/** The wait before retry number `attempt` (0-based): doubling from the first delay, capped. */
export function backoffDelay(attempt: number, policy: RetryPolicy = API_RETRY): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** attempt);
}

/**
 * Calls `fn` until it succeeds, retrying transient KubeApiErrors. `settled`, when given, runs before each
 * retry and may return a result that makes the retry unnecessary (the fault hid a success).
 */
export async function withRetry<T>(fn: () => Promise<T>, ctx: RetryContext, settled?: () => Promise<T | undefined>): Promise<T> {
  const policy = ctx.policy ?? API_RETRY;
  const start = ctx.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof KubeApiError) || !e.transient) throw e;
      const delay = backoffDelay(attempt, policy);
      if (ctx.now() - start + delay > policy.giveUpAfterMs) {
        throw new KubeApiError(e.operation, e.status, `${e.detail} (still failing after ${formatDuration(ctx.now() - start)} of retries)`.trim(), true);
      }
      ctx.log(`  ${e.message}${e.status === 429 ? ' (API server throttling, not a PodDisruptionBudget)' : ''}; retrying in ${formatDuration(delay)}`);
      await ctx.sleep(delay);
      if (settled) {
        const result = await settled();
        if (result !== undefined) return result;
      }
    }
  }
}

/**
 * The API with every call retried, except `evictPod`: an eviction whose answer was lost may have
 * succeeded, so the drain retries it itself after checking the pod is still the one it meant to evict.
 */
export function retryingApi(api: KubeApi, ctx: RetryContext): KubeApi {
  return {
    listNodes: (selector) => withRetry(() => api.listNodes(selector), ctx),
    patchNode: (name, patch) => withRetry(() => api.patchNode(name, patch), ctx),
    listPods: (selector) => withRetry(() => api.listPods(selector), ctx),
    getPod: (namespace, name) => withRetry(() => api.getPod(namespace, name), ctx),
    evictPod: (namespace, name, uid) => api.evictPod(namespace, name, uid),
    replicaSetOwner: (namespace, name) => withRetry(() => api.replicaSetOwner(namespace, name), ctx),
    workloadStatus: (kind, namespace, name) => withRetry(() => api.workloadStatus(kind, namespace, name), ctx),
    deleteDaemonSet: (namespace, name) => withRetry(() => api.deleteDaemonSet(namespace, name), ctx),
  };
}
