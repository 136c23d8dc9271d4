/** KubeApi on @kubernetes/client-node with the user's kubeconfig (KUBECONFIG or ~/.kube/config). */
import * as k8s from '@kubernetes/client-node';
import type { EvictionOutcome, KubeApi, NodeInfo, PodInfo, WorkloadStatus } from './kube';
import { podBasics } from '../shared/kube-pods';

export function kubeApiFromKubeconfig(context?: string, kubeconfigFile?: string): KubeApi {
  const kc = new k8s.KubeConfig();
  if (kubeconfigFile) kc.loadFromFile(kubeconfigFile);
  else kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const status = (e: unknown) => (e as { code?: number }).code;

  const toNode = (n: k8s.V1Node): NodeInfo => ({
    name: n.metadata!.name!,
    osImage: n.status?.nodeInfo?.osImage ?? '',
    unschedulable: n.spec?.unschedulable ?? false,
    annotations: n.metadata?.annotations ?? {},
    labels: n.metadata?.labels ?? {},
  });
  const toPod = (p: k8s.V1Pod): PodInfo => ({
    ...podBasics(p),
    owner: p.metadata?.ownerReferences?.find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0],
    mirror: Boolean(p.metadata?.annotations?.['kubernetes.io/config.mirror']),
  });

  return {
    async listNodes(labelSelector) {
      return (await core.listNode({ labelSelector })).items.map(toNode);
    },
    async patchNode(name, patch) {
      const body = { ...(patch.unschedulable === undefined ? {} : { spec: { unschedulable: patch.unschedulable } }), ...(patch.annotations ? { metadata: { annotations: patch.annotations } } : {}) };
      await core.patchNode({ name, body }, mergePatch);
    },
    async listPods(fieldSelector) {
      return (await core.listPodForAllNamespaces({ fieldSelector })).items.map(toPod);
    },
    async evictPod(namespace, name): Promise<EvictionOutcome> {
      try {
        await core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
        return 'evicted';
      } catch (e) {
        if (status(e) === 429) return 'blocked';
        if (status(e) === 404) return 'gone';
        throw e;
      }
    },
    async replicaSetOwner(namespace, name) {
      const rs = await apps.readNamespacedReplicaSet({ name, namespace });
      const o = rs.metadata?.ownerReferences?.find((r) => r.controller);
      return o && { kind: o.kind, name: o.name };
    },
    async workloadStatus(kind, namespace, name): Promise<WorkloadStatus> {
      if (kind === 'Deployment') {
        const d = await apps.readNamespacedDeployment({ name, namespace });
        return { desired: d.spec?.replicas ?? 1, available: d.status?.availableReplicas ?? 0 };
      }
      if (kind === 'StatefulSet') {
        const s = await apps.readNamespacedStatefulSet({ name, namespace });
        return { desired: s.spec?.replicas ?? 1, available: s.status?.availableReplicas ?? 0 };
      }
      if (kind === 'DaemonSet') {
        const d = await apps.readNamespacedDaemonSet({ name, namespace });
        return { desired: d.status?.desiredNumberScheduled ?? 0, available: d.status?.numberAvailable ?? 0 };
      }
      const rs = await apps.readNamespacedReplicaSet({ name, namespace });
      return { desired: rs.spec?.replicas ?? 1, available: rs.status?.availableReplicas ?? 0 };
    },
    async deleteDaemonSet(namespace, name) {
      try {
        await apps.deleteNamespacedDaemonSet({ name, namespace });
        return true;
      } catch (e) {
        if (status(e) === 404) return false;
        throw e;
      }
    },
  };
}
