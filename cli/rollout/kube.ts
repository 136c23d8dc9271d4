/** The Kubernetes calls a rollout makes in one cluster, behind an interface the tests can serve. */
import type { KubernetesManifest } from '../../modules/kubernetes/manifest';
import type { BudgetLike } from '../../modules/karpenter/disruption-budget';
import type { PodHealth } from '../shared/health';

export interface Condition {
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
}

export interface NodeClassInfo {
  readonly name: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** The spec as stored (what a rollback restores exactly). */
  readonly spec?: unknown;
  readonly generation?: number;
  /** status.conditions[type=Ready]: Karpenter refuses launches unless True for this generation (AWS pkg/cloudprovider/cloudprovider.go). */
  readonly ready?: Condition;
  /** status.amis[].id: the images the class resolves now (A pkg/apis/v1/ec2nodeclass_status.go). */
  readonly amis?: readonly string[];
}

/** A NodePool's annotations and spec.disruption.budgets (what an upgrade's drift freeze changes). */
export interface NodePoolInfo {
  readonly annotations: Readonly<Record<string, string>>;
  readonly budgets: readonly BudgetLike[];
}

export interface NodeClaimInfo {
  readonly name: string;
  readonly nodePool: string;
  /** karpenter.k8s.aws/ec2nodeclass-hash: the class hash it was launched with (or rehashed to). */
  readonly hash?: string;
  /** karpenter.k8s.aws/ec2nodeclass-hash-version. */
  readonly hashVersion?: string;
  readonly nodeName?: string;
  readonly createdAt: Date;
  /** Conditions by type (Launched, Registered, Initialized, Drifted, ...). */
  readonly conditions: Readonly<Partial<Record<string, Condition>>>;
  readonly deleting: boolean;
  /** spec.terminationGracePeriod set: drift then ignores pods that block eviction (disruption/types.go NewCandidate). */
  readonly terminationGracePeriod?: string;
}

export interface NodeInfo {
  readonly name: string;
  readonly ready: boolean;
  /** Label karpenter.sh/initialized=true (StateNode.Initialized, state/statenode.go). */
  readonly initialized: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  readonly deleting: boolean;
}

export interface PodInfo extends PodHealth {
  readonly owner?: { readonly kind: string; readonly name: string };
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startedAt?: Date;
  readonly deleting: boolean;
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

export interface PdbInfo {
  readonly namespace: string;
  readonly name: string;
  /** Undefined: no selector, which selects no pod (policy/v1). */
  readonly selector?: LabelSelector;
  readonly disruptionsAllowed: number;
  /** spec.unhealthyPodEvictionPolicy AlwaysAllow: unready pods never block (utils/pdb/pdb.go). */
  readonly alwaysAllowUnhealthy: boolean;
}

/** A server-side apply refused because another field manager owns fields with other values (HTTP 409). */
export class ApplyConflictError extends Error {
  constructor(
    readonly nodeClass: string,
    readonly conflicts: readonly { readonly manager: string; readonly field: string }[],
    message: string,
  ) {
    super(message);
  }
}

export interface RolloutKube {
  getNodeClass(name: string): Promise<NodeClassInfo | undefined>;
  /** Server-side apply with the kubectl provider's field manager (no force: a conflict throws ApplyConflictError). */
  applyNodeClass(manifest: KubernetesManifest): Promise<void>;
  /** JSON merge patch of annotations (null removes), under the rollout's own field manager. */
  annotateNodeClass(name: string, annotations: Record<string, string | null>): Promise<void>;
  /** The NodePool's spec.disruption.budgets (undefined: no such NodePool). */
  nodePoolBudgets(name: string): Promise<readonly BudgetLike[] | undefined>;
  /** The NodePool's annotations and budgets (undefined: no such NodePool). */
  getNodePool(name: string): Promise<NodePoolInfo | undefined>;
  /**
   * ONE JSON merge patch of the NodePool's annotations (null removes) and budgets, under the rollout's progress field
   * manager: the freeze and its owner are written together or not at all.
   */
  patchNodePool(name: string, patch: { readonly annotations: Record<string, string | null>; readonly budgets: readonly BudgetLike[] }): Promise<void>;
  listNodeClaims(): Promise<NodeClaimInfo[]>;
  deleteNodeClaim(name: string): Promise<void>;
  listNodes(): Promise<NodeInfo[]>;
  listPods(): Promise<PodInfo[]>;
  listPdbs(): Promise<PdbInfo[]>;
  /** Deployment or StatefulSet availability; a ReplicaSet resolves to its Deployment. Undefined: not a workload we check. */
  workload(
    kind: string,
    namespace: string,
    name: string,
  ): Promise<{ kind: string; namespace: string; name: string; desired: number; available: number } | undefined>;
}

/** metav1.LabelSelectorAsSelector semantics: matchLabels AND every expression (In, NotIn, Exists, DoesNotExist); an empty selector matches all. */
export function selectorMatches(s: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
