/**
 * `kubectl debug node/<node>` with the Bottlerocket admin image and the sysadmin profile: a shell on
 * the node without SSH and without enabling the admin host container. Pure: arguments in, argv out.
 */

/** Pinned admin image: v0.21.6 is the admin container Bottlerocket itself adopted in 2026-09 (bottlerocket-os/bottlerocket PR 4945); bump it with its releases. */
export const DEFAULT_ADMIN_IMAGE = 'public.ecr.aws/bottlerocket/bottlerocket-admin:v0.21.6';

export interface DebugNodeOptions {
  readonly node: string;
  readonly image?: string;
  readonly context?: string;
  /** kubectl's own --request-timeout (passed as given, e.g. 30s). @default none: kubectl's default */
  readonly requestTimeout?: string;
}

export function debugNodeCommand(o: DebugNodeOptions): string[] {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.node))
    throw new Error(`"${o.node}" is not a node name (expected e.g. ip-10-0-1-23.us-west-2.compute.internal)`);
  return [
    'kubectl',
    ...(o.context ? ['--context', o.context] : []),
    ...(o.requestTimeout ? [`--request-timeout=${o.requestTimeout}`] : []),
    'debug',
    `node/${o.node}`,
    '-it',
    '--profile=sysadmin',
    `--image=${o.image ?? DEFAULT_ADMIN_IMAGE}`,
  ];
}

export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
