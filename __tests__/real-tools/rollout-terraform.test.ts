/**
 * After `npm run rollout`, real Terraform (aws 5.100.0, against the emulator) applies to the node classes
 * exactly what the rollout already applied: the Karpenter stack reads the cluster's parameter, which the
 * rollout wrote, and renders the EC2NodeClass with the same renderer. So the plan after a rollout changes
 * only the node classes' yaml_body in state, to the bytes already in the cluster (a no-op for the API
 * server: same object, same field manager), and nothing else.
 *
 * The kubectl provider is not available offline: its kubectl_manifest stands in as terraform_data with the
 * same expressions (helpers/terraform-offline.ts), so what Terraform would send is its input's yaml_body.
 *
 * Both stacks are cases of one Terraform root (helpers/terraform-batch.ts; issue 27 item 5): one `init`, the
 * Karpenter stack's apply, and ONE plan after the rollout for both (4 Terraform processes, not 6). The
 * replication case must see the parameters as they were before the rollout, so its fleet keeps cache `general`'s
 * parameters under a path of its own (`parameterPath`) holding that state; the rollout writes only the world's.
 */
import { parse } from 'yaml';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { describeWithRealTools, emulatorEnv, recordRealToolRun, terraformEnv } from '../helpers/real-tools';
import { P, useRolloutWorld } from '../helpers/rollout-world';
import { rolloutFleet } from '../helpers/rollout-fixtures';
import { fleetFrom, synthFleet, tempDir } from '../helpers/fleet';
import { RELAXED_GO_GC } from '../helpers/provider-server';
import { BatchRun, TerraformBatch } from '../helpers/terraform-batch';
import { nodeClassBodies } from '../helpers/terraform-plan';
import { planRollout } from '../../cli/rollout/model';
import { resolveRollout, runRollout } from '../../cli/rollout/engine';
import { renderNodeClass } from '../../modules/karpenter/rendered-node-class';

/** Where the replication case's fleet keeps cache general's parameters (the world's, as they were before the rollout). */
const HELD = '/bottlerocket-fleet/image-cache/rollout-terraform-held/snapshot-id';
const KARPENTER = 'ml-train-karpenter';
const REPLICATION = 'image-cache-general';

describeWithRealTools('terraform plan after a rollout (real Terraform against the emulator)', () => {
  const world = useRolloutWorld();

  /** What the scenario saw at each step, for the two tests. */
  interface Scenario {
    /** A build newer than the one both clusters run, older than the newest. */
    homeMid: string;
    /** The node classes' bodies in state after the apply (address -> yaml_body). */
    appliedBodies: Record<string, string>;
    /** ml-train's parameter after the rollout. */
    parameterAfterRollout?: string;
    /** The one plan of both cases, after the rollout. */
    plan: BatchRun;
  }
  let scenario: Promise<Scenario> | undefined;
  /** The scenario, run once for both tests (each asserts its own part). */
  const run = () => (scenario ??= runScenario());

  const runScenario = async (): Promise<Scenario> => {
    const w = world.w;
    const cluster = w.fleet.clusters.find((c) => c.name === 'ml-train')!;
    // Two newer builds than the one both clusters run (homeOld): the retention window (2) alone would drop it.
    // The replication case's parameters: the world's before the rollout, with that history.
    const homeMid = await w.build('general-mid');
    const held: [string, string, string][] = [
      ['us-west-2', HELD, w.gen.homeNew],
      ['us-west-2', `${HELD}-history`, JSON.stringify([w.gen.homeNew, homeMid, w.gen.homeOld])],
      ['us-east-1', HELD, w.gen.copyNew ?? w.gen.copyOld],
      ['us-west-2', `${HELD}/clusters/ml-train`, w.gen.homeOld],
      ['us-east-1', `${HELD}/clusters/payments-prod`, w.gen.copyOld],
    ];
    await Promise.all(held.map(([region, name, value]) => w.putParameter(region, name, value)));
    const heldFleet = rolloutFleet();
    heldFleet.imageCaches.general.parameterPath = HELD;
    for (const c of Object.values<any>(heldFleet.clusters)) delete c.trustedCertificates;

    await new EKSClient({ region: cluster.region, endpoint: world.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }).send(
      new CreateClusterCommand({ name: cluster.name, roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
    );
    const root = tempDir('rollout-terraform-');
    const batch = new TerraformBatch(root, terraformEnv(root, { ...emulatorEnv(world.moto.endpoint), ...RELAXED_GO_GC }));
    const offline = batch.addStack(KARPENTER, synthFleet(w.fleet, [KARPENTER])[KARPENTER]);
    batch.addStack(REPLICATION, synthFleet(fleetFrom(heldFleet), [REPLICATION])[REPLICATION]);
    const init = await batch.init();
    if (init) throw new Error(init);

    // The Karpenter stack as deployed before the rollout: its node classes carry the cluster parameter's snapshot.
    await batch.apply([KARPENTER]);
    recordRealToolRun('applied', KARPENTER);
    const appliedBodies = nodeClassBodies(root, offline, `module.${KARPENTER}`);

    // The rollout moves the cluster parameter and the node classes to the new generation (its soaks looking every
    // 10 virtual minutes: they are not what this suite is about; rollout-world.ts).
    w.soakStepMs = 600_000;
    const plan = planRollout(w.fleet, 'general');
    const deps = w.deps();
    await runRollout(deps, plan, w.fleet.tags, await resolveRollout(deps, plan));
    const parameterAfterRollout = await w.param('us-west-2', `${P}/clusters/ml-train`);
    return { homeMid, appliedBodies, parameterAfterRollout, plan: await batch.plan({ values: true }) };
  };

  test('replication keeps the copies clusters held back by a rollout still run, beyond retainGenerations', async () => {
    const { homeMid, plan } = await run();
    const copies = Object.keys(TerraformBatch.changesOf(plan, REPLICATION))
      .filter((a) => a.startsWith('aws_ebs_snapshot_copy.'))
      .map((a) => /\["(snap-[0-9a-f]+)"\]$/.exec(a)![1])
      .sort();
    // The newest two, and homeOld: ml-train's parameter names it, payments-prod's names its copy (tagged with it).
    expect(copies).toEqual([world.w.gen.homeNew, homeMid, world.w.gen.homeOld].sort());
  }, 300_000);

  test('the next plan changes only the node classes, to exactly the bytes the rollout applied', async () => {
    const { appliedBodies, parameterAfterRollout, plan } = await run();
    const cluster = world.w.fleet.clusters.find((c) => c.name === 'ml-train')!;
    const pools = cluster.karpenter!.nodePools;
    const rendered = (snapshot: string) => pools.map((p) => renderNodeClass(world.w.fleet.tags, cluster, p, snapshot).yaml).sort();
    // Before the rollout, the applied node classes carry the old generation.
    expect(Object.values(appliedBodies).sort()).toEqual(rendered(world.w.gen.homeOld));
    expect(parameterAfterRollout).toBe(world.w.gen.homeNew);

    // The plan: only the EC2NodeClass stand-ins change (NodePools, charts, IAM untouched), and what Terraform
    // would write is byte for byte the rollout's rendering, and the object the rollout applied.
    TerraformBatch.changesOf(plan, KARPENTER); // throws with Terraform's diagnostics when the case failed to plan
    const changes = plan.cases[KARPENTER].values!;
    const nodeClassAddresses = Object.keys(appliedBodies).sort();
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
  }, 300_000);
});
