/**
 * Issue 30, items 3 to 6, offline: release tags in both forms, the checks a generation must pass against the
 * alias that will be applied and every version a cluster's nodes may run, and the version guard.
 */
import { generationBuild, kernelLineOfRelease, parseRelease, releaseTags } from '../cli/shared/generation-build';
import { nodeImageRefusals, versionsNodesMayRun } from '../cli/shared/node-image-checks';
import { versionGuard } from '../cli/shared/version-guard';
import { buildVersionFor } from '../cli/cache/build-version';
import { nodeImageGate } from '../cli/rollout/node-image-gate';
import type { RegionApi } from '../cli/rollout/aws';
import { fleetFrom, validFleet } from './helpers/fleet';

const cluster = fleetFrom(validFleet(), { today: '2026-12-07' }).clusters[0]; // 1.35, pinned to 1.55.0
const target = { cluster, alias: 'bottlerocket@v1.55.0', aliasSource: 'clusters.my-cluster.karpenter.amiAlias: pins' };
const generation = (tags: Record<string, string>) => ({
  cache: 'general',
  variant: 'cpu' as const,
  snapshot: 'snap-1',
  region: 'us-west-2',
  role: 'the generation its node classes will name',
  build: generationBuild(tags),
});
const OK = { 'bottlerocket-fleet:bottlerocket-release': '1.55.0', 'bottlerocket-fleet:kernel-release': '6.12.40' };

describe('release tags that parse (item 3)', () => {
  test('the raw image_version with its build commit and the plain release both parse; anything else is unknown', () => {
    expect(parseRelease('1.55.0-d93bb1b1')).toBe('1.55.0');
    expect(parseRelease('1.50.0')).toBe('1.50.0');
    expect(parseRelease('0.5.0-e0ddf1b')).toBe('0.5.0'); // pubsys's documented example
    for (const bad of ['unknown', 'v1.55.0', '1.55', '1.55.0-', '1.55.0-XYZ', undefined]) expect(parseRelease(bad)).toBeUndefined();
    expect(kernelLineOfRelease('6.12.40')).toBe('6.12');
    expect(kernelLineOfRelease('6.1.170')).toBe('6.1');
  });

  test('a build records the raw image_version and the release separately; the pinned release when the parameter is missing', () => {
    expect(releaseTags('1.55.0-d93bb1b1', '1.55.0')).toEqual([
      { Key: 'bottlerocket-fleet:bottlerocket-version', Value: '1.55.0-d93bb1b1' },
      { Key: 'bottlerocket-fleet:bottlerocket-release', Value: '1.55.0' },
    ]);
    expect(releaseTags(undefined, '1.55.0')).toContainEqual({ Key: 'bottlerocket-fleet:bottlerocket-release', Value: '1.55.0' });
    expect(releaseTags(undefined, undefined)).toContainEqual({ Key: 'bottlerocket-fleet:bottlerocket-release', Value: 'unknown' });
  });

  test('an image_version of another release than the one the cache builds on is refused, not recorded', () => {
    expect(() => releaseTags('1.56.0-abcdef12', '1.55.0')).toThrow(/image_version is "1.56.0-abcdef12", which is not Bottlerocket 1.55.0/);
  });

  test('readers take the new tag first, else the old one', () => {
    expect(generationBuild({ 'bottlerocket-fleet:bottlerocket-version': '1.56.0-abcdef12' }).release).toBe('1.56.0');
    expect(generationBuild({ 'bottlerocket-fleet:bottlerocket-version': 'unknown', 'bottlerocket-fleet:bottlerocket-release': '1.55.0' }).release).toBe(
      '1.55.0',
    );
    expect(generationBuild({}).release).toBeUndefined();
  });
});

