/**
 * Several Terraform configurations ("cases") as child modules of one root, planned or applied against the
 * emulator with one `terraform init` and as few Terraform processes as the scenario's order allows (issue 27
 * item 5). Most of a plan is fixed cost: Terraform decoding the aws provider's schema and the provider's
 * processes (about 2 CPU-seconds per run on the team's 2-core machine), against a fraction of a second per
 * extra case.
 *
 * A case is a directory `<root>/<case>` and the module `module.<case>`: a stack's offline directory
 * (writeForPlanning; a cdktf stack works as a child module once its backend is gone, which the offline
 * form drops) or any configuration. Child modules may configure their own providers, so each stack keeps
 * its own aws provider blocks (region, default tags, aliases); Terraform starts one provider process per
 * provider configuration in each walk (validate, plan, apply), which is why cases that would configure it
 * alike can share the root's (addConfig's `shareProvider`).
 *
 * Every result is per case, so a case that stops failing (or starts failing) is seen even when another
 * case of the same plan fails:
 * - Terraform renders the planned changes of a plan that has errors ("we always want to try to present a
 *   partial plan report", internal/backend/local/backend_plan.go at v1.11.4), so each case's changes are
 *   read from `planned_change` messages by the `module.<case>.` prefix of their address;
 * - a diagnostic belongs to a case by its address (`module.<case>.`) or its range's file (`<case>/...`);
 *   an error that names neither counts against every case of the run.
 * An error found in Terraform's validate walk stops a plan before any case is planned: such a case must
 * reach its values as module inputs (see module-resource-names.ts, namedResourcesModule), which are
 * unknown during validation, so the provider judges them in the plan walk.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Diagnostic, formatDiagnostics, runTerraform, terraformInit } from './terraform-offline';
import { OfflineStack, writeForPlanning } from './terraform-plan';

export interface CaseResult {
  /** Stack-relative address (as plannedChanges gives it) -> actions: "create", "update", "delete,create", ... */
  readonly changes: Record<string, string>;
  /** The case's error diagnostics, and those of the run that name no case. */
  readonly errors: Diagnostic[];
  /** Those errors as Terraform prints them (summary, file, detail): '' when there are none. */
  readonly report: string;
}

export interface BatchRun {
  readonly code: number | null;
  /** One result per case of the run. */
  readonly cases: Record<string, CaseResult>;
}

const ACTIONS: Partial<Record<string, string>> = { create: 'create', update: 'update', delete: 'delete', replace: 'delete,create', move: 'move' };

interface Case {
  /** The module call's arguments besides `source`: the case's inputs. */
  readonly inputs: Record<string, unknown>;
  /** Whether the case uses the root's provider configuration (addConfig's `shareProvider`) instead of its own. */
  readonly sharesProvider: boolean;
}

export class TerraformBatch {
  private readonly cases: Record<string, Case> = {};
  /** The provider blocks (and their required_providers) of the cases that share them. */
  private shared?: { provider: unknown; terraform: unknown };

  constructor(
    readonly root: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    fs.mkdirSync(root, { recursive: true });
  }

  /** A synthesized stack as case `name`, ready to plan against the emulator (stub outputs known, see writeForPlanning). */
  addStack(name: string, stack: Record<string, any>): OfflineStack {
    const offline = writeForPlanning(stack, this.dirOf(name));
    this.cases[name] = { inputs: {}, sharesProvider: false };
    return offline;
  }

