/** `upgrade status`: per cluster the running versions and, per pool, the NodeClaims grouped by (variant, release, generation). Pure. */
import type { RunningCluster } from './plan';

export interface NodeClaimGroup {
  /** aws-k8s-<version> the nodes run; undefined: not known (node not registered, or not Bottlerocket). */
  readonly variant?: string;
  readonly release?: string;
  /** The snapshot of the live class they were launched for; undefined: an earlier generation. */
  readonly generation?: string;
  readonly nodeClaims: number;
}

export interface ClusterStatus {
  readonly cluster: string;
  readonly running?: Omit<RunningCluster, 'pools'>;
  readonly pools: readonly { readonly pool: string; readonly alias?: string; readonly snapshot?: string; readonly groups: readonly NodeClaimGroup[] }[];
  /** The upgrade's state and step on the cluster, from the node classes' progress annotations. */
  readonly upgrade: string;
}

/** What each recorded state means as the step the upgrade is in (cli/upgrade/node-image-payload.ts). */
const STEP_OF: Readonly<Record<string, string>> = {
  starting: 'applying the node image (previous spec recorded)',
  applied: 'converging: Karpenter replacing the nodes',
  converged: 'soaking',
  done: 'done',
  blocked: 'blocked: Karpenter holds nodes or EKS refused a node group or add-on update (re-run to resume)',
  'rolled-back': 'rolled back',
};

/** "bottlerocket@v1.56.0: converging: Karpenter replacing the nodes (default, batch)", per distinct state; "none recorded". */
function upgradeText(pools: RunningCluster['pools']): string {
  const by = new Map<string, string[]>();
  for (const p of pools)
    if (p.upgrade) {
      const step = p.upgrade.step ? `, step ${p.upgrade.step}` : '';
      const key = `${p.upgrade.target ?? '?'}: ${STEP_OF[p.upgrade.state] ?? p.upgrade.state}${step}${p.upgrade.reason ? ` (${p.upgrade.reason})` : ''}`;
      by.set(key, [...(by.get(key) ?? []), p.name]);
    }
  return by.size === 0 ? 'none recorded' : [...by].map(([k, names]) => `${k} [${names.join(', ')}]`).join('; ');
}

export function clusterStatus(name: string, running: RunningCluster | undefined): ClusterStatus {
  if (!running) return { cluster: name, pools: [], upgrade: 'none (cluster not running)' };
  const { pools, ...rest } = running;
  return {
    cluster: name,
    running: rest,
    upgrade: upgradeText(pools),
    pools: pools.map((p) => {
      const groups = new Map<string, NodeClaimGroup>();
      for (const n of p.nodes) {
        const variant = n.kubernetesVersion && `aws-k8s-${n.kubernetesVersion}`;
        const key = JSON.stringify([variant, n.release, n.snapshot]);
        const g = groups.get(key);
        groups.set(key, { variant, release: n.release, generation: n.snapshot, nodeClaims: (g?.nodeClaims ?? 0) + 1 });
      }
      return { pool: p.name, alias: p.alias, snapshot: p.snapshot, groups: [...groups.values()] };
    }),
  };
}
