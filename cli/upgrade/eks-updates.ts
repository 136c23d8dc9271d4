/**
 * EKS updates `upgrade apply` makes, each waited on with DescribeUpdate (EKS API Reference, API_DescribeUpdate.html:
 * an update is InProgress, then Successful, Failed or Cancelled; a failed update's `errors` carry the code and
 * message). The waits go through the stage clock, so Ctrl-C ends a wait, never a call.
 */
import {
  DescribeClusterCommand,
  DescribeUpdateCommand,
  EKSClient,
  paginateListUpdates,
  UpdateAddonCommand,
  UpdateClusterVersionCommand,
  UpdateNodegroupVersionCommand,
  type Update,
} from '@aws-sdk/client-eks';
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
  toRelease(cluster: string, nodegroup: string, releaseVersion: string, clock: StageClock, version?: string): Promise<void>;
}

/** The control plane and add-on updates of a Kubernetes minor, each waited on like the node group's. */
export interface ClusterUpdater {
  /** EKS UpdateClusterVersion (one minor at a time, API_UpdateClusterVersion.html), then DescribeUpdate until it ends. */
  controlPlane(cluster: string, version: string, clock: StageClock): Promise<void>;
  /** EKS UpdateAddon with the pinned version (API_UpdateAddon.html), then DescribeUpdate until it ends. */
  addon(cluster: string, addon: string, version: string, clock: StageClock): Promise<void>;
}

/**
 * An update of the resource still InProgress (ListUpdates, then DescribeUpdate: API_ListUpdates.html), e.g. one a run
 * interrupted by Ctrl-C left behind: EKS goes on with it, and a second one is refused (ResourceInUseException).
 * Every page is read: ListUpdates returns up to 100 IDs per call (maxResults 1-100, default 100) and a nextToken while
 * more remain, and a cluster keeps its ended updates listed (every add-on and node group update adds one), so the
 * pending one may be on a later page. The SDK's paginator follows nextToken.
 */
async function pendingUpdate(
  client: EKSClient,
  scope: { readonly name: string; readonly nodegroupName?: string; readonly addonName?: string },
): Promise<Update | undefined> {
  for await (const page of paginateListUpdates({ client }, scope))
    for (const updateId of page.updateIds ?? []) {
      const u = (await client.send(new DescribeUpdateCommand({ ...scope, updateId }))).update;
      if (u?.status === 'InProgress') return u;
    }
  return undefined;
}

/** Waits for an update a previous run started; true when it moved the resource to `value` (its `param` update parameter). */
async function resumed(
  client: EKSClient,
  scope: { readonly name: string; readonly nodegroupName?: string; readonly addonName?: string },
  param: string,
  value: string,
  what: string,
  clock: StageClock,
): Promise<boolean> {
  const pending = await pendingUpdate(client, scope);
  if (!pending) return false;
  clock.log(`  ${scope.name}: waiting for EKS update ${pending.id ?? ''} a previous run started (${what})`);
  await waitForUpdate(client, scope, pending, what, clock);
  return pending.params?.some((p) => p.type === param && p.value === value) ?? false;
}

export function clusterUpdater(client: EKSClient): ClusterUpdater {
  return {
    async controlPlane(name, version, clock) {
      const what = `control plane of cluster ${name} to ${version}`;
      if (await resumed(client, { name }, 'Version', version, what, clock)) return;
      // An update a previous run started may have ended since: the control plane is there already.
      if ((await client.send(new DescribeClusterCommand({ name }))).cluster?.version === version) return;
      clock.log(`  ${name}: updating the control plane to ${version} (EKS UpdateClusterVersion)`);
      // force stays false: an upgrade-blocking readiness check refuses the update (API_UpdateClusterVersion.html `force`).
      const r = await client.send(new UpdateClusterVersionCommand({ name, version }));
      await waitForUpdate(client, { name }, r.update ?? {}, what, clock);
    },
    async addon(clusterName, addonName, addonVersion, clock) {
      clock.log(`  ${clusterName}: updating add-on ${addonName} to ${addonVersion} (EKS UpdateAddon)`);
      const r = await client.send(new UpdateAddonCommand({ clusterName, addonName, addonVersion }));
      await waitForUpdate(client, { name: clusterName, addonName }, r.update ?? {}, `add-on ${addonName} of cluster ${clusterName} to ${addonVersion}`, clock);
    },
  };
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
    async toRelease(cluster, nodegroupName, releaseVersion, clock, version) {
      const what = `node group ${nodegroupName} of cluster ${cluster} to ${version ? `${version}, ` : ''}release ${releaseVersion}`;
      if (await resumed(client, { name: cluster, nodegroupName }, 'ReleaseVersion', releaseVersion, what, clock)) return;
      clock.log(`  ${cluster}: updating ${what.replace(` of cluster ${cluster}`, '')} (EKS UpdateNodegroupVersion)`);
      // force stays false: a pod a PodDisruptionBudget protects fails the update (PodEvictionFailure) instead of being evicted.
      const r = await client.send(new UpdateNodegroupVersionCommand({ clusterName: cluster, nodegroupName, version, releaseVersion, force: false }));
      await waitForUpdate(client, { name: cluster, nodegroupName }, r.update ?? {}, what, clock);
    },
  };
}
