/**
 * `upgrade apply` of a Bottlerocket release across two stages (cli/upgrade/apply.ts on the rollout's stage machinery):
 * the system node groups through the EKS update fake, the node classes' alias in one apply each, the replacements
 * by the simulated Karpenter with AMI discovery (AMI drift by image ID; the alias is not in the static hash).
 * Counted: every original NodeClaim is deleted exactly once, and production moves only after the canary converged
 * and soaked.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { FakeEks, serveEks } from './helpers/fake-eks';
import { bottlerocketImageParameters } from './helpers/fake-karpenter';
import { fleetFrom } from './helpers/fleet';
import { RolloutWorld } from './helpers/rollout-world';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { startMoto, type Moto } from './helpers/real-tools';
import { regionApi } from '../cli/rollout/aws';
import { rolloutKube } from '../cli/rollout/kube-client';
import { stageClock } from '../cli/rollout/stages';
import { upgradeAws } from '../cli/upgrade/aws';
import { applyUpgrade, type ApplyDeps } from '../cli/upgrade/apply';
import { nodegroupUpdater } from '../cli/upgrade/eks-updates';
import { upgradeKube } from '../cli/upgrade/kube-client';
import { upgradeState } from '../cli/upgrade/state';

const PUBLIC_IMAGE_VERSIONS = new Map([['/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.56.0/image_version', '1.56.0-5a1b2c3d']]);
const image = (k8s: string, release: string) => `ami-${k8s.replace('.', '')}${release.replace(/\./g, '')}`;

function amiParameters(): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const release of ['1.55.0', '1.56.0']) parameters.set(bottlerocketImageParameters('1.35', `v${release}`)[0], image('1.35', release));
  return parameters;
}

describe('upgrade apply: a Bottlerocket release across two stages', () => {
  let moto: Moto;
  let w: RolloutWorld;
  let eks: FakeEks;
  let server: { endpoint: string; close(): Promise<void> };
  /** Per cluster: NodeClaims whose deletion Karpenter started, in order. */
  const deleted = new Map<string, string[]>();

  beforeAll(async () => {
    moto = await startMoto();
    w = new RolloutWorld(moto.endpoint);
    await w.setUp(rolloutFleet(), { nodesPerPool: 2, amis: () => ({ parameters: amiParameters(), controlPlaneVersion: () => '1.35' }) });
    eks = new FakeEks();
    for (const c of ['ml-train', 'payments-prod'])
      eks.addCluster(c, { version: '1.35', nodegroups: { 'system-20261125120000': { version: '1.35', releaseVersion: '1.55.0-d93bb1b1', status: 'ACTIVE' } } });
    server = await serveEks(eks);
    for (const [name, { karpenter }] of w.clusters) {
      deleted.set(name, []);
      karpenter.onStep = (sim) => {
        for (const c of sim.nodeClaims.values())
          if (c.deletionRequestedAt !== undefined && !deleted.get(name)!.includes(c.name)) deleted.get(name)!.push(c.name);
      };
    }
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await w.stop();
    await moto.stop();
  });

  const fleetAt = (release: string) => {
    const f = rolloutFleet();
    for (const c of Object.values<any>(f.clusters)) {
      delete c.trustedCertificates;
      c.bottlerocketRelease = release;
    }
    return fleetFrom(f);
  };

  const run = async (release: string) => {
    const rolloutDeps = w.deps();
    process.env.AWS_ENDPOINT_URL_EKS = server.endpoint;
    const fleet = fleetAt(release);
    const state = await upgradeState(fleet, { eks: (r) => upgradeAws(r).eks, region: (r) => regionApi(r), kube: (c) => upgradeKube(c) });
    const deps: ApplyDeps = {
      kube: (c) => rolloutKube(c),
      nodegroups: (region) => nodegroupUpdater(new EKSClient({ region })),
      // The public parameter (moto refuses writes under /aws/, so it is served here): path -> image_version.
      imageVersion: (_region, k8s, arch, r) =>
        Promise.resolve(PUBLIC_IMAGE_VERSIONS.get(`/aws/service/bottlerocket/aws-k8s-${k8s}/${arch}/${r}/image_version`)),
      clock: stageClock(rolloutDeps),
    };
    return applyUpgrade(fleet, state.plan, state.running, deps);
  };

  test('every original NodeClaim is replaced exactly once, on the new image; production only after the canary soaked', async () => {
    const originals = new Map([...w.clusters].map(([name, { karpenter }]) => [name, [...karpenter.nodeClaims.keys()]]));
    const outcomes = await run('1.56.0');
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
    expect(eks.clusters['payments-prod'].nodegroups['system-20261125120000'].releaseVersion).toBe('1.56.0-5a1b2c3d');
    const soaked = w.log.findIndex((l) => l === 'stage canary: done');
    const production = w.log.findIndex((l) => l.includes('payments-prod: updating node group'));
    expect(soaked).toBeGreaterThan(-1);
    expect(production).toBeGreaterThan(soaked);
  }, 180_000);

  test('a re-run finds nothing to do: the plan has no step and nothing is written', async () => {
    const calls = eks.calls.length;
    expect(await run('1.56.0')).toEqual([]);
    expect(eks.calls.length).toBe(calls);
  }, 60_000);
});
