/**
 * Every synthesized stack of fleet.yaml and of every fleet under examples/ through the real
 * `terraform validate` with the real hashicorp/aws provider, offline (issue 9, item 1): registry modules
 * are stubs generated from contracts/, helm/kubectl/kubernetes resources are terraform_data stand-ins
 * (see helpers/terraform-offline.ts). The mutation tests below change one thing in a valid stack and
 * expect Terraform itself to reject it, so they fail for the right reason even after `jest -u`.
 *
 * The same batch validates a fleet with KMS keys for its replica regions (issue 29; below).
 *
 * The HCL output is checked in this file too (issue 27 item 5: it was hcl-terraform.test.ts; both build the same
 * stacks, and both attach to one aws provider process per file). From that suite:
 * `npm run synth:hcl` is how users leave cdktf (archived 2025-12-10), so its output must be Terraform that
 * Terraform accepts (issue 28 item 2). For fleet.yaml and every example, the HCL of every stack, as the script
 * writes it:
 * - passes `terraform fmt -check`;
 * - where its providers are installable here (aws, from the mirror; registry modules as the stubs generated from
 *   contracts/, see helpers/hcl-offline.ts): passes `terraform init -backend=false` and `terraform validate`
 *   with no error and no warning, and gives the same `terraform graph` (resources, data sources, modules and
 *   their dependencies: what a plan walks) as the JSON output of the same fleet;
 * - elsewhere (helm, kubectl): `terraform init` reads the whole configuration, and fails only where it installs
 *   the providers missing here.
 * Each check runs once for all stacks (issue 27 item 5): one `fmt -check` over every stack's folder; the HCL of every
 * installable stack is a child module of the JSON stacks' root (below), so one init and one validate check both
 * outputs (each diagnostic belongs to the stack whose files it names) and one graph of that root gives both outputs'
 * graphs; one init for the helm/kubectl stacks (each on its own when that init meets a configuration error).
 * validate and graph attach to one aws provider process (helpers/provider-server.ts) instead of starting one per
 * provider block.
 * Regressions: a lifecycle `postcondition` as an attribute (init: An argument named "postcondition" is not
 * expected here), quoted `provider`/`depends_on` references (validate: Quoted references are deprecated), and
 * unformatted HCL (`terraform fmt -check` exited 3).
 *
 * Each stack Terraform found valid is recorded with recordRealToolRun('validated', ...), which the
 * global teardown sums up ("real tools: Terraform validated N stack(s) ...", repeated by .ci/run).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_FLEET, fleetFrom, PROJECT_ROOT, synthFleet, synthFleetFile, tempDir, validFleet } from '../helpers/fleet';
import { ACCOUNT } from '../helpers/aws-account';
import { describeWithRealTools, realTools, recordRealToolRun, terraformEnv } from '../helpers/real-tools';
import { ProviderServer, reattachValue, RELAXED_GO_GC, startProviderServer } from '../helpers/provider-server';
import { toOfflineHcl, writeOfflineHcl } from '../helpers/hcl-offline';
import { fmtCheck, graphOf, HclStack, initDiagnostics, PROVIDER_INSTALL_ERRORS, synthesizeHcl, writeBatch } from '../helpers/hcl-checks';
import {
  Diagnostic,
  formatDiagnostics,
  limiter,
  OFFLINE_PROVIDERS,
  runTerraform,
  stackDirName,
  terraformInit,
  mapTemplateSequences,
  moduleInterfaces,
  satisfiesTfConstraint,
  StackValidation,
  toOfflineConfig,
  validateStacks,
} from '../helpers/terraform-offline';

/**
 * Fleets that are fleet.yaml but for their Kubernetes version (and certificate path): their stacks differ from
 * fleet.yaml's only in version strings, which the provider does not check offline. eks-support.test.ts asserts
 * that this is all that differs, so validating them again would only cost time.
 */
const SAME_AS_FLEET_YAML = new Set(['examples/migration-guide']);

