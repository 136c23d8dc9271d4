/**
 * The capacity an AL2-to-Bottlerocket migration moves: what the migration headroom is a percentage of. In the
 * fleet layer (pure, on narrow inputs) because the loader checks it, and the loader must not depend on
 * modules/migration (which renders manifests from the loaded fleet).
 */

/** What legacyCapacity reads of a cluster. */
export interface CapacityInputs {
  readonly migration?: { readonly legacyCapacity?: { readonly cpu: number; readonly memoryGiB: number } };
  readonly karpenter?: { readonly nodePools: readonly { readonly gpu: boolean; readonly limits?: { readonly cpu?: string; readonly memory?: string } }[] };
}

/** Capacity the headroom is a percentage of: `migration.legacyCapacity`, else the cpu/memory limits of the CPU pools; undefined when neither. */
export function legacyCapacity(cluster: CapacityInputs): { cpu: number; memoryGiB: number } | undefined {
  if (cluster.migration?.legacyCapacity) return cluster.migration.legacyCapacity;
  const cpuPools = (cluster.karpenter?.nodePools ?? []).filter((p) => !p.gpu && p.limits?.cpu && p.limits.memory);
  if (cpuPools.length === 0) return undefined;
  return {
    cpu: cpuPools.reduce((sum, p) => sum + parseQuantity(p.limits!.cpu!), 0),
    memoryGiB: cpuPools.reduce((sum, p) => sum + parseQuantity(p.limits!.memory!) / 2 ** 30, 0),
  };
}

/** A Kubernetes resource quantity ("500m", "16Gi", "2") as a number of units. */
export function parseQuantity(q: string): number {
  const m = /^([0-9.]+)(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/.exec(q);
  if (!m) throw new Error(`not a Kubernetes quantity: ${q}`);
  const factor: Record<string, number> = { m: 1e-3, k: 1e3, Ki: 2 ** 10, M: 1e6, Mi: 2 ** 20, G: 1e9, Gi: 2 ** 30, T: 1e12, Ti: 2 ** 40 };
  return Number(m[1]) * (m[2] ? factor[m[2]] : 1);
}
