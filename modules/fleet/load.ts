/**
 * Reads a fleet file into the one typed config model. Everything that can be checked without AWS is
 * checked here, every problem is collected, and nothing is built unless the whole file is valid.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fleetSchema, FleetSpec, ClusterSpec, ImageCacheSpec, NodePoolSpec } from './schema';
import { closestKey, FleetValidationError, Problem } from './problems';
import { fleetSchemaProblems } from './schema-problems';
import { readFleetYaml } from './yaml-text';
import { cidrsOverlap, parseCidr } from './cidr';
import { compareKubernetesVersions, defaultCacheParameterPath, FIRST_KUBERNETES_VERSION_WITHOUT_CGROUP_V1, SUPPORTED_KUBERNETES_VERSIONS } from './constants';
import { BottlerocketSettings, NodeProvisioner, validateSettings } from '../bottlerocket/settings';
import { legacyCapacity } from './capacity';
import { normaliseImageRef } from '../image-cache/image-ref';
import { expandImage, hasPlaceholders } from '../image-cache/image-names';
import { eksSupportFinding, todayFromEnvironment } from './eks-support';
import { checkPoolBudgets, checkRollout, poolDisruptionBudgets, Rollout } from './rollout';
import { fleetId } from './fleet-id';
import { FLEET_TAG } from '../image-cache/parameters';
import { checkCacheKernelLines, defaultBuildVersion } from './cache-kernel';
import { resolveCacheRelease } from './cache-release';
import { cachePullSettings } from '../image-cache/pull-settings';
import { loadCertificates, type TrustedCertificate } from './certificates';
import { checkEndpointAccess, checkParameterPaths } from './security-checks';
import { checkClusterInstances, checkInstanceType } from './instance-checks';
import { checkCapacityTypes } from './capacity-checks';
import { BottlerocketRelease, resolveClusterRelease } from './bottlerocket-release';
import { EksAddon, resolveAddons } from './addon-versions';
import { karpenterCompatibility, variantReleaseProblems } from './compatibility';

export type { TrustedCertificate } from './certificates';

export interface ImageCache extends ImageCacheSpec {
  readonly name: string;
  /** The fleet's ID: the builder tags its instances and snapshots with it (bottlerocket-fleet:fleet). */
  readonly fleetId: string;
  readonly parameterPath: string;
  /** Bottlerocket variant version to build on (explicit, or the lowest among clusters using the cache: see cache-kernel.ts). */
  readonly kubernetesVersion: ClusterSpec['kubernetesVersion'];
  /** Settings the builder pulls with, shared by every pool of the cache: CAs, registry mirrors and credentials, proxy, image verifiers. */
  readonly pullSettings: BottlerocketSettings;
  /** Every region that holds a copy: the home region first, then the replicas. */
  readonly regions: readonly string[];
  /** The references as written ({region}, {eksRegistry} unexpanded), index for index with `images`. */
  readonly imageTemplates: readonly string[];
}

export interface NodePool extends NodePoolSpec {
  readonly name: string;
  readonly instanceCategories: string[];
  readonly dataVolumeGiB: number;
  /** The pool's own, or the cluster's imdsHopLimit. */
  readonly imdsHopLimit: 1 | 2;
  /** Types the requirements allow that cannot hold maxPods even with prefix delegation (instance-checks.ts). */
  readonly excludedInstanceTypes?: readonly string[];
}

export interface Cluster extends Omit<ClusterSpec, 'trustedCertificates' | 'karpenter' | 'bottlerocketRelease' | 'addons'> {
  readonly name: string;
  /** Per EKS add-on: the version pinned (fleet file, else contracts/eks-addon-versions.json), undefined: EKS's default. */
  readonly addons: Readonly<Record<EksAddon, string | undefined>>;
  /** The release every node runs (bottlerocket-release.ts): bottlerocketRelease, else amiAlias's pin, else latest. */
  readonly bottlerocketRelease: BottlerocketRelease;
  readonly trustedCertificates: readonly TrustedCertificate[];
  readonly karpenter?: Omit<NonNullable<ClusterSpec['karpenter']>, 'nodePools' | 'amiAlias'> & {
    readonly nodePools: readonly NodePool[];
    /** bottlerocket@v<bottlerocketRelease> (or @latest): what every node class selects. */
    readonly amiAlias: string;
  };
  /** A pool's maxPods is above the ENI-based pod limit of a type it allows: VPC CNI prefix delegation (instance-checks.ts). */
  readonly vpcCniPrefixDelegation?: boolean;
}

