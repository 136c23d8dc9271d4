/**
 * The deploy preflight, pure: which stacks a command line names, which declared dependencies it leaves
 * out, which SSM parameters each Karpenter stack's node classes read (and which of them must exist
 * before cdktf runs), and what to tell the user when one is missing. No AWS here: cli/deploy/main.ts
 * asks SSM and runs cdktf.
 *
 * Why: the Karpenter stack reads each built cache's snapshot ID with an `aws_ssm_parameter` data source
 * (modules/karpenter/node-pools.ts). A parameter that does not exist fails the plan of the whole stack
 * deep inside Terraform; checked here, the user learns which step of the first deployment is missing.
 */
import type { Fleet } from '../../modules/fleet/load';
import { PlannedStack, stackName } from '../../modules/fleet/stacks';
import { snapshotParameterPath } from '../../modules/image-cache/parameters';

/** An SSM parameter in one region. */
export interface ParameterLocation {
  readonly region: string;
  readonly name: string;
}

/** Who writes a cache parameter: the cache build (home region) or the `image-cache-<cache>` stack. */
export type ParameterWriter = 'cache-build' | 'image-cache-stack';

export interface CacheParameterCheck {
  /** The Karpenter stack that reads the parameter. */
  readonly stack: string;
  readonly cluster: string;
  readonly cache: string;
  /** The cache's parameter in its home region, written by the cache build. */
  readonly home: ParameterLocation;
  /** What the stack's node classes read at plan time: in the cluster's region, the cache's or (rollout) the cluster's parameter. */
  readonly reads: ParameterLocation;
  readonly readsWriter: ParameterWriter;
  /** The fleet has a rollout: `reads` is the cluster's own parameter, not the cache's. */
  readonly perCluster: boolean;
  /**
   * What must exist before cdktf runs: `reads`, or — when `image-cache-<cache>`, which writes `reads`,
   * is deployed earlier in the same run — the home-region parameter that stack copies from.
   */
  readonly check: ParameterLocation;
  readonly checkWriter: ParameterWriter;
  /** `image-cache-<cache>` when it writes `reads` in this run, before the Karpenter stack. */
  readonly writtenInThisRunBy?: string;
}

/** A cache a Karpenter stack uses but need not read: `built: false` gives its pools a plain data volume. */
export interface SkippedCache {
  readonly stack: string;
  readonly cache: string;
  readonly reason: string;
}

/**
 * Stack names and cdktf-style patterns (`*`, `?`; what `cdktf deploy` accepts through minimatch, for
 * names without `/`) against the fleet's stacks. Selected stacks come in dependency order.
 */
export function selectStacks(patterns: readonly string[], plan: readonly PlannedStack[]): { selected: string[]; unknown: string[] } {
  const names = plan.map((s) => s.name);
  const chosen = new Set<string>();
  const unknown: string[] = [];
  for (const pattern of patterns) {
    const re = new RegExp(
      `^${pattern
        .split('')
        .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.+()|{}[\]]/g, '\\$&')))
        .join('')}$`,
    );
    const matches = names.filter((n) => re.test(n));
    if (matches.length === 0) unknown.push(pattern);
    for (const m of matches) chosen.add(m);
  }
  return { selected: dependencyOrder(plan).filter((n) => chosen.has(n)), unknown };
}

/**
 * Stack names in the order of "First deployment, in order": clusters, builders, image caches, Karpenter
 * (app order within a kind). Every declared dependency points to an earlier kind, so each stack comes
 * after the stacks it depends on.
 */
export function dependencyOrder(plan: readonly PlannedStack[]): string[] {
  const rank: Record<PlannedStack['kind'], number> = { cluster: 0, 'image-cache-builder': 1, 'image-cache': 2, karpenter: 3 };
  return [...plan].sort((a, b) => rank[a.kind] - rank[b.kind]).map((s) => s.name);
}

/** Per selected stack, its declared dependencies the run leaves out (cdktf refuses such a run). */
export function missingDependencies(selected: readonly string[], plan: readonly PlannedStack[]): { stack: string; missing: string[] }[] {
  return plan
    .filter((s) => selected.includes(s.name))
    .map((s) => ({ stack: s.name, missing: s.dependsOn.filter((d) => !selected.includes(d)) }))
    .filter((s) => s.missing.length > 0);
}

/**
 * The cache parameters the selected Karpenter stacks read, and which must exist now. `ordered`: cdktf
 * runs the stacks in dependency order (no --ignore-missing-stack-dependencies), so a parameter written
 * by an `image-cache-<cache>` stack of the same run will exist when the Karpenter stack plans.
 */
