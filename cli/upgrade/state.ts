/** Reads the fleet file, each cluster's running state, and plans: what `upgrade plan` and `status` print. */
import { fleetFileFromEnvironment, loadFleet } from '../../modules/fleet/load';
import { upgradeAws, type UpgradeAws } from './aws';
import { desiredCluster, upgradeContracts } from './desired';
import { upgradeKube } from './kube-client';
import { planUpgrade, type RunningCluster, type UpgradePlan } from './plan';
import { readRunningCluster } from './running';
import { clusterStatus, type ClusterStatus } from './status';
import type { UpgradeArguments } from './main';

/** One value per key, made on first use. */
function memo<T>(make: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return (key) => {
    if (!made.has(key)) made.set(key, make(key));
    return made.get(key)!;
  };
}

export async function readFleetState(args: UpgradeArguments, log: (line: string) => void): Promise<{ plan: UpgradePlan; status: ClusterStatus[] }> {
  const fleet = loadFleet(fleetFileFromEnvironment());
  const aws = memo<UpgradeAws>(upgradeAws);
  const running = new Map<string, RunningCluster>();
  for (const c of fleet.clusters) {
    const kube = () => upgradeKube(args.contexts.get(c.name) ?? c.name, { cluster: c.name, region: c.region, requestTimeoutMs: args.requestTimeoutMs, log });
    const r = await readRunningCluster(c, aws(c.region).eks, kube);
    if (r) running.set(c.name, r);
  }
  const desired = await Promise.all(fleet.clusters.map((c) => desiredCluster(fleet, c, running.get(c.name), { aws: (region) => aws(region).region })));
  const contracts = (name: string) => upgradeContracts(fleet.clusters.find((c) => c.name === name)!);
  const plan = planUpgrade(desired, running, fleet.rollout?.stages, contracts);
  return { plan, status: fleet.clusters.map((c) => clusterStatus(c.name, running.get(c.name))) };
}
