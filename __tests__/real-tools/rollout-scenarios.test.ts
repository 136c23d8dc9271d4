/**
 * `npm run rollout` scenarios against the AWS emulator (parameters, regional copies) and two fake
 * clusters with a simulated Karpenter. The engine runs in this process with a virtual clock: waiting
 * for drift and soaking take no real time.
 *
 * The second block runs the rollout against a Karpenter that blocks, as v1.14.1 does (fake-karpenter.ts, each
 * rule citing its upstream file): blocked is not unhealthy, budgets as Karpenter computes them, Initialized and
 * not Ready, the hash-version migration, an exact rollback that leaves nothing behind, and atomic writes. (It was
 * rollout-karpenter.test.ts: one file loads the engine, the Kubernetes client and the SDK once, issue 27 item 5.)
 *
 * The last block is `npm run rollout` as a process (it was rollout-cli.test.ts): help, usage errors, and
 * --dry-run against the emulator (reads only); the JSON dry run and status run the same main() in-process (a
 * process costs seconds of CPU to start).
 */
import * as path from 'path';
import { execFile } from 'child_process';
import { CreateSnapshotCommand, CreateVolumeCommand } from '@aws-sdk/client-ec2';
import { describeWithRealTools, Moto, sharedMoto } from '../helpers/real-tools';
import { Generations, P, RolloutWorld, useRolloutWorld } from '../helpers/rollout-world';
import { rolloutFleet } from '../helpers/rollout-fixtures';
import { fleetFrom, PROJECT_ROOT } from '../helpers/fleet';
import { captureMain } from '../helpers/capture';
import { TICK_MS } from '../helpers/fake-karpenter';
import { planRollout, ANNOTATIONS, UPGRADE_ANNOTATIONS } from '../../cli/rollout/model';
import { resolveRollout, runRollout, RolloutApplyFailed, RolloutBlocked, RolloutFailed, RolloutHeld, RolloutInterrupted } from '../../cli/rollout/engine';
import { dryRun, status, withDrift } from '../../cli/rollout/report';
import { rolloutKube } from '../../cli/rollout/kube-client';
import { regionApi } from '../../cli/rollout/aws';
import { main } from '../../cli/rollout/main';

// Virtual time, but thousands of loopback API calls per scenario: on a loaded 2-core machine that can exceed jest's 60 s default.
jest.setTimeout(240_000);

/**
 * A new world for each test of the block, on the worker's emulator and the block's one set of snapshot generations.
 * No emulator reset between tests (it costs a second and more of CPU each): the worlds share the block's snapshots
 * (a rollout only reads them; the world without the new copy builds its own) and each overwrites the parameters it
 * reads. Soaks look every 10 virtual minutes (issue 27 item 5; rollout-world.ts); the tests about the soak set it back.
 */
function worldPerTest(use: (w: RolloutWorld) => void): void {
  let moto: Moto;
  let generations: Generations;
  let current: RolloutWorld;
  beforeAll(async () => {
    moto = await sharedMoto();
    generations = await new RolloutWorld(moto.endpoint).buildGenerations();
  }, 60_000);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
  afterAll(() => moto?.stop());
  beforeEach(() => {
    current = new RolloutWorld(moto.endpoint);
    current.generations = generations;
    current.soakStepMs = 600_000;
    use(current);
  });
  afterEach(() => current.stop());
}

/** Plans the rollout of cache general in world `w` and runs it (the engine itself, no command). */
async function rollOut(w: RolloutWorld, signal?: AbortSignal) {
  const plan = planRollout(w.fleet, 'general');
  const deps = w.deps(signal);
  return runRollout(deps, plan, w.fleet.tags, await resolveRollout(deps, plan));
}

