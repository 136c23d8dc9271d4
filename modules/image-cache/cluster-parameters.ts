/**
 * With a fleet `rollout`: one SSM parameter per cluster that uses the cache, in the cluster's region,
 * holding the snapshot ID that cluster's node classes use. Terraform creates it with the cache's current
 * snapshot in that region and never changes its value again (ignore_changes = [value]): from then on
 * `npm run rollout` moves each cluster to a new generation, stage by stage.
 */
import { Construct } from 'constructs';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { clusterParameterPath } from './parameters';

export interface ClusterSnapshotParameterProps {
  readonly cacheName: string;
  readonly cluster: string;
  readonly region: string;
  /** The cache's parameter path; the cluster's parameter lives below it. */
  readonly parameterPath: string;
  /** The cache's current snapshot (home region) or its copy (replica region), as a Terraform expression. */
  readonly initialSnapshotId: string;
  /** @default the stack's default provider (the cache's home region) */
  readonly provider?: AwsProvider;
}

export class ClusterSnapshotParameter extends Construct {
  readonly parameter: SsmParameter;

  constructor(scope: Construct, id: string, props: ClusterSnapshotParameterProps) {
    super(scope, id);
    this.parameter = new SsmParameter(this, 'parameter', {
      provider: props.provider,
      name: clusterParameterPath(props.parameterPath, props.cluster),
      type: 'String',
      value: props.initialSnapshotId,
      // No overwrite: a parameter the rollout already owns (e.g. after a state loss) is never reset.
      description: `Snapshot ID of image cache ${props.cacheName} for cluster ${props.cluster} in ${props.region}; owned by npm run rollout after creation`,
      lifecycle: { ignoreChanges: ['value'] },
    });
  }
}
