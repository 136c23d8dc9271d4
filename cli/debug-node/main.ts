/**
 * npm run debug-node -- <node> [--print] [--image <ref>] [--context <kubeconfig context>]
 * Opens a root shell on a Bottlerocket node through `kubectl debug` (see README "Node debugging").
 */
import { spawnSync } from 'child_process';
import { parseArgs } from 'util';
import { debugNodeCommand, shellQuote } from './command';

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { print: { type: 'boolean', default: false }, image: { type: 'string' }, context: { type: 'string' }, help: { type: 'boolean', default: false } },
  });
  if (values.help || positionals.length !== 1) {
    process.stderr.write('usage: npm run debug-node -- <node> [--print] [--image <ref>] [--context <name>]\n');
    return values.help ? 0 : 2;
  }
  const argv0 = debugNodeCommand({ node: positionals[0], image: values.image, context: values.context });
  if (values.print) {
    process.stdout.write(`${shellQuote(argv0)}\n`);
    return 0;
  }
  const r = spawnSync(argv0[0], argv0.slice(1), { stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`could not run kubectl: ${r.error.message}\n`);
    return 127;
  }
  return r.status ?? 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 2;
}
