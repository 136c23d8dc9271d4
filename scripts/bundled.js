/**
 * Runs a TypeScript entry point of this project as one esbuild bundle under dist/<name>/ (node_modules
 * included), rebuilt only when a file it was built from changed (mtime and size of every project source in the
 * bundle, and npm's record of the installed packages), with a V8 code cache beside it. One file instead of
 * hundreds of module loads and no TypeScript loader at run time: start-up is close to Node loading the
 * libraries themselves (see `npm run bench`). Used by the app (scripts/app.js) and the command line
 * (bin/bottlerocket-fleet.js). Type-checking is `npm test`'s job (tsc --noEmit), as it was under tsx.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const ROOT = path.join(__dirname, '..');
// npm rewrites this on every install, so a changed dependency rebuilds the bundles.
const INSTALLED = path.join('node_modules', '.package-lock.json');

const stamp = (file) => {
  const s = fs.statSync(path.join(ROOT, file));
  return `${s.mtimeMs}:${s.size}`;
};

/** Writes through a temporary name and renames, so concurrent runs never read half a file. */
function writeAtomic(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Where the bundle of `name` lives. */
function paths(name, dir = path.join(ROOT, 'dist', name)) {
  return { dir, bundle: path.join(dir, 'main.cjs'), inputs: path.join(dir, 'inputs.json'), codeCache: path.join(dir, 'main.cjs.v8-cache') };
}

/**
 * True when the bundle exists and none of the files it was built from changed since. A record that is empty, cut
 * short or lacks the entry point and this script (both are always inputs) is stale: only a complete build writes one.
 */
function upToDate(p, entry) {
  try {
    const recorded = JSON.parse(fs.readFileSync(p.inputs, 'utf8'));
    if (!recorded || typeof recorded !== 'object' || Array.isArray(recorded)) return false;
    if (!Object.hasOwn(recorded, entry) || !Object.hasOwn(recorded, 'scripts/bundled.js')) return false;
    return fs.existsSync(p.bundle) && Object.entries(recorded).every(([file, s]) => stamp(file) === s);
  } catch {
    return false; // no record yet, or an input was deleted or renamed
  }
}

/**
 * The fallback folder for a checkout the user cannot write to: under the temp folder, one per user and checkout
 * (a shared temp folder is writable by everyone, so a predictable shared name could be planted by another user).
 */
function fallbackRoot(root = ROOT, tmpdir = require('os').tmpdir(), uid = process.getuid?.()) {
  const id = require('crypto').createHash('sha256').update(root).digest('hex').slice(0, 12);
  return path.join(tmpdir, `bottlerocket-fleet-${uid ?? 'user'}-${id}`);
}

/**
 * Refuses (throws) a path another user owns or can write: code loaded from there would run with this user's
 * environment. Symbolic links are refused too (they could point anywhere). No-op where there are no POSIX uids.
 */
function checkPrivate(file, uid = process.getuid?.()) {
  if (uid === undefined) return;
  const s = fs.lstatSync(file);
  const problem = s.isSymbolicLink()
    ? 'is a symbolic link'
    : s.uid !== uid
      ? `is owned by uid ${s.uid}, not by you (uid ${uid})`
      : (s.mode & 0o022) !== 0
        ? `is writable by ${s.mode & 0o020 ? 'its group' : 'other users'} (mode ${(s.mode & 0o777).toString(8)})`
        : undefined;
  if (problem)
    throw Object.assign(new Error(`refusing the bundle folder: ${file} ${problem}. Remove it (rm -rf ${file}) or run from a checkout you can write to.`), {
      code: 'EBUNDLEUNSAFE',
    });
}

/** Creates (mode 0700) or checks the per-user fallback folder and the bundle's folder inside it, and any files already there. */
function preparePrivate(p, fallback, uid = process.getuid?.()) {
  for (const dir of [fallback, p.dir]) {
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    checkPrivate(dir, uid);
  }
  for (const file of [p.bundle, p.inputs, p.codeCache]) if (fs.existsSync(file) || isLink(file)) checkPrivate(file, uid);
}

const isLink = (file) => {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
};

/**
 * cdktf captures a full stack trace for every token it creates (tokens/private/stack-trace.js), only to print it
 * if that token later fails to resolve; in a bundle without source maps those frames name main.cjs lines. On a
 * 20-cluster fleet that capture was a fifth of synth. The bundle captures none unless
 * BOTTLEROCKET_FLEET_CREATION_STACKS=1 (then cdktf's own code runs); errors keep their message either way.
 */
const lazyCreationStacks = {
  name: 'cdktf-creation-stacks-on-demand',
  setup(b) {
    b.onLoad({ filter: /[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]stack-trace\.js$/ }, (args) => {
      const original = fs.readFileSync(args.path, 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
      return {
        loader: 'js',
        contents: `${original}
const captureAlways = exports.captureStackTrace;
exports.captureStackTrace = function captureStackTrace(below) {
  return process.env.BOTTLEROCKET_FLEET_CREATION_STACKS === '1' ? captureAlways(below || captureStackTrace) : [];
};
`,
      };
    });
  },
};

/**
 * cdktf's resolve() (tokens/private/resolve.js) runs for every value of every stack, three times per stack
 * (prepareStack, each element, the merged tree), and first builds the value's path string, "/" + prefix.join("/"),
 * which only its four error messages use. The bundle builds it when a message asks for it (all four embed it in a
 * template string); on a 100-cluster fleet that was about 8% of the app's CPU time. Same output, same messages.
 */
const lazyResolvePath = {
  name: 'cdktf-resolve-path-on-demand',
  setup(b) {
    b.onLoad({ filter: /[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]resolve\.js$/ }, (args) => {
      const original = fs.readFileSync(args.path, 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
      const eager = 'const pathName = "/" + prefix.join("/");';
      // A cdktf that no longer has this line fails the build here instead of silently keeping the cost.
      if (original.split(eager).length !== 2)
        throw new Error(`${args.path}: expected one \`${eager}\` (cdktf 0.21.0); update lazyResolvePath in scripts/bundled.js`);
      return { loader: 'js', contents: original.replace(eager, 'const pathName = { toString: () => "/" + prefix.join("/") };') };
    });
  },
};

async function build(entry, p) {
  const esbuild = require('esbuild');
  fs.mkdirSync(p.dir, { recursive: true });
  const tmp = `${p.bundle}.${process.pid}.tmp`;
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: tmp,
    metafile: true,
    logLevel: 'warning',
    plugins: [lazyCreationStacks, lazyResolvePath],
    // import() of what stays outside the bundle (Node's built-ins) becomes require(): a script run from V8's code
    // cache loses its dynamic-import callback on Node 20, and `import('child_process')` then fails.
    supported: { 'dynamic-import': false },
  });
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/')), INSTALLED, 'scripts/bundled.js']) {
    if (fs.existsSync(path.join(ROOT, file))) inputs[file] = stamp(file);
  }
  fs.renameSync(tmp, p.bundle);
  fs.rmSync(p.codeCache, { force: true });
  writeAtomic(p.inputs, `${JSON.stringify(inputs, null, 1)}\n`);
}

