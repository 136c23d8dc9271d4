/** RolloutKube (the rollout's narrow interface) on the Kubernetes access layer (cli/shared/kube), one connection per cluster. */
import {
  conditionsByType,
  connectKube,
  controllerOf,
  fieldManagerConflicts,
  isTrue,
  KubeApiError,
  NODE_CLAIM,
  NODE_CLASS,
  NODE_POOL,
  podBasics,
  replicasOf,
  statusBody,
  type KubeConnection,
  type KubeOptions,
  type RawCondition,
  type V1ObjectMeta,
  type V1Pod,
} from '../shared/kube';
import { ApplyConflictError, Condition, RolloutKube, PodInfo } from './kube';
import { FIELD_MANAGER, NODE_CLASS_HASH_ANNOTATION, NODE_CLASS_HASH_VERSION_ANNOTATION, PROGRESS_FIELD_MANAGER } from './model';

/** Conditions by type, as the rollout reads them. */
const conditions = (list: readonly RawCondition[] | undefined): Record<string, Condition> =>
  Object.fromEntries(
    Object.entries(conditionsByType(list)).map(([type, c]) => [
      type,
      { status: c.status as Condition['status'], reason: c.reason, message: c.message, observedGeneration: c.observedGeneration },
    ]),
  );

const toPod = (p: V1Pod): PodInfo => ({
  ...podBasics(p),
  waitingReasons: [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].flatMap((c) =>
    c.state?.waiting?.reason ? [c.state.waiting.reason] : [],
  ),
  owner: controllerOf(p.metadata?.ownerReferences),
  labels: p.metadata?.labels ?? {},
  annotations: p.metadata?.annotations ?? {},
  startedAt: p.status?.startTime ? new Date(p.status.startTime) : undefined,
  deleting: p.metadata?.deletionTimestamp !== undefined,
});

interface RawClaim {
  metadata: V1ObjectMeta;
  spec?: { terminationGracePeriod?: string };
  status?: { nodeName?: string; conditions?: RawCondition[] };
}
const toClaim = (c: RawClaim) => ({
  name: c.metadata.name!,
  nodePool: c.metadata.labels?.['karpenter.sh/nodepool'] ?? '',
  hash: c.metadata.annotations?.[NODE_CLASS_HASH_ANNOTATION],
  hashVersion: c.metadata.annotations?.[NODE_CLASS_HASH_VERSION_ANNOTATION],
  nodeName: c.status?.nodeName,
  createdAt: new Date(c.metadata.creationTimestamp ?? 0),
  conditions: conditions(c.status?.conditions),
  deleting: c.metadata.deletionTimestamp !== undefined,
  terminationGracePeriod: c.spec?.terminationGracePeriod,
});

/** A 409 of server-side apply as an ApplyConflictError naming each field and its manager; anything else unchanged. */
function applyFailure(name: string, e: unknown): unknown {
  const cause = e instanceof KubeApiError ? e.cause : e;
  const conflicts = fieldManagerConflicts(cause);
  return conflicts ? new ApplyConflictError(name, conflicts, statusBody(cause)?.message ?? `conflict applying EC2NodeClass ${name}`) : e;
}

/** Deployment or StatefulSet availability; a ReplicaSet resolves to its Deployment. */
async function workload(kube: KubeConnection, kind: string, namespace: string, name: string): ReturnType<RolloutKube['workload']> {
  const step = `read ${kind} ${namespace}/${name}`;
  if (kind === 'ReplicaSet') {
    const rs = await kube.read(step, (o) => kube.apps.readNamespacedReplicaSet({ name, namespace }, o));
    const owner = controllerOf(rs?.metadata?.ownerReferences);
    return owner?.kind === 'Deployment' ? workload(kube, 'Deployment', namespace, owner.name) : undefined;
  }
  const w =
    kind === 'Deployment'
      ? await kube.read(step, (o) => kube.apps.readNamespacedDeployment({ name, namespace }, o))
      : kind === 'StatefulSet'
        ? await kube.read(step, (o) => kube.apps.readNamespacedStatefulSet({ name, namespace }, o))
        : undefined;
  return w && { kind, namespace, name, ...replicasOf(w) };
}

