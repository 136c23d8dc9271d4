/**
 * The documentation (README.md and docs/) stays true:
 * - every relative link resolves to a file, and every anchor to a heading of that file, with GitHub's
 *   own slugs (github-slugger, the algorithm github.com uses for heading anchors);
 * - every command line the docs show (`npm run <command> -- ...`, `bottlerocket-fleet <command> ...`)
 *   names a command and subcommand that exist, with flags that its `--help` lists;
 * - the fleet-file reference is generated from modules/fleet/schema.ts and is up to date.
 */
import * as fs from 'fs';
import * as path from 'path';
import MarkdownIt from 'markdown-it';
import GithubSlugger from 'github-slugger';
import { main } from '../cli/main';
import { FLEET_REFERENCE_FILE, fleetReferenceRows, renderFleetReference } from '../scripts/fleet-reference';
import { captureMain } from './helpers/capture';
import { PROJECT_ROOT } from './helpers/fleet';
import { commandLinesIn, docFiles, headingAnchors, linksIn } from './helpers/docs';

const md = new MarkdownIt({ html: true });
const FILES = docFiles(PROJECT_ROOT);
const read = (file: string): string => fs.readFileSync(file, 'utf8');

describe('links in README.md and docs/', () => {
  test('the docs exist: README.md and at least the pages it links to', () => {
    expect(FILES.map((f) => path.relative(PROJECT_ROOT, f))).toEqual(expect.arrayContaining(['README.md', 'docs/fleet-file-reference.md']));
  });

  const links = FILES.flatMap((file) => linksIn(md, read(file)).map((href) => ({ file, href })));
  const relative = links.filter(({ href }) => !/^[a-z][a-z0-9+.-]*:/i.test(href));

  test('there are relative links to check (README -> docs, docs -> docs)', () => {
    expect(relative.length).toBeGreaterThan(20);
  });

  test.each(relative.map(({ file, href }) => [path.relative(PROJECT_ROOT, file), href]))('%s -> %s resolves', (file, href) => {
    const hash = href.indexOf('#');
    const target = hash < 0 ? href : href.slice(0, hash);
    const anchor = hash < 0 ? undefined : href.slice(hash + 1);
    const targetFile = target ? path.resolve(path.dirname(path.join(PROJECT_ROOT, file)), decodeURIComponent(target)) : path.join(PROJECT_ROOT, file);
    expect(fs.existsSync(targetFile)).toBe(true);
    if (anchor !== undefined && targetFile.endsWith('.md')) {
      expect(headingAnchors(md, read(targetFile), GithubSlugger)).toContain(anchor);
    }
  });

  test('a broken link and a broken anchor are caught (negative control)', () => {
    const page = '# Title\n\n## Two words\n\nSee [x](#two-words), [y](#no-such-heading) and [z](no-such-file.md).\n';
    expect(headingAnchors(md, page, GithubSlugger)).toEqual(['title', 'two-words']);
    expect(linksIn(md, page)).toEqual(['#two-words', '#no-such-heading', 'no-such-file.md']);
  });

  test('anchors follow GitHub: punctuation dropped, backticks kept as text, duplicates numbered', () => {
    const page = '# `npm run rollout`: staged\n\n## Builder infrastructure: `image-cache-builder-<region>`\n\n## Dup\n\n## Dup\n';
    expect(headingAnchors(md, page, GithubSlugger)).toEqual(['npm-run-rollout-staged', 'builder-infrastructure-image-cache-builder-region', 'dup', 'dup-1']);
  });
});

describe('every page of docs/ says first what it is for', () => {
  test.each(FILES.filter((f) => f.includes(`${path.sep}docs${path.sep}`)).map((f) => [path.relative(PROJECT_ROOT, f), f]))('%s', (_name, file) => {
    const tokens = md.parse(read(file), {});
    // A title, then a paragraph: not a heading, a list, a table or a code block.
    expect(tokens[0]).toEqual(expect.objectContaining({ type: 'heading_open', tag: 'h1' }));
    expect(tokens[3]?.type).toBe('paragraph_open');
  });
});

describe('every command line the docs show exists in its --help', () => {
  const helpOf = async (argv: string[]): Promise<{ code: number; text: string }> => {
    const r = await captureMain(main, [...argv, '--help'], { FLEET_FILE: '/nonexistent/fleet.yaml' });
    return { code: r.code, text: r.stdout };
  };

  const shown = FILES.flatMap((file) => commandLinesIn(md, read(file)).map((line) => ({ file: path.relative(PROJECT_ROOT, file), line })));

  test('the docs show command lines of every command', () => {
    const commands = new Set(shown.map(({ line }) => line.command));
    expect([...commands].sort()).toEqual(['cache', 'debug-node', 'deploy', 'migrate', 'rollout', 'upgrade']);
  });

  test.each(shown.map(({ file, line }) => [file, line.text, line]))('%s: %s', async (_file, _text, line) => {
    const top = await helpOf([line.command]);
    expect(top.code).toBe(0);
    // A subcommand is a first word the command's usage lists as "<command> <word>".
    const sub = line.words[0] && new RegExp(`\\b${line.command} ${line.words[0]}\\b`).test(top.text) ? line.words[0] : undefined;
    const help = sub ? await helpOf([line.command, sub]) : top;
    expect(help.code).toBe(0);
    for (const flag of line.flags) expect(`${line.text}: ${help.text.includes(flag) ? flag : `${flag} is not in --help`}`).toBe(`${line.text}: ${flag}`);
  });

  test('a flag that does not exist is caught (negative control)', () => {
    const [line] = commandLinesIn(md, '```sh\nnpm run cache -- build general --no-such-flag   # comment --ignored\n```\n');
    expect(line).toEqual(expect.objectContaining({ command: 'cache', words: ['build', 'general'], flags: ['--no-such-flag'] }));
  });
});

describe('docs/fleet-file-reference.md', () => {
  test('is generated from modules/fleet/schema.ts and up to date (run `npm run schema`)', () => {
    expect(read(FLEET_REFERENCE_FILE)).toBe(renderFleetReference());
  });

  test('documents every key with its type, and defaults where the schema has one', () => {
    const rows = fleetReferenceRows();
    const byPath = new Map(rows.map((r) => [r.path, r]));
    expect(byPath.get('imageCaches.<name>.retainGenerations')).toEqual(expect.objectContaining({ type: 'integer (1–10)', default: 2, required: false }));
    expect(byPath.get('clusters.<name>.region')).toEqual(expect.objectContaining({ required: true }));
    expect(byPath.get('backend{type: cloud}.hostname')).toEqual(expect.objectContaining({ default: 'app.terraform.io' }));
    expect(rows.every((r) => r.type.length > 0 && !r.type.startsWith('any'))).toBe(true);
    const reference = read(FLEET_REFERENCE_FILE);
    for (const row of rows) expect(reference).toContain(`\`${row.path}\``);
  });
});
