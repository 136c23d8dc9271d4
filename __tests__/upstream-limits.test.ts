/**
 * Issue 29: what real AWS, EKS and Karpenter would refuse or do differently, asserted on the synthesized
 * JSON (the real-tool tier plans the same stacks: real-tools/cluster-names.test.ts).
 */
import { parse } from 'yaml';
import { fleetFrom, problemsOf, synthFleet, validFleet } from './helpers/fleet';
import { eksModuleNames, karpenterModuleNames } from './helpers/module-resource-names';
import { MAX_CLUSTER_NAME_FOR_ROLE_PREFIX, NODE_TO_NODE_ALL } from '../modules/eks/eks-cluster';

/** validFleet() with its cluster renamed (and its pools on no cache, so nothing else differs). */
function fleetWithCluster(name: string, change: (cluster: any) => void = () => undefined) {
  const f = validFleet();
  const cluster = f.clusters['my-cluster'];
  delete f.clusters['my-cluster'];
  f.clusters[name] = cluster;
  change(cluster);
  return synthFleet(fleetFrom(f));
}

/**
 * Limits the aws provider 5.100.0 enforces at plan time (seen from the provider itself, see
 * real-tools/cluster-names.test.ts), which are AWS's: IAM role name 64 / name_prefix 38; IAM policy
 * name 128 / name_prefix 102; SQS queue 80; EventBridge rule name 64 / prefix 38; security group 255.
 */
const LIMITS: Record<string, { name: number; name_prefix: number }> = {
  aws_iam_role: { name: 64, name_prefix: 38 },
  aws_iam_policy: { name: 128, name_prefix: 102 },
  aws_sqs_queue: { name: 80, name_prefix: 80 - 26 },
  aws_cloudwatch_event_rule: { name: 64, name_prefix: 38 },
  aws_security_group: { name: 255, name_prefix: 100 },
  aws_launch_template: { name: 128, name_prefix: 99 },
};

describe('cluster names (issue 29 item 1)', () => {
  const longest = 'payments-platform-production-usw2a-east';

  test('a 39-character cluster name (the longest accepted) gives names and prefixes within AWS limits', () => {
    expect(longest).toHaveLength(39);
    const stacks = fleetWithCluster(longest);
    const names = [...eksModuleNames(stacks[`${longest}-cluster`].module.eks), ...karpenterModuleNames(stacks[`${longest}-karpenter`].module.karpenter)];
    const tooLong = names.filter((n) => n.value.length > LIMITS[n.type][n.attribute]);
    expect(tooLong).toEqual([]);
    expect(stacks[`${longest}-cluster`].module.eks.iam_role_use_name_prefix).toBe(false);
  });

  test("a cluster name that fits the module's role prefix keeps it, so a deployed cluster's role is never replaced", () => {
    const fits = 'a'.repeat(MAX_CLUSTER_NAME_FOR_ROLE_PREFIX);
    expect(`${fits}-cluster-`).toHaveLength(38);
    expect(fleetWithCluster(fits)[`${fits}-cluster`].module.eks).not.toHaveProperty('iam_role_use_name_prefix');
    const over = 'a'.repeat(MAX_CLUSTER_NAME_FOR_ROLE_PREFIX + 1);
    expect(fleetWithCluster(over)[`${over}-cluster`].module.eks.iam_role_use_name_prefix).toBe(false);
  });
});

describe('Karpenter namespace (issue 29 item 2)', () => {
  const releases = (stacks: Record<string, any>) =>
    Object.values<any>(stacks['my-cluster-karpenter'].resource.helm_release).sort((a, b) => a.name.localeCompare(b.name));

  test('a namespace other than kube-system is created by both Helm releases', () => {
    const stacks = fleetWithCluster('my-cluster', (c) => (c.karpenter.namespace = 'karpenter'));
    expect(releases(stacks).map((r) => [r.name, r.namespace, r.create_namespace])).toEqual([
      ['karpenter', 'karpenter', true],
      ['karpenter-crd', 'karpenter', true],
    ]);
  });

  test('kube-system, which every EKS cluster has, is not created', () => {
    expect(releases(fleetWithCluster('my-cluster')).map((r) => [r.namespace, r.create_namespace])).toEqual([
      ['kube-system', false],
      ['kube-system', false],
    ]);
  });
});

