/**
 * What the builder instance's own role may do, as pure data: exactly what the SSM agent needs to take Run Command
 * and what host-ctr needs to pull Bottlerocket's control and admin containers. Nothing else: the CI role can run a
 * root shell on its builder (SendCommand) and so read these credentials from instance metadata; with
 * AmazonSSMManagedInstanceCore (ssm:GetParameter on *) and ECR read-only on * they reached far past the CI policy.
 */
import type { CiGrant } from './ci-policy';

/**
 * Sources:
 * - SSM agent: AWS Systems Manager User Guide, "Reference: ec2messages, ssmmessages, and other API operations"
 *   (systems-manager-setting-up-messageAPIs): ssm:UpdateInstanceInformation is the agent's registration and
 *   heartbeat (what makes it Online in DescribeInstanceInformation); the agent receives Command documents through
 *   the Message Gateway Service (ssmmessages control channel) when it can, else through the Message Delivery
 *   Service (ec2messages). The data channel (ssmmessages:*DataChannel) is Session Manager's, which builds never use.
 *   The same actions appear in AmazonSSMManagedInstanceCore (AWS Managed Policy reference), minus its association,
 *   inventory, patching, document and parameter reads.
 * - Host containers: Bottlerocket pulls `bottlerocket-control` and `bottlerocket-admin` from its regional ECR
 *   registry with the instance's credentials (bottlerocket-core-kit sources/api/schnauzer/src/helpers.rs, ECR_MAP:
 *   the registry's account differs between regions, hence the account wildcard).
 */
export function builderInstanceRoleGrants(partition: string, region: string): CiGrant[] {
  return [
    {
      sid: 'SsmAgentRegistration',
      why: 'The SSM agent registers and heartbeats (Online in DescribeInstanceInformation, which the builder waits for)',
      actions: ['ssm:UpdateInstanceInformation'],
      resources: ['*'],
    },
    {
      sid: 'SsmAgentRunCommand',
      why: 'The SSM agent receives Run Command documents and sends results: Message Gateway (control channel) or Message Delivery Service',
      actions: [
        'ssmmessages:CreateControlChannel',
        'ssmmessages:OpenControlChannel',
        'ec2messages:AcknowledgeMessage',
        'ec2messages:DeleteMessage',
        'ec2messages:FailMessage',
        'ec2messages:GetEndpoint',
        'ec2messages:GetMessages',
        'ec2messages:SendReply',
      ],
      resources: ['*'],
    },
    {
      sid: 'HostContainerRegistryToken',
      why: "host-ctr's registry token for Bottlerocket's ECR (GetAuthorizationToken has no resource types)",
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
    },
    // What AmazonEC2ContainerRegistryPullOnly grants (BatchGetImage, GetDownloadUrlForLayer), but on two repositories.
    {
      sid: 'HostContainerPull',
      why: "Pull the control container (the SSM agent) and the admin container (where the pulls run) from Bottlerocket's registry in this region",
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      resources: ['bottlerocket-control', 'bottlerocket-admin'].map((r) => `arn:${partition}:ecr:${region}:*:repository/${r}`),
    },
  ];
}
