/**
 * What every command shares on the command line: where it writes, how it is named in its usage, how
 * `--help`, `--version` and a bad option are answered, and how it runs as a process. One rule for all commands:
 * `--help`/`-h` prints the usage on stdout and exits 0; an unknown option ("unknown option --dryrun (did you
 * mean --dry-run?)") or a missing argument prints the problem and the usage on stderr and exits 2
 * (cli/shared/exit-code.ts), before the fleet file is read or any network call is made; under --json the
 * problem is also the one JSON document on stdout (cli/shared/command-output.ts).
 */
import { parseArgs } from 'util';
import type { ParseArgsConfig } from 'util';
import { closestKey, FleetValidationError } from '../../modules/fleet/problems';
import { version } from '../../package.json';
import { exitCodeFor, UsageError } from './exit-code';
import { commandOutput, CommandOutput } from './command-output';
import type { Terminal } from './progress';
import { checkNodeVersion } from './node-version';

/** Where a command writes; tests capture it, the process writes to its own streams. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The terminal progress is drawn on (stderr). @default none: plain lines only */
  readonly terminal?: Terminal;
  /**
   * The clock a long command's stages wait on (polls, soaks, health deadlines; `upgrade apply` reads it).
   * @default real time (Date.now and timers). A test against simulated clusters passes a virtual one, so a
   * 2-hour soak takes no real time and the clusters move only when the command waits.
   */
  readonly clock?: CommandClock;
}

/** What a command measures time with and waits on; `sleep` rejects when the signal aborts (Ctrl-C). */
export interface CommandClock {
  readonly now: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
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

/** The package's version (package.json), for --version. */
export const VERSION: string = version;

/**
 * How the user called the command, for its usage text: `npm run cache --` under the npm script shortcut
 * (npm sets npm_lifecycle_event to the script's name), `bottlerocket-fleet cache` otherwise.
 */
export function programName(command: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_lifecycle_event === command ? `npm run ${command} --` : `${BIN} ${command}`;
}

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h', default: false }, version: { type: 'boolean', default: false } } as const;

/**
 * "unknown option --dryrun (did you mean --dry-run?)" for the first option the command does not know, else
 * undefined. Node's parseArgs in non-strict mode lists every option it saw as a token (util.parseArgs `tokens`).
 */
export function unknownOption(argv: string[], options: Options): string | undefined {
  const { tokens } = parseArgs({ args: argv, allowPositionals: true, strict: false, tokens: true, options });
  for (const t of tokens) {
    if (t.kind !== 'option' || Object.hasOwn(options, t.name)) continue;
    const guess = closestKey(
      t.name,
      Object.keys(options).filter((o) => o.length > 1),
    );
    return `unknown option ${t.rawName}${guess ? ` (did you mean --${guess}?)` : ''}`;
  }
  return undefined;
}

/**
 * parseArgs (strict: an unknown option is an error) with --help/-h and --version added. A problem becomes a
 * UsageError: an unknown option with its "did you mean", anything else in parseArgs' own words.
 */
export function parseCommandLine<O extends Options>(argv: string[], options: O) {
  const all = { ...options, ...HELP };
  const unknown = unknownOption(argv, all);
  if (unknown) throw new UsageError(unknown);
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: all });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * The usual start of a command's main(): parsed arguments and the run's output (--json or text), or the exit
 * code when the command line already answered (--help: usage on stdout, 0; --version: the version, 0; a bad
 * option: message and usage on stderr, 2). `usage` receives the positionals, so `cache build --help` can print
 * the usage of `build` alone.
 */
export function commandLine<O extends Options>(argv: string[], options: O, io: CliIo, usage: (positionals: string[]) => string) {
  let parsed;
  try {
    parsed = parseCommandLine(argv, options);
  } catch (e) {
    // The command line did not parse, but a --json in it still asks for one document.
    return { exit: usageError(commandOutput(io, argv.includes('--json')), (e as Error).message, usage(positionalsOf(argv))) };
  }
  const flags = parsed.values as { help?: boolean; version?: boolean; json?: boolean };
  if (flags.help) {
    io.out(usage(parsed.positionals));
    return { exit: 0 as const };
  }
  if (flags.version) {
    io.out(`${BIN} ${VERSION}\n`);
    return { exit: 0 as const };
  }
  return { exit: undefined, values: parsed.values, positionals: parsed.positionals, output: commandOutput(io, flags.json === true) };
}

/** Best-effort positionals of a command line that did not parse (for choosing which usage to show). */
function positionalsOf(argv: string[]): string[] {
  return argv.filter((a) => !a.startsWith('-'));
}

/** A missing or extra argument: the problem, then the usage, on stderr (under --json the problem on stdout too); exit 2. */
export function usageError(io: CliIo | CommandOutput, problem: string, usage: string): 2 {
  if ('fail' in io) io.fail(2, problem);
  else io.err(`${problem}\n`);
  io.err(`\n${usage}`);
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
