// Issue 21 (5): the role that deploys image-cache-<cache> gets its own least-privilege policy,
// bottlerocket-fleet-replication-<cache>, shipped by the home-region builder stack. It is evaluated against what
// Terraform calls for every resource and data source of the synthesized replication stack
// (helpers/terraform-authorization.ts), by the IAM simulator with the condition keys AWS supplies per call
// (helpers/iam-policy.ts), and must allow those calls and nothing more.
import { ciPolicyOf } from './helpers/ci-policy';
import { AuthorizationRequest, evaluate, evaluateAll, grantedActions, PolicyDocument, PolicyStatement, unusedGrants } from './helpers/iam-policy';
import { terraformRequests } from './helpers/terraform-authorization';
import { ACCOUNT } from './helpers/aws-account';
import { MULTI_REGION_FLEET, PROJECT_ROOT, fleetFrom, synthFleet, validFleet } from './helpers/fleet';
import { loadFleet } from '../modules/fleet/load';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { CACHE_TAG } from '../modules/image-cache/parameters';
import { kmsKeyScope } from '../modules/image-cache/replication-policy';
import * as path from 'path';

/** The small valid fleet copying into two replica regions, each with its own customer managed key (kmsKeyIds). */
function fleetWithKeys(keys: Record<string, string>) {
  return () => {
    const f = validFleet();
    Object.assign(f.imageCaches.general, { replicaRegions: ['us-east-1', 'eu-west-1'], kmsKeyIds: keys });
    return fleetFrom(f);
  };
}

const fleets: [string, () => ReturnType<typeof loadFleet>][] = [
  ['the multi-region example (Fast Snapshot Restore, several replicas)', () => loadFleet(MULTI_REGION_FLEET)],
  ['a rollout fleet (per-cluster parameters, held generations)', () => fleetFrom(rolloutFleet())],
  ['the staged-rollout example', () => loadFleet(path.join(PROJECT_ROOT, 'examples/staged-rollout/fleet.yaml'))],
  [
    'a fleet with a KMS key per replica region (an alias and a key ARN)',
    fleetWithKeys({ 'us-east-1': 'alias/cache', 'eu-west-1': `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-111122223333` }),
  ],
];

const replicationPolicyOf = (stacks: Record<string, any>, cache: { name: string; homeRegion: string }) =>
  ciPolicyOf(stacks[`image-cache-builder-${cache.homeRegion}`], 'aws', `replication-policy-${cache.name}_replication-policy-document`);

describe.each(fleets)('the replication policy, %s', (_name, load) => {
  const fleet = load();
  const stacks = synthFleet(fleet);
  const caches = fleet.imageCaches.filter((c) => stacks[`image-cache-${c.name}`]);

  test('has caches to check', () => {
    expect(caches.length).toBeGreaterThan(0);
  });

  test.each(caches.map((c) => [c.name, c.homeRegion]))('%s: allows every call of its stack, grants nothing else, every statement used', async (cache, home) => {
    const policy = replicationPolicyOf(stacks, { name: cache, homeRegion: home });
    const decided = await evaluateAll(policy, terraformRequests(stacks[`image-cache-${cache}`]));
    expect(decided.filter(({ decision }) => !decision.allowed).map(({ request }) => `${request.action} ${request.resource}`)).toEqual([]);
    const needed = new Set(decided.map(({ request }) => request.action));
    expect(grantedActions(policy).filter((a) => !needed.has(a))).toEqual([]);
    const used = new Set(decided.flatMap(({ decision }) => decision.allowedBy));
    expect(policy.Statement.map((s) => s.Sid).filter((sid) => !used.has(sid!))).toEqual([]);
    // Nothing beyond what it needs: every action of every statement allows some call Terraform makes.
    expect(unusedGrants(policy, decided)).toEqual([]);
  });
});

