/**
 * cdktf checks the Terraform version with `terraform version` once per construct that needs one (every
 * `CloudBackend`, every `TerraformDataResource`, imports, moves): one process per stack on a cloud-backend fleet,
 * which was most of its synth. Inside `readTerraformVersionOnce` that command runs at most once; every later
 * check in the same call gets the same output (or the same failure), so cdktf's own validation still decides and
 * still words the error. Outside it nothing changes.
 */
// The default import is Node's module object itself (a namespace import would be a read-only copy): cdktf calls
// `child_process_1.execSync(...)` through that object at call time (cdktf 0.21.0
// lib/validations/validate-binary-version.js), so the wrapper has to sit on it.
import childProcess from 'child_process';
import { terraformBinaryName } from 'cdktf/lib/util';

type ExecSync = typeof childProcess.execSync;

/**
 * The command cdktf runs: `${terraformBinaryName} version` (cdktf 0.21.0 lib/validations/validate-terraform-version.js),
 * the binary being TERRAFORM_BINARY_NAME or `terraform`, read once when cdktf loads (lib/util.js).
 */
export const TERRAFORM_VERSION_COMMAND = `${terraformBinaryName} version`;

/**
 * Runs `fn` (a synchronous synth) with `terraform version` memoised: the first run's output, or its error, is
 * returned (thrown) to every later caller. Synth is synchronous, so no other code runs while the wrapper is in
 * place; it is removed when `fn` returns or throws.
 */
export function readTerraformVersionOnce<T>(fn: () => T): T {
  const original: ExecSync = childProcess.execSync;
  let outcome: { output: ReturnType<ExecSync> } | { error: unknown } | undefined;
  const memoised = function execSync(this: unknown, cmd: string, options?: Parameters<ExecSync>[1]) {
    if (cmd !== TERRAFORM_VERSION_COMMAND) return original.call(this, cmd, options);
    if (outcome === undefined) {
      try {
        outcome = { output: original.call(this, cmd, options) };
      } catch (error) {
        outcome = { error };
      }
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.output;
  } as ExecSync;
  childProcess.execSync = memoised;
  try {
    return fn();
  } finally {
    // Only undo our own wrapper (a nested call has already restored its own by then).
    if (childProcess.execSync === memoised) childProcess.execSync = original;
  }
}
