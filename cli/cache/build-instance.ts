/**
 * The builder instance's steps, in build order: read the AMI and the builder configuration, launch (its
 * undo: terminate, always — the instance is temporary), wait until SSM sees it, and stop it before the
 * snapshot. builder.ts runs them under their step names.
 */
import { RunInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { _InstanceType } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, GetParameterCommand, GetParametersCommand } from '@aws-sdk/client-ssm';
import { BUILDER_METADATA_OPTIONS } from '../../modules/image-cache/builder-launch';
import { builderParameters } from '../../modules/image-cache/parameters';
import type { BuildContext } from './build-context';
import { amiParameterPath, amiVersionParameterPath, builderInstanceType, builderUserData } from './plan';
import { releaseTags } from '../shared/generation-build';

export interface Ami {
  readonly imageId: string;
  /** The release tags the build records (generation-build.ts releaseTags: the raw image_version and the release). */
  readonly releaseTags: readonly { Key: string; Value: string }[];
}

export interface BuilderConfiguration {
  readonly profile: string;
  readonly securityGroup: string;
  readonly subnet: string;
}

/** A missing client must never cost an instance: checked before the launch. */
export function requireReplicaClients(b: BuildContext): void {
  if (b.cache.regions.length > 1 && !b.deps.ssmIn) b.ssmIn(b.cache.regions[1]);
}

export async function readAmi(b: BuildContext): Promise<Ami> {
  const imageId = (await b.call(() => b.deps.ssm.send(new GetParameterCommand({ Name: amiParameterPath(b.cache) })))).Parameter!.Value!;
  // Next to image_id.
  // Next to image_id: the raw image_version and the release, both recorded (generation-build.ts; missing, e.g. an
  // emulator: the pinned release, else "unknown"); an image_version of another release than the pinned one is refused.
  return { imageId, releaseTags: releaseTags(await b.getParameter(amiVersionParameterPath(b.cache)), b.cache.bottlerocketVersion) };
}

export async function readBuilderConfiguration(b: BuildContext): Promise<BuilderConfiguration> {
  const p = builderParameters();
  const r = await b.call(() => b.deps.ssm.send(new GetParametersCommand({ Names: [p.instanceProfile, p.securityGroupId, p.subnetIds] })));
  const v = Object.fromEntries((r.Parameters ?? []).map((x) => [x.Name!, x.Value!]));
  if (!v[p.instanceProfile] || !v[p.securityGroupId] || !v[p.subnetIds])
    throw new Error(`missing ${r.InvalidParameters?.join(', ')}: deploy the image-cache-builder-${b.cache.homeRegion} stack first`);
  return { profile: v[p.instanceProfile], securityGroup: v[p.securityGroupId], subnet: v[p.subnetIds].split(',')[0] };
}

/** Launches the builder; its undo (terminate) runs on success too. */
export async function launchBuilder(b: BuildContext, ami: Ami, cfg: BuilderConfiguration): Promise<string> {
  const { cache } = b;
  const tags = b.tags();
  const r = await b.call(() =>
    b.deps.ec2.send(
      new RunInstancesCommand({
        ClientToken: b.buildId, // idempotent: a retried launch never starts a second instance
        ImageId: ami.imageId,
        // The SDK's union of instance types lags EC2's list; EC2 itself rejects a name it does not know.
        InstanceType: builderInstanceType(cache) as _InstanceType,
        MinCount: 1,
        MaxCount: 1,
        IamInstanceProfile: { Name: cfg.profile },
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: cfg.subnet, Groups: [cfg.securityGroup], AssociatePublicIpAddress: false }],
        MetadataOptions: { ...BUILDER_METADATA_OPTIONS },
        UserData: Buffer.from(builderUserData(cache)).toString('base64'),
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 4, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
          { DeviceName: '/dev/xvdb', Ebs: { VolumeSize: cache.dataVolumeGiB, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
        ],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags },
          { ResourceType: 'volume', Tags: tags },
        ],
      }),
    ),
  );
  const instanceId = r.Instances![0].InstanceId!;
  // Always, on success too: the instance is temporary. Cleanup calls ignore the interrupt signal.
  b.undo.push({
    what: `terminate ${instanceId}`,
    run: () => b.call(() => b.deps.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })), null),
  });
  return instanceId;
}

export async function waitOnline(b: BuildContext, instanceId: string): Promise<void> {
  await b.poll(`instance ${instanceId} online in SSM`, b.o.onlineTimeoutMs, async () => {
    const r = await b.call(() => b.deps.ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] })));
    return r.InstanceInformationList?.[0]?.PingStatus === 'Online';
  });
}

/** Stopped, so the snapshot is of a volume nothing writes to. */
export async function stopInstance(b: BuildContext, instanceId: string): Promise<void> {
  await b.call(() => b.deps.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] })));
  await b.poll(`instance ${instanceId} stopped`, b.o.onlineTimeoutMs, async () => (await b.describeInstance(instanceId)).State?.Name === 'stopped');
}
