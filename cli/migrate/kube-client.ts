/** KubeApi on @kubernetes/client-node with the user's kubeconfig (KUBECONFIG or ~/.kube/config). */
import * as k8s from '@kubernetes/client-node';
import { KubeApiError, type EvictionOutcome, type KubeApi, type NodeInfo, type PodInfo, type WorkloadStatus } from './kube';
import { podBasics } from '../shared/kube-pods';
import { ClusterRef, missingContextMessage } from '../shared/kubeconfig-hint';

/** HTTP statuses worth retrying: the API server (or the load balancer before it) failing for a moment. */
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504, 429]);
/** Connection faults worth retrying (node-fetch's FetchError carries the socket's code). */
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']);

/** The Status object the API server answered with, if the body is one. */
function statusBody(e: unknown): { message?: string; reason?: string; details?: { causes?: { type?: string }[] } } | undefined {
  const body = (e as { body?: unknown }).body;
  try {
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A 429 from the Eviction API is a PodDisruptionBudget refusal only when its status names the cause
 * "DisruptionBudget" (policy/v1 DisruptionBudgetCause, set by checkAndDecrement in kubernetes/kubernetes
 * pkg/registry/core/pod/storage/eviction.go); any other 429 is the API server's own throttling.
 */
export function isBudgetRefusal(e: unknown): boolean {
  return (e as { code?: unknown }).code === 429 && Boolean(statusBody(e)?.details?.causes?.some((c) => c.type === 'DisruptionBudget'));
}

/**
 * A 403 with the status cause "NamespaceTerminating" (core/v1 NamespaceTerminatingCause): the pod's namespace
 * is being deleted. kubectl drain (kubernetes/kubectl pkg/drain/drain.go evictPods) waits for such a pod if it
 * is already terminating and retries its eviction otherwise; any other 403 stays final.
 */
export function isNamespaceTerminating(e: unknown): boolean {
  return (e as { code?: unknown }).code === 403 && Boolean(statusBody(e)?.details?.causes?.some((c) => c.type === 'NamespaceTerminating'));
}

/**
 * The Eviction API's 500 "This pod has more than one PodDisruptionBudget, which the eviction subresource does
 * not support." (kubernetes/kubernetes pkg/registry/core/pod/storage/eviction.go): it lasts until someone
 * removes a budget, so retrying only delays the stop.
 */
function isMultipleBudgets(code: number, detail: string): boolean {
  return code === 500 && detail.includes('more than one PodDisruptionBudget');
}

/** Any failure of a client-node call as a KubeApiError that says whether a retry may help. */
export function classify(operation: string, e: unknown): KubeApiError {
  if (e instanceof KubeApiError) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'number') {
    const s = statusBody(e);
    const detail = s?.message ?? s?.reason ?? '';
    return new KubeApiError(operation, code, detail, TRANSIENT_STATUSES.has(code) && !isMultipleBudgets(code, detail));
  }
  const message = e instanceof Error ? e.message : String(e);
  return new KubeApiError(operation, undefined, message, typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code));
}

/** The owner reference marked controller: true, if any. */
function controllerOf(refs: readonly k8s.V1OwnerReference[] | undefined): { kind: string; name: string } | undefined {
  const c = refs?.find((o) => o.controller === true);
  return c && { kind: c.kind, name: c.name };
}

