// Issue 21 (5): the rollout's policy writes only the per-cluster parameters. Its calls are checked against a
// recorded rollout in __tests__/real-tools/rollout-policy.test.ts; this checks what it must never allow.
import { ciPolicyOf } from './helpers/ci-policy';
import { evaluate } from './helpers/iam-policy';
import { fleetFrom, synthFleet } from './helpers/fleet';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { rolloutPolicyGrants } from '../modules/image-cache/rollout-policy';

const P = '/bottlerocket-fleet/image-cache/general/snapshot-id';
const ssm = (region: string, name: string) => `arn:aws:ssm:${region}:123456789012:parameter${name}`;

describe('the rollout policy', () => {
  const fleet = fleetFrom(rolloutFleet());
  const stack = synthFleet(fleet)['image-cache-builder-us-west-2'];
  const policy = ciPolicyOf(stack, 'aws', 'rollout-policy-general_rollout-policy-document');
  const allowed = (action: string, resource: string) => evaluate(policy, { action, resource, context: {} }).allowed;

  test('is shipped as bottlerocket-fleet-rollout-<cache> in the home-region builder stack', () => {
    expect(Object.values<any>(stack.resource.aws_iam_policy).map((p) => p.name)).toContain('bottlerocket-fleet-rollout-general');
    // Not in image-cache-general: the role deploying that stack would need rights on IAM policies.
    expect(synthFleet(fleet)['image-cache-general'].resource.aws_iam_policy).toBeUndefined();
  });

  test("writes the clusters' parameters in their regions, never the cache's own parameter or history, nor another cache's", () => {
    expect(allowed('ssm:PutParameter', ssm('us-west-2', `${P}/clusters/ml-train`))).toBe(true);
    expect(allowed('ssm:PutParameter', ssm('us-east-1', `${P}/clusters/payments-prod`))).toBe(true);
    expect(allowed('ssm:PutParameter', ssm('us-west-2', P))).toBe(false);
    expect(allowed('ssm:PutParameter', ssm('us-west-2', `${P}-history`))).toBe(false);
    expect(allowed('ssm:PutParameter', ssm('us-west-2', '/bottlerocket-fleet/image-cache/gpu/snapshot-id/clusters/ml-train'))).toBe(false);
    expect(allowed('ssm:DeleteParameter', ssm('us-west-2', `${P}/clusters/ml-train`))).toBe(false);
  });

  test('describes only the rollout clusters', () => {
    expect(allowed('eks:DescribeCluster', 'arn:aws:eks:us-west-2:123456789012:cluster/ml-train')).toBe(true);
    expect(allowed('eks:DescribeCluster', 'arn:aws:eks:us-west-2:123456789012:cluster/other')).toBe(false);
  });

  test('every grant says why it is there', () => {
    const grants = rolloutPolicyGrants(
      { cache: { name: 'c', parameterPath: P, regions: ['us-west-2'] }, clusters: [{ name: 'a', region: 'us-west-2' }] },
      { partition: 'aws', account: '1' },
    );
    for (const g of grants) expect({ sid: g.sid, why: g.why.length > 10 }).toEqual({ sid: g.sid, why: true });
    expect(policy.Statement.map((s) => s.Sid)).toEqual(grants.map((g) => g.sid));
  });
});
