/**
 * docs/fleet-file-reference.md: every key of the fleet file with its type, whether it is required, its
 * default and its description, generated from the one schema (modules/fleet/schema.ts, through the same
 * JSON Schema as fleet.schema.json). `npm run schema` writes it; __tests__/docs.test.ts keeps it in sync,
 * so the reference cannot drift from the schema.
 */
import * as path from 'path';
import { fleetJsonSchema } from '../modules/fleet/schema';

export const FLEET_REFERENCE_FILE = path.join(__dirname, '..', 'docs', 'fleet-file-reference.md');

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
};

export interface ReferenceRow {
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

const MAX_ENUM_SHOWN = 8;

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) {
    const values = s.enum.map((v) => JSON.stringify(v));
    return values.length > MAX_ENUM_SHOWN ? `one of ${values.length} values (${values.slice(0, 3).join(', ')}, ...)` : values.join(' | ');
  }
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.every((a) => a.properties) ? 'one of the forms below' : alternatives.map(typeOf).join(' | ');
  const type = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
  const bounds: string[] = [];
  if (s.minimum !== undefined || s.maximum !== undefined) bounds.push(`${s.minimum ?? ''}–${s.maximum ?? ''}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) bounds.push(`length ${s.minLength ?? 0}–${s.maxLength ?? '∞'}`);
  if (s.minItems !== undefined || s.maxItems !== undefined) bounds.push(`${s.minItems ?? 0}–${s.maxItems ?? '∞'} items`);
  if (s.pattern) bounds.push(`pattern \`${s.pattern}\``);
  const suffix = bounds.length ? ` (${bounds.join(', ')})` : '';
  if (type === 'array' && s.items) return `list of ${typeOf(s.items)}${suffix}`;
  if (type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) {
    return `map of ${typeOf(s.additionalProperties)}`;
  }
  return `${type ?? 'any'}${suffix}`;
}

/** Every key, depth first, in schema order. Maps show their key as `<name>`, lists as `[]`. */
export function fleetReferenceRows(schema: JsonSchema = fleetJsonSchema()): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const visit = (s: JsonSchema, at: string): void => {
    for (const [key, child] of Object.entries(s.properties ?? {})) {
      if (key === '$schema') continue;
      const childPath = at ? `${at}.${key}` : key;
      rows.push({
        path: childPath,
        type: typeOf(child),
        required: (s.required ?? []).includes(key) && child.default === undefined,
        default: child.default,
        description: child.description,
      });
      descend(child, childPath);
    }
  };
  const descend = (s: JsonSchema, at: string): void => {
    if (s.properties) visit(s, at);
    if (s.items) descend(s.items, `${at}[]`);
    if (s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) {
      descend(s.additionalProperties, `${at}.<name>`);
    }
    // Alternatives with keys of their own (backend types, new or existing VPC): one block each.
    const alternatives = (s.oneOf ?? s.anyOf ?? []).filter((a) => a.properties);
    for (const alternative of alternatives) {
      const discriminator = Object.entries(alternative.properties ?? {}).find(([, p]) => p.const !== undefined);
      const label = discriminator ? `{${discriminator[0]}: ${String(discriminator[1].const)}}` : `{${Object.keys(alternative.properties ?? {})[0]}, ...}`;
      visit(alternative, `${at}${label}`);
    }
  };
  visit(schema, '');
  return rows;
}

/** A table cell: pipes escaped (GFM tables need it inside code spans too). */
const cell = (text: string): string => text.replace(/\n/g, ' ').replace(/\|/g, '\\|');
/** Prose outside code spans: `<stack>` would otherwise be read as an HTML tag and vanish. */
const prose = (text: string): string => cell(text).replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderFleetReference(): string {
  const rows = fleetReferenceRows();
  const sections = new Map<string, ReferenceRow[]>();
  for (const row of rows) {
    const top = row.path.split(/[.[{]/)[0];
    sections.set(top, [...(sections.get(top) ?? []), row]);
  }
  const out = [
    '# Fleet file reference',
    '',
    'Every key of the fleet file, its type, whether it is required, its default and what it does. Generated',
    'from `modules/fleet/schema.ts` by `npm run schema` (a test fails when it is out of date); do not edit by',
    'hand. For a worked example and the checks the loader makes, see [The fleet file](fleet-file.md).',
    '',
    'Paths: `<name>` is a key you choose (a cache, cluster or pool name), `[]` an item of a list, and',
    '`{type: cloud}` the keys of one alternative.',
    '',
  ];
  for (const [top, sectionRows] of sections) {
    out.push(`## ${top}`, '', '| key | type | required | default | description |', '|---|---|---|---|---|');
    for (const row of sectionRows) {
      const dflt = row.default === undefined ? '' : `\`${cell(JSON.stringify(row.default))}\``;
      out.push(`| \`${cell(row.path)}\` | ${cell(row.type)} | ${row.required ? 'yes' : ''} | ${dflt} | ${prose(row.description ?? '')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
