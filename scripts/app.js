#!/usr/bin/env node
/**
 * The app: what `cdktf synth` / `cdktf deploy` run (cdktf.json "app") and what `npm run synth` runs directly.
 * main.ts runs as one bundle with a V8 code cache, rebuilt when a source changed (scripts/bundled.js).
 */
'use strict';
require('./bundled')
  .runBundled('main.ts', 'app', module)
  .catch((e) => {
    process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
