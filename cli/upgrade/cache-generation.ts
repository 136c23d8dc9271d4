/**
 * Step 2 of a Kubernetes minor (issue 31): a cache generation the nodes of the running AND of the target variant
 * mount, in place before the control plane moves. The plan (plan.ts cacheSteps) names the pools whose generation a
 * node of one of the two variants could not mount; for each such cache, the first of:
 * 1. the generation this upgrade recorded on the classes (bottlerocket-fleet/upgrade-generation: a re-run; apply.ts);
 * 2. the cache's parameter in the cluster's region (the builder's latest at home, the image-cache stack's copy
 *    elsewhere), when it passes the checks: an earlier run, or a `cache build`, made it already;
 * 3. a build, through the cache builder (`cache build`'s one code path, cli/cache/builder.ts: its named steps, its
 *    undo stack) on the lowest version the cache's clusters run (cli/cache/build-version.ts), whose kernel line every
 *    newer line mounts (modules/image-cache/kernel-lines.ts). Home region only: copies are the image-cache stack's.
 * Every candidate passes generationRefusals (provenance, release skew, the kernel line of both variants) first.
 * A cache is built at most once per run, whatever the number of its pools and clusters.
 */
import type { Cluster, Fleet, ImageCache } from '../../modules/fleet/load';
import type { RegionApi } from '../rollout/aws';
import { buildVersionFor } from '../cache/build-version';
import { versionsNodesMayRun } from '../shared/node-image-checks';
import { generationRefusals, type GenerationInputs } from './generation';

/** No generation both variants mount could be found or built: nothing but the freeze was written, and it was lifted. */
export class GenerationUnavailable extends Error {}

/** Builds a cache (at the version to build on) and returns its snapshot ID; the real one is cli/cache/builder.ts buildCache. */
export type BuildGeneration = (cache: ImageCache) => Promise<string>;

export interface GenerationSources {
  readonly fleet: Fleet;
  /** Each cluster's running control plane (EKS DescribeCluster), for the version to build on. */
  readonly runningVersion: (cluster: string) => string | undefined;
  readonly aws: (region: string) => RegionApi;
  readonly build: BuildGeneration;
  readonly log: (line: string) => void;
}

/** What a cluster needs: a generation of `cache` for its classes, judged against the alias the upgrade applies. */
export interface GenerationRequest {
  readonly cluster: Cluster;
  readonly alias: string;
  readonly cache: string;
}

export type GenerationProvider = (r: GenerationRequest) => Promise<string>;

export function generationProvider(s: GenerationSources): GenerationProvider {
  const builds = new Map<string, Promise<string>>();
  const buildOnce = (cache: ImageCache): Promise<string> => {
    let b = builds.get(cache.name);
    if (!b) {
      b = (async () => {
        const { cache: at, note } = await buildVersionFor(s.fleet, cache, (c) => Promise.resolve(s.runningVersion(c.name)));
        if (note) s.log(`  ${note}`);
        return s.build(at);
      })();
      builds.set(cache.name, b);
    }
    return b;
  };
  return async ({ cluster, alias, cache: name }) => {
    const cache = s.fleet.imageCaches.find((c) => c.name === name)!;
    const inputs: GenerationInputs = {
      fleet: s.fleet,
      cluster,
      alias,
      runningVersion: s.runningVersion(cluster.name) ?? cluster.kubernetesVersion,
      liveSnapshot: () => undefined,
      aws: s.aws,
    };
    const both = versionsNodesMayRun({ cluster, runningVersion: inputs.runningVersion })
      .map((v) => `aws-k8s-${v}`)
      .join(' and ');
    const pointer = `SSM parameter ${cache.parameterPath} in ${cluster.region}`;
    const latest = await s.aws(cluster.region).getParameter(cache.parameterPath);
    const refused = latest === undefined ? ['it does not exist'] : await generationRefusals(inputs, cache, pointer, latest);
    if (latest !== undefined && refused.length === 0) {
      s.log(`  ${cluster.name}: cache ${name}: ${latest} (${pointer}) is mounted by ${both}: no build needed`);
      return latest;
    }
    if (cluster.region !== cache.homeRegion)
      throw new GenerationUnavailable(
        `cluster ${cluster.name}: cache ${name} has no generation in ${cluster.region} that ${both} both mount (${pointer}: ${refused.join('; ')}). Builds are made in ${cache.homeRegion} and copied by the image-cache-${name} stack: build it if needed (npm run cache -- build ${name}), deploy image-cache-${name}, then re-run`,
      );
    s.log(`  ${cluster.name}: building cache ${name}: no generation ${both} both mount (${refused.join('; ')})`);
    const built = await buildOnce(cache);
    const bad = await generationRefusals(inputs, cache, `the build of cache ${name}`, built);
    if (bad.length > 0) throw new GenerationUnavailable(`cluster ${cluster.name}: the new build ${built} of cache ${name} cannot be used: ${bad.join('; ')}`);
    return built;
  };
}
