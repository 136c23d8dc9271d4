/**
 * The rollout's cache gate (rollout.cacheMisses) against two fake clusters with a simulated Karpenter and
 * a simulated kubelet whose events say, per pod, which images its node's snapshot held. The new generation
 * lacks an image the old one had: under `fail` the canary fails its health gate naming the image and is
 * rolled back; under `warn` the rollout passes with a warning. `rollout status` shows the last measured
 * hit ratio per cluster. AWS is an in-memory RegionApi (parameters and copies), so no emulator is needed.
 */
import { GENUINE_ACCOUNT, genuineSnapshot } from './helpers/genuine-snapshot';
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { FakeKube } from './helpers/fake-kube';
import { FakeKarpenter } from './helpers/fake-karpenter';
import { FakeKubelet } from './helpers/fake-kubelet-events';
import { fleetFrom, tempDir } from './helpers/fleet';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { renderNodeClass } from '../modules/karpenter/rendered-node-class';
import type { RegionApi } from '../cli/rollout/aws';
import { planRollout } from '../cli/rollout/model';
import { resolveRollout, RolloutDeps, RolloutFailed, runRollout } from '../cli/rollout/engine';
import { status } from '../cli/rollout/report';
import { rolloutKube } from '../cli/rollout/kube-client';
import { cacheKube } from '../cli/cache/report-kube-client';

const P = '/bottlerocket-fleet/image-cache/general/snapshot-id';
const NGINX = 'public.ecr.aws/docker/library/nginx:1.27';
const TRAINER = 'ghcr.io/acme/trainer:2.1';
const GEN = { homeOld: 'snap-0home0old', homeNew: 'snap-0home0new', copyOld: 'snap-0copy0old', copyNew: 'snap-0copy0new' };

/** Parameters and snapshot copies of two regions, in memory. */
function memoryAws(): { api: (region: string) => RegionApi; params: Map<string, string> } {
  const params = new Map<string, string>([
    [`us-west-2 ${P}`, GEN.homeNew],
    [`us-east-1 ${P}`, GEN.copyNew],
    [`us-west-2 ${P}/clusters/ml-train`, GEN.homeOld],
    [`us-east-1 ${P}/clusters/payments-prod`, GEN.copyOld],
    // The cache's history: both builds are genuine (issue 21's provenance checks).
    [`us-west-2 ${P}-history`, JSON.stringify([GEN.homeNew, GEN.homeOld])],
  ]);
  const sourceOf: Record<string, string> = { [GEN.copyOld]: GEN.homeOld, [GEN.copyNew]: GEN.homeNew };
  const api = (region: string): RegionApi => ({
    getParameter: async (name) => params.get(`${region} ${name}`),
    putParameter: async (name, value) => void params.set(`${region} ${name}`, value),
    findCopy: async (_cache, source) => (region === 'us-east-1' ? Object.keys(sourceOf).find((c) => sourceOf[c] === source) : undefined),
    sourceOf: async (id) => sourceOf[id],
    accountId: async () => GENUINE_ACCOUNT,
    describeSnapshot: async (id) => (Object.values(GEN).includes(id) ? genuineSnapshot(id, 'general', sourceOf[id]) : undefined),
    // Built on the fleet's release (a missing release is refused since issue 30); every generation is the cache's 100 GiB.
    bottlerocketVersionOf: async () => '1.55.0-d93bb1b1',
    snapshotSizeGiB: async (id) => (Object.values(GEN).includes(id) ? 100 : undefined),
  });
  return { api, params };
}

class GateWorld {
  clock = Date.parse('2026-11-25T12:00:00Z');
  readonly now = () => this.clock;
  readonly dir = tempDir('rollout-cache-gate-');
  readonly clusters = new Map<string, { kube: FakeKube; karpenter: FakeKarpenter; kubelet: FakeKubelet }>();
  readonly log: string[] = [];
  readonly aws = memoryAws();
  fleet!: ReturnType<typeof fleetFrom>;
  private savedKubeconfig = process.env.KUBECONFIG;

