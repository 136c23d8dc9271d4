/**
 * bottlerocket-fleet addons --cluster <c> [--json]
 * The EKS add-on versions a cluster stack pins (clusters.<c>.addons, else contracts/eks-addon-versions.json) next
 * to the versions EKS offers for the cluster's running Kubernetes version (EKS DescribeCluster, then
 * DescribeAddonVersions per add-on), so a pin is raised on purpose, never by an apply.
 */
import { CliIo, commandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';
import { answering, CommandOutput } from '../shared/command-output';
import { REQUEST_TIMEOUT_HELP, REQUEST_TIMEOUT_OPTION, requestTimeoutMs } from '../shared/request-timeout';
import { LazyAwsClients, lazyAwsClients } from '../shared/lazy-aws';
import type { AddonRow } from './versions';

export const usage = (prog: string) => `usage: ${prog} --cluster <cluster> [--json]
  Lists, per EKS add-on of the cluster stack (coredns, kube-proxy, vpc-cni, eks-pod-identity-agent), the version
  the stack pins and the newer versions EKS offers for the version the control plane runs (EKS DescribeCluster,
  DescribeAddonVersions). Reads only. To move to one, set clusters.<cluster>.addons.<addon> in the fleet file and
  deploy the cluster stack.
  --cluster <c>  the cluster (from the fleet file, FLEET_FILE or ./fleet.yaml)
  --json         the rows as JSON
${REQUEST_TIMEOUT_HELP}
  Exit codes: 0 listed, 1 an AWS call failed, 2 usage or fleet file problem.
`;

/** The two EKS calls; tests inject a fake. */
export interface AddonsEks {
  /** The running Kubernetes version, or undefined when EKS has no such cluster. */
  runningVersion(cluster: string, region: string): Promise<string | undefined>;
  /** Versions of an add-on EKS offers for a Kubernetes version. */
  addonVersions(addon: string, kubernetesVersion: string, region: string): Promise<{ version: string; isDefault: boolean }[]>;
}

export interface AddonsDeps extends CliIo {
  /** @default the EKS client per region from the command's factory (cli/shared/aws-clients.ts) */
  readonly eks?: AddonsEks;
}

export async function main(argv: string[], deps: AddonsDeps = PROCESS_IO): Promise<number> {
  const prog = programName('addons');
  const cl = commandLine(argv, { cluster: { type: 'string' }, json: { type: 'boolean', default: false }, ...REQUEST_TIMEOUT_OPTION }, deps, () => usage(prog));
  if (cl.exit !== undefined) return cl.exit;
  const { values, positionals, output } = cl;
  if (positionals.length > 0) return usageError(output, `unexpected argument(s): ${positionals.join(' ')}`, usage(prog));
  if (!values.cluster) return usageError(output, 'missing option: --cluster <cluster>', usage(prog));
  let timeoutMs: number;
  try {
    timeoutMs = requestTimeoutMs(values['request-timeout']);
  } catch (e) {
    return usageError(output, (e as Error).message, usage(prog));
  }
  const cluster = values.cluster;
  return answering(output, () => listAddons(cluster, deps, output, lazyAwsClients({ requestTimeoutMs: timeoutMs, step: 'addons' })));
}

async function listAddons(name: string, deps: AddonsDeps, output: CommandOutput, aws: LazyAwsClients): Promise<number> {
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load');
  const fleet = loadFleet(fleetFileFromEnvironment());
  const cluster = fleet.clusters.find((c) => c.name === name);
  if (!cluster) return output.fail(2, `unknown cluster "${name}" (the fleet's: ${fleet.clusters.map((c) => c.name).join(', ')})`);
  const eks = deps.eks ?? sdkEks(aws);
  const running = await eks.runningVersion(cluster.name, cluster.region);
  const version = running ?? cluster.kubernetesVersion;
  const { addonRow } = await import('./versions');
  const rows: AddonRow[] = [];
  for (const [addon, pinned] of Object.entries(cluster.addons)) rows.push(addonRow(addon, pinned, await eks.addonVersions(addon, version, cluster.region)));
  output.result({ cluster: cluster.name, kubernetesVersion: version, running: running !== undefined, addons: rows });
  if (output.json) return 0;
  output.out(
    `cluster ${cluster.name}: Kubernetes ${version}${running === undefined ? " (no such EKS cluster yet: the fleet file's version)" : ' (running)'}\n`,
  );
  for (const r of rows)
    output.out(
      `${r.addon.padEnd(24)} pinned ${r.pinned ?? `- (EKS default ${r.eksDefault ?? '?'})`}\tnewer: ${r.newer.length > 0 ? r.newer.join(', ') : 'none'}\n`,
    );
  return 0;
}

function sdkEks(aws: LazyAwsClients): AddonsEks {
  const client = async (region: string) => (await aws()).eks(region);
  return {
    async runningVersion(name, region) {
      const { DescribeClusterCommand } = await import('@aws-sdk/client-eks');
      try {
        return (await (await client(region)).send(new DescribeClusterCommand({ name }))).cluster?.version;
      } catch (e) {
        if ((e as Error).name === 'ResourceNotFoundException') return undefined;
        throw e;
      }
    },
    async addonVersions(addonName, kubernetesVersion, region) {
      const { DescribeAddonVersionsCommand } = await import('@aws-sdk/client-eks');
      const found: { version: string; isDefault: boolean }[] = [];
      let nextToken: string | undefined;
      do {
        const r = await (await client(region)).send(new DescribeAddonVersionsCommand({ addonName, kubernetesVersion, nextToken }));
        for (const a of r.addons ?? [])
          for (const v of a.addonVersions ?? [])
            found.push({
              version: v.addonVersion!,
              isDefault: (v.compatibilities ?? []).some((c) => c.clusterVersion === kubernetesVersion && c.defaultVersion),
            });
        nextToken = r.nextToken;
      } while (nextToken);
      return found;
    },
  };
}

if (require.main === module) runAsProcess(main);