describe('a generation against the nodes that may mount it (items 4 and 5)', () => {
  test('same release and a kernel line the nodes mount: no refusal', () => {
    expect(nodeImageRefusals({ ...target, runningVersion: '1.35' }, generation(OK))).toEqual([]);
  });

  test('a newer release (raw image_version form) is refused naming pin and release; --allow-version-skew lets it pass', () => {
    const g = generation({ ...OK, 'bottlerocket-fleet:bottlerocket-release': '1.56.0-abcdef12' });
    expect(nodeImageRefusals(target, g)).toEqual([expect.stringContaining('pins bottlerocket@v1.55.0, and the generation its node classes will name')]);
    expect(nodeImageRefusals(target, g)[0]).toContain('was built on the newer Bottlerocket 1.56.0');
    expect(nodeImageRefusals(target, g, { allowVersionSkew: true })).toEqual([]);
  });

  test('a missing or unparseable release is refused as unknown', () => {
    const missing = generation({ 'bottlerocket-fleet:kernel-release': '6.12.40' });
    expect(nodeImageRefusals(target, missing)).toEqual([expect.stringContaining('records no Bottlerocket release that parses (no release tag)')]);
    const bad = generation({ ...OK, 'bottlerocket-fleet:bottlerocket-release': 'latest' });
    expect(nodeImageRefusals(target, bad)).toEqual([expect.stringContaining('(tag value "latest")')]);
  });

  test('an unpinned cluster (latest) is not compared on the release; the kernel still is', () => {
    const g = generation({ 'bottlerocket-fleet:bottlerocket-release': '1.99.0', 'bottlerocket-fleet:kernel-release': '6.18.44' });
    const r = nodeImageRefusals({ ...target, alias: 'bottlerocket@latest' }, g);
    expect(r).toEqual([expect.stringContaining('cluster my-cluster is set to Kubernetes 1.35 in the fleet file (aws-k8s-1.35, kernel 6.12)')]);
  });

  test('kernel 6.18 is refused for a cluster whose control plane runs 1.35 although the fleet file says 1.36', () => {
    const at136 = fleetFrom(
      { ...validFleet(), clusters: { edge: { ...validFleet().clusters['my-cluster'], kubernetesVersion: '1.36' } } },
      { today: '2026-12-07' },
    ).clusters[0];
    const g = generation({ ...OK, 'bottlerocket-fleet:kernel-release': '6.18.44' });
    expect(versionsNodesMayRun({ cluster: at136, runningVersion: '1.35' })).toEqual(['1.35', '1.36']);
    const r = nodeImageRefusals({ ...target, cluster: at136, runningVersion: '1.35' }, g);
    expect(r).toEqual([
      expect.stringMatching(/^cluster edge runs Kubernetes 1\.35 \(aws-k8s-1\.35, kernel 6\.12\).*built on kernel 6\.18\.44 \(line 6\.18\).*exchange, parent/),
    ]);
    expect(nodeImageRefusals({ ...target, cluster: at136, runningVersion: '1.36' }, g)).toEqual([]);
  });

  test('a missing or unknown kernel tag is refused unless --allow-unknown-kernel; a kernel that cannot mount never passes', () => {
    const none = generation({ 'bottlerocket-fleet:bottlerocket-release': '1.55.0' });
    expect(nodeImageRefusals(target, none)).toEqual([expect.stringContaining('no bottlerocket-fleet:kernel-release tag')]);
    expect(nodeImageRefusals(target, none, { allowUnknownKernel: true })).toEqual([]);
    expect(nodeImageRefusals(target, generation({ ...OK, 'bottlerocket-fleet:kernel-release': '5.15.1' }))).toEqual([expect.stringContaining('kernel 5.15.1')]);
    const newer = generation({ ...OK, 'bottlerocket-fleet:kernel-release': '6.18.44' });
    expect(nodeImageRefusals(target, newer, { allowUnknownKernel: true, allowVersionSkew: true })).toHaveLength(1);
  });
});

