/**
 * Where the app's messages go. Run directly (`npm run synth`), warnings go to stderr and a summary to stdout.
 * Under `cdktf synth`/`cdktf deploy` every line the app writes to stderr is logged as `[ERROR]`
 * (@cdktf/commons 0.21 `exec` hands stderr to `processLoggerError`) while stdout is shown as it is, so there
 * the warnings go to stdout and cdktf prints its own summary. cdktf marks its app runs with
 * CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS (@cdktf/cli-core 0.21 synth-stack.js).
 */
import * as path from 'path';
import { formatProblem, Problem } from './problems';
import type { Fleet } from './load';

/** One line per certificate the nodes of a cluster will trust: its file, subject, SHA-256 fingerprint and expiry. */
export function trustedCertificateLines(fleet: Pick<Fleet, 'clusters'>): string[] {
  return fleet.clusters.flatMap((c) =>
    c.trustedCertificates.flatMap((t) =>
      t.certificates.map((x) => `TRUSTED clusters.${c.name}.trustedCertificates ${t.file}: ${x.subject}, SHA-256 ${x.fingerprint256}, valid to ${x.validTo}`),
    ),
  );
}

export interface AppOutput {
  warning(problem: Problem): void;
  /** A line for the reviewer (e.g. the fingerprints of the certificates the nodes will trust); where warnings go. */
  notice(line: string): void;
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
    notice: (line) => (underCdktf ? write.out : write.err)(`${line}\n`),
    done: (stacks, outdir) => {
      if (!underCdktf)
        write.out(`Generated Terraform code for ${stacks.length} stack(s) in ${path.relative(process.cwd(), outdir) || '.'}: ${stacks.join(', ')}\n`);
    },
  };
}
