/**
 * EKS access entries for the roles a fleet file names per command (clusters.<c>.access), each with the
 * narrowest EKS access policy that covers what the command does (policies as published in the Amazon EKS
 * User Guide, "Review access policy permissions": awsdocs/amazon-eks-user-guide
 * latest/ug/manage-access/k8s-access/access-policy-reference.adoc). Pure; the eks module (v20.37.2 main.tf,
 * access_entries: principal_arn, policy_associations.<key>.{policy_arn, access_scope}) creates them.
 */
import type { ClusterSpec } from '../fleet/schema';

export type AccessCommand = keyof NonNullable<ClusterSpec['access']>;

/**
 * Why each command needs its policy. Only AmazonEKSClusterAdminPolicy covers cluster-scoped custom
 * resources (EC2NodeClass, NodeClaim), CRDs and node writes: AmazonEKSAdminPolicy and AmazonEKSEditPolicy
 * are namespaced workload rights without nodes, AmazonEKSViewPolicy reads no nodes. AmazonEKSAdminViewPolicy
 * is get/list/watch on everything (Secrets included).
 */
export const COMMAND_ACCESS: Record<AccessCommand, { readonly policy: string; readonly why: string }> = {
  karpenterDeploy: {
    policy: 'AmazonEKSClusterAdminPolicy',
    why: 'Terraform installs the Karpenter charts (CRDs, ClusterRoles, webhooks) and applies EC2NodeClasses and NodePools, all cluster-scoped',
  },
  rollout: {
    policy: 'AmazonEKSClusterAdminPolicy',
    why: 'patches EC2NodeClasses and deletes NodeClaims (cluster-scoped custom resources), reads nodes and pods',
  },
  migrate: {
    policy: 'AmazonEKSClusterAdminPolicy',
    why: 'cordons nodes (patch, cluster-scoped), evicts pods in every namespace, deletes the legacy device plugin DaemonSet',
  },
  cacheReport: {
    policy: 'AmazonEKSAdminViewPolicy',
    why: 'only reads nodes, NodeClaims, pods and events; AmazonEKSViewPolicy does not read nodes',
  },
};

/** The partition of an IAM role ARN (aws, aws-cn, aws-us-gov): access policy ARNs live in the same one. */
function partitionOf(roleArn: string): string {
  return roleArn.split(':')[1];
}

/**
 * The eks module's access_entries: one entry per role (EKS allows one per principal), with one cluster-scoped
 * association per distinct policy its commands need. Keys are the role ARNs (stable, unique per cluster).
 */
export function accessEntries(access: ClusterSpec['access']): Record<string, Record<string, unknown>> | undefined {
  if (!access) return undefined;
  const policiesByRole = new Map<string, Set<string>>();
  for (const [command, roles] of Object.entries(access) as [AccessCommand, string[]][]) {
    for (const role of roles) {
      if (!policiesByRole.has(role)) policiesByRole.set(role, new Set());
      policiesByRole.get(role)!.add(COMMAND_ACCESS[command].policy);
    }
  }
  if (policiesByRole.size === 0) return undefined;
  return Object.fromEntries(
    [...policiesByRole].map(([role, policies]) => [
      role,
      {
        principal_arn: role,
        type: 'STANDARD',
        policy_associations: Object.fromEntries(
          [...policies]
            .sort()
            .map((p) => [p, { policy_arn: `arn:${partitionOf(role)}:eks::aws:cluster-access-policy/${p}`, access_scope: { type: 'cluster' } }]),
        ),
      },
    ]),
  );
}
