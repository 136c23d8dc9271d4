/**
 * Issue 30, items 1 and 2: one Bottlerocket release per cluster drives every pool's alias and the system node
 * group's release; add-ons are pinned. No stack follows "latest" or "most recent" unless the fleet file says so.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_FLEET, fleetFrom, PROJECT_ROOT, problemsOf, synthFleet, synthFleetFile, validFleet } from './helpers/fleet';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { resolveAddons } from '../modules/fleet/addon-versions';

const TODAY = { today: '2026-12-07' };

/** Every amiSelectorTerms alias in a stack's node classes (in their YAML bodies). */
function nodeClassAliases(stack: any): string[] {
  return [...JSON.stringify(stack).matchAll(/alias: (bottlerocket@[^\s"\\]+)/g)].map((m) => m[1]);
}

describe('clusters.<c>.bottlerocketRelease drives every node (issue 30, item 1)', () => {
  const stacks = synthFleetFile(DEFAULT_FLEET);
  const cluster = stacks['my-cluster-cluster'];
  const system = cluster.module.eks.eks_managed_node_groups.system;
  const [lookupName, lookup] = Object.entries<any>(cluster.data.aws_ssm_parameters_by_path)[0];

  test("every pool's alias is the cluster's release", () => {
    const aliases = nodeClassAliases(stacks['my-cluster-karpenter']);
    expect(aliases.length).toBeGreaterThanOrEqual(2);
    expect(new Set(aliases)).toEqual(new Set(['bottlerocket@v1.55.0']));
  });

  test("the system node group runs the release's image_version, read from its public parameter and never the latest", () => {
    expect(lookup.path).toBe('/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.55.0');
    expect(system.ami_release_version).toContain(`data.aws_ssm_parameters_by_path.${lookupName}.values`);
    expect(system.ami_release_version).toContain('"/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.55.0/image_version"');
    expect(system.use_latest_ami_release_version).toBe(false);
    expect(system.force_update_version).toBe(false);
  });

  test('a missing parameter fails the plan naming release, variant and architecture; a value of another release is not trusted', () => {
    const [missing, wrongValue] = lookup.lifecycle.postcondition;
    expect(missing.error_message).toMatch(/^Bottlerocket 1\.55\.0 has no aws-k8s-1\.35 build for x86_64/);
    expect(wrongValue.condition).toContain('regex("^1\\\\.55\\\\.0(-[0-9a-f]+)?$"');
    expect(wrongValue.error_message).toContain('does not hold release 1.55.0');
  });

  test('an arm64 system node group reads the arm64 parameter', () => {
    const f = validFleet();
    f.clusters['my-cluster'].systemNodeGroup.arch = 'arm64';
    f.clusters['my-cluster'].systemNodeGroup.instanceTypes = ['m7g.xlarge']; // an x86_64 type is refused for arm64 (instance-checks.ts)
    const lookups = Object.values<any>(synthFleet(fleetFrom(f, TODAY))['my-cluster-cluster'].data.aws_ssm_parameters_by_path);
    expect(lookups.map((l) => l.path)).toEqual(['/aws/service/bottlerocket/aws-k8s-1.35/arm64/1.55.0']);
  });

  test('latest (pre-production): a warning, the node group follows the newest release, no parameter lookup', () => {
    const f = validFleet();
    f.clusters['my-cluster'].bottlerocketRelease = 'latest';
    const fleet = fleetFrom(f, TODAY);
    expect(fleet.warnings).toContainEqual(
      expect.objectContaining({ path: 'clusters.my-cluster.bottlerocketRelease', message: expect.stringMatching(/^latest \(pre-production only\)/) }),
    );
    const stacks = synthFleet(fleet);
    const group = stacks['my-cluster-cluster'].module.eks.eks_managed_node_groups.system;
    expect(group.use_latest_ami_release_version).toBe(true);
    expect(group.ami_release_version).toBeUndefined();
    expect(stacks['my-cluster-cluster'].data?.aws_ssm_parameters_by_path).toBeUndefined();
    expect(new Set(nodeClassAliases(stacks['my-cluster-karpenter']))).toEqual(new Set(['bottlerocket@latest']));
  });

  test('latest, or no release at all, is refused together with a rollout section', () => {
    const f = rolloutFleet();
    f.clusters['ml-train'].bottlerocketRelease = 'latest';
    delete f.clusters['payments-prod'].bottlerocketRelease;
    const problems = problemsOf(f);
    expect(problems).toContainEqual(
      expect.objectContaining({ path: 'clusters.ml-train.bottlerocketRelease', message: expect.stringContaining('the fleet has a rollout section') }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({ path: 'clusters.payments-prod.bottlerocketRelease', message: expect.stringMatching(/^not set, so latest/) }),
    );
  });

  test('an older fleet file: amiAlias alone pins the release, system node group included', () => {
    const f = validFleet();
    delete f.clusters['my-cluster'].bottlerocketRelease;
    f.clusters['my-cluster'].karpenter.amiAlias = 'bottlerocket@v1.50.0';
    const fleet = fleetFrom(f, TODAY);
    expect(fleet.clusters[0].bottlerocketRelease).toBe('1.50.0');
    expect(Object.values<any>(synthFleet(fleet)['my-cluster-cluster'].data.aws_ssm_parameters_by_path)[0].path).toMatch(/\/1\.50\.0$/);
  });

  test('amiAlias that disagrees with bottlerocketRelease is refused, naming both and the fix', () => {
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.amiAlias = 'bottlerocket@v1.54.0';
    expect(problemsOf(f)).toContainEqual({
      path: 'clusters.my-cluster.karpenter.amiAlias',
      message: expect.stringContaining('bottlerocket@v1.54.0 disagrees with clusters.my-cluster.bottlerocketRelease (1.55.0)'),
      fix: 'remove karpenter.amiAlias (it follows bottlerocketRelease), or set it to bottlerocket@v1.55.0',
    });
    f.clusters['my-cluster'].karpenter.amiAlias = 'bottlerocket@v1.55.0';
    expect(() => fleetFrom(f, TODAY)).not.toThrow();
  });

  test("a cache's bottlerocketVersion newer than a user cluster's release is refused", () => {
    const f = validFleet();
    f.imageCaches.general.bottlerocketVersion = '1.56.0';
    expect(problemsOf(f)).toContainEqual(
      expect.objectContaining({
        path: 'imageCaches.general.bottlerocketVersion',
        message: expect.stringContaining('1.56.0 is newer than the release cluster my-cluster pins'),
      }),
    );
  });

  test('a release that is not X.Y.Z or latest is refused with its path', () => {
    const f = validFleet();
    f.clusters['my-cluster'].bottlerocketRelease = 'v1.55';
    expect(problemsOf(f).map((p) => p.path)).toContain('clusters.my-cluster.bottlerocketRelease');
  });

  test('fleet.yaml and every example pin a release', () => {
    const files = [DEFAULT_FLEET, ...fs.readdirSync(path.join(PROJECT_ROOT, 'examples')).map((d) => path.join(PROJECT_ROOT, 'examples', d, 'fleet.yaml'))];
    for (const file of files.filter((f) => fs.existsSync(f))) expect(fs.readFileSync(file, 'utf8')).not.toMatch(/@latest|bottlerocketRelease: "?latest/);
  });
});

describe('EKS add-ons pinned (issue 30, item 2)', () => {
  const files = [DEFAULT_FLEET, ...fs.readdirSync(path.join(PROJECT_ROOT, 'examples')).map((d) => path.join(PROJECT_ROOT, 'examples', d, 'fleet.yaml'))];

  test('no synthesized stack of fleet.yaml or any example contains most_recent', () => {
    for (const file of files.filter((f) => fs.existsSync(f))) {
      for (const [name, stack] of Object.entries(synthFleetFile(file)))
        expect({ name, most_recent: JSON.stringify(stack).includes('most_recent') }).toEqual({ name, most_recent: false });
    }
  });

  test("defaults per Kubernetes version come from contracts/eks-addon-versions.json; the fleet file's version wins", () => {
    const addons = synthFleetFile(DEFAULT_FLEET)['my-cluster-cluster'].module.eks.cluster_addons;
    expect(addons.coredns).toEqual({ addon_version: 'v1.13.2-eksbuild.3' });
    // fleet.yaml's maxPods 110 is above some allowed types' ENI limit: prefix delegation is on too (instance-checks.ts).
    expect(addons['vpc-cni']).toEqual({
      addon_version: 'v1.21.1-eksbuild.3',
      before_compute: true,
      configuration_values: JSON.stringify({ env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' } }),
    });
    const f = validFleet();
    f.clusters['my-cluster'].addons = { coredns: 'v1.13.2-eksbuild.9' };
    expect(synthFleet(fleetFrom(f, TODAY))['my-cluster-cluster'].module.eks.cluster_addons.coredns).toEqual({ addon_version: 'v1.13.2-eksbuild.9' });
  });

  test('a version the contract does not check is left to EKS (its default for the Kubernetes version), and reported as unpinned', () => {
    expect(resolveAddons('c', '1.34')).toMatchObject({ unpinned: ['coredns', 'kube-proxy', 'vpc-cni', 'eks-pod-identity-agent'], problems: [] });
  });

  test('kube-proxy of another Kubernetes minor, or a malformed version, is refused with its path and fix', () => {
    const f = validFleet();
    f.clusters['my-cluster'].addons = { 'kube-proxy': 'v1.34.0-eksbuild.5' };
    expect(problemsOf(f)).toContainEqual({
      path: 'clusters.my-cluster.addons.kube-proxy',
      message: 'v1.34.0-eksbuild.5 is kube-proxy for Kubernetes 1.34, and the cluster runs 1.35',
      fix: expect.stringContaining('use a v1.35.x-eksbuild.N version'),
    });
    f.clusters['my-cluster'].addons = { coredns: '1.13.2' };
    expect(problemsOf(f).map((p) => p.path)).toContain('clusters.my-cluster.addons.coredns');
  });
});