export interface Fleet {
  readonly file: string;
  readonly backend: FleetSpec['backend'];
  /** Tagged bottlerocket-fleet:fleet on everything the fleet creates (fleet-id.ts). */
  readonly id: string;
  /** The fleet file's tags and the fleet tag: the default tags of every stack and node class. */
  readonly tags: Record<string, string>;
  readonly imageCaches: readonly ImageCache[];
  readonly clusters: readonly Cluster[];
  /** Staged rollout of new image-cache generations; absent: every cluster follows the latest snapshot. */
  readonly rollout?: Rollout;
  /** Things that are valid but deserve attention (printed by synth), e.g. cgroup v1. */
  readonly warnings: readonly Problem[];
}

/** Reads the fleet file named by FLEET_FILE (or ./fleet.yaml) — the only place that reads the environment. */
export function fleetFileFromEnvironment(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return path.resolve(cwd, env.FLEET_FILE || 'fleet.yaml');
}

export interface LoadOptions {
  /** The day (YYYY-MM-DD) the EKS support checks use. @default BOTTLEROCKET_FLEET_TODAY, else today (UTC) */
  readonly today?: string;
}

export function loadFleet(file: string, options: LoadOptions = {}): Fleet {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new FleetValidationError(file, [
      { path: '', message: `cannot read the fleet file (${(e as Error).message})`, fix: 'create it, or point FLEET_FILE at an existing file' },
    ]);
  }
  return parseFleet(text, file, options);
}

/** Parses and validates fleet YAML text; certificate paths resolve against the file's folder. */
export function parseFleet(text: string, file: string, options: LoadOptions = {}): Fleet {
  const raw = readFleetYaml(text, file);
  const parsed = fleetSchema.safeParse(raw);
  if (!parsed.success) throw new FleetValidationError(file, fleetSchemaProblems(parsed.error.issues, raw));
  const spec = parsed.data;
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const today = options.today ?? todayFromEnvironment();
  const clusters = Object.entries(spec.clusters).map(([name, c]) =>
    resolveCluster(name, c, spec.imageCaches, path.dirname(file), problems, warnings, spec.rollout !== undefined, today),
  );
  const id = fleetId(spec);
  const imageCaches = Object.entries(spec.imageCaches).map(([name, c]) => resolveCache(name, c, id, clusters, problems, warnings));
  checkFleet(clusters, imageCaches, problems, warnings);
  if (spec.rollout) checkRollout(spec.rollout, clusters, problems, warnings);
  if (problems.length > 0) throw new FleetValidationError(file, problems);
  const tags = { ...spec.tags, [FLEET_TAG]: id };
  return { file, backend: spec.backend, id, tags, imageCaches, clusters, warnings, ...(spec.rollout ? { rollout: spec.rollout } : {}) };
}

