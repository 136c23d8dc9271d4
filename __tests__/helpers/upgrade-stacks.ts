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
import { parse } from 'yaml';
import { TerraformBatch } from './terraform-batch';

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
 * Plans a cluster's two stacks in ONE Terraform run: each is a case of one batch (terraform-batch.ts: one init, one
 * plan, one show), their aws provider blocks shared from its root. The pins are an output carrying the eks call's
 * own expressions (a root module cannot read a module's inputs); the node classes are the yaml_body the kubectl
 * stand-ins would be created with.
 */
export async function planClusterStacks(
  stacks: { readonly cluster: Record<string, any>; readonly karpenter: Record<string, any> },
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<PlannedCluster> {
  const [, eks] = eksCall(stacks.cluster);
  const batch = new TerraformBatch(dir, env);
  const fleetPins = {
    version: eks.cluster_version,
    release: eks.eks_managed_node_groups.system.ami_release_version,
    addons: Object.fromEntries(Object.entries<any>(eks.cluster_addons ?? {}).map(([name, a]) => [name, a.addon_version])),
  };
  batch.addStack('cluster', stacks.cluster, { outputs: { fleet_pins: fleetPins } });
  batch.addStack('karpenter', stacks.karpenter);
  const init = await batch.init();
  if (init !== '') throw new Error(init);
  const run = await batch.plan({ values: true });
  for (const name of ['cluster', 'karpenter']) TerraformBatch.changesOf(run, name);
  const nodeClasses = new Map<string, string>();
  for (const c of Object.values(run.cases.karpenter.values!)) {
    const yaml = c.after?.input?.yaml_body as string | undefined;
    const manifest = yaml === undefined ? undefined : parse(yaml);
    if (manifest?.kind === 'EC2NodeClass') nodeClasses.set(manifest.metadata.name, yaml!);
  }
  return { pins: run.cases.cluster.outputs!.fleet_pins as ClusterPins, nodeClasses };
}