export function cacheParameterChecks(
  fleet: Pick<Fleet, 'clusters' | 'imageCaches' | 'rollout'>,
  selected: readonly string[],
  ordered: boolean,
): { checks: CacheParameterCheck[]; skipped: SkippedCache[] } {
  const checks: CacheParameterCheck[] = [];
  const skipped: SkippedCache[] = [];
  for (const cluster of fleet.clusters) {
    const stack = stackName.karpenter(cluster.name);
    if (!cluster.karpenter || !selected.includes(stack)) continue;
    const used = [...new Set(cluster.karpenter.nodePools.flatMap((p) => (p.imageCache ? [p.imageCache] : [])))];
    for (const cache of used.map((name) => fleet.imageCaches.find((c) => c.name === name)!)) {
      if (!cache.built) {
        skipped.push({ stack, cache: cache.name, reason: 'built: false: its pools get a plain data volume, no parameter is read' });
        continue;
      }
      const reads = { region: cluster.region, name: snapshotParameterPath(cache.parameterPath, cluster.name, !!fleet.rollout) };
      // With a rollout, image-cache-<cache> creates every cluster's parameter, home region included.
      const readsWriter: ParameterWriter = fleet.rollout || cluster.region !== cache.homeRegion ? 'image-cache-stack' : 'cache-build';
      const writerStack = stackName.imageCache(cache.name);
      const credited = readsWriter === 'image-cache-stack' && ordered && selected.includes(writerStack);
      checks.push({
        stack,
        cluster: cluster.name,
        cache: cache.name,
        home: homeParameter(cache),
        reads,
        readsWriter,
        perCluster: fleet.rollout !== undefined,
        ...(credited
          ? { check: homeParameter(cache), checkWriter: 'cache-build' as const, writtenInThisRunBy: writerStack }
          : { check: reads, checkWriter: readsWriter }),
      });
    }
  }
  return { checks, skipped };
}

/** The cache's parameter in its home region, written by `cache build`. */
export function homeParameter(cache: { readonly homeRegion: string; readonly parameterPath: string }): ParameterLocation {
  return { region: cache.homeRegion, name: cache.parameterPath };
}

/**
 * What to tell the user about a missing parameter: where, what reads it, which step of "First
 * deployment, in order" writes it, and the way around it. `homeMissing`: for a parameter the
 * image-cache stack writes, whether the cache's home-region parameter is missing too (then the cache
 * must be built first).
 */
export function missingParameterMessage(c: CacheParameterCheck, homeMissing = false): string {
  const where = `${c.stack}: SSM parameter ${c.check.name} does not exist in ${c.check.region}`;
  const build = `\`npm run cache -- build ${c.cache}\` (First deployment, step 3; it needs image-cache-builder-${c.home.region}, step 2)`;
  const without = `or mark the cache \`built: false\` (imageCaches.${c.cache}.built) to deploy without it: its pools then pull their images at boot`;
  if (c.checkWriter === 'cache-build') {
    const copied = c.writtenInThisRunBy ? `; ${c.writtenInThisRunBy}, deployed first in this run, copies it to ${c.reads.region}` : '';
    return `${where}: cache ${c.cache} has not been built yet (the build writes its snapshot ID there${copied}). Run ${build}, ${without}.`;
  }
  const writes = c.perCluster
    ? `where, with the fleet's rollout, ${stackName.imageCache(c.cache)} creates cluster ${c.cluster}'s own snapshot parameter`
    : `where ${stackName.imageCache(c.cache)} writes the ID of the cache's copy`;
  const first = homeMissing ? `; the cache has not been built yet either: run ${build} before that` : '';
  return `${where}, ${writes}. Deploy ${stackName.imageCache(c.cache)} (First deployment, step 4)${first}, ${without}.`;
}

/** Why a run that leaves out a declared dependency is refused, and the two ways on. */
export function missingDependenciesMessage(
  missing: readonly { stack: string; missing: readonly string[] }[],
  selected: readonly string[],
  plan: readonly PlannedStack[],
  command: string,
): string {
  const all = dependencyOrder(plan).filter((n) => selected.includes(n) || missing.some((m) => m.missing.includes(n)));
  return [
    ...missing.map((m) => `${m.stack} depends on ${m.missing.join(', ')}, which this run does not deploy.`),
    `Deploy them together: \`${command} ${all.join(' ')}\` (cdktf deploys them in dependency order; a stack without changes applies nothing),`,
    'or, when they are deployed already, add --ignore-missing-stack-dependencies (the cache parameters are still checked; cdktf then runs the stacks in parallel).',
  ].join('\n');
}
