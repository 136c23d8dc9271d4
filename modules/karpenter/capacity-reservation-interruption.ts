/**
 * The interruption rule the eks module's karpenter submodule (v20.37.2, main.tf: HealthEvent, SpotInterrupt,
 * InstanceRebalance, InstanceStateChange) lacks and Karpenter v1.14.1's own CloudFormation template has
 * (getting-started cloudformation.yaml, CapacityReservationInterruptionRule): EC2's warning before it reclaims
 * an instance in a capacity reservation, sent to the interruption queue, so Karpenter drains the node
 * (pkg/controllers/interruption/messages/capacityreservationinterruption). Made for clusters with reserved pools.
 */
import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';

export const CAPACITY_RESERVATION_INTERRUPTION_PATTERN = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 Capacity Reservation Instance Interruption Warning'],
} as const;

export interface CapacityReservationInterruptionProps {
  /** ARN of the Karpenter interruption queue (the karpenter module's queue_arn). */
  readonly queueArn: string;
}

export class CapacityReservationInterruption extends Construct {
  constructor(scope: Construct, id: string, props: CapacityReservationInterruptionProps) {
    super(scope, id);
    // A prefix like the submodule's rules ("Karpenter<Name>-"), so two clusters in one account never collide.
    const rule = new CloudwatchEventRule(this, 'rule', {
      namePrefix: 'KarpenterCapacityReservation-',
      description: 'Karpenter interrupt - EC2 capacity reservation instance interruption warning',
      eventPattern: JSON.stringify(CAPACITY_RESERVATION_INTERRUPTION_PATTERN),
    });
    // The submodule's queue policy already lets events.amazonaws.com send to the queue.
    new CloudwatchEventTarget(this, 'target', { rule: rule.name, targetId: 'KarpenterInterruptionQueueTarget', arn: props.queueArn });
  }
}
