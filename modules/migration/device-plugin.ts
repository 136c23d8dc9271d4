/**
 * The legacy NVIDIA device plugin DaemonSet (installed for AL2 GPU nodes) must stay off Bottlerocket
 * NVIDIA nodes, whose AMI runs its own device plugin: two plugins would both advertise nvidia.com/gpu.
 *
 * Step 1 (`keep-off-bottlerocket`): a server-side-apply patch that adds a required node affinity
 * `bottlerocket-fleet/os NotIn [bottlerocket]` to the existing DaemonSet. The label must really be on
 * Bottlerocket nodes (our system node group and every pool set it): a NotIn on a label that no node
 * carries matches every node and would keep the plugin everywhere. nodeSelectorTerms is an atomic list
 * under server-side apply, so this replaces any node affinity terms the DaemonSet had.
 * Step 2 (`remove`): once no AL2 GPU node is left, `npm run migrate -- remove-device-plugin` deletes it.
 */
import type { Cluster } from '../fleet/load';
import { BOTTLEROCKET_NODE_LABEL } from '../fleet/constants';
import type { KubernetesManifest } from '../kubernetes/manifest';

export function devicePluginPatch(cluster: Cluster): KubernetesManifest[] {
  const gpu = cluster.gpu;
  if (!gpu || gpu.legacyDevicePlugin !== 'keep-off-bottlerocket') return [];
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: gpu.daemonSetName, namespace: gpu.namespace },
      spec: {
        template: {
          spec: {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: BOTTLEROCKET_NODE_LABEL.key, operator: 'NotIn', values: [BOTTLEROCKET_NODE_LABEL.value] }] }],
                },
              },
            },
          },
        },
      },
    },
  ];
}
