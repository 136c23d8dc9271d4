/**
 * Batch drain of the old (non-Bottlerocket) nodes, with `kubectl drain`'s guarantees: pods that would lose
 * something for good stop a batch before it is cordoned (unless --force / --delete-emptydir-data); the
 * batch is cordoned and its pods evicted through the Eviction API (so PodDisruptionBudgets hold; pods are
 * never deleted directly); every evicted pod must be gone (or replaced under its name) and every workload
 * that lost pods fully available again before the nodes count as drained and the next batch starts.
 * Progress is kept on the nodes as annotations; the first failed check stops the run, and a re-run resumes.
 */
import { KubeApiError, type KubeApi, type NodeInfo, type PodInfo, type TrackedKind } from './kube';
import { DRAIN_ANNOTATION, DRAIN_STARTED_ANNOTATION, DRAIN_TIME_ANNOTATION, migrationStart, planBatches } from './batches';
import { blockers, evictable, type Blocker, goneOrReplaced, podTimeoutMs, skipWaitForDelete } from './pods';
import { withRetry, type RetryContext, type RetryPolicy } from '../shared/kube/retry';
import { formatDuration } from '../shared/duration';
import { pendingTooLong, podName, unavailableWorkloads } from '../shared/health';

export interface DrainOptions {
  readonly nodes: readonly NodeInfo[];
  readonly batchSize: number;
  readonly dryRun: boolean;
  /** Evict pods that no controller owns too (like `kubectl drain --force`): they are not recreated. */
  readonly force?: boolean;
  /** Evict pods with emptyDir volumes too (like `kubectl drain --delete-emptydir-data`): their data is lost. */
  readonly deleteEmptyDirData?: boolean;
  /** A pod Pending longer than this fails the health check. */
  readonly pendingTimeoutMs: number;
  /** How long a batch may take to become healthy again. */
  readonly healthTimeoutMs: number;
  /** How long an eviction may stay blocked by a PodDisruptionBudget. */
  readonly evictionTimeoutMs: number;
  /**
   * How long an evicted pod may take to be gone.
   * @default each pod's terminationGracePeriodSeconds + 1m, at most 1h (see pods.ts podTimeoutMs)
   */
  readonly podTimeoutMs?: number;
  /**
   * Pods terminating for longer than this are neither evicted nor waited for (kubectl drain's
   * --skip-wait-for-delete-timeout): for a node that no longer confirms deletions.
   * @default none: every evicted pod is waited for
   */
  readonly skipWaitForDeleteTimeoutMs?: number;
  readonly pollIntervalMs: number;
  readonly log: (line: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** For evictions, which the drain retries itself (every other call is retried by the access layer). @default API_RETRY (cli/shared/kube/retry.ts) */
  readonly retry?: RetryPolicy;
}

export class DrainStopped extends Error {}

interface Workload {
  readonly kind: TrackedKind;
  readonly namespace: string;
  readonly name: string;
}
interface Evicted {
  readonly pod: PodInfo;
  readonly at: number;
}

/** What a run did; under --dry-run, also what would stop it. */
export interface DrainResult {
  readonly drained: string[];
  /** Dry run: every blocker found on each batch's nodes (those `stops` would stop the run; the others a flag accepts). */
  readonly blockers?: readonly DryRunBlocker[];
}

/** One blocker a dry run found on one node. */
export interface DryRunBlocker {
  readonly node: string;
  readonly flag: Blocker['flag'];
  /** namespace/name of each pod it concerns on that node. */
  readonly pods: readonly string[];
  readonly what: string;
  readonly fix: string;
  /** true: the drain would stop before cordoning this node's batch; false: a flag given accepts it. */
  readonly stops: boolean;
}

export async function drain(api: KubeApi, o: DrainOptions): Promise<DrainResult> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retry: RetryContext = { now, sleep, log: o.log, policy: o.retry };
  try {
    return await drainBatches(api, o, now, sleep, retry);
  } catch (e) {
    // Whatever the API refused, or kept failing at: the batch in hand stays cordoned and unmarked.
    if (e instanceof KubeApiError) {
      throw new DrainStopped(
        `the API call "${e.message}" failed${e.transient ? '' : ' (not a fault worth retrying)'}; nodes of the current batch stay cordoned and are not marked drained; re-run to resume once the cause is fixed`,
      );
    }
    throw e;
  }
}

