/**
 * The Bottlerocket managed node group for cluster-critical pods (CoreDNS, Karpenter, ...): tainted
 * CriticalAddonsOnly so ordinary workloads land on Karpenter nodes. Pure: fleet model in, props out.
 */
import type { Cluster } from '../fleet/load';
import { BOTTLEROCKET_NODE_LABEL } from '../fleet/constants';
import { adminContainerSettings, mergeSettings, renderSettingsToml, trustedCertificateSettings } from '../bottlerocket/settings';
import type { ManagedNodeGroupProps } from './eks-cluster';

/** EKS ami_type values are case-sensitive. */
const AMI_TYPE = { x86_64: 'BOTTLEROCKET_x86_64', arm64: 'BOTTLEROCKET_ARM_64' } as const;

/**
 * The IMDS hop limit is always set, from the cluster's imdsHopLimit (default 2): the eks module's default differs
 * between majors (2 in v20.37.2, 1 in v21). 2 lets containerized workloads that still read instance metadata reach
 * it, and with it the node role's credentials; 1 keeps them on the host.
 */

/** `amiReleaseVersion`: the pinned release's image_version (bottlerocket-image-version.ts); none for latest. */
export function systemNodeGroupProps(cluster: Cluster, amiReleaseVersion?: string): ManagedNodeGroupProps {
  const g = cluster.systemNodeGroup;
  const settings = mergeSettings(
    trustedCertificateSettings(cluster.trustedCertificates),
    adminContainerSettings(g.adminContainer),
    cluster.settings,
    g.settings,
  );
  return {
    amiType: AMI_TYPE[g.arch],
    instanceTypes: g.instanceTypes,
    minSize: g.minSize,
    maxSize: g.maxSize,
    desiredSize: g.desiredSize,
    labels: { 'node-role': 'system', [BOTTLEROCKET_NODE_LABEL.key]: BOTTLEROCKET_NODE_LABEL.value },
    taints: { criticalAddonsOnly: { key: 'CriticalAddonsOnly', value: 'true', effect: 'NO_SCHEDULE' } },
    bootstrapExtraArgs: renderSettingsToml(settings, 'eks-managed-node-group'),
    // Always both volumes: listing only one lets the AMI's 2 GiB gp2 default take the other.
    blockDevices: [
      { deviceName: '/dev/xvda', sizeGiB: g.osVolumeGiB },
      { deviceName: '/dev/xvdb', sizeGiB: g.dataVolumeGiB },
    ],
    metadataHopLimit: cluster.imdsHopLimit,
    ...(amiReleaseVersion === undefined ? {} : { amiReleaseVersion }),
  };
}
