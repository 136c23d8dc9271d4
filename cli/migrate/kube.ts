/** The few Kubernetes calls the migration commands make, behind an interface the tests can serve. */
export interface NodeInfo {
  readonly name: string;
  readonly osImage: string;
  readonly unschedulable: boolean;
  readonly annotations: Record<string, string>;
  readonly labels: Record<string, string>;
}

export interface OwnerRef { readonly kind: string; readonly name: string }

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName?: string;
  readonly phase: string;
  readonly createdAt: Date;
  readonly owner?: OwnerRef;
  readonly mirror: boolean;
}

export interface WorkloadStatus { readonly desired: number; readonly available: number }

export type EvictionOutcome = 'evicted' | 'blocked' | 'gone';

export interface KubeApi {
  listNodes(labelSelector?: string): Promise<NodeInfo[]>;
  /** JSON merge patch of a node (cordon flag and our annotations). */
  patchNode(name: string, patch: { unschedulable?: boolean; annotations?: Record<string, string> }): Promise<void>;
  listPods(fieldSelector: string): Promise<PodInfo[]>;
  /** Eviction API: 'blocked' is HTTP 429 (a PodDisruptionBudget allows no disruption now). */
  evictPod(namespace: string, name: string): Promise<EvictionOutcome>;
  /** The controller owning a ReplicaSet (its Deployment), or undefined. */
  replicaSetOwner(namespace: string, name: string): Promise<OwnerRef | undefined>;
  workloadStatus(kind: string, namespace: string, name: string): Promise<WorkloadStatus>;
  deleteDaemonSet(namespace: string, name: string): Promise<boolean>;
}
