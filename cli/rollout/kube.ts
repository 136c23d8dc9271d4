/** The Kubernetes calls a rollout makes in one cluster, behind an interface the tests can serve. */
import type { KubernetesManifest } from '../../modules/kubernetes/manifest';
import type { PodHealth } from '../shared/health';

export interface NodeClassInfo {
  readonly name: string;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface NodeClaimInfo {
  readonly name: string;
  readonly nodePool: string;
  /** karpenter.k8s.aws/ec2nodeclass-hash: the class hash it was launched with. */
  readonly hash?: string;
  readonly nodeName?: string;
  readonly createdAt: Date;
}

export interface NodeInfo {
  readonly name: string;
  readonly ready: boolean;
}

export interface PodInfo extends PodHealth {
  readonly owner?: { readonly kind: string; readonly name: string };
}

export interface RolloutKube {
  getNodeClass(name: string): Promise<NodeClassInfo | undefined>;
  /** Server-side apply with the kubectl provider's field manager (no force: a conflict is an error). */
  applyNodeClass(manifest: KubernetesManifest): Promise<void>;
  /** JSON merge patch of annotations (null removes), under the rollout's own field manager. */
  annotateNodeClass(name: string, annotations: Record<string, string | null>): Promise<void>;
  listNodeClaims(): Promise<NodeClaimInfo[]>;
  listNodes(): Promise<NodeInfo[]>;
  listPods(): Promise<PodInfo[]>;
  /** Deployment or StatefulSet availability; a ReplicaSet resolves to its Deployment. Undefined: not a workload we check. */
  workload(
    kind: string,
    namespace: string,
    name: string,
  ): Promise<{ kind: string; namespace: string; name: string; desired: number; available: number } | undefined>;
}
