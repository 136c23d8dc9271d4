#!/usr/bin/env node
/**
 * `npm run lint`: the type-check, ESLint (type-aware rules, eslint.config.mjs) and `prettier --check`, in one go.
 *
 * Building the TypeScript program is most of what a type-aware lint costs (the AWS SDK's types are large), and
 * `tsc --noEmit` builds the same program: here it is built once, type-checked, and handed to ESLint
 * (typescript-eslint's `parserOptions.programs`). Prettier runs beside it on the other core. .ci/run sets
 * BOTTLEROCKET_FLEET_TYPECHECKED=1 for the `npm test` that follows a clean lint, so the tests do not
 * type-check the same tree a second time.
 * Exit 0 clean, 1 findings (type errors, lint findings or unformatted files).
 */
'use strict';
const path = require('path');
const { spawn } = require('child_process');

const ROOT = path.join(__dirname, '..');

async function main() {
  const started = Date.now();
  const prettier = new Promise((resolve) => {
    const child = spawn(process.execPath, [require.resolve('prettier/bin/prettier.cjs'), '--check', '--cache', '.'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });

  const ts = require('typescript');
  const configFile = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  const program = ts.createProgram({ rootNames: configFile.fileNames, options: { ...configFile.options, noEmit: true, incremental: false } });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
  const typeErrors = diagnostics.length ? ts.formatDiagnostics(diagnostics, host) : '';

  const { ESLint } = require('eslint');
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false, programs: [program] } } }],
  });
  const results = await eslint.lintFiles(['.']);
  const formatter = await eslint.loadFormatter('stylish');
  const lintText = await formatter.format(results);
  const lintErrors = results.reduce((n, r) => n + r.errorCount + r.warningCount, 0);

  const format = await prettier;
  process.stdout.write(typeErrors ? `tsc: type errors\n${typeErrors}\n` : 'tsc: no type errors\n');
  process.stdout.write(lintErrors ? lintText : 'eslint: no findings\n');
  process.stdout.write(format.code === 0 ? 'prettier: every file formatted\n' : `prettier --check failed (npm run format fixes it):\n${format.output}`);
  process.stdout.write(`lint took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return typeErrors || lintErrors || format.code !== 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 1;
  },
);
