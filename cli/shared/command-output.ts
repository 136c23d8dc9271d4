/**
 * What a command prints, one rule for all: with --json, stdout holds exactly one JSON document, on success
 * and on failure, and nothing else (progress and messages go to stderr); a failure's document carries
 * `ok: false`, the exit code and the message. Without --json, results are text on stdout and problems on stderr.
 */
import { FleetValidationError } from '../../modules/fleet/problems';
import { exitCodeFor, UsageError } from './exit-code';
import type { CliIo } from './command-line';

/** The document a failure prints under --json: what the command knows about it, then ok, exit code and message. */
export type FailureDocument = Record<string, unknown> & { readonly ok: false; readonly exitCode: 1 | 2; readonly error: string };

export interface CommandOutput extends CliIo {
  /** --json was given. */
  readonly json: boolean;
  /** Lines for a person: stdout, or stderr under --json (stdout holds the JSON alone). */
  readonly info: (text: string) => void;
  /** Prints the result document on stdout (under --json only; text is the command's own business). At most once. */
  readonly result: (doc: unknown) => void;
  /**
   * A failure: `<label>: <message>` (or the bare message for a usage problem) on stderr and, under --json, the failure
   * document on stdout. Returns the exit code, so a command can `return output.fail(...)`.
   */
  readonly fail: <C extends 1 | 2>(code: C, message: string, o?: { readonly label?: string; readonly details?: Record<string, unknown> }) => C;
  /** True once the one document was printed. */
  readonly printed: () => boolean;
}

/** The output of one command run. */
export function commandOutput(io: CliIo, json: boolean): CommandOutput {
  let printed = false;
  const result = (doc: unknown) => {
    if (!json) return;
    // Two documents on stdout would break every consumer: a second one is a bug in the command, not a user error.
    if (printed) throw new Error('internal error: a second JSON document for one command run');
    printed = true;
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
  };
  return {
    ...io,
    json,
    info: json ? io.err : io.out,
    result,
    printed: () => printed,
    fail: (code, message, o = {}) => {
      io.err(`${o.label ? `${o.label}: ` : ''}${message}\n`);
      if (json && !printed) result({ ...o.details, ok: false, exitCode: code, error: message } satisfies FailureDocument);
      return code;
    },
  };
}

/**
 * Runs a command's body. Under --json a thrown error is a failure document too (exit code by exitCodeFor: 2 for
 * the fleet file or the command line, 1 otherwise); without --json it propagates to runAsProcess as before.
 */
export async function answering(output: CommandOutput, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (e) {
    return failedWith(output, e);
  }
}

/** An error nobody expected, as answering reports it, with what the command knows (`details`) in the document. */
export function failedWith(output: CommandOutput, e: unknown, details?: Record<string, unknown>): 1 | 2 {
  if (!output.json) throw e;
  const userError = e instanceof FleetValidationError || e instanceof UsageError;
  return output.fail(exitCodeFor(e), (e as Error).message, { label: userError ? undefined : 'error', details });
}
