/**
 * What a rollout of one cache touches, as pure data: per stage, the clusters that use the cache, their
 * pools on it, the region and the per-cluster parameter. Also the annotations that record progress on
 * each affected EC2NodeClass (they survive the process, so a re-run resumes).
 */
import type { Cluster, Fleet, ImageCache, NodePool } from '../../modules/fleet/load';
import { clusterParameterPath } from '../../modules/image-cache/parameters';
import { clustersUsingCache } from '../../modules/fleet/rollout';
import { parseDuration } from '../shared/duration';
import { UsageError } from '../shared/exit-code';

/** The field manager of the kubectl provider (alekc/kubectl: field_manager defaults to "kubectl"). */
export const FIELD_MANAGER = 'kubectl';
/** Karpenter's hash of the EC2NodeClass spec, on the class and on every NodeClaim launched from it. */
export const NODE_CLASS_HASH_ANNOTATION = 'karpenter.k8s.aws/ec2nodeclass-hash';
/** The hash's version (aws/karpenter-provider-aws v1.14.1 pkg/apis/v1/labels.go). */
export const NODE_CLASS_HASH_VERSION_ANNOTATION = 'karpenter.k8s.aws/ec2nodeclass-hash-version';
/**
 * EC2NodeClassHashVersion at v1.14.1 (pkg/apis/v1/ec2nodeclass.go). A class on another version is migrated
 * by the hash controller, which rewrites not-yet-drifted NodeClaims' hash in place (pkg/controllers/nodeclass/hash/controller.go).
 */
export const EXPECTED_HASH_VERSION = 'v5';
/** Progress, on each affected EC2NodeClass (merge-patched by the rollout's own field manager). */
export const ANNOTATIONS = {
  /** The generation being rolled out: the home-region snapshot ID. */
  target: 'bottlerocket-fleet/rollout-target',
  /** starting | applied | converged | done | blocked | rolled-back */
  state: 'bottlerocket-fleet/rollout-state',
  /** Why the state is blocked or rolled-back, in one line. */
  reason: 'bottlerocket-fleet/rollout-reason',
  /** The class's exact spec before this generation's apply, as JSON: what a rollback restores. */
  previousSpec: 'bottlerocket-fleet/rollout-previous-spec',
  /** When this run applied the new spec: only NodeClaims created after it are the new generation. */
  appliedAt: 'bottlerocket-fleet/rollout-applied-at',
  /** The class hash of a generation that was rolled back: its leftover NodeClaims are cleaned up. */
  failedHash: 'bottlerocket-fleet/rollout-failed-hash',
  /** The cluster parameter's value before this generation (what a rollback restores). */
  previous: 'bottlerocket-fleet/rollout-previous',
  /** The class's Karpenter hash before this generation's apply. */
  previousHash: 'bottlerocket-fleet/rollout-previous-hash',
  updated: 'bottlerocket-fleet/rollout-updated',
} as const;
export type ProgressState = 'starting' | 'applied' | 'converged' | 'done' | 'blocked' | 'rolled-back';
/** A rollout or upgrade in one of these states owns the cluster's node classes: another change of the node image waits. */
export const IN_PROGRESS_STATES: ReadonlySet<string> = new Set<ProgressState>(['starting', 'applied', 'converged', 'blocked']);

