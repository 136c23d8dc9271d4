// The small IAM evaluator the CI-policy test relies on (__tests__/helpers/iam-policy.ts), on its own.
// Semantics: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// and .../reference_policies_elements_condition_operators.html.
import { evaluate, grantedActions, PolicyDocument, PolicyStatement, wildcardMatch } from './helpers/iam-policy';

const policy = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const INSTANCE = 'arn:aws:ec2:us-west-2:123456789012:instance/i-1';
const tagged = {
  Effect: 'Allow',
  Action: 'ec2:TerminateInstances',
  Resource: 'arn:aws:ec2:us-west-2:123456789012:instance/*',
  Condition: { StringLike: { 'aws:ResourceTag/team': '*' } },
} as const;

describe('IAM policy evaluation, as far as the CI policy needs it', () => {
  test('nothing is allowed unless a statement allows it (implicit deny)', () => {
    expect(evaluate(policy(), { action: 'ec2:RunInstances', resource: '*', context: {} }).allowed).toBe(false);
    expect(
      evaluate(policy({ Effect: 'Allow', Action: 'ec2:StopInstances', Resource: '*' }), { action: 'ec2:RunInstances', resource: '*', context: {} }).allowed,
    ).toBe(false);
  });

  test('an explicit Deny wins over any Allow', () => {
    const d = evaluate(policy({ Sid: 'A', Effect: 'Allow', Action: '*', Resource: '*' }, { Sid: 'D', Effect: 'Deny', Action: 'ec2:*', Resource: INSTANCE }), {
      action: 'ec2:TerminateInstances',
      resource: INSTANCE,
      context: {},
    });
    expect(d).toEqual({ allowed: false, allowedBy: ['A'], deniedBy: ['D'] });
  });

  test('actions match case-insensitively with wildcards; resources case-sensitively, * spanning / and :', () => {
    const p = policy({
      Effect: 'Allow',
      Action: ['ec2:Describe*', 'SSM:getparameter'],
      Resource: 'arn:aws:ssm:us-west-2:123456789012:parameter/bottlerocket-fleet/*',
    });
    const param = 'arn:aws:ssm:us-west-2:123456789012:parameter/bottlerocket-fleet/image-cache/general/snapshot-id';
    expect(evaluate(p, { action: 'ssm:GetParameter', resource: param, context: {} }).allowed).toBe(true);
    expect(evaluate(p, { action: 'ec2:DescribeSnapshots', resource: param, context: {} }).allowed).toBe(true);
    expect(evaluate(p, { action: 'ssm:GetParameters', resource: param, context: {} }).allowed).toBe(false);
    expect(evaluate(p, { action: 'ssm:GetParameter', resource: param.replace('bottlerocket-fleet', 'Bottlerocket-Fleet'), context: {} }).allowed).toBe(false);
    expect(evaluate(p, { action: 'ssm:GetParameter', resource: param.replace('us-west-2', 'us-east-1'), context: {} }).allowed).toBe(false);
    expect(wildcardMatch('arn:aws:ec2:us-west-2::snapshot/snap-?', 'arn:aws:ec2:us-west-2::snapshot/snap-1', false)).toBe(true);
    expect(wildcardMatch('arn:aws:ec2:us-west-2::snapshot/snap-?', 'arn:aws:ec2:us-west-2::snapshot/snap-12', false)).toBe(false);
    expect(wildcardMatch('a.b', 'axb', false)).toBe(false); // regex characters are literal
  });

  test('a condition on a key the request does not carry never matches', () => {
    expect(evaluate(policy(tagged), { action: 'ec2:TerminateInstances', resource: INSTANCE, context: {} }).allowed).toBe(false);
    expect(evaluate(policy(tagged), { action: 'ec2:TerminateInstances', resource: INSTANCE, context: { 'aws:ResourceTag/team': '' } }).allowed).toBe(true);
    expect(evaluate(policy(tagged), { action: 'ec2:TerminateInstances', resource: INSTANCE, context: { 'aws:ResourceTag/other': 'x' } }).allowed).toBe(false);
  });

  test('condition key names are case-insensitive; StringEquals values are exact, any listed value may match', () => {
    const p = policy({
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: '*',
      Condition: { StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateSnapshot'] } },
    });
    expect(evaluate(p, { action: 'ec2:CreateTags', resource: '*', context: { 'EC2:createaction': 'CreateSnapshot' } }).allowed).toBe(true);
    expect(evaluate(p, { action: 'ec2:CreateTags', resource: '*', context: { 'ec2:CreateAction': 'runinstances' } }).allowed).toBe(false);
    expect(evaluate(p, { action: 'ec2:CreateTags', resource: '*', context: { 'ec2:CreateAction': 'CreateVolume' } }).allowed).toBe(false);
  });

  test('every condition block and every key in it must match (AND)', () => {
    const p = policy({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: '*',
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' }, StringLike: { 'aws:RequestTag/a': 'x*', 'aws:RequestTag/b': '*' } },
    });
    const ok = { 'iam:PassedToService': 'ec2.amazonaws.com', 'aws:RequestTag/a': 'xy', 'aws:RequestTag/b': 'z' };
    expect(evaluate(p, { action: 'iam:PassRole', resource: '*', context: ok }).allowed).toBe(true);
    expect(evaluate(p, { action: 'iam:PassRole', resource: '*', context: { ...ok, 'iam:PassedToService': 'lambda.amazonaws.com' } }).allowed).toBe(false);
    expect(evaluate(p, { action: 'iam:PassRole', resource: '*', context: { ...ok, 'aws:RequestTag/a': 'yx' } }).allowed).toBe(false);
  });

  // Issue 21: the CI policy's launch guards are explicit denies with a negated and a numeric operator.
  test('StringNotEquals matches when the value differs from every listed one, or the key is missing; a Deny it matches wins', () => {
    const p = policy(
      { Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*' },
      {
        Sid: 'DenyTypes',
        Effect: 'Deny',
        Action: 'ec2:RunInstances',
        Resource: '*',
        Condition: { StringNotEquals: { 'ec2:InstanceType': ['m6i.large', 'm7g.large'] } },
      },
    );
    const launch = (context: Record<string, string>) => evaluate(p, { action: 'ec2:RunInstances', resource: '*', context });
    expect(launch({ 'ec2:InstanceType': 'm7g.large' })).toMatchObject({ allowed: true, deniedBy: [] });
    expect(launch({ 'ec2:InstanceType': 'p5.48xlarge' })).toMatchObject({ allowed: false, deniedBy: ['DenyTypes'] });
    expect(launch({})).toMatchObject({ allowed: false, deniedBy: ['DenyTypes'] });
  });

  test('NumericGreaterThan and NumericLessThanEquals compare numbers; a missing key matches neither', () => {
    const deny = policy(
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NumericGreaterThan: { 'ec2:MetadataHttpPutResponseHopLimit': '2' } } },
    );
    const hop = (v?: string) =>
      evaluate(deny, { action: 'ec2:RunInstances', resource: '*', context: v === undefined ? {} : { 'ec2:MetadataHttpPutResponseHopLimit': v } });
    expect(hop('2').allowed).toBe(true);
    expect(hop('10').allowed).toBe(false); // 10 > 2 as numbers (as strings it would sort before "2")
    expect(hop().allowed).toBe(true);
    const allow = policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThanEquals: { 'ec2:MetadataHttpPutResponseHopLimit': '2' } } });
    const ask = (v?: string) =>
      evaluate(allow, { action: 'x', resource: '*', context: v === undefined ? {} : { 'ec2:MetadataHttpPutResponseHopLimit': v } }).allowed;
    expect([ask('1'), ask('2'), ask('3'), ask('x'), ask()]).toEqual([true, true, false, false, false]);
  });

  test('what it does not model throws instead of being ignored', () => {
    const req = { action: 'ec2:RunInstances', resource: '*', context: {} };
    expect(() => evaluate(policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringNotLike: { 'aws:RequestTag/a': 'x' } } }), req)).toThrow(
      /condition operator StringNotLike is not supported/,
    );
    expect(() =>
      evaluate(policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': '*' } } }), req),
    ).toThrow(/ForAnyValue:StringLike is not supported/);
    expect(() =>
      evaluate(policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringLikeIfExists: { 'aws:RequestTag/a': '*' } } }), req),
    ).toThrow(/StringLikeIfExists is not supported/);
    expect(() => evaluate(policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } as unknown as PolicyStatement), req)).toThrow(
      /NotAction is not supported/,
    );
    expect(() => evaluate(policy({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:iam::${aws:userid}:role/x' }), req)).toThrow(
      /policy variable or an unresolved Terraform reference/,
    );
    expect(() => evaluate(policy({ Effect: 'Maybe' as 'Allow', Action: '*', Resource: '*' }), req)).toThrow(/neither Allow nor Deny/);
  });

  test('grantedActions lists the actions of Allow statements', () => {
    expect(
      grantedActions(policy({ Effect: 'Allow', Action: ['b:Y', 'a:X'], Resource: '*' }, { Effect: 'Deny', Action: 'c:Z', Resource: '*' }, tagged)),
    ).toEqual(['a:X', 'b:Y', 'ec2:TerminateInstances']);
  });
});