/** The rollout's API on one connection. */
export function rolloutKubeOn(kube: KubeConnection): RolloutKube {
  const custom = kube.custom;
  return {
    async getNodeClass(name) {
      const o = (await kube.read(`read EC2NodeClass ${name}`, (opt) => custom.getClusterCustomObject({ ...NODE_CLASS, name }, opt))) as
        { metadata: V1ObjectMeta; spec?: unknown; status?: { conditions?: RawCondition[]; amis?: { id?: string }[] } } | undefined;
      if (!o) return undefined;
      return {
        name,
        annotations: o.metadata.annotations ?? {},
        spec: o.spec,
        generation: o.metadata.generation,
        ready: conditions(o.status?.conditions).Ready,
        amis: o.status?.amis?.flatMap((a) => (a.id ? [a.id] : [])),
      };
    },
    async applyNodeClass(manifest) {
      const name = manifest.metadata.name;
      const body = { ...NODE_CLASS, name, body: manifest, fieldManager: FIELD_MANAGER, force: false };
      await kube
        .call(`apply EC2NodeClass ${name}`, (o) => custom.patchClusterCustomObject(body, o), { patch: 'apply' })
        .catch((e: unknown) => {
          throw applyFailure(name, e);
        });
    },
    async annotateNodeClass(name, annotations) {
      const body = { ...NODE_CLASS, name, body: { metadata: { annotations } }, fieldManager: PROGRESS_FIELD_MANAGER };
      await kube.call(`annotate EC2NodeClass ${name}`, (o) => custom.patchClusterCustomObject(body, o), { patch: 'merge' });
    },
    async nodePoolBudgets(name) {
      const o = (await kube.read(`read NodePool ${name}`, (opt) => custom.getClusterCustomObject({ ...NODE_POOL, name }, opt))) as
        { spec?: { disruption?: { budgets?: never[] } } } | undefined;
      return o && (o.spec?.disruption?.budgets ?? [{ nodes: '10%' }]); // the CRD's default budget
    },
    async getNodePool(name) {
      const o = (await kube.read(`read NodePool ${name}`, (opt) => custom.getClusterCustomObject({ ...NODE_POOL, name }, opt))) as
        { metadata: V1ObjectMeta; spec?: { disruption?: { budgets?: never[] } } } | undefined;
      return o && { annotations: o.metadata.annotations ?? {}, budgets: o.spec?.disruption?.budgets ?? [{ nodes: '10%' }] };
    },
    async patchNodePool(name, patch) {
      const body = {
        ...NODE_POOL,
        name,
        body: { metadata: { annotations: patch.annotations }, spec: { disruption: { budgets: patch.budgets } } },
        fieldManager: PROGRESS_FIELD_MANAGER,
      };
      await kube.call(`patch NodePool ${name}`, (o) => custom.patchClusterCustomObject(body, o), { patch: 'merge' });
    },
    async listNodeClaims() {
      return (await kube.listAll<RawClaim>('list NodeClaims', (q, o) => custom.listClusterCustomObject({ ...NODE_CLAIM, ...q }, o))).map(toClaim);
    },
    async deleteNodeClaim(name) {
      await kube.read(`delete NodeClaim ${name}`, (o) => custom.deleteClusterCustomObject({ ...NODE_CLAIM, name }, o)); // 404: already gone
    },
    async listNodes() {
      return (await kube.listAll('list nodes', (q, o) => kube.core.listNode(q, o))).map((n) => ({
        name: n.metadata!.name!,
        ready: isTrue(n.status?.conditions, 'Ready'),
        initialized: n.metadata?.labels?.['karpenter.sh/initialized'] === 'true',
        annotations: n.metadata?.annotations ?? {},
        deleting: n.metadata?.deletionTimestamp !== undefined,
      }));
    },
    async listPods() {
      return (await kube.listAll('list pods', (q, o) => kube.core.listPodForAllNamespaces(q, o))).map(toPod);
    },
    async listPdbs() {
      return (await kube.listAll('list PodDisruptionBudgets', (q, o) => kube.policy.listPodDisruptionBudgetForAllNamespaces(q, o))).map((p) => ({
        namespace: p.metadata!.namespace!,
        name: p.metadata!.name!,
        selector: p.spec?.selector,
        disruptionsAllowed: p.status?.disruptionsAllowed ?? 0,
        alwaysAllowUnhealthy: p.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow',
      }));
    },
    workload: (kind, namespace, name) => workload(kube, kind, namespace, name),
  };
}

/** The rollout's API at kubeconfig context `context` (for cluster `o.cluster`, named in hints; default: the context's name). */
export function rolloutKube(context: string, o: KubeOptions & { readonly cluster?: string; readonly region?: string } = {}): RolloutKube {
  return rolloutKubeOn(connectKube({ cluster: o.cluster ?? context, context, region: o.region, contextFlag: '--context <cluster>=<context>' }, o));
}
