/**
 * --request-timeout <duration>, as kubectl has it: how long one request to AWS (or a cluster's API server) may
 * take before it is retried or fails. Every command takes it; the AWS client factory (cli/shared/aws-clients.ts)
 * and the Kubernetes access layer receive the parsed value as `requestTimeoutMs`.
 */
import { parseDuration } from './duration';
import { UsageError } from './exit-code';

/** 30 s per attempt: with 3 attempts a silent endpoint fails a command in about 1.5 minutes, within its 2. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The option for commandLine()/parseArgs. */
export const REQUEST_TIMEOUT_OPTION = { 'request-timeout': { type: 'string', default: '30s' } } as const;

/** The line each --help prints for it. */
export const REQUEST_TIMEOUT_HELP = `  --request-timeout d  how long one request to AWS or the cluster may take before it is retried (3 attempts
                       in all) or fails with what it waited on (default 30s; e.g. 10s, 2m)`;

/**
 * The parsed value in milliseconds. A value that is not a duration, or 0 (kubectl's "no limit": here every wait
 * has a deadline), is a UsageError (exit 2) naming the option and the fix.
 */
export function requestTimeoutMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_REQUEST_TIMEOUT_MS;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (e) {
    throw new UsageError(`--request-timeout ${value}: ${(e as Error).message}`);
  }
  if (ms <= 0) throw new UsageError(`--request-timeout ${value}: must be more than 0 (e.g. 30s); every request has a deadline`);
  return ms;
}

/** What a command hands the Kubernetes access layer, which takes the same per-request limit. */
export interface KubeRequestOptions {
  readonly requestTimeoutMs: number;
}
