/**
 * The steps of a Kubernetes minor before alias and snapshot are applied (issue 31, cli/upgrade/plan.ts minorSteps):
 * record the upgrade and freeze drift, build the cache generation both variants mount if needed (cache-generation.ts),
 * then the control plane (EKS UpdateClusterVersion), the system node group
 * (UpdateNodegroupVersion with the pinned release's image_version), the add-ons (UpdateAddon, pinned versions), and
 * the wait until every class resolves the new variant. Each step is recorded on the node classes before it starts
 * (bottlerocket-fleet/upgrade-step), so Ctrl-C leaves a state that names it; a re-run re-plans from what EKS reports
 * and does not repeat a finished EKS update.
 */
import { nodeClassName } from '../../modules/karpenter/node-class';
import type { NodePool } from '../../modules/fleet/load';
import type { RolloutKube } from '../rollout/kube';
import { UPGRADE_ANNOTATIONS } from '../rollout/model';
import type { StageClock } from '../rollout/stages';
import { EksUpdateFailed, type ClusterUpdater } from './eks-updates';
import { freezeDrift, liftFreeze } from './freeze';
import { GenerationUnavailable } from './cache-generation';

/** EKS refused the control plane update (a readiness check, a jump): the freeze was lifted, nothing else written. */
export class ControlPlaneRefused extends Error {}

export interface MinorTarget {
  readonly cluster: string;
  readonly pools: readonly NodePool[];
  /** The control plane's target version; undefined: it is there already (a resumed run). */
  readonly controlPlane?: string;
  /** The recorded owner of the freeze, e.g. "upgrade of ml-train to Kubernetes 1.35, bottlerocket@v1.56.0". */
  readonly owner: string;
}

export async function recordStep(kube: RolloutKube, pools: readonly NodePool[], step: string | null): Promise<void> {
  for (const pool of pools) await kube.annotateNodeClass(nodeClassName(pool), { [UPGRADE_ANNOTATIONS.step]: step });
}

/**
 * Freeze, then (a minor needing a new cache generation, step 2) `prepare`, then the control plane. A failed `prepare`
 * or a refused update (EKS answers with an error, or the update ends Failed) lifts the freeze and removes what was
 * recorded, then throws (GenerationUnavailable, ControlPlaneRefused with EKS's message): the control plane never moves.
 */
export async function moveControlPlane(
  kube: RolloutKube,
  t: MinorTarget,
  updater: ClusterUpdater,
  clock: StageClock,
  record: () => Promise<void>,
  forget: () => Promise<void>,
  prepare?: () => Promise<void>,
): Promise<void> {
  if (t.controlPlane === undefined) return;
  await record();
  await recordStep(kube, t.pools, 'freeze-drift');
  await freezeDrift(kube, t.pools, t.owner);
  const undo = async () => {
    await liftFreeze(kube, t.pools);
    await forget();
  };
  if (prepare) {
    await recordStep(kube, t.pools, 'build-cache');
    try {
      await prepare();
    } catch (e) {
      await undo();
      throw new GenerationUnavailable(`${(e as Error).message}; the drift freeze was lifted, the control plane and the node classes were not changed`);
    }
  }
  await recordStep(kube, t.pools, 'update-control-plane');
  try {
    await updater.controlPlane(t.cluster, t.controlPlane, clock);
  } catch (e) {
    if (!isEksRefusal(e)) throw e;
    await undo();
    throw new ControlPlaneRefused(
      `cluster ${t.cluster}: EKS refused the control plane update to ${t.controlPlane}: ${(e as Error).message}; the drift freeze was lifted and nothing else was changed`,
    );
  }
}

/** An answer of EKS (a service exception or a failed update), not a lost connection or Ctrl-C. */
function isEksRefusal(e: unknown): boolean {
  return e instanceof EksUpdateFailed || (e as { $fault?: string } | undefined)?.$fault === 'client';
}

/**
 * Waits until every class resolves images of the target variant only (status.amis ⊆ `images`, the public image_id
 * parameters of the classes' release for the target version): Karpenter polls the control plane's version every 5
 * minutes (A pkg/controllers/providers/version/controller.go) and then re-resolves the alias (A pkg/controllers/
 * nodeclass/ami.go). No image for the variant (`images` empty): nothing to wait for.
 */
export async function waitForVariant(
  kube: RolloutKube,
  t: { readonly cluster: string; readonly pools: readonly NodePool[]; readonly variant: string },
  images: readonly string[],
  clock: StageClock,
  timeoutMs: number,
): Promise<void> {
  if (images.length === 0) return;
  const start = clock.now();
  for (;;) {
    const classes = await Promise.all(t.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
    const behind = classes.filter((c) => !c?.amis?.length || c.amis.some((id) => !images.includes(id)));
    if (behind.length === 0) return;
    if (clock.now() - start > timeoutMs)
      throw new Error(
        `cluster ${t.cluster}: EC2NodeClass ${behind.map((c) => c?.name ?? '?').join(', ')} did not resolve aws-k8s-${t.variant} within ${Math.round(timeoutMs / 60_000)} minutes (status.amis); re-run to resume`,
      );
    await clock.wait();
  }
}
