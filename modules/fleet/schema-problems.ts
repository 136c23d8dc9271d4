/**
 * Turns the schema's issues into fleet-file problems a person can act on: a missing field says it is missing
 * and what to add; an unknown key gets a "did you mean", and the field it misspells is not also reported as
 * missing; the problems of a union are those of the form the user meant.
 */
import type { z } from 'zod';
import { fleetSchema } from './schema';
import { closestKey, joinPath, Problem } from './problems';

/** Every problem of a failed parse, with the knock-on issues of a misspelled key left out. */
export function fleetSchemaProblems(issues: readonly z.core.$ZodIssue[], raw: unknown): Problem[] {
  const misspelled = misspelledFieldPaths(issues);
  return issues.filter((i) => !(misspelled.has(joinPath(i.path)) && valueAt(raw, i.path) === undefined)).flatMap((i) => schemaProblems(i, raw));
}

/** Paths of the fields that an unknown key next to them most likely misspells (regoin -> clusters.x.region). */
function misspelledFieldPaths(issues: readonly z.core.$ZodIssue[]): Set<string> {
  const paths = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const known = knownKeysAt(issue.path);
    for (const key of issue.keys) {
      const guess = known.includes(key) ? undefined : closestKey(key, known);
      if (guess) paths.add(joinPath([...issue.path, guess]));
    }
  }
  return paths;
}

/** How a fix names the kind of value to add (zod's type names are not the fleet file's words). */
const VALUE_KINDS: Readonly<Record<string, string>> = {
  array: 'a list',
  record: 'a mapping of names to entries',
  object: 'a mapping',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

const oneOf = (values: readonly unknown[]) => `one of ${values.slice(0, 6).map(String).join(', ')}${values.length > 6 ? ', ...' : ''}`;

/** What to add for a missing field, from the issue zod reports for it. */
function valueToAdd(issue: z.core.$ZodIssue, key: string): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return VALUE_KINDS[issue.expected] ?? `a value of type ${issue.expected}`;
    case 'invalid_value':
      return oneOf(issue.values);
    case 'invalid_union':
      // A discriminated union reports its missing discriminator with the allowed values (zod 4 `options`).
      if ('options' in issue && Array.isArray(issue.options)) return oneOf(issue.options);
      return key === 'vpc' ? '{cidr: 10.0.0.0/16} for a new VPC, or {vpcId, privateSubnetIds} for an existing one' : 'one of the forms in fleet.schema.json';
    default:
      return undefined;
  }
}

/**
 * A required field that is absent: says so, and what to add (zod reports it as a wrong type, value or union
 * of "undefined"). Undefined when the value is present or the parent is not an object.
 */
function missingFieldProblem(issue: z.core.$ZodIssue, raw: unknown): Problem | undefined {
  if (issue.path.length === 0) return undefined;
  const parent = valueAt(raw, issue.path.slice(0, -1));
  const key = issue.path.at(-1)!;
  if (typeof parent !== 'object' || parent === null || Array.isArray(parent) || typeof key !== 'string' || key in parent) return undefined;
  const what = valueToAdd(issue, key);
  if (!what) return undefined;
  const where = issue.path.length > 1 ? ` under ${joinPath(issue.path.slice(0, -1))}` : '';
  return { path: joinPath(issue.path), message: 'is missing (required)', fix: `add ${key}: ${what}${where}` };
}

