/**
 * bottlerocket-fleet <command> [...]: the package's one command line (package.json "bin"; the npm scripts
 * `npm run deploy|cache|migrate|rollout|debug-node -- ...` are shortcuts to it). Each command's module is
 * imported only when it runs, so `--help` and usage errors never load the AWS SDK or the Kubernetes client.
 */
import { closestKey } from '../modules/fleet/problems';
import { BIN, CliIo, PROCESS_IO, runAsProcess, usageError, VERSION } from './shared/command-line';
import { commandOutput } from './shared/command-output';

type CommandMain = (argv: string[], io: CliIo) => Promise<number> | number;

/** The commands, in the order the usage lists them. */
export const COMMANDS: Record<string, { readonly summary: string; readonly load: () => Promise<{ main: CommandMain }> }> = {
  deploy: { summary: 'cdktf deploy, after checking the image-cache parameters the Karpenter stacks read', load: () => import('./deploy/main') },
  cache: { summary: 'build, list and garbage-collect image-cache snapshots; measure them on a cluster (report)', load: () => import('./cache/main') },
  rollout: { summary: 'roll a new image-cache snapshot out to the clusters, stage by stage', load: () => import('./rollout/main') },
  upgrade: {
    summary: "compare each cluster's Kubernetes version, Bottlerocket release and cache generation with the fleet file (plan, status)",
    load: () => import('./upgrade/main'),
  },
  migrate: { summary: "drain a cluster's old nodes onto Bottlerocket; remove the NVIDIA device plugin", load: () => import('./migrate/main') },
  'debug-node': { summary: 'open a root shell on a Bottlerocket node (kubectl debug)', load: () => import('./debug-node/main') },
  addons: { summary: 'the EKS add-on versions a cluster pins, and the newer ones EKS offers for its version', load: () => import('./addons/main') },
};

export const USAGE = `usage: ${BIN} <command> [options]
       ${BIN} <command> --help
       ${BIN} --version

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

From a clone, \`npm run <command> -- [options]\` is the same (e.g. npm run cache -- build general --dry-run).
The fleet file is FLEET_FILE or ./fleet.yaml. --json prints a command's result, or its failure, as one JSON
document on stdout (pipe it with npm run -s, or the bin). Rules: docs/command-line.md.
Exit codes: 0 done, 1 failed, 2 usage (command line or fleet file).
`;

/** Runs a command; returns the exit code (0 done, 1 failed, 2 usage). */
export async function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') {
    io.out(USAGE);
    return 0;
  }
  if (name === '--version') {
    io.out(`${BIN} ${VERSION}\n`);
    return 0;
  }
  // `help <command>` is `<command> --help`.
  if (name === 'help') return rest[0] ? main([rest[0], '--help'], io) : main(['--help'], io);
  // Under --json even a command line without a command answers with one document.
  const output = commandOutput(io, argv.includes('--json'));
  if (argv.length === 0) return usageError(output, 'missing command', USAGE);
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) return usageError(output, unknownArgument(name), USAGE);
  return (await command.load()).main(rest, io);
}

/** "unknown option --verison (did you mean --version?)" or "unknown command "cahce" (did you mean cache?)". */
function unknownArgument(name: string): string {
  if (name.startsWith('-')) {
    const guess = closestKey(name.replace(/^-+/, ''), ['help', 'version']);
    return `unknown option ${name}${guess ? ` (did you mean --${guess}?)` : ''}`;
  }
  const guess = closestKey(name, Object.keys(COMMANDS));
  return `unknown command "${name}"${guess ? ` (did you mean ${guess}?)` : ''}`;
}

/** Runs as this process (bin/bottlerocket-fleet.js calls it; `tsx cli/main.ts` runs it directly). */
export function run(): void {
  runAsProcess(main);
}

if (require.main === module) run();
