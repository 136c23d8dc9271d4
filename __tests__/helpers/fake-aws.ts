/**
 * A stateful fake of the EC2, SSM and ECR calls the image-cache builder makes, behind the real SDK clients
 * (aws-sdk-client-mock replaces their send): instances, Run Command invocations, snapshots, parameters.
 * Faults are switched on per test.
 */
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  DeleteParameterCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { CtrHost } from './ssm-agent-proxy';
import { ACCOUNT, BUILDER_SECURITY_GROUP_ID, BUILDER_SUBNET_IDS } from './aws-account';

export { ACCOUNT, BUILDER_SECURITY_GROUP_ID, BUILDER_SUBNET_IDS };

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name });

type Tags = { Key?: string; Value?: string }[];

/**
 * EC2's Filters, as DescribeInstances and DescribeSnapshots apply them: every filter must match (AND), any
 * of its values (OR). Supported: tag:<key>, tag-key, instance-state-name, owner-id; an unknown filter name
 * throws (EC2 answers InvalidParameterValue), so a fake can never silently ignore one.
 */
export function matchesFilters(r: { tags: Tags; state?: string; ownerId?: string }, filters: { Name?: string; Values?: string[] }[] = []): boolean {
  return filters.every(({ Name = '', Values = [] }) => {
    if (Name.startsWith('tag:')) return r.tags.some((t) => t.Key === Name.slice(4) && Values.includes(t.Value ?? ''));
    if (Name === 'tag-key') return r.tags.some((t) => Values.includes(t.Key ?? ''));
    if (Name === 'instance-state-name') return Values.includes(r.state ?? '');
    if (Name === 'owner-id') return Values.includes(r.ownerId ?? ACCOUNT);
    throw awsError('InvalidParameterValue', `The filter '${Name}' is invalid (not modelled by the fake)`);
  });
}

/** OwnerIds: "self" is the caller's account. */
function ownedBy(ownerId: string, owners?: string[]): boolean {
  return !owners || owners.length === 0 || owners.some((o) => (o === 'self' ? ACCOUNT : o) === ownerId);
}

/** What `ctr images ls` reports after a pull: a reference pinned by digest gets that digest (unless the registry lies). */
export interface Faults {
  neverOnline?: boolean;
  /** An image whose pull fails. */
  pullFails?: string;
  /** An image pinned by digest whose registry serves other content (another digest). */
  wrongDigest?: string;
  snapshotError?: boolean;
  /** An image whose pull succeeds but that is missing when the images are verified. */
  vanish?: string;
  /** Regional names whose registry serves other content than the home region's (a stale replica). */
  otherContent?: string[];
  /** A parameter name whose PutParameter fails (AccessDeniedException). */
  putParameterFails?: string;
  /** How many RunInstances calls are throttled before one succeeds. */
  throttleRunInstances?: number;
  /** Bytes the data volume holds after the pulls (df on /local). @default 70 MB per image pulled */
  usedBytes?: number;
  /** The final check finds builder state left over (its output lacks CLEAN). */
  stateLeftOver?: boolean;
  /** Called on every SendCommand: lets a test interrupt the build mid-run. */
  onSendCommand?: () => void;
}

