/**
 * EKS updates `upgrade apply` makes, each waited on with DescribeUpdate (EKS API Reference, API_DescribeUpdate.html:
 * an update is InProgress, then Successful, Failed or Cancelled; a failed update's `errors` carry the code and
 * message). The waits go through the stage clock, so Ctrl-C ends a wait, never a call.
 */
import { DescribeUpdateCommand, EKSClient, UpdateNodegroupVersionCommand, type Update } from '@aws-sdk/client-eks';
import type { StageClock } from '../rollout/stages';

/** An EKS update ended Failed or Cancelled: its errors, as EKS wrote them. */
export class EksUpdateFailed extends Error {
  constructor(
    readonly what: string,
    readonly update: Update,
  ) {
    const errors = (update.errors ?? []).map((e) => `${e.errorCode ?? 'error'}: ${e.errorMessage ?? ''}`).join('; ');
    super(`${what}: EKS update ${update.id ?? ''} ended ${update.status ?? 'unknown'}${errors ? ` (${errors})` : ''}`);
  }
}

export interface NodegroupUpdater {
  /** Moves the node group to `releaseVersion` (UpdateNodegroupVersion) and waits until the update ends. */
  toRelease(cluster: string, nodegroup: string, releaseVersion: string, clock: StageClock): Promise<void>;
}

/** Polls DescribeUpdate until the update is no longer InProgress; throws EksUpdateFailed unless it is Successful. */
export async function waitForUpdate(
  client: EKSClient,
  scope: { readonly name: string; readonly nodegroupName?: string; readonly addonName?: string },
  update: Update,
  what: string,
  clock: StageClock,
): Promise<void> {
  let u = update;
  while (u.status === 'InProgress') {
    await clock.wait();
    u = (await client.send(new DescribeUpdateCommand({ ...scope, updateId: update.id }))).update ?? u;
  }
  if (u.status !== 'Successful') throw new EksUpdateFailed(what, u);
}

export function nodegroupUpdater(client: EKSClient): NodegroupUpdater {
  return {
    async toRelease(cluster, nodegroupName, releaseVersion, clock) {
      const what = `node group ${nodegroupName} of cluster ${cluster} to release ${releaseVersion}`;
      clock.log(`  ${cluster}: updating ${what.replace(` of cluster ${cluster}`, '')} (EKS UpdateNodegroupVersion)`);
      // force stays false: a pod a PodDisruptionBudget protects fails the update (PodEvictionFailure) instead of being evicted.
      const r = await client.send(new UpdateNodegroupVersionCommand({ clusterName: cluster, nodegroupName, releaseVersion, force: false }));
      await waitForUpdate(client, { name: cluster, nodegroupName }, r.update ?? {}, what, clock);
    },
  };
}
