/**
 * Headroom during the migration: low-priority placeholder pods (pause containers) that hold spare
 * Bottlerocket capacity, so Karpenter has nodes up before a drain batch evicts real pods. Any real pod
 * preempts them (negative priority), and Karpenter replaces the capacity they lose. Pure.
 *
 * Sizing: headroomPercent of the capacity being migrated — `migration.legacyCapacity`, or by default the
 * cpu/memory limits of the cluster's CPU pools — split into pods of `placeholderPodCpu` vCPUs with the
 * same memory-per-vCPU ratio.
 */
import type { Cluster } from '../fleet/load';
import { BOTTLEROCKET_NODE_LABEL } from '../fleet/constants';
import { legacyCapacity } from '../fleet/capacity';
import type { KubernetesManifest } from '../kubernetes/manifest';

export const HEADROOM_NAME = 'bottlerocket-migration-headroom';
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

export interface HeadroomSize {
  readonly replicas: number;
  readonly podCpu: number;
  readonly podMemoryMiB: number;
}

export function headroomSize(cluster: Cluster): HeadroomSize | undefined {
  const m = cluster.migration;
  const capacity = legacyCapacity(cluster);
  if (!m || !capacity) return undefined;
  const cpu = (capacity.cpu * m.headroomPercent) / 100;
  const replicas = Math.max(1, Math.ceil(cpu / m.placeholderPodCpu));
  const podMemoryMiB = Math.ceil(((capacity.memoryGiB * 1024) / capacity.cpu) * m.placeholderPodCpu);
  return { replicas, podCpu: m.placeholderPodCpu, podMemoryMiB };
}

export function headroomManifests(cluster: Cluster): KubernetesManifest[] {
  const size = headroomSize(cluster);
  if (!size) return [];
  const labels = { 'app.kubernetes.io/name': HEADROOM_NAME };
  return [
    {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: HEADROOM_NAME },
      // Below every real pod (default 0): the scheduler evicts placeholders first, and they never preempt.
      value: -10,
      globalDefault: false,
      preemptionPolicy: 'Never',
      description: 'Placeholder pods holding spare Bottlerocket capacity during the migration from AL2',
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: HEADROOM_NAME, namespace: 'kube-system', labels },
      spec: {
        replicas: size.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            priorityClassName: HEADROOM_NAME,
            terminationGracePeriodSeconds: 0,
            // Only on Bottlerocket nodes, so the capacity Karpenter adds for them is Bottlerocket capacity.
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: BOTTLEROCKET_NODE_LABEL.key, operator: 'In', values: [BOTTLEROCKET_NODE_LABEL.value] }] }],
                },
              },
            },
            containers: [
              {
                name: 'pause',
                image: PAUSE_IMAGE,
                resources: { requests: { cpu: String(size.podCpu), memory: `${size.podMemoryMiB}Mi` }, limits: { memory: `${size.podMemoryMiB}Mi` } },
              },
            ],
          },
        },
      },
    },
  ];
}
