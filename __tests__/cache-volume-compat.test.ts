/**
 * A cache every node it serves can mount: the kernel line a cache builds on (contracts/bottlerocket-kernel-lines.json)
 * and the load-time refusals that name the clusters and the fix.
 */
import { kernelLineOf, mkfsFeatures, unmountableFeatures } from '../modules/image-cache/kernel-lines';
import { fleetFrom, problemsOf, validFleet } from './helpers/fleet';

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
    expect(p!.fix).toBe('set kubernetesVersion to 1.32 (the lowest among the cache\'s clusters) or remove it, or give other a cache of their own');
  });

  test('an explicit version on the same kernel line as every user is accepted (1.33 for 1.33 and 1.35)', () => {
    const f = twoClusters('1.35', '1.33');
    f.imageCaches.general.kubernetesVersion = '1.35';
    expect(fleetFrom(f, TODAY).imageCaches.find((c) => c.name === 'general')!.kubernetesVersion).toBe('1.35');
  });
});
