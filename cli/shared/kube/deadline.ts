/**
 * Deadlines on one request: a connect timeout (TCP and TLS handshake done) and a request timeout (the whole
 * answer read). client-node 1.4.0 sends through node-fetch with the RequestContext's signal and agent
 * (dist/gen/http/isomorphic-fetch.js); a request middleware (dist/gen/middleware.d.ts, run after the
 * kubeconfig's authentication has set the agent) sets both; the object-parameter APIs chain middleware as
 * client-node's own Observable stub (dist/gen/rxjsStub.js: `pre` must return one).
 * node-fetch 2.7.0 (lib/index.js) takes Node's AbortSignal (isAbortSignal: constructor name), rejects an
 * aborted request with its AbortError, and turns a socket error into a FetchError carrying that error's
 * `code`: a connect timeout below therefore reaches classify() as code ETIMEDOUT, a transient fault. A race against a timer backs them up, so
 * even a step before the socket (an exec credential plugin) cannot hold a call past its deadline.
 * An agent is wrapped once and may serve many requests (a connection's keep-alive agent, agent.ts, is wrapped with the
 * connection's connect limit when it is made). A request's own limit is min(connect, request): when the request limit
 * is the lower one its timer, started first, ends the request (and its socket) before a connect timer could, so a kept
 * agent's fixed connect limit changes no outcome; no per-request context (an AsyncLocalStorage: async hooks on every
 * promise under Node 20) is needed to carry it.
 */
import {
  Observable,
  type ConfigurationOptions,
  type ObservableMiddleware as Middleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import type * as http from 'http';
import type * as net from 'net';
import { formatDuration } from '../duration';

/** The failure a request deadline produces; classified as a transient network fault (code ETIMEDOUT). */
export class RequestTimeout extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly phase: 'connect' | 'answer',
    limitMs: number,
  ) {
    super(
      phase === 'connect'
        ? `no connection within ${formatDuration(limitMs)} (connect timeout)`
        : `no answer within ${formatDuration(limitMs)} (request timeout)`,
    );
    this.name = 'RequestTimeout';
  }
}

type Connect = (options: unknown, callback?: unknown) => net.Socket;
type Connectable = { createConnection?: Connect };

/** Agents whose createConnection is wrapped already. */
const limited = new WeakSet<object>();

/** Makes the agent's new sockets fail with RequestTimeout('connect') unless connected (TLS: handshake done) in time. Wraps each agent once. */
export function limitConnect(target: object | undefined, limitMs: number): void {
  const agent = target as Connectable | undefined;
  const create = agent?.createConnection;
  if (!agent || typeof create !== 'function' || limited.has(agent)) return;
  limited.add(agent);
  agent.createConnection = (options: unknown, callback?: unknown) => {
    const socket = create.call(agent, options, callback) as net.Socket | undefined;
    // A proxy agent (hpagent) answers through `callback` and returns nothing: the request limit still holds.
    if (typeof socket?.once !== 'function') return socket as net.Socket;
    const timer = setTimeout(() => socket.destroy(new RequestTimeout('connect', limitMs)), limitMs);
    const clear = () => clearTimeout(timer);
    socket.once('secureConnect', clear);
    // A plain TCP socket (http: servers) is connected at 'connect'; a TLS one only after its handshake.
    if (!('encrypted' in socket)) socket.once('connect', clear);
    socket.once('close', clear);
    return socket;
  };
}

const same = <T extends RequestContext | ResponseContext>(x: T): Observable<T> => new Observable(Promise.resolve(x));

/** Picks the agent a request is sent through, given the one client-node built for it (agent.ts). */
export type AgentChoice = (built: http.Agent | undefined) => http.Agent | undefined;

/** A middleware setting the attempt's abort signal, its agent and the connect limit on every request it sees. */
function deadlineMiddleware(signal: AbortSignal, connectTimeoutMs: number, agent?: AgentChoice): Middleware {
  return {
    pre: (request: RequestContext) => {
      request.setSignal(signal);
      const chosen = agent?.(request.getAgent());
      if (chosen) request.setAgent(chosen);
      limitConnect(request.getAgent(), connectTimeoutMs);
      return same(request);
    },
    post: same,
  };
}

/** Content types the layer sends for patches (apimachinery types.PatchType). */
export const PATCH_CONTENT_TYPE = {
  merge: 'application/merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type PatchKind = keyof typeof PATCH_CONTENT_TYPE;

function contentTypeMiddleware(kind: PatchKind): Middleware {
  return {
    pre: (request: RequestContext) => {
      request.setHeaderParam('Content-Type', PATCH_CONTENT_TYPE[kind]);
      return same(request);
    },
    post: same,
  };
}

/**
 * Runs one request with its deadlines: `send` receives the options to pass to the client-node call.
 * Rejects with RequestTimeout when the connection or the answer takes longer than allowed.
 */
export async function withDeadline<T>(
  send: (options: ConfigurationOptions) => Promise<T>,
  o: { readonly requestTimeoutMs: number; readonly connectTimeoutMs: number; readonly patch?: PatchKind; readonly agent?: AgentChoice },
): Promise<T> {
  const controller = new AbortController();
  const connectTimeoutMs = Math.min(o.connectTimeoutMs, o.requestTimeoutMs);
  const middleware = [deadlineMiddleware(controller.signal, connectTimeoutMs, o.agent), ...(o.patch ? [contentTypeMiddleware(o.patch)] : [])];
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new RequestTimeout('answer', o.requestTimeoutMs);
      controller.abort(e);
      reject(e);
    }, o.requestTimeoutMs);
  });
  try {
    return await Promise.race([send({ middleware, middlewareMergeStrategy: 'append' }), expired]);
  } catch (e) {
    // node-fetch rejects an aborted request with its own AbortError: the deadline is the reason.
    throw controller.signal.aborted ? controller.signal.reason : e;
  } finally {
    clearTimeout(timer);
  }
}