function resolveCluster(
  name: string,
  c: ClusterSpec,
  caches: FleetSpec['imageCaches'],
  baseDir: string,
  problems: Problem[],
  warnings: Problem[],
  hasRollout: boolean,
  today: string,
): Cluster {
  const at = `clusters.${name}`;
  const { systemNodeGroup: g } = c;
  const support = eksSupportFinding(c.kubernetesVersion, today, `${at}.kubernetesVersion`);
  if (support.problem) problems.push(support.problem);
  if (support.warning) warnings.push(support.warning);
  checkEndpointAccess({ ...c, name }, warnings);
  const release = resolveClusterRelease(name, { bottlerocketRelease: c.bottlerocketRelease, amiAlias: c.karpenter?.amiAlias }, hasRollout);
  problems.push(...release.problems);
  warnings.push(...release.warnings);
  const addons = resolveAddons(name, c.kubernetesVersion, c.addons);
  problems.push(...addons.problems);
  // Combinations the upstream contracts rule out (compatibility.ts).
  const releaseKey = c.bottlerocketRelease === undefined && c.karpenter?.amiAlias ? `${at}.karpenter.amiAlias` : `${at}.bottlerocketRelease`;
  problems.push(...variantReleaseProblems(c.kubernetesVersion, release.release, releaseKey));
  if (c.karpenter) problems.push(...karpenterCompatibility(name, c.kubernetesVersion, c.karpenter.chartVersion));
  const trustedCertificates = loadCertificates(c.trustedCertificates, baseDir, `${at}.trustedCertificates`, problems, today);
  checkSettings(c.settings, 'eks-managed-node-group', `${at}.settings`, problems);
  checkSettings(c.settings, 'karpenter', `${at}.settings`, c.karpenter ? problems : []);
  checkSettings(g.settings, 'eks-managed-node-group', `${at}.systemNodeGroup.settings`, problems);
  const nodePools = Object.entries(c.karpenter?.nodePools ?? {}).map(([poolName, p]): NodePool => {
    checkSettings(p.settings, 'karpenter', `${at}.karpenter.nodePools.${poolName}.settings`, problems);
    if (p.cgroupVersion === 'v1') {
      const field = `${at}.karpenter.nodePools.${poolName}.cgroupVersion`;
      if (compareKubernetesVersions(c.kubernetesVersion, FIRST_KUBERNETES_VERSION_WITHOUT_CGROUP_V1) >= 0) {
        problems.push({
          path: field,
          message: `cgroup v1 is impossible with Kubernetes ${c.kubernetesVersion}: kubelet ${FIRST_KUBERNETES_VERSION_WITHOUT_CGROUP_V1}+ refuses to start on cgroup v1 (failCgroupV1) and Bottlerocket cannot turn that off`,
          fix: `move the workloads to cgroup v2 and remove cgroupVersion, or keep the cluster below ${FIRST_KUBERNETES_VERSION_WITHOUT_CGROUP_V1} until they are`,
        });
      } else {
        warnings.push({
          path: field,
          message: `pool "${poolName}" opts in to cgroup v1: Bottlerocket defaults to v2 (aws-k8s-1.26+), v1 needs a reboot at boot and is headed for removal`,
          fix: 'move the workloads to cgroup v2 and remove cgroupVersion',
        });
      }
    }
    // An unknown cache name is reported elsewhere; the pool still resolves, on the default size.
    const cache: ImageCacheSpec | undefined = p.imageCache ? caches[p.imageCache] : undefined;
    checkPoolBudgets(`${at}.karpenter.nodePools.${poolName}`, p, problems, warnings);
    checkCapacityTypes(`${at}.karpenter.nodePools.${poolName}`, p, problems);
    return {
      ...p,
      name: poolName,
      disruptionBudgets: poolDisruptionBudgets(p, hasRollout),
      instanceCategories: p.instanceCategories ?? (p.gpu ? ['g', 'p'] : ['c', 'm', 'r']),
      dataVolumeGiB: p.dataVolumeGiB ?? cache?.dataVolumeGiB ?? 20,
      imdsHopLimit: p.imdsHopLimit ?? c.imdsHopLimit,
    };
  });
  const density = checkClusterInstances(at, g, nodePools, problems);
  const pools = nodePools.map((p) => ({
    ...p,
    ...(density.excludedInstanceTypes.has(p.name) ? { excludedInstanceTypes: density.excludedInstanceTypes.get(p.name) } : {}),
  }));
  return {
    ...c,
    name,
    bottlerocketRelease: release.release,
    addons: addons.versions,
    trustedCertificates,
    karpenter: c.karpenter && { ...c.karpenter, nodePools: pools, amiAlias: release.amiAlias },
    vpcCniPrefixDelegation: density.prefixDelegation,
  };
}

function checkSettings(settings: BottlerocketSettings | undefined, provisioner: NodeProvisioner, at: string, problems: Problem[]): void {
  if (!settings) return;
  for (const p of validateSettings(settings, provisioner)) {
    problems.push({ path: `${at}.${p.key.replace(/^settings\./, '')}`, message: p.message, fix: p.fix });
  }
}

