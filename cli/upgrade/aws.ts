/**
 * The AWS clients `upgrade` uses, built in this one function so they can be rewired to the shared client
 * factory (cli/shared/aws-clients.ts) at merge time; built as cli/shared/eks-versions.ts builds its EKS client.
 * Endpoints follow the SDK's configuration (AWS_ENDPOINT_URL_EKS points EKS at the tests' fake).
 */
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  type EKSClient,
  ListAddonsCommand,
  ListNodegroupsCommand,
} from '@aws-sdk/client-eks';
import { regionApi, type RegionApi } from '../rollout/aws';
import type { AwsClients } from '../shared/aws-clients';

export interface EksNodegroup {
  readonly name: string;
  readonly version: string;
  readonly releaseVersion: string;
}

/** The EKS reads of the running state (EKS API Reference: DescribeCluster, ListNodegroups, DescribeNodegroup, ListAddons, DescribeAddon). */
export interface UpgradeEks {
  /** The control plane's version, or undefined when EKS has no such cluster. */
  clusterVersion(cluster: string): Promise<string | undefined>;
  nodegroups(cluster: string): Promise<EksNodegroup[]>;
  /** addonVersion per installed add-on. */
  addons(cluster: string): Promise<Record<string, string>>;
}

export interface UpgradeAws {
  readonly eks: UpgradeEks;
  /** The rollout's region API (SSM parameters, snapshot tags). */
  readonly region: RegionApi;
}

const notFound = (e: unknown) => (e as Error).name === 'ResourceNotFoundException';

/** Every list of these calls fits one page here (a cluster has few node groups and add-ons); nextToken is followed anyway. */
async function allPages<T>(page: (nextToken?: string) => Promise<{ items: T[]; nextToken?: string }>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const p = await page(token);
    out.push(...p.items);
    token = p.nextToken;
  } while (token);
  return out;
}

function upgradeEks(client: EKSClient): UpgradeEks {
  return {
    async clusterVersion(name) {
      try {
        return (await client.send(new DescribeClusterCommand({ name }))).cluster?.version;
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },
    async nodegroups(clusterName) {
      const names = await allPages(async (nextToken) => {
        const r = await client.send(new ListNodegroupsCommand({ clusterName, nextToken }));
        return { items: r.nodegroups ?? [], nextToken: r.nextToken };
      });
      return Promise.all(
        names.map(async (nodegroupName) => {
          const g = (await client.send(new DescribeNodegroupCommand({ clusterName, nodegroupName }))).nodegroup;
          return { name: nodegroupName, version: g?.version ?? '', releaseVersion: g?.releaseVersion ?? '' };
        }),
      );
    },
    async addons(clusterName) {
      const names = await allPages(async (nextToken) => {
        const r = await client.send(new ListAddonsCommand({ clusterName, nextToken }));
        return { items: r.addons ?? [], nextToken: r.nextToken };
      });
      const found = await Promise.all(
        names.map(
          async (addonName) => [addonName, (await client.send(new DescribeAddonCommand({ clusterName, addonName }))).addon?.addonVersion ?? ''] as const,
        ),
      );
      return Object.fromEntries(found);
    },
  };
}

/** The clients of one region (made once per region by the caller), from the command's client factory (cli/shared/aws-clients.ts). */
export function upgradeAws(region: string, clients: AwsClients): UpgradeAws {
  return { eks: upgradeEks(clients.eks(region)), region: regionApi(region, {}, clients) };
}
