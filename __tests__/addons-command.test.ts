/** Issue 30, item 2: `bottlerocket-fleet addons --cluster <c>` lists the pinned versions and the newer ones EKS offers. */
import { main, AddonsEks } from '../cli/addons/main';
import { addonRow, compareAddonVersions } from '../cli/addons/versions';
import { captureMain } from './helpers/capture';
import { DEFAULT_FLEET } from './helpers/fleet';

const offered: Record<string, { version: string; isDefault: boolean }[]> = {
  coredns: [
    { version: 'v1.13.2-eksbuild.3', isDefault: true },
    { version: 'v1.13.2-eksbuild.11', isDefault: false },
    { version: 'v1.12.9-eksbuild.1', isDefault: false },
  ],
};

function fakeEks(running: string | undefined): AddonsEks & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    runningVersion: async () => running,
    addonVersions: async (addon, version) => {
      asked.push(`${addon}@${version}`);
      return offered[addon] ?? [];
    },
  };
}

test('add-on versions order by version, then eksbuild number', () => {
  expect(compareAddonVersions('v1.13.2-eksbuild.11', 'v1.13.2-eksbuild.3')).toBeGreaterThan(0);
  expect(compareAddonVersions('v1.12.9-eksbuild.1', 'v1.13.2-eksbuild.3')).toBeLessThan(0);
  expect(addonRow('coredns', 'v1.13.2-eksbuild.3', offered.coredns)).toEqual({
    addon: 'coredns',
    pinned: 'v1.13.2-eksbuild.3',
    eksDefault: 'v1.13.2-eksbuild.3',
    newer: ['v1.13.2-eksbuild.11'],
  });
});

test('lists, for the running version, the pin and the newer versions of every add-on (--json)', async () => {
  const eks = fakeEks('1.35');
  const r = await captureMain(main, ['--cluster', 'my-cluster', '--json'], { FLEET_FILE: DEFAULT_FLEET }, { eks });
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out).toMatchObject({ cluster: 'my-cluster', kubernetesVersion: '1.35', running: true });
  expect(out.addons.find((a: any) => a.addon === 'coredns')).toEqual({
    addon: 'coredns',
    pinned: 'v1.13.2-eksbuild.3',
    eksDefault: 'v1.13.2-eksbuild.3',
    newer: ['v1.13.2-eksbuild.11'],
  });
  expect(eks.asked).toEqual(['coredns@1.35', 'kube-proxy@1.35', 'vpc-cni@1.35', 'eks-pod-identity-agent@1.35']);
});

test('a cluster not created yet is read at the fleet file version; an unknown cluster or a missing --cluster is a usage error', async () => {
  const r = await captureMain(main, ['--cluster', 'my-cluster'], { FLEET_FILE: DEFAULT_FLEET }, { eks: fakeEks(undefined) });
  expect(r.stdout).toContain("cluster my-cluster: Kubernetes 1.35 (no such EKS cluster yet: the fleet file's version)");
  expect((await captureMain(main, ['--cluster', 'nope'], { FLEET_FILE: DEFAULT_FLEET }, { eks: fakeEks('1.35') })).code).toBe(2);
  expect((await captureMain(main, [], { FLEET_FILE: DEFAULT_FLEET }, { eks: fakeEks('1.35') })).stderr).toContain('missing option: --cluster');
});