function resolveCache(name: string, c: ImageCacheSpec, id: string, clusters: readonly Cluster[], problems: Problem[], warnings: Problem[]): ImageCache {
  const users = clusters.filter((cl) => cl.karpenter?.nodePools.some((p) => p.imageCache === name));
  const kernelUsers = users.map((cl) => ({ cluster: cl.name, kubernetesVersion: cl.kubernetesVersion }));
  // The lowest: every newer kernel line mounts what an older one formats, not the other way round.
  const kubernetesVersion =
    c.kubernetesVersion ?? (defaultBuildVersion(kernelUsers) as ClusterSpec['kubernetesVersion'] | undefined) ?? SUPPORTED_KUBERNETES_VERSIONS.at(-1)!;
  problems.push(...checkCacheKernelLines({ name, variant: c.variant }, kubernetesVersion, c.kubernetesVersion !== undefined, kernelUsers));
  const release = resolveCacheRelease(
    name,
    c.bottlerocketVersion,
    users.map((cl) => ({ cluster: cl.name, amiAlias: cl.karpenter!.amiAlias })),
  );
  warnings.push(...release.warnings);
  problems.push(...release.problems);
  const pull = cachePullSettingsOf(name, clusters);
  problems.push(...pull.problems);
  const regions = [c.homeRegion, ...c.replicaRegions];
  if (c.instanceType) checkInstanceType(c.instanceType, c.arch, `imageCaches.${name}.instanceType`, problems);
  const resolved = c.images.map((template, i) => resolveCacheImage(name, c, template, i, regions, problems, warnings));
  if (c.snapshotter === 'soci') problems.push(sociCacheProblem(name));
  return {
    ...c,
    images: resolved.flatMap((r) => (r ? [r.ref] : [])),
    imageTemplates: resolved.flatMap((r) => (r ? [r.template] : [])),
    name,
    fleetId: id,
    parameterPath: c.parameterPath ?? defaultCacheParameterPath(name),
    kubernetesVersion,
    ...(release.release ? { bottlerocketVersion: release.release } : {}),
    pullSettings: pull.settings,
    regions,
  };
}

/** What the builder must pull with: the settings the cache's pools share (modules/image-cache/pull-settings.ts). */
function cachePullSettingsOf(name: string, clusters: readonly Cluster[]) {
  return cachePullSettings(
    name,
    clusters.flatMap((cl) =>
      (cl.karpenter?.nodePools ?? [])
        .filter((p) => p.imageCache === name)
        .map((p) => ({
          at: `clusters.${cl.name}.karpenter.nodePools.${p.name}`,
          trustedCertificates: cl.trustedCertificates,
          clusterSettings: cl.settings,
          poolSettings: p.settings,
        })),
    ),
  );
}

/**
 * One image of a cache, normalised as the CRI looks it up (image-ref.ts), in every region that holds a copy
 * (image-names.ts): ctr does not expand short names, and a name that differs from the pod's by one character
 * is a miss. Undefined (with the problem recorded) when some region's expansion is not a valid reference.
 */
function resolveCacheImage(
  name: string,
  c: ImageCacheSpec,
  template: string,
  i: number,
  regions: readonly string[],
  problems: Problem[],
  warnings: Problem[],
): { ref: string; template: string } | undefined {
  const at = `imageCaches.${name}.images[${i}]`;
  const refs = [...new Set(regions)].map((region) => {
    const e = expandImage(template, region);
    if ('error' in e) return { region, error: e.error };
    const n = normaliseImageRef(e.image);
    return n.error ? { region, error: n.error } : { region, ref: n.ref!, latest: n.parsed!.implicitLatest };
  });
  const bad = refs.filter((r) => r.error !== undefined);
  for (const error of new Set(bad.map((r) => r.error)))
    problems.push({
      path: at,
      message: `${error}${
        hasPlaceholders(template)
          ? ` (in ${bad
              .filter((r) => r.error === error)
              .map((r) => r.region)
              .join(', ')})`
          : ''
      }`,
      fix: hasPlaceholders(template)
        ? 'write it as registry/repository:tag with {region} or a leading {eksRegistry}/, e.g. {eksRegistry}/eks/kube-proxy:v1.35.0-minimal-eksbuild.2, or list the image per region without placeholders'
        : 'write it as registry/repository:tag, e.g. docker.io/library/nginx:1.27',
    });
  if (bad.length > 0) return undefined;
  if (c.requireDigests && !refs[0].ref!.includes('@sha256:'))
    problems.push({
      path: at,
      message: `"${template}" has no digest, and the cache sets requireDigests: true (a tag can be moved to other content)`,
      fix: `pin it by digest: ${refs[0].ref!.replace(/:[^:/@]+$/, '')}@sha256:<digest> (the tag may stay in front of the digest)`,
    });
  if (refs[0].latest)
    warnings.push({
      path: at,
      message: `"${template}" has no tag or digest: the CRI looks it up as ${refs[0].ref}, and Kubernetes gives such images imagePullPolicy Always, so a pod using it pulls from the registry on every start and never uses the cache`,
      fix: 'name a tag (or a digest), in the cache and in the pods',
    });
  return { ref: refs[0].ref!, template };
}

