/**
 * `upgrade plan`, `status` and `apply` end to end: the CLI reads EKS through the real SDK from the EKS update fake
 * (helpers/fake-eks.ts), the clusters through the Kubernetes access layer from the simulated Karpenter with AMI
 * discovery (its nodes report the image they were launched from), and the generations' tags from the AWS emulator.
 */
import { parse } from 'yaml';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { main } from '../../cli/main';
import { loadFleet } from '../../modules/fleet/load';
import { renderNodeClass } from '../../modules/karpenter/rendered-node-class';
import { synthFleet, tempDir } from '../helpers/fleet';
import { type ClusterPins, planClusterStacks, synthesizedPins } from '../helpers/upgrade-stacks';
import { captureMain } from '../helpers/capture';
import type { FakeEks } from '../helpers/fake-eks';
import { P, type RolloutWorld } from '../helpers/rollout-world';
import { describeWithRealTools, emulatorEnv, terraformEnv } from '../helpers/real-tools';
import { RELAXED_GO_GC } from '../helpers/provider-server';
import { claimValue } from '../../cli/upgrade/owner';
import { UPGRADE_ANNOTATIONS } from '../../cli/rollout/model';
import { expectEachReplacedOnce, PUBLIC_PARAMETERS, useUpgradeWorld } from '../helpers/upgrade-world';
import { readJsonContract } from '../../modules/contracts/index';

/** A kube-proxy build for Kubernetes 1.36 (the contract has no checked 1.36 default, so the fleet file pins one). */
const KUBE_PROXY_136 = 'v1.36.0-eksbuild.1';

/** The add-on versions the cluster stack pins for a Kubernetes version (contracts/eks-addon-versions.json). */
function pinnedAddons(k8s: string): Record<string, string> {
  const c = readJsonContract<{ versions: Record<string, Record<string, { version: string | null }>> }>('eks-addon-versions.json');
  return Object.fromEntries(Object.entries(c.versions[k8s] ?? {}).flatMap(([n, v]) => (v.version ? [[n, v.version]] : [])));
}

