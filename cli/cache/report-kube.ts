/** What `cache report` reads from a cluster, behind an interface the tests can serve (client: report-kube-client.ts). */

export interface ClaimRecord {
  readonly name: string;
  /** Label karpenter.sh/nodepool. */
  readonly pool: string;
  readonly nodeName?: string;
  readonly createdAt: Date;
  /** karpenter.k8s.aws/ec2nodeclass-hash: the class hash it was launched with. */
  readonly hash?: string;
  /** lastTransitionTime of the Registered / Initialized conditions, when True (Karpenter pkg/apis/v1/nodeclaim_status.go). */
  readonly registeredAt?: Date;
  readonly initializedAt?: Date;
}

export interface NodeRecord {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerRecord {
  readonly name: string;
  readonly image: string;
  /** state.running.startedAt, else the startedAt of a terminated state. */
  readonly startedAt?: Date;
}

export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName?: string;
  /** lastTransitionTime of the PodScheduled and Ready conditions, when True. */
  readonly scheduledAt?: Date;
  readonly readyAt?: Date;
  readonly containers: readonly ContainerRecord[];
}

export interface EventRecord {
  readonly reason: string;
  readonly message: string;
  /** involvedObject, when it is a Pod. */
  readonly pod?: { readonly namespace: string; readonly name: string };
  /** involvedObject.fieldPath: spec.containers{name}. */
  readonly fieldPath?: string;
  /** The node that reported it (source.host; reportingInstance for events written through events.k8s.io). */
  readonly node?: string;
  /** How many times it occurred: count, or series.count (already the total, client-go tools/events). */
  readonly count: number;
  readonly firstAt: Date;
  readonly lastAt: Date;
}

export interface CacheKube {
  listNodeClaims(): Promise<ClaimRecord[]>;
  listNodes(): Promise<NodeRecord[]>;
  listPods(): Promise<PodRecord[]>;
  /** Every event of the cluster, all pages. */
  listEvents(): Promise<EventRecord[]>;
}
