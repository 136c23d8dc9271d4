/** The fleet file's `rollout` section: validation, the Drifted budget, and what the stacks read and create. */
import { fleetFrom, problemsOf, synthFleet, validFleet } from './helpers/fleet';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { renderNodeClass } from '../modules/karpenter/rendered-node-class';
import { snapshotParameterPath } from '../modules/image-cache/parameters';

const P = '/bottlerocket-fleet/image-cache/general/snapshot-id';
const at = (problems: { path: string }[]) => problems.map((p) => p.path);

describe('rollout validation', () => {
  test('a fleet with stages for every cached cluster is valid, soak, healthTimeout and cacheMisses have defaults', () => {
    const f = rolloutFleet();
    delete f.rollout.stages[0].soak;
    delete f.rollout.healthTimeout;
    const fleet = fleetFrom(f);
    expect(fleet.rollout).toEqual({
      stages: [
        { name: 'canary', clusters: ['ml-train'], soak: '30m' },
        { name: 'production', clusters: ['payments-prod'], soak: '2h' },
      ],
      healthTimeout: '20m',
      cacheMisses: 'fail',
    });
  });

  test('cacheMisses is fail or warn', () => {
    const f = rolloutFleet();
    f.rollout.cacheMisses = 'warn';
    expect(fleetFrom(f).rollout?.cacheMisses).toBe('warn');
    f.rollout.cacheMisses = 'ignore';
    expect(at(problemsOf(f))).toEqual(['rollout.cacheMisses']);
  });

  test('an unknown cluster is named with a did-you-mean', () => {
    const f = rolloutFleet();
    f.rollout.stages[1].clusters = ['payments-prd'];
    const problems = problemsOf(f);
    expect(problems).toContainEqual({ path: 'rollout.stages[1].clusters[0]', message: 'unknown cluster "payments-prd"', fix: 'did you mean "payments-prod"?' });
  });

  test('a cluster with a cached pool that is in no stage is a problem', () => {
    const f = rolloutFleet();
    f.rollout.stages = [f.rollout.stages[0]];
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({
        path: 'rollout.stages',
        message: expect.stringMatching(/cluster payments-prod uses image cache\(s\) general but is in no stage/),
        fix: 'add payments-prod to the clusters of one stage',
      }),
    ]);
  });

  test('a cluster in two stages is a problem at its second mention', () => {
    const f = rolloutFleet();
    f.rollout.stages[1].clusters.push('ml-train');
    expect(problemsOf(f)).toEqual([expect.objectContaining({ path: 'rollout.stages[1].clusters[1]', message: 'cluster ml-train is already in stage canary' })]);
  });

  test('stage names are unique', () => {
    const f = rolloutFleet();
    f.rollout.stages[1].name = 'canary';
    expect(problemsOf(f)).toEqual([expect.objectContaining({ path: 'rollout.stages[1].name', fix: 'give every stage its own name' })]);
  });

  test('durations must parse', () => {
    const f = rolloutFleet();
    f.rollout.stages[0].soak = '30 minutes';
    f.rollout.healthTimeout = '1d';
    expect(at(problemsOf(f))).toEqual(['rollout.stages[0].soak', 'rollout.healthTimeout']);
  });

  test('an empty stage list and unknown keys are rejected', () => {
    const f = rolloutFleet();
    f.rollout.stages = [];
    f.rollout.healthTimout = '5m';
    const problems = problemsOf(f);
    expect(at(problems)).toEqual(expect.arrayContaining(['rollout.stages', 'rollout.healthTimout']));
    expect(problems.find((p) => p.path === 'rollout.healthTimout')!.fix).toBe('did you mean "healthTimeout"?');
  });

  test('a stage listing a cluster without cached pools only warns', () => {
    const f = rolloutFleet();
    f.clusters.tools = { ...JSON.parse(JSON.stringify(f.clusters['payments-prod'])), vpc: { cidr: '10.2.0.0/16' }, karpenter: { nodePools: { plain: {} } } };
    f.rollout.stages[1].clusters.push('tools');
    expect(fleetFrom(f).warnings).toContainEqual(
      expect.objectContaining({ path: 'rollout.stages[1].clusters[1]', message: expect.stringMatching(/no pool with an imageCache/) }),
    );
  });
});

describe('Drifted disruption budget', () => {
  const budgets = (f: any, cluster: string, pool: string) =>
    fleetFrom(f)
      .clusters.find((c) => c.name === cluster)!
      .karpenter!.nodePools.find((p) => p.name === pool)!.disruptionBudgets;

  test('with a rollout, a cached pool replaces one drifted node at a time by default', () => {
    expect(budgets(rolloutFleet(), 'ml-train', 'default')).toEqual([{ nodes: '10%' }, { nodes: '1', reasons: ['Drifted'] }]);
  });

  test('driftBudget sets it per pool', () => {
    const f = rolloutFleet();
    f.clusters['ml-train'].karpenter.nodePools.batch.driftBudget = '25%';
    expect(budgets(f, 'ml-train', 'batch')).toEqual([{ nodes: '10%' }, { nodes: '25%', reasons: ['Drifted'] }]);
  });

  test('a pool with its own Drifted budget keeps only its own', () => {
    const f = rolloutFleet();
    f.clusters['ml-train'].karpenter.nodePools.batch.disruptionBudgets = [
      { nodes: '5%' },
      { nodes: '2', reasons: ['Drifted'], schedule: '0 22 * * *', duration: '6h' },
    ];
    expect(budgets(f, 'ml-train', 'batch')).toEqual([{ nodes: '5%' }, { nodes: '2', reasons: ['Drifted'], schedule: '0 22 * * *', duration: '6h' }]);
  });

  test('without a rollout the budgets stay as written', () => {
    expect(budgets(validFleet(), 'my-cluster', 'default')).toEqual([{ nodes: '10%' }]);
  });

  test('a malformed driftBudget is rejected', () => {
    const f = rolloutFleet();
    f.clusters['ml-train'].karpenter.nodePools.batch.driftBudget = 'one';
    expect(at(problemsOf(f))).toEqual(['clusters.ml-train.karpenter.nodePools.batch.driftBudget']);
  });
});

