/**
 * A small, static IAM evaluator for identity policies: enough to ask "does this policy allow this
 * request?" for the builder's CI policy, and nothing more. Semantics follow the IAM policy evaluation
 * logic (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 * an explicit Deny wins, otherwise an Allow whose Action, Resource and every Condition match allows,
 * otherwise the request is implicitly denied.
 * Supported: Effect Allow/Deny, Action and Resource (string or list, `*` and `?` wildcards), and the
 * condition operators StringEquals, StringLike, StringNotEquals, NumericGreaterThan and NumericLessThanEquals on
 * single-valued keys. A key missing from the request matches only the negated operator (StringNotEquals), as the
 * evaluation logic says ("If the key ... is not present ... the condition is false"; negated operators: true). Anything else (NotAction,
 * NotResource, Principal, other operators, ...IfExists, ForAnyValue:/ForAllValues:, policy variables)
 * throws: an evaluator that silently ignored a condition would allow what IAM denies.
 */

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/** One authorization IAM makes: an action on one resource ARN, with the request context keys and values. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  /** Single-valued context keys (aws:RequestTag/<key>, aws:ResourceTag/<key>, ec2:CreateAction, iam:PassedToService ...). */
  readonly context: Readonly<Record<string, string>>;
}

export interface Decision {
  readonly allowed: boolean;
  /** The statements (by Sid, or index) that allowed or explicitly denied it. */
  readonly allowedBy: readonly string[];
  readonly deniedBy: readonly string[];
}

const SUPPORTED_KEYS = new Set(['Sid', 'Effect', 'Action', 'Resource', 'Condition']);
const number = (s: string): number => (/^-?\d+(\.\d+)?$/.test(s) ? Number(s) : NaN);
const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (pattern, value) => pattern === value,
  StringLike: (pattern, value) => wildcardMatch(pattern, value, false),
  StringNotEquals: (pattern, value) => pattern !== value,
  NumericGreaterThan: (pattern, value) => number(value) > number(pattern),
  NumericLessThanEquals: (pattern, value) => number(value) <= number(pattern),
};
/** Negated operators: every value must differ (not any), and a missing key matches. */
const NEGATED = new Set(['StringNotEquals']);

/** IAM wildcard matching: `*` any run of characters (`/` and `:` included), `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

const list = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? [v] : v);

function checkSupported(s: PolicyStatement, name: string): void {
  for (const key of Object.keys(s)) if (!SUPPORTED_KEYS.has(key)) throw new Error(`statement ${name}: ${key} is not supported by this evaluator`);
  const effect: string = s.Effect; // policies arrive as JSON: the type is a claim this checks
  if (effect !== 'Allow' && effect !== 'Deny') throw new Error(`statement ${name}: Effect ${effect} is neither Allow nor Deny`);
  for (const r of list(s.Resource))
    if (r.includes('${')) throw new Error(`statement ${name}: resource ${r} has a policy variable or an unresolved Terraform reference`);
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    if (!Object.hasOwn(OPERATORS, operator)) throw new Error(`statement ${name}: condition operator ${operator} is not supported by this evaluator`);
    for (const values of Object.values(keys))
      for (const v of list(values)) if (v.includes('${')) throw new Error(`statement ${name}: condition value ${v} has a policy variable`);
  }
}

/** Condition keys are case-insensitive (IAM); values are compared as the operator says. */
function conditionsMatch(s: PolicyStatement, context: Readonly<Record<string, string>>): boolean {
  const ctx = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  // Every operator block and every key must match (AND); any of a key's values may (OR). A key missing
  // from the request context never matches a String operator.
  return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) => {
      const value = ctx.get(key.toLowerCase());
      if (NEGATED.has(operator)) return value === undefined || list(values).every((pattern) => OPERATORS[operator](pattern, value));
      return value !== undefined && list(values).some((pattern) => OPERATORS[operator](pattern, value));
    }),
  );
}

export function evaluate(policy: PolicyDocument, request: AuthorizationRequest): Decision {
  const allowedBy: string[] = [];
  const deniedBy: string[] = [];
  policy.Statement.forEach((s, i) => {
    const name = s.Sid ?? `#${i}`;
    checkSupported(s, name);
    const matches =
      list(s.Action).some((a) => wildcardMatch(a, request.action, true)) &&
      list(s.Resource).some((r) => wildcardMatch(r, request.resource, false)) &&
      conditionsMatch(s, request.context);
    if (matches) (s.Effect === 'Deny' ? deniedBy : allowedBy).push(name);
  });
  return { allowed: deniedBy.length === 0 && allowedBy.length > 0, allowedBy, deniedBy };
}

/** Every action a policy's Allow statements name (wildcards kept as written). */
export function grantedActions(policy: PolicyDocument): string[] {
  return [...new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)))].sort();
}
