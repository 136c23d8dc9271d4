/** RolloutKube on @kubernetes/client-node with the user's kubeconfig, one context per cluster. */
import * as k8s from '@kubernetes/client-node';
import type { RolloutKube, PodInfo } from './kube';
import { FIELD_MANAGER, NODE_CLASS_HASH_ANNOTATION, PROGRESS_FIELD_MANAGER } from './model';
import { podBasics } from '../shared/kube-pods';

const NODE_CLASS = { group: 'karpenter.k8s.aws', version: 'v1', plural: 'ec2nodeclasses' };
const NODE_CLAIM = { group: 'karpenter.sh', version: 'v1', plural: 'nodeclaims' };

export function rolloutKube(context: string): RolloutKube {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  if (!kc.getContexts().some((c) => c.name === context)) {
    throw new Error(
      `kubeconfig has no context "${context}" (run: aws eks update-kubeconfig --name <cluster> --alias ${context}, or pass --context <cluster>=<context>)`,
    );
  }
  kc.setCurrentContext(context);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const status = (e: unknown) => (e as { code?: number }).code;
  const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

  const toPod = (p: k8s.V1Pod): PodInfo => ({
    ...podBasics(p),
    waitingReasons: [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].flatMap((c) =>
      c.state?.waiting?.reason ? [c.state.waiting.reason] : [],
    ),
    owner: p.metadata?.ownerReferences?.find((o) => o.controller),
  });

  return {
    async getNodeClass(name) {
      try {
        const o = (await custom.getClusterCustomObject({ ...NODE_CLASS, name })) as { metadata: k8s.V1ObjectMeta };
        return { name, annotations: o.metadata.annotations ?? {} };
      } catch (e) {
        if (status(e) === 404) return undefined;
        throw e;
      }
    },
    async applyNodeClass(manifest) {
      await custom.patchClusterCustomObject({ ...NODE_CLASS, name: manifest.metadata.name, body: manifest, fieldManager: FIELD_MANAGER, force: false }, ssa);
    },
    async annotateNodeClass(name, annotations) {
      await custom.patchClusterCustomObject({ ...NODE_CLASS, name, body: { metadata: { annotations } }, fieldManager: PROGRESS_FIELD_MANAGER }, merge);
    },
    async listNodeClaims() {
      const list = (await custom.listClusterCustomObject(NODE_CLAIM)) as { items: { metadata: k8s.V1ObjectMeta; status?: { nodeName?: string } }[] };
      return list.items.map((c) => ({
        name: c.metadata.name!,
        nodePool: c.metadata.labels?.['karpenter.sh/nodepool'] ?? '',
        hash: c.metadata.annotations?.[NODE_CLASS_HASH_ANNOTATION],
        nodeName: c.status?.nodeName,
        createdAt: new Date(c.metadata.creationTimestamp ?? 0),
      }));
    },
    async listNodes() {
      return (await core.listNode()).items.map((n) => ({
        name: n.metadata!.name!,
        ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      }));
    },
    async listPods() {
      return (await core.listPodForAllNamespaces()).items.map(toPod);
    },
    async workload(kind, namespace, name) {
      try {
        if (kind === 'ReplicaSet') {
          const rs = await apps.readNamespacedReplicaSet({ name, namespace });
          const owner = rs.metadata?.ownerReferences?.find((o) => o.controller);
          return owner?.kind === 'Deployment' ? this.workload('Deployment', namespace, owner.name) : undefined;
        }
        if (kind === 'Deployment') {
          const d = await apps.readNamespacedDeployment({ name, namespace });
          return { kind, namespace, name, desired: d.spec?.replicas ?? 1, available: d.status?.availableReplicas ?? 0 };
        }
        if (kind === 'StatefulSet') {
          const s = await apps.readNamespacedStatefulSet({ name, namespace });
          return { kind, namespace, name, desired: s.spec?.replicas ?? 1, available: s.status?.availableReplicas ?? 0 };
        }
        return undefined;
      } catch (e) {
        if (status(e) === 404) return undefined;
        throw e;
      }
    },
  };
}
