#!/usr/bin/env node
/**
 * The app: what `cdktf synth` / `cdktf deploy` run (cdktf.json "app") and what `npm run synth` runs directly.
 *
 * It runs main.ts as one esbuild bundle (dist/app/main.cjs, node_modules included), rebuilt only when a file
 * it was built from changed (mtime and size of every project source in the bundle, and npm's record of the
 * installed packages). One file instead of ~1500 module loads, no TypeScript loader at run time, and a V8
 * code cache beside the bundle: start-up is close to Node loading cdktf itself (see `npm run bench`).
 * Type-checking is `npm test`'s job (tsc --noEmit), as it was under tsx.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'dist', 'app');
const BUNDLE = path.join(OUT, 'main.cjs');
const INPUTS = path.join(OUT, 'inputs.json');
const CODE_CACHE = path.join(OUT, 'main.cjs.v8-cache');
// npm rewrites this on every install, so a changed dependency rebuilds the bundle.
const INSTALLED = path.join('node_modules', '.package-lock.json');

const stamp = (file) => {
  const s = fs.statSync(path.join(ROOT, file));
  return `${s.mtimeMs}:${s.size}`;
};

/** True when the bundle exists and none of the files it was built from changed since. */
function upToDate() {
  let recorded;
  try {
    recorded = JSON.parse(fs.readFileSync(INPUTS, 'utf8'));
  } catch {
    return false;
  }
  try {
    return fs.existsSync(BUNDLE) && Object.entries(recorded).every(([file, s]) => stamp(file) === s);
  } catch {
    return false; // an input was deleted or renamed
  }
}

/** Builds the bundle; written under temporary names and renamed, so concurrent runs never see half a file. */
function build() {
  const esbuild = require('esbuild');
  fs.mkdirSync(OUT, { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  const result = esbuild.buildSync({
    absWorkingDir: ROOT,
    entryPoints: ['main.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: tmp,
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/')), INSTALLED, 'scripts/app.js']) {
    if (fs.existsSync(path.join(ROOT, file))) inputs[file] = stamp(file);
  }
  fs.renameSync(tmp, BUNDLE);
  fs.rmSync(CODE_CACHE, { force: true });
  const inputsTmp = `${INPUTS}.${process.pid}.tmp`;
  fs.writeFileSync(inputsTmp, `${JSON.stringify(inputs, null, 1)}\n`);
  fs.renameSync(inputsTmp, INPUTS);
}

/** Runs the bundle as a CommonJS module, with V8's code cache (Node 20 has no module compile cache of its own). */
function run() {
  const source = fs.readFileSync(BUNDLE, 'utf8');
  let cachedData;
  try {
    cachedData = fs.readFileSync(CODE_CACHE);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData });
  const mod = new Module(BUNDLE, module);
  mod.filename = BUNDLE;
  mod.paths = Module._nodeModulePaths(OUT);
  const req = (id) => mod.require(id);
  req.resolve = (request) => Module._resolveFilename(request, mod);
  req.main = require.main;
  req.cache = Module._cache;
  // The cache is written once the app has run, so it also holds the functions compiled while running.
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', (code) => {
      if (code !== 0) return;
      try {
        const tmp = `${CODE_CACHE}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, CODE_CACHE);
      } catch {
        // only a cache: the next run compiles again
      }
    });
  }
  script.runInThisContext().call(mod.exports, mod.exports, req, mod, BUNDLE, OUT);
}

if (!upToDate()) build();
run();
