/** What every `upgrade` action talks to: the fleet file, AWS per region and Kubernetes per cluster (each built once). */
import { fleetFileFromEnvironment, loadFleet, type Fleet } from '../../modules/fleet/load';
import type { RegionApi } from '../rollout/aws';
import { rolloutKube } from '../rollout/kube-client';
import type { RolloutKube } from '../rollout/kube';
import { upgradeAws, type UpgradeEks } from './aws';
import { upgradeKube, type UpgradeKube } from './kube-client';
import type { UpgradeArguments } from './main';
import { memo } from '../shared/cluster-contexts';
import { awsClients, type AwsClients } from '../shared/aws-clients';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../shared/request-timeout';

export interface UpgradeWorld {
  readonly fleet: Fleet;
  /** The command's AWS client factory (--request-timeout, the status line's waits). */
  readonly clients: AwsClients;
  readonly context: (cluster: string) => string;
  readonly eks: (region: string) => UpgradeEks;
  readonly region: (region: string) => RegionApi;
  readonly kube: (cluster: string) => UpgradeKube;
  readonly rolloutKube: (cluster: string) => RolloutKube;
}

export function upgradeWorld(args: UpgradeArguments, log: (line: string) => void): UpgradeWorld {
  const fleet = loadFleet(fleetFileFromEnvironment());
  const context = (cluster: string) => args.contexts.get(cluster) ?? cluster;
  const options = (cluster: string) => ({
    cluster,
    region: fleet.clusters.find((c) => c.name === cluster)?.region,
    requestTimeoutMs: args.requestTimeoutMs,
    log,
  });
  const clients = awsClients({ requestTimeoutMs: args.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, step: `upgrade ${args.action}` });
  const aws = memo((region) => upgradeAws(region, clients));
  return {
    fleet,
    clients,
    context,
    eks: (region) => aws(region).eks,
    region: (region) => aws(region).region,
    kube: memo((cluster) => upgradeKube(context(cluster), options(cluster))),
    rolloutKube: memo((cluster) => rolloutKube(context(cluster), options(cluster))),
  };
}
