/**
 * The Kubernetes access layer: the only module that imports @kubernetes/client-node. Commands build their
 * narrow interfaces on KubeConnection (connection.ts) and read client-node's types from here.
 */
export { KubeApiError, KubeContextError, describeTarget, type KubeTarget } from './errors';
export {
  classify,
  causesOf,
  fieldManagerConflicts,
  httpStatus,
  isBudgetRefusal,
  isNamespaceTerminating,
  statusBody,
  type StatusBody,
  type StatusCause,
} from './status';
export {
  API_RETRY,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_TOTAL_MS,
  RETRY_REQUEST_TIMEOUTS,
  backoffDelay,
  retryPolicyFor,
  totalLimitMs,
  withRetry,
  type RetryContext,
  type RetryPolicy,
} from './retry';
export { RequestTimeout, withDeadline, PATCH_CONTENT_TYPE, type PatchKind, type AgentChoice } from './deadline';
export { KeepAliveAgent, IDLE_CONNECTION_MS } from './agent';
export { loadKubeconfig, useContext, type ContextChoice, type KubeConfig } from './kubeconfig';
export { connectKube, KubeConnection, DEFAULT_CONNECT_TIMEOUT_MS, PAGE_SIZE, type CallOptions, type KubeOptions } from './connection';
export * from './resources';
export { verifyConnection } from './identity';
export type { V1Node, V1ObjectMeta, V1OwnerReference, V1Pod, CoreV1Event } from '@kubernetes/client-node';
