/**
 * What temporary builder instances run with, in one region: an instance role with only SSM managed
 * instance core and ECR read-only, an egress-only security group, and SSM parameters under
 * /bottlerocket-fleet/builder/ so the builder CLI needs no Terraform state. Plus the least-privilege
 * policy a CI role needs to run the builder, scoped by the bottlerocket-fleet:cache tag.
 */
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument, DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsSubnets } from '@cdktf/provider-aws/lib/data-aws-subnets';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { builderParameters, CACHE_TAG, historyParameterPath } from './parameters';
import { ecrRepository } from './ecr';

export interface BuilderInfrastructureProps {
  readonly region: string;
  /** SSM parameter paths of the caches built here (the CI role may write only these). */
  readonly parameterPaths: readonly string[];
  /**
   * The images of the caches built here. The builder authorizes private ECR pulls with the CI role's
   * own token, so the CI role may pull exactly these repositories.
   */
  readonly images?: readonly string[];
}

export class BuilderInfrastructure extends Construct {
  constructor(scope: Construct, id: string, props: BuilderInfrastructureProps) {
    super(scope, id);
    const partition = new DataAwsPartition(this, 'partition').partition;
    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    const name = `bottlerocket-fleet-builder-${props.region}`;

    const role = new IamRole(this, 'role', {
      name,
      assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    });
    // SSM agent (Run Command) and ECR read-only, with which host-ctr pulls the admin container from
    // Bottlerocket's own ECR registry: nothing else. Cache images are pulled with the CI caller's token.
    for (const policy of ['AmazonSSMManagedInstanceCore', 'AmazonEC2ContainerRegistryReadOnly']) {
      new IamRolePolicyAttachment(this, `attach-${policy}`, { role: role.name, policyArn: `arn:${partition}:iam::aws:policy/${policy}` });
    }
    const profile = new IamInstanceProfile(this, 'profile', { name, role: role.name });

    // The default VPC: builders need only outbound HTTPS (SSM, ECR, registries) and no inbound at all.
    const vpc = new DataAwsVpc(this, 'vpc', { default: true });
    const subnets = new DataAwsSubnets(this, 'subnets', { filter: [{ name: 'vpc-id', values: [vpc.id] }, { name: 'default-for-az', values: ['true'] }] });
    const sg = new SecurityGroup(this, 'sg', {
      name,
      description: 'Image-cache builder instances: egress only',
      vpcId: vpc.id,
      egress: [{ description: 'registries, SSM and ECR endpoints', fromPort: 0, toPort: 0, protocol: '-1', cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'] }],
    });

    const p = builderParameters();
    new SsmParameter(this, 'instance-profile', { name: p.instanceProfile, type: 'String', value: profile.name });
    new SsmParameter(this, 'security-group-id', { name: p.securityGroupId, type: 'String', value: sg.id });
    new SsmParameter(this, 'subnet-ids', { name: p.subnetIds, type: 'StringList', value: Fn.join(',', subnets.ids) });

    const arn = (service: string, resource: string) => `arn:${partition}:${service}:${props.region}:${account}:${resource}`;
    const anyCacheTag = (key: string) => [{ test: 'StringLike', variable: key, values: ['*'] }];
    const statements: DataAwsIamPolicyDocumentStatement[] = [
      { sid: 'Read', actions: ['ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:DescribeVolumes', 'ec2:DescribeImages', 'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'], resources: ['*'] },
      { sid: 'ReadParameters', actions: ['ssm:GetParameter', 'ssm:GetParameters'], resources: [arn('ssm', 'parameter/bottlerocket-fleet/*'), `arn:${partition}:ssm:${props.region}::parameter/aws/service/bottlerocket/*`] },
      // Launch only with the cache tag on the request, so every instance and volume is findable for cleanup.
      { sid: 'LaunchTagged', actions: ['ec2:RunInstances'], resources: [arn('ec2', 'instance/*'), arn('ec2', 'volume/*')], condition: anyCacheTag(`aws:RequestTag/${CACHE_TAG}`) },
      { sid: 'LaunchWith', actions: ['ec2:RunInstances'], resources: [`arn:${partition}:ec2:${props.region}::image/*`, arn('ec2', 'subnet/*'), arn('ec2', 'network-interface/*'), arn('ec2', 'security-group/*')] },
      { sid: 'TagOnCreate', actions: ['ec2:CreateTags'], resources: [arn('ec2', 'instance/*'), arn('ec2', 'volume/*'), `arn:${partition}:ec2:${props.region}::snapshot/*`], condition: [{ test: 'StringEquals', variable: 'ec2:CreateAction', values: ['RunInstances', 'CreateSnapshot'] }] },
      { sid: 'ManageTagged', actions: ['ec2:StopInstances', 'ec2:TerminateInstances', 'ssm:SendCommand'], resources: [arn('ec2', 'instance/*')], condition: anyCacheTag(`aws:ResourceTag/${CACHE_TAG}`) },
      { sid: 'RunShellScript', actions: ['ssm:SendCommand'], resources: [`arn:${partition}:ssm:${props.region}::document/AWS-RunShellScript`] },
      { sid: 'Snapshot', actions: ['ec2:CreateSnapshot'], resources: [arn('ec2', 'volume/*'), `arn:${partition}:ec2:${props.region}::snapshot/*`] },
      { sid: 'DeleteOldSnapshots', actions: ['ec2:DeleteSnapshot'], resources: [`arn:${partition}:ec2:${props.region}::snapshot/*`], condition: anyCacheTag(`aws:ResourceTag/${CACHE_TAG}`) },
      { sid: 'WriteCacheParameters', actions: ['ssm:PutParameter'], resources: props.parameterPaths.flatMap((path) => [arn('ssm', `parameter${path}`), arn('ssm', `parameter${historyParameterPath(path)}`)]) },
      ...ecrPullStatements(partition, props.images ?? []),
      { sid: 'PassBuilderRole', actions: ['iam:PassRole'], resources: [role.arn], condition: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['ec2.amazonaws.com'] }] },
    ];
    const document = new DataAwsIamPolicyDocument(this, 'ci-policy-document', { statement: statements });
    new IamPolicy(this, 'ci-policy', {
      name: `${name}-ci`,
      description: 'Lets a CI role run npm run cache -- build in this region',
      policy: document.json,
    });
  }
}

/** ecr:GetAuthorizationToken (account-wide by design) and pull rights on the private repositories named by the images. */
function ecrPullStatements(partition: string, images: readonly string[]): DataAwsIamPolicyDocumentStatement[] {
  const repositories = [...new Set(images.flatMap((image) => {
    const r = ecrRepository(image);
    return r ? [`arn:${partition}:ecr:${r.region}:${r.account}:repository/${r.repository}`] : [];
  }))].sort();
  if (repositories.length === 0) return [];
  return [
    { sid: 'EcrToken', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
    { sid: 'EcrPullCacheImages', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], resources: repositories },
  ];
}
