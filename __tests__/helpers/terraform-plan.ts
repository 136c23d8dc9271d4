/**
 * Planning and applying offline stacks (see terraform-offline.ts) against the AWS emulator: what the
 * pipeline and rollout scenarios share.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { Diagnostic, formatDiagnostics, runTerraform, TerraformRun, terraformInit, writeOfflineStack } from './terraform-offline';

export type OfflineStack = ReturnType<typeof writeOfflineStack>;

/**
 * Writes a stack so it can be planned against the emulator, and runs `terraform init`:
 * - stub module outputs (null for validate) become known values: the module's input of the same name
 *   where one is set (node_iam_role_name is the name it was given: use_name_prefix is off), else a
 *   string, since a null cannot sit in a string template (queue_name goes into Helm values), ARN-shaped
 *   for outputs named *_arn (the aws provider validates an event target's arn);
 * - the stand-ins of the helm/kubectl provider blocks go: moto's EKS certificateAuthority.data is not
 *   base64 of a PEM, so their base64decode() fails. That is the emulator's doing, not the stack's.
 */
export async function prepareForPlanning(stack: Record<string, any>, dir: string, env: NodeJS.ProcessEnv): Promise<OfflineStack> {
  const offline = writeForPlanning(stack, dir);
  const init = await terraformInit(dir, env);
  if (!init.ok) throw new Error(init.report);
  return offline;
}

/** What prepareForPlanning writes, without `terraform init` (e.g. a stack to plan as a child module of another root). */
export function writeForPlanning(stack: Record<string, any>, dir: string): OfflineStack {
  const offline = writeOfflineStack(stack, dir);
  for (const [name, stub] of Object.entries<any>(offline.stubs)) {
    for (const [output, block] of Object.entries<any>(stub.output ?? {}))
      block.value = stub.variable?.[output]
        ? `\${try(coalesce(var.${output}), "stub-${output}")}`
        : // An ARN-shaped value where the provider checks ARNs (an event target's arn: queue_arn).
          output.endsWith('_arn')
          ? `arn:aws:stub:us-east-1:123456789012:${output}`
          : `stub-${output}`;
    fs.writeFileSync(path.join(dir, 'stubs', name, 'main.tf.json'), JSON.stringify(stub, null, 2));
  }
  const data = offline.config.resource?.terraform_data ?? {};
  for (const id of Object.keys(data)) if (id.startsWith('provider__')) delete data[id];
  fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(offline.config, null, 2));
  return offline;
}

/** Terraform's plan actions as the tests name them: a replacement is "delete,create", as `terraform show -json` lists it. */
const ACTIONS: Partial<Record<string, string>> = { create: 'create', update: 'update', delete: 'delete', replace: 'delete,create', move: 'move' };

/** One line of `terraform plan -json` (Terraform's machine-readable UI: `type`, `diagnostic`, `change`, ...). */
export type PlanMessage = Record<string, any>;

/** The JSON lines of `terraform plan -json`; an Error with Terraform's output when it printed something else. */
export function planMessages(run: TerraformRun, dir: string): PlanMessage[] {
  try {
    const messages = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as PlanMessage);
    if (messages.some((m) => m.type === 'version')) return messages;
  } catch {
    /* reported below */
  }
  throw new Error(`terraform plan -json (exit ${run.code}) printed no JSON lines in ${dir}:\n${run.stdout.slice(-3000)}\n${run.stderr}`);
}

/** The error diagnostics of a plan's messages. */
export function planErrors(messages: PlanMessage[]): Diagnostic[] {
  return messages.filter((m) => m.type === 'diagnostic' && m.diagnostic.severity === 'error').map((m) => m.diagnostic as Diagnostic);
}

/**
 * What a plan would change under `prefix` ("module.x." for a child module, '' for all): address after the prefix ->
 * actions ("update", "delete,create", ...), from the planned_change messages (no-op and read left out).
 */
