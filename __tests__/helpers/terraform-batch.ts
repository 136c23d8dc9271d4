/**
 * Several Terraform configurations ("cases") as child modules of one root, planned or applied against the
 * emulator with one `terraform init` and as few Terraform processes as the scenario's order allows (issue 27
 * item 5). Most of a plan is fixed cost: Terraform decoding the aws provider's schema once per process (about
 * 2 CPU-seconds here), and one provider process per provider configuration in each of its graph walks
 * (validate, plan, and for apply the apply walk; `InitProvider` calls `NewProviderInstance` per
 * `AbsProviderConfig`, internal/terraform/eval_context_builtin.go at v1.11.4; seen in TF_LOG=debug as one
 * "starting plugin" per configuration and walk), against a fraction of a second per extra case. The one helper
 * the real-tool suites use for that (snapshot-provenance, cluster-names, pipeline, upgrade-command).
 *
 * A case is a directory `<root>/<case>` and the module `module.<case>`: a stack's offline directory
 * (addStack: writeForPlanning; a cdktf stack works as a child module once its backend is gone, which the
 * offline form drops) or any configuration with its module inputs (addConfig).
 *
 * Provider blocks are shared (terraform-providers.ts): each case's aws provider blocks move to the root, one
 * root block per distinct configuration (same region, default tags, assume_role: identical text), handed to the
 * case by its module call's `providers` (the case declares the aliases it used as `configuration_aliases`). A
 * case's resources get a provider configured exactly as its own block was; cases configured alike share one
 * provider process per walk.
 *
 * Every result is per case, so a case that stops failing (or starts failing) is seen even when another case of
 * the same plan fails:
 * - Terraform renders (and with -out saves) the plan of a run that has errors ("we always want to try to present
 *   a partial plan report", internal/backend/local/backend_plan.go at v1.11.4), so each case's changes are read
 *   from `planned_change` messages by the `module.<case>.` prefix of their address;
 * - a diagnostic belongs to a case by its address (`module.<case>.`) or its range's file (`<case>/...`:
 *   Terraform 1.11's JSON diagnostic of a failed postcondition carries a range, not an address); an error that
 *   names no case is the run's `unattributed`, and no case counts as clean while there is one.
 * An error found in Terraform's validate walk stops a plan before any case is planned: such a case must reach
 * its values as module inputs (see module-resource-names.ts, namedResourcesModule), which are unknown during
 * validation, so the provider judges them in the plan walk.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Diagnostic, formatDiagnostics, runTerraform, terraformInit } from './terraform-offline';
import { changesUnder, OfflineStack, PlannedValue, planErrors, planMessages, showPlan, valuesUnder, writeForPlanning } from './terraform-plan';
import { SharedProviders } from './terraform-providers';

export interface CaseResult {
  /** Case-relative address (as plannedChanges gives it) -> actions: "create", "update", "delete,create", ... */
  readonly changes: Record<string, string>;
  /** The case's own error diagnostics (in its files, or naming its module's address). */
  readonly errors: Diagnostic[];
  /** Its errors and the run's unattributed ones as Terraform prints them (summary, file, detail): '' when there are none. */
  readonly report: string;
  /** With plan's `values`: case-relative address -> actions and planned values (`terraform show -json`). */
  readonly values?: Record<string, PlannedValue>;
  /** With plan's `values`: the case's outputs named in addStack, as planned. */
  readonly outputs?: Record<string, unknown>;
}

export interface BatchRun {
  /** Terraform's exit code (0: every case planned). */
  readonly code: number | null;
  /** One result per case of the run. */
  readonly cases: Record<string, CaseResult>;
  /** Errors of no case (the root, a shared provider): while there is one, no case can be vouched for. */
  readonly unattributed: Diagnostic[];
  /** Every error of the run and Terraform's stderr, for a failure message. */
  readonly report: string;
}

export interface PlanOptions {
  /** The cases to plan. @default every case */
  readonly only?: string[];
  /** Also save the plan and read each case's planned values and outputs (one `terraform show -json` more). @default false */
  readonly values?: boolean;
}

interface Case {
  /** The module call's arguments besides `source` and `providers`: the case's inputs. */
  readonly inputs: Record<string, unknown>;
  /** The module call's `providers`: the case's provider (or alias) -> the root's shared configuration. */
  readonly providers: Record<string, string>;
  /** Outputs of the case that the root passes on (read with plan's `values`). */
  readonly outputs: string[];
}