async function drainBatches(api: KubeApi, o: DrainOptions, now: () => number, sleep: (ms: number) => Promise<void>, retry: RetryContext): Promise<DrainResult> {
  const batches = planBatches(o.nodes, o.batchSize);
  const done = o.nodes.length - batches.flat().length;
  o.log(`${o.nodes.length} old node(s), ${done} already drained, ${batches.length} batch(es) of up to ${o.batchSize}`);
  batches.forEach((b, i) => o.log(`  batch ${i + 1}: ${b.map((n) => n.name).join(', ')}`));
  if (o.dryRun) return { drained: [], blockers: await dryRunBatches(api, batches, o) };
  // Pods Pending since before the migration began are not its doing (an unschedulable job from last week
  // would otherwise stop every run): they are named, not counted. Replacements left Pending by an earlier,
  // failed run were created after it began, so they still stop a re-run.
  const started = migrationStart(o.nodes, now());
  const drained: string[] = [];
  for (const [i, batch] of batches.entries()) {
    // Checked before the batch is touched, so a stop leaves its nodes as they were.
    const { stop, accepted } = check(await podsOn(api, batch), o);
    if (stop.length > 0) throw new DrainStopped(stop.map((b) => `${b.what}; ${b.fix}`).join('\n  '));
    for (const b of accepted) o.log(`  ${b.flag}: evicting ${b.what}`);
    o.log(`batch ${i + 1}/${batches.length}: cordoning ${batch.map((n) => n.name).join(', ')}`);
    for (const node of batch) {
      const stamp = new Date(now()).toISOString();
      await api.patchNode(node.name, {
        unschedulable: true,
        annotations: {
          [DRAIN_ANNOTATION]: 'cordoned',
          [DRAIN_TIME_ANNOTATION]: stamp,
          [DRAIN_STARTED_ANNOTATION]: node.annotations[DRAIN_STARTED_ANNOTATION] ?? new Date(started).toISOString(),
        },
      });
    }
    // Pods scheduled between that check and the cordon are checked the same way before anything is evicted.
    const pods = await podsOn(api, batch);
    const late = check(pods, o).stop;
    if (late.length > 0) {
      throw new DrainStopped(
        `after cordoning ${batch.map((n) => n.name).join(', ')}: ${late.map((b) => `${b.what}; ${b.fix}`).join('\n  ')}\n  The nodes stay cordoned and are not marked drained.`,
      );
    }
    const lost = new Map<string, Workload>();
    const evicted: Evicted[] = [];
    for (const pod of pods.filter(evictable)) {
      if (skipWaitForDelete(pod, now(), o.skipWaitForDeleteTimeoutMs)) {
        o.log(`  ${skipMessage(pod, now(), o)}`);
        continue;
      }
      await evict(api, pod, o, now, sleep, retry);
      evicted.push({ pod, at: now() });
      const w = await workloadOf(api, pod);
      if (typeof w === 'string') o.log(`  not health-checked: ${w} (owner of ${podName(pod)})`);
      else if (w) lost.set(`${w.kind}/${w.namespace}/${w.name}`, w);
    }
    await waitGone(api, evicted, o, now, sleep);
    await waitHealthy(api, [...lost.values()], started, o, now, sleep);
    for (const node of batch)
      await api.patchNode(node.name, { annotations: { [DRAIN_ANNOTATION]: 'drained', [DRAIN_TIME_ANNOTATION]: new Date(now()).toISOString() } });
    drained.push(...batch.map((n) => n.name));
    o.log(`batch ${i + 1}/${batches.length}: drained, ${evicted.length} evicted pod(s) gone, ${lost.size} workload(s) healthy again`);
  }
  o.log(`done: ${drained.length} node(s) drained in this run`);
  return { drained };
}

/** A dry run reads each batch's pods and reports every blocker per node, without touching anything. */
async function dryRunBatches(api: KubeApi, batches: readonly NodeInfo[][], o: DrainOptions): Promise<DryRunBlocker[]> {
  const found: DryRunBlocker[] = [];
  for (const batch of batches) {
    const { stop, accepted } = check(await podsOn(api, batch), o);
    if (stop.length > 0) o.log(`  would stop before cordoning ${batch.map((n) => n.name).join(', ')}: ${stop.map((b) => b.what).join('; ')}`);
    for (const b of accepted) o.log(`  ${b.flag}: would evict ${b.what}`);
    for (const node of batch)
      for (const [stops, list] of [[true, stop] as const, [false, accepted] as const])
        for (const b of list) {
          const pods = b.pods.filter((p) => p.nodeName === node.name).map(podName);
          if (pods.length > 0) found.push({ node: node.name, flag: b.flag, pods, what: b.what, fix: b.fix, stops });
        }
  }
  o.log(found.some((b) => b.stops) ? 'dry run: nothing changed; the drain would stop (see above)' : 'dry run: nothing changed');
  return found;
}

