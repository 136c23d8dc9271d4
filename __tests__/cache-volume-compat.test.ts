/**
 * A cache every node it serves can mount: the kernel line a cache builds on (contracts/bottlerocket-kernel-lines.json)
 * and the load-time refusals that name the clusters and the fix.
 */
import { GENUINE_ACCOUNT, genuineSnapshot } from './helpers/genuine-snapshot';
import { kernelLineOf, mkfsFeatures, unmountableFeatures } from '../modules/image-cache/kernel-lines';
import { DEFAULT_FLEET, fleetFrom, problemsOf, validFleet } from './helpers/fleet';
import { SsmAgentProxy } from './helpers/ssm-agent-proxy';
import { checkCleanCommands, cleanCommands, inspectCommands, parseVolumeFacts, stopKubeletCommands } from '../cli/cache/volume';
import { amiParameterPath, builderUserData, pullCommands } from '../cli/cache/plan';
import { loadFleet } from '../modules/fleet/load';
import type { RegionApi } from '../cli/rollout/aws';
import { resolveRollout, RolloutBlocked } from '../cli/rollout/engine';
import { planRollout } from '../cli/rollout/model';
import { rolloutFleet } from './helpers/rollout-fixtures';

const general = loadFleet(DEFAULT_FLEET).imageCaches.find((c) => c.name === 'general')!;

/** validFleet with a second cluster on `version` whose pool also uses the general cache. */
function twoClusters(first: string, second: string) {
  const f = validFleet();
  f.clusters['my-cluster'].kubernetesVersion = first;
  f.clusters.other = {
    ...structuredClone(f.clusters['my-cluster']),
    kubernetesVersion: second,
    vpc: { cidr: '10.1.0.0/16', azCount: 3 },
    karpenter: { nodePools: { default: { imageCache: 'general', dataVolumeGiB: 100 } } },
  };
  return f;
}
const TODAY = { today: '2026-06-01' };

describe('kernel lines of the Bottlerocket variants (contract copied from the variant Cargo.toml files)', () => {
  test('1.31 and 1.32 run 6.1, 1.33 to 1.35 run 6.12, 1.36 runs 6.18; the NVIDIA variants the same', () => {
    expect(['1.31', '1.32', '1.33', '1.34', '1.35', '1.36'].map((v) => kernelLineOf(v, 'cpu'))).toEqual(['6.1', '6.1', '6.12', '6.12', '6.12', '6.18']);
    expect(['1.31', '1.32', '1.33', '1.34', '1.35', '1.36'].map((v) => kernelLineOf(v, 'gpu'))).toEqual(['6.1', '6.1', '6.12', '6.12', '6.12', '6.18']);
  });
  test("6.18's mkfs defaults turn on exchange and parent, which 6.1 does not know", () => {
    expect(mkfsFeatures('6.18')).toEqual(expect.arrayContaining(['exchange', 'parent']));
    expect(unmountableFeatures('6.18', '6.1')).toEqual(['rmapbt', 'nrext64', 'exchange', 'parent']);
    expect(unmountableFeatures('6.18', '6.12')).toEqual(['exchange', 'parent']);
  });
  test('every line mounts what an older line formats (the lowest version is always safe)', () => {
    for (const [older, newer] of [
      ['6.1', '6.12'],
      ['6.1', '6.18'],
      ['6.12', '6.18'],
    ])
      expect(unmountableFeatures(older, newer)).toEqual([]);
  });
});

describe('the version a shared cache builds on', () => {
  test('defaults to the lowest version among its clusters (a 1.32 and a 1.36 cluster: 1.32)', () => {
    const fleet = fleetFrom(twoClusters('1.36', '1.32'), TODAY);
    expect(fleet.imageCaches.find((c) => c.name === 'general')!.kubernetesVersion).toBe('1.32');
  });

  test('an explicit version that a user cannot mount is refused, naming the cluster, its kernel, the features and the fix', () => {
    const f = twoClusters('1.36', '1.32');
    f.imageCaches.general.kubernetesVersion = '1.36';
    const problems = problemsOf(f);
    const p = problems.find((x) => x.path === 'imageCaches.general.kubernetesVersion');
    expect(p).toBeDefined();
    expect(p!.message).toContain('cluster other (Kubernetes 1.32, kernel 6.1) cannot mount: rmapbt, nrext64, exchange, parent');
    expect(p!.message).not.toContain('my-cluster');
    expect(p!.fix).toBe("set kubernetesVersion to 1.32 (the lowest among the cache's clusters) or remove it, or give other a cache of their own");
  });

  test('an explicit version on the same kernel line as every user is accepted (1.33 for 1.33 and 1.35)', () => {
    const f = twoClusters('1.35', '1.33');
    f.imageCaches.general.kubernetesVersion = '1.35';
    expect(fleetFrom(f, TODAY).imageCaches.find((c) => c.name === 'general')!.kubernetesVersion).toBe('1.35');
  });
});

