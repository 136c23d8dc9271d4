/**
 * Fleet checks against the instance types Karpenter v1.14.1 knows (instance-types.ts): unknown types,
 * families and categories (with "did you mean"), types of the wrong architecture, and a pool's maxPods
 * against the pod IPs of the smallest type it allows. Issue 28 item 5, issue 29 item 4.
 */
import { closestKey, type Problem } from './problems';
import { allowedInstanceTypes, Arch, instanceCategories, instanceFamilies, InstanceType, instanceTypes } from './instance-types';
import type { NodePoolSpec } from './schema';

/** Karpenter's kubernetes.io/arch values to EC2's. */
const EC2_ARCH = { amd64: 'x86_64', arm64: 'arm64' } as const satisfies Record<string, Arch>;

function unknown(what: string, value: string, known: Iterable<string>, at: string): Problem {
  const list = [...known].sort();
  const guess = closestKey(value, list);
  return {
    path: at,
    message: `unknown ${what} "${value}" (not among the ${list.length} Karpenter v1.14.1 knows)`,
    fix: guess ? `did you mean "${guess}"?` : `use one such as ${list.slice(0, 6).join(', ')}, ... (contracts/karpenter/v1.14.1/instance-types.json)`,
  };
}

/** An EC2 instance type for nodes or a builder of the given architecture. */
export function checkInstanceType(name: string, arch: Arch, at: string, problems: Problem[]): void {
  const type = instanceTypes().get(name);
  if (!type) {
    problems.push(unknown('instance type', name, instanceTypes().keys(), at));
  } else if (type.arch !== arch) {
    problems.push({
      path: at,
      message: `${name} is an ${type.arch} instance type, and this is an ${arch} setting: its nodes would not boot the ${arch} image`,
      fix: `use an ${arch} instance type (${arch === 'arm64' ? 'Graviton families carry a "g" after the generation, e.g. m7g.large' : 'e.g. m6i.large'}), or change arch`,
    });
  }
}

/** The pool's category and family names, each known, each family of an architecture the pool allows. */
function checkPoolNames(pool: NodePoolSpec & { instanceCategories: string[] }, at: string, problems: Problem[]): void {
  const categories = instanceCategories();
  pool.instanceCategories.forEach((c, i) => {
    if (!categories.has(c)) problems.push(unknown('instance category', c, categories, `${at}.instanceCategories[${i}]`));
  });
  const families = instanceFamilies();
  const arches: readonly Arch[] = pool.arch.map((a) => EC2_ARCH[a]);
  (pool.instanceFamilies ?? []).forEach((f, i) => {
    const path = `${at}.instanceFamilies[${i}]`;
    const sample = [...instanceTypes().values()].find((t) => t.family === f);
    if (!families.has(f) || !sample) problems.push(unknown('instance family', f, families, path));
    else if (!arches.includes(sample.arch))
      problems.push({
        path,
        message: `${f} is an ${sample.arch} family, and the pool's arch is [${pool.arch.join(', ')}]: Karpenter would never pick it`,
        fix: `remove ${f}, or add ${sample.arch === 'arm64' ? 'arm64' : 'amd64'} to arch (with an image cache for it)`,
      });
  });
}

/** The smallest of a list by pods (ENI-based). */
const smallest = (types: readonly InstanceType[]) => types.reduce((a, b) => (b.eniMaxPods < a.eniMaxPods ? b : a));

/** What a pool's maxPods needs: prefix delegation on the cluster's vpc-cni, and types kept out of the pool. */
export interface PodDensity {
  readonly prefixDelegation: boolean;
  /** Types the pool's requirements allow that cannot hold maxPods even with prefixes (NodePool NotIn). */
  readonly excludedInstanceTypes: readonly string[];
}

/**
 * maxPods against the pod IPs of every type the pool allows (docs/decisions.md). Above the ENI-based limit
 * of some type, the cluster's vpc-cni add-on gets prefix delegation; types that cannot hold maxPods even
 * with prefixes (Xen types take none; the smallest Nitro types hold fewer) are kept out of the NodePool.
 * A pool left with no type is refused, naming the limit.
 */
function podDensity(maxPods: number | undefined, allowed: readonly InstanceType[], at: string, problems: Problem[]): PodDensity {
  const none = { prefixDelegation: false, excludedInstanceTypes: [] };
  if (maxPods === undefined) return none;
  const below = allowed.filter((t) => t.eniMaxPods < maxPods);
  if (below.length === 0) return none;
  const cannot = below.filter((t) => (t.prefixMaxPods ?? 0) < maxPods);
  if (cannot.length === allowed.length) {
    const t = smallest(cannot);
    problems.push({
      path: `${at}.maxPods`,
      message: `${maxPods} pods fit on no instance type the pool allows: the smallest, ${t.name}, has ${t.eniMaxPods} pod IPs (${t.enis} ENIs × (${t.ipv4PerEni} − 1) + 2)${t.prefixMaxPods === undefined ? `, and as a ${t.hypervisor} instance it cannot take VPC CNI prefixes` : `, ${t.prefixMaxPods} with prefix delegation`}; pods past that would stay in ContainerCreating`,
      fix: `lower maxPods to at most ${Math.max(...allowed.map((x) => x.prefixMaxPods ?? x.eniMaxPods))}, or allow larger types (instanceCategories, instanceFamilies, instanceGenerationGreaterThan)`,
    });
    return none;
  }
  return { prefixDelegation: below.length > cannot.length, excludedInstanceTypes: cannot.map((t) => t.name).sort() };
}

/**
 * Instance checks of one cluster: its system node group's types and every pool. Returns whether any pool
 * needs VPC CNI prefix delegation, and per pool the types kept out because they cannot hold its maxPods.
 */
export function checkClusterInstances(
  at: string,
  systemNodeGroup: { arch: Arch; instanceTypes: string[] },
  pools: readonly (NodePoolSpec & { name: string; instanceCategories: string[] })[],
  problems: Problem[],
): { prefixDelegation: boolean; excludedInstanceTypes: ReadonlyMap<string, readonly string[]> } {
  systemNodeGroup.instanceTypes.forEach((t, i) => checkInstanceType(t, systemNodeGroup.arch, `${at}.systemNodeGroup.instanceTypes[${i}]`, problems));
  let prefixDelegation = false;
  const excludedInstanceTypes = new Map<string, readonly string[]>();
  for (const pool of pools) {
    const poolAt = `${at}.karpenter.nodePools.${pool.name}`;
    const before = problems.length;
    checkPoolNames(pool, poolAt, problems);
    if (problems.length > before) continue;
    const allowed = allowedInstanceTypes({ ...pool, arch: pool.arch.map((a) => EC2_ARCH[a]), nvidiaOnly: pool.gpu });
    if (allowed.length === 0) {
      problems.push({
        path: poolAt,
        message:
          'allows no instance type Karpenter v1.14.1 knows (arch, instanceCategories, instanceFamilies and instanceGenerationGreaterThan together exclude every one)',
        fix: 'widen instanceCategories or instanceFamilies, or lower instanceGenerationGreaterThan',
      });
      continue;
    }
    const density = podDensity(pool.maxPods, allowed, poolAt, problems);
    prefixDelegation ||= density.prefixDelegation;
    if (density.excludedInstanceTypes.length > 0) excludedInstanceTypes.set(pool.name, density.excludedInstanceTypes);
  }
  return { prefixDelegation, excludedInstanceTypes };
}
