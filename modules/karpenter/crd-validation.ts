/**
 * Validates Kubernetes objects against the Karpenter CRDs in contracts/karpenter/ as the API server
 * would: the OpenAPI v3 schema (ajv; unknown fields rejected, as `kubectl apply` does with strict field
 * validation) and the `x-kubernetes-validations` CEL rules (@marcbachmann/cel-js, plus the Kubernetes
 * regex extension `find`). Rules the library cannot evaluate are reported as unsupported, never
 * silently passed; transition rules (oldSelf) only apply to updates and are listed as such.
 */
import * as fs from 'fs';
import Ajv, { SchemaObject, ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { Environment } from '@marcbachmann/cel-js';
import { contractPath } from '../contracts';
import type { KubernetesManifest } from '../kubernetes/manifest';

export const KARPENTER_CRD_VERSION = 'v1.14.1';
const CRD_FILES = ['karpenter.k8s.aws_ec2nodeclasses.yaml', 'karpenter.sh_nodepools.yaml', 'karpenter.sh_nodeclaims.yaml'];

/** The keywords of a CRD's structural schema (OpenAPI v3) that the CEL walk reads; the rest goes to ajv. */
interface Schema {
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly additionalProperties?: Schema | boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-validations'?: readonly { readonly rule: string; readonly message?: string }[];
}

/** The parts of a CustomResourceDefinition (apiextensions.k8s.io/v1) read here. */
interface CustomResourceDefinition {
  readonly spec: {
    readonly group: string;
    readonly names: { readonly kind: string };
    readonly versions: readonly { readonly name: string; readonly served: boolean; readonly schema: { readonly openAPIV3Schema: Schema } }[];
  };
}

interface ServedVersion {
  readonly apiVersion: string;
  readonly kind: string;
  readonly schema: Schema;
  readonly validate: ValidateFunction;
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
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  served = new Map();
  for (const file of CRD_FILES) {
    const crd = parse(fs.readFileSync(contractPath('karpenter', KARPENTER_CRD_VERSION, file), 'utf8')) as CustomResourceDefinition;
    for (const v of crd.spec.versions) {
      if (!v.served) continue;
      const apiVersion = `${crd.spec.group}/${v.name}`;
      const schema = v.schema.openAPIV3Schema;
      served.set(`${apiVersion}/${crd.spec.names.kind}`, { apiVersion, kind: crd.spec.names.kind, schema, validate: ajv.compile(strictSchema(schema, true) as SchemaObject) });
    }
  }
  return served;
}

/** The structural schema as JSON Schema, with unknown fields rejected except where Kubernetes keeps them. */
function strictSchema(node: unknown, root = false): unknown {
  if (Array.isArray(node)) return node.map((n) => strictSchema(n));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-kubernetes-')) continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, s]) => [p, strictSchema(s)])) : strictSchema(v);
  }
  const properties = out.properties as Record<string, unknown> | undefined;
  if (properties && !('additionalProperties' in out) && !(node as Schema)['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  if (root && properties?.metadata) properties.metadata = { type: 'object' }; // ObjectMeta is validated by the API server itself
  return out;
}

/** The served CRD kinds this validator knows, e.g. karpenter.sh/v1/NodePool. */
export function knownKinds(): string[] {
  return [...servedVersions().keys()];
}

export function validateAgainstCrd(manifest: KubernetesManifest): CrdValidationResult {
  const version = servedVersions().get(`${manifest.apiVersion}/${manifest.kind}`);
  const who = `${manifest.kind}/${manifest.metadata.name}`;
  if (!version) {
    return { errors: [`${who}: ${manifest.apiVersion} ${manifest.kind} is not served by the Karpenter ${KARPENTER_CRD_VERSION} CRDs (served: ${knownKinds().join(', ')})`], skippedRules: [] };
  }
  const errors: string[] = [];
  if (!version.validate(manifest)) {
    for (const e of version.validate.errors ?? []) {
      const at = e.instancePath.replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
      const detail = e.keyword === 'additionalProperties' ? `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"` : e.message;
      errors.push(`${who} ${at || '(root)'}: ${detail}`);
    }
  }
  const skippedRules: string[] = [];
  evaluateRules(version.schema, manifest, '', who, errors, skippedRules);
  return { errors, skippedRules };
}

let env: Environment | undefined;

function celEnvironment(): Environment {
  if (env) return env;
  env = new Environment({ unlistedVariablesAreDyn: true });
  // Kubernetes' CEL regex library: "abc".find("^[a-z]") returns the first match, or "".
  env.registerFunction({
    name: 'find', receiverType: 'string', returnType: 'string', params: [{ name: 'regex', type: 'string' }],
    handler: (s: string, re: string) => new RegExp(re).exec(s)?.[0] ?? '',
  });
  return env;
}

/** Walks schema and value together and evaluates every rule where a value is present. */
function evaluateRules(schema: Schema, value: unknown, at: string, who: string, errors: string[], skipped: string[]): void {
  if (value === undefined || value === null) return;
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const where = at || '(root)';
    if (/\boldSelf\b/.test(rule.rule)) {
      skipped.push(`${who} ${where}: transition rule (checked on update only): ${rule.rule}`);
      continue;
    }
    try {
      if (celEnvironment().evaluate(rule.rule, { self: toCel(value) }) !== true) errors.push(`${who} ${where}: ${rule.message ?? `failed rule: ${rule.rule}`}`);
    } catch (e) {
      const reason = (e as Error).message.split('\n')[0];
      // A function or overload the library lacks: list the rule. Anything else failed while evaluating,
      // which the API server also treats as a rejection.
      if (/no matching overload|unknown function|not (a )?function|unsupported/i.test(reason)) skipped.push(`${who} ${where}: not evaluated (${reason}): ${rule.rule}`);
      else errors.push(`${who} ${where}: ${rule.message ?? 'rule'} (rule evaluation error: ${reason})`);
    }
  }
  const items = schema.items;
  if (Array.isArray(value) && items) {
    value.forEach((item, i) => evaluateRules(items, item, `${at}[${i}]`, who, errors, skipped));
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const child = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (child) evaluateRules(child, v, at ? `${at}.${k}` : k, who, errors, skipped);
    }
  }
}

/** JSON integers are CEL ints (the API server converts integer fields the same way). */
function toCel(v: unknown): unknown {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return Array.from(v, toCel); // a local array even when v comes from another realm
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return v;
}
