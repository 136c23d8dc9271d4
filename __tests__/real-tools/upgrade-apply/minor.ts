/**
 * `upgrade apply` of a Kubernetes minor (1.34 -> 1.35) with a new Bottlerocket release and a new cache generation,
 * across two stages: per cluster a drift freeze (a Drifted budget of 0 with its owner, in one patch), EKS
 * UpdateClusterVersion, the system node group, the add-on the fleet file pins (UpdateAddon), the wait until every class resolves aws-k8s-1.35 (the simulated
 * Karpenter's 5-minute version poll, A pkg/controllers/providers/version/controller.go), alias and snapshot in one
 * apply, the freeze lifted, the gates. Counted: every original NodeClaim deleted exactly once (without the freeze,
 * the version poll AMI-drifts every node before the apply: two replacements); production's control plane only after
 * the canary converged and soaked.
 */
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { FREEZE_ANNOTATION } from '../../../cli/upgrade/freeze';
import { describeWithRealTools } from '../../helpers/real-tools';
import { P } from '../../helpers/rollout-world';
import { expectEachReplacedOnce, image, useUpgradeWorld } from '../../helpers/upgrade-world';

describeWithRealTools('upgrade apply: a Kubernetes minor with a new release and cache generation', () => {
  // CoreDNS runs a 1.34 build; the fleet file pins the 1.35 default (contracts/eks-addon-versions.json).
  const { ctx, run } = useUpgradeWorld({ kubernetesVersion: '1.34', addons: { coredns: 'v1.12.3-eksbuild.1' } });

  test('each original NodeClaim is replaced exactly once, onto aws-k8s-1.35; production moves only after the canary soaked', async () => {
    const { w, eks, deleted } = ctx;
    const put = (region: string, name: string, value: string) =>
      w.ssm(region).send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
    await put('us-west-2', `${P}/clusters/ml-train`, w.gen.homeNew);
    await put('us-east-1', `${P}/clusters/payments-prod`, w.gen.copyNew!);
    const originals = new Map([...w.clusters].map(([name, { karpenter }]) => [name, [...karpenter.nodeClaims.keys()]]));
    for (const [name, claims] of originals)
      expect([name, [...new Set(claims.map((c) => w.karpenter(name).nodeClaims.get(c)!.imageId))]]).toEqual([name, [image('1.34', '1.55.0')]]);

    const outcomes = await run('1.56.0');
    expect(outcomes.map((o) => [o.stage, o.cluster, o.outcome])).toEqual([
      ['canary', 'ml-train', 'rolled-out'],
      ['production', 'payments-prod', 'rolled-out'],
    ]);
    expect(eks.calls).toEqual([
      'UpdateClusterVersion ml-train 1.35',
      'UpdateNodegroupVersion ml-train/system-20261125120000 1.35 1.56.0-5a1b2c3d',
      'UpdateAddon ml-train/coredns v1.13.2-eksbuild.3',
      'UpdateClusterVersion payments-prod 1.35',
      'UpdateNodegroupVersion payments-prod/system-20261125120000 1.35 1.56.0-5a1b2c3d',
      'UpdateAddon payments-prod/coredns v1.13.2-eksbuild.3',
    ]);
    expect(eks.cluster('payments-prod').addons.coredns!.version).toBe('v1.13.2-eksbuild.3');
    const want = new Map([
      ['ml-train', w.gen.homeNew],
      ['payments-prod', w.gen.copyNew!],
    ]);
    // Exactly once: the originals, and no replacement of a replacement.
    expectEachReplacedOnce(w, deleted, originals, '1.56.0', want);
    for (const name of originals.keys()) {
      const karpenter = w.karpenter(name);
      for (const cls of karpenter.nodeClasses.values()) expect(cls.annotations['bottlerocket-fleet/upgrade-step']).toBeUndefined();
      // The freeze went on with its owner in one patch and came off: the budgets as they were, no owner left.
      for (const pool of karpenter.nodeClasses.keys()) {
        expect(karpenter.nodePoolAnnotations.get(pool)?.[FREEZE_ANNOTATION]).toBeUndefined();
        const patches = karpenter.nodePoolPatches.filter((p) => p.startsWith(`${pool} `));
        expect(patches).toHaveLength(2);
        expect(JSON.parse(patches[0].slice(pool.length + 1))[0]).toEqual({ nodes: '0', reasons: ['Drifted'] });
        expect(karpenter.budgets.get(pool)).toEqual(JSON.parse(patches[1].slice(pool.length + 1)));
      }
    }
    const soaked = w.log.findIndex((l) => l === 'stage canary: done');
    const production = w.log.findIndex((l) => l.includes('payments-prod: updating the control plane'));
    expect(soaked).toBeGreaterThan(-1);
    expect(production).toBeGreaterThan(soaked);
  }, 180_000);
});
