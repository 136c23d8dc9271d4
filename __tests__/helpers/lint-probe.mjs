// Lints source texts as if they were files at the given paths, with the project's eslint.config.mjs, and
// prints the findings as JSON: input on stdin, [{ path, text }], output [{ path, ignored, findings }].
// Plain Node, not jest: ESLint loads its config with import(), which jest's module sandbox cannot run.
// Type information comes from a program of just these texts, so a check takes a second or two, not the
// whole project's 20.
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';

// require(), not import: an import of a CommonJS package first scans its whole text for its export names (Node's
// cjs-module-lexer), and TypeScript's is one 9 MB file: that scan was a quarter of this probe's CPU time.
const require = createRequire(import.meta.url);
/** @type {typeof import('typescript')} */
const ts = require('typescript');
/** @type {typeof import('eslint')} */
const { ESLint } = require('eslint');

const root = path.resolve(import.meta.dirname, '..', '..');
/** @type {{ path: string; text: string }[]} */
const inputs = JSON.parse(fs.readFileSync(0, 'utf8'));
const texts = new Map(inputs.map((i) => [path.join(root, i.path), i.text]));

const options = { target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'], strict: true, types: [], noEmit: true };
const host = ts.createCompilerHost(options);
const { getSourceFile, fileExists, readFile } = host;
host.getSourceFile = (name, version, ...rest) => {
  const text = texts.get(name);
  return text === undefined ? getSourceFile.call(host, name, version, ...rest) : ts.createSourceFile(name, text, version, true);
};
host.fileExists = (name) => texts.has(name) || fileExists.call(host, name);
host.readFile = (name) => texts.get(name) ?? readFile.call(host, name);
const program = ts.createProgram([...texts.keys()], options, host);

const eslint = new ESLint({
  cwd: root,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, programs: [program] } } },
});
const out = [];
for (const [filePath, text] of texts) {
  const ignored = await eslint.isPathIgnored(filePath);
  const [result] = await eslint.lintText(text, { filePath });
  const findings = (result?.messages ?? []).map((m) => ({ ruleId: m.ruleId, line: m.line, message: m.message }));
  out.push({ path: path.relative(root, filePath), ignored, findings });
}
process.stdout.write(JSON.stringify(out));
