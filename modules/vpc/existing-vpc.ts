/**
 * An existing VPC given by ID: its private subnets are tagged for Karpenter discovery with aws_ec2_tag
 * (the subnets themselves stay owned by whoever created them).
 */
import { Construct } from 'constructs';
import { Ec2Tag } from '@cdktf/provider-aws/lib/ec2-tag';

export interface ExistingVpcProps {
  readonly clusterName: string;
  readonly vpcId: string;
  readonly privateSubnetIds: string[];
}

export class ExistingVpc extends Construct {
  readonly vpcId: string;
  readonly privateSubnets: string[];

  constructor(scope: Construct, id: string, props: ExistingVpcProps) {
    super(scope, id);
    this.vpcId = props.vpcId;
    this.privateSubnets = props.privateSubnetIds;
    for (const subnet of props.privateSubnetIds) {
      new Ec2Tag(this, `discovery-${subnet}`, { resourceId: subnet, key: 'karpenter.sh/discovery', value: props.clusterName });
    }
  }
}
