/**
 * The Node lines this tool supports (package.json "engines"): 22 and 24, the LTS lines with security support.
 * On an older Node the command says so in one line, and the AWS SDK's own 9-line NodeVersionSupportWarning
 * is turned off for the process: @aws-sdk/core 3.981.1 (dist-cjs/submodules/client/index.js,
 * emitWarningIfUnsupportedVersion) emits it for Node < 22 unless AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
 * is "true", which it reads when a client is built, long after this check runs.
 */
export const SUPPORTED_NODE_LINES = [22, 24] as const;

/** The one line for an unsupported Node, or undefined on a supported (or newer) one. Pure. */
export function nodeVersionNotice(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (!Number.isFinite(major) || major >= SUPPORTED_NODE_LINES[0]) return undefined;
  return `bottlerocket-fleet: Node ${version} is not supported (past its end of life); use Node ${SUPPORTED_NODE_LINES.join(' or ')}`;
}

/**
 * Prints the notice (once per process: runAsProcess calls it) and silences the SDK's longer warning. Whoever set
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true has chosen their Node already: no line either.
 */
export function checkNodeVersion(
  version: string = process.version,
  env: NodeJS.ProcessEnv = process.env,
  err: (t: string) => unknown = (t) => process.stderr.write(t),
): void {
  const notice = nodeVersionNotice(version);
  if (!notice || env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === 'true') return;
  err(`${notice}\n`);
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}
