/**
 * A stateful fake of the EC2, SSM and ECR calls the image-cache builder makes, behind the real SDK clients
 * (aws-sdk-client-mock replaces their send): instances, Run Command invocations, snapshots, parameters.
 * Faults are switched on per test.
 */
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateSnapshotCommand, DeleteSnapshotCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, EC2Client,
  RunInstancesCommand, StopInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  DeleteParameterCommand, DescribeInstanceInformationCommand, GetCommandInvocationCommand, GetParameterCommand,
  GetParametersCommand, PutParameterCommand, SendCommandCommand, SSMClient,
} from '@aws-sdk/client-ssm';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name });

export interface Faults {
  neverOnline?: boolean;
  /** An image whose pull fails. */
  pullFails?: string;
  snapshotError?: boolean;
  /** How many RunInstances calls are throttled before one succeeds. */
  throttleRunInstances?: number;
  /** Called on every SendCommand: lets a test interrupt the build mid-run. */
  onSendCommand?: () => void;
}

export class FakeAws {
  readonly ec2 = new EC2Client({ region: 'us-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  readonly ssm = new SSMClient({ region: 'us-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  instances = new Map<string, { state: string; tags: { Key?: string; Value?: string }[]; clientToken?: string; input: any }>();
  snapshots = new Map<string, { state: string; polls: number; tags: { Key?: string; Value?: string }[] }>();
  commands = new Map<string, { status: string; stdout: string; stderr: string; polls: number; commands: string[] }>();
  params = new Map<string, string>([
    ['/aws/service/bottlerocket/aws-k8s-1.31/x86_64/latest/image_id', 'ami-0123456789abcdef0'],
    ['/bottlerocket-fleet/builder/instance-profile', 'bottlerocket-fleet-builder-us-west-2'],
    ['/bottlerocket-fleet/builder/security-group-id', 'sg-0123456789abcdef0'],
    ['/bottlerocket-fleet/builder/subnet-ids', 'subnet-0a,subnet-0b'],
  ]);
  /** Regions whose ECR clients were asked for an authorization token. */
  ecrTokenRegions: string[] = [];
  private readonly ecrClients = new Map<string, ECRClient>();
  calls: string[] = [];
  private n = 0;

  /** BuilderDeps.ecr: one mocked client per region; every token decodes to AWS:secret-<region>. */
  readonly ecr = (region: string): ECRClient => {
    if (!this.ecrClients.has(region)) {
      const client = new ECRClient({ region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      mockClient(client).on(GetAuthorizationTokenCommand).callsFake(() => {
        this.calls.push('ecr:GetAuthorizationToken');
        this.ecrTokenRegions.push(region);
        return { authorizationData: [{ authorizationToken: Buffer.from(`AWS:secret-${region}`).toString('base64') }] };
      });
      this.ecrClients.set(region, client);
    }
    return this.ecrClients.get(region)!;
  };

  constructor(readonly faults: Faults = {}) {
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
      this.instances.set(instanceId, { state: 'running', tags: input.TagSpecifications?.[0]?.Tags ?? [], clientToken: input.ClientToken, input });
      return { Instances: [{ InstanceId: instanceId }] };
    });
    ec2.on(DescribeInstancesCommand).callsFake((input) => {
      track('ec2:DescribeInstances');
      const i = this.instances.get(input.InstanceIds![0])!;
      return { Reservations: [{ Instances: [{ InstanceId: input.InstanceIds![0], State: { Name: i.state }, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-os' } }, { DeviceName: '/dev/xvdb', Ebs: { VolumeId: 'vol-data' } }] }] }] };
    });
    ec2.on(StopInstancesCommand).callsFake((input) => { track('ec2:StopInstances'); this.instances.get(input.InstanceIds![0])!.state = 'stopped'; return {}; });
    ec2.on(TerminateInstancesCommand).callsFake((input) => { track('ec2:TerminateInstances'); this.instances.get(input.InstanceIds![0])!.state = 'terminated'; return {}; });
    ec2.on(CreateSnapshotCommand).callsFake((input) => {
      track('ec2:CreateSnapshot');
      const snapshotId = id('snap');
      this.snapshots.set(snapshotId, { state: 'pending', polls: 0, tags: input.TagSpecifications?.[0]?.Tags ?? [] });
      return { SnapshotId: snapshotId };
    });
    ec2.on(DescribeSnapshotsCommand).callsFake((input) => {
      track('ec2:DescribeSnapshots');
      const s = this.snapshots.get(input.SnapshotIds![0])!;
      if (++s.polls >= 2) s.state = this.faults.snapshotError ? 'error' : 'completed';
      return { Snapshots: [{ SnapshotId: input.SnapshotIds![0], State: s.state }] };
    });
    ec2.on(DeleteSnapshotCommand).callsFake((input) => { track('ec2:DeleteSnapshot'); this.snapshots.delete(input.SnapshotId!); return {}; });

    ssm.on(GetParameterCommand).callsFake((input) => {
      track('ssm:GetParameter');
      if (!this.params.has(input.Name!)) throw awsError('ParameterNotFound');
      return { Parameter: { Name: input.Name, Value: this.params.get(input.Name!) } };
    });
    ssm.on(GetParametersCommand).callsFake((input) => {
      track('ssm:GetParameters');
      return { Parameters: input.Names!.filter((n: string) => this.params.has(n)).map((n: string) => ({ Name: n, Value: this.params.get(n) })), InvalidParameters: input.Names!.filter((n: string) => !this.params.has(n)) };
    });
    ssm.on(PutParameterCommand).callsFake((input) => { track('ssm:PutParameter'); this.params.set(input.Name!, input.Value!); return { Version: 1 }; });
    ssm.on(DeleteParameterCommand).callsFake((input) => { track('ssm:DeleteParameter'); this.params.delete(input.Name!); return {}; });
    ssm.on(DescribeInstanceInformationCommand).callsFake(() => {
      track('ssm:DescribeInstanceInformation');
      return { InstanceInformationList: this.faults.neverOnline ? [] : [{ PingStatus: 'Online' }] };
    });
    ssm.on(SendCommandCommand).callsFake((input) => {
      track('ssm:SendCommand');
      this.faults.onSendCommand?.();
      const commands = input.Parameters!.commands!;
      const text = commands.join('\n');
      const failing = this.faults.pullFails && text.includes(this.faults.pullFails);
      const pulled = [...this.commands.values()].filter((c) => c.status === 'Success').map((c) => /images pull .* '([^']+)'$/m.exec(c.commands.join('\n'))?.[1]).filter(Boolean);
      const commandId = id('cmd');
      this.commands.set(commandId, {
        status: failing ? 'Failed' : 'Success',
        stdout: text.includes('images ls -q\n') || text.endsWith('images ls -q') ? pulled.join('\n') : failing ? '' : 'DIGEST sha256:0123abcd',
        stderr: failing ? `ctr: failed to resolve reference "${this.faults.pullFails}": not found` : '',
        polls: 0,
        commands,
      });
      return { Command: { CommandId: commandId } };
    });
    ssm.on(GetCommandInvocationCommand).callsFake((input) => {
      track('ssm:GetCommandInvocation');
      const c = this.commands.get(input.CommandId!)!;
      if (c.polls++ === 0) throw awsError('InvocationDoesNotExist');
      return { Status: c.status, StandardOutputContent: c.stdout, StandardErrorContent: c.stderr };
    });
  }

  instanceStates(): string[] {
    return [...this.instances.values()].map((i) => i.state);
  }
}
