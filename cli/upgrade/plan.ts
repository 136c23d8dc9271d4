/**
 * `upgrade plan`, the pure part: what has to happen, cluster by cluster and stage by stage, to bring each
 * cluster's node image (Kubernetes minor, Bottlerocket release, cache generation) from what it runs to what the
 * fleet file says, and what cannot be done safely. No I/O: the command reads the running state (EKS and the
 * cluster's API server) and hands it here, so every rule below is tested on plain objects.
 *
 * The order of a Kubernetes minor follows issue 31 and Karpenter v1.14.1: the alias is not in the static hash
 * (A pkg/apis/v1/ec2nodeclass.go `hash:"ignore"`), static drift is checked before AMI drift
 * (A pkg/cloudprovider/drift.go), so alias and snapshot applied together replace each node once; a drift freeze
 * keeps Karpenter from replacing nodes when the control plane moves (Karpenter polls the version every 5 minutes,
 * A pkg/controllers/providers/version/controller.go, and then every node is AMI-drifted).
 */
import { kernelLineOf, unmountableFeatures } from '../../modules/image-cache/kernel-lines';

export type CacheVariant = 'cpu' | 'gpu';

/** What a NodeClaim's node runs: the variant and release its image came from, and the snapshot its data volume was restored from. */
export interface NodeImage {
  /** The NodeClaim's name. */
  readonly claim?: string;
  readonly kubernetesVersion?: string;
  readonly release?: string;
  readonly snapshot?: string;
}

export interface RunningPool {
  readonly name: string;
  /** The live EC2NodeClass's alias (bottlerocket@v1.55.0) and data-volume snapshot. */
  readonly alias?: string;
  readonly snapshot?: string;
  readonly nodes: readonly NodeImage[];
  /** The upgrade recorded on the class (bottlerocket-fleet/upgrade-*), if any. */
  readonly upgrade?: {
    readonly target?: string;
    readonly state: string;
    readonly reason?: string;
    readonly step?: string;
    /** The generation the upgrade built or adopted for the class (bottlerocket-fleet/upgrade-generation). */
    readonly generation?: string;
  };
}

export interface RunningCluster {
  readonly name: string;
  /** EKS DescribeCluster `version`. */
  readonly controlPlane: string;
  /** EKS DescribeNodegroup of the system node group. */
  readonly nodegroup?: { readonly name: string; readonly version: string; readonly releaseVersion: string };
  /** EKS DescribeAddon `addonVersion` per add-on (an add-on EKS does not run is absent). */
  readonly addons: Readonly<Partial<Record<string, string>>>;
  readonly pools: readonly RunningPool[];
}

export interface DesiredPool {
  readonly name: string;
  readonly variant: CacheVariant;
  /** The cache the pool mounts, and the kernel line its current generation was built on (the snapshot's tag), if known. */
  readonly cache?: { readonly name: string; readonly snapshot?: string; readonly builtOnKernel?: string };
}

export interface DesiredCluster {
  readonly name: string;
  readonly kubernetesVersion: string;
  /** clusters.<c>.bottlerocketRelease (1.55.0); undefined: @latest (pre-production). */
  readonly release?: string;
  readonly addons: Readonly<Record<string, string>>;
  readonly pools: readonly DesiredPool[];
}

/** The contracts the plan checks against (contracts/): whether a release exists for a variant, whether the installed Karpenter supports a version. */
export interface UpgradeContracts {
  /** Undefined when the release exists for aws-k8s-<version>; otherwise why not (e.g. the variant's first release). */
  releaseProblem(kubernetesVersion: string, release: string): string | undefined;
  /** Undefined when the cluster's Karpenter chart supports the version; otherwise why not. */
  karpenterProblem(kubernetesVersion: string): string | undefined;
}

export type StepKind =
  | 'freeze-drift'
  | 'build-cache'
  | 'update-control-plane'
  | 'update-node-group'
  | 'update-addons'
  | 'wait-for-variant'
  | 'apply-node-image'
  | 'lift-freeze'
  | 'converge';

export interface PlanStep {
  readonly kind: StepKind;
  readonly description: string;
  /** What the step replaces on the cluster ("nothing", "2 system nodes", "5 NodeClaims in default, gpu"). */
  readonly replaces: string;
  /** build-cache: the pool whose generation cannot be mounted by both variants, and its cache. */
  readonly pool?: string;
  readonly cache?: string;
}

export interface ClusterPlan {
  readonly cluster: string;
  readonly from: { readonly kubernetesVersion: string; readonly release?: string };
  readonly to: { readonly kubernetesVersion: string; readonly release?: string };
  readonly steps: readonly PlanStep[];
  /** Why the cluster cannot be upgraded safely; a plan with any refusal writes nothing. */
  readonly refusals: readonly string[];
}

export interface UpgradePlan {
  readonly stages: readonly { readonly name: string; readonly clusters: readonly ClusterPlan[] }[];
  readonly refused: boolean;
}