describe("the builder's scripts against the model of a Bottlerocket host (helpers/bottlerocket-host.ts)", () => {
  let proxy: SsmAgentProxy;
  beforeAll(async () => {
    proxy = await SsmAgentProxy.start('http://127.0.0.1:9', { host: { kernelRelease: '6.12.58', dataVolumeBytes: 20 * 2 ** 30 } });
  });
  afterAll(() => proxy.stop());
  const ok = (r: { code: number; stderr: string }) => expect(r).toMatchObject({ code: 0, stderr: '' });

  test('kubelet is stopped before the first pull, and the scripts read the kernel release and the fill', () => {
    const i = 'i-model1';
    ok(proxy.runScript(i, stopKubeletCommands()));
    ok(proxy.runScript(i, pullCommands('public.ecr.aws/docker/library/nginx:1.27', general)));
    expect(proxy.hosts.get(i)!.events).toEqual(['systemctl stop kubelet.service', 'ctr pull public.ecr.aws/docker/library/nginx:1.27']);
    const inspect = proxy.runScript(i, inspectCommands());
    ok(inspect);
    expect(parseVolumeFacts(inspect.stdout)).toEqual({
      kernelRelease: '6.12.58',
      usedBytes: 100_000_000 + Math.round(67.7 * 2 ** 20),
      sizeBytes: 20 * 2 ** 30,
    });
  });

  test('the final check fails while the builder state is there (the pull with its password is in the SSM state), and passes after the clean', () => {
    const i = 'i-model2';
    ok(proxy.runScript(i, stopKubeletCommands()));
    ok(proxy.runScript(i, pullCommands('111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:1', general, 'AWS:s3cret')));
    const host = proxy.hosts.get(i)!;
    expect([...host.files.values()].some((c) => c?.includes('AWS:s3cret'))).toBe(true);
    expect(proxy.runScript(i, checkCleanCommands()).code).not.toBe(0);
    ok(proxy.runScript(i, cleanCommands()));
    const check = proxy.runScript(i, checkCleanCommands());
    ok(check);
    expect(check.stdout).toBe('CLEAN\n');
    expect([...host.files.values()].some((c) => c?.includes('AWS:s3cret'))).toBe(false);
    expect(host.files.has('/var/lib/systemd/random-seed')).toBe(false);
    expect([...host.files.keys()].filter((p) => p.startsWith('/local/host-containers/admin/') || p.startsWith('/var/log/journal/'))).toEqual([]);
    // What is left of the agent's state is the check's own script, which carries no credential.
    expect([...host.files.entries()].filter(([p, c]) => p.startsWith('/local/host-containers/control/ssm/') && c !== null).map(([, c]) => c)).toEqual([
      checkCleanCommands().join('\n'),
    ]);
  });

  test('a clean that leaves the journal on /var would be caught by the check', () => {
    const i = 'i-model3';
    ok(proxy.runScript(i, pullCommands('public.ecr.aws/docker/library/nginx:1.27', general)));
    // The clean without `journalctl --relinquish-var`: the next Run Command is journaled again.
    ok(
      proxy.runScript(
        i,
        cleanCommands().filter((c) => !c.includes('relinquish')),
      ),
    );
    expect(proxy.runScript(i, checkCleanCommands()).code).not.toBe(0);
  });
});

/** Every snapshot is a genuine build of cache general (a copy: "<source>-copy"), so the provenance checks pass (issue 21). */
const genuineSnapshots: Pick<RegionApi, 'describeSnapshot' | 'accountId'> = {
  accountId: async () => GENUINE_ACCOUNT,
  describeSnapshot: async (id) => genuineSnapshot(id, 'general', id.endsWith('-copy') ? id.replace(/-copy$/, '') : undefined),
};

/**
 * A RegionApi where every snapshot exists, is this cache's, is `size(id)` GiB and was built on Bottlerocket
 * `builtOn`; copies are "<source>-copy".
 */
