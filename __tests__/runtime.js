/**
 * jest's runtime, with each module read and compiled once per worker instead of once per test file.
 *
 * jest gives every test file a fresh module registry in a fresh context, and reads and compiles every module it loads
 * again (vm.compileFunction): in a profile of the unit tier that compile was the largest single cost (about a sixth of
 * the jest process's CPU), and each function compiled lazily while a test ran was compiled again in the next file.
 * - A vm.Script is not bound to a context: the same compiled script runs in each test file's context, which gets its
 *   own module function, globals and module objects (nothing is shared but V8's compiled code), and the functions V8
 *   compiled while one file ran stay compiled for the next.
 * - A file's text is kept for the worker while the file's inode, size and times stay the same (checked with a stat at
 *   every load: a file rewritten since is read again by the next test file; within one file jest keeps its first text,
 *   as it always did).
 * A script's import() goes to jest's dynamic import of the test file running at that moment (one at a time per
 * worker), with the context of that file, as jest's own compile does for its function. Once the test environment is
 * gone, jest's own compile answers (as before: nothing runs).
 *
 * It replaces two internals of jest-runtime 30.5.2 (build/index.js): ModuleExecutor.compile (which calls
 * vm.compileFunction with injectedModuleParameters) and FileCache.readFile. A jest without them keeps its own
 * behaviour: each patch is applied only where what it replaces is there.
 */
const fs = require('fs');
const vm = require('vm');
const JestRuntime = require('jest-runtime').default;

/** This worker's compiled scripts by file: the source each was compiled from, and the script. */
const compiled = new Map();
/** The test file running now in this worker: its executor (jest's dynamic import) and context. */
let running;
/** This worker's file texts by file, with the stat they were read under. */
const texts = new Map();

function statStamp(filename) {
  try {
    const s = fs.statSync(filename);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return undefined;
  }
}

class CompileOncePerWorker extends JestRuntime {
  constructor(...args) {
    super(...args);
    this.readOncePerWorker(this.fileCache);
    this.compileOncePerWorker(this.executor, this._environment);
  }

  /** jest's per-file cache of file texts, backed by the worker's (a file jest's runner already read wins). */
  readOncePerWorker(fileCache) {
    if (typeof fileCache?.readFile !== 'function' || !(fileCache.strings instanceof Map)) return;
    const jestRead = fileCache.readFile.bind(fileCache);
    fileCache.readFile = (filename) => {
      const own = fileCache.strings.get(filename);
      if (own !== undefined) return own;
      const stamp = statStamp(filename);
      const kept = texts.get(filename);
      if (stamp !== undefined && kept?.stamp === stamp) {
        fileCache.strings.set(filename, kept.text);
        return kept.text;
      }
      // Stat before read: a file changed in between is stored under the older stamp, and read again next time.
      const text = jestRead(filename);
      if (stamp !== undefined) texts.set(filename, { stamp, text });
      return text;
    };
  }

  compileOncePerWorker(executor, environment) {
    if (typeof executor?.compile !== 'function' || !Array.isArray(executor.injectedModuleParameters)) return;
    if (typeof executor.dynamicImport !== 'function' || typeof environment?.getVmContext !== 'function') return;
    const jestCompile = executor.compile.bind(executor);
    executor.compile = (source, filename) => {
      const context = environment.getVmContext();
      if (context == null) return jestCompile(source, filename);
      running = { executor, context };
      let entry = compiled.get(filename);
      if (entry === undefined || entry.source !== source) {
        // The module's own code starts on the wrapper's first line, as in Node's CommonJS wrapper: lines keep their
        // numbers (source maps and stack traces), only line 1 is shifted right.
        const wrapper = `(function (${executor.injectedModuleParameters.join(', ')}) {${source}\n})`;
        const importModuleDynamically = (specifier, _script, attributes, ...rest) =>
          running.executor.dynamicImport(specifier, filename, running.context, attributes, rest[0]);
        entry = { source, script: new vm.Script(wrapper, { filename, importModuleDynamically }) };
        compiled.set(filename, entry);
      }
      return entry.script.runInContext(context);
    };
  }
}

module.exports = CompileOncePerWorker;
