/**
 * Several stacks planned in one Terraform run (issue 27 item 5). A `terraform plan` costs, before it reads
 * anything: the aws provider's schema, decoded once per Terraform process (about 2 CPU-seconds here), and one
 * provider process per provider configuration in each of its two graph walks (validate, then plan; seen in
 * TF_LOG=debug: "provider: starting plugin" once per configuration and walk). So cases that would each need
 * a plan of their own (one stack, several SSM values) are planned together:
 * - each case's offline stack (terraform-plan.ts writeForPlanning) is a child module of one root, and one
 *   `terraform init` installs them all;
 * - the aws provider blocks move from the cases to the root, one root block per distinct configuration
 *   (region, default tags, ...: identical text), handed to each case by its module call's `providers` (the
 *   case declares the aliases it used as `configuration_aliases`). A case's resources get a provider
 *   configured exactly as its own block was; ten cases of three stacks start five provider processes per
 *   walk instead of twenty;
 * - every diagnostic and planned change is attributed to its case: a diagnostic by its file
 *   (`stacks/<case dir>/...`; Terraform 1.11's JSON diagnostics of a failed postcondition carry a range, not
 *   an `address`) or address, a change by its address (`module.<case dir>.`). So each case is asserted on
 *   its own, and one that stopped failing (or started to) shows.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Diagnostic, formatDiagnostics, runTerraform, stackDirName, terraformInit } from './terraform-offline';
import { writeForPlanning } from './terraform-plan';

/** One `terraform plan -json` of the cases of a batch. */
export interface BatchPlan {
  /** Terraform's exit code (0: every case planned). */
  readonly code: number | null;
  /** A case's error diagnostics (in its module's files, or naming its module's address). */
  errors(id: string): Diagnostic[];
  /** A case's errors as one text, each "summary\ndetail", for matching messages. */
  errorText(id: string): string;
  /**
   * A case's planned changes: address inside its stack -> actions ("create", "delete,create", ...). Terraform
   * reports what it planned even when another case failed: a case with no errors(id) planned completely.
   */
  changes(id: string): Record<string, string>;
  /** Errors of no case (the root, init, a shared provider): while there is one, no case can be vouched for. */
  readonly unattributed: Diagnostic[];
  /** Every diagnostic and Terraform's stderr, for a failure message. */
  readonly report: string;
}

interface PlanMessage {
  type?: string;
  diagnostic?: Diagnostic;
  change?: { action: string; resource: { addr: string } };
}

const ACTIONS: Partial<Record<string, string>> = { create: 'create', update: 'update', delete: 'delete', replace: 'delete,create', move: 'move' };

/**
 * Moves a case's aws provider blocks to the root's (`shared`: configuration text -> root alias) and returns
 * its module call's `providers` map.
 */
function shareProviders(config: Record<string, any>, shared: Map<string, string>): Record<string, string> {
  const blocks: Record<string, any>[] = [config.provider?.aws ?? []].flat();
  const providers: Record<string, string> = {};
  for (const { alias, ...settings } of blocks) {
    const text = JSON.stringify(settings);
    if (!shared.has(text)) shared.set(text, `shared_${shared.size}`);
    providers[alias ? `aws.${alias}` : 'aws'] = `aws.${shared.get(text)}`;
  }
  if (blocks.length === 0) return providers;
  delete config.provider.aws;
  if (Object.keys(config.provider).length === 0) delete config.provider;
  const aliases = Object.keys(providers).filter((p) => p !== 'aws');
  const aws = (config.terraform ??= {}).required_providers?.aws;
  if (!aws) throw new Error('a stack with aws provider blocks declares no required_providers.aws');
  if (aliases.length > 0) aws.configuration_aliases = aliases;
  return providers;
}

/** Writes every case's stack under `dir`/stacks and the root that calls them all, and runs `terraform init` once. */
export async function preparePlanBatch(
  cases: Record<string, Record<string, any>>,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ plan(): Promise<BatchPlan> }> {
  const modules = new Map<string, string>();
  const shared = new Map<string, string>();
  const calls: Record<string, unknown> = {};
  let required: Record<string, unknown> | undefined;
  for (const [id, stack] of Object.entries(cases)) {
    const name = stackDirName(id);
    if ([...modules.values()].includes(name)) throw new Error(`two cases map to the directory ${name}`);
    const caseDir = path.join(dir, 'stacks', name);
    writeForPlanning(stack, caseDir);
    const file = path.join(caseDir, 'main.tf.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    required ??= config.terraform?.required_providers?.aws;
    const providers = shareProviders(config, shared);
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    calls[name] = { source: `./stacks/${name}`, ...(Object.keys(providers).length > 0 ? { providers } : {}) };
    modules.set(id, name);
  }
  const root = {
    // The cases' own constraint (source and version) without their configuration_aliases.
    terraform: { required_providers: { aws: { source: required?.source, version: required?.version } } },
    provider: { aws: [...shared].map(([text, alias]) => ({ alias, ...JSON.parse(text) })) },
    module: calls,
  };
  fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(root, null, 2));
  const init = await terraformInit(dir, env);
  if (!init.ok) throw new Error(init.report);
  return {
    plan: async () => batchPlan(await runTerraform(['plan', '-input=false', '-no-color', '-json'], dir, env), modules),
  };
}

function batchPlan(run: { code: number | null; stdout: string; stderr: string }, modules: Map<string, string>): BatchPlan {
  let messages: PlanMessage[];
  try {
    messages = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as PlanMessage);
  } catch {
    throw new Error(`terraform plan -json (exit ${run.code}) printed something else than JSON lines:\n${run.stdout.slice(-3000)}\n${run.stderr}`);
  }
  const diagnostics = messages.flatMap((m) => (m.type === 'diagnostic' && m.diagnostic ? [m.diagnostic] : []));
  const ownerOf = (d: Diagnostic): string | undefined =>
    [...modules].find(([, name]) => d.address?.startsWith(`module.${name}.`) || d.range?.filename.startsWith(`stacks/${name}/`))?.[0];
  const errors = (id: string) => diagnostics.filter((d) => d.severity === 'error' && ownerOf(d) === id);
  const changes = (id: string) => {
    const prefix = `module.${modules.get(id)}.`;
    return Object.fromEntries(
      messages
        .filter((m) => m.type === 'planned_change' && m.change && !['noop', 'read'].includes(m.change.action) && m.change.resource.addr.startsWith(prefix))
        .map((m) => [m.change!.resource.addr.slice(prefix.length), ACTIONS[m.change!.action] ?? m.change!.action]),
    );
  };
  return {
    code: run.code,
    errors,
    errorText: (id) =>
      errors(id)
        .map((d) => `${d.summary}\n${d.detail ?? ''}`)
        .join('\n'),
    changes,
    unattributed: diagnostics.filter((d) => d.severity === 'error' && ownerOf(d) === undefined),
    report: `${formatDiagnostics(diagnostics)}\n${run.stderr}`,
  };
}
