/**
 * `upgrade apply` when EKS's node group update is blocked by a PodDisruptionBudget (nothing else written; the re-run
 * updates the group), and when the canary fails its health gate after the new alias was applied: the exact previous spec is
 * restored, the never-initialized NodeClaims removed, later stages untouched, the node group named as not rolled
 * back; a re-run after the fix completes both stages without updating the canary's node group again.
 */
import { RolloutFailed } from '../../../cli/rollout/stages';
import { RolloutBlocked } from '../../../cli/rollout/pre-write';
import { EksUpdateFailed } from '../../../cli/upgrade/eks-updates';
import { describeWithRealTools } from '../../helpers/real-tools';
import { image, useUpgradeWorld } from '../../helpers/upgrade-world';

describeWithRealTools('upgrade apply: failures a re-run resumes from', () => {
  const { ctx, run } = useUpgradeWorld();

  test('a snapshot rollout in progress on the cluster refuses the upgrade before any write', async () => {
    const { w, eks } = ctx;
    const cls = w.karpenter('ml-train').nodeClasses.get('default')!;
    cls.annotations['bottlerocket-fleet/rollout-target'] = 'snap-0123456789abcdef0';
    cls.annotations['bottlerocket-fleet/rollout-state'] = 'applied';
    try {
      const failed = await run('1.56.0').catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(RolloutBlocked);
      expect((failed as Error).message).toBe(
        'cluster ml-train: a rollout of snap-0123456789abcdef0 is applied on EC2NodeClass default; one change of the node image at a time: let the rollout finish (or roll back), then re-run. Nothing was changed',
      );
      expect(eks.calls).toEqual([]);
    } finally {
      cls.annotations['bottlerocket-fleet/rollout-state'] = 'done';
    }
  }, 60_000);

  test('a node group update a PodDisruptionBudget blocks: the message EKS gives, no node class touched; the re-run moves on', async () => {
    const { w, eks } = ctx;
    const group = eks.cluster('ml-train').nodegroups['system-20261125120000']!;
    group.blockingBudget = 'kube-system/coredns';
    const canary = w.karpenter('ml-train');
    const before = new Map([...canary.nodeClasses].map(([pool, cls]) => [pool, JSON.stringify(cls.spec)]));
    const failed = await run('1.56.0').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(EksUpdateFailed);
    expect((failed as Error).message).toMatch(
      /node group system-20261125120000 of cluster ml-train .*ended Failed \(PodEvictionFailure: .*PodDisruptionBudget kube-system\/coredns/,
    );
    for (const [pool, cls] of canary.nodeClasses) expect([pool, JSON.stringify(cls.spec)]).toEqual([pool, before.get(pool)]);
    expect(group.releaseVersion).toBe('1.55.0-d93bb1b1');
    delete group.blockingBudget;
    eks.calls.length = 0; // the next test counts from the fixed budget on
  }, 60_000);

  test('the exact previous spec is restored, never-initialized NodeClaims removed, production untouched; a re-run completes', async () => {
    const { w, eks } = ctx;
    const canary = w.karpenter('ml-train');
    const before = new Map([...canary.nodeClasses].map(([pool, cls]) => [pool, JSON.stringify(cls.spec)]));
    canary.faults.newNodesNotReady = true;
    const failed = await run('1.56.0').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RolloutFailed);
    expect(failed).toMatchObject({ stage: 'canary', cluster: 'ml-train' });
    expect((failed as RolloutFailed).leftovers[0]).toContain('node group system-20261125120000 stays on 1.56.0-5a1b2c3d (EKS cannot roll a node group back)');
    for (const [pool, cls] of canary.nodeClasses) expect([pool, JSON.stringify(cls.spec)]).toEqual([pool, before.get(pool)]);
    expect([...canary.nodeClaims.values()].filter((c) => !c.initialized && c.deletionRequestedAt === undefined)).toEqual([]);
    // Later stages untouched: production's node group and classes as they were.
    expect(eks.calls).toEqual(['UpdateNodegroupVersion ml-train/system-20261125120000 - 1.56.0-5a1b2c3d']);
    const prod = w.karpenter('payments-prod');
    expect([...prod.nodeClasses.values()].map((c) => (c.spec as any).amiSelectorTerms)).toEqual([[{ alias: 'bottlerocket@v1.55.0' }]]);

    // Fixed: the re-run resumes without updating the canary's node group again, and finishes both stages.
    canary.faults.newNodesNotReady = false;
    const outcomes = await run('1.56.0');
    expect(outcomes.map((o) => [o.cluster, o.outcome])).toEqual([
      ['ml-train', 'rolled-out'],
      ['payments-prod', 'rolled-out'],
    ]);
    expect(eks.calls).toEqual([
      'UpdateNodegroupVersion ml-train/system-20261125120000 - 1.56.0-5a1b2c3d',
      'UpdateNodegroupVersion payments-prod/system-20261125120000 - 1.56.0-5a1b2c3d',
    ]);
    for (const name of ['ml-train', 'payments-prod'])
      expect([name, [...new Set([...w.karpenter(name).nodeClaims.values()].map((c) => c.imageId))]]).toEqual([name, [image('1.35', '1.56.0')]]);
  }, 180_000);
});
