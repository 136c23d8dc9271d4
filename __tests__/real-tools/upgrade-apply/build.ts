/**
 * `upgrade apply` of a Kubernetes minor (1.34 -> 1.35) whose cache generation a node of one of the two variants could
 * not mount (issue 31, item 2, step 2 of the minor): the generations in the emulator were built on kernel 6.18
 * (aws-k8s-1.36), which the 6.12 kernel of aws-k8s-1.34 and 1.35 cannot mount (contracts/bottlerocket-kernel-lines.json).
 * The upgrade builds the generation itself, after the freeze and before the control plane, through the cache builder
 * `cache build` runs (cli/cache/builder.ts, against the emulator and the SSM agent proxy, on aws-k8s-1.34 with a
 * 6.12 kernel), once, recorded on the classes so a re-run after Ctrl-C applies it without building again;
 * production, in the replica region, takes the copy the image-cache stack makes of it.
 */
import { CreateTagsCommand, DescribeInstancesCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { RolloutInterrupted } from '../../../cli/rollout/stages';
import { GenerationUnavailable } from '../../../cli/upgrade/cache-generation';
import { FREEZE_ANNOTATION } from '../../../cli/upgrade/freeze';
import { UPGRADE_ANNOTATIONS } from '../../../cli/rollout/model';
import { describeWithRealTools } from '../../helpers/real-tools';
import { P } from '../../helpers/rollout-world';
import { expectEachReplacedOnce, useUpgradeWorld } from '../../helpers/upgrade-world';

describeWithRealTools('upgrade apply: a Kubernetes minor that needs a new cache generation builds it', () => {
  const { ctx, run } = useUpgradeWorld({ kubernetesVersion: '1.34', builder: { release: '1.56.0', kernelRelease: '6.12.55' } });
  const put = (region: string, name: string, value: string) =>
    ctx.w.ssm(region).send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  const launches = () => ctx.proxy!.calls.filter((c) => c.action === 'RunInstances').length;

  beforeAll(async () => {
    // Both builds of cache general were made on aws-k8s-1.36 (kernel line 6.18): no 1.34 or 1.35 node mounts them.
    const { gen } = ctx.w;
    await ctx.w
      .ec2('us-west-2')
      .send(new CreateTagsCommand({ Resources: [gen.homeOld, gen.homeNew], Tags: [{ Key: 'bottlerocket-fleet:kernel-release', Value: '6.18.5' }] }));
  });

  /** Everything the upgrade may write on a cluster, to compare before and after a failure. */
  const written = (cluster: string) => {
    const k = ctx.w.karpenter(cluster);
    return JSON.stringify({
      classes: [...k.nodeClasses].map(([n, c]) => [
        n,
        c.spec,
        Object.keys(c.annotations).filter((a) => Object.values<string>(UPGRADE_ANNOTATIONS).includes(a)),
      ]),
      budgets: [...k.budgets],
      // A pool's annotations appear (empty) once patched: only a freeze that is there counts.
      freeze: [...k.nodePoolAnnotations.values()].flatMap((a) => Object.entries(a).filter(([key, v]) => key === FREEZE_ANNOTATION && v)),
    });
  };

  test('a failed build leaves the control plane, the freeze and the classes as they were; the builder cleaned up', async () => {
    const { w, eks, proxy } = ctx;
    const before = { canary: written('ml-train'), param: await w.param('us-west-2', P), history: await w.param('us-west-2', `${P}-history`) };
    proxy!.fault = (c) => (c.action === 'CreateSnapshot' ? { code: 'SnapshotLimitExceeded', message: 'too many snapshots' } : undefined);
    try {
      const failed = await run('1.56.0').catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(GenerationUnavailable);
      expect((failed as Error).message).toMatch(/cache general: step "snapshot the data volume" failed: too many snapshots; the drift freeze was lifted/);
    } finally {
      proxy!.fault = undefined;
    }
    expect(eks.calls).toEqual([]);
    expect(written('ml-train')).toBe(before.canary);
    expect([await w.param('us-west-2', P), await w.param('us-west-2', `${P}-history`)]).toEqual([before.param, before.history]);
    // The builder's undo stack ran: its instance is terminated.
    const instances = await w.ec2('us-west-2').send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:bottlerocket-fleet:cache', Values: ['general'] }] }));
    expect(instances.Reservations!.flatMap((r) => r.Instances!).map((i) => i.State!.Name)).toEqual(['terminated']);
  }, 180_000);

  test('builds the generation once, before the control plane moves, and replaces each node once onto it; production takes its copy', async () => {
    const { w, eks, deleted } = ctx;
    const originals = new Map([...w.clusters].map(([name, { karpenter }]) => [name, [...karpenter.nodeClaims.keys()]]));
    const launched = launches();
    const prodBefore = written('payments-prod');
    // Ctrl-C once the build is done and the control plane moved: the re-run plans no minor (no build step), and
    // applies the generation the classes record, without building again.
    const controller = new AbortController();
    ctx.afterStep = (cluster) => {
      if (cluster === 'ml-train' && eks.cluster('ml-train').version === '1.35') controller.abort();
    };
    const interrupted = await run('1.56.0', controller.signal).catch((e: unknown) => e);
    ctx.afterStep = undefined;
    expect(interrupted).toBeInstanceOf(RolloutInterrupted);
    const recorded = [...w.karpenter('ml-train').nodeClasses.values()].map((c) => c.annotations[UPGRADE_ANNOTATIONS.generation]);
    expect(recorded).toEqual([await w.param('us-west-2', P), await w.param('us-west-2', P)]);
    // Production is in us-east-1: the build is in us-west-2 until the image-cache stack copies it; the canary is done.
    const stopped = await run('1.56.0').catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(GenerationUnavailable);
    expect((stopped as Error).message).toContain(
      'cluster payments-prod: cache general has no generation in us-east-1 that aws-k8s-1.34 and aws-k8s-1.35 both mount',
    );
    expect((stopped as Error).message).toContain('deploy image-cache-general, then re-run');
    expect(written('payments-prod')).toBe(prodBefore);
    const built = (await w.param('us-west-2', P))!;
    expect(built).not.toBe(w.gen.homeNew);
    expect(launches()).toBe(launched + 1);
    const building = w.log.findIndex((l) => l.includes('ml-train: building cache general'));
    expect(building).toBeGreaterThan(-1);
    expect(building).toBeLessThan(w.log.findIndex((l) => l.includes('ml-train: updating the control plane')));
    expect(eks.calls.filter((c) => c.includes('payments-prod'))).toEqual([]);

    // What the image-cache-general stack does on deploy: a copy in us-east-1 tagged with its source and build, the region's parameter.
    const source = await w.ec2('us-west-2').send(new DescribeSnapshotsCommand({ SnapshotIds: [built] }));
    const buildId = source.Snapshots![0].Tags!.find((t) => t.Key === 'bottlerocket-fleet:build-id')!.Value!;
    const copy = await w.copyToReplica(built, buildId);
    await put('us-east-1', P, copy);
    const outcomes = await run('1.56.0');
    expect(outcomes.map((o) => [o.stage, o.cluster, o.outcome])).toEqual([['production', 'payments-prod', 'rolled-out']]);
    expect(launches()).toBe(launched + 1); // built once: the re-run took the copy
    expect(eks.calls.filter((c) => c.startsWith('UpdateClusterVersion'))).toEqual([
      'UpdateClusterVersion ml-train 1.35',
      'UpdateClusterVersion payments-prod 1.35',
    ]);
    expectEachReplacedOnce(
      w,
      deleted,
      originals,
      '1.56.0',
      new Map([
        ['ml-train', built],
        ['payments-prod', copy],
      ]),
    );
    // The clusters' generation parameters (this fleet has a rollout section) name what the classes run, as after a
    // rollout: a plan of each Karpenter stack only catches up.
    expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(built);
    expect(await w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(copy);
  }, 300_000);
});
