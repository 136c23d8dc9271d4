/** Which nodes are old and in what batches they go (pure). */
import type { NodeInfo } from './kube';

/** Node annotation that records the drain's progress, so a re-run continues where it stopped. */
export const DRAIN_ANNOTATION = 'bottlerocket-fleet/drain';
export const DRAIN_TIME_ANNOTATION = 'bottlerocket-fleet/drain-updated';
/** When the node was first cordoned; never overwritten, so re-runs know when the migration began. */
export const DRAIN_STARTED_ANNOTATION = 'bottlerocket-fleet/drain-started';

/** The migration began at the first cordon of any old node, or begins now. */
export function migrationStart(nodes: readonly NodeInfo[], now: number): number {
  return Math.min(now, ...nodes.map((n) => Date.parse(n.annotations[DRAIN_STARTED_ANNOTATION] ?? '')).filter(Number.isFinite));
}

/** Old nodes: by label selector when given (the API filtered them), else every node whose OS image is not Bottlerocket. */
export function oldNodes(nodes: readonly NodeInfo[], bySelector: boolean): NodeInfo[] {
  return nodes.filter((n) => bySelector || !/bottlerocket/i.test(n.osImage)).sort((a, b) => a.name.localeCompare(b.name));
}

/** "3" nodes per batch, or "25%" of the old nodes (at least one). */
export function batchSize(spec: string, total: number): number {
  const m = /^(\d+)(%?)$/.exec(spec);
  if (!m || Number(m[1]) === 0 || (m[2] && Number(m[1]) > 100))
    throw new Error(`--batch-size "${spec}" must be a node count such as 2 or a percentage such as 25%`);
  return m[2] ? Math.max(1, Math.floor((total * Number(m[1])) / 100)) : Number(m[1]);
}

export function planBatches(nodes: readonly NodeInfo[], size: number): NodeInfo[][] {
  const todo = nodes.filter((n) => n.annotations[DRAIN_ANNOTATION] !== 'drained');
  const batches: NodeInfo[][] = [];
  for (let i = 0; i < todo.length; i += size) batches.push(todo.slice(i, i + size));
  return batches;
}