describe('node-to-node traffic (issue 29 item 3)', () => {
  test('the node security group allows every port and protocol from itself, as the eks module docs advise', () => {
    const eks = fleetWithCluster('my-cluster')['my-cluster-cluster'].module.eks;
    expect(eks.node_security_group_additional_rules).toEqual({
      ingress_self_all: { description: 'Node to node all ports/protocols', protocol: '-1', from_port: 0, to_port: 0, type: 'ingress', self: true },
    });
    expect(NODE_TO_NODE_ALL.self).toBe(true);
  });
});

describe('reserved capacity (issue 29 item 7)', () => {
  const POOL = 'clusters.my-cluster.karpenter.nodePools.default';
  const reservedPool = (p: any) =>
    Object.assign(p, { capacityTypes: ['reserved', 'on-demand'], capacityReservationSelectorTerms: [{ id: 'cr-0123456789abcdef0' }] });

  test('a reserved pool without capacityReservationSelectorTerms is refused with the reason', () => {
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.nodePools.default.capacityTypes = ['reserved', 'on-demand'];
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ path: `${POOL}.capacityTypes`, message: expect.stringContaining('it would never launch a reserved node') }),
    ]);
  });

  test('capacityReservationSelectorTerms on a pool that does not allow reserved are refused', () => {
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.nodePools.default.capacityReservationSelectorTerms = [{ id: 'cr-0123456789abcdef0' }];
    expect(problemsOf(f).map((p) => p.path)).toEqual([`${POOL}.capacityReservationSelectorTerms`]);
  });

  test('a term the CRD refuses (an id beside tags) is refused at synth time with the CRD message', () => {
    const f = validFleet();
    reservedPool(f.clusters['my-cluster'].karpenter.nodePools.default).capacityReservationSelectorTerms = [
      { id: 'cr-0123456789abcdef0', tags: { team: 'ml' } },
    ];
    expect(() => synthFleet(fleetFrom(f))).toThrow(/'id' is mutually exclusive/);
  });

  test('a reserved pool selects its reservations, and the interruption queue gets the capacity-reservation warning rule', () => {
    const stacks = fleetWithCluster('my-cluster', (c) => reservedPool(c.karpenter.nodePools.default));
    const stack = stacks['my-cluster-karpenter'];
    const bodies = Object.values<any>(stack.resource.kubectl_manifest).map((m) => parse(m.yaml_body));
    const nodeClass = bodies.find((b) => b.kind === 'EC2NodeClass' && b.metadata.name === 'default');
    const nodePool = bodies.find((b) => b.kind === 'NodePool' && b.metadata.name === 'default');
    expect(nodeClass.spec.capacityReservationSelectorTerms).toEqual([{ id: 'cr-0123456789abcdef0' }]);
    expect(nodePool.spec.template.spec.requirements).toContainEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['reserved', 'on-demand'] });
    const [rule] = Object.values<any>(stack.resource.aws_cloudwatch_event_rule);
    expect(JSON.parse(rule.event_pattern)).toEqual({ source: ['aws.ec2'], 'detail-type': ['EC2 Capacity Reservation Instance Interruption Warning'] });
    const [target] = Object.values<any>(stack.resource.aws_cloudwatch_event_target);
    expect(target.arn).toBe('${module.karpenter.queue_arn}');
    expect(target.rule).toMatch(/^\$\{aws_cloudwatch_event_rule\.[\w-]+\.name\}$/);
  });

  test('clusters without reserved pools get no extra rule', () => {
    expect(fleetWithCluster('my-cluster')['my-cluster-karpenter'].resource.aws_cloudwatch_event_rule).toBeUndefined();
  });
});

