// Issue 21 (8): in a checkout the user cannot write to, the bundle fell back to a predictable folder under the
// temp folder, and an empty inputs.json there counted as up to date: another local user could plant a bundle
// that then ran with the victim's environment (scripts/bundled.js).
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT, tempDir } from './helpers/fleet';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundler is plain CommonJS run by node itself
const bundled = require('../scripts/bundled.js') as {
  upToDate(p: object, entry: string): boolean;
  fallbackRoot(root?: string, tmpdir?: string, uid?: number): string;
  checkPrivate(file: string, uid?: number): void;
  preparePrivate(p: object, fallback: string, uid?: number): void;
  paths(name: string, dir?: string): { dir: string; bundle: string; inputs: string; codeCache: string };
};

const uid = process.getuid!();
const stamp = (file: string) => {
  const s = fs.statSync(path.join(PROJECT_ROOT, file));
  return `${s.mtimeMs}:${s.size}`;
};

describe('what counts as an up-to-date bundle', () => {
  const entry = 'cli/main.ts';
  let p: ReturnType<typeof bundled.paths>;
  beforeEach(() => {
    p = bundled.paths('cli', path.join(tempDir('bundle-'), 'cli'));
    fs.mkdirSync(p.dir);
    fs.writeFileSync(p.bundle, 'module.exports = {};');
  });
  const complete = () => ({ [entry]: stamp(entry), 'scripts/bundled.js': stamp('scripts/bundled.js') });

  test('a complete record of unchanged inputs is up to date', () => {
    fs.writeFileSync(p.inputs, JSON.stringify(complete()));
    expect(bundled.upToDate(p, entry)).toBe(true);
  });

  test.each([
    ['an empty file', ''],
    ['an empty record', '{}'],
    ['a record cut short', JSON.stringify(complete()).slice(0, 30)],
    ['a record without the entry point', JSON.stringify({ 'scripts/bundled.js': stamp('scripts/bundled.js') })],
    ['a record without scripts/bundled.js', JSON.stringify({ [entry]: stamp(entry) })],
    ['a list', '[]'],
    ['null', 'null'],
  ])('%s is stale', (_name, text) => {
    fs.writeFileSync(p.inputs, text);
    expect(bundled.upToDate(p, entry)).toBe(false);
  });

  test('a changed input is stale', () => {
    fs.writeFileSync(p.inputs, JSON.stringify({ ...complete(), [entry]: '1:1' }));
    expect(bundled.upToDate(p, entry)).toBe(false);
  });
});

describe('the fallback folder under the temp folder', () => {
  test('is per user and per checkout', () => {
    const a = bundled.fallbackRoot('/src/a', '/tmp', 1000);
    expect(a).toMatch(/^\/tmp\/bottlerocket-fleet-1000-[0-9a-f]{12}$/);
    expect(bundled.fallbackRoot('/src/a', '/tmp', 1001)).not.toBe(a);
    expect(bundled.fallbackRoot('/src/b', '/tmp', 1000)).not.toBe(a);
  });

  test('is created with mode 0700, and so is the bundle folder inside it', () => {
    const fallback = path.join(tempDir('tmp-'), 'bottlerocket-fleet-x');
    const p = bundled.paths('cli', path.join(fallback, 'cli'));
    bundled.preparePrivate(p, fallback);
    expect(fs.statSync(fallback).mode & 0o777).toBe(0o700);
    expect(fs.statSync(p.dir).mode & 0o777).toBe(0o700);
    expect(() => bundled.preparePrivate(p, fallback)).not.toThrow(); // the user's own, again
  });

  const planted = () => {
    const fallback = path.join(tempDir('tmp-'), 'bottlerocket-fleet-x');
    const p = bundled.paths('cli', path.join(fallback, 'cli'));
    fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(fallback, 0o700);
    fs.chmodSync(p.dir, 0o700);
    return { fallback, p };
  };

  // Ownership is judged against the uid passed in: "another user" is any uid but the folder's owner.
  test('a folder another user owns is refused, naming it and the fix', () => {
    const { fallback, p } = planted();
    expect(() => bundled.preparePrivate(p, fallback, uid + 1)).toThrow(
      `refusing the bundle folder: ${fallback} is owned by uid ${uid}, not by you (uid ${uid + 1}). Remove it (rm -rf ${fallback}) or run from a checkout you can write to.`,
    );
  });

  test.each([
    [0o770, 'its group', 'fallback'],
    [0o703, 'other users', 'fallback'],
    [0o722, 'its group', 'bundle folder'],
  ])('a folder writable by others (mode %o) is refused', (mode, who, which) => {
    const { fallback, p } = planted();
    const dir = which === 'fallback' ? fallback : p.dir;
    fs.chmodSync(dir, mode);
    expect(() => bundled.preparePrivate(p, fallback)).toThrow(`${dir} is writable by ${who} (mode ${mode.toString(8)})`);
  });

  test('a planted file (bundle, record or code cache) that others can write, or that is a link, is refused', () => {
    for (const file of ['bundle', 'inputs', 'codeCache'] as const) {
      const { fallback, p } = planted();
      fs.writeFileSync(p[file], 'x', { mode: 0o666 });
      fs.chmodSync(p[file], 0o666);
      expect(() => bundled.preparePrivate(p, fallback)).toThrow(`${p[file]} is writable by its group`);
      fs.rmSync(p[file]);
      fs.symlinkSync('/etc/hostname', p[file]);
      expect(() => bundled.preparePrivate(p, fallback)).toThrow(`${p[file]} is a symbolic link`);
    }
  });

  test('a folder that is a symbolic link is refused', () => {
    const base = tempDir('tmp-');
    fs.mkdirSync(path.join(base, 'elsewhere'), { mode: 0o700 });
    fs.symlinkSync(path.join(base, 'elsewhere'), path.join(base, 'bottlerocket-fleet-x'));
    const fallback = path.join(base, 'bottlerocket-fleet-x');
    expect(() => bundled.preparePrivate(bundled.paths('cli', path.join(fallback, 'cli')), fallback)).toThrow(`${fallback} is a symbolic link`);
  });
});
