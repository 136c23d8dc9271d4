/**
 * Before a shell is opened, the node is read through the Kubernetes access layer: it must exist at the
 * chosen context (a typo or the wrong cluster fails here, within the layer's deadlines, instead of inside
 * kubectl), and a node that is not Bottlerocket is named (the admin image and sheltie are Bottlerocket's).
 */
import { connectKube, type KubeOptions } from '../shared/kube';

export interface NodeSummary {
  readonly name: string;
  /** status.nodeInfo.osImage, e.g. "Bottlerocket OS 1.50.0 (aws-k8s-1.31)". */
  readonly osImage: string;
}

/** The node at `context`, or undefined when the API answers 404. */
export async function readNode(
  choice: { readonly cluster: string; readonly context: string },
  name: string,
  o: KubeOptions = {},
): Promise<NodeSummary | undefined> {
  const kube = connectKube(choice, o);
  const n = await kube.read(`read node ${name}`, (opt) => kube.core.readNode({ name }, opt));
  return n && { name, osImage: n.status?.nodeInfo?.osImage ?? '' };
}