describe('Spot (issue 29 item 5)', () => {
  test('a Karpenter stack with a Spot pool refuses to plan without the EC2 Spot service-linked role, naming the command that creates it', () => {
    const stack = fleetWithCluster('my-cluster', (c) => (c.karpenter.nodePools.default.capacityTypes = ['on-demand', 'spot']))['my-cluster-karpenter'];
    const [roles] = Object.values<any>(stack.data.aws_iam_roles);
    expect(roles.path_prefix).toBe('/aws-service-role/spot.amazonaws.com/');
    expect(roles.lifecycle.postcondition).toEqual([
      {
        condition: '${length(self.names) > 0}',
        error_message: expect.stringMatching(
          /pool\(s\) default of cluster my-cluster allow Spot: .*Create it once per account: aws iam create-service-linked-role --aws-service-name spot\.amazonaws\.com$/,
        ),
      },
    ]);
  });

  test('a stack whose pools never use Spot does not look for the role', () => {
    expect(fleetWithCluster('my-cluster')['my-cluster-karpenter'].data.aws_iam_roles).toBeUndefined();
  });
});

describe('cluster access (issue 29 item 6)', () => {
  const DEPLOY = 'arn:aws:iam::111111111111:role/image-cache-deploy';
  const ROLLOUT = 'arn:aws:iam::111111111111:role/image-cache-rollout';
  const REPORT = 'arn:aws:iam::111111111111:role/cache-report';
  const admin = { policy_arn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', access_scope: { type: 'cluster' } };
  const entriesOf = (access: unknown) => fleetWithCluster('my-cluster', (c) => (c.access = access))['my-cluster-cluster'].module.eks.access_entries;

  test('the roles that deploy Karpenter and run rollout and migrate get cluster admin, cache report only the read-all view', () => {
    expect(entriesOf({ karpenterDeploy: [DEPLOY], rollout: [ROLLOUT], cacheReport: [REPORT] })).toEqual({
      [DEPLOY]: { principal_arn: DEPLOY, type: 'STANDARD', policy_associations: { AmazonEKSClusterAdminPolicy: admin } },
      [ROLLOUT]: { principal_arn: ROLLOUT, type: 'STANDARD', policy_associations: { AmazonEKSClusterAdminPolicy: admin } },
      [REPORT]: {
        principal_arn: REPORT,
        type: 'STANDARD',
        policy_associations: {
          AmazonEKSAdminViewPolicy: { policy_arn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy', access_scope: { type: 'cluster' } },
        },
      },
    });
  });

  test('a role named for several commands gets one access entry (EKS allows one per principal), each policy once', () => {
    const entries = entriesOf({ rollout: [ROLLOUT], migrate: [ROLLOUT], cacheReport: [ROLLOUT] });
    expect(Object.keys(entries)).toEqual([ROLLOUT]);
    expect(Object.keys(entries[ROLLOUT].policy_associations)).toEqual(['AmazonEKSAdminViewPolicy', 'AmazonEKSClusterAdminPolicy']);
  });

  test("the access policy ARN is in the role's partition", () => {
    const gov = 'arn:aws-us-gov:iam::111111111111:role/deploy';
    expect(entriesOf({ karpenterDeploy: [gov] })[gov].policy_associations.AmazonEKSClusterAdminPolicy.policy_arn).toBe(
      'arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
    );
  });

  test('without access, only the cluster creator has access (no access_entries)', () => {
    expect(fleetWithCluster('my-cluster')['my-cluster-cluster'].module.eks.access_entries).toBeUndefined();
  });

  test('a value that is not an IAM role ARN is refused with its path', () => {
    const f = validFleet();
    f.clusters['my-cluster'].access = { rollout: ['image-cache-rollout'] };
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ path: 'clusters.my-cluster.access.rollout[0]', message: expect.stringContaining('must be an IAM role ARN') }),
    ]);
  });
});
