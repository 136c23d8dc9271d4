/**
 * `upgrade apply` of a Kubernetes minor (1.34 -> 1.35) when it fails, each failure followed by a re-run from the state it
 * left: EKS refuses the control plane update (the freeze lifted, nothing else written, EKS's message); a node group
 * update a PodDisruptionBudget blocks after the control plane moved (the state names group and budget, the freeze
 * stays with its owner; the re-run does not update the control plane again); Ctrl-C while EKS updates the control
 * plane (the state names the step, the freeze keeps its owner; the re-run waits for that update, ListUpdates, instead
 * of starting another); the last re-run replaces every original NodeClaim exactly once.
 */
import { UPGRADE_ANNOTATIONS } from '../../../cli/rollout/model';
import { RolloutInterrupted } from '../../../cli/rollout/stages';
import { EksUpdateFailed } from '../../../cli/upgrade/eks-updates';
import { FREEZE_ANNOTATION } from '../../../cli/upgrade/freeze';
import { ControlPlaneRefused } from '../../../cli/upgrade/minor-steps';
import { describeWithRealTools } from '../../helpers/real-tools';
import { fleetAt, image, useUpgradeWorld } from '../../helpers/upgrade-world';
import { awsClients } from '../../../cli/shared/aws-clients';
import { regionApi } from '../../../cli/rollout/aws';
import { upgradeAws } from '../../../cli/upgrade/aws';
import { upgradeKube } from '../../../cli/upgrade/kube-client';
import { upgradeState } from '../../../cli/upgrade/state';

