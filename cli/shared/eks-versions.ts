/**
 * The Kubernetes version a cluster's control plane runs, from EKS DescribeCluster (`cluster.version`), for the
 * checks that must judge what the clusters really run rather than what the fleet file says (issue 30).
 */
import { LazyAwsClients, lazyAwsClients } from './lazy-aws';

export interface ClusterLocation {
  readonly name: string;
  readonly region: string;
}

/** The running version ("1.35"), or undefined when EKS has no such cluster (not created yet). */
export type RunningVersion = (cluster: ClusterLocation) => Promise<string | undefined>;

/** The SDK implementation: the command's client factory (cli/shared/aws-clients.ts; loaded when used), one EKS client per region. */
export function sdkRunningVersion(aws: LazyAwsClients = lazyAwsClients({})): RunningVersion {
  return async ({ name, region }) => {
    const { DescribeClusterCommand } = await import('@aws-sdk/client-eks');
    try {
      return (await (await aws()).eks(region).send(new DescribeClusterCommand({ name }))).cluster?.version;
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw new Error(`could not read the version of cluster ${name} in ${region} (EKS DescribeCluster: ${(e as Error).name}: ${(e as Error).message})`, {
        cause: e,
      });
    }
  };
}

/** Running versions of several clusters, looked up at once. */
export async function runningVersions(running: RunningVersion, clusters: readonly ClusterLocation[]): Promise<Map<string, string | undefined>> {
  const found = await Promise.all(clusters.map(async (c) => [c.name, await running(c)] as const));
  return new Map(found);
}
