/** Exit codes of every CLI here: 0 done, 1 failed, 2 usage (command line or fleet file). */
import { FleetValidationError } from '../../modules/fleet/problems';

/** Something the user must fix on the command line (or in what it names): exit 2, the message without "error:". */
export class UsageError extends Error {}

/** Exit 2 for what the user must fix in the command line or the fleet file; 1 for anything that failed while running. */
export function exitCodeFor(e: unknown): 1 | 2 {
  const code = (e as { code?: unknown }).code;
  return e instanceof FleetValidationError || e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) ? 2 : 1;
}
