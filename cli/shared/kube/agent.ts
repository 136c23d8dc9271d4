/**
 * One keep-alive agent per cluster connection. client-node 1.4.0 authenticates every request by building a new
 * agent (dist/config.js: `applySecurityAuthentication` sets `context.setAgent(this.createAgent(cluster, agentOptions))`,
 * `createAgent` choosing hpagent or socks-proxy-agent behind a `proxy-url`, `http.Agent` for an `http:` server with
 * insecure-skip-tls-verify, else `https.Agent`), so every request paid a new TCP connection and TLS handshake.
 * `KeepAliveAgent.reuse` takes the agent client-node built for a request and returns the one this connection keeps:
 * the same class with the same options (whatever client-node set: ca, cert, key, pfx, passphrase, rejectUnauthorized,
 * servername), plus keepAlive. New options (an exec plugin's rotated client certificate) get a new agent. Proxy agents
 * are returned as built: behind a proxy nothing changes.
 */
import * as http from 'http';
import * as https from 'https';

/**
 * An idle connection is closed after this long: below the idle limits of the servers in front of a cluster (Go's
 * net/http server closes at its IdleTimeout; an NLB after 350 s), so a request rarely meets a connection the server
 * is closing. Node's agent (lib/_http_agent.js keepSocketAlive) applies `timeout` to free sockets only, and unrefs
 * them: a kept connection never holds the process open.
 */
export const IDLE_CONNECTION_MS = 15_000;

type AgentOptions = Record<string, unknown>;
type AgentClass = new (options: AgentOptions) => http.Agent;

/** Only Node's own agents: a subclass (hpagent's proxy agents extend them) keeps client-node's per-request agent. */
function plainAgentOptions(agent: unknown): AgentOptions | undefined {
  const isPlain = agent instanceof http.Agent && (agent.constructor === https.Agent || agent.constructor === http.Agent);
  return isPlain ? (agent as unknown as { options: AgentOptions }).options : undefined;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return a === b;
}

function sameOptions(a: AgentOptions, b: AgentOptions): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => sameValue(a[k], b[k]));
}

export class KeepAliveAgent {
  private kept?: { readonly options: AgentOptions; readonly agent: http.Agent };

  /** @param prepare runs once on each agent this connection keeps (the connect limit: deadline.ts). */
  constructor(private readonly prepare: (agent: http.Agent) => void = () => {}) {}

  /** The agent to send a request through, given the one client-node built for it. */
  reuse<A>(built: A): A | http.Agent {
    const options = plainAgentOptions(built);
    if (!options) return built;
    if (this.kept && sameOptions(this.kept.options, options)) return this.kept.agent;
    const Agent = (built as unknown as http.Agent).constructor as AgentClass;
    const agent = new Agent({ ...options, keepAlive: true, timeout: IDLE_CONNECTION_MS });
    this.prepare(agent);
    // A replaced agent's idle connections close at their idle limit; its requests in flight finish undisturbed.
    this.kept = { options, agent };
    return agent;
  }

  /** Closes the kept connections (a command that is done with the cluster). */
  destroy(): void {
    this.kept?.agent.destroy();
    this.kept = undefined;
  }
}
