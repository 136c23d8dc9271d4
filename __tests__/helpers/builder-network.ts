/**
 * What the builder-infrastructure stack creates, made in the emulator for the builder's tests: a security group in the
 * default VPC, the instance profile (one IAM CreateInstanceProfile request: the project has no IAM SDK client, and moto
 * checks no signature), and the SSM parameters the builder reads (`subnets` default subnets, comma-separated).
 */
import { CreateSecurityGroupCommand, DescribeSubnetsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

export async function builderNetwork(endpoint: string, ec2: EC2Client, ssm: SSMClient, subnets = 1): Promise<void> {
  const found = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }))).Subnets!;
  const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'image-cache-builder', Description: 'egress only', VpcId: found[0].VpcId }));
  const iam = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: 'Action=CreateInstanceProfile&InstanceProfileName=bottlerocket-fleet-builder-us-west-2&Version=2010-05-08',
  });
  if (iam.status !== 200) throw new Error(`the emulator refused CreateInstanceProfile: ${iam.status} ${await iam.text()}`);
  for (const [Name, Value] of [
    ['/bottlerocket-fleet/builder/instance-profile', 'bottlerocket-fleet-builder-us-west-2'],
    ['/bottlerocket-fleet/builder/security-group-id', sg.GroupId!],
    [
      '/bottlerocket-fleet/builder/subnet-ids',
      found
        .slice(0, subnets)
        .map((s) => s.SubnetId)
        .join(','),
    ],
  ])
    await ssm.send(new PutParameterCommand({ Name, Value, Type: 'String' }));
}
