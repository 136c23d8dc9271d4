/**
 * A snapshot ID read from a pointer, looked up and checked before anything uses it: a
 * `data "aws_ebs_snapshot"` with the provenance rules (provenance.ts) as postconditions, so a parameter
 * naming another account's snapshot, an untagged one or another cache's fails the plan with a message
 * naming the parameter and the snapshot. The lookup has no `owners` filter on purpose: a filter that
 * finds nothing fails with the provider's generic "Your query returned no results", naming neither.
 */
import { Construct } from 'constructs';
import type { ITerraformIterator } from 'cdktf';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { DataAwsEbsSnapshot } from '@cdktf/provider-aws/lib/data-aws-ebs-snapshot';
import { provenancePostconditions, RuleName } from './provenance';

export interface TrustedSnapshotProps {
  /** The snapshot ID: a Terraform expression (`${...}`). */
  readonly snapshotId: string;
  /** HCL template text naming the pointer the ID comes from (a parameter and its region). */
  readonly pointer: string;
  readonly cacheName: string;
  /** HCL expression of this account's ID. */
  readonly account: string;
  /** HCL list expression of the cache's history (home region). */
  readonly history: string;
  /** The history parameter's name and region, for the messages. */
  readonly historyParameter: string;
  /** A copy in a replica region (its generation is its source-snapshot tag). */
  readonly copy: boolean;
  /** @default the stack's default provider */
  readonly provider?: AwsProvider;
  /** One lookup per element (then `snapshotId` may use each.value). @default one lookup */
  readonly forEach?: ITerraformIterator;
  /** @default none */
  readonly skip?: readonly RuleName[];
}

export class TrustedSnapshot extends Construct {
  readonly lookup: DataAwsEbsSnapshot;

  constructor(scope: Construct, id: string, props: TrustedSnapshotProps) {
    super(scope, id);
    this.lookup = new DataAwsEbsSnapshot(this, 'snapshot', {
      provider: props.provider,
      forEach: props.forEach,
      snapshotIds: [props.snapshotId],
      lifecycle: {
        postcondition: provenancePostconditions({
          pointer: props.pointer,
          cache: props.cacheName,
          account: props.account,
          history: props.history,
          historyParameter: props.historyParameter,
          copy: props.copy,
          skip: props.skip,
        }),
      },
    });
  }

  /** The checked snapshot's ID (a reference, so what uses it waits for the check). */
  get snapshotId(): string {
    return this.lookup.snapshotId;
  }
}