/** fleet.yaml and examples/<name>/fleet.yaml, by a short label. */
function fleetFiles(): [string, string][] {
  const examples = path.join(PROJECT_ROOT, 'examples');
  const found = fs
    .readdirSync(examples, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(examples, d.name, 'fleet.yaml')))
    .map((d): [string, string] => [`examples/${d.name}`, path.join(examples, d.name, 'fleet.yaml')]);
  return [['fleet.yaml', DEFAULT_FLEET], ...found.sort()];
}

// Synthesized at collection time (about 1 s) so that every stack is its own test. The HCL checks compare each
// fleet's HCL with these stacks (the JSON output), migration-guide's too.
const allFleets = fleetFiles().map(([label, file]) => ({ label, stacks: synthFleetFile(file) }));
const fleets = allFleets.filter((f) => !SAME_AS_FLEET_YAML.has(f.label));
const cases = fleets.flatMap((f) => Object.entries(f.stacks).map(([name, stack]) => ({ id: `${f.label} ${name}`, fleet: f.label, name, stack })));

/**
 * Issue 29: a fleet with replica regions and a KMS key per replica region (an alias and a key ARN). Its builder stack
 * (the replication policy's KMS statements: ForAnyValue and Bool conditions) and its image-cache-<cache> stack (copies
 * with kms_key_id) are validated in the same batch as the fleets above (it was a suite of its own with its own init and
 * validate: issue 27 item 5).
 */
const kmsStacks = (() => {
  const f = validFleet();
  Object.assign(f.imageCaches.general, {
    replicaRegions: ['us-east-1', 'eu-west-1'],
    kmsKeyIds: { 'us-east-1': 'alias/cache', 'eu-west-1': `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-111122223333` },
  });
  return synthFleet(fleetFrom(f));
})();
const KMS_STACK_NAMES = ['image-cache-builder-us-west-2', 'image-cache-general'];
const kmsCases = KMS_STACK_NAMES.map((name) => ({ id: `kms ${name}`, stack: kmsStacks[name] }));

/**
 * The one aws provider process every validate and graph of this file attaches to (validate and graph never configure
 * a provider: provider-server.ts), started by the first describe that needs it and stopped after the last.
 */
let server: Promise<ProviderServer> | undefined;
const providerServer = () => (server ??= startProviderServer());
afterAll(async () => {
  await (await server?.catch(() => undefined))?.stop();
});

// Terraform is CPU-bound (the aws provider's schema) and the machines have 2 cores: at most 2 runs at a time, and
// `terraform init` one at a time (the shared plugin cache is not safe for concurrent installs).
const cpu = limiter(2);
const initLock = limiter(1);

/** Every stack of each fleet as `npm run synth:hcl` writes it (synthesized once, when the HCL checks are collected). */
let hclOutput: HclStack[] | undefined;
const hclStacks = () => (hclOutput ??= synthesizeHcl(fleetFiles(), (label) => allFleets.find((f) => f.label === label)!.stacks));
/** The HCL stacks whose providers are installable here (aws only); the others are the HCL checks' "elsewhere". */
const installableHcl = () => hclStacks().filter((s) => toOfflineHcl(s.hcl).providers.every((p) => p === 'aws'));
/** In the batch: a stack's HCL output, and the JSON output it is compared with (a validated case, or a copy for the graph only). */
const hclId = (s: HclStack) => `hcl ${s.id}`;
const jsonId = (s: HclStack) => (cases.some((c) => c.id === s.id) ? s.id : `json ${s.id}`);

interface Batch {
  /** Every stack of the batch by id: the cases, the KMS stacks, the mutations, `hcl <id>`, `json <id>`. */
  readonly results: Map<string, StackValidation>;
  /** `terraform graph` of the batch's root ('' when it failed, with `graphReport` saying why). */
  readonly graph: string;
  readonly graphReport: string;
}