describe('the version guard of a cluster stack (item 6)', () => {
  const c = (v: string) => ({ name: 'c', kubernetesVersion: v });
  test('the running version, the next minor, or a cluster not created yet pass', () => {
    expect(versionGuard(c('1.35'), '1.35')).toBeUndefined();
    expect(versionGuard(c('1.35'), '1.34')).toBeUndefined();
    expect(versionGuard(c('1.35'), undefined)).toBeUndefined();
  });
  test('two minors ahead is refused naming the one in between; a downgrade is refused', () => {
    expect(versionGuard(c('1.35'), '1.33')).toBe(
      'clusters.c.kubernetesVersion: 1.35, and the control plane runs 1.33: EKS upgrades one minor at a time. Set kubernetesVersion to 1.34, deploy, then move on to 1.35',
    );
    expect(versionGuard(c('1.36'), '1.31')).toContain('Set kubernetesVersion to 1.32');
    expect(versionGuard(c('1.34'), '1.35')).toContain('EKS cannot downgrade a cluster');
  });
});

describe('cache build runs on the lowest version among the fleet file and the running clusters (item 5)', () => {
  const fleet = fleetFrom(validFleet(), { today: '2026-12-07' });
  const general = fleet.imageCaches.find((c) => c.name === 'general')!;

  test('a control plane still on 1.34 lowers the build to aws-k8s-1.34, with a note naming it', async () => {
    const r = await buildVersionFor(fleet, general, async () => '1.34');
    expect(r.cache.kubernetesVersion).toBe('1.34');
    expect(r.note).toBe(
      'cache general: building on aws-k8s-1.34, not 1.35: cluster my-cluster still runs 1.34 (EKS DescribeCluster), and its nodes must mount the volume too',
    );
  });

  test('running the fleet file version, a newer one, or not created yet: the fleet file decides', async () => {
    for (const running of ['1.35', '1.36', undefined]) expect((await buildVersionFor(fleet, general, async () => running)).cache).toBe(general);
  });
});

describe('the rollout compares with the alias it will leave on each class (item 4)', () => {
  // The case: the fleet file says v1.51.0, the alias edit was held back so the live class still selects
  // v1.50.0, and the cache was built on 1.51.0: the canary nodes would boot 1.50.0 with a 1.51.0 cache.
  const f = validFleet();
  f.clusters['my-cluster'].bottlerocketRelease = '1.51.0';
  delete f.imageCaches.gpu;
  delete f.clusters['my-cluster'].karpenter.nodePools.gpu;
  const fleet = fleetFrom(f, { today: '2026-12-07' });
  const cluster = fleet.clusters[0];
  const target = { step: { stage: 's', cluster, region: 'us-west-2', pools: cluster.karpenter!.nodePools, parameter: 'p' }, to: 'snap-new' };
  const aws = () =>
    ({
      describeSnapshot: async (id: string) => ({
        id,
        tags: { 'bottlerocket-fleet:bottlerocket-version': '1.51.0-abcdef12', 'bottlerocket-fleet:kernel-release': '6.12.40' },
      }),
      bottlerocketVersionOf: async () => undefined,
    }) as unknown as RegionApi;
  const liveAlias = (alias: string | undefined) => () => ({
    getNodeClass: async () => (alias ? ({ annotations: {}, spec: { amiSelectorTerms: [{ alias }] } } as any) : undefined),
  });
  const cache = fleet.imageCaches.find((c) => c.name === 'general')!;

  test('the live class on v1.50.0 refuses a 1.51.0 generation although the fleet file says v1.51.0', async () => {
    const r = await nodeImageGate({ aws, kube: liveAlias('bottlerocket@v1.50.0') }, cache, 'snap-new', [target], {});
    expect(r).toEqual([
      expect.stringMatching(
        /^cluster my-cluster: the live EC2NodeClass default, whose alias the rollout keeps, selects bottlerocket@v1\.50\.0, and .* newer Bottlerocket 1\.51\.0/,
      ),
    ]);
  });

  test('a class not applied yet takes the fleet file alias: no refusal', async () => {
    expect(await nodeImageGate({ aws, kube: liveAlias(undefined) }, cache, 'snap-new', [target], {})).toEqual([]);
  });
});
