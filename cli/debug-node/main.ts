/**
 * bottlerocket-fleet debug-node (npm run debug-node --) <node> [--print] [--json] [--image <ref>] [--context <name>]
 * Opens a root shell on a Bottlerocket node through `kubectl debug` (see docs/migration.md, "Node debugging without SSH").
 */
import { spawnSync } from 'child_process';
import { debugNodeCommand, DEFAULT_ADMIN_IMAGE, shellQuote } from './command';
import { requestTimeoutMs } from '../shared/request-timeout';
import { CliIo, commandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';

export function usage(prog: string): string {
  return `usage: ${prog} <node> [--print] [--json] [--image <ref>] [--context <name>]
  Opens a root shell on a Bottlerocket node: kubectl debug node/<node> with the admin image and the
  sysadmin profile (no SSH, no admin host container). kubectl's exit code is the command's.
  --print          print the kubectl command instead of running it
  --json           print it as JSON ({"argv": [...]}) instead of running it
  --image <ref>    the debug image (default ${DEFAULT_ADMIN_IMAGE})
  --context <name> the kubeconfig context
  --request-timeout d
                   passed to kubectl as its --request-timeout (each request to the API server; checked here
                   like every command's, e.g. 30s); left out, kubectl's default applies to the interactive session
`;
}

/** What the command runs; tests inject a fake, the process runs kubectl attached to the terminal. */
export interface DebugNodeDeps extends CliIo {
  /** @default spawnSync with the terminal inherited */
  readonly run?: (argv: string[]) => { status: number | null; error?: Error };
}

/** Runs the command; returns the exit code (kubectl's, 127 when kubectl cannot run, 2 usage). */
export function main(argv: string[], deps: DebugNodeDeps = PROCESS_IO): number {
  const prog = programName('debug-node');
  const cl = commandLine(
    argv,
    {
      print: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      image: { type: 'string' },
      context: { type: 'string' },
      // No default here: kubectl's --request-timeout would apply to the shell's requests too (docs/not-verified.md).
      'request-timeout': { type: 'string' },
    },
    deps,
    () => usage(prog),
  );
  if (cl.exit !== undefined) return cl.exit;
  const { values, positionals } = cl;
  if (positionals.length !== 1)
    return usageError(deps, positionals.length === 0 ? 'missing argument: the node name' : `one node at a time (got ${positionals.length})`, usage(prog));
  let command: string[];
  try {
    const requestTimeout = values['request-timeout'];
    if (requestTimeout !== undefined) requestTimeoutMs(requestTimeout); // a usage error unless a duration above 0
    command = debugNodeCommand({ node: positionals[0], image: values.image, context: values.context, requestTimeout });
  } catch (e) {
    return usageError(deps, (e as Error).message, usage(prog));
  }
  if (values.json) {
    deps.out(`${JSON.stringify({ argv: command })}\n`);
    return 0;
  }
  if (values.print) {
    deps.out(`${shellQuote(command)}\n`);
    return 0;
  }
  const r = (deps.run ?? ((a: string[]) => spawnSync(a[0], a.slice(1), { stdio: 'inherit' })))(command);
  if (r.error) {
    deps.err(`could not run kubectl: ${r.error.message}\n`);
    return 127;
  }
  return r.status ?? 1;
}

if (require.main === module) runAsProcess(main);
