/**
 * `upgrade plan` and `upgrade status` end to end: the CLI reads EKS through the real SDK from the EKS update fake
 * (helpers/fake-eks.ts), the clusters through the Kubernetes access layer from the simulated Karpenter with AMI
 * discovery (its nodes report the image they were launched from), and the generations' tags from the AWS emulator.
 */
import * as fs from 'fs';
import { stringify } from 'yaml';
import { main } from '../../cli/main';
import { captureMain } from '../helpers/capture';
import { FakeEks, serveEks } from '../helpers/fake-eks';
import { bottlerocketImageParameters } from '../helpers/fake-karpenter';
import { RolloutWorld } from '../helpers/rollout-world';
import { rolloutFleet } from '../helpers/rollout-fixtures';
import { describeWithRealTools, startMoto, type Moto } from '../helpers/real-tools';
import { readJsonContract } from '../../modules/contracts/index';

const image = (k8s: string, release: string) => `ami-${k8s.replace('.', '')}${release.replace(/\./g, '')}`;

/** The public parameters Karpenter resolves aliases through: Kubernetes 1.35 and 1.36, releases 1.55.0 and 1.56.0. */
function amiParameters(): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const k8s of ['1.35', '1.36'])
    for (const release of ['1.55.0', '1.56.0']) parameters.set(bottlerocketImageParameters(k8s, `v${release}`)[0], image(k8s, release));
  return parameters;
}

/** The add-on versions the cluster stack pins for a Kubernetes version (contracts/eks-addon-versions.json). */
function pinnedAddons(k8s: string): Record<string, string> {
  const c = readJsonContract<{ versions: Record<string, Record<string, { version: string | null }>> }>('eks-addon-versions.json');
  return Object.fromEntries(Object.entries(c.versions[k8s] ?? {}).flatMap(([n, v]) => (v.version ? [[n, v.version]] : [])));
}

describeWithRealTools('upgrade plan and status against EKS, the clusters and the emulator', () => {
  let moto: Moto;
  let w: RolloutWorld;
  let eks: FakeEks;
  let server: { endpoint: string; close(): Promise<void> };

  beforeAll(async () => {
    moto = await startMoto();
    w = new RolloutWorld(moto.endpoint);
    await w.setUp(rolloutFleet(), { nodesPerPool: 2, amis: () => ({ parameters: amiParameters(), controlPlaneVersion: () => '1.35' }) });
    eks = new FakeEks();
    for (const c of ['ml-train', 'payments-prod'])
      eks.addCluster(c, {
        version: '1.35',
        nodegroups: { 'system-20261125120000': { version: '1.35', releaseVersion: '1.55.0-d93bb1b1', status: 'ACTIVE' } },
        addons: Object.fromEntries(Object.entries(pinnedAddons('1.35')).map(([n, v]) => [n, { version: v, status: 'ACTIVE' as const }])),
      });
    server = await serveEks(eks);
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await w.stop();
    await moto.stop();
  });

  /** Runs the CLI on a fleet file edited by `edit` (the world was set up from rolloutFleet()). */
  const run = async (argv: string[], edit: (f: any) => void = () => {}) => {
    const f = rolloutFleet();
    for (const c of Object.values<any>(f.clusters)) delete c.trustedCertificates;
    edit(f);
    fs.writeFileSync(w.fleetFile, stringify(f));
    return captureMain(main, argv, { ...w.env(), AWS_ENDPOINT_URL_EKS: server.endpoint });
  };
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
    // The fake EKS reports https://<cluster>.eks.example; the world's contexts point at loopback fakes.
    const r = await run(['upgrade', 'apply', '--json'], (f) => everyCluster(f, { bottlerocketRelease: '1.56.0' }));
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, exitCode: 1 });
    expect(doc.error).toContain('ml-train');
    expect(r.stderr).toMatch(/^refused: /m);
    expect(eks.calls).toEqual([]);
    expect(w.karpenter('ml-train').writes).toEqual([]);
  });

  test('usage: a missing or unknown action exits 2', async () => {
    expect((await captureMain(main, ['upgrade'])).code).toBe(2);
    const r = await captureMain(main, ['upgrade', 'rollback', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toBe('unknown action "rollback" (expected plan, status or apply)');
  });
});