/** A Terraform identifier (letters, digits, _ and -, not starting with a digit): a case is a module name and a folder. */
const CASE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export class TerraformBatch {
  private readonly cases: Record<string, Case> = {};
  private readonly providers = new SharedProviders();

  constructor(
    readonly root: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    fs.mkdirSync(root, { recursive: true });
  }

  /**
   * A synthesized stack as case `name`, ready to plan against the emulator (stub outputs known, see writeForPlanning).
   * `outputs`: values to read back from a plan with `values` (name -> expression, evaluated inside the stack, e.g.
   * a module call's own arguments, which a root cannot read), added to the stack as outputs.
   */
  addStack(name: string, stack: Record<string, any>, options: { outputs?: Record<string, unknown> } = {}): OfflineStack {
    const outputs = Object.entries(options.outputs ?? {});
    const withOutputs =
      outputs.length === 0 ? stack : { ...stack, output: { ...stack.output, ...Object.fromEntries(outputs.map(([o, value]) => [o, { value }])) } };
    const offline = writeForPlanning(withOutputs, this.dirOf(name));
    this.addCase(name, offline.config, {}, Object.keys(options.outputs ?? {}));
    return offline;
  }

  /** A configuration (Terraform JSON) as case `name`; `inputs` are its module arguments (its variables' values). */
  addConfig(name: string, config: Record<string, any>, inputs: Record<string, unknown> = {}): void {
    this.dirOf(name);
    this.addCase(name, structuredClone(config), inputs, []);
  }

  /** The root (every case a module) and its one `terraform init`: '' when it succeeded, else what init printed. */
  async init(): Promise<string> {
    this.writeRoot(Object.keys(this.cases));
    return (await terraformInit(this.root, this.env)).report;
  }

  /**
   * `terraform plan -json` of the cases named, or of every case. Never throws on a failed plan: read the cases.
   * Before anything is applied, the root is written with only those cases, on the one init (its module manifest
   * lists them all, which Terraform accepts): a `-target` would still validate every case, a provider process per
   * provider configuration each. Once the root has state, the other cases stay in it and `-target` names these
   * (see select).
   */
  async plan(options: PlanOptions = {}): Promise<BatchRun> {
    const names = options.only ?? Object.keys(this.cases);
    const out = options.values ? ['-out=tfplan'] : [];
    fs.rmSync(path.join(this.root, 'tfplan'), { force: true });
    const run = await runTerraform(['plan', '-input=false', '-no-color', '-json', ...out, ...this.select(names)], this.root, this.env);
    const messages = planMessages(run, this.root);
    const errors = planErrors(messages);
    const unattributed = errors.filter((d) => !Object.keys(this.cases).some((name) => belongsTo(d, name)));
    // -json and -out go together (internal/command/arguments/plan.go, v1.11.4). An errored plan is saved too
    // (backend_plan.go, above), unless Terraform stopped before it had one.
    const shown = options.values && fs.existsSync(path.join(this.root, 'tfplan')) ? await showPlan(this.root, this.env) : undefined;
    const result = (name: string): CaseResult => {
      const mine = errors.filter((d) => belongsTo(d, name));
      return {
        changes: changesUnder(messages, `module.${name}.`),
        errors: mine,
        report: formatDiagnostics([...mine, ...unattributed]),
        ...(shown ? { values: valuesUnder(shown, `module.${name}.`), outputs: this.outputsOf(name, shown) } : {}),
      };
    };
    const cases = Object.fromEntries(names.map((name) => [name, result(name)]));
    return { code: run.code, cases, unattributed, report: `${formatDiagnostics(errors)}\n${run.stderr}` };
  }

  /** A case's changes, or an Error with Terraform's diagnostics when it (or the run, unattributed) has errors. */
  static changesOf(run: BatchRun, name: string): Record<string, string> {
    const result = run.cases[name];
    if (result.errors.length > 0 || run.unattributed.length > 0) throw new Error(`terraform plan failed for module.${name}:\n${result.report}`);
    return result.changes;
  }

  /**
   * `terraform apply` of the cases named: the others are neither planned nor changed (as for plan). With `inOrder`,
   * each case waits for the one before it in `only` (its module call's `depends_on`, in this run only), as cdktf
   * deploys a stack after the stacks it depends on: one apply where the second case reads (a data source) what the
   * first writes. A module's `depends_on` holds back its data sources to the apply walk while what it depends on has
   * changes pending (`dependenciesHavePendingChanges`, internal/terraform/node_resource_abstract_instance.go at
   * v1.11.4). A later plan or apply is written without it, so no pending change defers another case's reads there.
   */
  async apply(only: string[], options: { readonly inOrder?: boolean } = {}): Promise<void> {
    const after = options.inOrder ? Object.fromEntries(only.slice(1).map((name, i) => [name, only[i]])) : {};
    const r = await runTerraform(['apply', '-auto-approve', '-input=false', '-no-color', ...this.select(only, after)], this.root, this.env);
    if (r.code !== 0) throw new Error(`terraform apply of ${only.join(', ')} failed in ${this.root}:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  }

  /** Registers a case: its aws provider blocks go to the root's shared ones, and its configuration is written. */
  private addCase(name: string, config: Record<string, any>, inputs: Record<string, unknown>, outputs: string[]): void {
    const providers = this.providers.take(config, name);
    fs.writeFileSync(path.join(this.root, name, 'main.tf.json'), JSON.stringify(config, null, 2));
    this.cases[name] = { inputs, providers, outputs };
  }

  /** The root with the cases `names`: their module calls, the shared provider blocks they use, the outputs it passes on. */
  private writeRoot(names: string[], after: Record<string, string> = {}): void {
    const module = Object.fromEntries(
      names.map((name) => {
        const { inputs, providers } = this.cases[name];
        const dependsOn = Object.hasOwn(after, name) ? { depends_on: [`module.${after[name]}`] } : {};
        return [name, { source: `./${name}`, ...(Object.keys(providers).length > 0 ? { providers } : {}), ...dependsOn, ...inputs }];
      }),
    );
    const output = Object.fromEntries(
      names.flatMap((name) => this.cases[name].outputs.map((o) => [rootOutput(name, o), { value: `\${module.${name}.${o}}` }])),
    );
    const root = {
      ...this.providers.rootBlocks(names.flatMap((name) => Object.values(this.cases[name].providers))),
      module,
      ...(Object.keys(output).length > 0 ? { output } : {}),
    };
    fs.writeFileSync(path.join(this.root, 'main.tf.json'), JSON.stringify(root, null, 2));
  }

  /** A case's passed-on outputs in a shown plan (planned_values.outputs holds the root's only). */
  private outputsOf(name: string, shown: Record<string, any>): Record<string, unknown> {
    const planned = shown.planned_values?.outputs ?? {};
    return Object.fromEntries(this.cases[name].outputs.map((o) => [o, planned[rootOutput(name, o)]?.value]));
  }

  /**
   * Writes the root for a run of `names` and returns the -target options it needs: none while nothing is applied (the
   * root holds only those cases), else every case stays in the root (its resources are in the state) and -target
   * names these, unless they are all. `after`: case -> the case its module call depends on in this run.
   */
  private select(names: string[], after: Record<string, string> = {}): string[] {
    for (const name of names) if (!Object.hasOwn(this.cases, name)) throw new Error(`no case ${name} in ${this.root}`);
    const all = Object.keys(this.cases);
    if (!fs.existsSync(path.join(this.root, 'terraform.tfstate'))) {
      this.writeRoot(names, after);
      return [];
    }
    this.writeRoot(all, after);
    return names.length === all.length ? [] : names.map((name) => `-target=module.${name}`);
  }

  private dirOf(name: string): string {
    if (!CASE_NAME.test(name)) throw new Error(`case name "${name}": letters, digits, _ and -, not starting with a digit (it is a module name and a folder)`);
    if (Object.hasOwn(this.cases, name)) throw new Error(`case ${name} is already in ${this.root}`);
    const dir = path.join(this.root, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
}

/** The root output that passes on output `output` of case `name`. */
const rootOutput = (name: string, output: string) => `${name}__${output}`;

/** Whether a diagnostic is about case `name`: by its address, else by the file its range points into. */
function belongsTo(d: Diagnostic, name: string): boolean {
  if (d.address) return d.address.startsWith(`module.${name}.`) || d.address.startsWith(`module.${name}[`);
  return d.range?.filename.startsWith(`${name}/`) ?? false;
}
