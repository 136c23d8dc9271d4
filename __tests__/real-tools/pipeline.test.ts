/**
 * The image-cache pipeline as one scenario, against the AWS emulator with the real hashicorp/aws 5.100.0
 * provider and the real CLIs — the README's deploy order:
 *   1. `npm run deploy -- image-cache-builder-us-west-2 --auto-approve` (the README's deploy command: the bin's
 *      deploy, which runs `cdktf deploy`);
 *   2. `npm run cache -- build general` as a process (the SSM agent played by the loopback proxy);
 *   3. the replication stack applied with Terraform;
 *   4. every replica region's parameter names a snapshot that exists in that region;
 *   5. the Karpenter stack of a cluster in the replica region applied (EKS cluster created in the emulator
 *      first): every EC2NodeClass's snapshotID resolves to a snapshot in the cluster's region;
 *   6. second plans show no changes, except the ones the emulator itself causes (named below).
 * Steps 3 to 6 run the two stacks as child modules of one root: one init, one apply of both in cdktf's order (the
 * Karpenter stack after the replication stack), one plan for both second plans.
 */
import * as fs from 'fs';
import * as path from 'path';
import { execFile } from 'child_process';
import { parse as parseYaml, stringify } from 'yaml';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describeWithRealTools, emulatorEnv, Moto, recordRealToolRun, startMoto, terraformEnv } from '../helpers/real-tools';
import { RELAXED_GO_GC } from '../helpers/provider-server';
import { SsmAgentProxy } from '../helpers/ssm-agent-proxy';
import { TerraformBatch } from '../helpers/terraform-batch';
import { nodeClassBodies } from '../helpers/terraform-plan';
import { PROJECT_ROOT, tempDir } from '../helpers/fleet';

