/**
 * Transient API faults (see KubeApiError) are retried with capped exponential backoff; anything else, or a
 * fault that outlasts the policy, is thrown. The total is enforced: no call of the layer keeps trying for
 * more than MAX_TOTAL_MS, whatever policy a caller passes (docs/migration.md promises "for 2 minutes").
 * `kubectl drain` itself retries only 429s (pkg/drain/drain.go evictPods); a migration that runs for an
 * hour meets API server restarts and throttling, so every command of this tool rides those out.
 */
import { KubeApiError } from './errors';
import { formatDuration } from '../duration';

export interface RetryPolicy {
  readonly firstDelayMs: number;
  /** No single wait is longer than this. */
  readonly maxDelayMs: number;
  /** A call still failing this long after its first attempt is given up (at most MAX_TOTAL_MS). */
  readonly giveUpAfterMs: number;
}

/** The most any one call (all its attempts and waits) may take: an endpoint that never answers is given up after this. */
export const MAX_TOTAL_MS = 120_000;

/** 1s, 2s, 4s, 8s, then every 15s, for 2 minutes: longer than an API server restart behind a load balancer takes. */
export const API_RETRY: RetryPolicy = { firstDelayMs: 1000, maxDelayMs: 15_000, giveUpAfterMs: MAX_TOTAL_MS };

/** The default per-request limit (kubectl's --request-timeout has none; a silent wait is never right here). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * A call keeps retrying for at most this many request timeouts (and never more than 2 minutes): the default
 * 30 s gives the 2 minutes docs/migration.md promises; a short --request-timeout asks for a quick answer,
 * and gets one (4 x 300ms: about a second), also from an endpoint that refuses connections.
 */
export const RETRY_REQUEST_TIMEOUTS = 4;

/** `policy` with its total held to RETRY_REQUEST_TIMEOUTS request timeouts and MAX_TOTAL_MS. */
export function retryPolicyFor(requestTimeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS, policy: RetryPolicy = API_RETRY): RetryPolicy {
  return { ...policy, giveUpAfterMs: Math.min(policy.giveUpAfterMs, MAX_TOTAL_MS, RETRY_REQUEST_TIMEOUTS * requestTimeoutMs) };
}

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

/** How long a call under `policy` may keep trying in total. */
export const totalLimitMs = (policy: RetryPolicy = API_RETRY): number => Math.min(policy.giveUpAfterMs, MAX_TOTAL_MS);

/**
 * Calls `fn` until it succeeds, retrying transient KubeApiErrors. `fn` receives the time left of the total
 * limit (for its own request deadline). `settled`, when given, runs before each retry and may return a
 * result that makes the retry unnecessary (the fault hid a success).
 */
export async function withRetry<T>(fn: (remainingMs: number) => Promise<T>, ctx: RetryContext, settled?: () => Promise<T | undefined>): Promise<T> {
  const limit = totalLimitMs(ctx.policy);
  const start = ctx.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(Math.max(1, limit - (ctx.now() - start)));
    } catch (e) {
      if (!(e instanceof KubeApiError) || !e.transient) throw e;
      const delay = backoffDelay(attempt, ctx.policy);
      const elapsed = ctx.now() - start;
      if (elapsed + delay > limit) throw e.withDetail(`${e.detail} (still failing after ${formatDuration(elapsed)} of retries)`.trim());
      ctx.log(`  ${e.message}${e.status === 429 ? ' (API server throttling, not a PodDisruptionBudget)' : ''}; retrying in ${formatDuration(delay)}`);
      await ctx.sleep(delay);
      if (settled) {
        const result = await settled();
        if (result !== undefined) return result;
      }
    }
  }
}