/** Progress of an upgrade, on each EC2NodeClass of the cluster (merge-patched by the rollout's progress field manager). */
export const UPGRADE_ANNOTATIONS = {
  /** The alias being applied (bottlerocket@v1.56.0). */
  target: 'bottlerocket-fleet/upgrade-target',
  /** starting | applied | converged | done | blocked | rolled-back */
  state: 'bottlerocket-fleet/upgrade-state',
  reason: 'bottlerocket-fleet/upgrade-reason',
  /** The class's exact spec before the upgrade, as JSON: what a rollback restores. */
  previousSpec: 'bottlerocket-fleet/upgrade-previous-spec',
  /** When the new alias was applied (ms): only NodeClaims created since are on the new image. */
  appliedAt: 'bottlerocket-fleet/upgrade-applied-at',
  /** The step a Kubernetes minor is in (freeze-drift, update-control-plane, ...; cli/upgrade/minor-steps.ts). */
  step: 'bottlerocket-fleet/upgrade-step',
  /**
   * The cache generation (snapshot ID) a Kubernetes minor built or adopted for this class (cli/upgrade/cache-generation.ts),
   * so a re-run applies it instead of building again; checked like any pointer before it is trusted.
   */
  generation: 'bottlerocket-fleet/upgrade-generation',
  /** Which `upgrade apply` process works on the cluster now, as JSON {run, host, pid, renewedAt} (cli/upgrade/owner.ts). */
  owner: 'bottlerocket-fleet/upgrade-owner',
} as const;

/** Field manager for the progress annotations, so the kubectl provider's apply never removes them. */
export const PROGRESS_FIELD_MANAGER = 'bottlerocket-fleet-rollout';

export interface ClusterStep {
  readonly stage: string;
  readonly cluster: Cluster;
  readonly region: string;
  /** Pools of the cluster on this cache (their node classes are re-rendered). */
  readonly pools: readonly NodePool[];
  readonly parameter: string;
}

export interface StagePlan {
  readonly name: string;
  readonly soakMs: number;
  /** As written in the fleet file (30m). */
  readonly soak: string;
  readonly clusters: readonly ClusterStep[];
}

export interface RolloutPlan {
  readonly cache: ImageCache;
  readonly healthTimeoutMs: number;
  readonly healthTimeout: string;
  /** rollout.cacheMisses: what a cached image pulled on a new node does to the health gate (cache-gate.ts). */
  readonly cacheMisses: 'fail' | 'warn';
  readonly stages: readonly StagePlan[];
}

/** A usage error (exit 2): the cache or the fleet's rollout section does not allow this rollout. */
export class RolloutUsageError extends UsageError {}

/** The stages for one cache: clusters that do not use it are left out, stages left empty are kept (printed as such). */
export function planRollout(fleet: Fleet, cacheName: string): RolloutPlan {
  const cache = fleet.imageCaches.find((c) => c.name === cacheName);
  if (!cache) throw new RolloutUsageError(`unknown image cache "${cacheName}" (known: ${fleet.imageCaches.map((c) => c.name).join(', ') || 'none'})`);
  if (!fleet.rollout)
    throw new RolloutUsageError(
      `${fleet.file} has no rollout section: add rollout.stages (see docs/rollout.md); without it every cluster follows the latest snapshot on its next apply`,
    );
  if (!cache.built) throw new RolloutUsageError(`cache ${cache.name} is marked built: false: build it and remove built: false first`);
  const users = new Set(clustersUsingCache(fleet.clusters, cache.name).map((c) => c.name));
  return {
    cache,
    healthTimeoutMs: parseDuration(fleet.rollout.healthTimeout),
    healthTimeout: fleet.rollout.healthTimeout,
    cacheMisses: fleet.rollout.cacheMisses,
    stages: fleet.rollout.stages.map((s) => ({
      name: s.name,
      soakMs: parseDuration(s.soak),
      soak: s.soak,
      clusters: s.clusters
        .filter((n) => users.has(n))
        .map((n) => {
          const cluster = fleet.clusters.find((c) => c.name === n)!;
          return {
            stage: s.name,
            cluster,
            region: cluster.region,
            pools: cluster.karpenter!.nodePools.filter((p) => p.imageCache === cache.name),
            parameter: clusterParameterPath(cache.parameterPath, cluster.name),
          };
        }),
    })),
  };
}

/** The stack that makes a region's copy (and the cluster parameters). */
export function replicationStack(cache: ImageCache): string {
  return `image-cache-${cache.name}`;
}
