#!/usr/bin/env node
/**
 * The package's command (package.json "bin"), runnable from a clone with node alone: cli/main.ts runs as one
 * esbuild bundle with a V8 code cache, rebuilt when a source changed (scripts/bundled.js). That includes the
 * ES-modules-only @kubernetes/client-node, so no TypeScript or ESM loader hooks are needed at run time.
 */
'use strict';
require('../scripts/bundled')
  .runBundled('cli/main.ts', 'cli', module)
  .then(
    (cli) => cli.run(),
    (e) => {
      process.stderr.write(`bottlerocket-fleet: could not build the command line (${e.message}); run npm ci in the project first\n`);
      process.exit(1);
    },
  );
