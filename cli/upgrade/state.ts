/** Reads the fleet file, each cluster's running state, and plans: what `upgrade plan`, `status` and `apply` start from. */
import type { Fleet } from '../../modules/fleet/load';
import type { RegionApi } from '../rollout/aws';
import type { UpgradeEks } from './aws';
import { desiredCluster, upgradeContracts } from './desired';
import type { UpgradeKube } from './kube-client';
import { planUpgrade, type RunningCluster, type UpgradePlan } from './plan';
import { readRunningCluster } from './running';
import { clusterStatus, type ClusterStatus } from './status';

export interface StateDeps {
  readonly eks: (region: string) => UpgradeEks;
  readonly region: (region: string) => RegionApi;
  readonly kube: (cluster: string) => UpgradeKube;
}

export interface UpgradeState {
  readonly plan: UpgradePlan;
  readonly running: ReadonlyMap<string, RunningCluster>;
  readonly status: ClusterStatus[];
}

export async function upgradeState(fleet: Fleet, deps: StateDeps): Promise<UpgradeState> {
  const running = new Map<string, RunningCluster>();
  for (const c of fleet.clusters) {
    const r = await readRunningCluster(c, deps.eks(c.region), () => deps.kube(c.name));
    if (r) running.set(c.name, r);
  }
  const desired = await Promise.all(fleet.clusters.map((c) => desiredCluster(fleet, c, running.get(c.name), { aws: deps.region })));
  const contracts = (name: string) => upgradeContracts(fleet.clusters.find((c) => c.name === name)!);
  const plan = planUpgrade(desired, running, fleet.rollout?.stages, contracts);
  return { plan, running, status: fleet.clusters.map((c) => clusterStatus(c.name, running.get(c.name))) };
}
