/**
 * `image-cache-<cache>`: replicates a cache's current snapshot from its home region into every replica
 * region and writes the regional copy's ID to the same SSM path there. Reads the snapshot ID and the
 * builder's history from SSM in the home region at plan time. Composition only.
 */
import { Construct } from 'constructs';
import { TerraformIterator, TerraformLocal, Token } from 'cdktf';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { EbsFastSnapshotRestore } from '@cdktf/provider-aws/lib/ebs-fast-snapshot-restore';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { FleetStack, FleetStackProps } from '../modules/terraform/fleet-stack';
import type { ImageCache } from '../modules/fleet/load';
import { address, SnapshotReplica } from '../modules/image-cache/replication';
import { CACHE_TAG, clusterParametersFolder, historyParameterPath } from '../modules/image-cache/parameters';
import { TrustedSnapshot } from '../modules/image-cache/trusted-snapshot';
import { ClusterSnapshotParameter } from '../modules/image-cache/cluster-parameters';
import { HeldGenerations } from '../modules/image-cache/held-generations';

export interface ImageCacheStackProps extends FleetStackProps {
  readonly cache: ImageCache;
  /**
   * With a fleet `rollout`: the clusters using the cache, each of which gets its own snapshot parameter
   * in its region (created once, then owned by `npm run rollout`). @default []
   */
  readonly rolloutClusters?: readonly { readonly name: string; readonly region: string }[];
}

export class ImageCacheStack extends FleetStack {
  constructor(scope: Construct, id: string, props: ImageCacheStackProps) {
    const { cache } = props;
    super(scope, id, { ...props, tags: { ...props.tags, [CACHE_TAG]: cache.name } });
    this.awsProvider(cache.homeRegion);
    // insecure_value: String parameters are not secret, and for_each cannot iterate sensitive values.
    const current = address(new DataAwsSsmParameter(this, 'current', { name: cache.parameterPath }), 'insecure_value', true);
    const history = address(new DataAwsSsmParameter(this, 'history', { name: historyParameterPath(cache.parameterPath) }), 'insecure_value', true);
    // Keyed by any region name: rollout clusters' regions are looked up here (the home region has no entry).
    const account = address(new DataAwsCallerIdentity(this, 'account'), 'account_id', true);
    const historyList = `jsondecode(${history})`;
    const historyParameter = `${historyParameterPath(cache.parameterPath)} (${cache.homeRegion})`;
    const providers = new Map<string, AwsProvider>(cache.replicaRegions.map((region) => [region, this.awsProvider(region, region.replace(/-/g, '_'))]));
    const newest = `[for i, id in distinct(concat([${current}], jsondecode(${history}))) : id if i < ${cache.retainGenerations}]`;
    // With a rollout, the generations held-back clusters still run stay too (see held-generations.ts).
    const clusterRegions = [...new Set((props.rolloutClusters ?? []).map((c) => c.region))];
    const held =
      clusterRegions.length === 0
        ? undefined
        : new HeldGenerations(this, 'held', {
            parameterPath: cache.parameterPath,
            homeRegion: cache.homeRegion,
            cacheName: cache.name,
            account,
            history: historyList,
            historyParameter,
            regions: clusterRegions.map((region) => ({ region, provider: providers.get(region) })),
          });
    const generations = new TerraformLocal(this, 'generations', `\${${held ? `distinct(concat(${newest}, ${held.expression}))` : newest}}`);
    // Every generation is checked before it is copied (or its copy kept): a parameter, its history or a
    // cluster parameter naming another account's snapshot, or another cache's, fails the plan.
    const each = TerraformIterator.fromList(generations.asList);
    const folder = clusterParametersFolder(cache.parameterPath);
    const sources = new TrustedSnapshot(this, 'generation', {
      forEach: each,
      snapshotId: Token.asString(each.value),
      pointer: `\${each.value == ${current} ? "SSM parameter ${cache.parameterPath} in ${cache.homeRegion}" : contains(${historyList}, each.value) ? "SSM parameter ${historyParameterPath(cache.parameterPath)} in ${cache.homeRegion}" : "A cluster parameter under ${folder}"}`,
      cacheName: cache.name,
      account,
      history: historyList,
      historyParameter,
      copy: false,
    });

    for (const az of cache.fastSnapshotRestoreAzs[cache.homeRegion] ?? []) {
      new EbsFastSnapshotRestore(this, `fsr-${az}`, { availabilityZone: az, snapshotId: `${'$'}{${current}}` });
    }
    const replicas = new Map<string, SnapshotReplica>();
    for (const region of cache.replicaRegions) {
      replicas.set(
        region,
        new SnapshotReplica(this, `replica-${region}`, {
          cacheName: cache.name,
          homeRegion: cache.homeRegion,
          region,
          provider: providers.get(region)!,
          parameterPath: cache.parameterPath,
          generations,
          sources: sources.lookup,
          currentSnapshotExpression: current,
          kmsKeyId: cache.kmsKeyIds[region],
          fastSnapshotRestoreAzs: cache.fastSnapshotRestoreAzs[region],
        }),
      );
    }
    for (const cluster of props.rolloutClusters ?? []) {
      const replica = replicas.get(cluster.region);
      new ClusterSnapshotParameter(this, `cluster-${cluster.name}`, {
        cacheName: cache.name,
        cluster: cluster.name,
        region: cluster.region,
        parameterPath: cache.parameterPath,
        initialSnapshotId: replica ? replica.currentCopyId : `\${${current}}`,
        provider: replica?.provider,
      });
    }
  }
}
