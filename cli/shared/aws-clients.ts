/**
 * The one place AWS SDK v3 clients are built (issue 27): every command gets its clients from awsClients(),
 * so every call has the same region handling, retries, deadlines and user agent.
 *
 * - Endpoints: nothing here. SDK v3 (3.1169.0, @smithy/core 3.41.0 `submodules/endpoints`, getEndpointUrlConfig)
 *   already honours AWS_ENDPOINT_URL_<SERVICE ID> (e.g. AWS_ENDPOINT_URL_SSM), then AWS_ENDPOINT_URL, then the
 *   profile's endpoint_url / services section, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
 * - Deadlines: @smithy/node-http-handler 4.14.2 `requestTimeout` only logs a warning unless `throwOnRequestTimeout`
 *   is true (types/http/httpHandlerInitialization.d.ts); without both, a silent endpoint is waited on for the
 *   service's default socket timeout (900 s for SSM). `connectionTimeout` bounds the TCP connect.
 * - Retries: a TimeoutError and ECONNREFUSED/ECONNRESET are transient to the SDK's retry strategy (@smithy/core
 *   `submodules/retry`, TRANSIENT_ERROR_CODES, NODEJS_TIMEOUT_ERROR_CODES), so one call waits at most
 *   maxAttempts × requestTimeout (3 × 30 s by default) plus the backoff between attempts.
 * - User agent: `customUserAgent` appends `bottlerocket-fleet/<version>`; `userAgentAppId` (AWS_SDK_UA_APP_ID)
 *   is left to the user.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECRClient } from '@aws-sdk/client-ecr';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { version } from '../../package.json';
import { BIN } from './command-line';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './request-timeout';
import type { Progress } from './progress';

/** How every client of one command behaves. */
export interface AwsClientSettings {
  /** How long one attempt of one request may take, connect included (--request-timeout). @default 30 s */
  readonly requestTimeoutMs?: number;
  /** Attempts per call, the first included (timeouts, refused connections, throttling, 5xx). @default 3 */
  readonly maxAttempts?: number;
  /** What the command is doing, named first in an unreachable-endpoint error, e.g. "cache list". @default none */
  readonly step?: string;
  /**
   * The command's status line (cli/shared/progress.ts): a call still running after a second is shown there
   * ("waiting for SSM GetParameter in us-west-2 12s") until it ends. @default none
   */
  readonly progress?: Pick<Progress, 'step' | 'end'>;
}

/** A call shorter than this never reaches the status line (no flicker from the many quick ones). */
export const SHOW_WAIT_AFTER_MS = 1_000;

/** TCP connect limit: a host that drops the SYN fails within this (or the request timeout, if shorter). */
export const CONNECTION_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_ATTEMPTS = 3;

/** The client configuration every service shares. Pure: tests read it. */
export function clientConfig(region: string | undefined, settings: AwsClientSettings = {}) {
  const requestTimeout = settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return {
    // No region: the SDK's own chain (AWS_REGION, the profile).
    ...(region ? { region } : {}),
    maxAttempts: settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    // Adaptive: standard retries plus client-side rate limiting once AWS throttles (builds poll EC2 and SSM).
    retryMode: 'adaptive',
    requestHandler: { connectionTimeout: Math.min(CONNECTION_TIMEOUT_MS, requestTimeout), requestTimeout, throwOnRequestTimeout: true },
    customUserAgent: [[BIN, version]] as [string, string][],
  };
}

/** A call that ended because its endpoint never answered or refused the connection, on every attempt. */
export class AwsUnreachable extends Error {
  constructor(
    message: string,
    readonly service: string,
    readonly operation: string,
    readonly region: string,
    readonly endpoint: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AwsUnreachable';
  }
}

