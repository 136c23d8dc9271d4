/** How a failed cluster call is reported: the step, the answer (or its absence), and whether a retry may help. */

/** Where a call went: the kubeconfig context and the API server URL it names. */
export interface KubeTarget {
  readonly context: string;
  readonly endpoint: string;
}

/**
 * A failed API call, classified once by the layer: `transient` faults (HTTP 500/502/503/504, a 429 that
 * is not a PodDisruptionBudget refusal, a dropped, refused or unanswered connection) are worth retrying;
 * the rest are not. `operation` is the caller's step label ("list nodes", "evict pod ns/name").
 * An HTTP answer reads "<step>: HTTP <code> <message>"; no answer at all also names the context and the
 * endpoint, since that is what the user must check.
 */
export class KubeApiError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    readonly detail: string,
    readonly transient: boolean,
    readonly target?: KubeTarget,
    /** The client's own failure (its Status body, for causes). */
    cause?: unknown,
  ) {
    super(`${operation}: ${status === undefined ? detail : `HTTP ${status}${detail ? ` ${detail}` : ''}`}`, { cause });
    this.name = 'KubeApiError';
  }

  /** The same fault with more said about it (e.g. how long it was retried). */
  withDetail(detail: string): KubeApiError {
    return new KubeApiError(this.operation, this.status, detail, this.transient, this.target, this.cause);
  }
}

/** The kubeconfig has no usable context for the cluster: nothing was sent. */
export class KubeContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeContextError';
  }
}

/** "kubeconfig context "prod" (https://...)": how a message names where it waited. */
export const describeTarget = (t: KubeTarget): string => `kubeconfig context "${t.context}", endpoint ${t.endpoint}`;
