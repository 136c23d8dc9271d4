/**
 * Where the app's messages go. Run directly (`npm run synth`), warnings go to stderr and a summary to stdout.
 * Under `cdktf synth`/`cdktf deploy` every line the app writes to stderr is logged as `[ERROR]`
 * (@cdktf/commons 0.21 `exec` hands stderr to `processLoggerError`) while stdout is shown as it is, so there
 * the warnings go to stdout and cdktf prints its own summary. cdktf marks its app runs with
 * CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS (@cdktf/cli-core 0.21 synth-stack.js).
 */
import * as path from 'path';
import { formatProblem, Problem } from './problems';

export interface AppOutput {
  warning(problem: Problem): void;
  /** After synth: what was written where. */
  done(stacks: readonly string[], outdir: string): void;
}

export function runByCdktfCli(env: NodeJS.ProcessEnv): boolean {
  return env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS !== undefined;
}

export function appOutput(
  env: NodeJS.ProcessEnv,
  write = { out: (t: string) => process.stdout.write(t), err: (t: string) => process.stderr.write(t) },
): AppOutput {
  const underCdktf = runByCdktfCli(env);
  return {
    warning: (p) => (underCdktf ? write.out : write.err)(`WARNING ${formatProblem(p)}\n`),
    done: (stacks, outdir) => {
      if (!underCdktf)
        write.out(`Generated Terraform code for ${stacks.length} stack(s) in ${path.relative(process.cwd(), outdir) || '.'}: ${stacks.join(', ')}\n`);
    },
  };
}
