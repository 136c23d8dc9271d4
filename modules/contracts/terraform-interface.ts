/**
 * Checks a synthesized module block against the module's published interface
 * (contracts/terraform-aws-eks-v20-interface.json): every input must be a variable of the module and
 * its value must have the variable's Terraform type. A renamed or misspelled input fails here instead
 * of at `terraform plan` on somebody's laptop.
 */
import { readJsonContract } from './index';

export interface VariableContract {
  readonly type: string;
  readonly default_present: boolean;
}

export interface EksModuleContract {
  readonly module: string;
  readonly version: string;
  readonly variables: Record<string, VariableContract>;
  readonly outputs: string[];
  readonly node_group_keys: string[];
  readonly node_group_module_variables: Record<string, VariableContract>;
  readonly submodules: Record<string, { source: string; variables: Record<string, VariableContract>; outputs: string[] }>;
}

export function eksModuleContract(): EksModuleContract {
  return readJsonContract<EksModuleContract>('terraform-aws-eks-v20-interface.json');
}

/** A parsed Terraform type constraint. */
export type TfType =
  | { kind: 'any' | 'bool' | 'string' | 'number' }
  | { kind: 'list' | 'set' | 'map'; element: TfType }
  | { kind: 'object'; attributes: Record<string, { type: TfType; optional: boolean }> };

/** Parses the type constraints the contract uses: bool, string, number, any, list/set/map(T), object({...}), optional(T[, default]). */
export function parseTfType(text: string): TfType {
  const p = new TypeParser(text);
  const t = p.type();
  p.end();
  return t;
}

class TypeParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  type(): TfType {
    const word = this.word();
    if (word === 'any' || word === 'bool' || word === 'string' || word === 'number') return { kind: word };
    if (word === 'list' || word === 'set' || word === 'map') {
      this.expect('(');
      const element = this.type();
      this.expect(')');
      return { kind: word, element };
    }
    if (word === 'object') {
      this.expect('(');
      this.expect('{');
      const attributes: Record<string, { type: TfType; optional: boolean }> = {};
      while (!this.peek('}')) {
        const name = this.word();
        this.expect('=');
        if (this.peekWord('optional')) {
          this.word();
          this.expect('(');
          const type = this.type();
          if (this.peek(',')) this.skipDefault();
          this.expect(')');
          attributes[name] = { type, optional: true };
        } else {
          attributes[name] = { type: this.type(), optional: false };
        }
        if (this.peek(',')) this.expect(',');
      }
      this.expect('}');
      this.expect(')');
      return { kind: 'object', attributes };
    }
    throw new Error(`unknown Terraform type "${word}" in ${this.text}`);
  }

  end(): void {
    this.ws();
    if (this.pos !== this.text.length) throw new Error(`trailing text in Terraform type ${this.text}`);
  }

  private skipDefault(): void {
    this.expect(',');
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if ('([{'.includes(c)) depth++;
      if (')]}'.includes(c)) {
        if (depth === 0) return;
        depth--;
      }
      this.pos++;
    }
  }

  private ws(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }
  private word(): string {
    this.ws();
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.pos));
    if (!m) throw new Error(`expected a name at ${this.pos} in ${this.text}`);
    this.pos += m[0].length;
    return m[0];
  }
  private peek(c: string): boolean {
    this.ws();
    return this.text[this.pos] === c;
  }
  private peekWord(w: string): boolean {
    this.ws();
    return this.text.startsWith(w, this.pos) && !/[A-Za-z0-9_]/.test(this.text[this.pos + w.length] ?? '');
  }
  private expect(c: string): void {
    if (!this.peek(c)) throw new Error(`expected "${c}" at ${this.pos} in ${this.text}`);
    this.pos++;
  }
}

/** A Terraform expression such as "${module.vpc.vpc_id}": its type is only known at plan time. */
function isExpression(v: unknown): boolean {
  return typeof v === 'string' && /^\$\{[\s\S]*\}$/.test(v);
}

/** Describes how a value fails a type, or undefined when it fits. */
export function typeMismatch(value: unknown, type: TfType, at: string): string | undefined {
  if (type.kind === 'any' || isExpression(value)) return undefined;
  switch (type.kind) {
    case 'bool':
      return typeof value === 'boolean' ? undefined : `${at}: expected bool, got ${JSON.stringify(value)}`;
    case 'number':
      return typeof value === 'number' ? undefined : `${at}: expected number, got ${JSON.stringify(value)}`;
    case 'string':
      // Terraform converts numbers and bools to string on assignment.
      return ['string', 'number', 'boolean'].includes(typeof value) ? undefined : `${at}: expected string, got ${JSON.stringify(value)}`;
    case 'list':
    case 'set':
      if (!Array.isArray(value)) return `${at}: expected ${type.kind}, got ${JSON.stringify(value)}`;
      return value.map((v, i) => typeMismatch(v, type.element, `${at}[${i}]`)).find(Boolean);
    case 'map':
      if (!isObject(value)) return `${at}: expected map, got ${JSON.stringify(value)}`;
      return Object.entries(value).map(([k, v]) => typeMismatch(v, type.element, `${at}.${k}`)).find(Boolean);
    case 'object': {
      if (!isObject(value)) return `${at}: expected object, got ${JSON.stringify(value)}`;
      const unknown = Object.keys(value).filter((k) => !(k in type.attributes));
      if (unknown.length > 0) return `${at}: unknown attribute(s) ${unknown.join(', ')}`;
      const missing = Object.entries(type.attributes).filter(([k, a]) => !a.optional && !(k in value)).map(([k]) => k);
      if (missing.length > 0) return `${at}: missing attribute(s) ${missing.join(', ')}`;
      return Object.entries(value).map(([k, v]) => typeMismatch(v, type.attributes[k].type, `${at}.${k}`)).find(Boolean);
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks module inputs against variables; returns one message per bad input (empty when all fit). */
export function checkModuleInputs(inputs: Record<string, unknown>, variables: Record<string, VariableContract>, moduleName: string): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(inputs)) {
    const variable = Object.hasOwn(variables, name) ? variables[name] : undefined;
    if (!variable) {
      problems.push(`${moduleName}: input "${name}" is not a variable of the module`);
      continue;
    }
    const mismatch = typeMismatch(value, parseTfType(variable.type), `${moduleName}.${name}`);
    if (mismatch) problems.push(mismatch);
  }
  return problems;
}

/** Checks the entries of the eks module's `eks_managed_node_groups` (type any) against node_groups.tf's keys. */
export function checkNodeGroupInputs(groups: Record<string, Record<string, unknown>>, contract: EksModuleContract): string[] {
  const problems: string[] = [];
  for (const [group, entry] of Object.entries(groups)) {
    for (const [key, value] of Object.entries(entry)) {
      const at = `eks_managed_node_groups.${group}.${key}`;
      if (!contract.node_group_keys.includes(key)) {
        problems.push(`${at}: "${key}" is not read by the eks module's node_groups.tf`);
        continue;
      }
      const variable = Object.hasOwn(contract.node_group_module_variables, key) ? contract.node_group_module_variables[key] : undefined;
      const mismatch = variable && typeMismatch(value, parseTfType(variable.type), at);
      if (mismatch) problems.push(mismatch);
    }
  }
  return problems;
}
