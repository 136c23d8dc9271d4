/**
 * The lint gate (`npm run lint`, run by .ci/run before the tests) catches what it is there for: snippets are
 * linted as if they were files in the tree, with the project's eslint.config.mjs (see helpers/lint-probe.mjs).
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

interface Linted {
  path: string;
  ignored: boolean;
  findings: { ruleId: string | null; line: number; message: string }[];
}

const SAVE = 'export async function save(): Promise<void> {}\n';
const SNIPPETS = {
  unawaited: { path: 'modules/lint-probe/unawaited.ts', text: `${SAVE}export function run(): void {\n  save();\n}\n` },
  awaited: { path: 'modules/lint-probe/awaited.ts', text: `${SAVE}export async function run(): Promise<void> {\n  await save();\n}\n` },
  asyncCallback: {
    path: 'cli/lint-probe/callback.ts',
    text: `${SAVE}export function onEach(items: string[]): void {\n  items.forEach(async () => { await save(); });\n}\n`,
  },
  anyFlow: { path: 'modules/lint-probe/any.ts', text: 'export function parse(text: string): { name: string } {\n  return JSON.parse(text);\n}\n' },
  generated: { path: '.gen/providers/lint-probe.ts', text: `${SAVE}export function run(): void {\n  save();\n}\n` },
};

let linted: Record<keyof typeof SNIPPETS, Linted>;
beforeAll(() => {
  const probe = path.join(__dirname, 'helpers', 'lint-probe.mjs');
  const out = execFileSync(process.execPath, [probe], { input: JSON.stringify(Object.values(SNIPPETS)), encoding: 'utf8' });
  const results = JSON.parse(out) as Linted[];
  linted = Object.fromEntries(Object.entries(SNIPPETS).map(([name, s]) => [name, results.find((r) => r.path === s.path)!])) as typeof linted;
}, 60_000);

const rules = (l: Linted) => l.findings.map((f) => `${f.ruleId ?? 'parse error'}@${f.line}`);

test('a deliberately unawaited promise in a module fails lint (no-floating-promises)', () => {
  expect(linted.unawaited.ignored).toBe(false);
  expect(rules(linted.unawaited)).toEqual(['@typescript-eslint/no-floating-promises@3']);
});

test('the same call awaited passes: the finding is about the missing await, nothing else', () => {
  expect(rules(linted.awaited)).toEqual([]);
});

test('an async callback where nothing awaits it fails lint (no-misused-promises)', () => {
  expect(rules(linted.asyncCallback)).toEqual(['@typescript-eslint/no-misused-promises@3']);
});

test('an `any` flowing into a typed return fails lint (no-unsafe-return)', () => {
  expect(rules(linted.anyFlow)).toEqual(['@typescript-eslint/no-unsafe-return@2']);
});

test('generated bindings under .gen/ are not linted', () => {
  expect(linted.generated.ignored).toBe(true);
});
