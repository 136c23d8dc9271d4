/**
 * `upgrade plan`'s rules on plain objects (cli/upgrade/plan.ts): the order of a Kubernetes minor, a release-only
 * upgrade, and every refusal the issue names, each with the input that triggers it.
 */
import { DesiredCluster, planCluster, planUpgrade, RunningCluster, UpgradeContracts } from '../cli/upgrade/plan';
import { applyRefusals } from '../cli/upgrade/apply';

const contracts: UpgradeContracts = {
  releaseProblem: (k8s, release) => (k8s === '1.36' && release === '1.50.0' ? 'aws-k8s-1.36 was first released in Bottlerocket 1.53.0' : undefined),
  karpenterProblem: (k8s) => (k8s === '1.37' ? 'the installed chart 1.14.1 supports Kubernetes up to 1.36' : undefined),
};

const running = (over: Partial<RunningCluster> = {}): RunningCluster => ({
  name: 'canary',
  controlPlane: '1.34',
  nodegroup: { name: 'system', version: '1.34', releaseVersion: '1.50.0-aaaaaaaa' },
  addons: { coredns: 'v1.11.4-eksbuild.1' },
  pools: [{ name: 'default', alias: 'bottlerocket@v1.50.0', snapshot: 'snap-old', nodes: [{}, {}, {}] }],
  ...over,
});

const desired = (over: Partial<DesiredCluster> = {}): DesiredCluster => ({
  name: 'canary',
  kubernetesVersion: '1.34',
  release: '1.50.0',
  addons: { coredns: 'v1.11.4-eksbuild.1' },
  pools: [{ name: 'default', variant: 'cpu', cache: { name: 'general', snapshot: 'snap-old', builtOnKernel: '6.12' } }],
  ...over,
});

const kinds = (p: { steps: readonly { kind: string }[] }) => p.steps.map((s) => s.kind);

test('nothing to do when the cluster runs what the fleet file says', () => {
  expect(planCluster(desired(), running(), contracts)).toMatchObject({ steps: [], refusals: [] });
});

test('a release-only upgrade: the system node group, then alias and snapshot in one apply, then the gates', () => {
  const plan = planCluster(desired({ release: '1.51.0' }), running(), contracts);
  expect(kinds(plan)).toEqual(['update-node-group', 'apply-node-image', 'converge']);
  expect(plan.steps[1]).toMatchObject({ description: expect.stringContaining('bottlerocket@v1.51.0'), replaces: '3 NodeClaims in default, each once' });
  expect(plan.from).toEqual({ kubernetesVersion: '1.34', release: '1.50.0' });
});

test('a Kubernetes minor: freeze, control plane, node group, add-ons, wait for the variant, node image, lift, converge', () => {
  const plan = planCluster(desired({ kubernetesVersion: '1.35', release: '1.51.0', addons: { coredns: 'v1.12.1-eksbuild.2' } }), running(), contracts);
  expect(kinds(plan)).toEqual([
    'freeze-drift',
    'update-control-plane',
    'update-node-group',
    'update-addons',
    'wait-for-variant',
    'apply-node-image',
    'lift-freeze',
    'converge',
  ]);
  expect(plan.steps.find((s) => s.kind === 'update-addons')!.description).toContain('coredns v1.11.4-eksbuild.1 → v1.12.1-eksbuild.2');
});

test('a generation the running nodes cannot mount is rebuilt on the lower variant before the control plane moves', () => {
  // Built on kernel 6.18 (aws-k8s-1.36): the 1.35 nodes (kernel 6.12) that run during the move cannot mount it.
  const plan = planCluster(
    desired({ kubernetesVersion: '1.36', release: '1.55.0', pools: [{ name: 'default', variant: 'cpu', cache: { name: 'general', builtOnKernel: '6.18' } }] }),
    running({ controlPlane: '1.35', nodegroup: { name: 'system', version: '1.35', releaseVersion: '1.55.0-aaaaaaaa' } }),
    contracts,
  );
  expect(kinds(plan).slice(0, 3)).toEqual(['freeze-drift', 'build-cache', 'update-control-plane']);
  expect(plan.steps[1].description).toContain('on aws-k8s-1.35 (kernel 6.12)');
});

