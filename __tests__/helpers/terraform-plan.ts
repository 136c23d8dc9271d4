/**
 * Planning and applying offline stacks (see terraform-offline.ts) against the AWS emulator: what the
 * pipeline and rollout scenarios share.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { runTerraform, terraformInit, writeOfflineStack } from './terraform-offline';

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

/**
 * What a plan would change: address -> actions ("update", "delete,create", ...), read from
 * `terraform plan -json`'s planned_change messages (no `terraform show`, which would load the ~700 MB
 * provider's schemas once more).
 */
export async function plannedChanges(dir: string, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const plan = await runTerraform(['plan', '-input=false', '-no-color', '-json'], dir, env);
  const messages = plan.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  if (plan.code !== 0)
    throw new Error(
      `terraform plan failed in ${dir}:\n${messages
        .filter((m) => m['@level'] === 'error')
        .map((m) => `${m['@message']}\n${m.diagnostic?.detail ?? ''}`)
        .join('\n')}${plan.stderr}`,
    );
  const actions: Partial<Record<string, string>> = { create: 'create', update: 'update', delete: 'delete', replace: 'delete,create', move: 'move' };
  return Object.fromEntries(
    messages
      .filter((m) => m.type === 'planned_change' && m.change.action !== 'noop' && m.change.action !== 'read')
      .map((m) => [m.change.resource.addr as string, actions[m.change.action] ?? m.change.action]),
  );
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
export async function plannedValues(dir: string, env: NodeJS.ProcessEnv): Promise<Record<string, { actions: string; after: any }>> {
  const plan = await runTerraform(['plan', '-input=false', '-no-color', '-out=tfplan'], dir, env);
  if (plan.code !== 0) throw new Error(`terraform plan failed in ${dir}:\n${plan.stderr}\n${plan.stdout.slice(-3000)}`);
  const json = JSON.parse((await runTerraform(['show', '-json', 'tfplan'], dir, env)).stdout);
  return Object.fromEntries(
    (json.resource_changes ?? [])
      .filter((c: any) => !(c.change.actions.length === 1 && ['no-op', 'read'].includes(c.change.actions[0])))
      .map((c: any) => [c.address, { actions: c.change.actions.join(','), after: c.change.after }]),
  );
}
