/** Jest: @swc/jest strips types (type-checking is `tsc --noEmit`, run first by `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  // Only *.test.ts are tests; helpers and fixtures under __tests__/ are not.
  testMatch: ['**/__tests__/**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
    // The CEL library ships only as ES modules; Node 20 can require() it, jest's module system cannot.
    '^.+/@marcbachmann/cel-js/.+\\.js$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@marcbachmann/cel-js/)'],
  // @kubernetes/client-node is ES modules only: global-setup bundles it into one CommonJS file (see
  // __tests__/helpers/esm-bundles.ts) instead of transforming its thousand files on every cold run.
  // cdktf likewise runs from one bundle of its ~380 files, built by global-setup (bundleCdktf: why and what differs).
  moduleNameMapper: {
    '^@kubernetes/client-node$': '<rootDir>/node_modules/.cache/bottlerocket-fleet/client-node.cjs',
    '^cdktf$': '<rootDir>/node_modules/.cache/bottlerocket-fleet/cdktf.cjs',
    '^cdktf/lib/util$': '<rootDir>/node_modules/.cache/bottlerocket-fleet/cdktf-util.cjs',
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['<rootDir>/__tests__/setup-env.js'],
  // Finds Terraform, the provider mirror and moto_server once (see __tests__/helpers/real-tools.ts).
  globalSetup: '<rootDir>/__tests__/global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/global-teardown.ts',
  // Some tests run the real CLIs as processes (tsx start-up is seconds on a loaded 2-core machine).
  testTimeout: 60_000,
  // jest's default is one worker per core but one (a single worker here); the slow suites mostly wait on
  // child processes (Terraform, moto_server, the CLIs), so two workers overlap that waiting.
  maxWorkers: 2,
  testSequencer: '<rootDir>/__tests__/sequencer.js',
  // Compiles each module once per worker, not once per test file (see the file).
  runtime: '<rootDir>/__tests__/runtime.js',
};