/** Error codes of an endpoint that cannot be reached (the SDK's own transient lists, @smithy/core retry). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

interface CallFacts {
  readonly service: string;
  readonly operation: string;
  readonly region: string;
  readonly endpoint?: string;
  readonly requestTimeoutMs: number;
  readonly step?: string;
}

/** The AwsUnreachable for a failed call, or undefined when the endpoint did answer (an AWS error). Pure. */
export function unreachableError(e: unknown, call: CallFacts): AwsUnreachable | undefined {
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { attempts?: number; httpStatusCode?: number } };
  if (err.$metadata?.httpStatusCode !== undefined) return undefined;
  const timedOut = err.name === 'TimeoutError';
  // The retry middleware wraps an error that is not `instanceof Error` in its realm (a socket error under jest's
  // vm contexts) as "AWS SDK error wrapper for Error: connect ECONNREFUSED ...": the code is then in the text only.
  const code = err.code ?? [...UNREACHABLE_CODES].find((c) => new RegExp(`\\b${c}\\b`).test(err.message ?? ''));
  if (!timedOut && !UNREACHABLE_CODES.has(code ?? '')) return undefined;
  const attempts = err.$metadata?.attempts;
  const where = `${call.service} ${call.operation} in ${call.region}${call.endpoint ? ` (endpoint ${call.endpoint})` : ''}`;
  const what = timedOut
    ? `did not answer within ${call.requestTimeoutMs / 1000} s`
    : `could not be reached (${code === 'ECONNREFUSED' ? 'connection refused' : `${code}: ${err.message}`})`;
  const fix = timedOut
    ? 'check the network, AWS_ENDPOINT_URL and the region, or allow more time with --request-timeout'
    : 'check the network, AWS_ENDPOINT_URL and the region';
  const message = `${call.step ? `${call.step}: ` : ''}${where} ${what}${attempts ? ` (${attempts} attempt${attempts === 1 ? '' : 's'})` : ''}; ${fix}`;
  return new AwsUnreachable(message, call.service, call.operation, call.region, call.endpoint, { cause: e });
}

type AnyClient = EC2Client | ECRClient | EKSClient | SSMClient | STSClient;

let calls = 0;

/** Shows the call on the status line once it has run for SHOW_WAIT_AFTER_MS; returns what ends it. */
function showWait(progress: AwsClientSettings['progress'], what: () => string): () => void {
  if (!progress) return () => undefined;
  const lane = `aws call ${++calls}`;
  const timer = setTimeout(() => progress.step(`waiting for ${what()}`, lane), SHOW_WAIT_AFTER_MS);
  timer.unref();
  return () => {
    clearTimeout(timer);
    progress.end(lane);
  };
}

/**
 * Outermost middleware (outside the retries): a call that never reached AWS fails with AwsUnreachable; one that
 * takes a while is named on the status line.
 */
function nameUnreachable(client: AnyClient, region: string | undefined, settings: AwsClientSettings): void {
  const requestTimeoutMs = settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const service = client.config.serviceId;
  (client.middlewareStack as EC2Client['middlewareStack']).add(
    (next, context) => async (args) => {
      const ended = showWait(
        settings.progress,
        () => `${service} ${String(context.commandName ?? '').replace(/Command$/, '')} in ${region ?? 'the default region'}`,
      );
      try {
        return await next(args);
      } catch (e) {
        // The endpoint middleware (serialize step) records the endpoint it resolved on the shared context; its
        // origin never carries user:password@ from an AWS_ENDPOINT_URL.
        const endpoint = (context as { endpointV2?: { url?: URL } }).endpointV2?.url;
        const operation = String(context.commandName ?? 'request').replace(/Command$/, '');
        throw (
          unreachableError(e, {
            service,
            operation,
            region: region ?? (await client.config.region().catch(() => 'the default region')),
            endpoint: endpoint && `${endpoint.origin}`,
            requestTimeoutMs,
            step: settings.step,
          }) ?? e
        );
      } finally {
        ended();
      }
    },
    { step: 'initialize', name: 'bottlerocketFleetUnreachable', priority: 'high' },
  );
}

/** One client per service and region, built on first use. */
export interface AwsClients {
  readonly settings: AwsClientSettings;
  readonly ec2: (region: string | undefined) => EC2Client;
  readonly ecr: (region: string | undefined) => ECRClient;
  readonly eks: (region: string | undefined) => EKSClient;
  readonly ssm: (region: string | undefined) => SSMClient;
  readonly sts: (region: string | undefined) => STSClient;
}

/** The clients of a command. @param settings from its command line (--request-timeout) */
export function awsClients(settings: AwsClientSettings = {}): AwsClients {
  const built = new Map<string, AnyClient>();
  const get = <C extends AnyClient>(key: string, region: string | undefined, make: (config: ReturnType<typeof clientConfig>) => C): C => {
    const id = `${key}\u0000${region ?? ''}`;
    let client = built.get(id) as C | undefined;
    if (!client) {
      client = make(clientConfig(region, settings));
      nameUnreachable(client, region, settings);
      built.set(id, client);
    }
    return client;
  };
  return {
    settings,
    ec2: (region) => get('ec2', region, (c) => new EC2Client(c)),
    ecr: (region) => get('ecr', region, (c) => new ECRClient(c)),
    eks: (region) => get('eks', region, (c) => new EKSClient(c)),
    ssm: (region) => get('ssm', region, (c) => new SSMClient(c)),
    sts: (region) => get('sts', region, (c) => new STSClient(c)),
  };
}