async function podsOn(api: KubeApi, nodes: readonly NodeInfo[]): Promise<PodInfo[]> {
  return (await Promise.all(nodes.map((n) => api.listPods(`spec.nodeName=${n.name}`)))).flat();
}

/** The blockers the flags accept, and those that stop the batch. */
function check(pods: readonly PodInfo[], o: DrainOptions) {
  const allowed = (flag: string) => (flag === '--force' ? Boolean(o.force) : Boolean(o.deleteEmptyDirData));
  const found = blockers(pods);
  return { stop: found.filter((b) => !allowed(b.flag)), accepted: found.filter((b) => allowed(b.flag)) };
}

async function evict(api: KubeApi, pod: PodInfo, o: DrainOptions, now: () => number, sleep: (ms: number) => Promise<void>, retry: RetryContext): Promise<void> {
  const start = now();
  // A fault may hide an eviction that happened: before a retry, a pod that is gone, replaced or shutting
  // down counts as evicted, so a retry never evicts a StatefulSet's replacement under the same name.
  const settled = async () => {
    const current = await api.getPod(pod.namespace, pod.name);
    if (goneOrReplaced(pod, current)) return 'gone' as const;
    return current?.terminatingSince ? ('evicted' as const) : undefined;
  };
  const done = (how: 'evicted' | 'gone') => o.log(`  evicted ${podName(pod)}${how === 'gone' ? ' (already gone)' : ''}`);
  for (;;) {
    const outcome = await withRetry(() => api.evictPod(pod.namespace, pod.name, pod.uid), retry, settled);
    if (outcome === 'evicted' || outcome === 'gone') return done(outcome);
    // 409: the UID precondition failed. Gone or replaced is what a read shows; the same pod still there is a
    // conflict inside the API server, tried again like a refusal.
    if (outcome === 'conflict' && goneOrReplaced(pod, await api.getPod(pod.namespace, pod.name))) return done('gone');
    // kubectl's evictPods: in a namespace being deleted, a pod already shutting down is waited for (waitGone);
    // one that is not yet is tried again until the namespace deletion reaches it.
    if (outcome === 'namespace-terminating') {
      const current = await api.getPod(pod.namespace, pod.name);
      if (goneOrReplaced(pod, current)) return done('gone');
      if (current?.terminatingSince) return done('evicted');
      o.log(`  ${podName(pod)}: its namespace is being deleted (403 NamespaceTerminating); retrying in ${formatDuration(o.pollIntervalMs)}`);
    }
    if (now() - start > o.evictionTimeoutMs) {
      const why = {
        blocked: 'blocked by a PodDisruptionBudget',
        conflict: 'answered 409 Conflict',
        'namespace-terminating': 'refused while its namespace is being deleted (403 NamespaceTerminating)',
      }[outcome];
      throw new DrainStopped(
        `eviction of ${podName(pod)} ${why} for ${formatDuration(now() - start)} (limit ${formatDuration(o.evictionTimeoutMs)}); ${outcome === 'blocked' ? "check the budget and the workload's health" : 'check the pod (kubectl get pod)'}, then re-run`,
      );
    }
    await sleep(o.pollIntervalMs);
    // Between the refusal and the retry, the pod may have been deleted by someone else and its name taken by
    // a replacement: that one must not be evicted in its place.
    const already = await settled();
    if (already) return done(already);
  }
}

/**
 * kubectl drain's waitForDelete (kubernetes/kubectl pkg/drain/drain.go): each evicted pod must answer 404,
 * or its name must belong to a pod with another UID. Until then its graceful shutdown is still running on
 * the old node, and removing the node would cut it short.
 */
