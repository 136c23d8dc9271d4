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

/** The folder of every cluster parameter of a cache. */
export function clusterParametersFolder(parameterPath: string): string {
  return `${parameterPath}/clusters`;
}

/** The tag on every snapshot and builder instance of a cache (the builder's, the replication stack's). */
export const CACHE_TAG = 'bottlerocket-fleet:cache';

/** The tag the replication stack puts on every copy: the home-region snapshot (the generation) it copies. */
export const SOURCE_SNAPSHOT_TAG = 'bottlerocket-fleet:source-snapshot';

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
