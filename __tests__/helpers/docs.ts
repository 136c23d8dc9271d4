/** Reading the project's Markdown as GitHub renders it (markdown-it tokens, not regular expressions on raw text). */
import * as fs from 'fs';
import * as path from 'path';
import type MarkdownIt from 'markdown-it';
import type GithubSlugger from 'github-slugger';

type Token = ReturnType<MarkdownIt['parse']>[number];

/** README.md and every Markdown page under docs/. */
export function docFiles(root: string): string[] {
  const docs = path.join(root, 'docs');
  const pages = fs.existsSync(docs) ? fs.readdirSync(docs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md')) : [];
  return [path.join(root, 'README.md'), ...pages.sort().map((f) => path.join(docs, f))];
}

function walk(tokens: Token[], visit: (t: Token) => void): void {
  for (const t of tokens) {
    visit(t);
    if (t.children) walk(t.children, visit);
  }
}

/** Every link and image target, in document order. */
export function linksIn(md: MarkdownIt, text: string): string[] {
  const out: string[] = [];
  walk(md.parse(text, {}), (t) => {
    const target = t.type === 'link_open' ? t.attrGet('href') : t.type === 'image' ? t.attrGet('src') : null;
    if (target !== null) out.push(target);
  });
  return out;
}

/** The anchors GitHub gives the headings of a page: the heading's text (code spans as their text), slugged. */
export function headingAnchors(md: MarkdownIt, text: string, Slugger: typeof GithubSlugger): string[] {
  const slugger = new Slugger();
  const tokens = md.parse(text, {});
  const out: string[] = [];
  tokens.forEach((t, i) => {
    if (t.type !== 'heading_open') return;
    const inline = tokens[i + 1];
    const plain = (inline.children ?? [])
      .filter((c) => c.type === 'text' || c.type === 'code_inline')
      .map((c) => c.content)
      .join('');
    out.push(slugger.slug(plain));
  });
  return out;
}

export interface CommandLine {
  /** The line as the docs show it, from the command on. */
  readonly text: string;
  readonly command: string;
  /** Words after the command that are not flags (the first may be a subcommand). */
  readonly words: string[];
  /** `--flag` options, without `=value`. */
  readonly flags: string[];
}

const COMMAND = /(?:npm run(?: -s)?|bottlerocket-fleet) (deploy|cache|rollout|migrate|debug-node|upgrade)\b(?: --(?=\s|$))?([^\n`]*)/g;

/** Parses one shell line's tail after the command: up to a comment or another command. */
function parseTail(command: string, tail: string): CommandLine {
  const own = tail.split(/\s#|&&|\|\||[|;)"\]]|<br/)[0];
  const tokens = own.trim().split(/\s+/).filter(Boolean);
  const flags = tokens.filter((w) => w.startsWith('--') && w.length > 2 && !/[<.[]/.test(w)).map((w) => w.replace(/=.*$/, '').replace(/[,'"]+$/, ''));
  return { text: `${command} ${own.trim()}`.trim(), command, words: tokens.filter((w) => !w.startsWith('-')), flags };
}

/** Every command line shown in code blocks and inline code. */
export function commandLinesIn(md: MarkdownIt, text: string): CommandLine[] {
  const out: CommandLine[] = [];
  walk(md.parse(text, {}), (t) => {
    if (t.type !== 'fence' && t.type !== 'code_inline' && t.type !== 'code_block') return;
    for (const line of t.content.split('\n')) {
      for (const m of line.matchAll(COMMAND)) out.push(parseTail(m[1], m[2]));
    }
  });
  return out;
}
