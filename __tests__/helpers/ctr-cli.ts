/**
 * How containerd 2.x's `ctr` reads a command line, for tests: urfave/cli v2 (which parses each level with
 * Go's flag package, so flags are read only until the first positional argument and everything after
 * it is positional), the flags of the subcommands the builder uses, and containerd's filter grammar.
 * One model for both users: the unit test of the generated commands (ctr-commands.test.ts) and the SSM
 * agent proxy, which runs those commands against an emulated image store.
 *
 * Sources (containerd v2.1): cmd/ctr/app/main.go (global flags), cmd/ctr/commands/images/images.go
 * (`images list|ls`, flag --quiet/-q, positional filters parsed by pkg/filters), cmd/ctr/commands/images/pull.go
 * (`images pull`, one positional reference), cmd/ctr/commands/commands.go (registry, snapshotter, label and
 * platform flags), pkg/filters/parser.go (the filter grammar and its "expected field or quoted" error).
 */

export interface CtrInvocation {
  readonly globals: Partial<Record<string, string[]>>;
  readonly command: string[];
  readonly flags: Partial<Record<string, string[]>>;
  readonly args: string[];
}

type FlagKind = 'bool' | 'string' | 'slice' | 'int' | 'duration';
// Partial: a lookup by a flag name the user typed may find nothing.
export type FlagSpec = Partial<Record<string, FlagKind>>;

export const GLOBAL_FLAGS: FlagSpec = {
  debug: 'bool',
  address: 'string',
  a: 'string',
  timeout: 'duration',
  'connect-timeout': 'duration',
  namespace: 'string',
  n: 'string',
};
export const LIST_FLAGS: FlagSpec = { quiet: 'bool', q: 'bool' };
/**
 * `images tag` (cmd/ctr/commands/images/tag.go, v2.2.2): without --local the tag goes through the transfer
 * service, whose image store (core/transfer/image/imagestore.go) creates the new name with only its own
 * configured labels, none here; --local copies the source record, labels included. containerd 1.6's ctr has
 * only --force (always local): the real-containerd tier strips --local for it.
 */
export const TAG_FLAGS: FlagSpec = { force: 'bool', local: 'bool', 'skip-reference-check': 'bool' };
export const PULL_FLAGS: FlagSpec = {
  'skip-verify': 'bool',
  k: 'bool',
  'plain-http': 'bool',
  user: 'string',
  u: 'string',
  refresh: 'string',
  'hosts-dir': 'string',
  tlscacert: 'string',
  tlscert: 'string',
  tlskey: 'string',
  'http-dump': 'bool',
  'http-trace': 'bool',
  snapshotter: 'string',
  label: 'slice',
  platform: 'slice',
  'all-platforms': 'bool',
  'all-metadata': 'bool',
  'skip-metadata': 'bool',
  'print-chainid': 'bool',
  'max-concurrent-downloads': 'int',
  local: 'bool',
  'sync-fs': 'bool',
};
const ALIASES: Record<string, string> = { a: 'address', n: 'namespace', q: 'quiet', k: 'skip-verify', u: 'user' };

/** Go's flag package, as urfave/cli v2 drives it: stops at the first non-flag argument. */
export function parseFlags(args: string[], spec: FlagSpec): { flags: Partial<Record<string, string[]>>; positionals: string[]; error?: string } {
  const flags: Partial<Record<string, string[]>> = {};
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (!name || name.startsWith('-') || name.startsWith('=')) return { flags, positionals: [], error: `bad flag syntax: ${a}` };
    const kind = spec[name];
    if (!kind) return { flags, positionals: [], error: `flag provided but not defined: -${name}` };
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (kind === 'bool') value = 'true';
    else if (i + 1 < args.length) value = args[++i];
    else return { flags, positionals: [], error: `flag needs an argument: -${name}` };
    if (kind === 'int' && !/^-?\d+$/.test(value)) return { flags, positionals: [], error: `invalid value "${value}" for flag -${name}: parse error` };
    if (kind === 'duration' && !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^0$/.test(value))
      return { flags, positionals: [], error: `invalid value "${value}" for flag -${name}: parse error` };
    if (kind === 'bool' && !/^(1|0|t|f|true|false|TRUE|FALSE|True|False)$/.test(value))
      return { flags, positionals: [], error: `invalid boolean value "${value}" for -${name}: parse error` };
    const canonical = ALIASES[name] ?? name;
    (flags[canonical] ??= []).push(value);
  }
  return { flags, positionals: args.slice(i) };
}

/** What a filter looks at: an image's name, target digest and labels. */
export interface FilterableImage {
  readonly name: string;
  readonly digest: string;
  readonly labels: Record<string, string>;
}
export type Filter = (img: FilterableImage) => boolean;

/**
 * containerd pkg/filters: filter := selector ("," selector)*; selector := fieldpath [op value];
 * fieldpath := field ("." field)*; field := quoted | [A-Za-z0-9_]+; op := "==" | "!=" | "~=";
 * value := quoted | run of non-space, non-"," characters. Returns the parse error text on failure.
 */