describe('the replication policy denies what the stack never does', () => {
  const fleet = loadFleet(MULTI_REGION_FLEET);
  const cache = fleet.imageCaches.find((c) => c.replicaRegions.length > 0)!;
  const policy = replicationPolicyOf(synthFleet(fleet), cache);
  const replica = cache.replicaRegions[0];
  const ask = async (action: string, resource: string, context: Record<string, string> = {}) => (await evaluate(policy, { action, resource, context })).allowed;

  test("retags or deletes only this cache's snapshots (exact tag value), never a home-region build; copies only this account's", async () => {
    const mine = { [`aws:ResourceTag/${CACHE_TAG}`]: cache.name };
    const other = { [`aws:ResourceTag/${CACHE_TAG}`]: `${cache.name}-other` };
    const source = `arn:aws:ec2:${cache.homeRegion}::snapshot/snap-1`;
    // The source snapshot of a copy: AWS supplies ec2:Owner (and no aws:ResourceTag, issue 29).
    expect(await ask('ec2:CopySnapshot', source, { ...mine, 'ec2:Owner': ACCOUNT })).toBe(true);
    expect(await ask('ec2:CopySnapshot', source, { ...mine, 'ec2:Owner': '999988887777' })).toBe(false);
    expect(await ask('ec2:CopySnapshot', source, mine)).toBe(false);
    expect(await ask('ec2:DeleteSnapshot', `arn:aws:ec2:${replica}::snapshot/snap-2`, mine)).toBe(true);
    expect(await ask('ec2:DeleteSnapshot', `arn:aws:ec2:${replica}::snapshot/snap-2`, other)).toBe(false);
    expect(await ask('ec2:DeleteSnapshot', `arn:aws:ec2:${cache.homeRegion}::snapshot/snap-1`, mine)).toBe(false);
  });

  test("writes the cache's regional parameter, never its home-region parameter or history", async () => {
    const ssm = (region: string, name: string) => `arn:aws:ssm:${region}:123456789012:parameter${name}`;
    expect(await ask('ssm:PutParameter', ssm(replica, cache.parameterPath))).toBe(true);
    expect(await ask('ssm:PutParameter', ssm(cache.homeRegion, cache.parameterPath))).toBe(false);
    expect(await ask('ssm:PutParameter', ssm(cache.homeRegion, `${cache.parameterPath}-history`))).toBe(false);
  });

  test('grants no KMS action when no kmsKeyIds is set (the EBS default key needs none)', () => {
    expect(grantedActions(policy).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });
});

// Issue 29: the statement as it shipped before, kept to show what AWS decided on it.
const COPY_FROM_BEFORE = (home: string, cache: string): PolicyStatement => ({
  Sid: 'ReplicationCopyFrom',
  Effect: 'Allow',
  Action: ['ec2:CopySnapshot'],
  Resource: [`arn:aws:ec2:${home}::snapshot/*`],
  Condition: { StringEquals: { [`aws:ResourceTag/${CACHE_TAG}`]: [cache] } },
});

describe('ReplicationCopyFrom: denied before issue 29, allowed after (the simulator, with the keys AWS supplies)', () => {
  const fleet = loadFleet(MULTI_REGION_FLEET);
  const cache = fleet.imageCaches.find((c) => c.replicaRegions.length > 0)!;
  const stacks = synthFleet(fleet);
  const copyOfSource = terraformRequests(stacks[`image-cache-${cache.name}`]).find(
    (q) => q.action === 'ec2:CopySnapshot' && q.resource.startsWith(`arn:aws:ec2:${cache.homeRegion}:`),
  )!;
  const only = (s: PolicyStatement): PolicyDocument => ({ Version: '2012-10-17', Statement: [s] });

  test('the source request carries the cache tag as the caller knows it; AWS does not supply it for CopySnapshot', async () => {
    expect(copyOfSource.context[`aws:ResourceTag/${CACHE_TAG}`]).toBe(cache.name);
    expect((await evaluate(only(COPY_FROM_BEFORE(cache.homeRegion, cache.name)), copyOfSource)).notSupplied).toContain(`aws:ResourceTag/${CACHE_TAG}`);
  });

  test('the old statement (aws:ResourceTag) denies the copy; the shipped one (ec2:Owner) allows it', async () => {
    expect(await evaluate(only(COPY_FROM_BEFORE(cache.homeRegion, cache.name)), copyOfSource)).toMatchObject({ allowed: false });
    const after = replicationPolicyOf(stacks, cache).Statement.find((s) => s.Sid === 'ReplicationCopyFrom')!;
    expect(after.Condition).toEqual({ StringEquals: { 'ec2:Owner': [ACCOUNT] } });
    expect(await evaluate(only(after), copyOfSource)).toMatchObject({ allowed: true, allowedBy: ['ReplicationCopyFrom'] });
  });
});

describe('a copy with a customer managed key (kmsKeyIds): KMS grants, scoped to the key', () => {
  const fleet = fleetWithKeys({ 'us-east-1': 'alias/cache', 'eu-west-1': `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-111122223333` })();
  const cache = fleet.imageCaches.find((c) => c.name === 'general')!;
  const stacks = synthFleet(fleet);
  const policy = replicationPolicyOf(stacks, cache);
  const kmsRequests = () => terraformRequests(stacks['image-cache-general']).filter((q) => q.action.startsWith('kms:'));
  const withoutKms = (p: PolicyDocument): PolicyDocument => ({ ...p, Statement: p.Statement.filter((s) => !String(s.Sid).startsWith('ReplicationCopyKey')) });

  test('denied without the KMS statements (as the policy shipped before), allowed with them', async () => {
    const requests = kmsRequests();
    expect([...new Set(requests.map((q) => q.action))].sort()).toEqual([
      'kms:CreateGrant',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:ReEncryptFrom',
      'kms:ReEncryptTo',
    ]);
    expect((await evaluateAll(withoutKms(policy), requests)).filter(({ decision }) => decision.allowed)).toEqual([]);
    expect((await evaluateAll(policy, requests)).filter(({ decision }) => !decision.allowed).map(({ request }) => request.action)).toEqual([]);
  });

  const useOf = (key: string, _region: string, context: Record<string, string | string[]>): AuthorizationRequest => ({
    action: 'kms:Decrypt',
    resource: key,
    context,
  });
  const via = (region: string) => ({ 'kms:ViaService': `ec2.${region}.amazonaws.com` });
  const ARN_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-111122223333`;
  const OTHER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/99999999-aaaa-bbbb-cccc-111122223333`;

  test('only that key, only through EC2 in its region; an alias only on a key that carries it', async () => {
    const allowed = async (q: AuthorizationRequest) => (await evaluate(policy, q)).allowed;
    expect(await allowed(useOf(ARN_KEY, 'eu-west-1', via('eu-west-1')))).toBe(true);
    expect(await allowed(useOf(OTHER_KEY, 'eu-west-1', via('eu-west-1')))).toBe(false);
    expect(await allowed(useOf(ARN_KEY, 'eu-west-1', via('us-east-1')))).toBe(false);
    expect(await allowed(useOf(ARN_KEY, 'eu-west-1', {}))).toBe(false); // called directly, not by EBS
    const east = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    expect(await allowed(useOf(east, 'us-east-1', { ...via('us-east-1'), 'kms:ResourceAliases': ['alias/cache'] }))).toBe(true);
    expect(await allowed(useOf(east, 'us-east-1', { ...via('us-east-1'), 'kms:ResourceAliases': ['alias/other'] }))).toBe(false);
  });

  test('CreateGrant only for an AWS resource', async () => {
    const grant = (forAws: string) =>
      evaluate(policy, { action: 'kms:CreateGrant', resource: ARN_KEY, context: { ...via('eu-west-1'), 'kms:GrantIsForAWSResource': forAws } });
    expect((await grant('true')).allowed).toBe(true);
    expect((await grant('false')).allowed).toBe(false);
  });

  test('kmsKeyScope: a key ID or key ARN is the resource; an alias (name or ARN) scopes by kms:ResourceAliases', () => {
    const refs = { partition: 'aws', account: ACCOUNT };
    expect(kmsKeyScope('1234abcd-12ab-34cd-56ef-1234567890ab', 'us-east-1', refs)).toEqual({
      resources: [`arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`],
      condition: [],
    });
    expect(kmsKeyScope(ARN_KEY, 'eu-west-1', refs)).toEqual({ resources: [ARN_KEY], condition: [] });
    for (const alias of ['alias/cache', `arn:aws:kms:us-east-1:${ACCOUNT}:alias/cache`])
      expect(kmsKeyScope(alias, 'us-east-1', refs)).toEqual({
        resources: [`arn:aws:kms:us-east-1:${ACCOUNT}:key/*`],
        condition: [{ test: 'ForAnyValue:StringEquals', variable: 'kms:ResourceAliases', values: ['alias/cache'] }],
      });
  });
});
