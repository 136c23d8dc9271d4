// Issue 21 (5): the rollout's policy writes only the per-cluster parameters. Its calls are checked against a
// recorded rollout in __tests__/real-tools/rollout-policy.test.ts; this checks what it must never allow.
import { ciPolicyOf } from './helpers/ci-policy';
import { evaluate, PolicyDocument, PolicyStatement } from './helpers/iam-policy';
import { fleetFrom, synthFleet } from './helpers/fleet';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { rolloutPolicyGrants } from '../modules/image-cache/rollout-policy';

const P = '/bottlerocket-fleet/image-cache/general/snapshot-id';
const ssm = (region: string, name: string) => `arn:aws:ssm:${region}:123456789012:parameter${name}`;

describe('the rollout policy', () => {
  const fleet = fleetFrom(rolloutFleet());
  const stack = synthFleet(fleet)['image-cache-builder-us-west-2'];
  const policy = ciPolicyOf(stack, 'aws', 'rollout-policy-general_rollout-policy-document');
  const allowed = async (action: string, resource: string, p: PolicyDocument = policy) => (await evaluate(p, { action, resource, context: {} })).allowed;

  test('is shipped as bottlerocket-fleet-rollout-<cache> in the home-region builder stack', () => {
    expect(Object.values<any>(stack.resource.aws_iam_policy).map((p) => p.name)).toContain('bottlerocket-fleet-rollout-general');
    // Not in image-cache-general: the role deploying that stack would need rights on IAM policies.
    expect(synthFleet(fleet)['image-cache-general'].resource.aws_iam_policy).toBeUndefined();
  });

  test("writes the clusters' parameters in their regions, never the cache's own parameter or history, nor another cache's", async () => {
    expect(await allowed('ssm:PutParameter', ssm('us-west-2', `${P}/clusters/ml-train`))).toBe(true);
    expect(await allowed('ssm:PutParameter', ssm('us-east-1', `${P}/clusters/payments-prod`))).toBe(true);
    expect(await allowed('ssm:PutParameter', ssm('us-west-2', P))).toBe(false);
    expect(await allowed('ssm:PutParameter', ssm('us-west-2', `${P}-history`))).toBe(false);
    expect(await allowed('ssm:PutParameter', ssm('us-west-2', '/bottlerocket-fleet/image-cache/gpu/snapshot-id/clusters/ml-train'))).toBe(false);
    expect(await allowed('ssm:DeleteParameter', ssm('us-west-2', `${P}/clusters/ml-train`))).toBe(false);
  });

  test('describes only the rollout clusters', async () => {
    expect(await allowed('eks:DescribeCluster', 'arn:aws:eks:us-west-2:123456789012:cluster/ml-train')).toBe(true);
    expect(await allowed('eks:DescribeCluster', 'arn:aws:eks:us-west-2:123456789012:cluster/other')).toBe(false);
  });

  // Issue 29: the statement as it shipped before, kept to show the over-grant. The rollout reads the cache's parameter
  // and history only in the home region (cli/rollout/engine.ts resolveRollout), elsewhere only cluster parameters.
  const READ_BEFORE: PolicyStatement = {
    Sid: 'RolloutReadParameters',
    Effect: 'Allow',
    Action: ['ssm:GetParameter'],
    Resource: ['us-west-2', 'us-east-1'].flatMap((r) => [ssm(r, P), ssm(r, `${P}-history`), ssm(r, `${P}/clusters/*`)]),
  };
  const only = (s: PolicyStatement): PolicyDocument => ({ Version: '2012-10-17', Statement: [s] });

  test('reads the cache parameter and history only in the home region: the replica-region reads were allowed before, denied now', async () => {
    const after = only(policy.Statement.find((s) => s.Sid === 'RolloutReadParameters')!);
    for (const name of [P, `${P}-history`]) {
      expect(await allowed('ssm:GetParameter', ssm('us-east-1', name), only(READ_BEFORE))).toBe(true);
      expect(await allowed('ssm:GetParameter', ssm('us-east-1', name), after)).toBe(false);
      expect(await allowed('ssm:GetParameter', ssm('us-west-2', name), after)).toBe(true);
    }
    for (const [region, cluster] of [
      ['us-west-2', 'ml-train'],
      ['us-east-1', 'payments-prod'],
    ])
      expect(await allowed('ssm:GetParameter', ssm(region, `${P}/clusters/${cluster}`), after)).toBe(true);
  });

  test('every grant says why it is there', () => {
    const grants = rolloutPolicyGrants(
      { cache: { name: 'c', parameterPath: P, homeRegion: 'us-west-2' }, clusters: [{ name: 'a', region: 'us-west-2' }] },
      { partition: 'aws', account: '1' },
    );
    for (const g of grants) expect({ sid: g.sid, why: g.why.length > 10 }).toEqual({ sid: g.sid, why: true });
    expect(policy.Statement.map((s) => s.Sid)).toEqual(grants.map((g) => g.sid));
  });
});