const CACHE_PARAM = '/bottlerocket-fleet/image-cache/general/snapshot-id';
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeout = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: PROJECT_ROOT, env, timeout, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describeWithRealTools('image-cache pipeline against the AWS emulator (build -> replicate -> Karpenter plan)', () => {
  let moto: Moto;
  let proxy: SsmAgentProxy;
  let work: string;
  let fleetFile: string;
  let tfEnv: NodeJS.ProcessEnv;
  const client = <T>(C: new (c: object) => T, region: string) => new C({ region, endpoint: moto.endpoint, credentials: creds });

  beforeAll(async () => {
    moto = await startMoto({ MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' }); // the builder stack attaches AWS-managed policies
    work = tempDir('pipeline-');
    // A cache built in us-west-2 and copied to us-east-1, where the cluster runs; a short image name (normalised at load).
    fleetFile = path.join(work, 'fleet.yaml');
    fs.writeFileSync(
      fleetFile,
      stringify({
        backend: { type: 'local', directory: path.join(work, 'state') },
        imageCaches: {
          general: { variant: 'cpu', arch: 'x86_64', homeRegion: 'us-west-2', replicaRegions: ['us-east-1'], dataVolumeGiB: 20, images: ['nginx:1.27'] },
        },
        clusters: {
          east: {
            region: 'us-east-1',
            kubernetesVersion: '1.33',
            vpc: { cidr: '10.0.0.0/16' },
            endpointPublicAccess: true,
            karpenter: { nodePools: { default: { imageCache: 'general' } } },
          },
        },
      }),
    );
    const ami = (await client(EC2Client, 'us-west-2').send(new DescribeImagesCommand({}))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
    proxy = await SsmAgentProxy.start(moto.endpoint, {
      publicParameters: {
        '/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_id': ami,
        '/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_version': '1.50.0',
      },
    });
    // GOGC=400 for Terraform and the provider processes, the README deploy's too: less CPU, same runs (provider-server.ts).
    tfEnv = terraformEnv(work, { ...emulatorEnv(moto.endpoint), ...RELAXED_GO_GC });
  }, 60_000);
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed before assigning them */
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */

  const started = Date.now();
  const step = (name: string) => process.stdout.write(`pipeline: ${name} at +${Math.round((Date.now() - started) / 1000)}s\n`);

  test('builder stack deployed with cdktf deploy, cache built, replicated, and the Karpenter stack resolves the regional copy', async () => {
    // 1. The README's deploy command (what `npm run deploy --` runs), unchanged but for the cdktf options after
    //    `--`: the offline provider lock and the output folder.
    const deploy = await run(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'bin/bottlerocket-fleet.js'),
        'deploy',
        'image-cache-builder-us-west-2',
        '--auto-approve',
        '--',
        '--skip-provider-lock',
        '--output',
        path.join(work, 'cdktf.out'),
      ],
      { ...tfEnv, FLEET_FILE: fleetFile, CI: 'true' },
      180_000,
    );
    expect({ code: deploy.code, tail: deploy.code === 0 ? '' : `${deploy.stdout.slice(-3000)}\n${deploy.stderr.slice(-3000)}` }).toEqual({ code: 0, tail: '' });
    // The fleet's 1.33 is in EKS extended support: the warning reaches the cdktf user as a warning, not as [ERROR].
    expect(deploy.stdout).toContain('WARNING clusters.east.kubernetesVersion: Kubernetes 1.33 left EKS standard support');
    expect(`${deploy.stdout}\n${deploy.stderr}`.split('\n').filter((l) => l.includes('[ERROR]'))).toEqual([]);
    const ssmWest = client(SSMClient, 'us-west-2');
    expect((await ssmWest.send(new GetParameterCommand({ Name: '/bottlerocket-fleet/builder/instance-profile' }))).Parameter?.Value).toBe(
      'bottlerocket-fleet-builder-us-west-2',
    );

    recordRealToolRun('applied', 'image-cache-builder-us-west-2');
    step('deployed the builder stack');
    // 2. The real build process, through the proxy that plays the SSM agent.
    const build = await run(process.execPath, [path.join(PROJECT_ROOT, 'bin/bottlerocket-fleet.js'), 'cache', 'build', 'general', '--json'], {
      ...process.env,
      ...emulatorEnv(proxy.endpoint),
      FLEET_FILE: fleetFile,
      BRF_POLL_INTERVAL_MS: '20',
    });
    expect({ code: build.code, stderr: build.code === 0 ? '' : build.stderr }).toEqual({ code: 0, stderr: '' });
    const [result] = JSON.parse(build.stdout);
    expect(result).toMatchObject({ ok: true, cache: 'general', snapshotId: expect.stringMatching(/^snap-/) });
    expect((await ssmWest.send(new GetParameterCommand({ Name: CACHE_PARAM }))).Parameter?.Value).toBe(result.snapshotId);

    step('built the cache');
    // 3. Replication: copies in us-east-1 and the regional parameter.
    // The stacks cdktf deploy synthesized (it writes every stack of the app). The replication and Karpenter stacks
    // are the child modules of one root (helpers/terraform-batch.ts): one init, each applied on its own (-target),
    // and one plan at the end plans both again, each judged by its own changes.
    const stacks = (name: string) => JSON.parse(fs.readFileSync(path.join(work, 'cdktf.out', 'stacks', name, 'cdk.tf.json'), 'utf8'));
    const batch = new TerraformBatch(path.join(work, 'stacks'), tfEnv);
    batch.addStack('replication', stacks('image-cache-general'));
    const karpenterStack = batch.addStack('karpenter', stacks('east-karpenter'));
    expect(await batch.init()).toBe('');
    // 5 (setup). The EKS cluster of the Karpenter stack's cluster in us-east-1, created in the emulator before the apply.
    await client(EKSClient, 'us-east-1').send(
      new CreateClusterCommand({ name: 'east', roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
    );
    // Both stacks in one apply, in cdktf's deploy order: the Karpenter stack after the replication stack (its module
    // depends on the replication module in this run), so it reads the regional parameter only once that is written.
    await batch.apply(['replication', 'karpenter'], { inOrder: true });
    recordRealToolRun('applied', 'image-cache-general');
    recordRealToolRun('applied', 'east-karpenter');

    step('applied the replication and Karpenter stacks');
    // 4. The replica region's parameter names a snapshot that exists there, copied from the build.
    const east = (await client(SSMClient, 'us-east-1').send(new GetParameterCommand({ Name: CACHE_PARAM }))).Parameter!.Value!;
    expect(east).not.toBe(result.snapshotId);
    const [copy] = (await client(EC2Client, 'us-east-1').send(new DescribeSnapshotsCommand({ SnapshotIds: [east] }))).Snapshots!;
    expect(copy.Tags).toEqual(expect.arrayContaining([{ Key: 'bottlerocket-fleet:source-snapshot', Value: result.snapshotId }]));

    step('checked the replica parameter');
    // 5. The Karpenter stack of the cluster in us-east-1 names the regional copy.
    const nodeClasses = Object.values(nodeClassBodies(batch.root, karpenterStack, 'module.karpenter')).map((y) => parseYaml(y));
    expect(nodeClasses.map((nc) => [nc.spec.role, nc.spec.blockDeviceMappings.map((b: any) => b.ebs.snapshotID).filter(Boolean)])).toEqual([
      ['KarpenterNodeRole-east', [east]],
    ]);
    // 6. Second plans of both stacks, in one Terraform run.
    const again = await batch.plan();
    // 6b. The Karpenter stack: no changes at all.
    expect(TerraformBatch.changesOf(again, 'karpenter')).toEqual({});
    // 6a. The replication stack: the only change is the emulator's. moto's CopySnapshot ignores Encrypted, so the
    // copy reads back unencrypted and Terraform wants to replace it.
    const replan = TerraformBatch.changesOf(again, 'replication');
    const emulatorCaused = ([address, actions]: [string, string]) => address.startsWith('aws_ebs_snapshot_copy.') && actions === 'delete,create';
    expect(Object.entries(replan).filter((c) => !emulatorCaused(c))).toEqual([]);
    step('planned both stacks again');
  }, 300_000);
});
