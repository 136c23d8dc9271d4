/**
 * Offline `terraform validate` for synthesized stacks (issue 9, item 1).
 *
 * A synthesized stack (cdktf JSON) cannot be initialized here as it is: the registry modules (eks v20,
 * its karpenter submodule, vpc v5) and the helm / kubectl / kubernetes providers cannot be downloaded.
 * `writeOfflineStack` writes a directory that Terraform can init and validate with only the aws provider
 * (from the filesystem mirror, see real-tools.ts):
 *
 * - every registry module call gets a local stub module generated from the interface files in
 *   contracts/: the real variable names, Terraform types and nullability (default null where the module
 *   has a default), the real output names (value null: during validate every module output is unknown,
 *   so only the NAME is checked, which is all the interface files know), the module's aws constraint,
 *   and for the eks module a validation rule on the keys of `eks_managed_node_groups` entries (node_groups.tf).
 *   The call's `version` is dropped, after checking that the stub's version satisfies it;
 * - every resource, data source and provider block of a provider that is not available offline becomes
 *   a `terraform_data` whose `input` carries all of its attributes, so every reference inside a manifest
 *   or a Helm value is still checked; count / for_each / depends_on are kept, and references to the
 *   resource elsewhere (depends_on "helm_release.x", `${helm_release.x.status}`) point at the stand-in;
 * - the backend (or cloud block) is dropped; the aws provider blocks are kept exactly.
 *
 * `validateStacks` runs `terraform init -backend=false` + `validate -json` on such directories: all
 * stacks as child modules of one root in one run, and each stack on its own whenever that run has an
 * error (see the comment there).
 *
 * Limits: a stub checks names, types and outputs, not what the module does inside; a stand-in checks
 * references only, not the helm/kubectl/kubernetes schema; the aws provider checks its schema and
 * validate-time rules (enums, formats), not what the AWS API would accept.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as semver from 'semver';
import { readJsonContract } from '../../modules/contracts';
import { parseTfType, TfType } from '../../modules/contracts/terraform-interface';
import { collectOutput } from './capture';

/** Providers the tests can install offline (the filesystem mirror holds hashicorp/aws only). */
export const OFFLINE_PROVIDERS = ['aws'];

interface VariableInterface {
  readonly type: string;
  readonly default_present: boolean;
  readonly nullable?: boolean;
}

/** What a stub module is generated from. */
export interface ModuleInterface {
  /** Registry source of the module call, e.g. "terraform-aws-modules/eks/aws//modules/karpenter". */
  readonly source: string;
  /** Version the interface was read from, e.g. "v20.37.2". */
  readonly version: string;
  readonly variables: Record<string, VariableInterface>;
  readonly outputs: string[];
  /** Provider constraints of the module's versions.tf (only the offline providers are declared in the stub). */
  readonly requiredProviders: Record<string, string>;
  /** For the eks module: the keys an `eks_managed_node_groups` entry may use. */
  readonly nodeGroupKeys?: string[];
}

interface EksInterfaceFile {
  version: string;
  variables: Record<string, VariableInterface>;
  outputs: string[];
  node_group_keys: string[];
  submodules: Record<string, { source: string; variables: Record<string, VariableInterface>; outputs: string[] }>;
}
interface VpcInterfaceFile {
  version: string;
  variables: Record<string, VariableInterface>;
  outputs: string[];
  required_providers: Record<string, string>;
}
interface ProviderConstraintsFile {
  modules: Record<string, { version: string; required_providers: Record<string, string> }>;
}

