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
