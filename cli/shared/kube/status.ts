/**
 * What the API server's answers mean: the `Status` body of a refusal (metav1.Status: message, reason,
 * details.causes), and which failures are worth a retry. Pure; no client here.
 */
import { describeTarget, KubeApiError, type KubeTarget } from './errors';

/** metav1.StatusCause. */
export interface StatusCause {
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** metav1.Status, as far as the layer reads it. */
export interface StatusBody {
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes?: readonly StatusCause[] };
}

/** HTTP statuses worth retrying: the API server (or the load balancer before it) failing for a moment. */
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504, 429]);
/** Connection faults worth retrying (node-fetch's FetchError carries the socket's code). */
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** The HTTP status of a client-node ApiException, if the failure is one. */
export const httpStatus = (e: unknown): number | undefined => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** The Status object the API server answered with, if the body is one. */
export function statusBody(e: unknown): StatusBody | undefined {
  const body = (e as { body?: unknown }).body;
  try {
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The status causes of type (or, in older servers, reason) `type`. */
export function causesOf(e: unknown, type: string): StatusCause[] {
  return (statusBody(e)?.details?.causes ?? []).filter((c) => (c.type ?? c.reason) === type);
}

/**
 * A 429 from the Eviction API is a PodDisruptionBudget refusal only when its status names the cause
 * "DisruptionBudget" (policy/v1 DisruptionBudgetCause, set by checkAndDecrement in kubernetes/kubernetes
 * pkg/registry/core/pod/storage/eviction.go); any other 429 is the API server's own throttling.
 */
export function isBudgetRefusal(e: unknown): boolean {
  return httpStatus(e) === 429 && causesOf(e, 'DisruptionBudget').length > 0;
}

/**
 * A 403 with the status cause "NamespaceTerminating" (core/v1 NamespaceTerminatingCause): the pod's namespace
 * is being deleted. kubectl drain (kubernetes/kubectl pkg/drain/drain.go evictPods) waits for such a pod if it
 * is already terminating and retries its eviction otherwise; any other 403 stays final.
 */
export function isNamespaceTerminating(e: unknown): boolean {
  return httpStatus(e) === 403 && causesOf(e, 'NamespaceTerminating').length > 0;
}

/**
 * The Eviction API's 500 "This pod has more than one PodDisruptionBudget, which the eviction subresource does
 * not support." (kubernetes/kubernetes pkg/registry/core/pod/storage/eviction.go): it lasts until someone
 * removes a budget, so retrying only delays the stop.
 */
function isMultipleBudgets(code: number, detail: string): boolean {
  return code === 500 && detail.includes('more than one PodDisruptionBudget');
}

/** The field managers and fields of a server-side apply's 409: one cause per field, `conflict with "manager"` (apimachinery managedfields conflict.go). */
export function fieldManagerConflicts(e: unknown): { manager: string; field: string }[] | undefined {
  if (httpStatus(e) !== 409) return undefined;
  return causesOf(e, 'FieldManagerConflict').map((c) => ({
    manager: /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1] ?? c.message ?? '?',
    field: c.field ?? '?',
  }));
}

/** What a failure without an HTTP answer was, in words. */
function networkDetail(e: unknown, target: KubeTarget | undefined): string {
  const message = e instanceof Error ? e.message : String(e);
  return target ? `${message} (${describeTarget(target)})` : message;
}

/** Any failure of a client-node call as a KubeApiError that says whether a retry may help. */
export function classify(operation: string, e: unknown, target?: KubeTarget): KubeApiError {
  if (e instanceof KubeApiError) return e;
  const code = httpStatus(e);
  if (code !== undefined) {
    const s = statusBody(e);
    const detail = s?.message ?? s?.reason ?? '';
    return new KubeApiError(operation, code, detail, TRANSIENT_STATUSES.has(code) && !isMultipleBudgets(code, detail), target, e);
  }
  const netCode = (e as { code?: unknown } | undefined)?.code;
  return new KubeApiError(operation, undefined, networkDetail(e, target), typeof netCode === 'string' && TRANSIENT_NETWORK_CODES.has(netCode), target, e);
}