test('a jump of two minors is refused, naming the intermediate version; a downgrade too', () => {
  expect(planCluster(desired({ kubernetesVersion: '1.36' }), running(), contracts).refusals).toEqual([
    expect.stringMatching(/1\.34 → 1\.36 skips 1\.35: EKS updates one minor at a time; set kubernetesVersion: "1\.35"/),
  ]);
  expect(planCluster(desired({ kubernetesVersion: '1.33' }), running(), contracts).refusals).toEqual([expect.stringContaining('is a downgrade')]);
});

test('no release of the target variant, and a Karpenter that does not support the target, are refused', () => {
  const plan = planCluster(desired({ kubernetesVersion: '1.36', release: '1.50.0' }), running({ controlPlane: '1.35' }), contracts);
  expect(plan.refusals).toEqual([expect.stringContaining('aws-k8s-1.36 was first released in Bottlerocket 1.53.0')]);
  expect(plan.steps).toEqual([]);
  expect(planCluster(desired({ kubernetesVersion: '1.37' }), running({ controlPlane: '1.36' }), contracts).refusals).toContainEqual(
    expect.stringContaining('supports Kubernetes up to 1.36'),
  );
});

test('a generation without a kernel-release tag is refused: whether both variants mount it is unknown', () => {
  const plan = planCluster(
    desired({ kubernetesVersion: '1.35', pools: [{ name: 'default', variant: 'cpu', cache: { name: 'general' } }] }),
    running(),
    contracts,
  );
  expect(plan.refusals).toEqual([expect.stringContaining('has no kernel-release tag')]);
});

test('stages keep the fleet order; a cluster not running yet refuses the whole plan', () => {
  const fleet = [desired(), desired({ name: 'production', release: '1.51.0' })];
  const plan = planUpgrade(
    fleet,
    new Map([['canary', running()]]),
    [
      { name: 'canary', clusters: ['canary'] },
      { name: 'production', clusters: ['production'] },
    ],
    contracts,
  );
  expect(plan.stages.map((s) => s.name)).toEqual(['canary', 'production']);
  expect(plan.refused).toBe(true);
  expect(plan.stages[1].clusters[0].refusals).toEqual([expect.stringContaining('cluster production is not running')]);
  const ok = planUpgrade(
    fleet,
    new Map([
      ['canary', running()],
      ['production', running({ name: 'production' })],
    ]),
    undefined,
    contracts,
  );
  expect(ok).toMatchObject({ refused: false, stages: [{ name: 'all', clusters: [{ cluster: 'canary' }, { cluster: 'production' }] }] });
});

test('apply takes a release, a Kubernetes minor (with a cache build: it builds it) and add-on pins; a refused plan is refused before any write', () => {
  const stage = (d: DesiredCluster) => ({ stages: [{ name: 'canary', clusters: [planCluster(d, running(), contracts)] }], refused: false });
  expect(applyRefusals(stage(desired({ release: '1.51.0' })))).toEqual([]);
  expect(applyRefusals(stage(desired({ kubernetesVersion: '1.35', release: '1.51.0' })))).toEqual([]);
  expect(applyRefusals(stage(desired({ addons: { coredns: 'v1.12.1-eksbuild.2' } })))).toEqual([]);
  const withBuild = stage(desired({ kubernetesVersion: '1.35', release: '1.51.0' }));
  const plan = {
    ...withBuild,
    stages: [{ name: 'canary', clusters: [{ ...withBuild.stages[0].clusters[0], steps: [{ kind: 'build-cache' as const, description: '', replaces: '' }] }] }],
  };
  // Issue 31 item 2 step 2: apply builds the generation (__tests__/real-tools/upgrade-apply/build.ts); it no longer refuses.
  expect(applyRefusals(plan)).toEqual([]);
  expect(applyRefusals(stage(desired({ kubernetesVersion: '1.36' })))).toEqual([expect.stringContaining('skips 1.35')]);
});
