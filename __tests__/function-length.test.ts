/**
 * No function in cli/, modules/ or stacks/ is longer than about 80 lines (issue 27 item 4): a longer one is a
 * procedure waiting to be named (STYLE.md "Small files, short functions"). Measured with the TypeScript
 * compiler's own parser, from a function's first line to its last, nested functions included in their parent.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');
const MAX_LINES = 80;

/**
 * Allowed to be longer, each with why. Usage texts and data tables are written as constants, so none is a function
 * today and the list is empty; an entry needs a reason, and the last test says when it is no longer needed.
 */
const ALLOWED: Record<string, string> = {};

interface LongFunction {
  /** "<file> <name>", the key of ALLOWED. */
  readonly key: string;
  readonly lines: number;
}

function functionName(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (node.name) return node.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  return `<function at line ${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}>`;
}

/** Every function with a body longer than `max` lines in one file's text. */
export function longFunctions(file: string, text: string, max = MAX_LINES): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > max) found.push({ key: `${file} ${functionName(node, source)}`, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

const all = ['cli', 'modules', 'stacks'].flatMap(sourceFiles).flatMap((f) => longFunctions(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));

describe('functions stay short enough to read on one screen', () => {
  test(`no function in cli/, modules/ or stacks/ is longer than ${MAX_LINES} lines, except the allowed ones`, () => {
    expect(all.filter((f) => !(f.key in ALLOWED)).map((f) => `${f.key}: ${f.lines} lines`)).toEqual([]);
  });

  test('the check catches a long function, a long method and a long arrow function, and lets one of 80 lines pass', () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  const x${i} = ${i};`).join('\n');
    const text = [
      `export function long(): void {\n${body(79)}\n}`,
      `export function fits(): void {\n${body(78)}\n}`,
      `class Builder {\n  run(): void {\n${body(80)}\n  }\n}`,
      `export const arrow = (): void => {\n${body(90)}\n};`,
    ].join('\n');
    expect(longFunctions('synthetic.ts', text).map((f) => `${f.key}: ${f.lines}`)).toEqual([
      'synthetic.ts long: 81',
      'synthetic.ts run: 82',
      'synthetic.ts arrow: 92',
    ]);
  });

  test('every allowed function is still long (remove an entry once its function was split)', () => {
    const long = new Set(all.map((f) => f.key));
    expect(Object.keys(ALLOWED).filter((k) => !long.has(k))).toEqual([]);
  });
});