/**
 * One root for both outputs (issue 27 item 5: it was three, each with its own init and Terraform processes): every
 * JSON stack of every fleet, the KMS stacks, the mutations Terraform finds while walking the configuration, and the
 * HCL of every installable stack (with a JSON copy of the stacks that are no validated case, for the graph). One init,
 * one validate, then one graph of the same root. A configuration error that stops Terraform before its walk would
 * leave every stack without errors unchecked: walkedAll() shows the walk reached the mutations.
 */
let batch: Promise<Batch> | undefined;
function validatedBatch(root: string, each: boolean): Promise<Batch> {
  return (batch ??= (async () => {
    const tools = realTools();
    const attached = (await providerServer()).env;
    const options = { terraform: tools.terraform, env: (dir: string) => terraformEnv(dir, RELAXED_GO_GC), cpu, initLock, validateEnv: attached };
    const hcl = installableHcl().flatMap((s) => [
      { id: hclId(s), stack: s.json, write: (dir: string) => writeOfflineHcl(s.hcl, dir) },
      ...(jsonId(s) === s.id ? [] : [{ id: jsonId(s), stack: s.json }]),
    ]);
    const walk = mutated(['provider', 'inputTypes', 'unknownOutput', 'manifestReference']);
    const results = await validateStacks([...cases, ...kmsCases, ...walk, ...hcl], root, { ...options, each });
    const env = options.env(root);
    if (each) await initLock(() => cpu(() => terraformInit(root, env, tools.terraform)));
    const graph = await cpu(() => runTerraform(['graph', '-no-color'], root, { ...env, ...attached }, tools.terraform));
    return { results, graph: graph.code === 0 ? graph.stdout : '', graphReport: graph.code === 0 ? '' : graph.stderr };
  })());
}

/**
 * Throws unless Terraform walked the batch: the mutation the provider rejects while walking has its error (a
 * configuration error anywhere stops Terraform before the walk, and every other stack would show no error).
 */
function walkedAll(results: Map<string, StackValidation>): void {
  const walked = results.get('provider')?.errors.some((d) => /got Strng/.test(`${d.summary} ${d.detail ?? ''}`));
  if (!walked) throw new Error(`Terraform stopped before walking the batch's configuration:\n${results.get('provider')?.report}`);
}

function firstOfType(stack: Record<string, any>, kind: 'resource' | 'data', type: string, where: (block: any) => boolean = () => true): [string, any] {
  const found = Object.entries<any>(stack[kind]?.[type] ?? {}).find(([, b]) => where(b));
  if (!found) throw new Error(`the stack has no ${type}`);
  return found;
}

function messages(errors: Diagnostic[]): string[] {
  return errors.map((d) => `${d.summary} | ${d.detail ?? ''}`);
}

interface Mutation {
  /** Which stack of fleet.yaml: matched against the stack name. */
  readonly base: RegExp;
  readonly mutate: (stack: Record<string, any>) => void;
}

/**
 * Each mutation breaks a valid stack of fleet.yaml in one phase of `terraform validate` (Terraform stops
 * at the first phase with errors, so mutations that share a run are of the same phase).
 */