function world(size: (id: string) => number, builtOn = '1.50.0'): (region: string) => RegionApi {
  return (region) => ({
    getParameter: async (name) =>
      name.endsWith('-history')
        ? '["snap-new","snap-old"]'
        : name.includes('/clusters/')
          ? region === 'us-west-2'
            ? 'snap-old'
            : 'snap-old-copy'
          : 'snap-new',
    putParameter: async () => undefined,
    findCopy: async (_cache, source) => `${source}-copy`,
    sourceOf: async (id) => id.replace(/-copy$/, ''),
    ...genuineSnapshots,
    snapshotSizeGiB: async (id) => size(id),
    bottlerocketVersionOf: async () => builtOn,
  });
}

describe('rollout: pools against the real size of both generations a cluster may launch with (issue 20)', () => {
  const plan = () => planRollout(fleetFrom(rolloutFleet(), TODAY), 'general');

  test('a target generation larger than a pool blocks the rollout before anything changes, naming the pool and the generation', async () => {
    const err = await resolveRollout({ aws: world((id) => (id.startsWith('snap-new') ? 150 : 100)) }, plan()).catch((e) => e);
    expect(err).toBeInstanceOf(RolloutBlocked);
    expect(err.message).toMatch(/^nothing was changed: /);
    expect(err.message).toContain(
      "clusters.payments-prod.karpenter.nodePools.default.dataVolumeGiB: 100 GiB is smaller than the rollout's target generation snap-new of cache general, snapshot snap-new-copy in us-east-1 (150 GiB)",
    );
    expect(err.message).toContain('clusters.ml-train.karpenter.nodePools.batch.dataVolumeGiB');
  });

  test('so does a rollback generation larger than a pool', async () => {
    const err = await resolveRollout({ aws: world((id) => (id.startsWith('snap-old') ? 200 : 100)) }, plan()).catch((e) => e);
    expect(err).toBeInstanceOf(RolloutBlocked);
    expect(err.message).toContain('than the generation a rollback returns to of cache general, snapshot snap-old-copy in us-east-1 (200 GiB)');
  });

  test('generations that fit resolve', async () => {
    await expect(resolveRollout({ aws: world(() => 100) }, plan())).resolves.toMatchObject({ source: 'snap-new' });
  });
});

describe('the Bottlerocket release a cache builds on (issue 20)', () => {
  /** twoClusters with the given amiAlias per cluster. */
  function pinned(first: string, second: string, cache?: string) {
    const f = twoClusters('1.35', '1.35');
    // The older form of a pin: amiAlias alone (bottlerocketRelease then follows it).
    delete f.clusters['my-cluster'].bottlerocketRelease;
    delete f.clusters.other.bottlerocketRelease;
    f.clusters['my-cluster'].karpenter.amiAlias = first;
    f.clusters.other.karpenter.amiAlias = second;
    if (cache) f.imageCaches.general.bottlerocketVersion = cache;
    return fleetFrom(f, TODAY);
  }
  const general = (f: ReturnType<typeof fleetFrom>) => f.imageCaches.find((c) => c.name === 'general')!;

  test("defaults to the release its clusters' amiAlias pins, and builds from that versioned public parameter", () => {
    const f = pinned('bottlerocket@v1.50.0', 'bottlerocket@v1.50.0');
    expect(general(f).bottlerocketVersion).toBe('1.50.0');
    expect(amiParameterPath(general(f))).toBe('/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.50.0/image_id');
    expect(f.warnings.filter((w) => w.path === 'imageCaches.general')).toEqual([]);
  });
  test('clusters pinning different releases: a warning naming each pin; the cache builds on the oldest', () => {
    const f = pinned('bottlerocket@v1.51.0', 'bottlerocket@v1.50.0');
    expect(general(f).bottlerocketVersion).toBe('1.50.0');
    const w = f.warnings.find((x) => x.path === 'imageCaches.general')!;
    expect(w.message).toContain('pin different Bottlerocket releases (my-cluster: bottlerocket@v1.51.0, other: bottlerocket@v1.50.0)');
  });
  test('a cluster on @latest against a pinned cache: a warning naming it and the fix', () => {
    const f = pinned('bottlerocket@latest', 'bottlerocket@latest', '1.50.0');
    const w = f.warnings.find((x) => x.path === 'imageCaches.general')!;
    expect(w.message).toContain('built on Bottlerocket 1.50.0, and my-cluster, other use bottlerocket@latest');
    expect(w.fix).toContain('pin karpenter.amiAlias to bottlerocket@v1.50.0');
  });
  test('all on @latest: the builder reads latest, no warning', () => {
    const f = pinned('bottlerocket@latest', 'bottlerocket@latest');
    expect(general(f).bottlerocketVersion).toBeUndefined();
    expect(amiParameterPath(general(f))).toContain('/x86_64/latest/image_id');
    expect(f.warnings.filter((w) => w.path === 'imageCaches.general')).toEqual([]);
  });
  test('an invalid release is refused with its path', () => {
    const f = validFleet();
    f.imageCaches.general.bottlerocketVersion = 'v1.50';
    expect(problemsOf(f).map((p) => p.path)).toContain('imageCaches.general.bottlerocketVersion');
  });

  test('rollout refuses a generation built on a newer release than a cluster pins, unless --allow-version-skew', async () => {
    const f = rolloutFleet();
    delete f.clusters['payments-prod'].bottlerocketRelease; // the older form of a pin: amiAlias alone
    f.clusters['payments-prod'].karpenter.amiAlias = 'bottlerocket@v1.50.0';
    const plan = planRollout(fleetFrom(f, TODAY), 'general');
    const aws = world(() => 100, '1.51.0');
    const err = await resolveRollout({ aws }, plan).catch((e) => e);
    expect(err).toBeInstanceOf(RolloutBlocked);
    expect(err.message).toContain(
      "clusters.payments-prod.karpenter.amiAlias: pins bottlerocket@v1.50.0, and the rollout's target generation snap-new of cache general, snapshot snap-new-copy in us-east-1, was built on the newer Bottlerocket 1.51.0",
    );
    expect(err.message).not.toContain('ml-train'); // on @latest
    await expect(resolveRollout({ aws }, plan, undefined, { allowVersionSkew: true })).resolves.toMatchObject({ source: 'snap-new' });
  });
});