/** Turns a schema issue into a problem with a fix; unknown keys get a "did you mean". */
function schemaProblems(issue: z.core.$ZodIssue, raw: unknown): Problem[] {
  const at = joinPath(issue.path);
  const missing = missingFieldProblem(issue, raw);
  if (missing) return [missing];
  if (issue.code === 'invalid_union' && issue.path.at(-1) === 'vpc') {
    // Report the problems of the form the user meant: an existing VPC when vpcId/privateSubnetIds is given.
    const input = valueAt(raw, issue.path);
    if (input && typeof input === 'object' && !Array.isArray(input) && Object.keys(input).length > 0) {
      const existing = 'vpcId' in input || 'privateSubnetIds' in input;
      return issue.errors[existing ? 1 : 0].flatMap((i) => schemaProblems({ ...i, path: [...issue.path, ...i.path] }, raw));
    }
  }
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((key) => {
      if (known.includes(key)) {
        return {
          path: at === '' ? key : `${at}.${key}`,
          message: 'belongs to the other form of this setting and cannot be combined with the keys beside it',
          fix: 'use one form only (see fleet.schema.json)',
        };
      }
      const guess = closestKey(key, known);
      return {
        path: at === '' ? key : `${at}.${key}`,
        message: 'unknown key',
        fix: guess ? `did you mean "${guess}"?` : `remove it; allowed keys here: ${known.join(', ')}`,
      };
    });
  }
  if (issue.code === 'invalid_union' && issue.path.at(-1) === 'vpc') {
    return [
      {
        path: at,
        message: 'must be either {cidr, azCount?, singleNatGateway?} for a new VPC or {vpcId, privateSubnetIds} for an existing one',
        fix: 'use exactly one of the two forms',
      },
    ];
  }
  if (issue.code === 'invalid_union') {
    return [{ path: at, message: issue.message, fix: 'see fleet.schema.json for the allowed forms' }];
  }
  const customFix = issue.code === 'custom' ? (issue.params as { fix?: string } | undefined)?.fix : undefined;
  return [{ path: at, message: issue.message.replace(/^Invalid input: /, ''), fix: customFix ?? fixFor(issue) }];
}

function fixFor(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value' && 'values' in issue) return `use one of: ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'invalid_type') return `give a value of type ${issue.expected}`;
  if (issue.code === 'too_small' || issue.code === 'too_big') return 'change the value to fit the allowed range';
  return 'see fleet.schema.json for the allowed values';
}

/** The parsed YAML value at an issue path, or undefined where the path leaves objects and arrays. */
function valueAt(raw: unknown, issuePath: readonly PropertyKey[]): unknown {
  return issuePath.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[key] : undefined), raw);
}

/**
 * zod's own schema kinds, a union discriminated by `_zod.def.type`. Child schemas are typed as the base
 * `$ZodType`; every schema in fleetSchema is one of these kinds, hence the casts when stepping down.
 */
type ZodNode = z.core.$ZodTypes;

/** Allowed keys of the object schema at a path (for typo suggestions). */
function knownKeysAt(issuePath: readonly PropertyKey[]): string[] {
  // Walk the zod schema along the path; records and unions are stepped through.
  let node: ZodNode | undefined = fleetSchema;
  for (const key of issuePath) {
    node = step(node, key);
    if (!node) return [];
  }
  const def = unwrap(node)._zod.def;
  const options = def.type === 'union' ? (def.options as readonly ZodNode[]) : [node];
  return [...new Set(options.flatMap((o) => Object.keys(shapeOf(o) ?? {})))];
}

/** Steps through default, optional, prefault and nullable wrappers to the schema inside. */
function unwrap(node: ZodNode): ZodNode {
  let def = node._zod.def;
  while (def.type === 'default' || def.type === 'optional' || def.type === 'prefault' || def.type === 'nullable') {
    node = def.innerType as ZodNode;
    def = node._zod.def;
  }
  return node;
}
function shapeOf(node: ZodNode): Record<string, unknown> | undefined {
  const def = unwrap(node)._zod.def;
  return def.type === 'object' ? def.shape : undefined;
}
function step(node: ZodNode, key: PropertyKey): ZodNode | undefined {
  const def = unwrap(node)._zod.def;
  switch (def.type) {
    case 'object':
      return def.shape[key as string] as ZodNode | undefined;
    case 'record':
      return def.valueType as ZodNode;
    case 'array':
      return def.element as ZodNode;
    case 'union':
      return def.options.map((o) => step(o as ZodNode, key)).find(Boolean);
    default:
      return undefined;
  }
}
