/**
 * With a fleet `rollout`, clusters run different generations: a failed canary holds the later stages on
 * the previous one while new builds arrive. The replication stack keeps copies only for the newest
 * `retainGenerations` builds, so without this it would delete the copy a held-back cluster still launches
 * nodes from (and the rollout's rollback target). This reads, in every region with such clusters, the
 * snapshot each cluster parameter names and maps it to its generation (the home-region snapshot): home
 * clusters name it directly, replica clusters name a copy tagged `bottlerocket-fleet:source-snapshot`.
 * A region without cluster parameters yet (first deploy) contributes nothing.
 */
import { Construct } from 'constructs';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { DataAwsSsmParametersByPath } from '@cdktf/provider-aws/lib/data-aws-ssm-parameters-by-path';
import { clusterParametersFolder, SOURCE_SNAPSHOT_TAG } from './parameters';
import { TrustedSnapshot } from './trusted-snapshot';

export interface HeldGenerationsProps {
  readonly parameterPath: string;
  readonly homeRegion: string;
  readonly cacheName: string;
  /** HCL expressions: this account's ID, the cache's history (a list); and the history's name for messages. */
  readonly account: string;
  readonly history: string;
  readonly historyParameter: string;
  /** Regions with clusters that follow the rollout, and the provider of each (undefined: the stack's default, the home region). */
  readonly regions: readonly { readonly region: string; readonly provider?: AwsProvider }[];
}

export class HeldGenerations extends Construct {
  /** HCL list expression of the generations (home-region snapshot IDs) some cluster parameter still names. */
  readonly expression: string;

  constructor(scope: Construct, id: string, props: HeldGenerationsProps) {
    super(scope, id);
    const folder = clusterParametersFolder(props.parameterPath);
    const lists = props.regions.map(({ region, provider }) => {
      const params = new DataAwsSsmParametersByPath(this, `cluster-parameters-${region}`, { provider, path: folder, recursive: false });
      // `values` is sensitive in the provider (SecureString); these are plain String snapshot IDs.
      const ids = `nonsensitive(data.${params.terraformResourceType}.${params.friendlyUniqueId}.values)`;
      if (region === props.homeRegion) return ids;
      // Checked like every pointer (no owners filter: see trusted-snapshot.ts). The build ID is the source's,
      // checked with the generation: copies made before copies carried it must not fail this lookup.
      const copies = new TrustedSnapshot(this, `cluster-copies-${region}`, {
        provider,
        snapshotId: '${each.value}',
        pointer: `A cluster parameter under ${folder} in ${region}`,
        cacheName: props.cacheName,
        account: props.account,
        history: props.history,
        historyParameter: props.historyParameter,
        copy: true,
        skip: ['build-id'],
      }).lookup;
      // One lookup per copy a cluster parameter names (a raw for_each: cdktf's iterators take typed lists).
      copies.addOverride('for_each', `\${toset(${ids})}`);
      const ref = `data.${copies.terraformResourceType}.${copies.friendlyUniqueId}`;
      return `[for id, s in ${ref} : lookup(s.tags, "${SOURCE_SNAPSHOT_TAG}", id)]`;
    });
    this.expression = lists.length === 0 ? '[]' : `concat(${lists.join(', ')})`;
  }
}