export class FakeAws {
  readonly ec2 = new EC2Client({ region: 'us-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  readonly ssm = new SSMClient({ region: 'us-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  instances = new Map<string, { state: string; tags: Tags; clientToken?: string; input: any; launchTime: Date }>();
  /** volumeId: the volume snapshotted; instanceState: its instance's state when CreateSnapshot was called. */
  snapshots = new Map<string, { state: string; polls: number; tags: Tags; ownerId: string; volumeId?: string; instanceState?: string; startTime: Date }>();
  commands = new Map<string, { status: string; stdout: string; stderr: string; polls: number; commands: string[] }>();
  params = new Map<string, string>([
    ['/aws/service/bottlerocket/aws-k8s-1.35/x86_64/latest/image_id', 'ami-0123456789abcdef0'],
    // fleet.yaml and validFleet() pin Bottlerocket 1.55.0 (issue 30): their caches build from the versioned parameter.
    ['/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.55.0/image_id', 'ami-0123456789abcdef0'],
    ['/bottlerocket-fleet/builder/instance-profile', 'bottlerocket-fleet-builder-us-west-2'],
    ['/bottlerocket-fleet/builder/security-group-id', BUILDER_SECURITY_GROUP_ID],
    ['/bottlerocket-fleet/builder/subnet-ids', BUILDER_SUBNET_IDS.join(',')],
  ]);
  /** Regions whose ECR clients were asked for an authorization token. */
  ecrTokenRegions: string[] = [];
  private readonly ecrClients = new Map<string, ECRClient>();
  calls: string[] = [];
  /** Names given to PutParameter and DeleteParameter, in order (attempts included). */
  paramWrites: string[] = [];
  paramDeletes: string[] = [];
  private n = 0;

  /** BuilderDeps.ecr: one mocked client per region; every token decodes to AWS:secret-<region>. */
  readonly ecr = (region: string): ECRClient => {
    if (!this.ecrClients.has(region)) {
      const client = new ECRClient({ region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      mockClient(client)
        .on(GetAuthorizationTokenCommand)
        .callsFake(() => {
          this.calls.push('ecr:GetAuthorizationToken');
          this.ecrTokenRegions.push(region);
          return { authorizationData: [{ authorizationToken: Buffer.from(`AWS:secret-${region}`).toString('base64') }] };
        });
      this.ecrClients.set(region, client);
    }
    return this.ecrClients.get(region)!;
  };

  /** The builder instance: shell, apiclient and ctr over containerd's k8s.io image store (one instance at a time). */
  readonly host: CtrHost;
  /** Image scripts with a pull that succeeded (the data volume's use grows with them). */
  private pulls = 0;

  /**
   * `runCommands`: where the Run Commands run instead of the ctr model, e.g. a real containerd
   * (helpers/containerd.ts).
   */
  constructor(
    readonly faults: Faults = {},
    private readonly options: { runCommands?: (commands: string[]) => { code: number; stdout: string; stderr: string } } = {},
  ) {
    // Read at each command: tests set faults after construction too.
    this.host = new CtrHost({
      get unpullable() {
        return new Set(faults.pullFails ? [faults.pullFails] : []);
      },
      get vanish() {
        return new Set(faults.vanish ? [faults.vanish] : []);
      },
      get otherContent() {
        return new Set([...(faults.otherContent ?? []), ...(faults.wrongDigest ? [faults.wrongDigest] : [])]);
      },
    });
    const ec2 = mockClient(this.ec2);
    const ssm = mockClient(this.ssm);
    const id = (prefix: string) => `${prefix}-${String(++this.n).padStart(8, '0')}`;
    const track = (name: string) => this.calls.push(name);

    ec2.on(RunInstancesCommand).callsFake((input) => {
      track('ec2:RunInstances');
      if ((this.faults.throttleRunInstances ?? 0) > 0) {
        this.faults.throttleRunInstances!--;
        throw awsError('RequestLimitExceeded', 'Request limit exceeded.');
      }
      const existing = [...this.instances.entries()].find(([, i]) => i.clientToken === input.ClientToken);
      if (existing) return { Instances: [{ InstanceId: existing[0] }] };
      const instanceId = id('i');
      this.instances.set(instanceId, {
        state: 'running',
        tags: input.TagSpecifications?.[0]?.Tags ?? [],
        clientToken: input.ClientToken,
        input,
        launchTime: new Date(),
      });
      return { Instances: [{ InstanceId: instanceId }] };
    });
    ec2.on(DescribeInstancesCommand).callsFake((input) => {
      track('ec2:DescribeInstances');
      const ids: string[] = input.InstanceIds?.length ? input.InstanceIds : [...this.instances.keys()];
      const missing = ids.filter((i) => !this.instances.has(i));
      if (missing.length > 0) throw awsError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
      const found = ids.map((i) => [i, this.instances.get(i)!] as const).filter(([, i]) => matchesFilters(i, input.Filters));
      return {
        Reservations:
          found.length === 0
            ? []
            : [
                {
                  Instances: found.map(([instanceId, i]) => ({
                    InstanceId: instanceId,
                    State: { Name: i.state },
                    Tags: i.tags,
                    LaunchTime: i.launchTime,
                    MetadataOptions: i.input?.MetadataOptions,
                    BlockDeviceMappings: [
                      { DeviceName: '/dev/xvda', Ebs: { VolumeId: `vol-os-${instanceId}` } },
                      { DeviceName: '/dev/xvdb', Ebs: { VolumeId: `vol-data-${instanceId}` } },
                    ],
                  })),
                },
              ],
      };
    });
    ec2.on(StopInstancesCommand).callsFake((input) => {
      track('ec2:StopInstances');
      this.instances.get(input.InstanceIds![0])!.state = 'stopped';
      return {};
    });
    ec2.on(TerminateInstancesCommand).callsFake((input) => {
      track('ec2:TerminateInstances');
      for (const i of input.InstanceIds!) this.instances.get(i)!.state = 'terminated';
      return {};
    });
    ec2.on(CreateSnapshotCommand).callsFake((input) => {
      track('ec2:CreateSnapshot');
      const snapshotId = id('snap');
      const owner = /^vol-(?:os|data)-(.+)$/.exec(input.VolumeId ?? '')?.[1];
      this.snapshots.set(snapshotId, {
        state: 'pending',
        polls: 0,
        tags: input.TagSpecifications?.[0]?.Tags ?? [],
        ownerId: ACCOUNT,
        volumeId: input.VolumeId,
        instanceState: owner ? this.instances.get(owner)?.state : undefined,
        startTime: new Date(),
      });
      return { SnapshotId: snapshotId };
    });
    ec2.on(DescribeSnapshotsCommand).callsFake((input) => {
      track('ec2:DescribeSnapshots');
      if (input.SnapshotIds?.length) {
        const s = this.snapshots.get(input.SnapshotIds[0]);
        if (!s) throw awsError('InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotIds[0]}' does not exist.`);
        if (++s.polls >= 2 && s.state === 'pending') s.state = this.faults.snapshotError ? 'error' : 'completed';
        return { Snapshots: [{ SnapshotId: input.SnapshotIds[0], State: s.state, Tags: s.tags, OwnerId: s.ownerId }] };
      }
      return {
        Snapshots: [...this.snapshots.entries()]
          .filter(([, s]) => ownedBy(s.ownerId, input.OwnerIds) && matchesFilters(s, input.Filters))
          .map(([SnapshotId, s]) => ({ SnapshotId, State: s.state, Tags: s.tags, OwnerId: s.ownerId, StartTime: s.startTime })),
      };
    });
    ec2.on(DeleteSnapshotCommand).callsFake((input) => {
      track('ec2:DeleteSnapshot');
      this.snapshots.delete(input.SnapshotId);
      return {};
    });

    ssm.on(GetParameterCommand).callsFake((input) => {
      track('ssm:GetParameter');
      if (!this.params.has(input.Name)) throw awsError('ParameterNotFound');
      return { Parameter: { Name: input.Name, Value: this.params.get(input.Name) } };
    });
    ssm.on(GetParametersCommand).callsFake((input) => {
      track('ssm:GetParameters');
      return {
        Parameters: input.Names!.filter((n: string) => this.params.has(n)).map((n: string) => ({ Name: n, Value: this.params.get(n) })),
        InvalidParameters: input.Names!.filter((n: string) => !this.params.has(n)),
      };
    });
    ssm.on(PutParameterCommand).callsFake((input) => {
      track('ssm:PutParameter');
      this.paramWrites.push(input.Name);
      if (this.faults.putParameterFails === input.Name) throw awsError('AccessDeniedException', `not authorized to perform ssm:PutParameter on ${input.Name}`);
      this.params.set(input.Name, input.Value);
      return { Version: 1 };
    });
    ssm.on(DeleteParameterCommand).callsFake((input) => {
      track('ssm:DeleteParameter');
      this.paramDeletes.push(input.Name);
      this.params.delete(input.Name);
      return {};
    });
    ssm.on(DescribeInstanceInformationCommand).callsFake(() => {
      track('ssm:DescribeInstanceInformation');
      return { InstanceInformationList: this.faults.neverOnline ? [] : [{ PingStatus: 'Online' }] };
    });
    ssm.on(SendCommandCommand).callsFake((input) => {
      track('ssm:SendCommand');
      this.faults.onSendCommand?.();
      const commands = input.Parameters!.commands!;
      const text = commands.join('\n');
      // Image scripts run against the same ctr model as the SSM agent proxy (ctr as containerd 2.x reads it),
      // or a real containerd; scripts on the host itself (nsenter: kubelet, kernel, data-volume use, the
      // builder's state) get fixed answers here, never a real machine's.
      let r: { code: number; stdout: string; stderr: string };
      if (text.includes('nsenter -t 1 -a')) {
        // The data volume's size: the builder's /dev/xvdb (the one instance of the build).
        const xvdbGiB = [...this.instances.values()].at(-1)?.input.BlockDeviceMappings?.find((b: any) => b.DeviceName === '/dev/xvdb')?.Ebs?.VolumeSize ?? 20;
        const stdout = text.includes('uname -r')
          ? `KERNEL 6.1.170\nDF ${this.faults.usedBytes ?? this.pulls * 70_000_000} ${xvdbGiB * 2 ** 30}`
          : text.includes('images[ ]pull')
            ? this.faults.stateLeftOver
              ? ''
              : 'CLEAN'
            : '';
        r = { code: 0, stdout, stderr: '' };
      } else {
        r = this.options.runCommands ? this.options.runCommands(commands) : this.host.run(commands);
        if (r.code === 0 && text.includes(' images pull ')) this.pulls++;
      }
      const commandId = id('cmd');
      this.commands.set(commandId, { status: r.code === 0 ? 'Success' : 'Failed', stdout: r.stdout, stderr: r.stderr, polls: 0, commands });
      return { Command: { CommandId: commandId } };
    });
    ssm.on(GetCommandInvocationCommand).callsFake((input) => {
      track('ssm:GetCommandInvocation');
      const c = this.commands.get(input.CommandId)!;
      if (c.polls++ === 0) throw awsError('InvocationDoesNotExist');
      // As AWS answers: only the first 24,000 characters of stdout and 8,000 of stderr (SSM API reference, GetCommandInvocation).
      return { Status: c.status, StandardOutputContent: c.stdout.slice(0, 24_000), StandardErrorContent: c.stderr.slice(0, 8_000) };
    });
  }

  instanceStates(): string[] {
    return [...this.instances.values()].map((i) => i.state);
  }

  /** An instance some earlier run (or another tool) left behind. */
  addInstance(o: { tags?: Record<string, string>; state?: string; launchTime: Date }): string {
    const instanceId = `i-seed${String(++this.n).padStart(8, '0')}`;
    this.instances.set(instanceId, {
      state: o.state ?? 'running',
      tags: Object.entries(o.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      input: {},
      launchTime: o.launchTime,
    });
    return instanceId;
  }

  /** A completed snapshot (ownerId: another account's, e.g. a public one, when given). */
  addSnapshot(o: { tags?: Record<string, string>; ownerId?: string } = {}): string {
    const snapshotId = `snap-seed${String(++this.n).padStart(8, '0')}`;
    this.snapshots.set(snapshotId, {
      state: 'completed',
      polls: 0,
      tags: Object.entries(o.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      ownerId: o.ownerId ?? ACCOUNT,
      startTime: new Date(),
    });
    return snapshotId;
  }
}
