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
import * as fs from 'fs';
import { writeForPlanning } from './terraform-plan';
import { runTerraform, terraformInit } from './terraform-offline';

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

/** What Terraform would apply for a cluster: its cluster stack's pins and its Karpenter stack's EC2NodeClass manifests by name. */
export interface PlannedCluster {
  readonly pins: ClusterPins;
  readonly nodeClasses: ReadonlyMap<string, string>;
}

/**
 * Plans a cluster's two stacks in ONE Terraform run: each is a child module of one root (keeping its own aws provider
 * configuration), so the ~700 MB provider loads for one init, one plan and one show rather than for each stack. The
 * pins are a root output carrying the eks call's own expressions (a root module cannot read a module's inputs); the
 * node classes are the yaml_body the kubectl stand-ins would be created with.
 */
export async function planClusterStacks(
  stacks: { readonly cluster: Record<string, any>; readonly karpenter: Record<string, any> },
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<PlannedCluster> {
  const [, eks] = eksCall(stacks.cluster);
  const cluster = structuredClone(stacks.cluster);
  cluster.output = {
    ...cluster.output,
    fleet_pins: {
      value: {
        version: eks.cluster_version,
        release: eks.eks_managed_node_groups.system.ami_release_version,
        addons: Object.fromEntries(Object.entries<any>(eks.cluster_addons ?? {}).map(([name, a]) => [name, a.addon_version])),
      },
    },
  };
  writeForPlanning(cluster, path.join(dir, 'cluster'));
  writeForPlanning(stacks.karpenter, path.join(dir, 'karpenter'));
  const root = {
    module: { cluster: { source: './cluster' }, karpenter: { source: './karpenter' } },
    output: { fleet_pins: { value: '${module.cluster.fleet_pins}' } },
  };
  fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(root, null, 2));
  const init = await terraformInit(dir, env);
  if (!init.ok) throw new Error(init.report);
  const plan = await runTerraform(['plan', '-input=false', '-no-color', '-out=tfplan'], dir, env);
  if (plan.code !== 0) throw new Error(`terraform plan failed in ${dir}:\n${plan.stderr}\n${plan.stdout.slice(-3000)}`);
  const shown = JSON.parse((await runTerraform(['show', '-json', 'tfplan'], dir, env)).stdout);
  const nodeClasses = new Map<string, string>();
  for (const c of shown.resource_changes ?? []) {
    const yaml = c.address.startsWith('module.karpenter.') ? (c.change.after?.input?.yaml_body as string | undefined) : undefined;
    const manifest = yaml === undefined ? undefined : parse(yaml);
    if (manifest?.kind === 'EC2NodeClass') nodeClasses.set(manifest.metadata.name, yaml!);
  }
  return { pins: shown.planned_values.outputs.fleet_pins.value as ClusterPins, nodeClasses };
}
