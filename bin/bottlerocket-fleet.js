#!/usr/bin/env node
/**
 * The package's command (package.json "bin"), runnable from a clone with node alone: no build step.
 * Importing 'tsx' registers its TypeScript hooks in this process, for require() and for import() both
 * (the commands import() @kubernetes/client-node, which is ES modules only), then cli/main.ts runs here.
 * Cheaper than the `tsx` command, which starts a second node process to run the file.
 */
'use strict';
import('tsx').then(() => {
  require('../cli/main.ts').run();
}, (e) => {
  process.stderr.write(`bottlerocket-fleet: could not load tsx (${e.message}); run npm ci in the project first\n`);
  process.exitCode = 1;
});