function sociCacheProblem(name: string): Problem {
  return {
    path: `imageCaches.${name}.snapshotter`,
    message:
      "a cache for SOCI nodes cannot be built reliably: Bottlerocket wipes /var/lib/containerd and /var/lib/soci-snapshotter at boot when the volume's recorded snapshotter differs from the node's (configure-snapshotter.service), and `ctr images pull` on containerd 2.x unpacks through the transfer service, which Bottlerocket configures for overlayfs only",
    fix: "use snapshotter: overlayfs (the default) and keep those pools on overlayfs, or give SOCI pools no imageCache (SOCI's parallel pull is their speed-up)",
  };
}

/** Checks that span several entries: overlaps, references between clusters and caches. */
function checkFleet(clusters: readonly Cluster[], caches: readonly ImageCache[], problems: Problem[], warnings: Problem[]): void {
  const newVpcs = clusters.flatMap((c) => ('cidr' in c.vpc ? [{ name: c.name, text: c.vpc.cidr, cidr: parseCidr(c.vpc.cidr) }] : []));
  newVpcs.forEach((a, i) =>
    newVpcs.slice(i + 1).forEach((b) => {
      if (a.cidr && b.cidr && cidrsOverlap(a.cidr, b.cidr)) {
        problems.push({
          path: `clusters.${b.name}.vpc.cidr`,
          message: `${b.text} overlaps ${a.text} of cluster ${a.name}`,
          fix: 'give each cluster its own address range, so the VPCs can be peered or joined by a transit gateway',
        });
      }
    }),
  );
  checkParameterPaths(caches, problems);
  const cacheByName = new Map(caches.map((c) => [c.name, c]));
  const paths = new Map<string, string>();
  for (const cache of caches) {
    const at = `imageCaches.${cache.name}`;
    if (cache.replicaRegions.includes(cache.homeRegion))
      problems.push({ path: `${at}.replicaRegions`, message: `lists the home region ${cache.homeRegion}`, fix: 'remove the home region from replicaRegions' });
    if (new Set(cache.replicaRegions).size !== cache.replicaRegions.length)
      problems.push({ path: `${at}.replicaRegions`, message: 'lists a region twice', fix: 'list each region once' });
    for (const r of [...Object.keys(cache.fastSnapshotRestoreAzs), ...Object.keys(cache.kmsKeyIds)]) {
      if (!cache.regions.includes(r))
        problems.push({ path: at, message: `names region ${r}, which holds no copy of the cache`, fix: `add ${r} to replicaRegions or remove it` });
    }
    for (const [r, azs] of Object.entries(cache.fastSnapshotRestoreAzs)) {
      for (const az of azs)
        if (!az.startsWith(r))
          problems.push({ path: `${at}.fastSnapshotRestoreAzs.${r}`, message: `${az} is not in ${r}`, fix: `use availability zones of ${r}` });
    }
    const other = paths.get(cache.parameterPath);
    if (other)
      problems.push({
        path: `${at}.parameterPath`,
        message: `${cache.parameterPath} is also used by cache ${other}`,
        fix: 'give each cache its own parameter path',
      });
    paths.set(cache.parameterPath, cache.name);
    if (!cache.built)
      warnings.push({
        path: `${at}.built`,
        message: `cache ${cache.name} is marked not built: its pools get an empty data volume and pull images at boot`,
        fix: `run "npm run cache -- build ${cache.name}", then remove built: false`,
      });
  }
  for (const cluster of clusters) {
    checkMigration(cluster, problems, warnings);
    for (const pool of cluster.karpenter?.nodePools ?? []) {
      checkPoolCache(cluster, pool, pool.imageCache === undefined ? undefined : cacheByName.get(pool.imageCache), caches, problems);
    }
  }
}

const KARPENTER_ARCH = { x86_64: 'amd64', arm64: 'arm64' } as const;

