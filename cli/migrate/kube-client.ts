/** KubeApi (the drain's narrow interface) on the Kubernetes access layer (cli/shared/kube). */
import { controllerOf, isBudgetRefusal, isNamespaceTerminating, podBasics, replicasOf, type KubeConnection, type V1Node, type V1Pod } from '../shared/kube';
import type { EvictionOutcome, KubeApi, NodeInfo, PodInfo, WorkloadStatus } from './kube';

const toNode = (n: V1Node): NodeInfo => ({
  name: n.metadata!.name!,
  osImage: n.status?.nodeInfo?.osImage ?? '',
  unschedulable: n.spec?.unschedulable ?? false,
  annotations: n.metadata?.annotations ?? {},
  labels: n.metadata?.labels ?? {},
});

const toPod = (p: V1Pod): PodInfo => ({
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

/**
 * Eviction API, sent once (the layer does not retry it: an eviction whose answer was lost may have happened,
 * so the drain retries it itself after checking the pod). The UID precondition makes the API server refuse
 * (409 Conflict) to evict another pod that took the name meanwhile (a StatefulSet's replacement):
 * eviction.go hands these deleteOptions to the pod's delete.
 */
async function evict(kube: KubeConnection, namespace: string, name: string, uid: string): Promise<EvictionOutcome> {
  const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace }, deleteOptions: { preconditions: { uid } } };
  try {
    await kube.call(`evict pod ${namespace}/${name}`, (o) => kube.core.createNamespacedPodEviction({ name, namespace, body }, o), { retry: false });
    return 'evicted';
  } catch (e) {
    const status = (e as { status?: number }).status;
    const cause = (e as { cause?: unknown }).cause;
    if (isBudgetRefusal(cause)) return 'blocked';
    if (status === 404) return 'gone';
    if (status === 409) return 'conflict';
    if (isNamespaceTerminating(cause)) return 'namespace-terminating';
    throw e;
  }
}

async function workloadStatus(kube: KubeConnection, kind: string, namespace: string, name: string): Promise<WorkloadStatus | undefined> {
  const step = `read ${kind} ${namespace}/${name}`;
  if (kind === 'Deployment') return mapped(await kube.read(step, (o) => kube.apps.readNamespacedDeployment({ name, namespace }, o)));
  if (kind === 'StatefulSet') return mapped(await kube.read(step, (o) => kube.apps.readNamespacedStatefulSet({ name, namespace }, o)));
  return mapped(await kube.read(step, (o) => kube.apps.readNamespacedReplicaSet({ name, namespace }, o)));
}
const mapped = (w: Parameters<typeof replicasOf>[0] | undefined) => w && replicasOf(w);

/** The drain's API on one connection (every call but the eviction retried by the layer). */
export function migrateKube(kube: KubeConnection): KubeApi {
  return {
    listNodes: async (labelSelector) => (await kube.listAll('list nodes', (q, o) => kube.core.listNode({ ...q, labelSelector }, o))).map(toNode),
    patchNode: async (name, patch) => {
      const body = {
        ...(patch.unschedulable === undefined ? {} : { spec: { unschedulable: patch.unschedulable } }),
        ...(patch.annotations ? { metadata: { annotations: patch.annotations } } : {}),
      };
      await kube.call(`patch node ${name}`, (o) => kube.core.patchNode({ name, body }, o), { patch: 'merge' });
    },
    listPods: async (fieldSelector) =>
      (await kube.listAll(`list pods (${fieldSelector})`, (q, o) => kube.core.listPodForAllNamespaces({ ...q, fieldSelector }, o))).map(toPod),
    getPod: async (namespace, name) => {
      const p = await kube.read(`read pod ${namespace}/${name}`, (o) => kube.core.readNamespacedPod({ name, namespace }, o));
      return p && toPod(p);
    },
    evictPod: (namespace, name, uid) => evict(kube, namespace, name, uid),
    replicaSetOwner: async (namespace, name) => {
      const rs = await kube.read(`read ReplicaSet ${namespace}/${name}`, (o) => kube.apps.readNamespacedReplicaSet({ name, namespace }, o));
      return rs && { owner: controllerOf(rs.metadata?.ownerReferences) };
    },
    workloadStatus: (kind, namespace, name) => workloadStatus(kube, kind, namespace, name),
    readDaemonSet: async (namespace, name) => {
      const ds = await kube.read(`read DaemonSet ${namespace}/${name}`, (o) => kube.apps.readNamespacedDaemonSet({ name, namespace }, o));
      return ds && { desired: ds.status?.desiredNumberScheduled ?? 0 };
    },
    deleteDaemonSet: async (namespace, name) => {
      const step = `delete DaemonSet ${namespace}/${name}`;
      return (await kube.read(step, (o) => kube.apps.deleteNamespacedDaemonSet({ name, namespace }, o).then(() => true))) ?? false;
    },
  };
}
