/**
 * cdktf writes HCL without indentation (`terraform fmt -check` fails on every stack). After an HCL synth the
 * stack files are formatted with `terraform fmt`, Terraform's own formatter, so the HCL a user leaves cdktf with
 * reads like hand-written Terraform. A syntax error it reports is a bug in the generated HCL and fails the synth.
 */
import { spawnSync } from 'child_process';
import { terraformBinaryName } from 'cdktf/lib/util';

export type HclFormatResult = { readonly formatted: true } | { readonly formatted: false; readonly reason: string };

/** Formats the given .tf files in place. Without a `terraform` binary the files stay as cdktf wrote them (valid, unformatted). */
export function formatHclFiles(files: readonly string[], terraform = terraformBinaryName): HclFormatResult {
  if (files.length === 0) return { formatted: true };
  const r = spawnSync(terraform, ['fmt', '-list=false', '-no-color', ...files], { encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    return { formatted: false, reason: `${terraform} is not on the PATH: the HCL is valid but not formatted (run terraform fmt -recursive on the output)` };
  }
  if (r.error || r.status !== 0) {
    throw new Error(`terraform fmt rejected the generated HCL (a bug in the HCL output, please report it):\n${r.stderr || r.error?.message}`);
  }
  return { formatted: true };
}
