/**
 * `upgrade apply` interrupted (Ctrl-C) while the canary's nodes are being replaced: the wait ends, never a write;
 * the progress on the node classes names the step; the re-run resumes from it (the apply time read back, the node
 * group not updated again) and every original NodeClaim is still replaced exactly once. A second run while another
 * process's claim on the cluster is live is refused, writing nothing; a stale claim is taken over.
 */
import { RolloutInterrupted } from '../../../cli/rollout/stages';
import { UPGRADE_ANNOTATIONS } from '../../../cli/rollout/model';
import * as os from 'os';
import { rolloutKube } from '../../../cli/rollout/kube-client';
import { LEASE_MS, UpgradeOwned } from '../../../cli/upgrade/owner';
import { describeWithRealTools } from '../../helpers/real-tools';
import { image, useUpgradeWorld } from '../../helpers/upgrade-world';

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
    // The interrupted run released its claim on the way out (cli/upgrade/owner.ts).
    expect(classes.map((c) => c.annotations[UPGRADE_ANNOTATIONS.owner])).toEqual([undefined, undefined]);

    // A second upgrade apply while another process owns the cluster (its claim renewed 30 s ago): refused, nothing written.
    const kube = rolloutKube('ml-train');
    const claim = (ageMs: number) => JSON.stringify({ run: 'first-run', host: os.hostname(), pid: process.pid, renewedAt: w.clock - ageMs });
    const claimAll = async (ageMs: number) => {
      for (const name of w.karpenter('ml-train').nodeClasses.keys()) await kube.annotateNodeClass(name, { [UPGRADE_ANNOTATIONS.owner]: claim(ageMs) });
    };
    await claimAll(30_000);
    const written = () => JSON.stringify([...w.clusters.values()].map(({ karpenter }) => [...karpenter.nodeClasses.values()]));
    const [before, calls] = [written(), eks.calls.length];
    const refused = await run('1.56.0').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UpgradeOwned);
    expect((refused as Error).message).toContain(
      `cluster ml-train: another upgrade apply owns it (run first-run, pid ${process.pid} on ${os.hostname()}, renewed 30s ago on EC2NodeClass default); nothing was changed`,
    );
    expect([written(), eks.calls.length]).toEqual([before, calls]);
    // Not renewed for longer than the lease: that run is gone, and the same upgrade is resumed.
    await claimAll(LEASE_MS + 60_000);

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