describe('stacks of a fleet with a rollout', () => {
  const fleet = fleetFrom(rolloutFleet());
  const stacks = synthFleet(fleet);

  test('each Karpenter stack reads its own cluster parameter in its region', () => {
    for (const [cluster, region] of [
      ['ml-train', 'us-west-2'],
      ['payments-prod', 'us-east-1'],
    ]) {
      const stack = stacks[`${cluster}-karpenter`];
      expect(stack.provider.aws[0].region).toBe(region);
      // Beside it, the cache's history in the home region: what the snapshot it names is checked against.
      expect(Object.values<any>(stack.data.aws_ssm_parameter).map((p) => [p.name, p.provider])).toEqual([
        [`${P}-history`, region === 'us-west-2' ? undefined : 'aws.us_west_2'],
        [`${P}/clusters/${cluster}`, undefined],
      ]);
    }
  });

  test("the parameter a Karpenter stack reads is snapshotParameterPath's, the rule deploy's preflight and upgrade read too", () => {
    for (const cluster of fleet.clusters) {
      const read = Object.values<any>(stacks[`${cluster.name}-karpenter`].data.aws_ssm_parameter).map((p) => p.name);
      expect(read).toContain(snapshotParameterPath(P, cluster.name, true));
      expect(read).not.toContain(snapshotParameterPath(P, cluster.name, false));
    }
    expect(snapshotParameterPath(P, 'ml-train', false)).toBe(P);
  });

  test('the replication stack creates each cluster parameter once, at the current snapshot of its region, and leaves its value to the rollout', () => {
    const stack = stacks['image-cache-general'];
    const params = Object.values<any>(stack.resource.aws_ssm_parameter).filter((p) => p.name.includes('/clusters/'));
    const copyId = Object.keys(stack.resource.aws_ebs_snapshot_copy)[0];
    expect(params).toEqual([
      expect.objectContaining({
        name: `${P}/clusters/ml-train`,
        type: 'String',
        value: '${data.aws_ssm_parameter.current.insecure_value}',
        lifecycle: { ignore_changes: ['value'] },
      }),
      expect.objectContaining({
        name: `${P}/clusters/payments-prod`,
        provider: 'aws.us_east_1',
        type: 'String',
        value: `\${aws_ebs_snapshot_copy.${copyId}[data.aws_ssm_parameter.current.insecure_value].id}`,
        lifecycle: { ignore_changes: ['value'] },
      }),
    ]);
    expect(params[0].provider).toBeUndefined();
    for (const p of params) expect(p.overwrite).toBeUndefined(); // never resets a value the rollout owns
  });

  test('a cache without replicas still gets a stack for its cluster parameters', () => {
    const f = rolloutFleet();
    f.imageCaches.general.replicaRegions = [];
    f.clusters['payments-prod'].region = 'us-west-2';
    const s = synthFleet(fleetFrom(f))['image-cache-general'];
    expect(Object.values<any>(s.resource.aws_ssm_parameter).map((p) => [p.name, p.provider])).toEqual([
      [`${P}/clusters/ml-train`, undefined],
      [`${P}/clusters/payments-prod`, undefined],
    ]);
    expect(s.resource.aws_ebs_snapshot_copy).toBeUndefined();
  });

  test('NodePools carry the Drifted budget (validated against the Karpenter CRD at synth)', () => {
    const pool = Object.values<any>(stacks['ml-train-karpenter'].resource.kubectl_manifest)
      .map((m) => m.yaml_body)
      .find((y: string) => y.includes('kind: NodePool') && y.includes('name: default'));
    expect(pool).toContain('budgets:\n      - nodes: 10%\n      - nodes: "1"\n        reasons:\n          - Drifted');
  });

  test("the EC2NodeClass Terraform applies is byte-identical to the rollout's rendering once its references resolve", () => {
    const stack = stacks['ml-train-karpenter'];
    const cluster = fleet.clusters.find((c) => c.name === 'ml-train')!;
    for (const pool of cluster.karpenter!.nodePools) {
      const key = Object.keys(stack.resource.kubectl_manifest).find((k) => k.startsWith(`pools_EC2NodeClass-${pool.name}_`))!;
      const yaml: string = stack.resource.kubectl_manifest[key].yaml_body;
      const resolved = yaml
        .replace(/\$\{data\.aws_ebs_snapshot\.[\w-]+\.snapshot_id\}/g, 'snap-0feedc0ffee000001')
        .replace('${module.karpenter.node_iam_role_name}', 'KarpenterNodeRole-ml-train');
      expect(resolved).toBe(renderNodeClass(fleet.tags, cluster, pool, 'snap-0feedc0ffee000001').yaml);
    }
  });
});

describe('a fleet without a rollout', () => {
  test('Karpenter stacks read the cache-wide parameter and no cluster parameter exists', () => {
    const stacks = synthFleet(fleetFrom(validFleet()));
    expect(Object.values<any>(stacks['my-cluster-karpenter'].data.aws_ssm_parameter).map((p) => p.name)).toEqual([
      `${P}-history`,
      '/bottlerocket-fleet/image-cache/gpu/snapshot-id-history',
      P,
      '/bottlerocket-fleet/image-cache/gpu/snapshot-id',
    ]);
    expect(JSON.stringify(stacks)).not.toContain('/clusters/');
  });
});
