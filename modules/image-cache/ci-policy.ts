/**
 * The least-privilege policy a CI role needs to run `npm run cache -- build | list | gc` for the caches
 * of one home region, as pure data. Each grant carries the reason it exists (`why`): the CI-policy test
 * (__tests__/ci-policy.test.ts) checks that every call those commands make is allowed, that every action
 * granted is one they call, and that no grant lacks a reason.
 */
import type { DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { CACHE_TAG, FLEET_TAG, historyParameterPath, manifestParametersFolder } from './parameters';
import { ecrRepository } from './ecr';
import { BUILDER_METADATA_OPTIONS, builderInstanceType } from './builder-launch';

export interface CiPolicyProps {
  readonly region: string;
  /** The caches built here: tag conditions match exactly these values of the cache tag. */
  readonly cacheNames: readonly string[];
  /** The fleet's ID: tag conditions match exactly this value of the fleet tag (never another fleet's). */
  readonly fleetId: string;
  /** SSM parameter paths of the caches built here (the CI role may write only these). */
  readonly parameterPaths: readonly string[];
  /** The images of the caches built here: the CI role may pull exactly their private ECR repositories. */
  readonly images?: readonly string[];
  /** The caches' parameters in their replica regions, which `cache list` reads. @default none */
  readonly replicaParameters?: readonly { readonly region: string; readonly parameterPath: string }[];
  /**
   * The instance types the builder launches for the caches built here (builderInstanceType): any other is refused.
   * @default the defaults of both architectures (m6i.large, m7g.large)
   */
  readonly instanceTypes?: readonly string[];
}

/** Values known only to Terraform (references), passed in so this stays pure. */
export interface CiPolicyReferences {
  readonly partition: string;
  readonly account: string;
  readonly builderRoleArn: string;
  /** The builders' security group (its ID): the only one RunInstances may attach. */
  readonly securityGroupId: string;
  /** ARNs of the builders' subnets (a Terraform list): the only ones RunInstances may launch into. */
  readonly subnetArns: string[];
}

/** One statement of the policy and the reason it is there. */
export interface CiGrant extends DataAwsIamPolicyDocumentStatement {
  readonly sid: string;
  readonly why: string;
}

export function ciPolicyGrants(props: CiPolicyProps, refs: CiPolicyReferences): CiGrant[] {
  const { partition, account } = refs;
  const scope = ciScope(props, refs);
  return [
    ...readGrants(scope),
    ...replicaParameterGrants(partition, account, props.replicaParameters ?? []),
    ...launchGrants(scope),
    ...builderInstanceGrants(scope),
    ...snapshotGrants(scope),
    ...parameterWriteGrants(scope),
    ...ecrPullGrants(partition, props.images ?? []),
    ...launchGuards(scope.arn('ec2', 'instance/*'), props.instanceTypes),
    ...passRoleGrants(scope),
  ];
}

/** What every statement group is written with: ARNs in the region and account, the cache-tag conditions. */
interface CiScope {
  readonly props: CiPolicyProps;
  readonly refs: CiPolicyReferences;
  readonly arn: (service: string, resource: string) => string;
  readonly awsOwned: (service: string, resource: string) => string;
  readonly cacheTags: (kind: 'RequestTag' | 'ResourceTag') => { test: string; variable: string; values: string[] }[];
}

function ciScope(props: CiPolicyProps, refs: CiPolicyReferences): CiScope {
  const { partition, account } = refs;
  return {
    props,
    refs,
    arn: (service, resource) => `arn:${partition}:${service}:${props.region}:${account}:${resource}`,
    awsOwned: (service, resource) => `arn:${partition}:${service}:${props.region}::${resource}`,
    // Exact values, not tag keys: a cache tag of another fleet (or on a node) grants nothing.
    cacheTags: (kind) => [
      { test: 'StringEquals', variable: `aws:${kind}/${CACHE_TAG}`, values: [...props.cacheNames].sort() },
      { test: 'StringEquals', variable: `aws:${kind}/${FLEET_TAG}`, values: [props.fleetId] },
    ],
  };
}

/** Lookups: builder instances, snapshots, Run Command results, parameters. */
function readGrants({ arn, awsOwned }: CiScope): CiGrant[] {
  return [
    {
      sid: 'Read',
      why: 'Calls without resource types (only "*" grants them): find builder instances and snapshots (build, list, gc), wait for SSM, read Run Command results',
      actions: ['ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation'],
      resources: ['*'],
    },
    {
      sid: 'ReadParameters',
      why: 'The builder configuration, the cache parameters and their history, and the public Bottlerocket AMI parameters',
      actions: ['ssm:GetParameter', 'ssm:GetParameters'],
      resources: [arn('ssm', 'parameter/bottlerocket-fleet/*'), awsOwned('ssm', 'parameter/aws/service/bottlerocket/*')],
    },
  ];
}

/** RunInstances, per resource it authorizes, and tag on create. */
function launchGrants({ arn, awsOwned, cacheTags, refs }: CiScope): CiGrant[] {
  return [
    {
      sid: 'LaunchTagged',
      why: 'Launch only with the cache tag on the request, so every instance and volume is findable for cleanup',
      actions: ['ec2:RunInstances'],
      resources: [arn('ec2', 'instance/*'), arn('ec2', 'volume/*')],
      condition: cacheTags('RequestTag'),
    },
    // The subnets and the security group are the ones the builder parameters name (builder-infra.ts): with any
    // subnet or group, the role could launch an instance with the builder role into another network.
    {
      sid: 'LaunchWith',
      why: "The other resources RunInstances uses: the AMI, the new network interface, the builders' security group",
      actions: ['ec2:RunInstances'],
      resources: [awsOwned('ec2', 'image/*'), arn('ec2', 'network-interface/*'), arn('ec2', `security-group/${refs.securityGroupId}`)],
    },
    {
      sid: 'LaunchInBuilderSubnets',
      why: "Launch only into the builders' subnets (a statement of its own: they are one Terraform list)",
      actions: ['ec2:RunInstances'],
      resources: refs.subnetArns,
    },
    {
      sid: 'TagOnCreate',
      why: 'Tags on the launch and the snapshot (tag on create needs ec2:CreateTags, for those two calls only)',
      actions: ['ec2:CreateTags'],
      resources: [arn('ec2', 'instance/*'), arn('ec2', 'volume/*'), awsOwned('ec2', 'snapshot/*')],
      condition: [{ test: 'StringEquals', variable: 'ec2:CreateAction', values: ['RunInstances', 'CreateSnapshot'] }],
    },
  ];
}

/** What the build does to its own instance: stop, terminate, Run Command. */
function builderInstanceGrants({ arn, awsOwned, cacheTags }: CiScope): CiGrant[] {
  return [
    {
      sid: 'ManageTagged',
      why: 'Stop, terminate and run commands on builder instances only (the cache tag)',
      actions: ['ec2:StopInstances', 'ec2:TerminateInstances', 'ssm:SendCommand'],
      resources: [arn('ec2', 'instance/*')],
      condition: cacheTags('ResourceTag'),
    },
    {
      sid: 'RunShellScript',
      why: 'Run Command with the AWS-RunShellScript document only',
      actions: ['ssm:SendCommand'],
      resources: [awsOwned('ssm', 'document/AWS-RunShellScript')],
    },
  ];
}

function snapshotGrants({ arn, awsOwned, cacheTags }: CiScope): CiGrant[] {
  return [
    // CreateSnapshot authorizes the volume (aws:ResourceTag) and the new snapshot (aws:RequestTag) separately
    // (Service Authorization Reference, CreateSnapshot): unconditioned, the role could snapshot any volume and
    // publish it as a cache with PutParameter.
    {
      sid: 'SnapshotCacheVolume',
      why: 'Snapshot only volumes carrying the cache tag (the builder tags its volumes at launch)',
      actions: ['ec2:CreateSnapshot'],
      resources: [arn('ec2', 'volume/*')],
      condition: cacheTags('ResourceTag'),
    },
    {
      sid: 'SnapshotTagged',
      why: 'Create only snapshots with the cache tag on the request, so every snapshot is findable for cleanup',
      actions: ['ec2:CreateSnapshot'],
      resources: [awsOwned('ec2', 'snapshot/*')],
      condition: cacheTags('RequestTag'),
    },
    {
      sid: 'DeleteOldSnapshots',
      why: 'Delete cache snapshots only (the cache tag)',
      actions: ['ec2:DeleteSnapshot'],
      resources: [awsOwned('ec2', 'snapshot/*')],
      condition: cacheTags('ResourceTag'),
    },
  ];
}

/** The cache parameters, their history and the build manifests. */
function parameterWriteGrants({ arn, props, refs }: CiScope): CiGrant[] {
  const { partition, account } = refs;
  return [
    {
      sid: 'WriteCacheParameters',
      why: 'Write the new snapshot ID and the history of the caches built here; put the previous ID back when the build fails after writing it',
      actions: ['ssm:PutParameter'],
      resources: props.parameterPaths.flatMap((path) => [arn('ssm', `parameter${path}`), arn('ssm', `parameter${historyParameterPath(path)}`)]),
    },
    // Without it, a failed first build left the parameter naming a snapshot its own cleanup then deleted (issue 14).
    {
      sid: 'UndoFirstParameterWrite',
      why: 'A first-ever build that fails after writing its parameter deletes it again (there is no previous ID to put back); never the history',
      actions: ['ssm:DeleteParameter'],
      resources: props.parameterPaths.map((path) => arn('ssm', `parameter${path}`)),
    },
    // Snapshot tags cannot hold a digest per image (EC2 allows 50 tags): cli/cache/manifest.ts.
    {
      sid: 'WriteManifests',
      why: "Each build's image -> digest manifest, in the home region and every region with a copy; a failed build deletes the parts it wrote",
      actions: ['ssm:PutParameter', 'ssm:DeleteParameter'],
      resources: [
        ...new Set([
          ...props.parameterPaths.map((path) => arn('ssm', `parameter${manifestParametersFolder(path)}/*`)),
          // Issue 29: only the caches' own paths; replicaParameters also lists cluster parameters, whose `-manifests` nothing writes.
          ...(props.replicaParameters ?? [])
            .filter((p) => props.parameterPaths.includes(p.parameterPath))
            .map((p) => `arn:${partition}:ssm:${p.region}:${account}:parameter${manifestParametersFolder(p.parameterPath)}/*`),
        ]),
      ].sort(),
    },
  ];
}

function passRoleGrants({ refs }: CiScope): CiGrant[] {
  return [
    {
      sid: 'PassBuilderRole',
      why: 'Launch the builder with its instance profile, and pass its role to EC2 only',
      actions: ['iam:PassRole'],
      resources: [refs.builderRoleArn],
      condition: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['ec2.amazonaws.com'] }],
    },
  ];
}