export function changesUnder(messages: PlanMessage[], prefix = ''): Record<string, string> {
  return Object.fromEntries(
    messages
      .filter((m) => m.type === 'planned_change' && !['noop', 'read'].includes(m.change.action) && String(m.change.resource.addr).startsWith(prefix))
      .map((m) => [String(m.change.resource.addr).slice(prefix.length), ACTIONS[m.change.action] ?? m.change.action]),
  );
}

/** A resource's planned change as `terraform show -json` gives it: its actions ("delete,create") and planned values. */
export interface PlannedValue {
  readonly actions: string;
  readonly after: any;
}

/** The resource changes of a shown plan (`terraform show -json <plan>`) under `prefix`, as changesUnder (no-op and read left out). */
export function valuesUnder(shown: Record<string, any>, prefix = ''): Record<string, PlannedValue> {
  return Object.fromEntries(
    (shown.resource_changes ?? [])
      .filter((c: any) => String(c.address).startsWith(prefix) && !(c.change.actions.length === 1 && ['no-op', 'read'].includes(c.change.actions[0])))
      .map((c: any) => [String(c.address).slice(prefix.length), { actions: c.change.actions.join(','), after: c.change.after }]),
  );
}

/**
 * What a plan would change: address -> actions ("update", "delete,create", ...), read from
 * `terraform plan -json`'s planned_change messages (no `terraform show`, which would load the ~700 MB
 * provider's schemas once more).
 */
export async function plannedChanges(dir: string, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const plan = await runTerraform(['plan', '-input=false', '-no-color', '-json'], dir, env);
  const messages = planMessages(plan, dir);
  if (plan.code !== 0) throw new Error(`terraform plan failed in ${dir}:\n${formatDiagnostics(planErrors(messages))}\n${plan.stderr}`);
  return changesUnder(messages);
}

export async function applyStack(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await runTerraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, env);
  if (r.code !== 0) throw new Error(`terraform apply failed in ${dir}:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
}

/**
 * The EC2NodeClass stand-ins of an applied offline stack: address -> yaml_body, read from its local state file.
 * `module` ("module.x"): the stack was applied as that child module of a batch root (`dir`), see terraform-batch.ts.
 */
export function nodeClassBodies(dir: string, offline: OfflineStack, module?: string): Record<string, string> {
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'terraform.tfstate'), 'utf8'));
  const standIns = new Set(Object.values(offline.standIns));
  return Object.fromEntries(
    (state.resources ?? [])
      .filter((r: any) => r.module === module && r.mode === 'managed' && r.type === 'terraform_data' && standIns.has(`terraform_data.${r.name}`))
      .map((r: any) => [`terraform_data.${r.name}`, r.instances?.[0]?.attributes?.input?.value?.yaml_body as string | undefined])
      .filter(([, yaml]: [string, string | undefined]) => yaml !== undefined && parse(yaml)?.kind === 'EC2NodeClass'),
  );
}

/** The planned values of a saved plan (`plan -out`), by address: what Terraform would write. */
export async function plannedValues(dir: string, env: NodeJS.ProcessEnv): Promise<Record<string, PlannedValue>> {
  const plan = await runTerraform(['plan', '-input=false', '-no-color', '-out=tfplan'], dir, env);
  if (plan.code !== 0) throw new Error(`terraform plan failed in ${dir}:\n${plan.stderr}\n${plan.stdout.slice(-3000)}`);
  return valuesUnder(await showPlan(dir, env));
}

/** `terraform show -json` of the saved plan `tfplan` in `dir`. */
export async function showPlan(dir: string, env: NodeJS.ProcessEnv): Promise<Record<string, any>> {
  const shown = await runTerraform(['show', '-json', 'tfplan'], dir, env);
  if (shown.code !== 0) throw new Error(`terraform show -json tfplan failed in ${dir}:\n${shown.stderr}`);
  return JSON.parse(shown.stdout);
}
