#!/usr/bin/env node
/**
 * `npm test`: the type-check (tsc --noEmit) and jest side by side. tsc is single-threaded, so running it
 * first left one of the two cores idle for its ~10 s; run together they share the machine. Exits non-zero
 * if either fails; extra arguments go to jest (npm test -- <pattern>).
 * BOTTLEROCKET_FLEET_TYPECHECKED=1 skips the type-check: .ci/run sets it after `npm run lint` (scripts/lint.js)
 * has type-checked the same tree with the program it lints.
 */
const { spawn } = require('child_process');
const path = require('path');

const bin = (name) => path.join(__dirname, '..', 'node_modules', '.bin', name);
const run = (command, args, label) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: label ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (label) {
      child.stdout.on('data', (d) => {
        output += d;
      });
      child.stderr.on('data', (d) => {
        output += d;
      });
    }
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });

(async () => {
  // tsc's output is held back and printed after jest's, so the two never interleave.
  const typechecked = process.env.BOTTLEROCKET_FLEET_TYPECHECKED === '1';
  const tsc = typechecked ? Promise.resolve({ code: 0, output: '' }) : run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], 'tsc');
  const jest = await run(bin('jest'), process.argv.slice(2));
  const types = await tsc;
  if (typechecked) process.stdout.write('tsc --noEmit: skipped (npm run lint type-checked this tree)\n');
  else process.stdout.write(types.code === 0 ? 'tsc --noEmit: no type errors\n' : `tsc --noEmit failed:\n${types.output}`);
  process.exitCode = types.code || jest.code;
})();