/**
 * Explicit denies on the instance of a launch (issue 21): only the builder's instance types, IMDSv2 only, hop limit
 * at most the builder's. Denies rather than conditions on LaunchTagged: that statement also authorizes the volume,
 * whose request carries none of these keys. Keys and their instance resource: EC2 User Guide, "Example policies to
 * control access the Amazon EC2 API", "Work with instance metadata" and "Launch instances (RunInstances)"; the
 * Service Authorization Reference (list_amazonec2.html, RunInstances) lists them as condition keys of `instance`.
 * A negated operator matches a key the request lacks (IAM policy evaluation logic), so a launch without
 * MetadataOptions is refused too; NumericGreaterThan does not match an absent hop limit (EC2's default, 1, applies).
 */
function launchGuards(instances: string, instanceTypes: readonly string[] | undefined): CiGrant[] {
  const types = [...new Set(instanceTypes ?? [builderInstanceType({ arch: 'x86_64' }), builderInstanceType({ arch: 'arm64' })])].sort();
  const guard = (sid: string, why: string, test: string, variable: string, values: string[]): CiGrant => ({
    sid,
    why,
    effect: 'Deny',
    actions: ['ec2:RunInstances'],
    resources: [instances],
    condition: [{ test, variable, values }],
  });
  return [
    guard('DenyOtherInstanceTypes', `Launch only the builder's instance types (${types.join(', ')})`, 'StringNotEquals', 'ec2:InstanceType', types),
    guard('DenyImdsV1', 'Launch only with IMDSv2 required (no IMDSv1 credentials for anything on the instance)', 'StringNotEquals', 'ec2:MetadataHttpTokens', [
      BUILDER_METADATA_OPTIONS.HttpTokens,
    ]),
    guard(
      'DenyHigherHopLimit',
      `Launch only with an IMDS hop limit of at most ${BUILDER_METADATA_OPTIONS.HttpPutResponseHopLimit}`,
      'NumericGreaterThan',
      'ec2:MetadataHttpPutResponseHopLimit',
      [String(BUILDER_METADATA_OPTIONS.HttpPutResponseHopLimit)],
    ),
  ];
}

