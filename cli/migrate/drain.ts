/**
 * Batch drain of the old (non-Bottlerocket) nodes: cordon a batch, evict its pods through the Eviction
 * API (so PodDisruptionBudgets hold; pods are never deleted directly), wait until every workload that
 * lost pods is fully available again and nothing is Pending too long, then take the next batch.
 * Progress is kept on the nodes as annotations; the first failed health check stops the run.
 */
import type { KubeApi, NodeInfo, OwnerRef, PodInfo } from './kube';
import { DRAIN_ANNOTATION, DRAIN_STARTED_ANNOTATION, DRAIN_TIME_ANNOTATION, migrationStart, planBatches } from './batches';
import { formatDuration } from '../shared/duration';
import { pendingTooLong, podName, unavailableWorkloads } from '../shared/health';

export interface DrainOptions {
  readonly nodes: readonly NodeInfo[];
  readonly batchSize: number;
  readonly dryRun: boolean;
  /** Evict pods that no controller owns too (like `kubectl drain --force`): they are not recreated. */
  readonly force?: boolean;
  /** A pod Pending longer than this fails the health check. */
  readonly pendingTimeoutMs: number;
  /** How long a batch may take to become healthy again. */
  readonly healthTimeoutMs: number;
  /** How long an eviction may stay blocked by a PodDisruptionBudget. */
  readonly evictionTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly log: (line: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class DrainStopped extends Error {}

interface Workload extends OwnerRef { readonly namespace: string }

export async function drain(api: KubeApi, o: DrainOptions): Promise<{ drained: string[] }> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const batches = planBatches(o.nodes, o.batchSize);
  const done = o.nodes.length - batches.flat().length;
  o.log(`${o.nodes.length} old node(s), ${done} already drained, ${batches.length} batch(es) of up to ${o.batchSize}`);
  batches.forEach((b, i) => o.log(`  batch ${i + 1}: ${b.map((n) => n.name).join(', ')}`));
  if (o.dryRun) {
    for (const batch of batches) {
      const bare = await unmanagedPods(api, batch);
      if (bare.length > 0 && !o.force) o.log(`  would stop before cordoning ${batch.map((n) => n.name).join(', ')}: ${describeUnmanaged(bare)}`);
    }
    o.log('dry run: nothing changed');
    return { drained: [] };
  }
  // Pods Pending since before the migration began are not its doing (an unschedulable job from last week
  // would otherwise stop every run): they are named, not counted. Replacements left Pending by an earlier,
  // failed run were created after it began, so they still stop a re-run.
  const started = migrationStart(o.nodes, now());
  const drained: string[] = [];
  for (const [i, batch] of batches.entries()) {
    // Checked before the batch is touched, so a stop leaves its nodes as they were.
    const bare = await unmanagedPods(api, batch);
    if (bare.length > 0) {
      if (!o.force) throw new DrainStopped(`${describeUnmanaged(bare)}; move them, or re-run with --force to evict them anyway`);
      o.log(`  --force: evicting unmanaged pod(s) ${bare.map(podName).join(', ')}; nothing recreates them`);
    }
    o.log(`batch ${i + 1}/${batches.length}: cordoning ${batch.map((n) => n.name).join(', ')}`);
    for (const node of batch) {
      const stamp = new Date(now()).toISOString();
      await api.patchNode(node.name, { unschedulable: true, annotations: { [DRAIN_ANNOTATION]: 'cordoned', [DRAIN_TIME_ANNOTATION]: stamp, [DRAIN_STARTED_ANNOTATION]: node.annotations[DRAIN_STARTED_ANNOTATION] ?? new Date(started).toISOString() } });
    }
    const lost = new Map<string, Workload>();
    for (const node of batch) {
      for (const pod of (await api.listPods(`spec.nodeName=${node.name}`)).filter(evictable)) {
        await evict(api, pod, o, now, sleep);
        const w = await workloadOf(api, pod);
        if (w) lost.set(`${w.kind}/${w.namespace}/${w.name}`, w);
      }
    }
    await waitHealthy(api, [...lost.values()], started, o, now, sleep);
    for (const node of batch) await api.patchNode(node.name, { annotations: { [DRAIN_ANNOTATION]: 'drained', [DRAIN_TIME_ANNOTATION]: new Date(now()).toISOString() } });
    drained.push(...batch.map((n) => n.name));
    o.log(`batch ${i + 1}/${batches.length}: drained, ${lost.size} workload(s) healthy again`);
  }
  o.log(`done: ${drained.length} node(s) drained in this run`);
  return { drained };
}

/** DaemonSet pods stay (their controller would recreate them); mirror pods belong to the kubelet; finished pods need nothing. */
function evictable(p: PodInfo): boolean {
  return !p.mirror && p.owner?.kind !== 'DaemonSet' && p.phase !== 'Succeeded' && p.phase !== 'Failed';
}


/** Pods on these nodes that the drain would evict and no controller would recreate. */
async function unmanagedPods(api: KubeApi, nodes: readonly NodeInfo[]): Promise<PodInfo[]> {
  const pods = await Promise.all(nodes.map((n) => api.listPods(`spec.nodeName=${n.name}`)));
  return pods.flat().filter((p) => evictable(p) && !p.owner);
}

function describeUnmanaged(pods: readonly PodInfo[]): string {
  return `unmanaged pod(s) ${pods.map(podName).join(', ')}: no controller recreates them once evicted`;
}

async function evict(api: KubeApi, pod: PodInfo, o: DrainOptions, now: () => number, sleep: (ms: number) => Promise<void>): Promise<void> {
  const start = now();
  for (;;) {
    const outcome = await api.evictPod(pod.namespace, pod.name);
    if (outcome !== 'blocked') {
      o.log(`  evicted ${podName(pod)}${outcome === 'gone' ? ' (already gone)' : ''}`);
      return;
    }
    if (now() - start > o.evictionTimeoutMs) {
      throw new DrainStopped(`eviction of ${podName(pod)} blocked by a PodDisruptionBudget for ${formatDuration(now() - start)} (limit ${formatDuration(o.evictionTimeoutMs)}); check the budget and the workload's health, then re-run`);
    }
    await sleep(o.pollIntervalMs);
  }
}

async function workloadOf(api: KubeApi, pod: PodInfo): Promise<Workload | undefined> {
  if (!pod.owner) return undefined;
  if (pod.owner.kind === 'ReplicaSet') {
    const owner = await api.replicaSetOwner(pod.namespace, pod.owner.name);
    return { ...(owner ?? pod.owner), namespace: pod.namespace };
  }
  return { ...pod.owner, namespace: pod.namespace };
}

async function waitHealthy(api: KubeApi, workloads: Workload[], migrationStarted: number, o: DrainOptions, now: () => number, sleep: (ms: number) => Promise<void>): Promise<void> {
  const start = now();
  let named = false;
  for (;;) {
    const allPending = await api.listPods('status.phase=Pending');
    const before = allPending.filter((p) => p.createdAt.getTime() < migrationStarted);
    if (before.length > 0 && !named) {
      o.log(`  not counted in the health check, Pending since before the migration began: ${before.map(podName).join(', ')}`);
      named = true;
    }
    const pending = pendingTooLong(allPending, migrationStarted, now(), o.pendingTimeoutMs);
    if (pending.length > 0) {
      const p = pending[0];
      throw new DrainStopped(`health check failed: pod ${podName(p)} has been Pending for ${formatDuration(now() - p.createdAt.getTime())} (limit ${formatDuration(o.pendingTimeoutMs)}); the Bottlerocket capacity may be missing (check Karpenter and the NodePools), then re-run`);
    }
    const unhealthy = unavailableWorkloads(await Promise.all(workloads.map(async (w) => ({ ...w, ...(await api.workloadStatus(w.kind, w.namespace, w.name)) }))));
    if (unhealthy.length === 0) return;
    if (now() - start > o.healthTimeoutMs) {
      throw new DrainStopped(`health check failed after ${formatDuration(now() - start)}: ${unhealthy.join('; ')}`);
    }
    await sleep(o.pollIntervalMs);
  }
}
