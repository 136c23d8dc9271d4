/**
 * `upgrade apply` interrupted (Ctrl-C) while the canary's nodes are being replaced: the wait ends, never a write;
 * the progress on the node classes names the step; the re-run resumes from it (the apply time read back, the node
 * group not updated again) and every original NodeClaim is still replaced exactly once.
 */
import { RolloutInterrupted } from '../../cli/rollout/stages';
import { UPGRADE_ANNOTATIONS } from '../../cli/rollout/model';
import { describeWithRealTools } from '../helpers/real-tools';
import { image, useUpgradeWorld } from '../helpers/upgrade-world';

describeWithRealTools('upgrade apply: interrupted and resumed', () => {
  const { ctx, run } = useUpgradeWorld();

  test('Ctrl-C after the first replacement: state "applied" recorded; the re-run finishes with each node replaced once', async () => {
    const { w, eks, deleted } = ctx;
    const originals = new Map([...w.clusters].map(([name, { karpenter }]) => [name, [...karpenter.nodeClaims.keys()]]));
    const controller = new AbortController();
    ctx.afterStep = (cluster) => {
      if (cluster === 'ml-train' && deleted.get('ml-train')!.length > 0) controller.abort(new Error('interrupted'));
    };
    const stopped = await run('1.56.0', controller.signal).catch((e: unknown) => e);
    ctx.afterStep = undefined;
    expect(stopped).toBeInstanceOf(RolloutInterrupted);
    const classes = [...w.karpenter('ml-train').nodeClasses.values()];
    expect(classes.map((c) => c.annotations[UPGRADE_ANNOTATIONS.state])).toEqual(['applied', 'applied']);
    expect(classes.every((c) => c.annotations[UPGRADE_ANNOTATIONS.previousSpec].includes('bottlerocket@v1.55.0'))).toBe(true);

    const outcomes = await run('1.56.0');
    expect(outcomes.map((o) => [o.cluster, o.outcome])).toEqual([
      ['ml-train', 'rolled-out'],
      ['payments-prod', 'rolled-out'],
    ]);
    expect(eks.calls.filter((c) => c.startsWith('UpdateNodegroupVersion ml-train/'))).toHaveLength(1);
    for (const [name, claims] of originals) {
      expect([
        name,
        deleted
          .get(name)!
          .filter((c) => claims.includes(c))
          .sort(),
      ]).toEqual([name, [...claims].sort()]);
      expect([name, deleted.get(name)!.filter((c) => !claims.includes(c))]).toEqual([name, []]);
      expect([name, [...new Set([...w.karpenter(name).nodeClaims.values()].map((c) => c.imageId))]]).toEqual([name, [image('1.35', '1.56.0')]]);
    }
  }, 180_000);
});