function checkPoolCache(cluster: Cluster, pool: NodePool, cache: ImageCache | undefined, caches: readonly ImageCache[], problems: Problem[]): void {
  const at = `clusters.${cluster.name}.karpenter.nodePools.${pool.name}`;
  if (pool.dataVolume.initializationRateMiBps !== undefined && pool.imageCache === undefined) {
    problems.push({
      path: `${at}.dataVolume.initializationRateMiBps`,
      message: 'applies only to a volume restored from a snapshot, and this pool has no imageCache',
      fix: 'add an imageCache or remove initializationRateMiBps',
    });
  }
  if (pool.imageCache === undefined) return;
  if (!cache) {
    const guess = closestKey(
      pool.imageCache,
      caches.map((c) => c.name),
    );
    problems.push({
      path: `${at}.imageCache`,
      message: `unknown image cache "${pool.imageCache}"`,
      fix: guess ? `did you mean "${guess}"?` : `define it under imageCaches (known: ${caches.map((c) => c.name).join(', ') || 'none'})`,
    });
    return;
  }
  const cacheArch = KARPENTER_ARCH[cache.arch];
  if (pool.arch.some((a) => a !== cacheArch)) {
    problems.push({
      path: `${at}.arch`,
      message: `[${pool.arch.join(', ')}] does not match cache ${cache.name}, which is built for ${cache.arch} (${cacheArch})`,
      fix: `set arch: [${cacheArch}] or use a cache built for the pool's architecture`,
    });
  }
  if (pool.gpu !== (cache.variant === 'gpu')) {
    problems.push({
      path: `${at}.imageCache`,
      message: `a ${pool.gpu ? 'GPU' : 'CPU'} pool cannot use the ${cache.variant.toUpperCase()} cache ${cache.name}`,
      fix: `use a cache with variant: ${pool.gpu ? 'gpu' : 'cpu'}`,
    });
  }
  const snapshotter = nodeSnapshotter(cluster, pool);
  // (A soci cache is refused on its own; one problem is enough.)
  if (cache.snapshotter !== 'soci' && snapshotter !== cache.snapshotter) {
    problems.push({
      path: `${at}.imageCache`,
      message: `the pool's nodes use the ${snapshotter} snapshotter and cache ${cache.name} is built for ${cache.snapshotter}: Bottlerocket wipes /var/lib/containerd at boot when they differ, so the cached images would be deleted`,
      fix: `drop settings.container-runtime.snapshotter from the pool and cluster (overlayfs), or remove imageCache from this pool`,
    });
  }
  if (pool.dataVolumeGiB < cache.dataVolumeGiB) {
    problems.push({
      path: `${at}.dataVolumeGiB`,
      message: `${pool.dataVolumeGiB} GiB is smaller than the snapshot of cache ${cache.name} (${cache.dataVolumeGiB} GiB)`,
      fix: `set dataVolumeGiB to at least ${cache.dataVolumeGiB}`,
    });
  }
  if (!cache.regions.includes(cluster.region)) {
    problems.push({
      path: `${at}.imageCache`,
      message: `cache ${cache.name} has no copy in ${cluster.region} (it lives in ${cache.regions.join(', ')})`,
      fix: `add ${cluster.region} to imageCaches.${cache.name}.replicaRegions`,
    });
  }
}

/** settings.container-runtime.snapshotter of a pool's nodes (the pool's settings win over the cluster's). */
function nodeSnapshotter(cluster: Cluster, pool: NodePool): string {
  const of = (settings: BottlerocketSettings | undefined) => (settings?.['container-runtime'] as { snapshotter?: string } | undefined)?.snapshotter;
  return of(pool.settings) ?? of(cluster.settings) ?? 'overlayfs';
}

function checkMigration(cluster: Cluster, problems: Problem[], warnings: Problem[]): void {
  const at = `clusters.${cluster.name}`;
  if (cluster.migration && !cluster.karpenter) {
    problems.push({
      path: `${at}.migration`,
      message: 'headroom is held on Karpenter nodes, and this cluster has no karpenter',
      fix: 'add karpenter with at least one pool, or remove migration',
    });
  } else if (cluster.migration && !legacyCapacity(cluster)) {
    problems.push({
      path: `${at}.migration.headroomPercent`,
      message: 'has nothing to be a percentage of: no legacyCapacity and no CPU pool with cpu and memory limits',
      fix: 'set migration.legacyCapacity: {cpu, memoryGiB} to the capacity of the AL2 nodes being migrated',
    });
  }
  if (cluster.gpu && !cluster.karpenter?.nodePools.some((p) => p.gpu)) {
    warnings.push({
      path: `${at}.gpu.legacyDevicePlugin`,
      message: 'is set, but the cluster has no GPU pool: no Bottlerocket GPU node will need the plugin kept off',
      fix: 'add a pool with gpu: true, or remove gpu',
    });
  }
  if (cluster.gpu && !cluster.karpenter) {
    problems.push({ path: `${at}.gpu`, message: 'is applied by the Karpenter stack, and this cluster has no karpenter', fix: 'add karpenter, or remove gpu' });
  }
}
