/**
 * Instance types from Karpenter v1.14.1's contract (issue 28 item 5) and pod density (issue 29 item 4):
 * typos, wrong architectures and unknown categories are refused with the fleet path; a maxPods above the
 * ENI-based limit turns on VPC CNI prefix delegation, or is refused where prefixes cannot help.
 */
import { execFileSync } from 'child_process';
import { parse } from 'yaml';
import * as path from 'path';
import { fleetFrom, problemsOf, synthFleet, validFleet, PROJECT_ROOT } from './helpers/fleet';
import { allowedInstanceTypes, familyArch, instanceTypes } from '../modules/fleet/instance-types';
import { readJsonContract } from '../modules/contracts';
import { VPC_CNI_PREFIX_DELEGATION } from '../modules/eks/eks-cluster';

const CLUSTER = 'clusters.my-cluster';
const POOL = `${CLUSTER}.karpenter.nodePools.default`;

function withPool(change: (pool: any, fleet: any) => void): any {
  const f = validFleet();
  change(f.clusters['my-cluster'].karpenter.nodePools.default, f);
  return f;
}

describe('the instance-type contract (contracts/karpenter/v1.14.1/instance-types.json)', () => {
  test('is generated from Karpenter v1.14.1 zz_generated.vpclimits.go, and gives m6i.large the 29 pods Karpenter computes', () => {
    const contract = readJsonContract<any>('karpenter/v1.14.1/instance-types.json');
    expect(contract.source).toMatchObject({
      repository: 'aws/karpenter-provider-aws',
      version: 'v1.14.1',
      path: 'pkg/providers/instancetype/zz_generated.vpclimits.go',
    });
    expect(instanceTypes().size).toBe(1346);
    expect(instanceTypes().get('m6i.large')).toMatchObject({ enis: 3, ipv4PerEni: 10, eniMaxPods: 29, prefixMaxPods: 434, category: 'm', generation: 6 });
    // Xen instances take no prefixes.
    expect(instanceTypes().get('c4.large')!.prefixMaxPods).toBeUndefined();
  });

  test('the generator reads the Go source format: the default network card, hypervisor and bare metal', () => {
    const go = [
      'var Limits = map[string]*VPCLimits{',
      '\t"x9z.large": {',
      '\t\tInterface:               6,',
      '\t\tIPv4PerInterface:        10,',
      '\t\tDefaultNetworkCardIndex: 1,',
      '\t\tNetworkCards: []NetworkCard{',
      '\t\t\t{',
      '\t\t\t\tMaximumNetworkInterfaces: 4,',
      '\t\t\t\tNetworkCardIndex:         0,',
      '\t\t\t},',
      '\t\t\t{',
      '\t\t\t\tMaximumNetworkInterfaces: 2,',
      '\t\t\t\tNetworkCardIndex:         1,',
      '\t\t\t},',
      '\t\t},',
      '\t\tHypervisor:  "",',
      '\t\tIsBareMetal: true,',
      '\t},',
      '}',
      '',
    ].join('\n');
    const out = JSON.parse(
      execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts/instance-types-contract.js'), 'v0', 'c0'], { input: go, encoding: 'utf8' }),
    );
    expect(out.types).toEqual({ 'x9z.large': { enis: 2, ipv4PerEni: 10, hypervisor: '', bareMetal: true } });
  });

  test('architecture from the family name: Graviton families carry a "g" after the generation', () => {
    const arm = ['m6g', 'm6gd', 'c7gn', 'c8gb', 'r8gd', 'im4gn', 'is4gen', 'g5g', 't4g', 'x2gd', 'a1', 'mac2-m2', 'c7g-flex'];
    const x86 = ['m6i', 'c5', 'g4dn', 'g6e', 'gr6', 'inf2', 'trn1n', 'p5en', 'u7i-12tb', 'x2iedn', 'mac1', 'dl2q', 'm7i-flex'];
    expect(arm.map(familyArch)).toEqual(arm.map(() => 'arm64'));
    expect(x86.map(familyArch)).toEqual(x86.map(() => 'x86_64'));
  });
});

describe('instance names are checked against the contract (issue 28 item 5)', () => {
  test('an unknown instance type is refused with its path', () => {
    const f = validFleet();
    f.clusters['my-cluster'].systemNodeGroup.instanceTypes = ['banana'];
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ path: `${CLUSTER}.systemNodeGroup.instanceTypes[0]`, message: expect.stringContaining('unknown instance type "banana"') }),
    ]);
  });

  test('a typo gets "did you mean"', () => {
    const f = validFleet();
    f.clusters['my-cluster'].systemNodeGroup.instanceTypes = ['m6i.large', 'm6i.xlarg'];
    expect(problemsOf(f)).toEqual([{ path: `${CLUSTER}.systemNodeGroup.instanceTypes[1]`, message: expect.any(String), fix: 'did you mean "m6i.xlarge"?' }]);
  });

  test('a Graviton type in an x86_64 node group is refused', () => {
    const f = validFleet();
    f.clusters['my-cluster'].systemNodeGroup.instanceTypes = ['m6g.xlarge'];
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({
        path: `${CLUSTER}.systemNodeGroup.instanceTypes[0]`,
        message: expect.stringMatching(/^m6g\.xlarge is an arm64 instance type, and this is an x86_64 setting/),
      }),
    ]);
  });

  test("a builder instance type of the other architecture than the cache's is refused", () => {
    const f = validFleet();
    f.imageCaches.general.instanceType = 'm7g.large';
    expect(problemsOf(f).map((p) => p.path)).toEqual(['imageCaches.general.instanceType']);
  });

  test('an unknown instance category is refused', () => {
    const problems = problemsOf(withPool((p) => (p.instanceCategories = ['m', 'zz'])));
    expect(problems).toEqual([
      expect.objectContaining({ path: `${POOL}.instanceCategories[1]`, message: expect.stringContaining('unknown instance category "zz"') }),
    ]);
  });

  test('an unknown family gets "did you mean", and a family of another architecture than the pool is refused', () => {
    const problems = problemsOf(withPool((p) => (p.instanceFamilies = ['m6ix', 'm6g'])));
    expect(problems).toEqual([
      { path: `${POOL}.instanceFamilies[0]`, message: expect.stringContaining('unknown instance family "m6ix"'), fix: 'did you mean "m6i"?' },
      expect.objectContaining({ path: `${POOL}.instanceFamilies[1]`, message: expect.stringContaining('m6g is an arm64 family') }),
    ]);
  });

  test('a pool whose requirements exclude every type is refused', () => {
    expect(problemsOf(withPool((p) => (p.instanceGenerationGreaterThan = 20))).map((p) => p.path)).toEqual([POOL]);
  });
});