const minor = (v: string): number => Number(v.split('.')[1]);
const aliasRelease = (alias: string | undefined): string | undefined => /^bottlerocket@v?(\d+\.\d+\.\d+)$/.exec(alias ?? '')?.[1];

/** The release the cluster's Karpenter nodes run today: the live classes' alias (all pools agree, or the first). */
function runningRelease(r: RunningCluster): string | undefined {
  return r.pools.map((p) => aliasRelease(p.alias)).find((x) => x !== undefined);
}

function karpenterNodes(r: RunningCluster, pools?: readonly string[]): string {
  const chosen = r.pools.filter((p) => !pools || pools.includes(p.name));
  const n = chosen.reduce((sum, p) => sum + p.nodes.length, 0);
  return n === 0 ? 'no nodes (none running)' : `${n} NodeClaim${n === 1 ? '' : 's'} in ${chosen.map((p) => p.name).join(', ')}, each once`;
}

/** Refusals of the version move itself: EKS updates one minor at a time and never down (UpdateClusterVersion). */
function versionRefusals(d: DesiredCluster, r: RunningCluster): string[] {
  const jump = minor(d.kubernetesVersion) - minor(r.controlPlane);
  if (jump < 0)
    return [
      `Kubernetes ${r.controlPlane} → ${d.kubernetesVersion} is a downgrade: EKS cannot move a control plane back; set kubernetesVersion: "${r.controlPlane}"`,
    ];
  if (jump > 1) {
    const next = `1.${minor(r.controlPlane) + 1}`;
    return [
      `Kubernetes ${r.controlPlane} → ${d.kubernetesVersion} skips ${next}: EKS updates one minor at a time; set kubernetesVersion: "${next}" and upgrade twice`,
    ];
  }
  return [];
}

/** Refusals of what the nodes would boot: no release of the target variant, a Karpenter that does not support the target. */
function contractRefusals(d: DesiredCluster, c: UpgradeContracts): string[] {
  const out: string[] = [];
  if (d.release) {
    const p = c.releaseProblem(d.kubernetesVersion, d.release);
    if (p) out.push(`Bottlerocket ${d.release} for aws-k8s-${d.kubernetesVersion}: ${p}`);
  }
  const k = c.karpenterProblem(d.kubernetesVersion);
  if (k) out.push(`Karpenter for Kubernetes ${d.kubernetesVersion}: ${k}`);
  return out;
}

/**
 * A pool's cache during a minor move: nodes of the running and of the target variant both mount its volume.
 * The generation it has mounts on both, or a new one is built on the lower variant (whose mkfs defaults the newer
 * kernel mounts, modules/image-cache/kernel-lines.ts); unknown kernel tags are refused.
 */
function cacheSteps(d: DesiredCluster, r: RunningCluster, variantMoves: boolean): { steps: PlanStep[]; refusals: string[] } {
  const steps: PlanStep[] = [];
  const refusals: string[] = [];
  for (const pool of d.pools) {
    if (!pool.cache) continue;
    const lines = [r.controlPlane, d.kubernetesVersion].map((v) => kernelLineOf(v, pool.variant));
    if (lines.some((l) => l === undefined)) {
      refusals.push(
        `pool ${pool.name}: no kernel line recorded for aws-k8s-${d.kubernetesVersion} or ${r.controlPlane} (contracts/bottlerocket-kernel-lines.json)`,
      );
      continue;
    }
    const built = pool.cache.builtOnKernel;
    if (built === undefined) {
      refusals.push(
        `pool ${pool.name}: cache ${pool.cache.name}'s generation has no kernel-release tag, so whether both variants mount it is unknown; rebuild it`,
      );
      continue;
    }
    const unmountable = lines.filter((l) => unmountableFeatures(built, l!).length > 0);
    if (variantMoves && unmountable.length > 0)
      steps.push({
        kind: 'build-cache',
        pool: pool.name,
        cache: pool.cache.name,
        description: `build cache ${pool.cache.name} on aws-k8s-${r.controlPlane} (kernel ${lines[0]}): the current generation (kernel ${built}) cannot be mounted by kernel ${unmountable.join(', ')}`,
        replaces: 'nothing (a new snapshot; nodes take it with the node image)',
      });
  }
  return { steps, refusals };
}

function addonSteps(d: DesiredCluster, r: RunningCluster): PlanStep[] {
  const changed = Object.entries(d.addons).filter(([name, v]) => r.addons[name] !== undefined && r.addons[name] !== v);
  if (changed.length === 0) return [];
  return [
    {
      kind: 'update-addons',
      description: `update add-ons ${changed.map(([n, v]) => `${n} ${r.addons[n]} → ${v}`).join(', ')} (EKS UpdateAddon)`,
      replaces: 'add-on pods, no nodes',
    },
  ];
}

/** The node-image steps shared by a release-only and a minor upgrade: alias and snapshot in one apply per class, then the gates. */
function nodeImageSteps(r: RunningCluster, release: string | undefined): [apply: PlanStep, converge: PlanStep] {
  const pools = r.pools.map((p) => p.name);
  return [
    {
      kind: 'apply-node-image',
      description: `apply alias bottlerocket@${release ? `v${release}` : 'latest'} and each pool's cache snapshot in one apply per EC2NodeClass`,
      replaces: karpenterNodes(r, pools),
    },
    { kind: 'converge', description: 'watch the replacements converge through the health, cache-miss and soak gates', replaces: 'nothing' },
  ];
}