describe("the builder pulls with its pools' pull settings (issue 20)", () => {
  const PULL = {
    network: { 'https-proxy': 'http://proxy.corp:3128', 'no-proxy': ['169.254.169.254', '.internal'] },
    'container-registry': { mirrors: [{ registry: 'docker.io', endpoint: ['https://mirror.corp'] }] },
  };
  const userData = (f: any) => builderUserData(fleetFrom(f, TODAY).imageCaches.find((c) => c.name === 'general')!);

  test("the builder's user data carries the clusters' trusted CAs, registry mirrors and proxy", () => {
    const f = twoClusters('1.35', '1.35');
    for (const c of Object.values<any>(f.clusters)) c.settings = PULL;
    const toml = userData(f);
    expect(toml).toContain('[settings.pki.corp-ca]');
    expect(toml).toContain('https-proxy = "http://proxy.corp:3128"');
    expect(toml).toContain('endpoint = [ "https://mirror.corp" ]');
    expect(toml).toContain('[settings.host-containers.admin]');
  });

  test('clusters whose pools pull differently are refused, naming each pool and the setting', () => {
    const f = twoClusters('1.35', '1.35');
    f.clusters['my-cluster'].settings = PULL;
    const p = problemsOf(f).filter((x) => x.path === 'imageCaches.general');
    expect(p.map((x) => x.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'its pools pull with different settings.network.https-proxy (clusters.my-cluster.karpenter.nodePools.default: "http://proxy.corp:3128"; clusters.other.karpenter.nodePools.default: not set)',
        ),
        expect.stringContaining('different settings.container-registry'),
      ]),
    );
    expect(p.find((x) => x.message.includes('https-proxy'))!.fix).toContain('give those pools the same settings.network.https-proxy');
  });

  test('image verifiers: the same on every pool go to the builder; on some pools only, the cache is refused with the reason', () => {
    const verifiers = { 'image-verifier-plugins': { enabled: true, notation: { trustpolicy: Buffer.from('{}').toString('base64') } } };
    const both = twoClusters('1.35', '1.35');
    for (const c of Object.values<any>(both.clusters)) c.karpenter.nodePools.default.settings = verifiers;
    expect(userData(both)).toContain('[settings.image-verifier-plugins]');
    const one = twoClusters('1.35', '1.35');
    one.clusters.other.karpenter.nodePools.default.settings = verifiers;
    const p = problemsOf(one).find((x) => x.message.includes('settings.image-verifier-plugins'))!;
    expect(p.path).toBe('imageCaches.general');
    expect(p.message).toContain('the cached images would be verified for some pools and not for others (containerd runs verifiers only on pull)');
  });
});