/** The interfaces of every registry module the stacks may call, from contracts/ (never ../shared). */
export function moduleInterfaces(): Record<string, ModuleInterface> {
  const eks = readJsonContract<EksInterfaceFile>('terraform-aws-eks-v20-interface.json');
  const vpc = readJsonContract<VpcInterfaceFile>('terraform-aws-vpc-v5.21.0-interface.json');
  const constraints = readJsonContract<ProviderConstraintsFile>('module-provider-constraints.json').modules;
  const eksSource = 'terraform-aws-modules/eks/aws';
  const karpenter = eks.submodules.karpenter;
  const vpcSource = 'terraform-aws-modules/vpc/aws';
  return {
    [eksSource]: {
      source: eksSource,
      version: eks.version,
      variables: eks.variables,
      outputs: eks.outputs,
      requiredProviders: constraints[eksSource].required_providers,
      nodeGroupKeys: eks.node_group_keys,
    },
    [karpenter.source]: {
      source: karpenter.source,
      version: eks.version,
      variables: karpenter.variables,
      outputs: karpenter.outputs,
      requiredProviders: constraints[karpenter.source].required_providers,
    },
    [vpcSource]: {
      source: vpcSource,
      version: vpc.version,
      variables: vpc.variables,
      outputs: vpc.outputs,
      requiredProviders: vpc.required_providers,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Stub modules

/** A Terraform type constraint in canonical syntax (the interface files may omit commas in object types). */
export function renderTfType(type: TfType): string {
  switch (type.kind) {
    case 'any':
    case 'bool':
    case 'string':
    case 'number':
      return type.kind;
    case 'list':
    case 'set':
    case 'map':
      return `${type.kind}(${renderTfType(type.element)})`;
    case 'object':
      return `object({${Object.entries(type.attributes)
        .map(([k, a]) => `${k} = ${a.optional ? `optional(${renderTfType(a.type)})` : renderTfType(a.type)}`)
        .join(', ')}})`;
  }
}

/** A non-null value of a type: the default of a non-nullable variable whose real default the interface does not hold. */
function zeroValue(type: TfType): unknown {
  switch (type.kind) {
    case 'bool':
      return false;
    case 'number':
      return 0;
    case 'string':
      return '';
    case 'list':
    case 'set':
      return [];
    case 'map':
    case 'any':
      return {};
    case 'object':
      return Object.fromEntries(
        Object.entries(type.attributes)
          .filter(([, a]) => !a.optional)
          .map(([k, a]) => [k, zeroValue(a.type)]),
      );
  }
}

const hclString = (s: string) => JSON.stringify(s);

/** The stub module (Terraform JSON) for an interface. */
export function stubModule(iface: ModuleInterface, offlineProviders: string[] = OFFLINE_PROVIDERS): Record<string, unknown> {
  const variable: Record<string, Record<string, unknown>> = {};
  for (const [name, v] of Object.entries(iface.variables)) {
    const type = parseTfType(v.type);
    const block: Record<string, unknown> = { type: renderTfType(type) };
    const nullable = v.nullable ?? true;
    if (!nullable) block.nullable = false;
    if (v.default_present) block.default = nullable ? null : zeroValue(type);
    variable[name] = block;
  }
  if (iface.nodeGroupKeys) {
    const keys = `[${iface.nodeGroupKeys.map(hclString).join(', ')}]`;
    for (const name of ['eks_managed_node_groups', 'eks_managed_node_group_defaults']) {
      if (!Object.hasOwn(variable, name)) continue;
      const entries = name === 'eks_managed_node_groups' ? `values(var.${name})` : `[var.${name}]`;
      variable[name].validation = [
        {
          condition: `\${var.${name} == null ? true : alltrue([for g in ${entries} : alltrue([for k in keys(g) : contains(${keys}, k)])])}`,
          error_message: `Every key of an ${name} entry must be one that the eks module's node_groups.tf reads (contracts/terraform-aws-eks-v20-interface.json node_group_keys).`,
        },
      ];
    }
  }
  const required = Object.fromEntries(
    Object.entries(iface.requiredProviders)
      .filter(([p]) => offlineProviders.includes(p))
      .map(([p, constraint]) => [p, { source: `hashicorp/${p}`, version: constraint }]),
  );
  return {
    '//': `Stub of ${iface.source} ${iface.version}, generated from contracts/ for offline terraform validate.`,
    terraform: { required_providers: required },
    variable,
    output: Object.fromEntries(iface.outputs.map((o) => [o, { value: null }])),
  };
}

/** Whether a version (e.g. "v20.37.2") satisfies a Terraform version constraint (e.g. "~> 20.0", ">= 5.0, < 6.0"). */
export function satisfiesTfConstraint(version: string, constraint: string): boolean {
  const v = semver.coerce(version)?.version;
  if (!v) throw new Error(`not a version: ${version}`);
  return constraint
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .every((c) => {
      const m = /^(~>|>=|<=|!=|>|<|=)?\s*v?(\d+(?:\.\d+){0,2})(-[\w.]+)?$/.exec(c);
      if (!m) throw new Error(`unsupported version constraint "${c}"`);
      const [, op = '=', numbers = '', prerelease = ''] = m; // unmatched groups are undefined
      const parts = numbers.split('.').map(Number);
      const full = [...parts, 0, 0].slice(0, 3).join('.') + prerelease;
      if (op === '~>') {
        // Only the rightmost given component may increase: ~> 20.0 is >= 20.0.0, < 21.0.0.
        const upper = parts.length === 1 ? [parts[0] + 1, 0, 0] : parts.length === 2 ? [parts[0] + 1, 0, 0] : [parts[0], parts[1] + 1, 0];
        return semver.gte(v, full) && semver.lt(v, upper.join('.'));
      }
      if (op === '!=') return !semver.eq(v, full);
      return semver.satisfies(v, `${op === '=' ? '' : op}${full}`);
    });
}

// ---------------------------------------------------------------------------------------------------
// The offline configuration

/** Calls `fn` on the text inside every `${...}` / `%{...}` sequence of a template string. */
export function mapTemplateSequences(s: string, fn: (expr: string) => string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if ((c === '$' || c === '%') && s[i + 1] === c && s[i + 2] === '{') {
      // "$${" / "%%{" are escapes
      out += s.slice(i, i + 3);
      i += 3;
      continue;
    }
    if ((c === '$' || c === '%') && s[i + 1] === '{') {
      let depth = 1;
      let j = i + 2;
      let quote = false;
      for (; j < s.length && depth > 0; j++) {
        const d = s[j];
        if (quote) {
          if (d === '\\') j++;
          else if (d === '"') quote = false;
        } else if (d === '"') quote = true;
        else if (d === '{') depth++;
        else if (d === '}') depth--;
      }
      if (depth > 0) return out + s.slice(i); // unterminated: leave the rest alone (Terraform will complain)
      out += c + '{' + fn(s.slice(i + 2, j - 1)) + '}';
      i = j;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The provider (local name) a resource or data source uses: its `provider` meta-argument, else its type's prefix. */
function providerOf(type: string, block: Record<string, unknown>): string {
  if (typeof block.provider === 'string') return block.provider.replace(/^\$\{(.*)\}$/, '$1').split('.')[0];
  return type.split('_')[0];
}

export interface OfflineConfig {
  /** The root module (Terraform JSON). */
  readonly config: Record<string, any>;
  /** Stub modules by directory name (under stubs/). */
  readonly stubs: Record<string, Record<string, unknown>>;
  /** Original address -> stand-in address, e.g. "helm_release.crd" -> "terraform_data.helm_release__crd". */
  readonly standIns: Record<string, string>;
}

export interface OfflineOptions {
  /** Providers installable offline; every other provider's resources become terraform_data stand-ins. */
  readonly offlineProviders?: string[];
  readonly interfaces?: Record<string, ModuleInterface>;
}

/** The folder (under stubs/) of a registry module's stub, e.g. "eks-aws-karpenter" for terraform-aws-modules/eks/aws//modules/karpenter. */
export function stubDirName(source: string): string {
  return source
    .replace(/^terraform-aws-modules\//, '')
    .replace(/\/\/modules\//, '-')
    .replace(/[^A-Za-z0-9_-]+/g, '-');
}

/** Turns a synthesized stack into a configuration that `terraform init -backend=false` + `validate` can run offline. */
export function toOfflineConfig(stack: Record<string, any>, options: OfflineOptions = {}): OfflineConfig {
  const offline = new Set([...(options.offlineProviders ?? OFFLINE_PROVIDERS), 'terraform']);
  const interfaces = options.interfaces ?? moduleInterfaces();
  const config: Record<string, any> = structuredClone(stack);
  const stubs: Record<string, Record<string, unknown>> = {};
  const standIns: Record<string, string> = {};
  const standInBlocks: Record<string, Record<string, unknown>> = {};

  // (c) No backend: init runs with -backend=false, and a cloud block would still be contacted.
  if (config.terraform) {
    delete config.terraform.backend;
    delete config.terraform.cloud;
    const required = config.terraform.required_providers ?? {};
    for (const p of Object.keys(required)) if (!offline.has(p)) delete required[p];
  }

  // (a) Registry modules -> local stubs.
  for (const [name, call] of Object.entries<Record<string, any>>(config.module ?? {})) {
    const source = String(call.source);
    if (source.startsWith('./') || source.startsWith('../')) continue;
    const iface = Object.hasOwn(interfaces, source) ? interfaces[source] : undefined;
    if (!iface) throw new Error(`module.${name}: no interface in contracts/ for source "${source}" (add one to validate it offline)`);
    if (call.version !== undefined && !satisfiesTfConstraint(iface.version, String(call.version))) {
      throw new Error(`module.${name}: the interface in contracts/ is ${source} ${iface.version}, which does not satisfy the call's version "${call.version}"`);
    }
    const dir = stubDirName(source);
    stubs[dir] = stubModule(iface, [...offline]);
    call.source = `./stubs/${dir}`;
    delete call.version;
    if (isPlainObject(call.providers)) {
      for (const p of Object.keys(call.providers)) if (!offline.has(p.split('.')[0])) delete call.providers[p];
    }
  }

  // (b) Resources, data sources and provider blocks of unavailable providers -> terraform_data.
  const standIn = (kind: 'resource' | 'data', type: string, name: string, block: Record<string, any>) => {
    const id = kind === 'data' ? `data__${type}__${name}` : `${type}__${name}`;
    if (config.resource?.terraform_data?.[id] || Object.hasOwn(standInBlocks, id)) throw new Error(`stand-in name clash: terraform_data.${id}`);
    if (block.dynamic !== undefined)
      throw new Error(`${kind === 'data' ? 'data.' : ''}${type}.${name}: dynamic blocks are not supported by the terraform_data stand-in`);
    const { count, for_each, depends_on, lifecycle, provider: _provider, provisioner: _p, connection: _c, '//': _m, ...attributes } = block;
    const out: Record<string, unknown> = { input: attributes };
    if (count !== undefined) out.count = count;
    if (for_each !== undefined) out.for_each = for_each;
    if (depends_on !== undefined) out.depends_on = depends_on;
    if (isPlainObject(lifecycle)) {
      // ignore_changes names the original's attributes and postconditions use `self`: neither applies to the stand-in.
      const { ignore_changes: _i, postcondition: _pc, ...kept } = lifecycle;
      if (Object.keys(kept).length > 0) out.lifecycle = kept;
    }
    standInBlocks[id] = out;
    standIns[`${kind === 'data' ? 'data.' : ''}${type}.${name}`] = `terraform_data.${id}`;
  };
  for (const kind of ['resource', 'data'] as const) {
    for (const [type, blocks] of Object.entries<Record<string, any>>(config[kind] ?? {})) {
      for (const [name, block] of Object.entries<Record<string, any>>(blocks)) {
        if (offline.has(providerOf(type, block))) continue;
        standIn(kind, type, name, block);
        delete blocks[name];
      }
      if (Object.keys(blocks).length === 0) delete config[kind][type];
    }
    if (config[kind] && Object.keys(config[kind]).length === 0) delete config[kind];
  }
  for (const [provider, blocks] of Object.entries<any>(config.provider ?? {})) {
    if (offline.has(provider)) continue;
    for (const block of Array.isArray(blocks) ? blocks : [blocks]) {
      const { alias, ...attributes } = block as { alias?: string } & Record<string, unknown>;
      const id = `provider__${provider}${alias ? `__${alias}` : ''}`;
      standInBlocks[id] = { input: attributes };
    }
    delete config.provider[provider];
  }

  // References to the stand-ins: `x.n.attr` -> `terraform_data.id.output.attr`, bare `x.n` -> `terraform_data.id`.
  const addresses = Object.keys(standIns).sort((a, b) => b.length - a.length);
  if (addresses.length > 0) {
    const re = new RegExp(`(?<![\\w.-])(${addresses.map(escapeRe).join('|')})(?![\\w-])((?:\\[[^\\]]*\\])?)(\\.[A-Za-z_][\\w-]*)?`, 'g');
    const rewrite = (expr: string) =>
      expr.replace(re, (_all, address: string, index: string, attr?: string) => `${standIns[address]}${index}${attr ? `.output${attr}` : ''}`);
    const rewriteStrings = (v: unknown) => mapStrings(v, (s) => mapTemplateSequences(s, rewrite));
    for (const key of Object.keys(config)) {
      if (key !== 'terraform') config[key] = rewriteStrings(config[key]);
    }
    for (const [id, block] of Object.entries(standInBlocks)) standInBlocks[id] = rewriteStrings(block) as Record<string, unknown>;
    // depends_on and replace_triggered_by hold bare references, not templates.
    const rewriteRefs = (block: Record<string, any>) => {
      if (Array.isArray(block.depends_on)) block.depends_on = block.depends_on.map((r: string) => rewrite(r));
      const rtb = block.lifecycle?.replace_triggered_by;
      if (Array.isArray(rtb)) block.lifecycle.replace_triggered_by = rtb.map((r: string) => rewrite(r));
    };
    for (const kind of ['resource', 'data', 'module', 'output'] as const) {
      for (const group of Object.values<any>(config[kind] ?? {})) {
        if (kind === 'module' || kind === 'output') rewriteRefs(group);
        else for (const block of Object.values<any>(group)) rewriteRefs(block);
      }
    }
    for (const block of Object.values<any>(standInBlocks)) rewriteRefs(block);
  }
  if (Object.keys(standInBlocks).length > 0) {
    config.resource ??= {};
    config.resource.terraform_data = { ...(config.resource.terraform_data ?? {}), ...standInBlocks };
  }
  return { config, stubs, standIns };
}

/** Writes the offline configuration of a stack into `dir` (main.tf.json and stubs/<module>/main.tf.json). */
export function writeOfflineStack(stack: Record<string, any>, dir: string, options: OfflineOptions = {}): OfflineConfig {
  const offline = toOfflineConfig(stack, options);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(offline.config, null, 2));
  for (const [name, stub] of Object.entries(offline.stubs)) {
    fs.mkdirSync(path.join(dir, 'stubs', name), { recursive: true });
    fs.writeFileSync(path.join(dir, 'stubs', name, 'main.tf.json'), JSON.stringify(stub, null, 2));
  }
  return offline;
}

// ---------------------------------------------------------------------------------------------------
// Running Terraform

export interface TerraformRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export function runTerraform(args: string[], cwd: string, env: NodeJS.ProcessEnv, terraform = 'terraform'): Promise<TerraformRun> {
  const started = Date.now();
  const child = spawn(terraform, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return collectOutput(child).then(({ exitCode, stdout, stderr }) => ({ code: exitCode, stdout, stderr, ms: Date.now() - started }));
}

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly summary: string;
  readonly detail?: string;
  readonly address?: string;
  readonly range?: { filename: string; start: { line: number; column: number } };
  readonly snippet?: { context?: string; code?: string };
}

export interface ValidateResult {
  readonly valid: boolean;
  readonly errors: Diagnostic[];
  readonly diagnostics: Diagnostic[];
  /** init + validate, milliseconds. */
  readonly ms: number;
  /** Terraform's diagnostics (or init's output), for a failure message. */
  readonly report: string;
}

export function formatDiagnostics(diagnostics: Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const at = d.range ? ` (${d.range.filename}:${d.range.start.line}${d.snippet?.context ? `, in ${d.snippet.context}` : ''})` : '';
      const code = d.snippet?.code ? `\n    ${d.snippet.code.trim().slice(0, 300)}` : '';
      return `${d.severity}: ${d.summary}${at}${d.detail ? `\n    ${d.detail.replace(/\n/g, '\n    ')}` : ''}${code}`;
    })
    .join('\n');
}

/** `terraform validate -json` in an initialized directory. */
export async function terraformValidate(dir: string, env: NodeJS.ProcessEnv, terraform?: string): Promise<ValidateResult> {
  const run = await runTerraform(['validate', '-json', '-no-color'], dir, env, terraform);
  let parsed: { valid: boolean; diagnostics: Diagnostic[] };
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    return { valid: false, errors: [], diagnostics: [], ms: run.ms, report: `terraform validate exited ${run.code}:\n${run.stdout}\n${run.stderr}` };
  }
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  return { valid: parsed.valid && run.code === 0, errors, diagnostics: parsed.diagnostics, ms: run.ms, report: formatDiagnostics(parsed.diagnostics) };
}

/** `terraform init -backend=false` (no backend; the aws provider from the CLI config's mirror). */
export async function terraformInit(dir: string, env: NodeJS.ProcessEnv, terraform?: string): Promise<TerraformRun & { ok: boolean; report: string }> {
  let init = await runTerraform(['init', '-backend=false', '-input=false', '-no-color'], dir, env, terraform);
  // Another process (another test suite) filling the shared plugin cache at the same moment can make an
  // install fail once; the second attempt finds the provider in the cache.
  if (init.code !== 0 && /Failed to install provider/.test(init.stderr)) {
    await new Promise((r) => setTimeout(r, 1000));
    init = await runTerraform(['init', '-backend=false', '-input=false', '-no-color'], dir, env, terraform);
  }
  return { ...init, ok: init.code === 0, report: init.code === 0 ? '' : `terraform init -backend=false failed:\n${init.stderr}\n${init.stdout}` };
}

/** `terraform init -backend=false` then `validate -json`. */
export async function terraformInitValidate(dir: string, env: NodeJS.ProcessEnv, terraform?: string): Promise<ValidateResult> {
  const init = await terraformInit(dir, env, terraform);
  if (!init.ok) return { valid: false, errors: [], diagnostics: [], ms: init.ms, report: init.report };
  const validate = await terraformValidate(dir, env, terraform);
  return { ...validate, ms: init.ms + validate.ms };
}

// ---------------------------------------------------------------------------------------------------
// Many stacks in one Terraform run

/*
 * Most of a `terraform validate` is fixed cost: loading the aws provider and decoding its schema (about
 * 4 CPU-seconds per run here, against under 1 per extra stack). So by default the stacks are validated
 * together: each stack's offline directory is a child module of one root (child modules may configure
 * their own providers), one init and one validate check them all, and each diagnostic is attributed to
 * its stack by file name. A child module is checked exactly like a root module except for root-only
 * blocks (backend/cloud, which are dropped anyway, and import blocks, which fail the batch). Whenever the
 * batch has an error, every stack is validated again on its own, so a failure is always reported from
 * the stack's own `terraform init` + `validate`, as a user would run them.
 */

export interface StackToValidate {
  readonly id: string;
  readonly stack: Record<string, any>;
  /**
   * Writes the stack's configuration into its directory instead of its offline JSON (e.g. hcl-offline.ts
   * writeOfflineHcl for the HCL output of the same stack). @default writeOfflineStack(stack, dir, options.offline)
   */
  readonly write?: (dir: string) => void;
}

export interface StackValidation extends ValidateResult {
  /** The stack's own offline directory (a complete root configuration). */
  readonly dir: string;
  /** How it was validated: with the other stacks in one run, or on its own. */
  readonly mode: 'batch' | 'each';
}

export interface ValidateStacksOptions {
  readonly terraform?: string;
  /** The environment to run Terraform with in a directory (e.g. real-tools terraformEnv). */
  readonly env: (dir: string) => NodeJS.ProcessEnv;
  /** Runs a CPU-bound job (e.g. a limiter(2)). */
  readonly cpu?: <T>(job: () => Promise<T>) => Promise<T>;
  /** Serializes `terraform init` (the plugin cache is not safe for concurrent installs). */
  readonly initLock?: <T>(job: () => Promise<T>) => Promise<T>;
  /** Validate every stack on its own (no batch). */
  readonly each?: boolean;
  /**
   * Added to the environment of `terraform validate` only (not init): e.g. a provider-server.ts ProviderServer's env,
   * so every validate attaches to one running provider instead of starting one per provider block.
   */
  readonly validateEnv?: NodeJS.ProcessEnv;
  readonly offline?: OfflineOptions;
}

const direct = <T>(job: () => Promise<T>) => job();

/** A directory name for a stack id. */
export function stackDirName(id: string): string {
  return `s_${id.replace(/[^A-Za-z0-9_-]+/g, '_')}`;
}

/** Validates stacks (offline) in `workDir`; one result per stack id. */
export async function validateStacks(stacks: StackToValidate[], workDir: string, options: ValidateStacksOptions): Promise<Map<string, StackValidation>> {
  const cpu = options.cpu ?? direct;
  const initLock = options.initLock ?? direct;
  const dirs = new Map<string, string>();
  for (const { id, stack, write } of stacks) {
    const name = stackDirName(id);
    if ([...dirs.values()].includes(name)) throw new Error(`two stacks map to the directory ${name}`);
    const dir = path.join(workDir, 'stacks', name);
    if (write) write(dir);
    else writeOfflineStack(stack, dir, options.offline);
    dirs.set(id, name);
  }
  // The root calls every stack (also when each is validated on its own: a `terraform graph` of the root shows them all).
  fs.writeFileSync(
    path.join(workDir, 'main.tf.json'),
    JSON.stringify({ module: Object.fromEntries([...dirs.values()].map((name) => [name, { source: `./stacks/${name}` }])) }, null, 2),
  );
  const each = async (): Promise<Map<string, StackValidation>> => {
    const results = await Promise.all(
      stacks.map(async ({ id }): Promise<[string, StackValidation]> => {
        const dir = path.join(workDir, 'stacks', dirs.get(id)!);
        const env = options.env(dir);
        const init = await initLock(() => cpu(() => terraformInit(dir, env, options.terraform)));
        if (!init.ok) return [id, { valid: false, errors: [], diagnostics: [], ms: init.ms, report: init.report, dir, mode: 'each' }];
        const v = await cpu(() => terraformValidate(dir, { ...env, ...options.validateEnv }, options.terraform));
        return [id, { ...v, ms: init.ms + v.ms, dir, mode: 'each' }];
      }),
    );
    return new Map(results);
  };
  if (options.each) return each();

  const env = options.env(workDir);
  const init = await initLock(() => cpu(() => terraformInit(workDir, env, options.terraform)));
  const batch: ValidateResult = init.ok
    ? await cpu(() => terraformValidate(workDir, { ...env, ...options.validateEnv }, options.terraform)).then((v) => ({ ...v, ms: v.ms + init.ms }))
    : { valid: false, errors: [], diagnostics: [], ms: init.ms, report: init.report };
  const results = new Map<string, StackValidation>();
  for (const [id, name] of dirs) {
    const prefix = `stacks/${name}/`;
    const mine = batch.diagnostics.filter((d) => d.range?.filename.startsWith(prefix));
    // An error outside every stack's files (init, the root), and any diagnostic that names no file, counts against all of them.
    const unattributed = batch.diagnostics.filter(
      (d) => !d.range || (d.severity === 'error' && ![...dirs.values()].some((n) => d.range?.filename.startsWith(`stacks/${n}/`))),
    );
    const diagnostics = [...mine, ...unattributed];
    const errors = diagnostics.filter((d) => d.severity === 'error');
    results.set(id, {
      valid: batch.valid || (errors.length === 0 && init.ok),
      errors,
      diagnostics,
      ms: batch.ms,
      report: init.ok ? formatDiagnostics(diagnostics) : init.report,
      dir: path.join(workDir, 'stacks', name),
      mode: 'batch',
    });
  }
  return results;
}

/** Runs async jobs with at most `limit` at a time (Terraform is CPU-bound; the machines have 2 cores). */
export function limiter(limit: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    if (active >= limit || queue.length === 0) return;
    active++;
    queue.shift()!();
  };
  return <T>(job: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        void job()
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
}
