/** `cache report`: reads one cluster through CacheKube and measures it against the fleet file's caches. */
import type { Cluster, Fleet } from '../../modules/fleet/load';
import { cacheNamesFor } from './cache-names';
import { CacheReport, measure, MeasureInput, PoolInput } from './measure';
import type { CacheKube, ClaimRecord } from './report-kube';

/** The standard label kubelet sets from the cloud provider (k8s.io/api core/v1 LabelTopologyRegion). */
export const REGION_LABEL = 'topology.kubernetes.io/region';

/** The cluster's Karpenter pools as the report sees them: cache names for the cluster's region, FSR zones, rate. */
export function poolInputs(fleet: Pick<Fleet, 'imageCaches'>, cluster: Cluster): PoolInput[] {
  return (cluster.karpenter?.nodePools ?? []).map((p) => {
    const cache = p.imageCache === undefined ? undefined : fleet.imageCaches.find((c) => c.name === p.imageCache);
    return {
      name: p.name,
      initializationRateMiBps: p.dataVolume.initializationRateMiBps,
      cache: cache && {
        name: cache.name,
        images: cacheNamesFor(cache, cluster.region),
        fastSnapshotRestoreAzs: cache.fastSnapshotRestoreAzs[cluster.region] ?? [],
      },
    };
  });
}

export interface ReportOptions {
  readonly now: number;
  readonly sinceMs: number;
  readonly slowStartMs: number;
  readonly claimFilter?: (c: ClaimRecord) => boolean;
}

/** A kubeconfig context that reaches another cluster than the fleet file names (its nodes say another region). */
export class WrongClusterError extends Error {}

export async function cacheReport(kube: CacheKube, fleet: Pick<Fleet, 'imageCaches'>, cluster: Cluster, o: ReportOptions): Promise<CacheReport> {
  const [claims, nodes, pods, events] = await Promise.all([kube.listNodeClaims(), kube.listNodes(), kube.listPods(), kube.listEvents()]);
  const elsewhere = nodes.find((n) => REGION_LABEL in n.labels && n.labels[REGION_LABEL] !== cluster.region);
  if (elsewhere)
    throw new WrongClusterError(
      `the kubeconfig context does not reach cluster ${cluster.name}: node ${elsewhere.name} is in ${elsewhere.labels[REGION_LABEL]}, the fleet file puts ${cluster.name} in ${cluster.region} (pass --context <the cluster's context>)`,
    );
  const input: MeasureInput = {
    cluster: cluster.name,
    region: cluster.region,
    pools: poolInputs(fleet, cluster),
    claims,
    pods,
    events,
    since: o.now - o.sinceMs,
    slowStartMs: o.slowStartMs,
    claimFilter: o.claimFilter,
  };
  return measure(input);
}
