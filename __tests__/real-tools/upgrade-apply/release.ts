/**
 * `upgrade apply` of a Bottlerocket release across two stages (cli/upgrade/apply.ts on the rollout's stage machinery):
 * the system node groups through the EKS update fake, the node classes' alias in one apply each, the replacements
 * by the simulated Karpenter with AMI discovery (AMI drift by image ID; the alias is not in the static hash).
 * Counted: every original NodeClaim is deleted exactly once, and production moves only after the canary converged
 * and soaked. A second run started meanwhile is refused, naming the first, and writes nothing (the exact EKS calls).
 */
import * as os from 'os';
import { awsClients } from '../../../cli/shared/aws-clients';
import { UpgradeOwned } from '../../../cli/upgrade/owner';
import { describeWithRealTools } from '../../helpers/real-tools';
import { fleetAt, image, useUpgradeWorld } from '../../helpers/upgrade-world';
import { regionApi } from '../../../cli/rollout/aws';
import { upgradeAws } from '../../../cli/upgrade/aws';
import { upgradeKube } from '../../../cli/upgrade/kube-client';
import { upgradeState } from '../../../cli/upgrade/state';

describeWithRealTools('upgrade apply: a Bottlerocket release across two stages', () => {
  const { ctx, run } = useUpgradeWorld();

  test('every original NodeClaim is replaced exactly once, on the new image; production only after the canary soaked', async () => {
    const { w, eks, deleted } = ctx;
    const originals = new Map([...w.clusters].map(([name, { karpenter }]) => [name, [...karpenter.nodeClaims.keys()]]));
    // A second `upgrade apply` started while this one replaces the canary's nodes: refused, naming the first (its claim on the classes).
    let second: Promise<unknown> | undefined;
    ctx.afterStep = (cluster) => {
      if (cluster === 'ml-train' && deleted.get('ml-train')!.length > 0) second ??= run('1.56.0').catch((e: unknown) => e);
    };
    const outcomes = await run('1.56.0');
    ctx.afterStep = undefined;
    const refused = await second;
    expect(refused).toBeInstanceOf(UpgradeOwned);
    expect((refused as Error).message).toMatch(
      new RegExp(
        `^cluster ml-train: another upgrade apply owns it \\(run [0-9a-f]{12}, pid ${process.pid} on ${os.hostname()}, renewed \\d+s ago on EC2NodeClass default\\); nothing was changed`,
      ),
    );
    // The first run's claims are gone with it: a later run is not refused.
    for (const { karpenter } of w.clusters.values())
      for (const cls of karpenter.nodeClasses.values()) expect(cls.annotations['bottlerocket-fleet/upgrade-owner']).toBeUndefined();
    expect(outcomes.map((o) => [o.stage, o.cluster, o.from, o.to, o.outcome])).toEqual([
      ['canary', 'ml-train', 'bottlerocket@v1.55.0', 'bottlerocket@v1.56.0', 'rolled-out'],
      ['production', 'payments-prod', 'bottlerocket@v1.55.0', 'bottlerocket@v1.56.0', 'rolled-out'],
    ]);
    for (const [name, claims] of originals) {
      const gone = deleted.get(name)!.filter((c) => claims.includes(c));
      expect([name, [...gone].sort()]).toEqual([name, [...claims].sort()]);
      // Exactly once: no replacement of a replacement (a second drift would delete the new NodeClaims too).
      expect([name, deleted.get(name)!.filter((c) => !claims.includes(c))]).toEqual([name, []]);
      const karpenter = w.karpenter(name);
      expect([name, [...new Set([...karpenter.nodeClaims.values()].map((c) => c.imageId))]]).toEqual([name, [image('1.35', '1.56.0')]]);
    }
    // The system node groups moved to the release's image_version, the canary's first.
    expect(eks.calls).toEqual([
      'UpdateNodegroupVersion ml-train/system-20261125120000 - 1.56.0-5a1b2c3d',
      'UpdateNodegroupVersion payments-prod/system-20261125120000 - 1.56.0-5a1b2c3d',
    ]);
    expect(eks.cluster('payments-prod').nodegroups['system-20261125120000']!.releaseVersion).toBe('1.56.0-5a1b2c3d');
    const soaked = w.log.findIndex((l) => l === 'stage canary: done');
    const production = w.log.findIndex((l) => l.includes('payments-prod: updating node group'));
    expect(soaked).toBeGreaterThan(-1);
    expect(production).toBeGreaterThan(soaked);
  }, 180_000);

  test('status shows the recorded upgrade and the nodes on the new release', async () => {
    const { status } = await upgradeState(fleetAt('1.56.0'), {
      eks: (r) => upgradeAws(r, awsClients()).eks,
      region: (r) => regionApi(r),
      kube: (c) => upgradeKube(c),
    });
    const ml = status.find((c) => c.cluster === 'ml-train')!;
    expect(ml.upgrade).toBe('bottlerocket@v1.56.0: done [default, batch]');
    expect(ml.pools.map((p) => p.groups.map((g) => [g.variant, g.release, g.nodeClaims]))).toEqual([
      [['aws-k8s-1.35', '1.56.0', 2]],
      [['aws-k8s-1.35', '1.56.0', 2]],
    ]);
  }, 60_000);

  test('a re-run finds nothing to do: the plan has no step and nothing is written', async () => {
    const { eks } = ctx;
    const calls = eks.calls.length;
    expect(await run('1.56.0')).toEqual([]);
    expect(eks.calls.length).toBe(calls);
  }, 60_000);
});
