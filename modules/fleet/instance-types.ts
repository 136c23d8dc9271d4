/**
 * EC2 instance types as Karpenter v1.14.1 knows them (contracts/karpenter/v1.14.1/instance-types.json,
 * from pkg/providers/instancetype/zz_generated.vpclimits.go), with the labels Karpenter derives from the
 * name and the pod limits the VPC CNI gives them. Pure; read once.
 */
import { readJsonContract } from '../contracts';

export type Arch = 'x86_64' | 'arm64';

interface Limits {
  /** ENIs of the default network card (the only card the VPC CNI uses). */
  readonly enis: number;
  readonly ipv4PerEni: number;
  /** "nitro", "xen", or "" (bare metal). */
  readonly hypervisor: string;
  readonly bareMetal: boolean;
}

export interface InstanceType extends Limits {
  readonly name: string;
  /** karpenter.k8s.aws/instance-family: the name before the dot. */
  readonly family: string;
  /** karpenter.k8s.aws/instance-category and -generation (undefined where Karpenter's pattern does not match, e.g. mac-m4). */
  readonly category?: string;
  readonly generation?: number;
  readonly arch: Arch;
  /** Pods without prefix delegation: ENIs × (IPv4 per ENI − 1) + 2 (Karpenter ENILimitedPods, types.go). */
  readonly eniMaxPods: number;
  /**
   * Pods with VPC CNI prefix delegation: each secondary IP slot holds a /28 prefix (16 addresses). Only on
   * the Nitro system (bare metal included); undefined for Xen types, which cannot take prefixes.
   */
  readonly prefixMaxPods?: number;
}

/** Karpenter's instanceTypeScheme (pkg/providers/instancetype/types.go v1.14.1): category, optional -<n>tb, generation. */
const INSTANCE_TYPE_SCHEME = /(^[a-z]+)(-[0-9]+tb)?([0-9]+).*\./;

/**
 * Architecture from the family name (the contract has none): AWS names Graviton families with a `g` among
 * the attribute letters after the generation (m6g, c7gn, r8gd, im4gn, is4gen, g5g, m8gb), and the
 * first-generation Graviton a1. Apple-silicon Macs (mac2*, mac-m*) are arm64 too; mac1 is Intel.
 * Every other family is x86_64 (Intel, AMD, and the accelerators' hosts). docs/decisions.md names the rule.
 */
export function familyArch(family: string): Arch {
  if (family === 'a1') return 'arm64';
  if (family.startsWith('mac')) return family === 'mac1' ? 'x86_64' : 'arm64';
  const attributes = /^[a-z]+[0-9]+([a-z]*)/.exec(family)?.[1] ?? '';
  return attributes.includes('g') ? 'arm64' : 'x86_64';
}

function describe(name: string, limits: Limits): InstanceType {
  const family = name.split('.')[0];
  const m = INSTANCE_TYPE_SCHEME.exec(name);
  const slots = limits.enis * (limits.ipv4PerEni - 1);
  return {
    ...limits,
    name,
    family,
    ...(m ? { category: m[1], generation: Number(m[3]) } : {}),
    arch: familyArch(family),
    eniMaxPods: slots + 2,
    ...(limits.hypervisor === 'xen' ? {} : { prefixMaxPods: slots * 16 + 2 }),
  };
}

let byName: ReadonlyMap<string, InstanceType> | undefined;

/** Every instance type of the contract by name. */
export function instanceTypes(): ReadonlyMap<string, InstanceType> {
  byName ??= new Map(
    Object.entries(readJsonContract<{ types: Record<string, Limits> }>('karpenter/v1.14.1/instance-types.json').types).map(([n, l]) => [n, describe(n, l)]),
  );
  return byName;
}

let families: ReadonlySet<string> | undefined;
let categories: ReadonlySet<string> | undefined;

/** Derived once, like instanceTypes(): the checks of every pool ask for them (rebuilt each time, they cost a test file that
 * loads fifty fleets, migrate-drain, about 0.2 s of CPU). */
export function instanceFamilies(): ReadonlySet<string> {
  families ??= new Set([...instanceTypes().values()].map((t) => t.family));
  return families;
}

export function instanceCategories(): ReadonlySet<string> {
  categories ??= new Set([...instanceTypes().values()].flatMap((t) => (t.category ? [t.category] : [])));
  return categories;
}

/** What a NodePool's requirements let Karpenter choose from (the ones modules/karpenter/node-pool.ts writes). */
export interface PoolRequirements {
  readonly arch: readonly Arch[];
  readonly instanceCategories: readonly string[];
  readonly instanceFamilies?: readonly string[];
  readonly instanceGenerationGreaterThan?: number;
  /** NVIDIA GPUs only (instance-gpu-manufacturer In [nvidia]): g4ad's GPUs are AMD. */
  readonly nvidiaOnly?: boolean;
}

/** Families with AMD GPUs in the GPU categories (g4ad: Radeon Pro V520), which a NVIDIA-only pool excludes. */
const AMD_GPU_FAMILIES = new Set(['g4ad']);

export function allowedInstanceTypes(r: PoolRequirements): InstanceType[] {
  return [...instanceTypes().values()].filter(
    (t) =>
      r.arch.includes(t.arch) &&
      t.category !== undefined &&
      r.instanceCategories.includes(t.category) &&
      (!r.instanceFamilies || r.instanceFamilies.includes(t.family)) &&
      (r.instanceGenerationGreaterThan === undefined || (t.generation ?? 0) > r.instanceGenerationGreaterThan) &&
      !(r.nvidiaOnly && AMD_GPU_FAMILIES.has(t.family)),
  );
}
