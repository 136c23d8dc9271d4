/** The VPC for a cluster via terraform-aws-modules/vpc/aws, typed for the inputs we use. */
import { Construct } from 'constructs';
import { Fn, Token } from 'cdktf';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { TypedModule } from '../terraform/typed-module';
import { planSubnets } from '../fleet/cidr';

/** v5 is the last major that accepts hashicorp/aws 5.x (v6 requires aws >= 6.0, which eks v20 rejects). */
export const VPC_MODULE = { source: 'terraform-aws-modules/vpc/aws', version: '~> 5.21' } as const;

export interface ClusterVpcProps {
  /** Cluster name: VPC name and the karpenter.sh/discovery tag on private subnets. */
  readonly clusterName: string;
  readonly cidr: string;
  /** @default 3 */
  readonly azCount?: number;
  /** One NAT gateway for all AZs instead of one per AZ. @default false (zone-resilient) */
  readonly singleNatGateway?: boolean;
}

export class ClusterVpc extends TypedModule {
  private readonly props: Required<ClusterVpcProps>;
  private readonly azs: DataAwsAvailabilityZones;

  constructor(scope: Construct, id: string, props: ClusterVpcProps) {
    super(scope, id, VPC_MODULE);
    this.props = { azCount: 3, singleNatGateway: false, ...props };
    // Zones that need no opt-in: local zones have no NAT gateways and few instance types.
    this.azs = new DataAwsAvailabilityZones(scope, `${id}-azs`, {
      state: 'available',
      filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
    });
  }

  inputs(): Record<string, unknown> {
    const { clusterName, cidr, azCount, singleNatGateway } = this.props;
    const { privateSubnets, publicSubnets } = planSubnets(cidr, azCount);
    return {
      name: clusterName,
      cidr,
      azs: Fn.slice(this.azs.names, 0, azCount),
      private_subnets: privateSubnets,
      public_subnets: publicSubnets,
      enable_nat_gateway: true,
      single_nat_gateway: singleNatGateway,
      one_nat_gateway_per_az: !singleNatGateway,
      enable_dns_hostnames: true,
      enable_dns_support: true,
      // Load balancer controller discovery, and Karpenter's subnetSelectorTerms on the private subnets.
      public_subnet_tags: { 'kubernetes.io/role/elb': '1' },
      private_subnet_tags: { 'kubernetes.io/role/internal-elb': '1', 'karpenter.sh/discovery': clusterName },
    };
  }

  get vpcId(): string {
    return this.getString('vpc_id');
  }

  get privateSubnets(): string[] {
    return Token.asList(this.interpolationForOutput('private_subnets'));
  }
}
