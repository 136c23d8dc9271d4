/** SSM parameter names shared by the builder CLI and the stacks. */

/** JSON list of the cache's snapshot IDs, newest first, written by the builder next to the current ID. */
export function historyParameterPath(parameterPath: string): string {
  return `${parameterPath}-history`;
}

/** Where the builder infrastructure stack tells the builder what to launch with. */
export const BUILDER_PARAMETER_PREFIX = '/bottlerocket-fleet/builder';

export function builderParameters(): { instanceProfile: string; securityGroupId: string; subnetIds: string } {
  return {
    instanceProfile: `${BUILDER_PARAMETER_PREFIX}/instance-profile`,
    securityGroupId: `${BUILDER_PARAMETER_PREFIX}/security-group-id`,
    subnetIds: `${BUILDER_PARAMETER_PREFIX}/subnet-ids`,
  };
}

/**
 * With a fleet `rollout`: the snapshot ID one cluster's node classes use, in the cluster's region. The
 * replication stack creates it once; from then on `npm run rollout` owns its value.
 */
export function clusterParameterPath(parameterPath: string, cluster: string): string {
  return `${clusterParametersFolder(parameterPath)}/${cluster}`;
}

/**
 * The parameter a cluster's Karpenter stack reads a cache's snapshot ID from, the one rule for every reader and
 * writer (the node pools, deploy's preflight, `upgrade`): the cluster's own (`clusterParameterPath`) in a fleet with
 * a `rollout` section (`perCluster`), else the cache's home parameter that `cache build` writes.
 */
export function snapshotParameterPath(parameterPath: string, cluster: string, perCluster: boolean): string {
  return perCluster ? clusterParameterPath(parameterPath, cluster) : parameterPath;
}

/** The folder of every cluster parameter of a cache. */
export function clusterParametersFolder(parameterPath: string): string {
  return `${parameterPath}/clusters`;
}

/** The tag on every snapshot and builder instance of a cache (the builder's, the replication stack's). */
export const CACHE_TAG = 'bottlerocket-fleet:cache';

/** The tag the replication stack puts on every copy: the home-region snapshot (the generation) it copies. */
export const SOURCE_SNAPSHOT_TAG = 'bottlerocket-fleet:source-snapshot';

/** The build that made a snapshot (and its builder instance); copies carry their source's. */
export const BUILD_ID_TAG = 'bottlerocket-fleet:build-id';

/** The fleet a resource belongs to (its fleet ID, modules/fleet/fleet-id.ts): on every resource the fleet creates. */
export const FLEET_TAG = 'bottlerocket-fleet:fleet';

/** The prefix of every tag this project sets: reserved, a fleet file may not set tags under it. */
export const RESERVED_TAG_PREFIX = 'bottlerocket-fleet:';

/**
 * Where a build's image -> digest manifest lives, in every region that holds a copy of the cache: parts
 * `<this>/0`, `<this>/1`, ... (cli/cache/manifest.ts says why parts). One folder per build, so a generation
 * still in use keeps its manifest when the next build arrives.
 */
export function manifestParameterBase(parameterPath: string, buildId: string): string {
  return `${manifestParametersFolder(parameterPath)}/${buildId}`;
}

/** The folder of every build manifest of a cache (the CI policy grants writes below it). */
export function manifestParametersFolder(parameterPath: string): string {
  return `${parameterPath}-manifests`;
}