describeWithRealTools('rollout of a new image-cache generation', () => {
  let w!: RolloutWorld;
  worldPerTest((world) => (w = world));
  const run = (signal?: AbortSignal) => rollOut(w, signal);
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

const HASH = 'karpenter.k8s.aws/ec2nodeclass-hash';

describeWithRealTools('the rollout against Karpenter as it really behaves', () => {
  // No test here is about the soak.
  let w!: RolloutWorld;
  worldPerTest((world) => (w = world));
  const run = () => rollOut(w);
  const k = () => w.karpenter('ml-train');
  const param = () => w.param('us-west-2', `${P}/clusters/ml-train`);
  const applies = () => k().writes.filter((x) => x.contentType?.startsWith('application/apply-patch'));

  const expectBlockedNotRolledBack = async (error: unknown) => {
    // No rollback: the parameter and the classes stay on the new generation, progress says blocked.
    expect(await param()).toBe(w.gen.homeNew);
    expect(k().snapshotOf('default')).toBe(w.gen.homeNew);
    expect(error).toBeInstanceOf(RolloutHeld);
    expect(k().nodeClasses.get('default')!.annotations[ANNOTATIONS.state]).toBe('blocked');
    expect(k().nodeClasses.get('default')!.annotations[ANNOTATIONS.reason]).toBe((error as Error).message);
    expect(w.karpenter('payments-prod').writes).toEqual([]);
  };

  test('a node held by a PodDisruptionBudget at 0 makes the rollout report blocked, naming the PDB, with no rollback; a re-run after the fix finishes', async () => {
    await w.setUp();
    k().pdbs.push({ namespace: 'default', name: 'web', matchLabels: { app: 'default' }, disruptionsAllowed: 0 });
    const error = await run().catch((e) => e);
    await expectBlockedNotRolledBack(error);
    expect(error.message).toMatch(/^stage canary, cluster ml-train: no node replaced for [\d.]+s, and Karpenter holds the rest: /);
    expect(error.message).toContain('PodDisruptionBudget default/web allows 0 disruptions (pod default/app-default-');
    expect(error.message).toContain('To do: kubectl get pdb -n default web');
    expect(error.holds.every((h: { pool: string }) => h.pool === 'default')).toBe(true); // pool batch was not held and converged
    expect(w.log.join('\n')).toMatch(/batch 3\/3 nodes on the new hash and initialized/);

    k().pdbs.length = 0;
    w.log.length = 0;
    expect((await run()).map((o) => o.outcome)).toEqual(['rolled-out', 'rolled-out']);
    expect(w.log[1]).toMatch(/ml-train \(us-west-2\): resuming/);
  });

  test('a pod and a node with karpenter.sh/do-not-disrupt make the rollout report blocked, naming them', async () => {
    await w.setUp();
    const pod = [...k().pods.values()].find((p) => p.owner === 'app-default')!;
    pod.annotations['karpenter.sh/do-not-disrupt'] = 'true';
    const batchNode = k().nodes.get(k().claimsOf('batch')[0].nodeName!)!;
    batchNode.annotations['karpenter.sh/do-not-disrupt'] = 'true';
    const error = await run().catch((e) => e);
    await expectBlockedNotRolledBack(error);
    expect(error.message).toContain(`pod default/${pod.name} on ${pod.nodeName} carries karpenter.sh/do-not-disrupt=true`);
    expect(error.message).toContain(`node ${batchNode.name} carries karpenter.sh/do-not-disrupt=true`);
    expect(error.message).toContain(`kubectl annotate node ${batchNode.name} karpenter.sh/do-not-disrupt-`);
  });

  test('one NotReady old node uses up a drift budget of 1, and the rollout says so', async () => {
    await w.setUp();
    const claim = k().claimsOf('default')[0];
    const old = k().nodes.get(claim.nodeName!)!;
    claim.fault = 'notReady'; // stays NotReady
    old.ready = false; // initialized, NotReady: counted as disrupting (disruption/helpers.go)
    const error = await run().catch((e) => e);
    await expectBlockedNotRolledBack(error);
    expect(error.message).toContain(`pool default: NodePool default's drift budget of 1 (nodes 10%) is used up by NotReady node(s) ${old.name}`);
    expect(
      k()
        .claimsOf('default')
        .every((c) => c.hash !== k().nodeClasses.get('default')!.annotations[HASH]),
    ).toBe(true); // none replaced
  });

  test('an EC2NodeClass that is not Ready is named as the hold, not rolled back', async () => {
    await w.setUp();
    k().nodeClasses.get('default')!.ready = { status: 'False', message: 'SubnetsNotFound' };
    const error = await run().catch((e) => e);
    await expectBlockedNotRolledBack(error);
    expect(error.message).toContain('EC2NodeClass default is not Ready (False NotReady: SubnetsNotFound), so Karpenter launches no replacement');
  });

  test('a scheduled Drifted budget outside its window does not confine drift: the dry run and Karpenter both see the pool-wide budget', async () => {
    const f = rolloutFleet();
    f.clusters['ml-train'].karpenter.nodePools.default.disruptionBudgets = [
      { nodes: '100%' },
      { nodes: '1', reasons: ['Drifted'], schedule: '0 22 * * *', duration: '2h' }, // the world's clock is 12:00 UTC
    ];
    await w.setUp(f);
    const plan = planRollout(w.fleet, 'general');
    const stages = await withDrift(dryRun(plan, await resolveRollout(w.deps(), plan)), (c) => rolloutKube(c), w.clock);
    expect(stages[0].clusters[0].drift).toContainEqual({ pool: 'default', nodes: 3, allowed: 3, disrupting: [], concurrency: 3, limitedBy: 'nodes 100%' });
    expect(stages[0].clusters[0].drift).toContainEqual({
      pool: 'batch',
      nodes: 3,
      allowed: 1,
      disrupting: [],
      concurrency: 1,
      limitedBy: 'nodes 10%',
    });
    let inFlight = 0;
    k().onStep = (s) => {
      inFlight = Math.max(inFlight, s.claimsOf('default').length - 3);
    };
    await run();
    expect(inFlight).toBeGreaterThan(1); // more than one replacement at a time: the windowed "1" did not apply
  });

  test('after a rollback with NotReady new nodes, a re-run neither fails at once nor counts them', async () => {
    await w.setUp();
    k().faults.newNodesNotReady = true;
    // The rollback cannot delete them this time (the API refuses), so it reports them by name.
    w.clusters.get('ml-train')!.kube.faults.push({ method: 'DELETE', path: /\/nodeclaims\//, answer: 503, times: 1000 });
    const first = await run().catch((e) => e);
    expect(first).toBeInstanceOf(RolloutFailed);
    const stranded = k()
      .claimsOf('default')
      .filter((c) => !c.initialized);
    expect(stranded.length).toBeGreaterThan(0);

    // Fixed image, API healthy again: the re-run removes the leftovers first and converges on fresh nodes.
    w.clusters.get('ml-train')!.kube.faults.length = 0;
    k().faults.newNodesNotReady = false;
    w.log.length = 0;
    const outcomes = await run();
    expect(outcomes.map((o) => o.outcome)).toEqual(['rolled-out', 'rolled-out']);
    expect(w.log.join('\n')).toContain(`deleting NodeClaims of the failed generation that never initialized: ${stranded.map((c) => c.name).join(', ')}`);
    for (const c of stranded) expect(k().nodeClaims.has(c.name)).toBe(false);
    expect(first.leftovers.join('\n')).toContain(`NodeClaim ${stranded[0].name} (node ${stranded[0].nodeName}) of the failed generation never initialized`);
  });

  test('a hash-version migration does not count as convergence: the rollout refuses before writing', async () => {
    await w.setUp();
    // As after an upgrade from Karpenter <= 1.11: class and NodeClaims on an older hash version, not migrated yet.
    for (const pool of ['default', 'batch']) {
      k().nodeClasses.get(pool)!.annotations['karpenter.k8s.aws/ec2nodeclass-hash-version'] = 'v4';
      for (const c of k().claimsOf(pool)) c.hashVersion = 'v4';
    }
    const error = await run().catch((e) => e);
    expect(error).toBeInstanceOf(RolloutBlocked);
    expect(error.message).toContain(
      'cluster ml-train: nothing was changed: EC2NodeClass default has hash version v4; EC2NodeClass batch has hash version v4, not v5',
    );
    expect(await param()).toBe(w.gen.homeOld);
    expect(applies()).toEqual([]);
  });

  test('old NodeClaims rehashed in place by a migration during the rollout are not converged: blocked, naming them', async () => {
    await w.setUp();
    // Karpenter is downgraded/upgraded under the rollout: right after the apply, class and claims are on v4 again,
    // so the hash controller migrates and rewrites the old claims to the new hash (nodeclass/hash/controller.go).
    let done = false;
    k().onStep = (s) => {
      if (done || !w.log.some((l) => l.includes('starting;'))) return;
      done = true;
      for (const pool of ['default', 'batch']) {
        s.nodeClasses.get(pool)!.annotations['karpenter.k8s.aws/ec2nodeclass-hash-version'] = 'v4';
        for (const c of s.claimsOf(pool)) c.hashVersion = 'v4';
      }
    };
    const old = k()
      .claimsOf('default')
      .map((c) => c.name);
    const error = await run().catch((e) => e);
    expect(await param()).toBe(w.gen.homeNew); // not converged, not rolled back
    expect(error).toBeInstanceOf(RolloutHeld);
    expect(error.message).toContain(`NodeClaim ${old[0]} carries the new hash but was launched before the apply: Karpenter rehashed it in place`);
    expect(error.message).toContain(`kubectl delete nodeclaim ${old[0]}`);
  });

  test("a replacement created within the apply's second converges (creationTimestamp has whole seconds; issue 29 item 10)", async () => {
    // As seen in the field: apply at 05:00:22.681, NodeClaim created 05:00:22.751, served as 05:00:22Z.
    w.clock = Date.parse('2026-11-25T05:00:22.681Z');
    await w.setUp();
    // Karpenter's next reconcile 70 ms after the apply (the rollout applies before its first sleep).
    for (const c of ['ml-train', 'payments-prod']) w.karpenter(c).time = w.clock + 70 - TICK_MS;
    const outcomes = await run();
    expect(outcomes.map((o) => o.outcome)).toEqual(['rolled-out', 'rolled-out']);
    const first = [...k().nodeClaims.values()]
      .map((c) => c.createdAt)
      .sort((a, b) => a - b)
      .find((t) => t > Date.parse('2026-11-25T05:00:22Z'));
    expect(new Date(first!).toISOString()).toBe('2026-11-25T05:00:22.751Z');
  });

  test('a Ready node that is not initialized (extended resource never registered) does not count', async () => {
    await w.setUp();
    k().faults.launch = 'resourceNotRegistered';
    const error = await run().catch((e) => e);
    expect(error).toBeInstanceOf(RolloutFailed);
    expect(error.reason).toMatch(/^node ip-10-0-0-\d+ not initialized [\d.]+s after launch \(ResourceNotRegistered\)/);
    expect(w.log.join('\n')).not.toMatch(/default [1-9]\/\d nodes on the new hash and initialized/);
    const notInitialized = [...k().nodes.values()].filter((n) => n.ready && n.labels['karpenter.sh/initialized'] !== 'true');
    expect(notInitialized).toEqual([]); // and the rollback removed them
  });

  test('a fleet-file edit between apply and rollout neither reaches the canary nor makes the rollback drift every node', async () => {
    const f = rolloutFleet();
    await w.setUp(f);
    const before = JSON.parse(JSON.stringify(k().nodeClasses.get('default')!.spec));
    const hashBefore = k().nodeClasses.get('default')!.annotations[HASH];
    const original = k()
      .claimsOf('default')
      .map((c) => c.name);
    f.clusters['ml-train'].karpenter.nodePools.default.osVolumeGiB = 8; // edited, not applied
    w.fleet = fleetFrom(f);
    k().faults.failPulls = true;
    const error = await run().catch((e) => e);
    expect(error).toBeInstanceOf(RolloutFailed);
    expect(w.log.join('\n')).toContain(
      'pool default: the fleet file changed .spec.blockDeviceMappings[0].ebs.volumeSize since the node class was last applied; the rollout changes only the snapshot',
    );
    // The canary got the old spec with the new snapshot, nothing else.
    const first = applies().find((a) => a.path.endsWith('/default'))!;
    const expected = JSON.parse(JSON.stringify(before));
    expected.blockDeviceMappings.find((d: any) => d.deviceName === '/dev/xvdb').ebs.snapshotID = w.gen.homeNew;
    expect(first.body.spec).toEqual(expected);
    // The rollback restored the exact spec: same hash as before, so the nodes never replaced stay.
    expect(k().nodeClasses.get('default')!.spec).toEqual(before);
    expect(k().nodeClasses.get('default')!.annotations[HASH]).toBe(hashBefore);
    expect(original.filter((n) => k().nodeClaims.has(n)).length).toBeGreaterThanOrEqual(2);
    expect(
      k()
        .claimsOf('default')
        .every((c) => c.hash === hashBefore && c.driftedSince === undefined),
    ).toBe(true);
  });

  test('an apply conflict on the second node class restores the parameter and the first class, and names manager and field', async () => {
    await w.setUp();
    const batch = k().nodeClasses.get('batch')!;
    batch.owners.get('.spec.blockDeviceMappings')!.add('platform-team'); // co-owned: conflicts only when the value differs
    const defaultBefore = JSON.parse(JSON.stringify(k().nodeClasses.get('default')!.spec));
    const error = await run().catch((e) => e);
    expect(await param()).toBe(w.gen.homeOld);
    expect(error).toBeInstanceOf(RolloutApplyFailed);
    expect(error.message).toBe(
      `stage canary, cluster ml-train: applying the node classes failed: EC2NodeClass batch: field manager "platform-team" owns .spec.blockDeviceMappings with other values (server-side apply conflict, not forced). Restored ${P}/clusters/ml-train to ${w.gen.homeOld}, EC2NodeClass default to its previous spec; nothing else changed. Resolve the ownership (remove that manager's fields, or let the kubectl provider own them), then re-run`,
    );
    expect(await param()).toBe(w.gen.homeOld);
    expect(k().nodeClasses.get('default')!.spec).toEqual(defaultBefore);
    expect(k().snapshotOf('batch')).toBe(w.gen.homeOld);
    expect(w.karpenter('payments-prod').writes).toEqual([]);
  });
});

/** main() in this process, with the environment the process would get (fleet file, kubeconfig, emulator). */
const runInProcess = (args: string[], env: NodeJS.ProcessEnv) => captureMain(main, args, env);

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/bottlerocket-fleet.js', 'rollout', ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run rollout as a process', () => {
  test('--help documents the stages, the health gate, rollback, resume, dry run, status and exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const text of [
      '--to <id>',
      '--dry-run',
      '--json',
      'status <cache>',
      'field manager "kubectl"',
      'karpenter.k8s.aws/ec2nodeclass-hash',
      'ImagePullBackOff',
      'healthTimeout',
      'soak',
      'rolled back',
      'resume',
      'image-cache-<cache>',
      'Exit codes: 0',
    ]) {
      expect(r.stdout).toContain(text);
    }
  });

  test('a fleet without a rollout section is a usage error naming the fix', async () => {
    const r = await runCli(['general'], { FLEET_FILE: path.join(PROJECT_ROOT, 'fleet.yaml') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no rollout section: add rollout.stages/);
  });

  // One world for both blocks (issue 27 item 5): neither writes, and each test checks that nothing was written.
  describeWithRealTools('rollout against the emulator', () => {
    const world = useRolloutWorld();

    describe('rollout --dry-run against the emulator', () => {
      test('prints per stage and cluster the pools and snapshot IDs from -> to, and writes nothing', async () => {
        const r = await runCli(['general', '--dry-run'], world.w.env());
        expect(r.stderr).not.toMatch(/error|blocked/i);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`rollout of cache general to ${world.w.gen.homeNew} (home region us-west-2); healthTimeout 20m`);
        expect(r.stdout).toContain(`stage canary (soak 30m):\n  ml-train (us-west-2) pools default, batch: ${world.w.gen.homeOld} -> ${world.w.gen.homeNew}`);
        expect(r.stdout).toContain(`stage production (soak 2h):\n  payments-prod (us-east-1) pools default: ${world.w.gen.copyOld} -> ${world.w.gen.copyNew}`);
        // Each pool's drift concurrency as Karpenter computes it from the cluster's NodePool budgets and nodes.
        expect(r.stdout).toContain(
          `  ml-train (us-west-2) pools default, batch: ${world.w.gen.homeOld} -> ${world.w.gen.homeNew}\n    pool default: drift replaces 1 node(s) at once now (3 nodes; budget 1 from nodes 10%)\n    pool batch: drift replaces 1 node(s) at once now`,
        );
        expect(r.stdout).toContain('dry run: nothing was changed');
        for (const c of ['ml-train', 'payments-prod']) expect(world.w.karpenter(c).writes).toEqual([]);
        expect(await world.w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(world.w.gen.homeOld);
        expect(await world.w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(world.w.gen.copyOld);
      });

      test('--json --dry-run is machine-readable', async () => {
        const r = await runInProcess(['general', '--dry-run', '--json'], world.w.env());
        expect(JSON.parse(r.stdout)).toMatchObject({
          cache: 'general',
          source: world.w.gen.homeNew,
          dryRun: true,
          stages: [
            {
              name: 'canary',
              clusters: [{ cluster: 'ml-train', region: 'us-west-2', pools: ['default', 'batch'], from: world.w.gen.homeOld, to: world.w.gen.homeNew }],
            },
            {
              name: 'production',
              clusters: [{ cluster: 'payments-prod', region: 'us-east-1', pools: ['default'], from: world.w.gen.copyOld, to: world.w.gen.copyNew }],
            },
          ],
        });
      });

      test('status shows the generation each cluster runs and whether its nodes converged', async () => {
        const r = await runInProcess(['status', 'general'], world.w.env());
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`canary\tml-train\tus-west-2\t${world.w.gen.homeOld}\tgeneration ${world.w.gen.homeOld}\t-\tnodes 6/6 converged`);
        expect(r.stdout).toContain(`production\tpayments-prod\tus-east-1\t${world.w.gen.copyOld}\tgeneration ${world.w.gen.homeOld}\t-\tnodes 3/3 converged`);
      });
    });

    // Issue 21 (4): the contexts are pointers; before the first write each must be the cluster EKS describes.
    describe('rollout refuses a context EKS cannot vouch for', () => {
      test('with no such EKS cluster (the emulator has none), nothing is written and the command exits 1 naming cluster and context', async () => {
        const r = await runInProcess(['general', '--json'], world.w.env());
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          /^refused: kubeconfig context "ml-train" is not cluster ml-train: EKS DescribeCluster ml-train in us-west-2 failed \(ResourceNotFoundException/m,
        );
        expect(JSON.parse(r.stdout)).toMatchObject({ cache: 'general', ok: false, cluster: 'ml-train', clusters: [] });
        for (const c of ['ml-train', 'payments-prod']) expect(world.w.karpenter(c).writes).toEqual([]);
        expect(await world.w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(world.w.gen.homeOld);
        expect(await world.w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(world.w.gen.copyOld);
      });
    });
  });
});