export function parseFilter(text: string): Filter | string {
  let pos = 0;
  const err = (msg: string) => `${text}: parse error: [${text} >|${text.slice(pos)}|<]: ${msg}`;
  const quoted = (): string | undefined => {
    const q = text[pos];
    if (q !== '"' && q !== "'" && q !== '`') return undefined;
    const end = text.indexOf(q, pos + 1);
    if (end < 0) return undefined;
    const s = text.slice(pos + 1, end);
    pos = end + 1;
    return s;
  };
  const selectors: Filter[] = [];
  for (;;) {
    const path: string[] = [];
    for (;;) {
      const q = quoted();
      if (q !== undefined) path.push(q);
      else {
        const m = /^[A-Za-z0-9_]+/.exec(text.slice(pos));
        if (!m) return err('expected field or quoted');
        path.push(m[0]);
        pos += m[0].length;
      }
      if (text[pos] !== '.') break;
      pos++;
    }
    let op: string | undefined;
    let value: string | undefined;
    const o = /^(==|!=|~=)/.exec(text.slice(pos));
    if (o) {
      op = o[1];
      pos += 2;
      value = quoted();
      if (value === undefined) {
        const m = /^[^\s,]+/.exec(text.slice(pos));
        if (!m) return err('expected value or quoted');
        value = m[0];
        pos += m[0].length;
      }
    } else if (pos < text.length && text[pos] !== ',') return err('expected operator or end of selector');
    const field = (img: FilterableImage): string | undefined => {
      if (path[0] === 'name' && path.length === 1) return img.name;
      if (path[0] === 'target' && path[1] === 'digest') return img.digest;
      if (path[0] === 'labels' && path.length === 2) return img.labels[path[1]];
      return undefined;
    };
    const v = value;
    selectors.push((img) => {
      const f = field(img);
      if (!op) return f !== undefined;
      if (op === '==') return f === v;
      if (op === '!=') return f !== v;
      return f !== undefined && new RegExp(v!).test(f);
    });
    if (pos >= text.length) break;
    if (text[pos] !== ',') return err('expected a comma or the end');
    pos++;
  }
  return (img) => selectors.every((s) => s(img));
}

/** Parses `ctr` argv (without "ctr") the way ctr 2.x does, and checks what the subcommand itself checks. */
export function parseCtr(argv: string[]): CtrInvocation {
  const g = parseFlags(argv, GLOBAL_FLAGS);
  if (g.error) throw new Error(`ctr: ${g.error}`);
  const [group, sub, ...after] = g.positionals;
  const command = [['image', 'i'].includes(group) ? 'images' : group, sub === 'ls' ? 'list' : sub];
  const spec = ({ 'images pull': PULL_FLAGS, 'images list': LIST_FLAGS, 'images tag': TAG_FLAGS } as Partial<Record<string, FlagSpec>>)[command.join(' ')];
  if (!spec) throw new Error(`ctr: no such subcommand in this model: ${command.join(' ')}`);
  const { flags, positionals, error } = parseFlags(after, spec);
  if (error) throw new Error(`ctr ${command.join(' ')}: ${error}`);
  if (command[1] === 'pull' && positionals.length !== 1) throw new Error(`ctr images pull: expected one image reference, got ${JSON.stringify(positionals)}`);
  if (command[1] === 'tag' && positionals.length < 2) throw new Error('ctr images tag: please provide an image reference to tag to');
  if (command[1] === 'list') {
    for (const text of positionals) {
      const f = parseFilter(text);
      if (typeof f === 'string') throw new Error(`ctr: failed to list images: ${f}`);
    }
  }
  return { globals: g.flags, command, flags, args: positionals };
}

/**
 * Every `ctr` invocation in a shell line, with shell quoting removed: command substitutions `$(...)`
 * (also inside double quotes) are searched too; pipelines and lists are split.
 */
export function ctrInvocations(line: string): string[][] {
  const found: string[][] = [];
  // Pull out $( ... ) bodies (balanced), searching them separately.
  let outer = '';
  for (let i = 0; i < line.length; i++) {
    if (line.startsWith('$(', i)) {
      let depth = 1;
      let j = i + 2;
      for (; j < line.length && depth > 0; j++) {
        if (line.startsWith('$(', j)) {
          depth++;
          j++;
        } else if (line[j] === ')') depth--;
      }
      found.push(...ctrInvocations(line.slice(i + 2, j - 1)));
      outer += 'SUBST';
      i = j - 1;
    } else outer += line[i];
  }
  for (const command of splitCommands(outer)) {
    // Redirections are the shell's, not ctr's arguments.
    const words = shellWords(command).filter((w) => !/^[12]?>(&[12]|\/dev\/null)$/.test(w));
    const at = words.indexOf('ctr');
    if (at >= 0) found.push(words.slice(at + 1));
  }
  return found;
}

function splitCommands(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      cur += c;
      continue;
    }
    if (c === '|' || c === ';' || c === '&') {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out.filter((s) => s.trim() !== '');
}

function shellWords(command: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (quote === '"' && c === '\\' && i + 1 < command.length) cur = (cur ?? '') + command[++i];
      else cur = (cur ?? '') + c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      cur = cur ?? '';
      continue;
    }
    if (/\s/.test(c)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
      continue;
    }
    if (c === '\\' && i + 1 < command.length) {
      cur = (cur ?? '') + command[++i];
      continue;
    }
    cur = (cur ?? '') + c;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}
