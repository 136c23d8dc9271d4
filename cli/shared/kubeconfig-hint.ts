/**
 * The fix for a kubeconfig that lacks a cluster's context, with what the tool knows filled in: the cluster's name
 * and region from the fleet file (issue 28: hints printed `--name <cluster>` and `--region <region>` even then).
 * `aws eks update-kubeconfig --name <cluster> --region <region> --alias <context>` writes a context named <alias>
 * (AWS CLI reference, eks update-kubeconfig: https://docs.aws.amazon.com/cli/latest/reference/eks/update-kubeconfig.html).
 */

/** A fleet cluster as far as a hint needs it. */
export interface ClusterRef {
  readonly name: string;
  readonly region?: string;
}

/** `aws eks update-kubeconfig ...` for the cluster, placeholders only where the tool does not know the value. */
export function updateKubeconfigCommand(context: string, cluster?: ClusterRef): string {
  return `aws eks update-kubeconfig --name ${cluster?.name ?? '<cluster>'} --region ${cluster?.region ?? '<region>'} --alias ${context}`;
}

/** The error message for a context the kubeconfig does not have; `other` is how to name another one on this command. */
export function missingContextMessage(context: string, cluster: ClusterRef | undefined, other: string): string {
  return `kubeconfig has no context "${context}" (run: ${updateKubeconfigCommand(context, cluster)}, or pass ${other})`;
}