  /**
   * A configuration (Terraform JSON) as case `name`; `inputs` are its module arguments (its variables' values).
   * `shareProvider`: its provider blocks move to the root, where every case added so gets the same ones (they must
   * be equal): each provider configuration is a provider process of its own in each walk of a run (a few tenths of
   * a CPU-second each here), so cases that would configure the provider alike share one.
   */
  addConfig(name: string, config: Record<string, any>, inputs: Record<string, unknown> = {}, options: { shareProvider?: boolean } = {}): void {
    const { provider, ...rest } = config;
    const sharesProvider = options.shareProvider === true && provider !== undefined;
    if (sharesProvider) {
      const shared = { provider, terraform: config.terraform };
      if (this.shared && JSON.stringify(this.shared) !== JSON.stringify(shared))
        throw new Error(`case ${name}: its provider blocks differ from those the other cases share`);
      this.shared = shared;
    }
    fs.writeFileSync(path.join(this.dirOf(name), 'main.tf.json'), JSON.stringify(sharesProvider ? rest : config, null, 2));
    this.cases[name] = { inputs, sharesProvider };
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
  async plan(only?: string[]): Promise<BatchRun> {
    const names = only ?? Object.keys(this.cases);
    const run = await runTerraform(['plan', '-input=false', '-no-color', '-json', ...this.select(names)], this.root, this.env);
    const messages = planMessages(run, this.root);
    const errors = messages.filter((m) => m.type === 'diagnostic' && m.diagnostic.severity === 'error').map((m) => m.diagnostic as Diagnostic);
    const unattributed = errors.filter((d) => !Object.keys(this.cases).some((name) => belongsTo(d, name)));
    const changes = messages.filter((m) => m.type === 'planned_change' && m.change.action !== 'noop' && m.change.action !== 'read');
    const cases = Object.fromEntries(
      names.map((name): [string, CaseResult] => {
        const prefix = `module.${name}.`;
        const mine = [...errors.filter((d) => belongsTo(d, name)), ...unattributed];
        return [
          name,
          {
            changes: Object.fromEntries(
              changes
                .filter((m) => String(m.change.resource.addr).startsWith(prefix))
                .map((m) => [String(m.change.resource.addr).slice(prefix.length), ACTIONS[m.change.action] ?? m.change.action]),
            ),
            errors: mine,
            report: formatDiagnostics(mine),
          },
        ];
      }),
    );
    return { code: run.code, cases };
  }

  /** What plannedChanges gives for a case: its changes, or an Error with Terraform's diagnostics when it has any. */
  static changesOf(run: BatchRun, name: string): Record<string, string> {
    const result = run.cases[name];
    if (result.errors.length > 0) throw new Error(`terraform plan failed for module.${name}:\n${result.report}`);
    return result.changes;
  }

  /** `terraform apply` of the cases named: the others are neither planned nor changed (as for plan). */
  async apply(only: string[]): Promise<void> {
    const r = await runTerraform(['apply', '-auto-approve', '-input=false', '-no-color', ...this.select(only)], this.root, this.env);
    if (r.code !== 0) throw new Error(`terraform apply of ${only.join(', ')} failed in ${this.root}:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  }

  private writeRoot(names: string[]): void {
    const module = Object.fromEntries(names.map((name) => [name, { source: `./${name}`, ...this.cases[name].inputs }]));
    const shared = this.shared && names.some((name) => this.cases[name].sharesProvider) ? this.shared : {};
    fs.writeFileSync(path.join(this.root, 'main.tf.json'), JSON.stringify({ ...shared, module }, null, 2));
  }

  /**
   * Writes the root for a run of `names` and returns the -target options it needs: none while nothing is applied (the
   * root holds only those cases), else every case stays in the root (its resources are in the state) and -target
   * names these, unless they are all.
   */
  private select(names: string[]): string[] {
    for (const name of names) if (!Object.hasOwn(this.cases, name)) throw new Error(`no case ${name} in ${this.root}`);
    const all = Object.keys(this.cases);
    if (!fs.existsSync(path.join(this.root, 'terraform.tfstate'))) {
      this.writeRoot(names);
      return [];
    }
    this.writeRoot(all);
    return names.length === all.length ? [] : names.map((name) => `-target=module.${name}`);
  }

  private dirOf(name: string): string {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`case name "${name}": lower case, digits and _ (it is a module name and a folder)`);
    const dir = path.join(this.root, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
}

/** The JSON lines of `terraform plan -json`; an Error with Terraform's output when it printed something else. */
function planMessages(run: { code: number | null; stdout: string; stderr: string }, root: string): Record<string, any>[] {
  try {
    const messages = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
    if (messages.some((m) => m.type === 'version')) return messages;
  } catch {
    /* reported below */
  }
  throw new Error(`terraform plan -json (exit ${run.code}) printed no JSON lines in ${root}:\n${run.stdout.slice(-3000)}\n${run.stderr}`);
}

/** Whether a diagnostic is about case `name`: by its address, else by the file its range points into. */
function belongsTo(d: Diagnostic, name: string): boolean {
  if (d.address) return d.address.startsWith(`module.${name}.`) || d.address.startsWith(`module.${name}[`);
  return d.range?.filename.startsWith(`${name}/`) ?? false;
}