const MUTATIONS = {
  // The aws provider's own validate-time checks: a ValidateFunc enum and the resource schema.
  provider: {
    base: /^image-cache-builder-/,
    mutate: (stack) => {
      // Two resources that do not depend on each other (Terraform skips what depends on an error).
      firstOfType(stack, 'resource', 'aws_ssm_parameter', (b) => b.type === 'String' && /aws_security_group\./.test(b.value))[1].type = 'Strng';
      const [, role] = firstOfType(stack, 'resource', 'aws_iam_role');
      role.maximum_session_duration = 3600; // the attribute is max_session_duration
    },
  },
  // Module inputs of the wrong type, and a node-group key the eks module does not read.
  inputTypes: {
    base: /-cluster$/,
    mutate: (stack) => {
      stack.module.eks.cluster_version = { major: 1, minor: 31 };
      stack.module.vpc.private_subnet_tags = ['karpenter.sh/discovery'];
      stack.module.eks.eks_managed_node_groups.system.ami_typ = 'BOTTLEROCKET_x86_64';
    },
  },
  unknownInput: {
    base: /-cluster$/,
    mutate: (stack) => {
      stack.module.eks.cluster_versoin = '1.31';
    },
  },
  unknownOutput: {
    base: /-cluster$/,
    mutate: (stack) => {
      stack.output.bad = { value: '${module.eks.no_such_output}' };
    },
  },
  // A manifest of a kubectl_manifest (a terraform_data stand-in here) that names a data source nobody declared.
  manifestReference: {
    base: /-karpenter$/,
    mutate: (stack) => {
      const [, manifest] = firstOfType(stack, 'resource', 'kubectl_manifest', (b) => /kind: EC2NodeClass/.test(b.yaml_body));
      manifest.yaml_body += '  # snapshot: ${data.aws_ssm_parameter.no_such_parameter.value}\n';
    },
  },
} satisfies Record<string, Mutation>;

/** Copies of fleet.yaml's stacks, each broken by one mutation, by the mutation's name. */
function mutated(names: (keyof typeof MUTATIONS)[]) {
  return names.map((name) => {
    const m: Mutation = MUTATIONS[name];
    const base = cases.find((c) => c.fleet === 'fleet.yaml' && m.base.test(c.name));
    if (!base) throw new Error(`fleet.yaml has no stack matching ${m.base}`);
    const stack = structuredClone(base.stack);
    m.mutate(stack);
    return { id: name, stack, base: base.id };
  });
}