  /** `newHolds`: what the new generation's snapshot holds (the old one holds nginx and the trainer). */
  async setUp(cacheMisses: 'fail' | 'warn', newHolds: string[]): Promise<void> {
    const f = rolloutFleet();
    f.imageCaches.general.images = [NGINX, TRAINER];
    f.rollout.cacheMisses = cacheMisses;
    f.rollout.stages = f.rollout.stages.map((s: object) => ({ ...s, soak: '1m' }));
    delete f.clusters['ml-train'].trustedCertificates;
    delete f.clusters['payments-prod'].trustedCertificates;
    this.fleet = fleetFrom(f);
    const held = (snap: string | undefined) => (snap === GEN.homeNew || snap === GEN.copyNew ? newHolds : [NGINX, TRAINER]);
    const contexts: { name: string; server: string }[] = [];
    for (const cluster of this.fleet.clusters) {
      const kube = new FakeKube();
      kube.now = this.now;
      const karpenter = new FakeKarpenter(kube, this.now);
      for (const pool of cluster.karpenter!.nodePools)
        karpenter.addPool(
          pool.name,
          renderNodeClass(this.fleet.tags, cluster, pool, cluster.region === 'us-west-2' ? GEN.homeOld : GEN.copyOld).manifest as any,
          3,
          [{ nodes: '1', reasons: ['Drifted'] }],
        );
      const kubelet = new FakeKubelet(kube, karpenter, () => [NGINX, TRAINER], held, this.now);
      kubelet.sync();
      contexts.push({ name: cluster.name, server: await kube.start() });
      this.clusters.set(cluster.name, { kube, karpenter, kubelet });
    }
    const kubeconfig = path.join(this.dir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'ml-train',
        clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server, 'insecure-skip-tls-verify': true } })),
        users: [{ name: 'fake', user: { token: 'fake-token' } }],
        contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: 'fake' } })),
      }),
    );
    process.env.KUBECONFIG = kubeconfig;
  }

  /**
   * One client of each kind per cluster for the life of these deps, as the command builds them once (the engine asks
   * for one at every look; a new one reads the kubeconfig and opens a new connection, issue 27 item 5).
   */
  deps(): RolloutDeps {
    const kubes = new Map<string, ReturnType<typeof rolloutKube>>();
    const cacheKubes = new Map<string, ReturnType<typeof cacheKube>>();
    return {
      aws: this.aws.api,
      kube: (c) => kubes.get(c) ?? kubes.set(c, rolloutKube(c)).get(c)!,
      cacheKube: (c) => cacheKubes.get(c) ?? cacheKubes.set(c, cacheKube(c)).get(c)!,
      log: (line) => this.log.push(line),
      now: this.now,
      sleep: async (ms) => {
        this.clock += ms;
        for (const { karpenter, kubelet } of this.clusters.values()) {
          karpenter.advanceTo(this.clock);
          kubelet.sync();
        }
      },
      pollIntervalMs: 60_000,
    };
  }

  async run(deps: RolloutDeps = this.deps()) {
    const plan = planRollout(this.fleet, 'general');
    return runRollout(deps, plan, this.fleet.tags, await resolveRollout(deps, plan));
  }

  status() {
    return status(planRollout(this.fleet, 'general'), { aws: this.aws.api, kube: (c) => rolloutKube(c) });
  }

  async stop(): Promise<void> {
    for (const { kube } of this.clusters.values()) await kube.stop();
    process.env.KUBECONFIG = this.savedKubeconfig;
  }
}