/** ecr:GetAuthorizationToken (account-wide by design) and pull rights on the private repositories named by the images. */
function ecrPullGrants(partition: string, images: readonly string[]): CiGrant[] {
  const repositories = [
    ...new Set(
      images.flatMap((image) => {
        const r = ecrRepository(image);
        return r ? [`arn:${partition}:ecr:${r.region}:${r.account}:repository/${r.repository}`] : [];
      }),
    ),
  ].sort();
  if (repositories.length === 0) return [];
  return [
    {
      sid: 'EcrToken',
      why: 'The registry token the builder passes to the instance for private ECR pulls (no resource types)',
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
    },
    // A pull is manifests (BatchGetImage) and layers (GetDownloadUrlForLayer); BatchCheckLayerAvailability is a push's check.
    {
      sid: 'EcrPullCacheImages',
      why: "The pull on the instance runs with the CI role's token: exactly the caches' repositories",
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      resources: repositories,
    },
  ];
}

/** `cache list` reads each cache's parameter in its replica regions too (written there by the replication stack). */
function replicaParameterGrants(partition: string, account: string, parameters: NonNullable<CiPolicyProps['replicaParameters']>): CiGrant[] {
  const resources = [...new Set(parameters.map((p) => `arn:${partition}:ssm:${p.region}:${account}:parameter${p.parameterPath}`))].sort();
  if (resources.length === 0) return [];
  return [{ sid: 'ReadReplicaParameters', why: 'cache list shows the current snapshot in every replica region', actions: ['ssm:GetParameter'], resources }];
}
