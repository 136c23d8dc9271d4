/** The few Kubernetes calls the migration commands make, behind an interface the tests can serve. */
export interface NodeInfo {
  readonly name: string;
  readonly osImage: string;
  readonly unschedulable: boolean;
  readonly annotations: Record<string, string>;
  readonly labels: Record<string, string>;
}

export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
}

export interface EmptyDirVolume {
  readonly name: string;
  /** "" (the node's disk) or "Memory" (tmpfs). */
  readonly medium: string;
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  /** Tells a pod from its replacement under the same name (a StatefulSet's). */
  readonly uid: string;
  readonly nodeName?: string;
  readonly phase: string;
  readonly createdAt: Date;
  readonly owner?: OwnerRef;
  readonly mirror: boolean;
  /** metadata.deletionTimestamp: the pod is shutting down. */
  readonly terminatingSince?: Date;
  /** spec.terminationGracePeriodSeconds (the API's default is 30). */
  readonly gracePeriodSeconds: number;
  readonly emptyDirs: readonly EmptyDirVolume[];
}

/** The workload kinds whose health the drain checks after a batch (see drain.ts workloadOf). */
export type TrackedKind = 'Deployment' | 'StatefulSet' | 'ReplicaSet';

export interface WorkloadStatus {
  readonly desired: number;
  readonly available: number;
}

/** 'namespace-terminating': a 403 whose status names the cause NamespaceTerminating (the namespace is being deleted). */
export type EvictionOutcome = 'evicted' | 'blocked' | 'gone' | 'conflict' | 'namespace-terminating';

/** A failed API call, classified by the Kubernetes access layer (transient or not). */
export { KubeApiError } from '../shared/kube/errors';

export interface KubeApi {
  listNodes(labelSelector?: string): Promise<NodeInfo[]>;
  /** JSON merge patch of a node (cordon flag and our annotations). */
  patchNode(name: string, patch: { unschedulable?: boolean; annotations?: Record<string, string> }): Promise<void>;
  listPods(fieldSelector: string): Promise<PodInfo[]>;
  /** The pod, or undefined when it does not exist (404). */
  getPod(namespace: string, name: string): Promise<PodInfo | undefined>;
  /**
   * Eviction API: 'blocked' is a 429 whose status names a PodDisruptionBudget (cause "DisruptionBudget");
   * 'gone' is a 404 (the pod vanished since it was listed); 'conflict' is a 409, which the UID precondition
   * sent with `uid` answers when the name now belongs to another pod. Any other failure throws a KubeApiError.
   */
  evictPod(namespace: string, name: string, uid: string): Promise<EvictionOutcome>;
  /** The controller owning a ReplicaSet (`owner` left out when none); undefined when the ReplicaSet does not exist (404). */
  replicaSetOwner(namespace: string, name: string): Promise<{ owner?: OwnerRef } | undefined>;
  /** Desired and available replicas; undefined when the workload does not exist (404: deleted meanwhile). */
  workloadStatus(kind: TrackedKind, namespace: string, name: string): Promise<WorkloadStatus | undefined>;
  /** The DaemonSet's desired pod count; undefined when it does not exist (404). */
  readDaemonSet(namespace: string, name: string): Promise<{ desired: number } | undefined>;
  /** true: deleted; false: it did not exist (404). */
  deleteDaemonSet(namespace: string, name: string): Promise<boolean>;
}