function minorSteps(d: DesiredCluster, r: RunningCluster, cache: PlanStep[]): PlanStep[] {
  const group = r.nodegroup;
  const [apply, converge] = nodeImageSteps(r, d.release);
  return [
    { kind: 'freeze-drift', description: "record a drift freeze (a Drifted budget of 0, owner annotated) on the cluster's pools", replaces: 'nothing' },
    ...cache,
    {
      kind: 'update-control-plane',
      description: `update the control plane ${r.controlPlane} → ${d.kubernetesVersion} (EKS UpdateClusterVersion, then DescribeUpdate)`,
      replaces: 'nothing',
    },
    ...(group
      ? [
          {
            kind: 'update-node-group' as const,
            description: `update node group ${group.name} to ${d.kubernetesVersion}${d.release ? ` with release ${d.release}` : ''} (EKS UpdateNodegroupVersion)`,
            replaces: 'every system node (EKS replaces them, honouring PodDisruptionBudgets)',
          },
        ]
      : []),
    ...addonSteps(d, r),
    { kind: 'wait-for-variant', description: `wait until every EC2NodeClass resolves aws-k8s-${d.kubernetesVersion} (status.amis)`, replaces: 'nothing' },
    apply,
    { kind: 'lift-freeze', description: 'lift the drift freeze', replaces: 'nothing' },
    converge,
  ];
}

/** One cluster: its steps in order, or why it is refused. */
export function planCluster(d: DesiredCluster, r: RunningCluster, contracts: UpgradeContracts): ClusterPlan {
  const from = { kubernetesVersion: r.controlPlane, release: runningRelease(r) };
  const to = { kubernetesVersion: d.kubernetesVersion, release: d.release };
  const refusals = [...versionRefusals(d, r)];
  const minorMoves = refusals.length === 0 && d.kubernetesVersion !== r.controlPlane;
  const releaseMoves = d.release !== undefined && d.release !== from.release;
  if (minorMoves || releaseMoves) refusals.push(...contractRefusals(d, contracts));
  const cache = cacheSteps(d, r, minorMoves);
  refusals.push(...cache.refusals);
  if (refusals.length > 0) return { cluster: d.name, from, to, steps: [], refusals };
  const steps = minorMoves
    ? minorSteps(d, r, cache.steps)
    : [
        // A node group still on the previous minor (a re-run after the control plane moved) moves with its release.
        ...(r.nodegroup && ((releaseMoves && r.nodegroup.releaseVersion.split('-')[0] !== d.release) || r.nodegroup.version !== d.kubernetesVersion)
          ? [
              {
                kind: 'update-node-group' as const,
                description: `update node group ${r.nodegroup.name} to ${r.nodegroup.version === d.kubernetesVersion ? '' : `${d.kubernetesVersion}, `}release ${d.release ?? 'latest'} (EKS UpdateNodegroupVersion)`,
                replaces: 'every system node',
              },
            ]
          : []),
        ...addonSteps(d, r),
        ...(releaseMoves ? nodeImageSteps(r, d.release) : []),
      ];
  return { cluster: d.name, from, to, steps, refusals: [] };
}

/**
 * The whole fleet, stage by stage (the fleet's `rollout` stages; without them one stage holding every cluster).
 * A cluster the fleet file names but that does not run yet is refused: `upgrade` moves running clusters, `deploy` creates them.
 */
export function planUpgrade(
  desired: readonly DesiredCluster[],
  running: ReadonlyMap<string, RunningCluster>,
  stages: readonly { readonly name: string; readonly clusters: readonly string[] }[] | undefined,
  contracts: UpgradeContracts | ((cluster: string) => UpgradeContracts),
): UpgradePlan {
  const contractsOf = (cluster: string) => (typeof contracts === 'function' ? contracts(cluster) : contracts);
  const order = stages ?? [{ name: 'all', clusters: desired.map((d) => d.name) }];
  const planned = order.map((s) => ({
    name: s.name,
    clusters: s.clusters.map((name): ClusterPlan => {
      const d = desired.find((x) => x.name === name);
      const r = running.get(name);
      if (!d || !r) {
        const why = !d
          ? `cluster ${name} is in stage ${s.name} but not in the fleet file`
          : `cluster ${name} is not running (EKS DescribeCluster found none): deploy it first`;
        return {
          cluster: name,
          from: { kubernetesVersion: r?.controlPlane ?? '-' },
          to: { kubernetesVersion: d?.kubernetesVersion ?? '-' },
          steps: [],
          refusals: [why],
        };
      }
      return planCluster(d, r, contractsOf(name));
    }),
  }));
  return { stages: planned, refused: planned.some((s) => s.clusters.some((c) => c.refusals.length > 0)) };
}