describe('pod density (issue 29 item 4)', () => {
  const stacksOf = (f: any) => synthFleet(fleetFrom(f));
  const guidePool = (p: any) => Object.assign(p, { maxPods: 110, instanceCategories: ['m', 'c', 'r'], instanceGenerationGreaterThan: 4 });
  const typeRequirement = (stacks: Record<string, any>) =>
    Object.values<any>(stacks['my-cluster-karpenter'].resource.kubectl_manifest)
      .map((m) => parse(m.yaml_body))
      .find((b) => b.kind === 'NodePool' && b.metadata.name === 'default')
      .spec.template.spec.requirements.find((r: any) => r.key === 'node.kubernetes.io/instance-type');

  test("the guide's maxPods 110 above the 29 pod IPs of .large types turns on prefix delegation on the vpc-cni add-on", () => {
    const large = allowedInstanceTypes({ arch: ['x86_64'], instanceCategories: ['m', 'c', 'r'], instanceGenerationGreaterThan: 4 }).filter((t) =>
      t.name.endsWith('.large'),
    );
    expect(Math.min(...large.map((t) => t.eniMaxPods))).toBe(29);
    const vpcCni = stacksOf(withPool(guidePool))['my-cluster-cluster'].module.eks.cluster_addons['vpc-cni'];
    expect(JSON.parse(vpcCni.configuration_values)).toEqual({ env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' } });
    expect(VPC_CNI_PREFIX_DELEGATION.env.ENABLE_PREFIX_DELEGATION).toBe('true');
    expect(vpcCni.before_compute).toBe(true);
  });

  test('types that cannot hold maxPods even with prefixes are kept out of the NodePool (.medium: 98 pods with prefixes)', () => {
    expect(instanceTypes().get('c7a.medium')).toMatchObject({ eniMaxPods: 8, prefixMaxPods: 98 });
    expect(typeRequirement(stacksOf(withPool(guidePool)))).toEqual({
      key: 'node.kubernetes.io/instance-type',
      operator: 'NotIn',
      values: ['c7a.medium', 'c8a.medium', 'm7a.medium', 'm8a.medium', 'r7a.medium', 'r8a.medium'],
    });
  });

  test('Xen types take no prefixes: without a generation floor they are kept out, and nothing else is', () => {
    const stacks = stacksOf(withPool((p) => Object.assign(p, { maxPods: 30, instanceCategories: ['m', 'c', 'r'] })));
    const excluded: string[] = typeRequirement(stacks).values;
    expect(excluded).toContain('c4.large');
    expect(excluded.every((n) => instanceTypes().get(n)!.hypervisor === 'xen' || instanceTypes().get(n)!.prefixMaxPods! < 30)).toBe(true);
    expect(excluded).not.toContain('m6i.large');
  });

  test('a maxPods every allowed type holds leaves the vpc-cni add-on and the NodePool as they are', () => {
    const stacks = stacksOf(withPool((p) => Object.assign(p, { maxPods: 8, instanceGenerationGreaterThan: 4 })));
    expect(stacks['my-cluster-cluster'].module.eks.cluster_addons['vpc-cni'].configuration_values).toBeUndefined();
    expect(typeRequirement(stacks)).toBeUndefined();
    expect(stacksOf(validFleet())['my-cluster-cluster'].module.eks.cluster_addons['vpc-cni'].configuration_values).toBeUndefined();
  });

  test('a maxPods no allowed type holds, even with prefix delegation, is refused with the limit', () => {
    // t2 runs on Xen: no prefixes, and its largest size holds 44 pods.
    const problems = problemsOf(withPool((p) => Object.assign(p, { maxPods: 100, instanceFamilies: ['t2'], instanceCategories: ['t'] })));
    expect(problems).toEqual([
      {
        path: `${POOL}.maxPods`,
        message: expect.stringMatching(
          /^100 pods fit on no instance type the pool allows: the smallest, t2\.(nano|micro), has 4 pod IPs \(2 ENIs × \(2 − 1\) \+ 2\), and as a xen instance it cannot take VPC CNI prefixes/,
        ),
        fix: expect.stringMatching(/^lower maxPods to at most 44,/),
      },
    ]);
  });
});
