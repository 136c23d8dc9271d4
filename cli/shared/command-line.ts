/**
 * What every command shares on the command line: where it writes, how it is named in its usage, how
 * `--help` and a bad option are answered, and how it runs as a process. One rule for all commands:
 * `--help`/`-h` prints the usage on stdout and exits 0; an unknown option or a missing argument prints
 * the problem and the usage on stderr and exits 2 (cli/shared/exit-code.ts).
 */
import { parseArgs } from 'util';
import type { ParseArgsConfig } from 'util';
import { FleetValidationError } from '../../modules/fleet/problems';
import { exitCodeFor, UsageError } from './exit-code';
import type { Terminal } from './progress';
import { checkNodeVersion } from './node-version';

/** Where a command writes; tests capture it, the process writes to its own streams. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The terminal progress is drawn on (stderr). @default none: plain lines only */
  readonly terminal?: Terminal;
}

export const PROCESS_IO: CliIo = {
  out: (t) => {
    process.stdout.write(t);
  },
  err: (t) => {
    process.stderr.write(t);
  },
  terminal: process.stderr,
};

/** The package's command (package.json "bin"). */
export const BIN = 'bottlerocket-fleet';

/**
 * How the user called the command, for its usage text: `npm run cache --` under the npm script shortcut
 * (npm sets npm_lifecycle_event to the script's name), `bottlerocket-fleet cache` otherwise.
 */
export function programName(command: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_lifecycle_event === command ? `npm run ${command} --` : `${BIN} ${command}`;
}

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;

/**
 * parseArgs (strict: an unknown option is an error) with --help/-h added. A parse error becomes a
 * UsageError whose message is parseArgs' own ("Unknown option '--x'..."), to be printed with the usage.
 */
export function parseCommandLine<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...options, ...HELP } });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * The usual start of a command's main(): parsed arguments, or the exit code when the command line
 * already answered (--help: usage on stdout, 0; a bad option: message and usage on stderr, 2).
 * `usage` receives the positionals, so `cache build --help` can print the usage of `build` alone.
 */
export function commandLine<O extends Options>(argv: string[], options: O, io: CliIo, usage: (positionals: string[]) => string) {
  let parsed;
  try {
    parsed = parseCommandLine(argv, options);
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${usage(positionalsOf(argv))}`);
    return { exit: 2 as const };
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(usage(parsed.positionals));
    return { exit: 0 as const };
  }
  return { exit: undefined, values: parsed.values, positionals: parsed.positionals };
}

/** Best-effort positionals of a command line that did not parse (for choosing which usage to show). */
function positionalsOf(argv: string[]): string[] {
  return argv.filter((a) => !a.startsWith('-'));
}

/** A missing or extra argument: the problem, then the usage, on stderr; exit 2. */
export function usageError(io: CliIo, problem: string, usage: string): 2 {
  io.err(`${problem}\n\n${usage}`);
  return 2;
}

/**
 * Runs a command's main() as this process: its result is the exit code; a thrown error is printed on
 * stderr (bare for what the user must fix, prefixed "error:" otherwise) and mapped by exitCodeFor.
 */
export function runAsProcess(main: (argv: string[], io: CliIo) => Promise<number> | number, argv: string[] = process.argv.slice(2)): void {
  checkNodeVersion(); // one line on an unsupported Node, instead of the AWS SDK's nine
  Promise.resolve()
    .then(() => main(argv, PROCESS_IO))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (e) => {
        process.stderr.write(`${e instanceof FleetValidationError || e instanceof UsageError ? '' : 'error: '}${(e as Error).message}\n`);
        process.exitCode = exitCodeFor(e);
      },
    );
}