/** Where the batch and the load-phase mutation are written (removed after the file's tests). */
const root = tempDir('terraform-validate-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
// BRF_TERRAFORM_VALIDATE_EACH=1: one init + validate per stack instead of one batch (slower, same verdict).
const each = process.env.BRF_TERRAFORM_VALIDATE_EACH === '1';

describeWithRealTools('terraform validate (real aws provider, stub modules, offline)', () => {
  const started = Date.now();
  let stacks: Promise<Map<string, StackValidation>>;
  let mutations: Promise<Map<string, StackValidation>>;
  let stacksSeconds = 0;

  beforeAll(async () => {
    // Every validate attaches to one aws provider process (validate never configures a provider: provider-server.ts).
    const attached = {
      terraform: realTools().terraform,
      env: (dir: string) => terraformEnv(dir, RELAXED_GO_GC),
      cpu,
      initLock,
      validateEnv: (await providerServer()).env,
    };
    // One batch holds every stack of every fleet, the HCL output's stacks and the mutations Terraform finds while
    // walking the configuration (validatedBatch): the aws provider's schema is loaded once (about 4 CPU-seconds a
    // run), and each diagnostic is attributed to its stack by file name (an unattributed one counts against all).
    // The unknown module argument is found while loading the configuration, where Terraform stops for
    // the whole batch, so it runs on its own.
    const all = validatedBatch(path.join(root, 'stacks'), each).then(({ results }) => {
      stacksSeconds = (Date.now() - started) / 1000;
      return results;
    });
    stacks = all;
    for (const d of ['load']) fs.mkdirSync(path.join(root, d));
    mutations = Promise.all([all, validateStacks(mutated(['unknownInput']), path.join(root, 'load'), attached)]).then(
      (maps) => new Map(maps.flatMap((m) => [...m])),
    );
    // Failures are reported by the tests that await these.
    stacks.catch(() => undefined);
    mutations.catch(() => undefined);
  }, 120_000);

  afterAll(async () => {
    const results = await stacks.catch(() => undefined);
    await mutations.catch(() => undefined);
    const valid = cases.filter((c) => results?.get(c.id)?.valid);
    for (const c of valid) recordRealToolRun('validated', c.id);
    const line = `terraform: ${valid.length} stacks validated`;
    const mode = results && [...results.values()].some((r) => r.mode === 'each') ? 'each on its own' : 'in one batch';
    console.log(`${line} (of ${cases.length}, ${mode}, ${stacksSeconds.toFixed(1)} s; with the mutation runs ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });

  test('covers fleet.yaml and every fleet under examples/', () => {
    expect(fleets.map((f) => f.label)).toEqual(expect.arrayContaining(['fleet.yaml', 'examples/multi-region']));
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  test.each(cases.map((c) => [c.id, c] as const))(
    '%s is valid',
    async (_id, c) => {
      const results = await stacks;
      walkedAll(results);
      const r = results.get(c.id)!;
      if (!r.valid) throw new Error(`terraform validate rejected ${c.id}:\n${r.report}`);
    },
    180_000,
  );

  describe('replica regions with KMS keys', () => {
    test('the builder stack and the replication stack are valid Terraform', async () => {
      const policy = JSON.stringify(kmsStacks['image-cache-builder-us-west-2'].data.aws_iam_policy_document);
      expect(policy).toContain('kms:ResourceAliases');
      const results = await stacks;
      for (const name of KMS_STACK_NAMES) {
        const r = results.get(`kms ${name}`)!;
        expect({ name, valid: r.valid, errors: r.errors }).toEqual({ name, valid: true, errors: [] });
        recordRealToolRun('validated', `kms ${name}`);
      }
    }, 300_000);
  });

  describe('Terraform itself rejects a broken stack', () => {
    /** The errors of a mutated stack; its unmutated stack must be valid, so every error is the mutation's. */
    const errorsOf = async (name: keyof typeof MUTATIONS) => {
      const base = cases.find((c) => c.fleet === 'fleet.yaml' && MUTATIONS[name].base.test(c.name))!;
      const baseResult = (await stacks).get(base.id)!;
      if (!baseResult.valid) throw new Error(`the unmutated ${base.id} must be valid first:\n${baseResult.report}`);
      const r = (await mutations).get(name)!;
      expect(r.valid).toBe(false);
      return messages(r.errors);
    };

    test('an aws attribute value the provider rejects, and an attribute its schema lacks', async () => {
      const errors = await errorsOf('provider');
      expect(errors).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/expected type to be one of \["String" "StringList" "SecureString"\], got Strng/),
          expect.stringMatching(/named "maximum_session_duration"/),
        ]),
      );
      expect(errors).toHaveLength(2);
    }, 180_000);

    test('a module input of the wrong type, and a node-group key the eks module does not read', async () => {
      const errors = await errorsOf('inputTypes');
      expect(errors).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/Invalid value for input variable \|.*module\.eks\.var\.cluster_version[\s\S]*string required/),
          expect.stringMatching(/Invalid value for input variable \|.*module\.vpc\.var\.private_subnet_tags[\s\S]*map of string required/),
          expect.stringMatching(/Invalid value for variable \|.*eks_managed_node_groups entry must be one that the eks module's node_groups\.tf reads/),
        ]),
      );
      expect(errors).toHaveLength(3);
    }, 180_000);

    test('a module input name the module does not have', async () => {
      expect(await errorsOf('unknownInput')).toEqual([expect.stringMatching(/named "cluster_versoin"/)]);
    }, 180_000);

    test('a reference to a module output the module does not have', async () => {
      expect(await errorsOf('unknownOutput')).toEqual([expect.stringMatching(/^Unsupported attribute \|.*"no_such_output"/)]);
    }, 180_000);

    test('a kubectl manifest that references a data source nobody declared (the stand-in carries its expressions)', async () => {
      expect(await errorsOf('manifestReference')).toEqual([
        expect.stringMatching(/^Reference to undeclared resource \|.*data resource "aws_ssm_parameter" "no_such_parameter"/),
      ]);
    }, 180_000);
  });
});

describeWithRealTools('HCL output (npm run synth:hcl) through the real Terraform', () => {
  const stacks = hclStacks();
  const installable = installableHcl();
  const elsewhere = stacks.filter((s) => !installable.includes(s));
  const tools = realTools();
  const hclRoot = tempDir('hcl-terraform-');
  let batches: Promise<{ validated: Batch; elsewhere: Map<string, Diagnostic[]> }> | undefined;

  /** `terraform init -json`'s errors in a directory. */
  async function initErrors(dir: string): Promise<Diagnostic[]> {
    const init = await initLock(() =>
      cpu(() => runTerraform(['init', '-backend=false', '-input=false', '-no-color', '-json'], dir, terraformEnv(dir, RELAXED_GO_GC), tools.terraform)),
    );
    return initDiagnostics(init.stdout).filter((d) => d.severity === 'error');
  }

  /**
   * The init errors of each helm/kubectl stack. One init reads all of them, as child modules of one root; its
   * provider install errors count for every stack. A configuration error stops that init before it installs
   * anything, so then every stack gets an init of its own, as a user would run it, and its own errors.
   */
  async function initElsewhere(): Promise<Map<string, Diagnostic[]>> {
    const batch = await initErrors(path.join(hclRoot, 'elsewhere'));
    if (batch.every((d) => PROVIDER_INSTALL_ERRORS.test(d.summary))) return new Map(elsewhere.map((s) => [s.id, batch]));
    const each = elsewhere.map(async (s): Promise<[string, Diagnostic[]]> => {
      const dir = path.join(hclRoot, 'each', stackDirName(s.id));
      writeOfflineHcl(s.hcl, dir);
      return [s.id, await initErrors(dir)];
    });
    return new Map(await Promise.all(each));
  }

  beforeAll(() => {
    writeBatch(
      path.join(hclRoot, 'elsewhere'),
      elsewhere.map((s) => ({ id: s.id, write: (dir: string) => writeOfflineHcl(s.hcl, dir) })),
    );
    // The installable stacks' HCL is validated and graphed in the one batch of this file (validatedBatch).
    batches = Promise.all([validatedBatch(path.join(root, 'stacks'), each), initElsewhere()]).then(([validated, elsewhere]) => ({ validated, elsewhere }));
    batches.catch(() => undefined);
  });

  afterAll(async () => {
    await batches?.catch(() => undefined);
    fs.rmSync(hclRoot, { recursive: true, force: true });
  });

  test('covers fleet.yaml and every example, with stacks of both kinds', () => {
    expect(new Set(stacks.map((s) => s.id.split(' ')[0]))).toEqual(new Set(fleetFiles().map(([label]) => label)));
    expect(installable.length).toBeGreaterThan(0);
    expect(elsewhere.length).toBeGreaterThan(0);
  });

  describe('terraform fmt -check (one run over every stack)', () => {
    let fmt: ReturnType<typeof fmtCheck>;
    beforeAll(() => {
      fmt = fmtCheck(
        stacks.map((s) => s.dir),
        tools.terraform!,
      );
    });

    test.each(stacks.map((s) => [s.id, s] as const))('%s: terraform fmt -check', (_, s) => {
      expect(fmt(s.dir)).toEqual({ status: 0, diff: '' });
    });
  });

  test.each(installable.map((s) => [s.id, s] as const))(
    '%s: terraform init and validate accept it, without a warning',
    async (_, s) => {
      const { results } = (await batches!).validated;
      walkedAll(results);
      // Its own diagnostics, and any that names no file or is an error outside every stack's files (validateStacks).
      const mine = results.get(hclId(s))!;
      if (!mine.valid && mine.diagnostics.length === 0) throw new Error(mine.report); // init failed
      expect(formatDiagnostics(mine.diagnostics)).toBe('');
      recordRealToolRun('validated', `${s.id} (HCL)`);
    },
    300_000,
  );

  test.each(installable.map((s) => [s.id, s] as const))(
    '%s: the same terraform graph as the JSON output',
    async (_, s) => {
      const { graph, graphReport } = (await batches!).validated;
      if (graphReport) throw new Error(graphReport);
      const fromHcl = graphOf(graph, hclId(s));
      expect(fromHcl.nodes.length).toBeGreaterThan(0);
      expect(fromHcl).toEqual(graphOf(graph, jsonId(s)));
    },
    300_000,
  );

  test.each(elsewhere.map((s) => [s.id, s] as const))(
    '%s: terraform init reads all of it; only the providers missing here fail to install',
    async (_, s) => {
      const errors = (await batches!).elsewhere.get(s.id)!;
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.map((d) => d.summary).filter((e) => !PROVIDER_INSTALL_ERRORS.test(e))).toEqual([]);
      // The install errors name every provider this stack needs that is missing here (in one init with the other
      // stacks, that is what shows this stack's configuration was read through to the install).
      const missing = toOfflineHcl(s.hcl).providers.filter((p) => !OFFLINE_PROVIDERS.includes(p));
      expect(missing.filter((p) => !errors.some((d) => new RegExp(`provider [\\w.-]+/${p}:`).test(d.detail ?? '')))).toEqual([]);
    },
    300_000,
  );
});

// The transform itself (no Terraform needed).
describe('offline configuration of a stack', () => {
  const karpenter = cases.find((c) => c.fleet === 'fleet.yaml' && /-karpenter$/.test(c.name))!.stack;
  const cluster = cases.find((c) => c.fleet === 'fleet.yaml' && /-cluster$/.test(c.name))!.stack;

  test('helm and kubectl become terraform_data stand-ins that carry every attribute; the aws provider stays exactly', () => {
    const { config, standIns } = toOfflineConfig(karpenter);
    const text = JSON.stringify(config);
    expect(text).not.toMatch(/helm_release\.|kubectl_manifest\.|"kubectl"|"helm"/);
    expect(Object.keys(config.resource)).not.toEqual(expect.arrayContaining(['helm_release', 'kubectl_manifest']));
    expect(Object.keys(config.provider)).toEqual(['aws']);
    expect(config.provider.aws).toEqual(karpenter.provider.aws);
    expect(Object.keys(config.terraform.required_providers)).toEqual(['aws']);
    expect(config.terraform.backend).toBeUndefined();

    const [crdName, crd] = firstOfType(karpenter, 'resource', 'helm_release', (b) => b.chart === 'karpenter-crd');
    const [controllerName, controller] = firstOfType(karpenter, 'resource', 'helm_release', (b) => b.chart === 'karpenter');
    const crdStandIn = standIns[`helm_release.${crdName}`];
    const controllerStandIn = config.resource.terraform_data[standIns[`helm_release.${controllerName}`].replace('terraform_data.', '')];
    // Every attribute, expressions included, in input; depends_on points at the stand-in.
    const { depends_on: _d, provider: _p, ...attributes } = controller;
    expect(controllerStandIn.input).toEqual(attributes);
    expect(controllerStandIn.input.values.join()).toMatch(/\$\{module\.karpenter\.queue_name\}/);
    expect(controllerStandIn.depends_on).toEqual([crdStandIn, 'module.karpenter']);
    expect(crd.depends_on).toEqual(['module.karpenter']);
    // The provider configurations' expressions are checked too.
    expect(config.resource.terraform_data.provider__kubectl.input.host).toBe(karpenter.provider.kubectl[0].host);
    for (const [, manifest] of Object.entries<any>(config.resource.terraform_data).filter(([k]) => k.startsWith('kubectl_manifest__'))) {
      expect(manifest.depends_on.every((d: string) => d.startsWith('terraform_data.'))).toBe(true);
    }
  });

  test('registry modules call stubs generated from contracts/, without version', () => {
    const { config, stubs } = toOfflineConfig(cluster);
    expect(config.module.eks.source).toBe('./stubs/eks-aws');
    expect(config.module.vpc.source).toBe('./stubs/vpc-aws');
    expect(config.module.eks.version).toBeUndefined();
    const eksStub = stubs['eks-aws'] as any;
    const iface = moduleInterfaces()['terraform-aws-modules/eks/aws'];
    expect(Object.keys(eksStub.variable).sort()).toEqual(Object.keys(iface.variables).sort());
    expect(Object.keys(eksStub.output).sort()).toEqual([...iface.outputs].sort());
    expect(eksStub.variable.cluster_version).toEqual({ type: 'string', default: null });
    expect(eksStub.terraform.required_providers).toEqual({ aws: { source: 'hashicorp/aws', version: '>= 5.95, < 6.0.0' } });
    // Object types get the commas HCL needs (the interface file writes them without).
    const vpcStub = stubs['vpc-aws'] as any;
    expect(vpcStub.variable.flow_log_cloudwatch_iam_role_conditions.type).toBe('list(object({test = string, variable = string, values = list(string)}))');
    expect(toOfflineConfig(karpenter).config.module.karpenter.source).toBe('./stubs/eks-aws-karpenter');
  });

  test('a module call whose version the contract does not satisfy, or with no contract, is refused', () => {
    const wrongMajor = structuredClone(cluster);
    wrongMajor.module.eks.version = '~> 21.0';
    expect(() => toOfflineConfig(wrongMajor)).toThrow(/v20\.37\.2, which does not satisfy the call's version "~> 21\.0"/);
    const unknown = structuredClone(cluster);
    unknown.module.extra = { source: 'terraform-aws-modules/iam/aws', version: '~> 5.0' };
    expect(() => toOfflineConfig(unknown)).toThrow(/no interface in contracts\/ for source "terraform-aws-modules\/iam\/aws"/);
  });

  test('Terraform version constraints', () => {
    expect(satisfiesTfConstraint('v20.37.2', '~> 20.0')).toBe(true);
    expect(satisfiesTfConstraint('v21.0.0', '~> 20.0')).toBe(false);
    expect(satisfiesTfConstraint('v5.21.0', '~> 5.21')).toBe(true);
    expect(satisfiesTfConstraint('v5.22.1', '~> 5.21.0')).toBe(false);
    expect(satisfiesTfConstraint('5.100.0', '>= 5.95, < 6.0.0')).toBe(true);
    expect(satisfiesTfConstraint('6.0.0', '>= 5.95, < 6.0.0')).toBe(false);
  });

  test('only template sequences are rewritten, escapes stay literal', () => {
    const upper = (s: string) => mapTemplateSequences(s, (e) => e.toUpperCase());
    expect(upper('a ${b.c} $${d} %{ if e }f%{ endif } ${g("}")}')).toBe('a ${B.C} $${d} %{ IF E }f%{ ENDIF } ${G("}")}');
  });
});

// What the validate runs attach to (helpers/provider-server.ts), without starting it.
describe('the attached provider process', () => {
  const printed = (value: string) =>
    `Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='${value}'\n`;
  const aws = (extra: object) =>
    JSON.stringify({
      'registry.terraform.io/hashicorp/aws': { Protocol: 'grpc', ProtocolVersion: 5, Pid: 4242, Addr: { Network: 'unix', String: '/tmp/plugin1' }, ...extra },
    });

  test('the reattach value is read from what the provider prints in debug mode, once it is there', () => {
    expect(reattachValue('Starting github.com/hashicorp/terraform-provider-aws@5.100.0 (go1.23.10)...\n')).toBeUndefined();
    expect(reattachValue(printed(aws({ Test: true })))).toBe(aws({ Test: true }));
  });

  test('a reattach value without "Test": true is refused (Terraform would stop the process when it closes its first instance)', () => {
    expect(() => reattachValue(printed(aws({})))).toThrow(/lacks "Test": true/);
    expect(() => reattachValue(printed(aws({ Test: false })))).toThrow(/lacks "Test": true/);
  });
});
