/**
 * What temporary builder instances run with, in one region: an instance role with only the SSM agent's
 * Run Command and the host containers' pull (builder-role.ts), an egress-only security group, and SSM parameters under
 * /bottlerocket-fleet/builder/ so the builder CLI needs no Terraform state. Plus the least-privilege
 * policy a CI role needs to run the builder, scoped by the bottlerocket-fleet:cache tag.
 */
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsSubnets } from '@cdktf/provider-aws/lib/data-aws-subnets';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { builderParameters } from './parameters';
import { CiPolicyProps, ciPolicyGrants } from './ci-policy';
import { builderInstanceRoleGrants } from './builder-role';

/** The region, the caches' parameter paths and images: what the CI policy is scoped to (see ci-policy.ts). */
export type BuilderInfrastructureProps = CiPolicyProps;

export class BuilderInfrastructure extends Construct {
  constructor(scope: Construct, id: string, props: BuilderInfrastructureProps) {
    super(scope, id);
    const partition = new DataAwsPartition(this, 'partition').partition;
    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    const name = `bottlerocket-fleet-builder-${props.region}`;

    const role = new IamRole(this, 'role', {
      name,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    });
    // Only the SSM agent's Run Command and the host containers' pull (builder-role.ts); no managed policy. Cache
    // images are pulled with the CI caller's token.
    new IamRolePolicy(this, 'instance-policy', {
      name: 'ssm-agent-and-host-containers',
      role: role.id,
      policy: new DataAwsIamPolicyDocument(this, 'instance-policy-document', {
        statement: builderInstanceRoleGrants(partition, props.region).map(({ why: _why, ...statement }) => statement),
      }).json,
    });
    const profile = new IamInstanceProfile(this, 'profile', { name, role: role.name });

    // The default VPC: builders need only outbound HTTPS (SSM, ECR, registries) and no inbound at all.
    const vpc = new DataAwsVpc(this, 'vpc', { default: true });
    const subnets = new DataAwsSubnets(this, 'subnets', {
      filter: [
        { name: 'vpc-id', values: [vpc.id] },
        { name: 'default-for-az', values: ['true'] },
      ],
    });
    const sg = new SecurityGroup(this, 'sg', {
      name,
      description: 'Image-cache builder instances: egress only',
      vpcId: vpc.id,
      egress: [
        { description: 'registries, SSM and ECR endpoints', fromPort: 0, toPort: 0, protocol: '-1', cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'] },
      ],
    });

    const p = builderParameters();
    new SsmParameter(this, 'instance-profile', { name: p.instanceProfile, type: 'String', value: profile.name });
    new SsmParameter(this, 'security-group-id', { name: p.securityGroupId, type: 'String', value: sg.id });
    new SsmParameter(this, 'subnet-ids', { name: p.subnetIds, type: 'StringList', value: Fn.join(',', subnets.ids) });

    // The reasons (why) stay in the code: Terraform's policy document has no place for them.
    const subnetArns = Fn.formatlist(`arn:${partition}:ec2:${props.region}:${account}:subnet/%s`, [subnets.ids]) as string[];
    const refs = { partition, account, builderRoleArn: role.arn, securityGroupId: sg.id, subnetArns };
    const statements = ciPolicyGrants(props, refs).map(({ why: _why, ...statement }) => statement);
    const document = new DataAwsIamPolicyDocument(this, 'ci-policy-document', { statement: statements });
    new IamPolicy(this, 'ci-policy', {
      name: `${name}-ci`,
      // Kept as first written although the policy covers cache list and gc too: aws_iam_policy's description
      // is ForceNew (terraform-provider-aws internal/service/iam/policy.go), and deleting a policy attached
      // to the CI role fails. A changed document is an in-place update (a new policy version).
      description: 'Lets a CI role run npm run cache -- build in this region',
      policy: document.json,
    });
  }
}
