/**
 * How containerd 2.x's `ctr` reads a command line, for tests: urfave/cli v2 (which parses each level with
 * Go's flag package, so flags are read only until the first positional argument and everything after
 * it is positional), the flags of the subcommands the builder uses, and containerd's filter grammar.
 *
 * Sources (containerd v2.1): cmd/ctr/app/main.go (global flags), cmd/ctr/commands/images/images.go
 * (`images list|ls`, flag --quiet/-q, positional filters parsed by pkg/filters), cmd/ctr/commands/images/pull.go
 * (`images pull`, one positional reference), cmd/ctr/commands/commands.go (registry, snapshotter, label and
 * platform flags), pkg/filters/parser.go (the filter grammar and its "expected field or quoted" error).
 */

export interface CtrInvocation {
  readonly globals: Record<string, string | true>;
  readonly command: string[];
  readonly flags: Record<string, (string | true)[]>;
  readonly args: string[];
}

type FlagSpec = Record<string, 'bool' | 'value'>;

const GLOBAL_FLAGS: FlagSpec = { namespace: 'value', n: 'value', address: 'value', a: 'value', timeout: 'value', 'connect-timeout': 'value', debug: 'bool' };
const REGISTRY_FLAGS: FlagSpec = {
  'skip-verify': 'bool', k: 'bool', 'plain-http': 'bool', user: 'value', u: 'value', refresh: 'value', 'hosts-dir': 'value',
  tlscacert: 'value', tlscert: 'value', tlskey: 'value', 'http-dump': 'bool', 'http-trace': 'bool',
};
const SUBCOMMANDS: Record<string, FlagSpec> = {
  'images pull': {
    ...REGISTRY_FLAGS, snapshotter: 'value', label: 'value', platform: 'value', 'all-platforms': 'bool', 'max-concurrent-downloads': 'value',
    'print-chainid': 'bool', 'skip-metadata': 'bool', local: 'bool', 'max-concurrent-uploaded-layers': 'value', 'skip-unpack': 'bool',
  },
  'images list': { quiet: 'bool', q: 'bool' },
};
const ALIASES: Record<string, string> = { image: 'images', i: 'images', ls: 'list' };

/** Go's flag package: -f, --f, -f=v, --f v; stops at the first non-flag argument or after "--". */
function parseFlags(words: string[], spec: FlagSpec): { flags: Record<string, (string | true)[]>; rest: string[] } {
  const flags: Record<string, (string | true)[]> = {};
  let i = 0;
  while (i < words.length) {
    const w = words[i];
    if (w === '--') { i++; break; }
    if (!w.startsWith('-') || w === '-') break;
    const body = w.replace(/^--?/, '');
    const [name, inline] = body.includes('=') ? [body.slice(0, body.indexOf('=')), body.slice(body.indexOf('=') + 1)] : [body, undefined];
    const kind = spec[name];
    if (!kind) throw new Error(`flag provided but not defined: -${name}`);
    let value: string | true = true;
    if (kind === 'value') {
      if (inline !== undefined) value = inline;
      else if (i + 1 < words.length) value = words[++i];
      else throw new Error(`flag needs an argument: -${name}`);
    }
    (flags[name] ??= []).push(value);
    i++;
  }
  return { flags, rest: words.slice(i) };
}

/** containerd pkg/filters: selectors := selector ("," selector)*; field := quoted | [A-Za-z][A-Za-z0-9_]+; value := quoted | [^\s,]+ */
export function parseFilter(input: string): void {
  let pos = 0;
  const fail = (msg: string) => { throw new Error(`filters: parse error: [${input.slice(0, pos)} >|${input.slice(pos, pos + 1)}|< ${input.slice(pos + 1)}]: ${msg}`); };
  const quoted = () => {
    const q = input[pos];
    const end = input.indexOf(q, pos + 1);
    if (end < 0) fail('unterminated quote');
    pos = end + 1;
  };
  const field = () => {
    if (input[pos] === '"' || input[pos] === "'") return quoted();
    const m = /^[A-Za-z][A-Za-z0-9_]*/.exec(input.slice(pos));
    if (!m) fail('expected field or quoted');
    pos += m![0].length;
  };
  for (;;) {
    field();
    while (input[pos] === '.') { pos++; field(); }
    const op = input.slice(pos, pos + 2);
    if (['==', '!=', '~='].includes(op)) {
      pos += 2;
      if (input[pos] === '"' || input[pos] === "'") quoted();
      else {
        const m = /^[^\s,]+/.exec(input.slice(pos));
        if (!m) fail('expected value or quoted');
        pos += m![0].length;
      }
    }
    if (pos === input.length) return;
    if (input[pos] !== ',') fail(`unexpected input: ${input[pos]}`);
    pos++;
  }
}

/** Parses `ctr` argv (without "ctr") the way ctr 2.x does, and checks what the subcommand itself checks. */
export function parseCtr(argv: string[]): CtrInvocation {
  const g = parseFlags(argv, GLOBAL_FLAGS);
  const globals = Object.fromEntries(Object.entries(g.flags).map(([k, v]) => [k, v[v.length - 1]]));
  const [group, sub, ...after] = g.rest;
  const command = [ALIASES[group] ?? group, ALIASES[sub] ?? sub];
  const spec = SUBCOMMANDS[command.join(' ')];
  if (!spec) throw new Error(`ctr: no such subcommand in this model: ${command.join(' ')}`);
  const { flags, rest } = parseFlags(after, spec);
  if (command[1] === 'pull' && rest.length !== 1) throw new Error(`ctr images pull: expected one image reference, got ${JSON.stringify(rest)}`);
  if (command[1] === 'list') rest.forEach(parseFilter);
  return { globals, command, flags, args: rest };
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
        if (line.startsWith('$(', j)) { depth++; j++; } else if (line[j] === ')') depth--;
      }
      found.push(...ctrInvocations(line.slice(i + 2, j - 1)));
      outer += 'SUBST';
      i = j - 1;
    } else outer += line[i];
  }
  for (const command of splitCommands(outer)) {
    const words = shellWords(command);
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
    if (quote) { if (c === quote) quote = undefined; cur += c; continue; }
    if (c === "'" || c === '"') { quote = c; cur += c; continue; }
    if (c === '|' || c === ';' || c === '&') { out.push(cur); cur = ''; continue; }
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
    if (c === "'" || c === '"') { quote = c; cur = cur ?? ''; continue; }
    if (/\s/.test(c)) { if (cur !== undefined) words.push(cur); cur = undefined; continue; }
    if (c === '\\' && i + 1 < command.length) { cur = (cur ?? '') + command[++i]; continue; }
    cur = (cur ?? '') + c;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}
