/**
 * Fleet-file input that would weaken the fleet without failing anything else (issue 21): a public API endpoint
 * open to the internet, and cache parameter paths outside the fleet's own folder. Each finding names the path
 * and the fix. Pure: the loaded model in, problems and warnings out.
 */
import type { Problem } from './problems';
import { clusterParametersFolder, historyParameterPath } from '../image-cache/parameters';

/** Every cache parameter lives here: the CI policy grants PutParameter and DeleteParameter on exactly these paths. */
export const CACHE_PARAMETER_PREFIX = '/bottlerocket-fleet/image-cache/';

/** EKS opens a public endpoint to 0.0.0.0/0 unless publicAccessCidrs says otherwise (the migration guide's example). */
export function checkEndpointAccess(
  cluster: { readonly name: string; readonly endpointPublicAccess: boolean; readonly endpointPublicAccessCidrs?: readonly string[] },
  warnings: Problem[],
): void {
  const at = `clusters.${cluster.name}`;
  if (cluster.endpointPublicAccess && !cluster.endpointPublicAccessCidrs)
    warnings.push({
      path: `${at}.endpointPublicAccess`,
      message: 'the Kubernetes API endpoint is public and open to the whole internet (0.0.0.0/0)',
      fix: `set ${at}.endpointPublicAccessCidrs to the ranges that deploy (your CI runners, VPN), or endpointPublicAccess: false`,
    });
  if (!cluster.endpointPublicAccess && cluster.endpointPublicAccessCidrs)
    warnings.push({
      path: `${at}.endpointPublicAccessCidrs`,
      message: 'has no effect: the endpoint is private (endpointPublicAccess is false)',
      fix: 'remove it, or set endpointPublicAccess: true',
    });
}

/**
 * A cache's parameterPath must be one the policies were written for: under CACHE_PARAMETER_PREFIX, without `.` or
 * `..` segments, and not inside the folder of another cache's parameter, its -history or its /clusters/ parameters
 * (the rollout writes <path>/clusters/<cluster>; the builder writes <path>-history).
 */
export function checkParameterPaths(caches: readonly { readonly name: string; readonly parameterPath: string }[], problems: Problem[]): void {
  for (const cache of caches) {
    const at = `imageCaches.${cache.name}.parameterPath`;
    const p = cache.parameterPath;
    const fix = `use a path of its own under ${CACHE_PARAMETER_PREFIX}, such as ${CACHE_PARAMETER_PREFIX}${cache.name}/snapshot-id (the default)`;
    const problem = (message: string) => problems.push({ path: at, message, fix });
    const segments = p.split('/').slice(1);
    if (!p.startsWith(CACHE_PARAMETER_PREFIX) || p.length === CACHE_PARAMETER_PREFIX.length)
      problem(`${p} is not under ${CACHE_PARAMETER_PREFIX}: the CI policy would grant PutParameter and DeleteParameter on it`);
    else if (segments.some((s) => s === '..' || s === '.' || s === '')) problem(`${p} has an empty, "." or ".." segment`);
    else if (p.endsWith('-history') || segments.includes('clusters'))
      problem(`${p} looks like a history (-history) or cluster parameter (/clusters/) of a cache: those names are the builder's and the rollout's`);
    for (const other of caches) {
      if (other === cache) continue;
      const o = other.parameterPath;
      const owned = [`${o}/`, `${historyParameterPath(o)}`, `${clusterParametersFolder(o)}/`];
      if (owned.some((prefix) => p.startsWith(prefix)))
        problem(`${p} lies inside the parameters of cache ${other.name} (${o}, its -history or its /clusters/ parameters)`);
    }
  }
}
