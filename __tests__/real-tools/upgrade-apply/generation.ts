/**
 * `upgrade apply` of a Bottlerocket release when the pools' cache has a newer generation than the classes name (the
 * cluster parameter of this rollout fleet, <parameterPath>/clusters/<cluster>): alias AND snapshot in one apply per
 * EC2NodeClass (cli/upgrade/generation.ts). Counted by the simulated Karpenter: every original NodeClaim deleted
 * exactly once across both stages (the negative control in __tests__/fake-karpenter.test.ts, snapshot first and alias
 * later, shows two replacements per node). A canary that fails its health gate gets both restored exactly.
 */
import { RolloutFailed } from '../../../cli/rollout/stages';
import { UpgradeRefused } from '../../../cli/upgrade/apply';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { describeWithRealTools } from '../../helpers/real-tools';
import { P } from '../../helpers/rollout-world';
import { expectEachReplacedOnce, snapshotOf, useUpgradeWorld } from '../../helpers/upgrade-world';

describeWithRealTools('upgrade apply: a release and a new cache generation in one apply', () => {
  const { ctx, run } = useUpgradeWorld();
  const put = (region: string, name: string, value: string) =>
    ctx.w.ssm(region).send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));

  test('a cluster parameter naming a snapshot that is no build of the cache is refused before any write', async () => {
    const { w, eks } = ctx;
    const before = JSON.stringify(w.karpenter('ml-train').nodeClasses.get('default')!.spec as any);
    // The replica-region copy is not a snapshot of the home region: a pointer moved to something else.
    await put('us-west-2', `${P}/clusters/ml-train`, w.gen.copyNew!);
    try {
      const failed = await run('1.56.0').catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(UpgradeRefused);
      expect((failed as Error).message).toContain(`ml-train: nothing was changed: SSM parameter ${P}/clusters/ml-train in us-west-2`);
      expect(eks.calls).toEqual([]);
      expect(JSON.stringify(w.karpenter('ml-train').nodeClasses.get('default')!.spec)).toBe(before);
    } finally {
      await put('us-west-2', `${P}/clusters/ml-train`, w.gen.homeOld);
    }
  }, 60_000);

  test('a canary that fails its health gate gets the exact previous alias and snapshot back', async () => {
    const { w, eks } = ctx;
    await put('us-west-2', `${P}/clusters/ml-train`, w.gen.homeNew);
    await put('us-east-1', `${P}/clusters/payments-prod`, w.gen.copyNew!);
    const canary = w.karpenter('ml-train');
    const before = new Map([...canary.nodeClasses].map(([pool, cls]) => [pool, JSON.stringify(cls.spec)]));
    canary.faults.newNodesNotReady = true;
    try {
      const failed = await run('1.56.0').catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(RolloutFailed);
      expect(failed).toMatchObject({ stage: 'canary', cluster: 'ml-train' });
      // An upgrade's rollback names what it put back, and what it does not (a rollout's says "the previous snapshot").
      expect((failed as Error).message).toContain(
        'rolled back to the previous alias and snapshot (the control plane and node group are not rolled back), later stages untouched',
      );
      for (const [pool, cls] of canary.nodeClasses) expect([pool, JSON.stringify(cls.spec)]).toEqual([pool, before.get(pool)]);
      for (const cls of canary.nodeClasses.values()) expect(snapshotOf(cls.spec)).toBe(w.gen.homeOld);
      expect([...canary.nodeClaims.values()].filter((c) => !c.initialized && c.deletionRequestedAt === undefined)).toEqual([]);
      // The cluster's generation parameter goes back with the class (as the rollout restores it), production's stays.
      expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(w.gen.homeOld);
      expect(await w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(w.gen.copyNew);
      const prod = w.karpenter('payments-prod');
      expect([...prod.nodeClasses.values()].map((c) => snapshotOf(c.spec))).toEqual([w.gen.copyOld]);
    } finally {
      canary.faults.newNodesNotReady = false;
    }
    // Let the failed replacements go, and count only from the run that completes.
    w.clock += 60 * 60_000;
    for (const { karpenter } of w.clusters.values()) karpenter.advanceTo(w.clock);
    eks.calls.length = 0;
  }, 180_000);

  test('every original NodeClaim is replaced exactly once, on the new release and the new generation', async () => {
    const { w, deleted } = ctx;
    const originals = new Map([...w.clusters].map(([name, { karpenter }]) => [name, [...karpenter.nodeClaims.keys()]]));
    for (const list of deleted.values()) list.length = 0;
    await put('us-west-2', `${P}/clusters/ml-train`, w.gen.homeNew); // the canary's failure put it back
    const outcomes = await run('1.56.0');
    expect(outcomes.map((o) => [o.stage, o.cluster, o.outcome])).toEqual([
      ['canary', 'ml-train', 'rolled-out'],
      ['production', 'payments-prod', 'rolled-out'],
    ]);
    const want = new Map([
      ['ml-train', w.gen.homeNew],
      ['payments-prod', w.gen.copyNew!],
    ]);
    expectEachReplacedOnce(w, deleted, originals, '1.56.0', want);
  }, 180_000);
});
