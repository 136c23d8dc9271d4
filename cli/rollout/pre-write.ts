/**
 * Checks a cluster must pass before the rollout writes anything there (parameter, node classes). A failed
 * check throws RolloutBlocked: nothing was changed. Other pre-write checks (cluster identity, provenance)
 * belong here too, so every write path goes through one gate.
 */
import { nodeClassName } from '../../modules/karpenter/node-class';
import type { ClusterStep } from './model';
import { EXPECTED_HASH_VERSION, NODE_CLASS_HASH_VERSION_ANNOTATION } from './model';
import type { NodeClassInfo } from './kube';

export class RolloutBlocked extends Error {}

/**
 * A class whose hash version is not the current one is about to be migrated by Karpenter's hash controller,
 * which rewrites every not-yet-drifted NodeClaim's hash to the class's *current* hash in place (aws/karpenter-
 * provider-aws v1.14.1 pkg/controllers/nodeclass/hash/controller.go updateNodeClaimHash). Applied now, the new
 * snapshot's hash would land on the old nodes: they would look converged and never drift.
 */
export function checkHashVersions(step: ClusterStep, classes: readonly (NodeClassInfo | undefined)[]): void {
  const stale = step.pools.flatMap((pool, i) => {
    const v = classes[i]?.annotations[NODE_CLASS_HASH_VERSION_ANNOTATION];
    return v === EXPECTED_HASH_VERSION ? [] : [`EC2NodeClass ${nodeClassName(pool)} has hash version ${v ?? '(none)'}`];
  });
  if (stale.length > 0)
    throw new RolloutBlocked(
      `cluster ${step.cluster.name}: nothing was changed: ${stale.join('; ')}, not ${EXPECTED_HASH_VERSION}. Karpenter has not migrated it yet, and its migration rehashes existing NodeClaims in place, so a new snapshot applied now would never replace them. Make sure Karpenter v1.14.1 runs in the cluster and has reconciled the class (kubectl get ec2nodeclass -o yaml shows ${NODE_CLASS_HASH_VERSION_ANNOTATION}: ${EXPECTED_HASH_VERSION}), then re-run`,
    );
}
