/**
 * Validates Kubernetes objects against the Karpenter CRDs in contracts/karpenter/ as the API server
 * would: the OpenAPI v3 schema (ajv; unknown fields rejected, as `kubectl apply` does with strict field
 * validation) and the `x-kubernetes-validations` CEL rules (@marcbachmann/cel-js, plus the Kubernetes
 * regex extension `find`). Rules the library cannot evaluate are reported as unsupported, never
 * silently passed; transition rules (oldSelf) only apply to updates and are listed as such.
 */
import type { KubernetesManifest } from '../kubernetes/manifest';
import { Environment } from '@marcbachmann/cel-js';
import { KARPENTER_CRD_VERSION, RuleNode } from './crd-version';
// Both generated from contracts/karpenter/<version>/ by `npm run generate:crds` (scripts/crd-artifacts.ts), so
// start-up neither parses the CRD YAML nor compiles JSON Schema; __tests__/crd-artifacts.test.ts keeps them in sync.
import * as generatedRules from './generated/crd-rules.json';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- generated CommonJS without types
const generatedValidators = require('./generated/crd-validators.js') as { byKind: Record<string, GeneratedValidator> };

export { KARPENTER_CRD_VERSION };

/** An ajv standalone validator: returns whether the value is valid and leaves the problems on `.errors`. */
interface GeneratedValidator {
  (data: unknown): boolean;
  errors?: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[] | null;
}

interface ServedVersion {
  readonly apiVersion: string;
  readonly kind: string;
  /** The schema pruned to the paths that hold CEL rules. */
  readonly rules: RuleNode;
  readonly validate: GeneratedValidator;
}

export interface CrdValidationResult {
  /** Problems as the API server would report them: `<Kind>/<name> <field path>: <message>`. */
  readonly errors: string[];
  /** Rules not evaluated, with the reason (a function the CEL library lacks, or a transition rule). */
  readonly skippedRules: string[];
}

let served: Map<string, ServedVersion> | undefined;

function servedVersions(): Map<string, ServedVersion> {
  if (served) return served;
  const rules = generatedRules as unknown as { version: string; served: Record<string, { apiVersion: string; kind: string; rules: RuleNode }> };
  if (rules.version !== KARPENTER_CRD_VERSION)
    throw new Error(`modules/karpenter/generated/ holds the ${rules.version} CRDs, not ${KARPENTER_CRD_VERSION}: run npm run generate:crds`);
  served = new Map();
  for (const [key, v] of Object.entries(rules.served)) {
    if (!Object.hasOwn(generatedValidators.byKind, key))
      throw new Error(`modules/karpenter/generated/crd-validators.js lacks ${key}: run npm run generate:crds`);
    served.set(key, { apiVersion: v.apiVersion, kind: v.kind, rules: v.rules, validate: generatedValidators.byKind[key] });
  }
  return served;
}

/** The served CRD kinds this validator knows, e.g. karpenter.sh/v1/NodePool. */
export function knownKinds(): string[] {
  return [...servedVersions().keys()];
}

