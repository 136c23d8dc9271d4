/**
 * Issue 30, item 7: each contract has a refused combination. Karpenter's compatibility matrix and version range
 * (contracts/karpenter-compatibility.json, from karpenter-provider-aws v1.14.1) and the first Bottlerocket
 * release of each aws-k8s variant (contracts/bottlerocket-variant-releases.json).
 */
import { karpenterCompatibility, variantReleaseProblems } from '../modules/fleet/compatibility';
import { fleetFrom, problemsOf, validFleet } from './helpers/fleet';
import { readJsonContract } from '../modules/contracts/index';

describe("Karpenter's compatibility matrix", () => {
  test('the matrix as Karpenter v1.14.1 publishes it: 1.35 needs 1.9, 1.36 needs 1.13; v1.14 runs on 1.26 to 1.36', () => {
    const c = readJsonContract<any>('karpenter-compatibility.json');
    expect(c.minimumKarpenter['1.35']).toBe('1.9.0');
    expect(c.minimumKarpenter['1.36']).toBe('1.13.0');
    expect(c.supportedRange['1.14']).toEqual({ min: '1.26', max: '1.36' });
  });

  test("a chart older than the minimum for the cluster's Kubernetes version is refused at synth, naming both and the fix", () => {
    const f = validFleet();
    f.clusters['my-cluster'].kubernetesVersion = '1.36';
    f.clusters['my-cluster'].karpenter.chartVersion = '1.12.0';
    expect(problemsOf(f)).toContainEqual({
      path: 'clusters.my-cluster.karpenter.chartVersion',
      message: 'Karpenter 1.12.0 does not support Kubernetes 1.36: its compatibility matrix asks for 1.13.0 or newer',
      fix: expect.stringContaining('raise chartVersion to at least 1.13.0'),
    });
    expect(karpenterCompatibility('c', '1.35', '1.8.3')).toHaveLength(1);
    expect(karpenterCompatibility('c', '1.35', '1.14.1')).toEqual([]);
  });
});

describe('the first Bottlerocket release of each aws-k8s variant', () => {
  test("a release older than the variant's first is refused at synth (aws-k8s-1.31 first shipped in 1.22.0)", () => {
    const f = validFleet();
    f.clusters['my-cluster'].kubernetesVersion = '1.31';
    f.clusters['my-cluster'].bottlerocketRelease = '1.21.0';
    expect(problemsOf(f)).toContainEqual({
      path: 'clusters.my-cluster.bottlerocketRelease',
      message: expect.stringMatching(/^Bottlerocket 1\.21\.0 has no aws-k8s-1\.31 variant: its first release is 1\.22\.0/),
      fix: 'pin 1.22.0 or newer for Kubernetes 1.31 (docs/upgrades.md)',
    });
    f.clusters['my-cluster'].bottlerocketRelease = '1.22.0';
    expect(() => fleetFrom(f, { today: '2026-06-01' })).not.toThrow();
  });

  test('an older fleet file pinning through amiAlias is checked under that key; latest and unknown variants are not judged', () => {
    expect(variantReleaseProblems('1.31', '1.21.0', 'clusters.c.karpenter.amiAlias')[0].path).toBe('clusters.c.karpenter.amiAlias');
    expect(variantReleaseProblems('1.31', 'latest', 'k')).toEqual([]);
    expect(variantReleaseProblems('1.34', '1.0.0', 'k')).toEqual([]); // no first release recorded: docs/not-verified.md
  });
});
