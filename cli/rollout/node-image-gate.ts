/**
 * Before a rollout writes anything: can every node of each target cluster use the generation (issue 30,
 * items 4 and 5)? The release is compared with the alias the rollout will leave on each pool's class — the
 * live class's (the rollout changes only the snapshot of an existing class: node-class-spec.ts), or the fleet
 * file's for a class not yet applied — and the kernel with every version the cluster's nodes may run: the
 * running control plane's (EKS DescribeCluster) and the fleet file's.
 */
import type { RegionApi } from './aws';
import type { ClusterTarget } from './engine';
import type { RolloutKube } from './kube';
import { nodeClassName } from '../../modules/karpenter/node-class';
import type { ImageCache } from '../../modules/fleet/load';
import { generationBuild, GenerationBuild } from '../shared/generation-build';
import { nodeImageRefusals, NodeImageOptions } from '../shared/node-image-checks';
import type { RunningVersion } from '../shared/eks-versions';
import { BOTTLEROCKET_RELEASE_TAG, BOTTLEROCKET_VERSION_TAG } from '../cache/tags';
import { IN_PROGRESS_STATES, UPGRADE_ANNOTATIONS } from './model';

export interface NodeImageGateDeps {
  readonly aws: (region: string) => RegionApi;
  /** The clusters' Kubernetes APIs, for the live classes' aliases. @default none: the fleet file's alias */
  readonly kube?: (cluster: string) => Pick<RolloutKube, 'getNodeClass'>;
  /** @default none: only the fleet file's Kubernetes version is checked */
  readonly runningVersion?: RunningVersion;
}

/** The generation's build as its home-region snapshot records it (the release tag, else the old version tag). */
export async function sourceBuild(home: RegionApi, source: string): Promise<GenerationBuild> {
  const tags: Record<string, string | undefined> = { ...((await home.describeSnapshot(source))?.tags ?? {}) };
  if (tags[BOTTLEROCKET_RELEASE_TAG] === undefined && tags[BOTTLEROCKET_VERSION_TAG] === undefined) {
    const old = await home.bottlerocketVersionOf(source);
    if (old !== undefined) tags[BOTTLEROCKET_VERSION_TAG] = old;
  }
  return generationBuild(tags);
}

/** The alias each pool's class will select after the rollout, and where that comes from. */
async function appliedAliases(deps: NodeImageGateDeps, t: ClusterTarget): Promise<{ alias: string; aliasSource: string }[]> {
  const name = t.step.cluster.name;
  const fleetAlias = { alias: t.step.cluster.karpenter!.amiAlias, aliasSource: `clusters.${name}.karpenter.amiAlias: pins` };
  if (!deps.kube) return [fleetAlias];
  const kube = deps.kube(name);
  const found = await Promise.all(
    t.step.pools.map(async (pool) => {
      const live = (await kube.getNodeClass(nodeClassName(pool)))?.spec as { amiSelectorTerms?: { alias?: string }[] } | undefined;
      const alias = live?.amiSelectorTerms?.[0]?.alias;
      return alias === undefined
        ? fleetAlias
        : { alias, aliasSource: `cluster ${name}: the live EC2NodeClass ${nodeClassName(pool)}, whose alias the rollout keeps, selects` };
    }),
  );
  return [...new Map(found.map((f) => [`${f.alias}\u0000${f.aliasSource.replace(/EC2NodeClass \S+/, '')}`, f])).values()];
}

/** Refusals for every target (empty: the rollout may write). */
export async function nodeImageGate(
  deps: NodeImageGateDeps,
  cache: Pick<ImageCache, 'name' | 'variant' | 'homeRegion'>,
  source: string,
  targets: readonly ClusterTarget[],
  options: NodeImageOptions,
): Promise<string[]> {
  const build = await sourceBuild(deps.aws(cache.homeRegion), source);
  const refusals: string[] = [];
  for (const t of targets) {
    const runningVersion = await deps.runningVersion?.({ name: t.step.cluster.name, region: t.step.region });
    const generation = {
      cache: cache.name,
      variant: cache.variant,
      snapshot: t.to,
      region: t.step.region,
      role: `the rollout's target generation ${source}`,
      build,
    };
    for (const a of await appliedAliases(deps, t)) refusals.push(...nodeImageRefusals({ cluster: t.step.cluster, runningVersion, ...a }, generation, options));
  }
  return [...new Set(refusals)];
}

/**
 * Clusters an upgrade owns (its state annotation in progress on one of the pools' node classes, cli/upgrade): one
 * change of the node image at a time, so the rollout refuses them before its first write.
 */
export async function upgradesInProgress(deps: NodeImageGateDeps, targets: readonly ClusterTarget[]): Promise<string[]> {
  if (!deps.kube) return [];
  const refusals: string[] = [];
  for (const t of targets) {
    const kube = deps.kube(t.step.cluster.name);
    for (const pool of t.step.pools) {
      const a = (await kube.getNodeClass(nodeClassName(pool)))?.annotations ?? {};
      const state = a[UPGRADE_ANNOTATIONS.state];
      if (IN_PROGRESS_STATES.has(state))
        refusals.push(
          `cluster ${t.step.cluster.name}: an upgrade to ${a[UPGRADE_ANNOTATIONS.target] ?? '?'} is ${state} on EC2NodeClass ${nodeClassName(pool)}; let it finish (npm run upgrade -- apply), then re-run`,
        );
    }
  }
  return [...new Set(refusals)];
}