export function validateAgainstCrd(manifest: KubernetesManifest): CrdValidationResult {
  const version = servedVersions().get(`${manifest.apiVersion}/${manifest.kind}`);
  // Checked at run time: a manifest can come from outside the type (a test, a user's YAML).
  const { name = '?' } = (manifest as { metadata?: { name?: string } }).metadata ?? {};
  const who = `${manifest.kind}/${name}`;
  celValues = new WeakMap();
  valueKeys = new WeakMap();
  if (!version) {
    return {
      errors: [
        `${who}: ${manifest.apiVersion} ${manifest.kind} is not served by the Karpenter ${KARPENTER_CRD_VERSION} CRDs (served: ${knownKinds().join(', ')})`,
      ],
      skippedRules: [],
    };
  }
  const errors: string[] = [];
  if (!version.validate(manifest)) {
    for (const e of version.validate.errors ?? []) {
      const at = e.instancePath
        .replace(/^\//, '')
        .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
        .replace(/\//g, '.');
      const detail = e.keyword === 'additionalProperties' ? `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"` : e.message;
      errors.push(`${who} ${at || '(root)'}: ${detail}`);
    }
  }
  const skippedRules: string[] = [];
  evaluateRules(version.rules, manifest, '', who, errors, skippedRules);
  return { errors, skippedRules };
}

let env: Environment | undefined;

function celEnvironment(): Environment {
  if (env) return env;
  env = new Environment({ unlistedVariablesAreDyn: true });
  // Kubernetes' CEL regex library: "abc".find("^[a-z]") returns the first match, or "".
  env.registerFunction({
    name: 'find',
    receiverType: 'string',
    returnType: 'string',
    params: [{ name: 'regex', type: 'string' }],
    handler: (s: string, re: string) => new RegExp(re).exec(s)?.[0] ?? '',
  });
  return env;
}

const compiled = new Map<string, ReturnType<Environment['parse']>>();

/** Each rule is parsed once per process: a fleet evaluates the same few dozen rules for every pool. */
function compiledRule(rule: string): ReturnType<Environment['parse']> {
  let fn = compiled.get(rule);
  if (!fn) compiled.set(rule, (fn = celEnvironment().parse(rule)));
  return fn;
}

/** Walks schema and value together and evaluates every rule where a value is present. */
function evaluateRules(schema: RuleNode, value: unknown, at: string, who: string, errors: string[], skipped: string[]): void {
  if (value === undefined || value === null) return;
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const where = at || '(root)';
    if (/\boldSelf\b/.test(rule.rule)) {
      skipped.push(`${who} ${where}: transition rule (checked on update only): ${rule.rule}`);
      continue;
    }
    const outcome = ruleOutcome(rule.rule, value);
    if (outcome.kind === 'failed') errors.push(`${who} ${where}: ${rule.message ?? `failed rule: ${rule.rule}`}`);
    else if (outcome.kind === 'unsupported') skipped.push(`${who} ${where}: not evaluated (${outcome.reason}): ${rule.rule}`);
    else if (outcome.kind === 'error') errors.push(`${who} ${where}: ${rule.message ?? 'rule'} (rule evaluation error: ${outcome.reason})`);
  }
  const { items, properties, additionalProperties } = schema;
  if (Array.isArray(value)) {
    if (items) value.forEach((item, i) => evaluateRules(items, item, `${at}[${i}]`, who, errors, skipped));
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const child = properties && Object.hasOwn(properties, k) ? properties[k] : additionalProperties;
      if (child) evaluateRules(child, v, at ? `${at}.${k}` : k, who, errors, skipped);
    }
  }
}

type RuleOutcome = { kind: 'passed' | 'failed' } | { kind: 'unsupported' | 'error'; reason: string };

// A rule's outcome depends only on the rule and `self` (transition rules are skipped above), so it is kept per
// rule and value for the process: a fleet's pools repeat the same requirements, budgets, block devices and
// selector terms in every cluster, and each is evaluated once instead of once per cluster.
const outcomes = new Map<string, RuleOutcome>();

function ruleOutcome(rule: string, value: unknown): RuleOutcome {
  const key = `${rule}\u0000${valueKey(value)}`;
  let outcome = outcomes.get(key);
  if (!outcome) outcomes.set(key, (outcome = evaluateRule(rule, value)));
  return outcome;
}

function evaluateRule(rule: string, value: unknown): RuleOutcome {
  try {
    return { kind: compiledRule(rule)({ self: toCelOnce(value) }) === true ? 'passed' : 'failed' };
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    // A function or overload the library lacks: list the rule. Anything else failed while evaluating,
    // which the API server also treats as a rejection.
    return { kind: /no matching overload|unknown function|not (a )?function|unsupported/i.test(reason) ? 'unsupported' : 'error', reason };
  }
}

// JSON, with the values it would blur (undefined, NaN, Infinity) spelled out, so equal keys mean equal values;
// computed once per object.
let valueKeys = new WeakMap<object, string>();

const exact = (_: string, x: unknown) => (x === undefined || (typeof x === 'number' && !Number.isFinite(x)) ? `\u0000${String(x)}` : x);

function valueKey(v: unknown): string {
  if (typeof v !== 'object' || v === null) return String(JSON.stringify(v, exact));
  let k = valueKeys.get(v);
  if (k === undefined) valueKeys.set(v, (k = JSON.stringify(v, exact)));
  return k;
}

// A value under several rules (and every value inside it) is converted once per validation, not once per rule.
let celValues = new WeakMap<object, unknown>();

function toCelOnce(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return toCel(v);
  let c = celValues.get(v);
  if (c === undefined) celValues.set(v, (c = toCel(v)));
  return c;
}

/** JSON integers are CEL ints (the API server converts integer fields the same way). */
function toCel(v: unknown): unknown {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return Array.from(v, toCelOnce); // a local array even when v comes from another realm
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCelOnce(x)]));
  return v;
}
