/**
 * The image IDs Karpenter's Bottlerocket alias resolves for a variant and release: the public SSM parameters
 * /aws/service/bottlerocket/aws-k8s-<version>[-nvidia]/<arch>/<release>/image_id, the leading v trimmed (A pkg/providers/amifamily/
 * bottlerocket.go DescribeImageQuery, for x86_64 and arm64, the standard and the nvidia variant).
 */
export async function bottlerocketImageIds(getParameter: (name: string) => Promise<string | undefined>, k8s: string, release: string): Promise<string[]> {
  const ids: string[] = [];
  for (const variant of [`aws-k8s-${k8s}`, `aws-k8s-${k8s}-nvidia`])
    for (const arch of ['x86_64', 'arm64']) {
      const id = await getParameter(`/aws/service/bottlerocket/${variant}/${arch}/${release}/image_id`);
      if (id !== undefined) ids.push(id);
    }
  return ids;
}