describeWithRealTools('upgrade plan and status against EKS, the clusters and the emulator', () => {
  // The clusters run Kubernetes 1.35 with the add-on versions the fleet file pins for it.
  const { ctx, cli: run } = useUpgradeWorld({ addons: pinnedAddons('1.35'), tls: true });
  let w: RolloutWorld;
  let eks: FakeEks;
  beforeAll(() => {
    ({ w, eks } = ctx);
  });

  const everyCluster = (f: any, over: Record<string, unknown>) => Object.values<any>(f.clusters).forEach((c) => Object.assign(c, over));

  test('nothing to do when the clusters run what the fleet file says', async () => {
    const r = await run(['upgrade', 'plan', '--json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan).toMatchObject({ ok: true, refused: false });
    expect(plan.stages.flatMap((s: any) => s.clusters.map((c: any) => [c.cluster, c.from, c.steps]))).toEqual([
      ['ml-train', { kubernetesVersion: '1.35', release: '1.55.0' }, []],
      ['payments-prod', { kubernetesVersion: '1.35', release: '1.55.0' }, []],
    ]);
  });

  test('a release upgrade, per stage: the system node group, then alias and snapshot in one apply per class, then the gates', async () => {
    const r = await run(['upgrade', 'plan', '--json'], (f) => everyCluster(f, { bottlerocketRelease: '1.56.0' }));
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.stages.map((s: any) => s.name)).toEqual(['canary', 'production']);
    const canary = plan.stages[0].clusters[0];
    expect(canary.steps.map((s: any) => s.kind)).toEqual(['update-node-group', 'apply-node-image', 'converge']);
    expect(canary.steps[0].description).toContain('system-20261125120000 to release 1.56.0');
    // ml-train has two cached pools of two nodes each: four NodeClaims, each replaced once.
    expect(canary.steps[1].replaces).toBe('4 NodeClaims in default, batch, each once');
    expect(plan.stages[1].clusters[0].steps[1].replaces).toBe('2 NodeClaims in default, each once');
    // Nothing was written: EKS saw reads only.
    expect(eks.calls).toEqual([]);
  });

  test('a Kubernetes minor: freeze, control plane, node group, add-ons, wait for the variant, node image, lift, converge (text)', async () => {
    const r = await run(['upgrade', 'plan'], (f) => everyCluster(f, { kubernetesVersion: '1.36', bottlerocketRelease: '1.56.0' }));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('stage canary\n  ml-train: Kubernetes 1.35, Bottlerocket 1.55.0 → Kubernetes 1.36, Bottlerocket 1.56.0');
    const kinds = [...r.stdout.matchAll(/^ {4}\d+\. (\S+ \S+)/gm)].map((m) => m[1]).slice(0, 8);
    expect(kinds[0]).toBe('record a');
    expect(r.stdout).toContain('update the control plane 1.35 → 1.36 (EKS UpdateClusterVersion, then DescribeUpdate)');
    expect(r.stdout).toContain('wait until every EC2NodeClass resolves aws-k8s-1.36');
    expect(r.stdout.indexOf('update the control plane')).toBeLessThan(r.stdout.indexOf('apply alias bottlerocket@v1.56.0'));
  });

  test('a jump of two minors is refused with nothing written: exit 1, the refusal in the JSON document', async () => {
    eks.cluster('payments-prod').version = '1.34';
    try {
      const r = await run(['upgrade', 'plan', '--json'], (f) => everyCluster(f, { kubernetesVersion: '1.36', bottlerocketRelease: '1.56.0' }));
      expect(r.code).toBe(1);
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({ ok: false, exitCode: 1, refused: true });
      expect(doc.error).toMatch(/payments-prod: Kubernetes 1\.34 → 1\.36 skips 1\.35/);
      expect(r.stderr).toMatch(/^refused: the upgrade is refused, nothing was written/);
      expect(eks.calls).toEqual([]);
    } finally {
      eks.cluster('payments-prod').version = '1.35';
    }
  });

  test('a cluster EKS does not know is refused: upgrade moves running clusters, deploy creates them', async () => {
    const saved = eks.cluster('payments-prod');
    delete eks.clusters['payments-prod'];
    try {
      const r = await run(['upgrade', 'plan', '--json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).error).toContain('cluster payments-prod is not running');
    } finally {
      eks.clusters['payments-prod'] = saved;
    }
  });

  test('status: running versions, and per pool the NodeClaims grouped by variant, release and generation', async () => {
    const r = await run(['upgrade', 'status', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const ml = doc.clusters.find((c: any) => c.cluster === 'ml-train');
    expect(ml.running).toMatchObject({
      controlPlane: '1.35',
      nodegroup: { name: 'system-20261125120000', version: '1.35', releaseVersion: '1.55.0-d93bb1b1' },
    });
    expect(ml.pools).toEqual([
      expect.objectContaining({
        pool: 'default',
        alias: 'bottlerocket@v1.55.0',
        groups: [{ variant: 'aws-k8s-1.35', release: '1.55.0', generation: w.gen.homeOld, nodeClaims: 2 }],
      }),
      expect.objectContaining({ pool: 'batch', groups: [{ variant: 'aws-k8s-1.35', release: '1.55.0', generation: w.gen.homeOld, nodeClaims: 2 }] }),
    ]);
    const text = await run(['upgrade', 'status']);
    expect(text.stdout).toContain(`  pool default\taws-k8s-1.35\t1.55.0\t${w.gen.homeOld}\t2 NodeClaim(s)`);
  });

  test('apply checks every kubeconfig context against EKS before any write: a context that reaches another server is refused', async () => {
    // EKS reports each cluster's own API server and CA; ml-train's context here points at payments-prod's server.
    const r = await run(['upgrade', 'apply', '--json', '--context', 'ml-train=payments-prod'], (f) => everyCluster(f, { bottlerocketRelease: '1.56.0' }));
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, exitCode: 1 });
    expect(doc.error).toContain('ml-train');
    expect(doc.error).toContain(
      `kubeconfig context "payments-prod" is not cluster ml-train: its server is ${w.apiServers.get('payments-prod')!.endpoint}, but EKS reports the cluster's endpoint as ${w.apiServers.get('ml-train')!.endpoint}`,
    );
    expect(r.stderr).toMatch(/^refused: /m);
    expect(eks.calls).toEqual([]);
    expect(w.karpenter('ml-train').writes).toEqual([]);
    expect(w.karpenter('payments-prod').writes).toEqual([]);
  });

  /** Each cluster's NodeClaims now, and how many deletions the world has counted so far. */
  const snapshotClaims = () => ({
    originals: new Map([...w.clusters].map(([name, { karpenter }]) => [name, [...karpenter.nodeClaims.keys()]])),
    counted: new Map([...ctx.deleted].map(([name, d]) => [name, d.length])),
  });
  /** The NodeClaims deleted since `counted`. */
  const deletedSince = (counted: ReadonlyMap<string, number>) => new Map([...ctx.deleted].map(([name, d]) => [name, d.slice(counted.get(name))]));
  /** `upgrade status --json` afterwards: per cluster, no upgrade in progress and every pool on one (variant, release, generation). */
  const expectSettled = async (edit: (f: any) => void, variant: string, release: string, generations: ReadonlyMap<string, string>) => {
    const r = await run(['upgrade', 'status', '--json'], edit);
    expect(r.code).toBe(0);
    for (const c of JSON.parse(r.stdout).clusters) {
      expect([c.cluster, c.upgrade]).toEqual([c.cluster, `bottlerocket@v${release}: done [${c.pools.map((p: any) => p.pool).join(', ')}]`]);
      for (const p of c.pools)
        expect([c.cluster, p.pool, p.groups]).toEqual([
          c.cluster,
          p.pool,
          // Two nodes per pool (useUpgradeWorld), each on the one image.
          [{ variant, release, generation: generations.get(c.cluster), nodeClaims: 2 }],
        ]);
    }
    const again = await run(['upgrade', 'plan', '--json'], edit);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).stages.flatMap((s: any) => s.clusters.map((c: any) => [c.cluster, c.steps]))).toEqual([
      ['ml-train', []],
      ['payments-prod', []],
    ]);
  };

  // Issue 31, "Done when": plan -> apply -> status through the command, across the fleet's two stages. These two
  // tests run in order on the world the tests above left at Kubernetes 1.35, Bottlerocket 1.55.0.
  test('another run owning a cluster refuses apply before any write: exit 1, its run, host and pid named', async () => {
    const release = (f: any) => everyCluster(f, { bottlerocketRelease: '1.56.0' });
    const prod = w.karpenter('payments-prod');
    const before = JSON.stringify([...prod.nodeClasses.values()].map((c) => c.spec));
    // A live claim: renewed just now on the command's clock, by a process of another host (cli/upgrade/owner.ts).
    const claim = claimValue({ run: 'a1b2c3d4e5f6', host: 'other-host', pid: 4242 }, w.now());
    for (const cls of prod.nodeClasses.values()) cls.annotations[UPGRADE_ANNOTATIONS.owner] = claim;
    try {
      const r = await run(['upgrade', 'apply', '--json', '--poll-interval', '60s'], release);
      expect(r.code).toBe(1);
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({ ok: false, exitCode: 1 });
      expect(doc.error).toContain('cluster payments-prod: another upgrade apply owns it (run a1b2c3d4e5f6, pid 4242 on other-host');
      expect(r.stderr).toMatch(/^refused: cluster payments-prod: another upgrade apply owns it/m);
      expect(eks.calls).toEqual([]);
      expect(JSON.stringify([...prod.nodeClasses.values()].map((c) => c.spec))).toBe(before);
      expect([...w.karpenter('ml-train').nodeClasses.values()].map((c) => (c.spec as any).amiSelectorTerms)).toEqual(
        [...w.karpenter('ml-train').nodeClasses.values()].map(() => [{ alias: 'bottlerocket@v1.55.0' }]),
      );
    } finally {
      for (const cls of prod.nodeClasses.values()) delete cls.annotations[UPGRADE_ANNOTATIONS.owner];
    }
  });

  test('a release upgrade end to end (--json): plan, apply across both stages, status on one image, a second plan with nothing to do', async () => {
    const release = (f: any) => everyCluster(f, { bottlerocketRelease: '1.56.0' });
    const { originals, counted } = snapshotClaims();
    expect((await run(['upgrade', 'plan', '--json'], release)).code).toBe(0);

    const r = await run(['upgrade', 'apply', '--json', '--poll-interval', '60s'], release);
    expect([r.code, r.stderr.split('\n').filter((l) => /FAILED|refused|Error/.test(l))]).toEqual([0, []]);
    const doc = JSON.parse(r.stdout);
    expect(doc.clusters.map((o: any) => [o.stage, o.cluster, o.from, o.to, o.outcome])).toEqual([
      ['canary', 'ml-train', 'bottlerocket@v1.55.0', 'bottlerocket@v1.56.0', 'rolled-out'],
      ['production', 'payments-prod', 'bottlerocket@v1.55.0', 'bottlerocket@v1.56.0', 'rolled-out'],
    ]);
    const generations = new Map([
      ['ml-train', w.gen.homeOld],
      ['payments-prod', w.gen.copyOld],
    ]);
    expectEachReplacedOnce(w, deletedSince(counted), originals, '1.56.0', generations);
    expect(eks.calls).toEqual([
      'UpdateNodegroupVersion ml-train/system-20261125120000 - 1.56.0-5a1b2c3d',
      'UpdateNodegroupVersion payments-prod/system-20261125120000 - 1.56.0-5a1b2c3d',
    ]);
    // Under --json the progress goes to stderr: production moved only after the canary converged and soaked.
    expect(r.stderr.indexOf('stage canary: done')).toBeGreaterThan(-1);
    expect(r.stderr.indexOf('payments-prod: updating node group')).toBeGreaterThan(r.stderr.indexOf('stage canary: done'));

    await expectSettled(release, 'aws-k8s-1.35', '1.56.0', generations);
  }, 180_000);

  test('a Kubernetes minor with a new cache generation end to end (text): the control plane, node group and add-on, each node replaced once', async () => {
    // The new generation (homeNew, its copy in us-east-1) is what each cluster's parameter names; kube-proxy is per minor.
    await w.putParameter('us-west-2', `${P}/clusters/ml-train`, w.gen.homeNew);
    await w.putParameter('us-east-1', `${P}/clusters/payments-prod`, w.gen.copyNew!);
    const minor = (f: any) =>
      everyCluster(f, { kubernetesVersion: '1.36', bottlerocketRelease: '1.56.0', addons: { ...pinnedAddons('1.35'), 'kube-proxy': KUBE_PROXY_136 } });
    const { originals, counted } = snapshotClaims();
    const plan = await run(['upgrade', 'plan'], minor);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('ml-train: Kubernetes 1.35, Bottlerocket 1.56.0 → Kubernetes 1.36, Bottlerocket 1.56.0');
    eks.calls.length = 0;

    const r = await run(['upgrade', 'apply', '--poll-interval', '60s'], minor);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('done: ml-train rolled-out, payments-prod rolled-out\n');
    const generations = new Map([
      ['ml-train', w.gen.homeNew],
      ['payments-prod', w.gen.copyNew!],
    ]);
    expectEachReplacedOnce(w, deletedSince(counted), originals, '1.56.0', generations, '1.36');
    expect(eks.calls).toEqual([
      'UpdateClusterVersion ml-train 1.36',
      'UpdateNodegroupVersion ml-train/system-20261125120000 1.36 1.56.0-5a1b2c3d',
      `UpdateAddon ml-train/kube-proxy ${KUBE_PROXY_136}`,
      'UpdateClusterVersion payments-prod 1.36',
      'UpdateNodegroupVersion payments-prod/system-20261125120000 1.36 1.56.0-5a1b2c3d',
      `UpdateAddon payments-prod/kube-proxy ${KUBE_PROXY_136}`,
    ]);
    expect(r.stdout.indexOf('payments-prod: updating the control plane')).toBeGreaterThan(r.stdout.indexOf('stage canary: done'));

    await expectSettled(minor, 'aws-k8s-1.36', '1.56.0', generations);
  }, 180_000);

  // Issue 31, item 2: afterwards the fleet file already says what was applied. Every cluster's stacks as synthesized;
  // ml-train's also through a real Terraform plan against the emulator (helpers/upgrade-stacks.ts says what that checks).
  test('after the upgrade the fleet file synthesizes what was applied: the cluster stacks pin what EKS runs, the node classes are the live ones', async () => {
    const fleet = loadFleet(w.fleetFile);
    // The stacks this test reads: every cluster stack, and ml-train's Karpenter stack for the plan below.
    const stacks = synthFleet(fleet, [...fleet.clusters.map((c) => `${c.name}-cluster`), 'ml-train-karpenter']);
    const generation = new Map([
      ['ml-train', w.gen.homeNew],
      ['payments-prod', w.gen.copyNew!],
    ]);
    for (const cluster of fleet.clusters) {
      const running = eks.cluster(cluster.name);
      const runs: ClusterPins = {
        version: running.version,
        release: running.nodegroups['system-20261125120000']!.releaseVersion,
        addons: Object.fromEntries(Object.entries(running.addons).map(([name, a]) => [name, a!.version])),
      };
      expect([cluster.name, synthesizedPins(stacks[`${cluster.name}-cluster`], PUBLIC_PARAMETERS)]).toEqual([cluster.name, runs]);
      for (const pool of cluster.karpenter!.nodePools) {
        const live = w.karpenter(cluster.name).nodeClasses.get(pool.name)!.spec;
        expect([cluster.name, pool.name, renderNodeClass(fleet.tags, cluster, pool, generation.get(cluster.name)).manifest.spec]).toEqual([
          cluster.name,
          pool.name,
          live,
        ]);
      }
    }

    const ml = fleet.clusters.find((c) => c.name === 'ml-train')!;
    const dir = tempDir('upgrade-stacks-');
    // Through the proxy: the public parameters it serves, everything else forwarded to the emulator.
    // The Go collector relaxed for Terraform and the provider (provider-server.ts: setup only, the plan is the same).
    const env = terraformEnv(dir, { ...emulatorEnv(ctx.ssm.endpoint, ml.region), ...RELAXED_GO_GC });
    await new EKSClient({ region: ml.region, endpoint: ctx.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }).send(
      new CreateClusterCommand({ name: ml.name, roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
    );
    const { pins, nodeClasses } = await planClusterStacks({ cluster: stacks['ml-train-cluster'], karpenter: stacks['ml-train-karpenter'] }, dir, env);
    expect(pins).toEqual(synthesizedPins(stacks['ml-train-cluster'], PUBLIC_PARAMETERS));
    for (const pool of ml.karpenter!.nodePools) {
      const rendered = renderNodeClass(fleet.tags, ml, pool, w.gen.homeNew);
      // Byte for byte the rendering, and the spec the cluster runs.
      expect(nodeClasses.get(rendered.manifest.metadata.name)).toBe(rendered.yaml);
      expect(parse(rendered.yaml).spec).toEqual(w.karpenter('ml-train').nodeClasses.get(pool.name)!.spec);
    }
  }, 300_000);

  test('usage: a missing or unknown action exits 2', async () => {
    expect((await captureMain(main, ['upgrade'])).code).toBe(2);
    const r = await captureMain(main, ['upgrade', 'rollback', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toBe('unknown action "rollback" (expected plan, status or apply)');
  });
});
