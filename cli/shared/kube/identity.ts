/**
 * Before any write, the connection's context must reach the fleet's cluster: its server and CA equal the
 * endpoint and CA EKS DescribeCluster reports (cli/shared/cluster-identity.ts holds the comparison).
 */
import type { KubeConnection } from './connection';
import { verifyClusterIdentity, type DescribeCluster } from '../cluster-identity';

/** Throws ClusterIdentityMismatch unless `kube`'s context reaches EKS cluster `cluster` in `region`. */
export function verifyConnection(kube: KubeConnection, cluster: { readonly name: string; readonly region: string }, describe?: DescribeCluster): Promise<void> {
  return verifyClusterIdentity({ cluster: cluster.name, region: cluster.region, context: kube.target.context, kubeconfig: kube.kubeconfig, describe });
}