describeWithRealTools('upgrade apply: a Kubernetes minor that fails, and the re-runs', () => {
  const { ctx, run } = useUpgradeWorld({ kubernetesVersion: '1.34' });
  const originals = new Map<string, string[]>();
  const canary = () => ctx.w.karpenter('ml-train');
  const annotation = (key: string) => [...canary().nodeClasses.values()].map((c) => c.annotations[key]);

  test('the control plane update refused: exit with EKS message, freeze lifted, nothing else written', async () => {
    const { w, eks } = ctx;
    for (const [name, { karpenter }] of w.clusters) originals.set(name, [...karpenter.nodeClaims.keys()]);
    const specs = JSON.stringify([...canary().nodeClasses.values()].map((c) => c.spec));
    const budgets = JSON.stringify([...canary().budgets]);
    eks.cluster('ml-train').readinessBlocker = 'Cluster has deprecated API usage (upgrade insight: Deprecated APIs removed in Kubernetes v1.35)';
    const failed = await run('1.56.0').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ControlPlaneRefused);
    expect((failed as Error).message).toContain('Cluster has deprecated API usage (upgrade insight: Deprecated APIs removed in Kubernetes v1.35)');
    expect((failed as Error).message).toContain('the drift freeze was lifted and nothing else was changed');
    expect(eks.calls).toEqual(['UpdateClusterVersion ml-train 1.35']);
    expect(JSON.stringify([...canary().nodeClasses.values()].map((c) => c.spec))).toBe(specs);
    expect(JSON.stringify([...canary().budgets])).toBe(budgets);
    for (const pool of canary().nodeClasses.keys()) expect(canary().nodePoolAnnotations.get(pool)?.[FREEZE_ANNOTATION]).toBeUndefined();
    for (const key of Object.values(UPGRADE_ANNOTATIONS)) expect([key, annotation(key)]).toEqual([key, [undefined, undefined]]);
    expect(eks.cluster('ml-train').version).toBe('1.34');
    delete eks.cluster('ml-train').readinessBlocker;
  }, 120_000);

  test('Ctrl-C while EKS updates the control plane: the state names the step, the freeze keeps its owner', async () => {
    const { eks } = ctx;
    const controller = new AbortController();
    ctx.afterStep = (cluster) => {
      if (cluster === 'ml-train' && annotation(UPGRADE_ANNOTATIONS.step)[0] === 'update-control-plane') controller.abort(new Error('interrupted'));
    };
    const stopped = await run('1.56.0', controller.signal).catch((e: unknown) => e);
    ctx.afterStep = undefined;
    expect(stopped).toBeInstanceOf(RolloutInterrupted);
    expect(annotation(UPGRADE_ANNOTATIONS.step)).toEqual(['update-control-plane', 'update-control-plane']);
    expect(annotation(UPGRADE_ANNOTATIONS.state)).toEqual(['starting', 'starting']);
    for (const pool of canary().nodeClasses.keys())
      expect(JSON.parse(canary().nodePoolAnnotations.get(pool)![FREEZE_ANNOTATION]).owner).toBe('upgrade of ml-train to Kubernetes 1.35, bottlerocket@v1.56.0');
    expect(eks.calls).toEqual(['UpdateClusterVersion ml-train 1.35', 'UpdateClusterVersion ml-train 1.35']);
    expect(eks.cluster('ml-train').version).toBe('1.34'); // EKS is still at it
    const { status } = await upgradeState(fleetAt('1.56.0'), {
      eks: (r) => upgradeAws(r, awsClients()).eks,
      region: (r) => regionApi(r),
      kube: (c) => upgradeKube(c),
    });
    expect(status.find((c) => c.cluster === 'ml-train')!.upgrade).toBe(
      'bottlerocket@v1.56.0: applying the node image (previous spec recorded), step update-control-plane [default, batch]',
    );
  }, 120_000);

  test('the node group blocked by a PodDisruptionBudget after the control plane moved: state names group and budget, freeze kept', async () => {
    const { eks } = ctx;
    const group = eks.cluster('ml-train').nodegroups['system-20261125120000']!;
    group.blockingBudget = 'kube-system/coredns';
    const failed = await run('1.56.0').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(EksUpdateFailed);
    // The interrupted update was waited for, not made again.
    expect(eks.calls.filter((c) => c.startsWith('UpdateClusterVersion'))).toHaveLength(2);
    expect(eks.cluster('ml-train').version).toBe('1.35');
    expect(annotation(UPGRADE_ANNOTATIONS.state)).toEqual(['blocked', 'blocked']);
    for (const reason of annotation(UPGRADE_ANNOTATIONS.reason)) {
      expect(reason).toContain('node group system-20261125120000');
      expect(reason).toContain('PodDisruptionBudget kube-system/coredns');
    }
    expect(annotation(UPGRADE_ANNOTATIONS.step)).toEqual(['update-node-group', 'update-node-group']);
    for (const pool of canary().nodeClasses.keys()) {
      expect(JSON.parse(canary().nodePoolAnnotations.get(pool)![FREEZE_ANNOTATION]).owner).toBe('upgrade of ml-train to Kubernetes 1.35, bottlerocket@v1.56.0');
      expect(canary().budgets.get(pool)![0]).toEqual({ nodes: '0', reasons: ['Drifted'] });
    }
    // Nothing replaced while frozen, though Karpenter's version poll saw 1.35.
    expect([...canary().nodeClaims.keys()].sort()).toEqual([...originals.get('ml-train')!].sort());
    delete group.blockingBudget;
  }, 120_000);

  test('the re-run completes: the control plane updated once, each original NodeClaim replaced exactly once, the freeze lifted', async () => {
    const { w, eks, deleted } = ctx;
    const outcomes = await run('1.56.0');
    expect(outcomes.map((o) => [o.cluster, o.outcome])).toEqual([
      ['ml-train', 'rolled-out'],
      ['payments-prod', 'rolled-out'],
    ]);
    // The refused attempt, then the one that moved it (waited for after Ctrl-C, not repeated): never a third.
    expect(eks.calls.filter((c) => c.startsWith('UpdateClusterVersion ml-train'))).toHaveLength(2);
    expect(eks.calls.filter((c) => c.startsWith('UpdateClusterVersion payments-prod'))).toHaveLength(1);
    for (const [name, claims] of originals) {
      expect([name, [...deleted.get(name)!].sort()]).toEqual([name, [...claims].sort()]);
      expect([name, [...new Set([...w.karpenter(name).nodeClaims.values()].map((c) => c.imageId))]]).toEqual([name, [image('1.35', '1.56.0')]]);
      for (const [pool, annotations] of w.karpenter(name).nodePoolAnnotations)
        expect([name, pool, annotations[FREEZE_ANNOTATION]]).toEqual([name, pool, undefined]);
    }
    expect(annotation(UPGRADE_ANNOTATIONS.step)).toEqual([undefined, undefined]);
  }, 180_000);
});
