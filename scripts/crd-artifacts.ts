/**
 * What `npm run generate:crds` writes from the Karpenter CRDs under contracts/ (YAML, copied verbatim
 * from upstream), so the app never parses YAML or compiles JSON Schema at start-up:
 * - modules/karpenter/generated/crd-validators.js: ajv standalone validators, one per served version,
 *   for the structural schema with unknown fields rejected (as `kubectl apply` with strict field validation);
 * - modules/karpenter/generated/crd-rules.json: per served version, only the parts of the schema that lead
 *   to an `x-kubernetes-validations` (CEL) rule.
 * __tests__/crd-artifacts.test.ts regenerates both in memory and fails if the committed files differ.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { parse } from 'yaml';
import { contractPath, PROJECT_ROOT } from '../modules/contracts';
import { KARPENTER_CRD_FILES, KARPENTER_CRD_VERSION, RuleNode } from '../modules/karpenter/crd-version';

/** A JSON value as YAML parses it. */
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** What this reads of a CustomResourceDefinition. */
interface Crd {
  readonly spec: {
    readonly group: string;
    readonly names: { readonly kind: string };
    readonly versions: readonly { readonly name: string; readonly served: boolean; readonly schema: { readonly openAPIV3Schema: JsonObject } }[];
  };
}

export const GENERATED_DIR = path.join(PROJECT_ROOT, 'modules', 'karpenter', 'generated');
export const VALIDATORS_FILE = path.join(GENERATED_DIR, 'crd-validators.js');
export const RULES_FILE = path.join(GENERATED_DIR, 'crd-rules.json');

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The structural schema as JSON Schema, with unknown fields rejected except where Kubernetes keeps them. */
export function strictSchema(node: Json, root = false): Json {
  if (Array.isArray(node)) return node.map((n) => strictSchema(n));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-kubernetes-') || k === 'description') continue;
    out[k] = k === 'properties' && isObject(v) ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strictSchema(s)])) : strictSchema(v);
  }
  if (isObject(out.properties) && !('additionalProperties' in out) && node['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  if (root && isObject(out.properties) && 'metadata' in out.properties) out.properties.metadata = { type: 'object' }; // ObjectMeta is validated by the API server itself
  return out;
}

/** The schema pruned to the paths that hold CEL rules (properties, items, additionalProperties). */
export function ruleTree(node: Json | undefined): RuleNode | undefined {
  if (!isObject(node)) return undefined;
  const out: { -readonly [K in keyof RuleNode]: RuleNode[K] } = {};
  const rules = node['x-kubernetes-validations'];
  if (Array.isArray(rules))
    out['x-kubernetes-validations'] = rules
      .filter(isObject)
      .flatMap((r) => (typeof r.rule === 'string' ? [{ rule: r.rule, ...(typeof r.message === 'string' ? { message: r.message } : {}) }] : []));
  if (isObject(node.properties)) {
    const props = Object.fromEntries(
      Object.entries(node.properties).flatMap(([k, v]) => {
        const child = ruleTree(v);
        return child ? [[k, child] as const] : [];
      }),
    );
    if (Object.keys(props).length) out.properties = props;
  }
  const items = ruleTree(node.items);
  if (items) out.items = items;
  const extra = ruleTree(node.additionalProperties);
  if (extra) out.additionalProperties = extra;
  return Object.keys(out).length ? out : undefined;
}

export interface CrdArtifacts {
  readonly validatorsJs: string;
  readonly rulesJson: string;
}

/** Both generated files' contents, computed from contracts/karpenter/<version>/*.yaml. */
export function crdArtifacts(): CrdArtifacts {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { source: true, esm: false } });
  const exports: Record<string, string> = {};
  const rules: Record<string, { apiVersion: string; kind: string; rules: RuleNode }> = {};
  for (const file of KARPENTER_CRD_FILES) {
    const crd = parse(fs.readFileSync(contractPath('karpenter', KARPENTER_CRD_VERSION, file), 'utf8')) as Crd;
    for (const v of crd.spec.versions) {
      if (!v.served) continue;
      const apiVersion = `${crd.spec.group}/${v.name}`;
      const key = `${apiVersion}/${crd.spec.names.kind}`;
      const id = `v${Object.keys(exports).length}`;
      ajv.addSchema(strictSchema(v.schema.openAPIV3Schema, true) as JsonObject, key);
      exports[id] = key;
      rules[key] = { apiVersion, kind: crd.spec.names.kind, rules: ruleTree(v.schema.openAPIV3Schema) ?? {} };
    }
  }
  const index = Object.entries(exports)
    .map(([id, key]) => `  ${JSON.stringify(key)}: ${id},`)
    .join('\n');
  const header = `// Generated by \`npm run generate:crds\` (scripts/crd-artifacts.ts) from contracts/karpenter/${KARPENTER_CRD_VERSION}/. Do not edit.\n/* eslint-disable */\n`;
  const validatorsJs = `${header}${standaloneCode(ajv, exports)}\nmodule.exports.byKind = {\n${index}\n};\n`.replace(
    /module\.exports\.byKind = \{\n([^}]*)\};/,
    (_m, body: string) => `module.exports.byKind = {\n${body.replace(/: (v\d+),/g, ': module.exports.$1,')}};`,
  );
  return { validatorsJs, rulesJson: `${JSON.stringify({ version: KARPENTER_CRD_VERSION, served: rules }, null, 1)}\n` };
}

if (require.main === module) {
  const { validatorsJs, rulesJson } = crdArtifacts();
  fs.mkdirSync(GENERATED_DIR, { recursive: true });
  fs.writeFileSync(VALIDATORS_FILE, validatorsJs);
  fs.writeFileSync(RULES_FILE, rulesJson);
  process.stdout.write(`wrote ${path.relative(PROJECT_ROOT, VALIDATORS_FILE)} and ${path.relative(PROJECT_ROOT, RULES_FILE)}\n`);
}
