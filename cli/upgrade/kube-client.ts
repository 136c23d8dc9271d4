/**
 * What `upgrade` reads of one cluster, on the Kubernetes access layer (cli/shared/kube): each pool's live
 * EC2NodeClass (alias, data-volume snapshot), its NodeClaims and the image their nodes run.
 *
 * The node's image is read from the Node, not from the NodeClaim's status.imageID: an AMI ID says nothing about
 * variant or release without a further EC2 DescribeImages call, while the kubelet reports both on the Node
 * (core/v1 NodeSystemInfo): `kubeletVersion` ("v1.35.2-eks-…": the Kubernetes minor the node runs) and
 * `osImage`, Bottlerocket's os-release PRETTY_NAME ("Bottlerocket OS 1.55.0 (aws-k8s-1.35)", the format
 * debug-node already reads, cli/debug-node/node-check.ts). A node whose osImage does not parse counts as unknown.
 */
import { NODE_CLASS_HASH_ANNOTATION } from '../rollout/model';
import { connectKube, NODE_CLAIM, NODE_CLASS, type KubeConnection, type KubeOptions, type V1ObjectMeta } from '../shared/kube';

export interface LiveNodeClass {
  readonly name: string;
  /** amiSelectorTerms[0].alias (the only term an alias may be, Karpenter v1.14.1 CRD). */
  readonly alias?: string;
  /** The snapshotID of the data volume (/dev/xvdb). */
  readonly snapshot?: string;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface LiveNodeClaim {
  readonly name: string;
  readonly pool: string;
  readonly nodeName?: string;
  /** status.imageID: the AMI it was launched from. */
  readonly imageId?: string;
  /** karpenter.k8s.aws/ec2nodeclass-hash: the class spec it was launched for. */
  readonly hash?: string;
}

export interface LiveNode {
  readonly name: string;
  readonly kubeletVersion?: string;
  readonly osImage?: string;
}

export interface UpgradeKube {
  nodeClass(name: string): Promise<LiveNodeClass | undefined>;
  nodeClaims(): Promise<LiveNodeClaim[]>;
  nodes(): Promise<LiveNode[]>;
}

interface RawNodeClass {
  metadata: V1ObjectMeta;
  spec?: { amiSelectorTerms?: { alias?: string }[]; blockDeviceMappings?: { deviceName?: string; ebs?: { snapshotID?: string } }[] };
}
interface RawClaim {
  metadata: V1ObjectMeta;
  status?: { nodeName?: string; imageID?: string };
}

/** The data volume is /dev/xvdb (modules/karpenter/node-class.ts): Bottlerocket's second volume. */
const DATA_DEVICE = '/dev/xvdb';

export function upgradeKubeOn(kube: KubeConnection): UpgradeKube {
  return {
    async nodeClass(name) {
      const o = (await kube.read(`read EC2NodeClass ${name}`, (opt) => kube.custom.getClusterCustomObject({ ...NODE_CLASS, name }, opt))) as
        RawNodeClass | undefined;
      if (!o) return undefined;
      return {
        name,
        alias: o.spec?.amiSelectorTerms?.[0]?.alias,
        snapshot: o.spec?.blockDeviceMappings?.find((d) => d.deviceName === DATA_DEVICE)?.ebs?.snapshotID,
        annotations: o.metadata.annotations ?? {},
      };
    },
    async nodeClaims() {
      const raw = await kube.listAll<RawClaim>('list NodeClaims', (q, o) => kube.custom.listClusterCustomObject({ ...NODE_CLAIM, ...q }, o));
      return raw.map((c) => ({
        name: c.metadata.name!,
        pool: c.metadata.labels?.['karpenter.sh/nodepool'] ?? '',
        nodeName: c.status?.nodeName,
        imageId: c.status?.imageID || undefined,
        hash: c.metadata.annotations?.[NODE_CLASS_HASH_ANNOTATION],
      }));
    },
    async nodes() {
      return (await kube.listAll('list nodes', (q, o) => kube.core.listNode(q, o))).map((n) => ({
        name: n.metadata!.name!,
        kubeletVersion: n.status?.nodeInfo?.kubeletVersion || undefined,
        osImage: n.status?.nodeInfo?.osImage || undefined,
      }));
    },
  };
}

/** The reads at kubeconfig context `context` (for cluster `o.cluster`, named in hints). */
export function upgradeKube(context: string, o: KubeOptions & { readonly cluster?: string; readonly region?: string } = {}): UpgradeKube {
  return upgradeKubeOn(connectKube({ cluster: o.cluster ?? context, context, region: o.region, contextFlag: '--context <cluster>=<context>' }, o));
}
