/**
 * Copies of an image-cache snapshot in one replica region, and that region's SSM parameter pointing at
 * the current copy (same path as in the home region, so every cluster reads its own region's ID).
 *
 * Retention: copies are made for the newest `retainGenerations` snapshot IDs (the current one plus the
 * builder's history), keyed by source snapshot ID. When a new build arrives, the oldest generation
 * leaves the set and Terraform deletes its copy; the previous one stays, so a cluster whose Karpenter
 * stack has not been re-applied yet never points at a deleted snapshot.
 */
import { Construct } from 'constructs';
import { TerraformIterator, TerraformLocal, Token } from 'cdktf';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { EbsSnapshotCopy } from '@cdktf/provider-aws/lib/ebs-snapshot-copy';
import { EbsFastSnapshotRestore } from '@cdktf/provider-aws/lib/ebs-fast-snapshot-restore';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { BUILD_ID_TAG, CACHE_TAG, SOURCE_SNAPSHOT_TAG } from './parameters';
import type { DataAwsEbsSnapshot } from '@cdktf/provider-aws/lib/data-aws-ebs-snapshot';

export interface SnapshotReplicaProps {
  readonly cacheName: string;
  readonly homeRegion: string;
  readonly region: string;
  readonly provider: AwsProvider;
  readonly parameterPath: string;
  /** Snapshot IDs to keep copies of, newest first (a Terraform list expression). */
  readonly generations: TerraformLocal;
  /** The checked lookup of every generation (for_each over the same list, keyed by snapshot ID): copies carry its build ID. */
  readonly sources: DataAwsEbsSnapshot;
  /** The current snapshot ID in the home region, as raw expression text (e.g. data.x.y.insecure_value). */
  readonly currentSnapshotExpression: string;
  /** @default — the account's default EBS key in the region */
  readonly kmsKeyId?: string;
  /** Availability zones with Fast Snapshot Restore for the current copy. @default [] */
  readonly fastSnapshotRestoreAzs?: readonly string[];
}

export class SnapshotReplica extends Construct {
  readonly copies: EbsSnapshotCopy;
  readonly parameter: SsmParameter;
  /** The current generation's copy in this region, as a Terraform expression (`${...}`). */
  readonly currentCopyId: string;
  readonly provider: AwsProvider;

  constructor(scope: Construct, id: string, props: SnapshotReplicaProps) {
    super(scope, id);
    this.provider = props.provider;
    const generations = TerraformIterator.fromList(props.generations.asList);
    // The iterator's value is an untyped token (each.value); here every element is a snapshot id.
    const sourceSnapshotId = Token.asString(generations.value);
    this.copies = new EbsSnapshotCopy(this, 'copy', {
      provider: props.provider,
      forEach: generations,
      sourceRegion: props.homeRegion,
      sourceSnapshotId,
      encrypted: true,
      kmsKeyId: props.kmsKeyId,
      description: `bottlerocket-fleet image cache ${props.cacheName} (copy of ${props.homeRegion} snapshot)`,
      tags: {
        Name: `${props.cacheName}-image-cache`,
        [CACHE_TAG]: props.cacheName,
        [SOURCE_SNAPSHOT_TAG]: sourceSnapshotId,
        // The build the copy is of: a copy passes the same provenance checks as its source (provenance.ts).
        [BUILD_ID_TAG]: `\${lookup(data.${props.sources.terraformResourceType}.${props.sources.friendlyUniqueId}[each.value].tags, "${BUILD_ID_TAG}", "")}`,
        'bottlerocket-fleet:source-region': props.homeRegion,
      },
    });
    const currentCopyId = `\${${this.copies.terraformResourceType}.${this.copies.friendlyUniqueId}[${props.currentSnapshotExpression}].id}`;
    this.currentCopyId = currentCopyId;
    this.parameter = new SsmParameter(this, 'parameter', {
      provider: props.provider,
      name: props.parameterPath,
      type: 'String',
      value: currentCopyId,
      overwrite: true,
      description: `Snapshot ID of image cache ${props.cacheName} in ${props.region} (copied from ${props.homeRegion})`,
    });
    for (const az of props.fastSnapshotRestoreAzs ?? []) {
      new EbsFastSnapshotRestore(this, `fsr-${az}`, { provider: props.provider, availabilityZone: az, snapshotId: currentCopyId });
    }
  }
}

/** Raw HCL address of a resource or data source attribute, for building expressions cdktf cannot type. */
export function address(element: { terraformResourceType: string; friendlyUniqueId: string }, attribute: string, data = false): string {
  return `${data ? 'data.' : ''}${element.terraformResourceType}.${element.friendlyUniqueId}.${attribute}`;
}
