/**
 * EC2NodeClass for a pool (pure: fleet model in, manifest out). One function for CPU and GPU pools:
 * Karpenter picks the NVIDIA Bottlerocket variant itself for GPU instance types via the alias.
 */
import type { Cluster, NodePool } from '../fleet/load';
import type { KubernetesManifest } from '../kubernetes/manifest';
import { adminContainerSettings, mergeSettings, renderSettingsToml, trustedCertificateSettings } from '../bottlerocket/settings';
import { cgroupSettings } from '../bottlerocket/cgroup';

export interface NodeClassInput {
  readonly cluster: Cluster;
  readonly pool: NodePool;
  /** Node IAM role name (from the karpenter module). */
  readonly role: string;
  /** Snapshot ID for the data volume: a Terraform reference to the cache's SSM parameter, or none. */
  readonly snapshotId?: string;
  /** Tags for the instances and volumes Karpenter launches. */
  readonly tags: Record<string, string>;
}

export function nodeClassName(pool: NodePool): string {
  return pool.name;
}

export function ec2NodeClass({ cluster, pool, role, snapshotId, tags }: NodeClassInput): KubernetesManifest {
  const discovery = [{ tags: { 'karpenter.sh/discovery': cluster.name } }];
  // Karpenter owns settings.kubernetes (cluster, CA, DNS, taints, max-pods); everything else passes through.
  const userData = renderSettingsToml(
    mergeSettings(
      trustedCertificateSettings(cluster.trustedCertificates),
      adminContainerSettings(pool.adminContainer),
      cgroupSettings(pool.cgroupVersion),
      cluster.settings,
      pool.settings,
    ),
    'karpenter',
  );
  const ebs = { volumeType: 'gp3', encrypted: true, deleteOnTermination: true, ...(pool.kmsKeyId ? { kmsKeyID: pool.kmsKeyId } : {}) };
  return {
    apiVersion: 'karpenter.k8s.aws/v1',
    kind: 'EC2NodeClass',
    metadata: { name: nodeClassName(pool) },
    spec: {
      role,
      // v1 requires amiSelectorTerms; an alias must be the only term.
      amiSelectorTerms: [{ alias: cluster.karpenter!.amiAlias }],
      subnetSelectorTerms: discovery,
      securityGroupSelectorTerms: discovery,
      // IMDSv2 only; the pool's hop limit (default the cluster's, 2: containerized workloads that need IMDS reach it,
      // and with it the node role's credentials). Always explicit: Karpenter's own default is 1.
      metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: pool.imdsHopLimit, httpTokens: 'required' },
      ...(pool.maxPods ? { kubelet: { maxPods: pool.maxPods } } : {}),
      // capacityTypes reserved: Karpenter launches reserved capacity only into the reservations these select.
      ...(pool.capacityReservationSelectorTerms ? { capacityReservationSelectorTerms: pool.capacityReservationSelectorTerms } : {}),
      userData,
      // Both devices always: with any mapping listed, Karpenter's defaults no longer apply, and an
      // unlisted device falls back to the AMI's gp2 default. The data volume (/dev/xvdb) holds
      // containerd's images, so it is the one restored from the image-cache snapshot.
      blockDeviceMappings: [
        { deviceName: '/dev/xvda', ebs: { ...ebs, volumeSize: `${pool.osVolumeGiB}Gi` } },
        {
          deviceName: '/dev/xvdb',
          ebs: {
            ...ebs,
            volumeSize: `${pool.dataVolumeGiB}Gi`,
            ...(pool.dataVolume.iops ? { iops: pool.dataVolume.iops } : {}),
            ...(pool.dataVolume.throughputMiBps ? { throughput: pool.dataVolume.throughputMiBps } : {}),
            ...(snapshotId ? { snapshotID: snapshotId } : {}),
            ...(snapshotId && pool.dataVolume.initializationRateMiBps ? { volumeInitializationRate: pool.dataVolume.initializationRateMiBps } : {}),
          },
        },
      ],
      tags,
    },
  };
}
