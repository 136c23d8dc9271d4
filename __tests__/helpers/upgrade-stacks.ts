/**
 * What the fleet file's stacks would apply after an upgrade (issue 31: "the fleet file already says what was
 * applied"), read two ways:
 * - from the synthesized stack (every cluster): the eks module call's cluster_version and add-on versions are
 *   literals; the system node group's ami_release_version is an expression over the public parameter of the pinned
 *   release (modules/eks/bottlerocket-image-version.ts), resolved here through the same public parameters the
 *   command read;
 * - from a real Terraform plan (aws 5.100.0 from the mirror) against the emulator: the registry modules are stubs
 *   and the kubectl/helm resources terraform_data stand-ins carrying the same expressions (helpers/terraform-offline.ts),
 *   so Terraform evaluates every expression the real module call and manifest would get, data sources included.
 *   Not checked: what the eks module does inside with its inputs, and the kubectl provider's own diff.
 */
import * as path from 'path';
import { parse } from 'yaml';
import { prepareForPlanning, plannedValues } from './terraform-plan';
import { runTerraform } from './terraform-offline';

/** A cluster stack's pins of what EKS runs. */
export interface ClusterPins {
  readonly version: string;
  /** The system node group's release_version (the release with its build commit, e.g. 1.56.0-5a1b2c3d). */
  readonly release: string | undefined;
  readonly addons: Readonly<Record<string, string>>;
}

const EKS_SOURCE = 'terraform-aws-modules/eks/aws';

function eksCall(stack: Record<string, any>): [string, Record<string, any>] {
  const found = Object.entries<Record<string, any>>(stack.module ?? {}).find(([, m]) => m.source === EKS_SOURCE);
  if (!found) throw new Error('the cluster stack has no eks module call');
  return found;
}

/** The pins as synthesized; the release read from `publicParameters` (name -> value) at the path the stack looks up. */
export function synthesizedPins(stack: Record<string, any>, publicParameters: ReadonlyMap<string, string>): ClusterPins {
  const [, eks] = eksCall(stack);
  const lookup = /index\(data\.aws_ssm_parameters_by_path\.[\w-]+\.names, "([^"]+)"\)/.exec(eks.eks_managed_node_groups.system.ami_release_version);
  return {
    version: eks.cluster_version,
    release: lookup ? publicParameters.get(lookup[1]) : undefined,
    addons: Object.fromEntries(Object.entries<any>(eks.cluster_addons ?? {}).map(([name, a]) => [name, a.addon_version])),
  };
}

/**
 * The pins as Terraform evaluates them at plan time: a root output carries the eks call's own expressions (a root
 * module cannot read a module's inputs), planned with `-out` and read from `terraform show -json`.
 */
export async function plannedPins(stack: Record<string, any>, dir: string, env: NodeJS.ProcessEnv): Promise<ClusterPins> {
  const [, eks] = eksCall(stack);
  const withOutput = structuredClone(stack);
  withOutput.output = {
    ...withOutput.output,
    fleet_pins: {
      value: {
        version: eks.cluster_version,
        release: eks.eks_managed_node_groups.system.ami_release_version,
        addons: Object.fromEntries(Object.entries<any>(eks.cluster_addons ?? {}).map(([name, a]) => [name, a.addon_version])),
      },
    },
  };
  await prepareForPlanning(withOutput, dir, env);
  const plan = await runTerraform(['plan', '-input=false', '-no-color', '-out=tfplan'], dir, env);
  if (plan.code !== 0) throw new Error(`terraform plan failed in ${dir}:\n${plan.stderr}\n${plan.stdout.slice(-3000)}`);
  const shown = JSON.parse((await runTerraform(['show', '-json', 'tfplan'], dir, env)).stdout);
  return shown.planned_values.outputs.fleet_pins.value as ClusterPins;
}

/** The EC2NodeClass manifests a plan of the Karpenter stack would write (yaml_body of the kubectl stand-ins), by class name. */
export async function plannedNodeClasses(stack: Record<string, any>, dir: string, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  await prepareForPlanning(stack, path.join(dir), env);
  const changes = await plannedValues(dir, env);
  const classes = new Map<string, string>();
  for (const c of Object.values(changes)) {
    const yaml = c.after?.input?.yaml_body as string | undefined;
    const manifest = yaml === undefined ? undefined : parse(yaml);
    if (manifest?.kind === 'EC2NodeClass') classes.set(manifest.metadata.name, yaml!);
  }
  return classes;
}
