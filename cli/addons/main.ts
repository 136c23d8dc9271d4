/**
 * bottlerocket-fleet addons --cluster <c> [--json]
 * The EKS add-on versions a cluster stack pins (clusters.<c>.addons, else contracts/eks-addon-versions.json) next
 * to the versions EKS offers for the cluster's running Kubernetes version (EKS DescribeCluster, then
 * DescribeAddonVersions per add-on), so a pin is raised on purpose, never by an apply.
 */
import { CliIo, commandLine, PROCESS_IO, programName, runAsProcess, usageError } from '../shared/command-line';
import type { AddonRow } from './versions';

export const usage = (prog: string) => `usage: ${prog} --cluster <cluster> [--json]
  Lists, per EKS add-on of the cluster stack (coredns, kube-proxy, vpc-cni, eks-pod-identity-agent), the version
  the stack pins and the newer versions EKS offers for the version the control plane runs (EKS DescribeCluster,
  DescribeAddonVersions). Reads only. To move to one, set clusters.<cluster>.addons.<addon> in the fleet file and
  deploy the cluster stack.
  --cluster <c>  the cluster (from the fleet file, FLEET_FILE or ./fleet.yaml)
  --json         the rows as JSON
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
  /** @default SDK v3 EKSClient per region */
  readonly eks?: AddonsEks;
}

export async function main(argv: string[], deps: AddonsDeps = PROCESS_IO): Promise<number> {
  const prog = programName('addons');
  const cl = commandLine(argv, { cluster: { type: 'string' }, json: { type: 'boolean', default: false } }, deps, () => usage(prog));
  if (cl.exit !== undefined) return cl.exit;
  const { values, positionals } = cl;
  if (positionals.length > 0) return usageError(deps, `unexpected argument(s): ${positionals.join(' ')}`, usage(prog));
  if (!values.cluster) return usageError(deps, 'missing option: --cluster <cluster>', usage(prog));
  const { fleetFileFromEnvironment, loadFleet } = await import('../../modules/fleet/load');
  const fleet = loadFleet(fleetFileFromEnvironment());
  const cluster = fleet.clusters.find((c) => c.name === values.cluster);
  if (!cluster) return usageError(deps, `unknown cluster "${values.cluster}" (the fleet's: ${fleet.clusters.map((c) => c.name).join(', ')})`, usage(prog));
  const eks = deps.eks ?? (await sdkEks());
  const running = await eks.runningVersion(cluster.name, cluster.region);
  const version = running ?? cluster.kubernetesVersion;
  const { addonRow } = await import('./versions');
  const rows: AddonRow[] = [];
  for (const [addon, pinned] of Object.entries(cluster.addons)) rows.push(addonRow(addon, pinned, await eks.addonVersions(addon, version, cluster.region)));
  if (values.json)
    deps.out(`${JSON.stringify({ cluster: cluster.name, kubernetesVersion: version, running: running !== undefined, addons: rows }, null, 2)}\n`);
  else {
    deps.out(
      `cluster ${cluster.name}: Kubernetes ${version}${running === undefined ? " (no such EKS cluster yet: the fleet file's version)" : ' (running)'}\n`,
    );
    for (const r of rows)
      deps.out(
        `${r.addon.padEnd(24)} pinned ${r.pinned ?? `- (EKS default ${r.eksDefault ?? '?'})`}\tnewer: ${r.newer.length > 0 ? r.newer.join(', ') : 'none'}\n`,
      );
  }
  return 0;
}

async function sdkEks(): Promise<AddonsEks> {
  const { EKSClient, DescribeAddonVersionsCommand, DescribeClusterCommand } = await import('@aws-sdk/client-eks');
  const clients = new Map<string, InstanceType<typeof EKSClient>>();
  const client = (region: string) => {
    if (!clients.has(region)) clients.set(region, new EKSClient({ region, maxAttempts: 8, retryMode: 'adaptive' }));
    return clients.get(region)!;
  };
  return {
    async runningVersion(name, region) {
      try {
        return (await client(region).send(new DescribeClusterCommand({ name }))).cluster?.version;
      } catch (e) {
        if ((e as Error).name === 'ResourceNotFoundException') return undefined;
        throw e;
      }
    },
    async addonVersions(addonName, kubernetesVersion, region) {
      const found: { version: string; isDefault: boolean }[] = [];
      let nextToken: string | undefined;
      do {
        const r = await client(region).send(new DescribeAddonVersionsCommand({ addonName, kubernetesVersion, nextToken }));
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
