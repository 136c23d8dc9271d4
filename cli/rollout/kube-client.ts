/** RolloutKube on @kubernetes/client-node with the user's kubeconfig, one context per cluster. */
import * as k8s from '@kubernetes/client-node';
import { ApplyConflictError, Condition, RolloutKube, PodInfo } from './kube';
import { FIELD_MANAGER, NODE_CLASS_HASH_ANNOTATION, NODE_CLASS_HASH_VERSION_ANNOTATION, PROGRESS_FIELD_MANAGER } from './model';
import { podBasics } from '../shared/kube-pods';
import { ClusterRef, missingContextMessage } from '../shared/kubeconfig-hint';

const NODE_CLASS = { group: 'karpenter.k8s.aws', version: 'v1', plural: 'ec2nodeclasses' };
const NODE_CLAIM = { group: 'karpenter.sh', version: 'v1', plural: 'nodeclaims' };
const NODE_POOL = { group: 'karpenter.sh', version: 'v1', plural: 'nodepools' };

interface RawCondition extends Condition {
  readonly type: string;
}
const conditionsByType = (list: readonly RawCondition[] | undefined): Record<string, Condition> =>
  Object.fromEntries((list ?? []).map((c) => [c.type, { status: c.status, reason: c.reason, message: c.message, observedGeneration: c.observedGeneration }]));

/** The Status of a 409 from server-side apply: one cause per field, "conflict with \"manager\"" (apimachinery managedfields conflict.go). */
function applyConflict(name: string, e: unknown): ApplyConflictError | undefined {
  if ((e as { code?: number }).code !== 409) return undefined;
  let status: { message?: string; details?: { causes?: { type?: string; reason?: string; message?: string; field?: string }[] } } = {};
  try {
    const body = (e as { body?: unknown }).body;
    status = (typeof body === 'string' ? JSON.parse(body) : body) as typeof status;
  } catch {
    /* not JSON: keep the message only */
  }
  const conflicts = (status.details?.causes ?? [])
    .filter((c) => (c.type ?? c.reason) === 'FieldManagerConflict')
    .map((c) => ({ manager: /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1] ?? c.message ?? '?', field: c.field ?? '?' }));
  return new ApplyConflictError(name, conflicts, status.message ?? `conflict applying EC2NodeClass ${name}`);
}

export function rolloutKube(context: string, cluster?: ClusterRef): RolloutKube {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  if (!kc.getContexts().some((c) => c.name === context)) {
    throw new Error(missingContextMessage(context, cluster, '--context <cluster>=<context>'));
  }
  kc.setCurrentContext(context);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const policy = kc.makeApiClient(k8s.PolicyV1Api);
  const status = (e: unknown) => (e as { code?: number }).code;
  const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

  const toPod = (p: k8s.V1Pod): PodInfo => ({
    ...podBasics(p),
    waitingReasons: [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].flatMap((c) =>
      c.state?.waiting?.reason ? [c.state.waiting.reason] : [],
    ),
    owner: p.metadata?.ownerReferences?.find((o) => o.controller),
    labels: p.metadata?.labels ?? {},
    annotations: p.metadata?.annotations ?? {},
    startedAt: p.status?.startTime ? new Date(p.status.startTime) : undefined,
    deleting: p.metadata?.deletionTimestamp !== undefined,
  });

  return {
    async getNodeClass(name) {
      try {
        const o = (await custom.getClusterCustomObject({ ...NODE_CLASS, name })) as {
          metadata: k8s.V1ObjectMeta;
          spec?: unknown;
          status?: { conditions?: RawCondition[] };
        };
        return {
          name,
          annotations: o.metadata.annotations ?? {},
          spec: o.spec,
          generation: o.metadata.generation,
          ready: conditionsByType(o.status?.conditions).Ready,
        };
      } catch (e) {
        if (status(e) === 404) return undefined;
        throw e;
      }
    },
    async applyNodeClass(manifest) {
      try {
        await custom.patchClusterCustomObject({ ...NODE_CLASS, name: manifest.metadata.name, body: manifest, fieldManager: FIELD_MANAGER, force: false }, ssa);
      } catch (e) {
        throw applyConflict(manifest.metadata.name, e) ?? e;
      }
    },
    async annotateNodeClass(name, annotations) {
      await custom.patchClusterCustomObject({ ...NODE_CLASS, name, body: { metadata: { annotations } }, fieldManager: PROGRESS_FIELD_MANAGER }, merge);
    },
    async nodePoolBudgets(name) {
      try {
        const o = (await custom.getClusterCustomObject({ ...NODE_POOL, name })) as { spec?: { disruption?: { budgets?: never[] } } };
        return o.spec?.disruption?.budgets ?? [{ nodes: '10%' }]; // the CRD's default budget
      } catch (e) {
        if (status(e) === 404) return undefined;
        throw e;
      }
    },
    async listNodeClaims() {
      const list = (await custom.listClusterCustomObject(NODE_CLAIM)) as {
        items: { metadata: k8s.V1ObjectMeta; spec?: { terminationGracePeriod?: string }; status?: { nodeName?: string; conditions?: RawCondition[] } }[];
      };
      return list.items.map((c) => ({
        name: c.metadata.name!,
        nodePool: c.metadata.labels?.['karpenter.sh/nodepool'] ?? '',
        hash: c.metadata.annotations?.[NODE_CLASS_HASH_ANNOTATION],
        hashVersion: c.metadata.annotations?.[NODE_CLASS_HASH_VERSION_ANNOTATION],
        nodeName: c.status?.nodeName,
        createdAt: new Date(c.metadata.creationTimestamp ?? 0),
        conditions: conditionsByType(c.status?.conditions),
        deleting: c.metadata.deletionTimestamp !== undefined,
        terminationGracePeriod: c.spec?.terminationGracePeriod,
      }));
    },
    async deleteNodeClaim(name) {
      try {
        await custom.deleteClusterCustomObject({ ...NODE_CLAIM, name });
      } catch (e) {
        if (status(e) !== 404) throw e;
      }
    },
    async listNodes() {
      return (await core.listNode()).items.map((n) => ({
        name: n.metadata!.name!,
        ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
        initialized: n.metadata?.labels?.['karpenter.sh/initialized'] === 'true',
        annotations: n.metadata?.annotations ?? {},
        deleting: n.metadata?.deletionTimestamp !== undefined,
      }));
    },
    async listPods() {
      return (await core.listPodForAllNamespaces()).items.map(toPod);
    },
    async listPdbs() {
      return (await policy.listPodDisruptionBudgetForAllNamespaces()).items.map((p) => ({
        namespace: p.metadata!.namespace!,
        name: p.metadata!.name!,
        selector: p.spec?.selector,
        disruptionsAllowed: p.status?.disruptionsAllowed ?? 0,
        alwaysAllowUnhealthy: p.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow',
      }));
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
