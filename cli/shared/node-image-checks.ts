/**
 * Can every node that may mount a cache generation read it, and is no node older than its cache (issue 30,
 * items 4 and 5)? Checked against what the cluster really runs, not only the fleet file:
 * - the release: the alias that will be applied (the fleet file's for `deploy`, the one the rollout writes
 *   for `rollout`) against the release the generation was built on; newer than the pin is refused;
 * - the kernel: every variant a node of the cluster may run — the control plane's running version (EKS
 *   DescribeCluster) and, where different, the fleet file's — must mount what the builder's kernel line
 *   formatted (modules/image-cache/kernel-lines.ts).
 * A tag that is missing or does not parse is "unknown" and refused too: a check that cannot tell must not pass.
 * `--allow-version-skew` lets release skew and an unknown release through; `--allow-unknown-kernel` an unknown
 * kernel. A kernel that cannot mount the volume is never let through: those nodes could not join.
 */
import type { Cluster } from '../../modules/fleet/load';
import { kernelLineOf, unmountableFeatures } from '../../modules/image-cache/kernel-lines';
import { compareReleases, pinnedRelease } from '../../modules/fleet/cache-release';
import { readJsonContract } from '../../modules/contracts/index';
import type { GenerationBuild } from './generation-build';

export interface GenerationUnderCheck {
  readonly cache: string;
  readonly variant: 'cpu' | 'gpu';
  readonly snapshot: string;
  readonly region: string;
  /** What the generation is to the cluster, e.g. "the rollout's target generation snap-1". */
  readonly role: string;
  /** Its (for a copy: its source's) recorded build. */
  readonly build: GenerationBuild;
}

export interface NodeImageTarget {
  readonly cluster: Cluster;
  /** The alias its node classes will select once this command is done. */
  readonly alias: string;
  /** Where that alias comes from, for the message, e.g. "clusters.c.karpenter.amiAlias: pins" or "the live EC2NodeClass default selects". */
  readonly aliasSource: string;
  /** The control plane's version (EKS DescribeCluster); undefined: the cluster does not exist yet. */
  readonly runningVersion?: string;
}

export interface NodeImageOptions {
  readonly allowVersionSkew?: boolean;
  readonly allowUnknownKernel?: boolean;
}

/** The Kubernetes versions a node of the cluster may run: the running one and, where different, the fleet file's. */
export function versionsNodesMayRun(t: Pick<NodeImageTarget, 'cluster' | 'runningVersion'>): string[] {
  return [...new Set([t.runningVersion, t.cluster.kubernetesVersion].filter((v): v is string => v !== undefined))];
}

/** One refusal per problem; empty: every node of the cluster can use the generation. */
export function nodeImageRefusals(t: NodeImageTarget, g: GenerationUnderCheck, o: NodeImageOptions = {}): string[] {
  return [...releaseRefusals(t, g, o), ...kernelRefusals(t, g, o)];
}

function generationText(g: GenerationUnderCheck): string {
  return `${g.role} of cache ${g.cache}, snapshot ${g.snapshot} in ${g.region}`;
}

function releaseRefusals(t: NodeImageTarget, g: GenerationUnderCheck, o: NodeImageOptions): string[] {
  const pin = pinnedRelease(t.alias);
  if (o.allowVersionSkew || !pin) return [];
  if (!g.build.release)
    return [
      `${t.aliasSource} ${t.alias}, and ${generationText(g)}, records no Bottlerocket release that parses (${g.build.releaseTag === undefined ? 'no release tag' : `tag value "${g.build.releaseTag}"`}): whether its nodes would run a cache from a newer release is unknown. Rebuild the cache (builds record bottlerocket-fleet:bottlerocket-release), or pass --allow-version-skew`,
    ];
  if (compareReleases(g.build.release, pin) <= 0) return [];
  return [
    `${t.aliasSource} ${t.alias}, and ${generationText(g)}, was built on the newer Bottlerocket ${g.build.release}: its nodes would run a cache from a newer release than theirs. Rebuild the cache on ${pin} (imageCaches.${g.cache}.bottlerocketVersion), pin the cluster to bottlerocket@v${g.build.release}, or pass --allow-version-skew (clusters.${t.cluster.name}.bottlerocketRelease pins it)`,
  ];
}

/** Kernel lines the contract knows (an unknown line cannot be judged). */
function knownLine(line: string | undefined): boolean {
  return line !== undefined && readJsonContract<{ kernelLines: Record<string, unknown> }>('bottlerocket-kernel-lines.json').kernelLines[line] !== undefined;
}

function kernelRefusals(t: NodeImageTarget, g: GenerationUnderCheck, o: NodeImageOptions): string[] {
  const built = g.build.kernelLine;
  if (!knownLine(built))
    return o.allowUnknownKernel
      ? []
      : [
          `cluster ${t.cluster.name}: ${generationText(g)}, records no kernel release this project can judge (${g.build.kernelRelease === undefined ? 'no bottlerocket-fleet:kernel-release tag' : `kernel ${g.build.kernelRelease}`}): whether nodes on ${versionsNodesMayRun(
            t,
          )
            .map((v) => `aws-k8s-${v}`)
            .join(' and ')} can mount its data volume is unknown. Rebuild the cache, or pass --allow-unknown-kernel`,
        ];
  return versionsNodesMayRun(t).flatMap((v) => {
    const line = kernelLineOf(v, g.variant);
    const missing = knownLine(line) ? unmountableFeatures(built!, line!) : ['(no kernel line recorded for this variant)'];
    if (missing.length === 0) return [];
    const how = v === t.runningVersion ? `runs Kubernetes ${v}` : `is set to Kubernetes ${v} in the fleet file`;
    return [
      `cluster ${t.cluster.name} ${how} (aws-k8s-${v}${g.variant === 'gpu' ? '-nvidia' : ''}, kernel ${line ?? 'unknown'}), and ${generationText(g)}, was built on kernel ${g.build.kernelRelease} (line ${built}): its data volume has XFS features that kernel cannot mount (${missing.join(', ')}), so those nodes would never join. Build the cache on the lowest version its clusters run (npm run cache -- build ${g.cache}), or upgrade the cluster first`,
    ];
  });
}