describe('the rollout cache gate (rollout.cacheMisses)', () => {
  let w: GateWorld;
  beforeEach(() => {
    w = new GateWorld();
  });
  afterEach(() => w.stop());

  test('fail (the default): a new generation that lacks an image the old one had fails the canary, naming the image, and is rolled back', async () => {
    await w.setUp('fail', [NGINX]);
    const measured = new Map<string, unknown>();
    const err: unknown = await w.run({ ...w.deps(), onCacheMeasured: (c, pools) => void measured.set(c, pools) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RolloutFailed);
    const failed = err as RolloutFailed;
    expect([failed.stage, failed.cluster]).toEqual(['canary', 'ml-train']);
    expect(failed.reason).toContain(`cache general missed on the new nodes: ${TRAINER} pulled from a registry 3 time(s)`);
    expect(failed.reason).toContain('the new snapshot lacks the image');
    // Rolled back like any health failure; production untouched.
    expect(w.aws.params.get(`us-west-2 ${P}/clusters/ml-train`)).toBe(GEN.homeOld);
    expect(w.aws.params.get(`us-east-1 ${P}/clusters/payments-prod`)).toBe(GEN.copyOld);
    expect(w.log).toContainEqual(expect.stringMatching(/ml-train: FAILED \(pool \w+: cache general missed/));
    // The hit ratio and misses of the new nodes, next to those of the nodes they replaced.
    expect(w.log).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `ml-train: pool default: 3 node\\(s\\), cache hit ratio 50%, misses ${TRAINER.replace(/\./g, '\\.')}.*; replaced nodes: 3 node\\(s\\), cache hit ratio 100%, misses none`,
        ),
      ),
    );
    // The same figures for --json: per pool, the new nodes and the nodes they replaced.
    expect(measured.get('ml-train')).toEqual([
      expect.objectContaining({ pool: 'default', cacheHitRatio: 0.5, misses: [TRAINER], replaced: expect.objectContaining({ cacheHitRatio: 1, misses: [] }) }),
      expect.objectContaining({ pool: 'batch', cacheHitRatio: 0.5, misses: [TRAINER] }),
    ]);
    expect(measured.has('payments-prod')).toBe(false);
    const rows = await w.status();
    expect(rows.find((r) => r.cluster === 'ml-train')).toMatchObject({ cacheHitRatio: 0.5, cacheMeasured: expect.any(String) });
    expect(rows.find((r) => r.cluster === 'payments-prod')?.cacheMeasured).toBeUndefined();
  });

  test('warn: the same generation passes every stage, with a warning naming the image', async () => {
    await w.setUp('warn', [NGINX]);
    const outcomes = await w.run();
    expect(outcomes.map((o) => [o.cluster, o.outcome])).toEqual([
      ['ml-train', 'rolled-out'],
      ['payments-prod', 'rolled-out'],
    ]);
    expect(w.log.filter((l) => l.includes('WARNING (rollout.cacheMisses: warn)') && l.includes(TRAINER)).length).toBeGreaterThanOrEqual(2);
    expect((await w.status()).map((r) => [r.cluster, r.cacheHitRatio])).toEqual([
      ['ml-train', 0.5],
      ['payments-prod', 0.5],
    ]);
  });

  test('events that cannot be read skip the gate with a warning, after the health gate passed', async () => {
    await w.setUp('fail', [NGINX]);
    const denied = (c: string) => ({ ...cacheKube(c), listEvents: () => Promise.reject(new Error('list events: HTTP 403 forbidden')) });
    const outcomes = await w.run({ ...w.deps(), cacheKube: denied });
    expect(outcomes.map((o) => o.outcome)).toEqual(['rolled-out', 'rolled-out']);
    expect(w.log).toContain('  ml-train: WARNING cache not measured (list events: HTTP 403 forbidden); the cache gate is skipped');
  });

  test('a generation that holds every image passes with a hit ratio of 100%', async () => {
    await w.setUp('fail', [NGINX, TRAINER]);
    await w.run();
    expect(w.log.some((l) => l.includes('WARNING'))).toBe(false);
    expect((await w.status()).map((r) => r.cacheHitRatio)).toEqual([1, 1]);
  });
});