export function kubeApiFromKubeconfig(context?: string, kubeconfigFile?: string, cluster?: ClusterRef): KubeApi {
  const kc = new k8s.KubeConfig();
  if (kubeconfigFile) kc.loadFromFile(kubeconfigFile);
  else kc.loadFromDefault();
  if (context) {
    if (!kc.getContexts().some((c) => c.name === context)) throw new Error(missingContextMessage(context, cluster, '--context <ctx>'));
    kc.setCurrentContext(context);
  }
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const status = (e: unknown) => (e as { code?: number }).code;
  /** The object, or undefined when the API answers 404. */
  const orNotFound = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw e;
    }
  };
  /** Runs one call; every failure leaves as a classified KubeApiError naming the operation. */
  const call = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw classify(operation, e);
    }
  };

  const toNode = (n: k8s.V1Node): NodeInfo => ({
    name: n.metadata!.name!,
    osImage: n.status?.nodeInfo?.osImage ?? '',
    unschedulable: n.spec?.unschedulable ?? false,
    annotations: n.metadata?.annotations ?? {},
    labels: n.metadata?.labels ?? {},
  });
  const toPod = (p: k8s.V1Pod): PodInfo => ({
    ...podBasics(p),
    uid: p.metadata?.uid ?? '',
    // The controller reference only (metav1.GetControllerOf, as kubectl's unreplicatedFilter in
    // kubernetes/kubectl pkg/drain/filters.go): an owner that is not a controller recreates nothing.
    owner: controllerOf(p.metadata?.ownerReferences),
    // The key's presence, whatever its value (mirrorPodFilter in kubernetes/kubectl pkg/drain/filters.go).
    mirror: p.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined,
    terminatingSince: p.metadata?.deletionTimestamp ? new Date(p.metadata.deletionTimestamp) : undefined,
    gracePeriodSeconds: p.spec?.terminationGracePeriodSeconds ?? 30,
    emptyDirs: (p.spec?.volumes ?? []).filter((v) => v.emptyDir).map((v) => ({ name: v.name, medium: v.emptyDir!.medium ?? '' })),
  });

  return {
    listNodes: (labelSelector) => call('list nodes', async () => (await core.listNode({ labelSelector })).items.map(toNode)),
    patchNode: (name, patch) =>
      call(`patch node ${name}`, async () => {
        const body = {
          ...(patch.unschedulable === undefined ? {} : { spec: { unschedulable: patch.unschedulable } }),
          ...(patch.annotations ? { metadata: { annotations: patch.annotations } } : {}),
        };
        await core.patchNode({ name, body }, mergePatch);
      }),
    listPods: (fieldSelector) => call(`list pods (${fieldSelector})`, async () => (await core.listPodForAllNamespaces({ fieldSelector })).items.map(toPod)),
    getPod: (namespace, name) =>
      call(`read pod ${namespace}/${name}`, async () => {
        try {
          return toPod(await core.readNamespacedPod({ name, namespace }));
        } catch (e) {
          if (status(e) === 404) return undefined;
          throw e;
        }
      }),
    evictPod: (namespace, name, uid) =>
      call(`evict pod ${namespace}/${name}`, async (): Promise<EvictionOutcome> => {
        try {
          // The UID precondition makes the API server refuse (409 Conflict) to evict another pod that took the
          // name meanwhile (a StatefulSet's replacement): eviction.go hands these deleteOptions to the pod's delete.
          const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace }, deleteOptions: { preconditions: { uid } } };
          await core.createNamespacedPodEviction({ name, namespace, body });
          return 'evicted';
        } catch (e) {
          if (isBudgetRefusal(e)) return 'blocked';
          if (status(e) === 404) return 'gone';
          if (status(e) === 409) return 'conflict';
          if (isNamespaceTerminating(e)) return 'namespace-terminating';
          throw e;
        }
      }),
    replicaSetOwner: (namespace, name) =>
      call(`read ReplicaSet ${namespace}/${name}`, async () => {
        const rs = await orNotFound(() => apps.readNamespacedReplicaSet({ name, namespace }));
        if (!rs) return undefined;
        const o = rs.metadata?.ownerReferences?.find((r) => r.controller);
        return { owner: o && { kind: o.kind, name: o.name } };
      }),
    workloadStatus: (kind, namespace, name) =>
      call(`read ${kind} ${namespace}/${name}`, async (): Promise<WorkloadStatus | undefined> => {
        if (kind === 'Deployment') {
          const d = await orNotFound(() => apps.readNamespacedDeployment({ name, namespace }));
          return d && { desired: d.spec?.replicas ?? 1, available: d.status?.availableReplicas ?? 0 };
        }
        if (kind === 'StatefulSet') {
          const s = await orNotFound(() => apps.readNamespacedStatefulSet({ name, namespace }));
          return s && { desired: s.spec?.replicas ?? 1, available: s.status?.availableReplicas ?? 0 };
        }
        const rs = await orNotFound(() => apps.readNamespacedReplicaSet({ name, namespace }));
        return rs && { desired: rs.spec?.replicas ?? 1, available: rs.status?.availableReplicas ?? 0 };
      }),
    deleteDaemonSet: (namespace, name) =>
      call(`delete DaemonSet ${namespace}/${name}`, async () => {
        try {
          await apps.deleteNamespacedDaemonSet({ name, namespace });
          return true;
        } catch (e) {
          if (status(e) === 404) return false;
          throw e;
        }
      }),
  };
}