/** Loads the bundle as a CommonJS module and returns its exports (Node 20 has no module compile cache of its own). */
function load(p, parent) {
  const source = fs.readFileSync(p.bundle, 'utf8');
  let cachedData;
  try {
    cachedData = fs.readFileSync(p.codeCache);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: p.bundle, cachedData });
  const mod = new Module(p.bundle, parent);
  mod.filename = p.bundle;
  // __dirname and module resolution as if the bundle were in dist/<name>/ of the checkout, wherever it was
  // written: the code finds contracts/ by walking up from __dirname.
  const home = path.join(ROOT, 'dist', path.basename(p.dir));
  mod.paths = Module._nodeModulePaths(home);
  const req = (id) => mod.require(id);
  req.resolve = (request) => Module._resolveFilename(request, mod);
  req.main = require.main;
  req.cache = Module._cache;
  // Written once the process is done, so the cache also holds the functions compiled while it ran.
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', (code) => {
      if (code !== 0) return;
      try {
        writeAtomic(p.codeCache, script.createCachedData());
      } catch {
        // only a cache: the next run compiles again
      }
    });
  }
  script.runInThisContext().call(mod.exports, mod.exports, req, mod, p.bundle, home);
  return mod.exports;
}

/** Builds the bundle of `entry` (a path relative to the project) if it is stale, runs it, and resolves to its exports. */
async function runBundled(entry, name, parent = module) {
  let p = paths(name);
  if (!upToDate(p, entry)) {
    try {
      await build(entry, p);
    } catch (e) {
      if (!['EACCES', 'EPERM', 'EROFS'].includes(e.code)) throw e;
      // A checkout the user cannot write to (a shared or read-only tree): bundle under the temp folder instead, in
      // a folder of this user's own (mode 0700), refused if anyone else owns or can write it or what it holds.
      const fallback = fallbackRoot();
      p = paths(name, path.join(fallback, name));
      preparePrivate(p, fallback);
      if (!upToDate(p, entry)) await build(entry, p);
    }
  }
  return load(p, parent);
}

module.exports = { runBundled, upToDate, fallbackRoot, checkPrivate, preparePrivate, paths };
