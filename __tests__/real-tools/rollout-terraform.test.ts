/**
 * After `npm run rollout`, real Terraform (aws 5.100.0, against the emulator) applies to the node classes
 * exactly what the rollout already applied: the Karpenter stack reads the cluster's parameter, which the
 * rollout wrote, and renders the EC2NodeClass with the same renderer. So the plan after a rollout changes
 * only the node classes' yaml_body in state, to the bytes already in the cluster (a no-op for the API
 * server: same object, same field manager), and nothing else.
 *
 * The kubectl provider is not available offline: its kubectl_manifest stands in as terraform_data with the
 * same expressions (helpers/terraform-offline.ts), so what Terraform would send is its input's yaml_body.
 */
import * as path from 'path';
import { parse } from 'yaml';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { describeWithRealTools, emulatorEnv, recordRealToolRun, terraformEnv } from '../helpers/real-tools';
import { P, useRolloutWorld } from '../helpers/rollout-world';
import { synthFleet, tempDir } from '../helpers/fleet';
import { RELAXED_GO_GC } from '../helpers/provider-server';
import { applyStack, nodeClassBodies, plannedChanges, plannedValues, prepareForPlanning } from '../helpers/terraform-plan';
import { planRollout } from '../../cli/rollout/model';
import { resolveRollout, runRollout } from '../../cli/rollout/engine';
import { renderNodeClass } from '../../modules/karpenter/rendered-node-class';

describeWithRealTools('terraform plan after a rollout (real Terraform against the emulator)', () => {
  const world = useRolloutWorld();
  /** The rollout fleet's stacks, synthesized once for both tests. */
  let synthesized: Record<string, any> | undefined;
  const stacks = () => (synthesized ??= synthFleet(world.w.fleet));

  test('replication keeps the copies clusters held back by a rollout still run, beyond retainGenerations', async () => {
    // Two newer builds than the one both clusters run (homeOld): the retention window (2) alone would drop it.
    const homeMid = await world.w.build('general-mid');
    await world.w.ssm('us-west-2').send(
      new PutParameterCommand({
        Name: `${P}-history`,
        Value: JSON.stringify([world.w.gen.homeNew, homeMid, world.w.gen.homeOld]),
        Type: 'String',
        Overwrite: true,
      }),
    );
    const dir = path.join(tempDir('replication-held-'), 'image-cache-general');
    const env = terraformEnv(path.dirname(dir), { ...emulatorEnv(world.moto.endpoint), ...RELAXED_GO_GC });
    await prepareForPlanning(stacks()['image-cache-general'], dir, env);
    const copies = Object.keys(await plannedChanges(dir, env))
      .filter((a) => a.startsWith('aws_ebs_snapshot_copy.'))
      .map((a) => /\["(snap-[0-9a-f]+)"\]$/.exec(a)![1])
      .sort();
    // The newest two, and homeOld: ml-train's parameter names it, payments-prod's names its copy (tagged with it).
    expect(copies).toEqual([world.w.gen.homeNew, homeMid, world.w.gen.homeOld].sort());
  }, 180_000);

  test('the next plan changes only the node classes, to exactly the bytes the rollout applied', async () => {
    const cluster = world.w.fleet.clusters.find((c) => c.name === 'ml-train')!;
    const pools = cluster.karpenter!.nodePools;
    const dir = path.join(tempDir('rollout-terraform-'), 'ml-train-karpenter');
    const env = terraformEnv(path.dirname(dir), { ...emulatorEnv(world.moto.endpoint), ...RELAXED_GO_GC });
    await new EKSClient({ region: cluster.region, endpoint: world.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }).send(
      new CreateClusterCommand({ name: cluster.name, roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
    );

    // The stack as deployed before the rollout: its node classes carry the cluster parameter's snapshot.
    const offline = await prepareForPlanning(stacks()['ml-train-karpenter'], dir, env);
    await applyStack(dir, env);
    recordRealToolRun('applied', 'ml-train-karpenter');
    const rendered = (snapshot: string) => pools.map((p) => renderNodeClass(world.w.fleet.tags, cluster, p, snapshot).yaml).sort();
    expect(Object.values(nodeClassBodies(dir, offline)).sort()).toEqual(rendered(world.w.gen.homeOld));

    // The rollout moves the cluster parameter and the node classes to the new generation.
    const plan = planRollout(world.w.fleet, 'general');
    const deps = world.w.deps();
    await runRollout(deps, plan, world.w.fleet.tags, await resolveRollout(deps, plan));
    expect(await world.w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(world.w.gen.homeNew);

    // The plan: only the EC2NodeClass stand-ins change (NodePools, charts, IAM untouched), and what Terraform
    // would write is byte for byte the rollout's rendering, and the object the rollout applied.
    const changes = await plannedValues(dir, env);
    const nodeClassAddresses = Object.keys(nodeClassBodies(dir, offline)).sort();
    expect(Object.keys(changes).sort()).toEqual(nodeClassAddresses);
    expect(Object.values(changes).map((c) => c.actions)).toEqual(nodeClassAddresses.map(() => 'update'));
    const after = Object.values(changes)
      .map((c) => c.after.input.yaml_body as string)
      .sort();
    expect(after).toEqual(rendered(world.w.gen.homeNew));
    const applied = world.w.karpenter('ml-train').writes.filter((x) => x.contentType?.startsWith('application/apply-patch'));
    for (const yaml of after) {
      const manifest = parse(yaml);
      const last = applied.filter((x) => x.body?.metadata?.name === manifest.metadata.name).at(-1);
      expect(last?.body.spec).toEqual(manifest.spec);
    }
  }, 180_000);
});
