/**
 * jest's runtime, with each module compiled once per worker instead of once per test file.
 *
 * jest gives every test file a fresh module registry in a fresh context and compiles every module it loads again
 * (vm.compileFunction): for the unit tier that compile was the largest single cost in a profile (about a sixth of
 * the jest process's CPU), and each function compiled lazily while a test ran was compiled again in the next file.
 * A vm.Script is not bound to a context: the same compiled script runs in each test file's context, which gets its
 * own module function, globals and module objects (nothing is shared but V8's compiled code), and the functions V8
 * compiled while one file ran stay compiled for the next.
 *
 * A module whose code calls import() keeps jest's own compile (vm.Script takes a dynamic-import hook only through
 * an API that Node 20 marks experimental); so does anything when the code changed since it was compiled.
 */
const vm = require('vm');
const JestRuntime = require('jest-runtime').default;

/** Compiled scripts of this worker, by file: the source they were compiled from and the script. */
const compiled = new Map();
const DYNAMIC_IMPORT = /\bimport\s*\(/;

class CompileOncePerWorker extends JestRuntime {
  constructor(...args) {
    super(...args);
    const executor = this.executor;
    const jestCompile = executor.compile.bind(executor);
    const environment = this._environment;
    executor.compile = (source, filename) => {
      const context = environment.getVmContext();
      if (context == null || DYNAMIC_IMPORT.test(source)) return jestCompile(source, filename);
      let entry = compiled.get(filename);
      if (entry === undefined || entry.source !== source) {
        // The module's own code starts on the wrapper's first line, as in Node's CommonJS wrapper: lines keep
        // their numbers (source maps and stack traces), only line 1 is shifted right.
        const wrapper = `(function (${executor.injectedModuleParameters.join(', ')}) {${source}\n})`;
        entry = { source, script: new vm.Script(wrapper, { filename }) };
        compiled.set(filename, entry);
      }
      return entry.script.runInContext(context);
    };
  }
}

module.exports = CompileOncePerWorker;
