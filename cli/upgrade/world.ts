/** What every `upgrade` action talks to: the fleet file, AWS per region and Kubernetes per cluster (each built once). */
import { fleetFileFromEnvironment, loadFleet, type Fleet } from '../../modules/fleet/load';
import type { RegionApi } from '../rollout/aws';
import { rolloutKubeOn } from '../rollout/kube-client';
import type { RolloutKube } from '../rollout/kube';
import { upgradeAws, type UpgradeEks } from './aws';
import { upgradeKubeOn, type UpgradeKube } from './kube-client';
import type { UpgradeArguments } from './main';
import { memo } from '../shared/cluster-contexts';
import { awsClients, type AwsClients } from '../shared/aws-clients';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../shared/request-timeout';
import { connectKube } from '../shared/kube';

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
  const region = (cluster: string) => fleet.clusters.find((c) => c.name === cluster)?.region;
  // One connection per cluster (one keep-alive agent: cli/shared/kube/agent.ts) under both narrow interfaces.
  const connection = memo((cluster) =>
    connectKube(
      { cluster, context: context(cluster), region: region(cluster), contextFlag: '--context <cluster>=<context>' },
      { requestTimeoutMs: args.requestTimeoutMs, log },
    ),
  );
  const clients = awsClients({ requestTimeoutMs: args.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, step: `upgrade ${args.action}` });
  const aws = memo((region) => upgradeAws(region, clients));
  return {
    fleet,
    clients,
    context,
    eks: (region) => aws(region).eks,
    region: (region) => aws(region).region,
    kube: memo((cluster) => upgradeKubeOn(connection(cluster))),
    rolloutKube: memo((cluster) => rolloutKubeOn(connection(cluster))),
  };
}