async function waitGone(api: KubeApi, evicted: readonly Evicted[], o: DrainOptions, now: () => number, sleep: (ms: number) => Promise<void>): Promise<void> {
  let remaining = evicted;
  let shown = '';
  for (;;) {
    const still: Evicted[] = [];
    for (const e of remaining) {
      const current = await api.getPod(e.pod.namespace, e.pod.name);
      if (current && !goneOrReplaced(e.pod, current) && skipWaitForDelete(current, now(), o.skipWaitForDeleteTimeoutMs))
        o.log(`  ${skipMessage(current, now(), o)}`);
      else if (!goneOrReplaced(e.pod, current)) still.push(e);
    }
    remaining = still;
    if (remaining.length === 0) return;
    const names = remaining.map((e) => podName(e.pod)).join(', ');
    if (names !== shown) {
      o.log(`  still terminating: ${names}`);
      shown = names;
    }
    if (remaining.some((e) => now() - e.at > podTimeoutMs(e.pod, o.podTimeoutMs))) {
      const detail = remaining
        .map((e) => `${podName(e.pod)} (${formatDuration(now() - e.at)}, limit ${formatDuration(podTimeoutMs(e.pod, o.podTimeoutMs))})`)
        .join(', ');
      throw new DrainStopped(
        `evicted pod(s) still terminating: ${detail}; the batch's nodes stay cordoned and are not marked drained. Re-run once they are gone (kubectl get pod), or with a longer --pod-timeout`,
      );
    }
    await sleep(o.pollIntervalMs);
  }
}

/**
 * The workload whose health the batch waits for after evicting `pod`: its Deployment (through the
 * ReplicaSet), its StatefulSet, or a ReplicaSet no controller owns. Any other owner (a Job, a ReplicaSet
 * of an Argo Rollout or another custom resource) has no status the drain can read the same way: it comes
 * back as "Kind/name" to be logged, not checked. An owner that no longer exists (404) is not tracked.
 */
function skipMessage(pod: PodInfo, now: number, o: DrainOptions): string {
  const since = pod.terminatingSince ? now - pod.terminatingSince.getTime() : 0;
  return `skipping ${podName(pod)}: terminating for ${formatDuration(since)}, longer than --skip-wait-for-delete-timeout ${formatDuration(o.skipWaitForDeleteTimeoutMs ?? 0)}`;
}

async function workloadOf(api: KubeApi, pod: PodInfo): Promise<Workload | string | undefined> {
  if (!pod.owner) return undefined;
  const { namespace } = pod;
  if (pod.owner.kind === 'StatefulSet') return { kind: 'StatefulSet', namespace, name: pod.owner.name };
  if (pod.owner.kind !== 'ReplicaSet') return `${pod.owner.kind}/${pod.owner.name}`;
  const rs = await api.replicaSetOwner(namespace, pod.owner.name);
  if (!rs) return `ReplicaSet/${pod.owner.name} (no longer exists)`;
  if (!rs.owner) return { kind: 'ReplicaSet', namespace, name: pod.owner.name };
  if (rs.owner.kind === 'Deployment') return { kind: 'Deployment', namespace, name: rs.owner.name };
  return `${rs.owner.kind}/${rs.owner.name}`;
}

async function waitHealthy(
  api: KubeApi,
  workloads: Workload[],
  migrationStarted: number,
  o: DrainOptions,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const start = now();
  let named = false;
  const gone = new Set<Workload>();
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
      throw new DrainStopped(
        `health check failed: pod ${podName(p)} has been Pending for ${formatDuration(now() - p.createdAt.getTime())} (limit ${formatDuration(o.pendingTimeoutMs)}); the Bottlerocket capacity may be missing (check Karpenter and the NodePools), then re-run`,
      );
    }
    const statuses = await Promise.all(workloads.map(async (w) => ({ w, status: await api.workloadStatus(w.kind, w.namespace, w.name) })));
    // Deleted since its pod was evicted: nothing is left to become available again.
    for (const { w } of statuses.filter((s) => !s.status)) {
      if (!gone.has(w)) o.log(`  not health-checked: ${w.kind}/${w.name} in ${w.namespace} no longer exists`);
      gone.add(w);
    }
    const unhealthy = unavailableWorkloads(statuses.flatMap(({ w, status }) => (status ? [{ ...w, ...status }] : [])));
    if (unhealthy.length === 0) return;
    if (now() - start > o.healthTimeoutMs) {
      throw new DrainStopped(`health check failed after ${formatDuration(now() - start)}: ${unhealthy.join('; ')}`);
    }
    await sleep(o.pollIntervalMs);
  }
}
