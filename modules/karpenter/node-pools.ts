/**
 * One EC2NodeClass and one NodePool per fleet pool, applied with kubectl_manifest after the Karpenter
 * charts. The data volume's snapshot ID is read from the cache's SSM parameter in the cluster's region
 * at plan time, never hard-coded. Every manifest is validated against the Karpenter CRDs at synth time.
 */
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Manifest } from '../../.gen/providers/kubectl/manifest';
import type { KubectlProvider } from '../../.gen/providers/kubectl/provider';
import type { Cluster, ImageCache, NodePool } from '../fleet/load';
import { KubernetesManifest, manifestYaml } from '../kubernetes/manifest';
import { ec2NodeClass } from './node-class';
import { nodePool } from './node-pool';
import { validateAgainstCrd } from './crd-validation';
import { historyParameterPath, snapshotParameterPath } from '../image-cache/parameters';
import { TrustedSnapshot } from '../image-cache/trusted-snapshot';
import { address } from '../image-cache/replication';

/** Stands in for the plan-time snapshot ID while validating (the real value is a data-source reference). */
export const PLACEHOLDER_SNAPSHOT_ID = 'snap-0123456789abcdef0';

export interface KarpenterNodePoolsProps {
  readonly cluster: Cluster;
  readonly imageCaches: readonly ImageCache[];
  /**
   * Read `<parameterPath>/clusters/<cluster>` (written by `npm run rollout`) instead of the cache-wide
   * parameter. @default false
   */
  readonly perClusterSnapshotParameters?: boolean;
  readonly nodeRoleName: string;
  readonly tags: Record<string, string>;
  readonly provider: KubectlProvider;
  /**
   * The AWS provider of a cache's home region, where its history lives (undefined: the stack's default
   * provider, the cluster's region). @default the stack's default provider
   */
  readonly awsProviderFor?: (region: string) => AwsProvider | undefined;
  /** The Karpenter releases: the CRDs must exist before any manifest is applied. */
  readonly dependsOn: ITerraformDependable[];
}

/** Builds a pool's two manifests (pure); the snapshot ID is whatever reference or placeholder is given. */
export function poolManifests(
  props: Pick<KarpenterNodePoolsProps, 'cluster' | 'nodeRoleName' | 'tags'>,
  pool: NodePool,
  snapshotId: string | undefined,
): KubernetesManifest[] {
  return [ec2NodeClass({ cluster: props.cluster, pool, role: props.nodeRoleName, snapshotId, tags: props.tags }), nodePool(pool)];
}

/** CRD problems of a pool's manifests, each prefixed with the pool's path in the fleet file. */
export function validatePool(props: Pick<KarpenterNodePoolsProps, 'cluster' | 'nodeRoleName' | 'tags'>, pool: NodePool, hasSnapshot: boolean): string[] {
  const at = `clusters.${props.cluster.name}.karpenter.nodePools.${pool.name}`;
  return poolManifests(props, pool, hasSnapshot ? PLACEHOLDER_SNAPSHOT_ID : undefined)
    .flatMap((m) => validateAgainstCrd(m).errors)
    .map((e) => `${at}: rejected by the Karpenter CRD: ${e}`);
}

export class KarpenterNodePools extends Construct {
  readonly snapshotParameters = new Map<string, DataAwsSsmParameter>();
  /** Per cache: the snapshot its parameter names, looked up and checked (provenance postconditions). */
  readonly trustedSnapshots = new Map<string, TrustedSnapshot>();
  private account?: string;
  private readonly props: KarpenterNodePoolsProps;

  constructor(scope: Construct, id: string, props: KarpenterNodePoolsProps) {
    super(scope, id);
    this.props = props;
    const cacheByName = new Map(props.imageCaches.map((c) => [c.name, c]));
    for (const pool of props.cluster.karpenter?.nodePools ?? []) {
      const cache = pool.imageCache ? cacheByName.get(pool.imageCache) : undefined;
      // A cache not built yet has no parameter: its pools boot with an empty data volume (see docs/cluster-and-karpenter-stacks.md).
      const snapshotId = cache?.built ? this.trustedSnapshot(cache).snapshotId : undefined;
      for (const manifest of poolManifests(props, pool, snapshotId)) {
        new Manifest(this, `${manifest.kind}-${pool.name}`, {
          provider: props.provider,
          yamlBody: manifestYaml(manifest),
          serverSideApply: true,
          wait: true,
          dependsOn: props.dependsOn,
        });
      }
      this.node.addValidation({ validate: () => validatePool(props, pool, snapshotId !== undefined) });
    }
  }

  /**
   * The snapshot a cache's parameter names, checked before any node class uses it: owned by this account,
   * completed, encrypted, the cache's tags, a build the history names (for a copy: its source).
   */
  private trustedSnapshot(cache: ImageCache): TrustedSnapshot {
    let t = this.trustedSnapshots.get(cache.name);
    if (!t) {
      const parameter = this.snapshotParameter(cache);
      const region = this.props.cluster.region;
      const history = new DataAwsSsmParameter(this, `history-${cache.name}`, {
        name: historyParameterPath(cache.parameterPath),
        provider: this.props.awsProviderFor?.(cache.homeRegion),
      });
      this.account ??= address(new DataAwsCallerIdentity(this, 'account'), 'account_id', true);
      t = new TrustedSnapshot(this, `trusted-${cache.name}`, {
        // insecure_value: the parameter is a plain String, and `value` (always sensitive in the aws provider)
        // would mark every manifest and output carrying the ID sensitive for no reason.
        snapshotId: parameter.insecureValue,
        pointer: `SSM parameter ${this.parameterName(cache)} in ${region}`,
        cacheName: cache.name,
        account: this.account,
        history: `jsondecode(${address(history, 'insecure_value', true)})`,
        historyParameter: `${historyParameterPath(cache.parameterPath)} (${cache.homeRegion})`,
        copy: region !== cache.homeRegion,
      });
      this.trustedSnapshots.set(cache.name, t);
    }
    return t;
  }

  /** One data source per cache, read in the cluster's region (the provider of this stack). */
  private snapshotParameter(cache: ImageCache): DataAwsSsmParameter {
    let p = this.snapshotParameters.get(cache.name);
    if (!p) {
      p = new DataAwsSsmParameter(this, `snapshot-${cache.name}`, { name: this.parameterName(cache) });
      this.snapshotParameters.set(cache.name, p);
    }
    return p;
  }

  private parameterName(cache: ImageCache): string {
    return snapshotParameterPath(cache.parameterPath, this.props.cluster.name, this.props.perClusterSnapshotParameters ?? false);
  }
}
