/**
 * `npm run rollout` scenarios against the AWS emulator (parameters, regional copies) and two fake
 * clusters with a simulated Karpenter. The engine runs in this process with a virtual clock: waiting
 * for drift and soaking take no real time.
 */
import { CreateSnapshotCommand, CreateVolumeCommand } from '@aws-sdk/client-ec2';
import { describeWithRealTools, Moto, sharedMoto } from '../helpers/real-tools';
import { P, RolloutWorld } from '../helpers/rollout-world';
import { planRollout, ANNOTATIONS, UPGRADE_ANNOTATIONS } from '../../cli/rollout/model';
import { resolveRollout, runRollout, RolloutBlocked, RolloutFailed, RolloutInterrupted } from '../../cli/rollout/engine';
import { status } from '../../cli/rollout/report';
import { rolloutKube } from '../../cli/rollout/kube-client';
import { regionApi } from '../../cli/rollout/aws';

// Virtual time, but thousands of loopback API calls per scenario: on a loaded 2-core machine that can exceed jest's 60 s default.
jest.setTimeout(240_000);

describeWithRealTools('rollout of a new image-cache generation', () => {
  let moto: Moto;
  let w: RolloutWorld;
  beforeAll(async () => {
    moto = await sharedMoto();
  }, 60_000);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
  afterAll(() => moto?.stop());
  beforeEach(() => {
    // No emulator reset between tests (it costs a second and more of CPU each): every world builds new
    // snapshots, finds copies by their source snapshot's ID and overwrites the parameters it reads.
    w = new RolloutWorld(moto.endpoint);
    // Soaks look every 10 virtual minutes, except in the tests about the soak (issue 27 item 5; rollout-world.ts).
    w.soakStepMs = 600_000;
  });
  afterEach(() => w.stop());

  const run = async (signal?: AbortSignal) => {
    const plan = planRollout(w.fleet, 'general');
    const deps = w.deps(signal);
    return runRollout(deps, plan, w.fleet.tags, await resolveRollout(deps, plan));
  };
  const writes = (cluster: string) => w.karpenter(cluster).writes;

  test("two stages succeed: every cluster parameter and node class moves to its region's copy, every node is replaced", async () => {
    await w.setUp();
    const outcomes = await run();
    expect(outcomes.map((o) => [o.stage, o.cluster, o.from, o.to, o.outcome])).toEqual([
      ['canary', 'ml-train', w.gen.homeOld, w.gen.homeNew, 'rolled-out'],
      ['production', 'payments-prod', w.gen.copyOld, w.gen.copyNew, 'rolled-out'],
    ]);
    expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(w.gen.homeNew);
    expect(await w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(w.gen.copyNew);
    for (const [cluster, snap] of [
      ['ml-train', w.gen.homeNew],
      ['payments-prod', w.gen.copyNew],
    ] as const) {
      const k = w.karpenter(cluster);
      for (const [pool, cls] of k.nodeClasses) {
        expect(k.snapshotOf(pool)).toBe(snap);
        expect(cls.annotations).toMatchObject({ [ANNOTATIONS.target]: w.gen.homeNew, [ANNOTATIONS.state]: 'done' });
        expect([...k.nodeClaims.values()].filter((c) => c.pool === pool).every((c) => c.hash === cls.annotations['karpenter.k8s.aws/ec2nodeclass-hash'])).toBe(
          true,
        );
      }
      // Node classes are applied exactly as the kubectl provider applies them: server-side, field manager "kubectl", no force.
      const applies = writes(cluster).filter((x) => x.contentType?.startsWith('application/apply-patch'));
      expect(applies.length).toBeGreaterThan(0);
      expect(applies.every((x) => x.fieldManager === 'kubectl' && x.force === 'false')).toBe(true);
    }
    // Drifted budget "1": never more than one replacement at a time in a 3-node pool — soak and convergence took virtual time only.
    // (3 nodes plus the one replacement in flight; never two.)
    expect(w.log.join('\n')).toMatch(/default 1\/4 nodes on the new hash and initialized/);
    expect(w.log.join('\n')).not.toMatch(/default \d\/5 nodes/);
    const rows = await status(planRollout(w.fleet, 'general'), { aws: regionApi, kube: rolloutKube });
    expect(rows.map((r) => [r.cluster, r.snapshot, r.generation, r.state, r.converged])).toEqual([
      ['ml-train', w.gen.homeNew, w.gen.homeNew, 'done', true],
      ['payments-prod', w.gen.copyNew, w.gen.homeNew, 'done', true],
    ]);
  });

  test('the canary fails health: it is rolled back and production is never touched', async () => {
    await w.setUp();
    w.karpenter('ml-train').faults.failPulls = true;
    const error = await run().catch((e) => e);
    expect(error).toBeInstanceOf(RolloutFailed);
    expect(error).toMatchObject({ stage: 'canary', cluster: 'ml-train', pool: 'default' });
    expect(error.reason).toMatch(/pod default\/app-default-\d+ on new node ip-10-0-0-\d+ is in ErrImagePull/);
    expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(w.gen.homeOld);
    for (const pool of ['default', 'batch']) {
      expect(w.karpenter('ml-train').snapshotOf(pool)).toBe(w.gen.homeOld);
      expect(w.karpenter('ml-train').nodeClasses.get(pool)!.annotations[ANNOTATIONS.state]).toBe('rolled-back');
    }
    expect(await w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(w.gen.copyOld);
    expect(writes('payments-prod')).toEqual([]);
    expect(w.karpenter('payments-prod').snapshotOf('default')).toBe(w.gen.copyOld);
  });

  test('production fails after the canary was rolled out: production rolls back, the canary stays, and the failure names it', async () => {
    await w.setUp();
    w.karpenter('payments-prod').faults.failPulls = true;
    const error = await run().catch((e) => e);
    expect(error).toBeInstanceOf(RolloutFailed);
    expect(error).toMatchObject({ stage: 'production', cluster: 'payments-prod' });
    expect(error.completed.map((o: any) => [o.stage, o.cluster, o.outcome])).toEqual([
      ['canary', 'ml-train', 'rolled-out'],
      ['production', 'payments-prod', 'rolled-back'],
    ]);
    expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(w.gen.homeNew);
    expect(await w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(w.gen.copyOld);
  });

  test('--to a snapshot that is not a build of the cache is refused before anything is touched', async () => {
    await w.setUp();
    const home = w.ec2('us-west-2');
    const vol = await home.send(new CreateVolumeCommand({ AvailabilityZone: 'us-west-2a', Size: 100 }));
    const stranger = (await home.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }))).SnapshotId!;
    const plan = planRollout(w.fleet, 'general');
    await expect(resolveRollout(w.deps(), plan, stranger)).rejects.toThrow(
      /^--to \S+ names snapshot \S+, which is not encrypted; has no bottlerocket-fleet:cache tag \(a build of cache general carries bottlerocket-fleet:cache=general\); has no bottlerocket-fleet:build-id tag; is not a build \/bottlerocket-fleet\/image-cache\/general\/snapshot-id-history \(us-west-2\) names: .*; nothing was changed$/,
    );
    // A build of the cache is accepted.
    expect((await resolveRollout(w.deps(), plan, w.gen.homeOld)).source).toBe(w.gen.homeOld);
    expect(writes('ml-train')).toEqual([]);
  });

  test('new nodes that never become Ready fail the stage after healthTimeout, and the rollback deletes their NodeClaims', async () => {
    await w.setUp();
    w.karpenter('ml-train').faults.newNodesNotReady = true;
    const error = await run().catch((e) => e);
    expect(error).toBeInstanceOf(RolloutFailed);
    expect(error).toMatchObject({ stage: 'canary', cluster: 'ml-train', pool: 'default' });
    expect(error.reason).toMatch(/^node ip-10-0-0-\d+ not initialized [\d.]+s after launch \(NodeNotReady\) \(limit 1200\.0s\)$/);
    // Karpenter would keep them forever (no initialization timeout): the rollback removed them.
    expect([...w.karpenter('ml-train').nodeClaims.values()].filter((c) => !c.initialized)).toEqual([]);
    expect(error.leftovers).toEqual([]);
    expect(w.karpenter('ml-train').snapshotOf('default')).toBe(w.gen.homeOld);
    expect(writes('payments-prod')).toEqual([]);
  });

  /** During the canary's soak, one of its nodes goes NotReady for `minutes` (a scale-up or a reboot looks like this). */
  const nodeNotReadyDuringSoak = (minutes: number) => {
    w.soakStepStages = ['production']; // the canary's soak is the subject: it looks at every poll
    const k = w.karpenter('ml-train');
    let since: number | undefined;
    k.onStep = () => {
      if (!w.log.some((l) => l.startsWith('stage canary: soaking'))) return;
      const node = [...k.nodes.values()][0];
      since ??= w.clock;
      node.ready = w.clock - since >= minutes * 60_000;
    };
  };

  test('a node NotReady for a while during the soak is no failure: the soak goes on and the rollout finishes', async () => {
    await w.setUp();
    nodeNotReadyDuringSoak(10); // healthTimeout is 20m
    const outcomes = await run();
    expect(outcomes.map((o) => o.outcome)).toEqual(['rolled-out', 'rolled-out']);
    expect(w.log.join('\n')).toMatch(/ml-train: converged/);
  });

  test('a workload short of replicas for longer than healthTimeout during the soak rolls the canary back', async () => {
    await w.setUp();
    w.soakStepMs = undefined; // the soak is the subject: it looks at every poll
    const k = w.karpenter('ml-train');
    let deleted = false;
    k.onStep = () => {
      if (deleted || !w.log.some((l) => l.startsWith('stage canary: soaking'))) return;
      k.pods.delete([...k.pods.keys()].find((key) => key.startsWith('default/app-default-'))!); // its Deployment stays one replica short
      deleted = true;
    };
    const error = await run().catch((e) => e);
    expect(error).toBeInstanceOf(RolloutFailed);
    expect(error).toMatchObject({ stage: 'canary', cluster: 'ml-train' });
    expect(error.reason).toBe('during the soak, for longer than healthTimeout (1200.0s): Deployment default/app-default 2/3 available');
    expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(w.gen.homeOld);
    expect(writes('payments-prod')).toEqual([]);
  });

  test('interrupted mid-stage, the state is consistent; a re-run resumes and finishes', async () => {
    await w.setUp();
    const controller = new AbortController();
    let steps = 0;
    w.karpenter('ml-train').onStep = () => {
      if (++steps === 2) controller.abort();
    };
    await expect(run(controller.signal)).rejects.toBeInstanceOf(RolloutInterrupted);
    // Parameter and node classes agree on the new generation; progress says where it stopped.
    expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(w.gen.homeNew);
    const k = w.karpenter('ml-train');
    expect(k.snapshotOf('default')).toBe(w.gen.homeNew);
    expect(k.nodeClasses.get('default')!.annotations).toMatchObject({ [ANNOTATIONS.state]: 'applied', [ANNOTATIONS.previous]: w.gen.homeOld });
    expect(writes('payments-prod')).toEqual([]);

    w.karpenter('ml-train').onStep = undefined;
    w.log.length = 0;
    const outcomes = await run();
    expect(w.log[1]).toMatch(/ml-train \(us-west-2\): resuming; .*clusters\/ml-train: .* -> /);
    // The previous value is still the one before the first run, so a failure now would restore it.
    expect(outcomes.map((o) => [o.cluster, o.from, o.outcome])).toEqual([
      ['ml-train', w.gen.homeOld, 'rolled-out'],
      ['payments-prod', w.gen.copyOld, 'rolled-out'],
    ]);
    // A third run finds everything done and writes nothing.
    const before = writes('ml-train').length + writes('payments-prod').length;
    expect((await run()).map((o) => o.outcome)).toEqual(['already-current', 'already-current']);
    expect(writes('ml-train').length + writes('payments-prod').length).toBe(before);
  });

  test('an upgrade in progress on a cluster refuses the rollout before its first write (one change of the node image at a time)', async () => {
    await w.setUp();
    const cls = w.karpenter('payments-prod').nodeClasses.get('default')!;
    cls.annotations[UPGRADE_ANNOTATIONS.target] = 'bottlerocket@v1.56.0';
    cls.annotations[UPGRADE_ANNOTATIONS.state] = 'applied';
    const error = await run().catch((e) => e);
    expect(error).toBeInstanceOf(RolloutBlocked);
    expect(error.message).toContain(
      'cluster payments-prod: an upgrade to bottlerocket@v1.56.0 is applied on EC2NodeClass default; let it finish (npm run upgrade -- apply), then re-run',
    );
    expect(writes('ml-train')).toEqual([]);
    expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(w.gen.homeOld);
  });

  test('a region lacks the copy: nothing is touched and the replication stack is named', async () => {
    await w.setUp(undefined, { missingNewCopy: true });
    const error = await run().catch((e) => e);
    expect(error).toBeInstanceOf(RolloutBlocked);
    expect(error.message).toMatch(
      new RegExp(`nothing was changed: us-east-1 has no copy of ${w.gen.homeNew} \\(needed by cluster payments-prod\\)\\. Apply the image-cache-general stack`),
    );
    expect(writes('ml-train')).toEqual([]);
    expect(writes('payments-prod')).toEqual([]);
    expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(w.gen.homeOld);
  });
});
