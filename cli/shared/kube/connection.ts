/**
 * One connection to one cluster, the only way this tool's commands talk to Kubernetes: every request has a
 * connect and a request deadline (deadline.ts), transient faults are retried within a total limit of at
 * most 2 minutes (retry.ts), and every failure names the step, and, when nothing answered, the context and
 * endpoint (errors.ts). Commands build their own narrow interface (migrate/kube.ts, rollout/kube.ts,
 * cache/report-kube.ts) on `call`, `read` and `listAll`.
 */
import type * as http from 'http';
import * as k8s from '@kubernetes/client-node';
import { classify } from './status';
import { type KubeTarget } from './errors';
import { limitConnect, withDeadline, type PatchKind } from './deadline';
import { KeepAliveAgent } from './agent';
import { DEFAULT_REQUEST_TIMEOUT_MS, retryPolicyFor, withRetry, type RetryContext, type RetryPolicy } from './retry';
import { loadKubeconfig, useContext, type ContextChoice } from './kubeconfig';

/** The default limit for TCP connect and TLS handshake. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Items per page: the API server's answers stay small; kubectl uses 500 as well (--chunk-size). */
export const PAGE_SIZE = 500;

export interface KubeOptions {
  /** A kubeconfig file. @default KUBECONFIG or ~/.kube/config */
  readonly kubeconfig?: string;
  /** Per-request limit (`--request-timeout`). @default DEFAULT_REQUEST_TIMEOUT_MS (30 s) */
  readonly requestTimeoutMs?: number;
  /** TCP connect and TLS handshake limit, never above the request limit. @default DEFAULT_CONNECT_TIMEOUT_MS (10 s) */
  readonly connectTimeoutMs?: number;
  /** Backoff and total limit of retries (the total is capped at 2 minutes). @default API_RETRY */
  readonly retry?: RetryPolicy;
  /** The clock retries are timed by. @default Date.now */
  readonly now?: () => number;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where "retrying in ..." lines go. @default nowhere */
  readonly log?: (line: string) => void;
}

/** How one call is made. */
export interface CallOptions {
  /** Retry transient faults. false: the caller decides (a call whose lost answer may hide a success). @default true */
  readonly retry?: boolean;
  /** The Content-Type of a patch. */
  readonly patch?: PatchKind;
}

type Send<T> = (options: k8s.ConfigurationOptions) => Promise<T>;
interface Page<T> {
  readonly items: T[];
  readonly metadata?: { readonly _continue?: string; readonly continue?: string };
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class KubeConnection {
  readonly target: KubeTarget;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly policy: k8s.PolicyV1Api;
  readonly custom: k8s.CustomObjectsApi;
  /** The retry clock and log, for callers that retry a call themselves (the drain's evictions). */
  readonly retry: RetryContext;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  /** One keep-alive agent for every request to this cluster, not client-node's new one per request (agent.ts). */
  private readonly agent: KeepAliveAgent;

  constructor(
    readonly kubeconfig: k8s.KubeConfig,
    choice: ContextChoice,
    o: KubeOptions = {},
  ) {
    this.target = useContext(kubeconfig, choice);
    this.core = kubeconfig.makeApiClient(k8s.CoreV1Api);
    this.apps = kubeconfig.makeApiClient(k8s.AppsV1Api);
    this.policy = kubeconfig.makeApiClient(k8s.PolicyV1Api);
    this.custom = kubeconfig.makeApiClient(k8s.CustomObjectsApi);
    this.requestTimeoutMs = o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.connectTimeoutMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.agent = new KeepAliveAgent((a) => limitConnect(a, this.connectTimeoutMs));
    const policy = retryPolicyFor(this.requestTimeoutMs, o.retry);
    this.retry = { now: o.now ?? Date.now, sleep: o.sleep ?? realSleep, log: o.log ?? (() => {}), policy };
  }

  /** One request, under its deadlines; failures leave as KubeApiErrors naming `step`; transient ones retried. */
  async call<T>(step: string, send: Send<T>, o: CallOptions = {}): Promise<T> {
    const once = async (remainingMs: number) => {
      try {
        const requestTimeoutMs = Math.min(this.requestTimeoutMs, remainingMs);
        const agent = (built: http.Agent | undefined) => this.agent.reuse(built);
        return await withDeadline(send, { requestTimeoutMs, connectTimeoutMs: this.connectTimeoutMs, patch: o.patch, agent });
      } catch (e) {
        throw classify(step, e, this.target);
      }
    };
    return o.retry === false ? once(this.requestTimeoutMs) : withRetry(once, this.retry);
  }

  /** A read whose 404 means "no such object": undefined. */
  async read<T>(step: string, send: Send<T>, o: CallOptions = {}): Promise<T | undefined> {
    try {
      return await this.call(step, send, o);
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
  }

  /** Every item of a list, page by page (limit and continue, as the API server documents chunked lists). */
  async listAll<T>(step: string, page: (query: { limit: number; _continue?: string }, options: k8s.ConfigurationOptions) => Promise<Page<T>>): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const r: Page<T> = await this.call(step, (options) => page({ limit: PAGE_SIZE, _continue: cont }, options));
      items.push(...r.items);
      cont = r.metadata?._continue ?? r.metadata?.continue;
    } while (cont);
    return items;
  }

  /** Closes this connection's idle keep-alive connections (they also close by themselves after IDLE_CONNECTION_MS). */
  close(): void {
    this.agent.destroy();
  }
}

/** A connection to the cluster's context in the user's kubeconfig (or `o.kubeconfig`). */
export function connectKube(choice: ContextChoice, o: KubeOptions = {}): KubeConnection {
  return new KubeConnection(loadKubeconfig(o.kubeconfig), choice, o);
}
