// Issue 14: the builder's CI policy grants every call `cache build` (every cleanup path included),
// `cache list` and `cache gc` make, and nothing they do not. The calls are recorded from the code running
// against the fakes (helpers/cache-commands.ts); the synthesized policy is evaluated by the IAM simulator with the
// condition keys AWS supplies per call (helpers/iam-policy.ts, tested on its own in iam-policy-evaluator.test.ts).
import * as fs from 'fs';
import * as path from 'path';
import type { Fleet } from '../modules/fleet/load';
import { loadFleet } from '../modules/fleet/load';
import { ciPolicyGrants } from '../modules/image-cache/ci-policy';
import { recordCacheCommands, CommandRun } from './helpers/cache-commands';
import { ciPolicyOf, roleOfInstanceProfileIn } from './helpers/ci-policy';
import {
  AuthorizationRequest,
  Decision,
  evaluate,
  evaluateAll,
  grantedActions,
  missingRequiredResourceTypes,
  PolicyDocument,
  unusedGrants,
} from './helpers/iam-policy';
import { authorizationRequests, AwsWorld } from './helpers/aws-authorization';
import { ACCOUNT, BUILDER_SECURITY_GROUP_ID, BUILDER_SUBNET_IDS } from './helpers/fake-aws';
import { CACHE_TAG, FLEET_TAG } from '../modules/image-cache/parameters';
import { builderInstanceType } from '../modules/image-cache/builder-launch';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { MULTI_REGION_FLEET, PROJECT_ROOT, fleetFrom, synthFleet, validFleet } from './helpers/fleet';

/** The small valid fleet, with a private ECR image (its pull and registry-token grants) next to a public one. */
function fleetWithPrivateImage(): Fleet {
  const f = validFleet();
  f.imageCaches.general.images.push('111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:1');
  return fleetFrom(f);
}

function withoutCertificates(f: any): any {
  for (const c of Object.values<any>(f.clusters)) delete c.trustedCertificates;
  return f;
}

const rolloutFleetWithoutCertificates = () => fleetFrom(withoutCertificates(rolloutFleet()));
const multiRegionExample = () => loadFleet(MULTI_REGION_FLEET);

interface RegionUnderTest {
  region: string;
  policy: PolicyDocument;
  runs: CommandRun[];
  /** Every request of the runs with the simulator's decision. */
  decided: { request: AuthorizationRequest & { scenario: string; call: CommandRun['calls'][number] }; decision: Decision }[];
}

const synthesized = new Map<() => Fleet, Record<string, any>>();
/**
 * Every stack of the fleet `build` returns, synthesized once for this file: the tests only read them, and a synth per
 * test cost seconds. Each caller gets its own copy, so no test can change what another reads.
 */
function stacksOf(build: () => Fleet): Record<string, any> {
  if (!synthesized.has(build)) synthesized.set(build, synthFleet(build()));
  return structuredClone(synthesized.get(build)!);
}
const builderPolicyOf = (build: () => Fleet): PolicyDocument => ciPolicyOf(stacksOf(build)['image-cache-builder-us-west-2']);

const recorded = new Map<() => Fleet, Promise<RegionUnderTest[]>>();
/** regionsOf the fleet `build` returns, recorded once for this file (two describe blocks read the same fleet's runs). */
function regionsOnce(build: () => Fleet): Promise<RegionUnderTest[]> {
  if (!recorded.has(build)) recorded.set(build, regionsOf(build(), stacksOf(build)));
  return recorded.get(build)!;
}

/** Per builder stack: its policy, and the commands run for the caches homed in its region. */
async function regionsOf(fleet: Fleet, stacks: Record<string, any>): Promise<RegionUnderTest[]> {
  const out: RegionUnderTest[] = [];
  for (const region of [...new Set(fleet.imageCaches.map((c) => c.homeRegion))]) {
    const stack = stacks[`image-cache-builder-${region}`];
    const caches = fleet.imageCaches.filter((c) => c.homeRegion === region);
    const policy = ciPolicyOf(stack);
    const runs = await recordCacheCommands({ ...fleet, imageCaches: caches }, roleOfInstanceProfileIn(stack));
    const requests = requestsOf(runs).map(({ scenario, call, request }) => ({ ...request, scenario, call }));
    out.push({ region, policy, runs, decided: await evaluateAll(policy, requests) });
  }
  return out;
}

const requestsOf = (runs: readonly CommandRun[]) =>
  runs.flatMap((r) => r.calls.flatMap((c) => c.requests.map((q) => ({ scenario: r.scenario, call: c, request: q }))));

/** A private ECR image replicated to each region of the cache ({region}): pulled from every region's registry. */
function fleetWithRegionalImage(): Fleet {
  const f = validFleet();
  f.imageCaches.general.images.push('111122223333.dkr.ecr.{region}.amazonaws.com/team/app:1');
  return fleetFrom(f);
}

describe.each([
  ['a fleet with public and private ECR images', fleetWithPrivateImage],
  ['a fleet with a regional private ECR image', fleetWithRegionalImage],
  ['the multi-region example', multiRegionExample],
  ['a fleet with a rollout (gc reads the cluster parameters)', rolloutFleetWithoutCertificates],
])('the builder CI policy, %s', (_name, fleet) => {
  let regions: RegionUnderTest[];
  beforeAll(async () => {
    regions = await regionsOnce(fleet);
  });

  test('allows every call of cache build (every cleanup path), cache list and cache gc', () => {
    const denied = regions.flatMap(({ region, decided }) =>
      decided
        .filter(({ decision }) => !decision.allowed)
        .map(
          ({ request }) =>
            `${request.action} on ${request.resource}${Object.keys(request.context).length ? ` ${JSON.stringify(request.context)}` : ''} (${request.call.api} in ${request.call.region}; ${request.scenario}; policy of image-cache-builder-${region})`,
        ),
    );
    expect([...new Set(denied)]).toEqual([]);
  });

  test('grants no action the commands never need', () => {
    for (const { policy, runs } of regions) {
      const needed = new Set(requestsOf(runs).map(({ request }) => request.action));
      expect(grantedActions(policy).filter((a) => !needed.has(a))).toEqual([]);
    }
  });

  test('has no statement that allows none of the calls', () => {
    for (const { policy, decided } of regions) {
      const used = new Set(decided.filter(({ decision }) => decision.allowed).flatMap(({ decision }) => decision.allowedBy));
      expect(
        policy.Statement.filter((s) => s.Effect === 'Allow')
          .map((s) => s.Sid)
          .filter((sid) => !used.has(sid!)),
      ).toEqual([]);
    }
  });

  // The request model (helpers/aws-authorization.ts) names only context keys AWS supplies for each call (iam-data):
  // a key AWS does not supply would make a condition on it look satisfiable here.
  test('every context key of every recorded call is one AWS supplies for that action and resource type', () => {
    const extra = regions.flatMap(({ decided }) => decided.flatMap(({ request, decision }) => decision.notSupplied.map((k) => `${request.action} ${k}`)));
    expect([...new Set(extra)]).toEqual([]);
  });

  test('nothing beyond what it needs: every action of every statement allows some call the commands make', () => {
    for (const { policy, decided } of regions) expect(unusedGrants(policy, decided)).toEqual([]);
  });
});

describe("the recorded calls are the CLI's calls", () => {
  let runs: CommandRun[];
  beforeAll(async () => {
    runs = (await regionsOnce(fleetWithPrivateImage)).flatMap((r) => r.runs);
  });

  // AWS's data marks the resource types each action always authorizes (RunInstances: image, instance, network
  // interface, security group, subnet); a model that left one out would skip a check AWS makes.
  test('every call authorizes every resource type AWS requires for its action', async () => {
    const missing: string[] = [];
    for (const call of runs.flatMap((r) => r.calls)) {
      const own = call.requests.filter((q) => q.action === call.api).map((q) => q.resource);
      for (const rt of await missingRequiredResourceTypes(call.api, own)) missing.push(`${call.api}: ${rt}`);
    }
    expect([...new Set(missing)]).toEqual([]);
  });

  // A call added to cli/cache later fails this until a scenario makes it (and so the policy is checked for it).
  test('the scenarios make every AWS API call cli/cache imports', () => {
    const dir = path.join(PROJECT_ROOT, 'cli/cache');
    const imported = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => {
        const source = fs.readFileSync(path.join(dir, f), 'utf8');
        return [...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9]+)'/g)].flatMap(([, names, service]) =>
          names
            .split(',')
            .map((n) => n.trim())
            .filter((n) => n.endsWith('Command'))
            .map((n) => `${service}:${n.replace(/Command$/, '')}`),
        );
      });
    expect(imported.length).toBeGreaterThan(10);
    const made = new Set(runs.flatMap((r) => r.calls.map((c) => c.api)));
    expect([...new Set(imported)].filter((api) => !made.has(api)).sort()).toEqual([]);
  });

  test('a first-ever build that fails after writing its parameter deletes it again (regression: the policy lacked ssm:DeleteParameter)', () => {
    const firstEver = runs.find((r) => r.scenario.includes('first-ever build'))!;
    const deleted = firstEver.calls.filter((c) => c.api === 'ssm:DeleteParameter').flatMap((c) => c.requests.map((q) => q.resource));
    // The parameter itself, and the build's manifest parts (in every region with a copy).
    expect(deleted.filter((r) => !r.includes('-manifests/'))).toEqual([
      'arn:aws:ssm:us-west-2:123456789012:parameter/bottlerocket-fleet/image-cache/general/snapshot-id',
    ]);
  });

  // The single list of what each command calls, on which ARN, with which context: reviewable in the snapshot file.
  test('the list of calls, ARNs and request context per command', () => {
    const lines = runs.map((r) => ({
      scenario: r.scenario,
      calls: [
        ...new Set(
          r.calls.flatMap((c) =>
            c.requests.map((q) => {
              const context = Object.entries(q.context)
                .filter(([k]) => !/^aws:RequestTag\/bottlerocket-fleet:image-\d+$/.test(k))
                .map(([k, v]) => `${k}=${k.endsWith('bottlerocket-fleet:build-id') ? '<build id>' : String(v)}`);
              const resource = q.resource.replace(/-manifests\/[a-z0-9-]+-\d{14}-[0-9a-f]{6}\//, '-manifests/<build id>/');
              return `${c.api.padEnd(32)} ${q.action === c.api ? '' : `${q.action} `}${resource}${context.length ? ` [${context.join(', ')}]` : ''}`;
            }),
          ),
        ),
      ],
    }));
    expect(lines).toMatchSnapshot();
  });
});

describe('every grant of the CI policy has a reason', () => {
  test('each statement says why it is there, and the synthesized policy has exactly those statements', () => {
    const grants = ciPolicyGrants(
      {
        region: 'us-west-2',
        cacheNames: ['general'],
        fleetId: 'fleet-1',
        parameterPaths: ['/p'],
        images: ['111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:1'],
        replicaParameters: [{ region: 'us-east-1', parameterPath: '/p' }],
      },
      {
        partition: 'aws',
        account: '1',
        builderRoleArn: 'arn:aws:iam::1:role/r',
        securityGroupId: 'sg-1',
        subnetArns: ['arn:aws:ec2:us-west-2:1:subnet/subnet-1'],
      },
    );
    for (const g of grants) expect({ sid: g.sid, why: g.why.length > 10 }).toEqual({ sid: g.sid, why: true });
    const synthesizedPolicy = builderPolicyOf(fleetWithPrivateImage);
    expect(synthesizedPolicy.Statement.map((s) => s.Sid)).toEqual(grants.map((g) => g.sid));
  });
});

describe('the CI policy denies what the builder never does', () => {
  const policy = () => builderPolicyOf(fleetWithPrivateImage);
  const world = (volumeTags: { Key: string; Value: string }[] | undefined): AwsWorld => ({
    partition: 'aws',
    account: ACCOUNT,
    roleOfInstanceProfile: () => 'unused',
    tagsOf: () => volumeTags,
  });
  const fleetId = fleetWithPrivateImage().id;
  const cacheTags = [
    { Key: CACHE_TAG, Value: 'general' },
    { Key: FLEET_TAG, Value: fleetId },
  ];
  const createSnapshot = (volumeTags: typeof cacheTags | undefined, snapshotTags: typeof cacheTags) =>
    authorizationRequests(
      'ec2:CreateSnapshot',
      { VolumeId: 'vol-0abc', TagSpecifications: [{ ResourceType: 'snapshot', Tags: snapshotTags }] },
      'us-west-2',
      world(volumeTags),
    );
  const denied = async (p: PolicyDocument, requests: AuthorizationRequest[]) =>
    (await evaluateAll(p, requests)).filter(({ decision }) => !decision.allowed).map(({ request }) => request.resource);

  // Regression (review of issue 14): CreateSnapshot was granted on any volume, so the role could snapshot
  // another team's volume and, with PutParameter, publish it as the cache.
  test('CreateSnapshot of a volume without the cache tag is denied; of a builder volume with a tagged snapshot, allowed', async () => {
    const p = policy();
    expect(await denied(p, createSnapshot(undefined, cacheTags))).toEqual(['arn:aws:ec2:us-west-2:123456789012:volume/vol-0abc']);
    expect(await denied(p, createSnapshot([{ Key: 'team', Value: 'x' }], cacheTags))).toEqual(['arn:aws:ec2:us-west-2:123456789012:volume/vol-0abc']);
    expect(await denied(p, createSnapshot(cacheTags, cacheTags))).toEqual([]);
  });

  // Review of issue 14: LaunchWith allowed any subnet and security group, so the role could start an
  // instance with the builder role in another network.
  test("RunInstances outside the builders' subnets or with another security group is denied; the builder's own launch is allowed", async () => {
    const p = policy();
    const launch = (subnet: string, group: string) =>
      authorizationRequests(
        'ec2:RunInstances',
        {
          ImageId: 'ami-0123456789abcdef0',
          InstanceType: 'm6i.large',
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
          NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet, Groups: [group] }],
          TagSpecifications: [
            { ResourceType: 'instance', Tags: cacheTags },
            { ResourceType: 'volume', Tags: cacheTags },
          ],
        },
        'us-west-2',
        world(undefined),
      );
    expect(await denied(p, launch(BUILDER_SUBNET_IDS[1], BUILDER_SECURITY_GROUP_ID))).toEqual([]);
    expect(await denied(p, launch('subnet-other', BUILDER_SECURITY_GROUP_ID))).toEqual(['arn:aws:ec2:us-west-2:123456789012:subnet/subnet-other']);
    expect(await denied(p, launch(BUILDER_SUBNET_IDS[0], 'sg-other'))).toEqual(['arn:aws:ec2:us-west-2:123456789012:security-group/sg-other']);
  });

  // Issue 21: RunInstances had no condition on instance type or IMDS; the CI role could launch anything with the builder role.
  test.each([
    ['another instance type', { InstanceType: 'p5.48xlarge' }, 'DenyOtherInstanceTypes'],
    ['IMDSv1 allowed', { MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 } }, 'DenyImdsV1'],
    ['no metadata options at all (the account default may allow IMDSv1)', { MetadataOptions: undefined }, 'DenyImdsV1'],
    ["a hop limit above the builder's", { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 3 } }, 'DenyHigherHopLimit'],
  ])('RunInstances with %s is denied on the instance', async (_name, change, sid) => {
    const p = policy();
    const requests = authorizationRequests(
      'ec2:RunInstances',
      {
        ImageId: 'ami-0123456789abcdef0',
        InstanceType: 'm6i.large',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: BUILDER_SUBNET_IDS[0], Groups: [BUILDER_SECURITY_GROUP_ID] }],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: cacheTags },
          { ResourceType: 'volume', Tags: cacheTags },
        ],
        ...change,
      },
      'us-west-2',
      world(undefined),
    );
    const instance = requests.find((q) => q.action === 'ec2:RunInstances' && q.resource.endsWith(':instance/*'))!;
    expect(await evaluate(p, instance)).toMatchObject({ allowed: false, deniedBy: [sid] });
    expect(await denied(p, requests)).toEqual(['arn:aws:ec2:us-west-2:123456789012:instance/*']);
  });

  test("the allowed instance types are the region's caches' builder types", () => {
    const f = validFleet();
    f.imageCaches.general.instanceType = 'c7i.2xlarge';
    const fleet = fleetFrom(f);
    const p = ciPolicyOf(synthFleet(fleet)['image-cache-builder-us-west-2']);
    const types = [...new Set(fleet.imageCaches.filter((c) => c.homeRegion === 'us-west-2').map(builderInstanceType))].sort();
    expect(types).toContain('c7i.2xlarge');
    expect(p.Statement.find((s) => s.Sid === 'DenyOtherInstanceTypes')!.Condition).toEqual({ StringNotEquals: { 'ec2:InstanceType': types } });
  });

  test('CreateSnapshot without the cache tag on the new snapshot is denied', async () => {
    expect(await denied(policy(), createSnapshot(cacheTags, [{ Key: 'Name', Value: 'x' }]))).toEqual(['arn:aws:ec2:us-west-2::snapshot/*']);
  });

  // Issue 21: the conditions matched the tag key with any value, so another fleet's builders and snapshots
  // (or a node tagged bottlerocket-fleet:cache) were the CI role's too.
  test.each([
    [
      'another fleet',
      [
        { Key: CACHE_TAG, Value: 'general' },
        { Key: FLEET_TAG, Value: 'fleet-other' },
      ],
    ],
    ['no fleet tag', [{ Key: CACHE_TAG, Value: 'general' }]],
    [
      'a cache not built in this region',
      [
        { Key: CACHE_TAG, Value: 'other' },
        { Key: FLEET_TAG, Value: fleetId },
      ],
    ],
  ])('tag conditions match exact values: a volume or snapshot of %s is denied', async (_name, tags) => {
    const p = policy();
    expect(await denied(p, createSnapshot(tags, cacheTags))).toEqual(['arn:aws:ec2:us-west-2:123456789012:volume/vol-0abc']);
    expect(await denied(p, createSnapshot(cacheTags, tags))).toEqual(['arn:aws:ec2:us-west-2::snapshot/*']);
    const deleteOf = authorizationRequests('ec2:DeleteSnapshot', { SnapshotId: 'snap-0abc' }, 'us-west-2', world(tags));
    expect(await denied(p, deleteOf)).toEqual(['arn:aws:ec2:us-west-2::snapshot/snap-0abc']);
    expect(await denied(p, authorizationRequests('ec2:DeleteSnapshot', { SnapshotId: 'snap-0abc' }, 'us-west-2', world(cacheTags)))).toEqual([]);
  });
});

// Review of issue 14: the guard rejected only LaunchTemplate and KeyName; any other parameter passed the
// model unchecked and would be denied in AWS instead of failing here.
describe('the RunInstances authorization model refuses parameters it does not model', () => {
  const world: AwsWorld = { partition: 'aws', account: ACCOUNT, roleOfInstanceProfile: () => 'builder', tagsOf: () => undefined };
  const launch = (extra: Record<string, unknown> = {}, ebs: Record<string, unknown> = {}, ni: Record<string, unknown> = {}) => ({
    ImageId: 'ami-0123456789abcdef0',
    InstanceType: 'm7i.large',
    MinCount: 1,
    MaxCount: 1,
    IamInstanceProfile: { Name: 'p' },
    NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-0a', Groups: ['sg-0123456789abcdef0'], AssociatePublicIpAddress: false, ...ni }],
    BlockDeviceMappings: [{ DeviceName: '/dev/xvdb', Ebs: { VolumeSize: 50, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true, ...ebs } }],
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: CACHE_TAG, Value: 'general' }] }],
    ...extra,
  });
  const model = (input: object) => () => authorizationRequests('ec2:RunInstances', input, 'us-west-2', world);

  test("the builder's own parameters are modelled", () => {
    expect(model(launch())).not.toThrow();
  });

  test.each([
    ['LaunchTemplate', launch({ LaunchTemplate: { LaunchTemplateId: 'lt-1' } })],
    ['KeyName', launch({ KeyName: 'k' })],
    ['SubnetId', launch({ SubnetId: 'subnet-0a' })],
    ['SecurityGroupIds', launch({ SecurityGroupIds: ['sg-1'] })],
    ['Placement', launch({ Placement: { GroupName: 'g' } })],
    ['CapacityReservationSpecification', launch({ CapacityReservationSpecification: { CapacityReservationPreference: 'open' } })],
    ['NetworkInterfaces[0].NetworkInterfaceId', launch({}, {}, { NetworkInterfaceId: 'eni-1' })],
    ['BlockDeviceMappings[0].Ebs.KmsKeyId', launch({}, { KmsKeyId: 'alias/k' })],
    [
      'TagSpecifications[1].ResourceType=spot-instances-request',
      launch({
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [] },
          { ResourceType: 'spot-instances-request', Tags: [] },
        ],
      }),
    ],
  ])('%s throws, naming the parameter', (name, input) => {
    expect(model(input)).toThrow(`ec2:RunInstances with ${name}: not modelled`);
  });

  test('a mapping restored from a snapshot adds the snapshot resource, which the CI policy does not grant', async () => {
    const requests = model(launch({}, { SnapshotId: 'snap-0abc' }))();
    const snapshot = requests.filter((q) => q.resource.includes(':snapshot/'));
    expect(snapshot.map((q) => `${q.action} ${q.resource}`)).toEqual(['ec2:RunInstances arn:aws:ec2:us-west-2::snapshot/snap-0abc']);
    const policy = builderPolicyOf(fleetWithPrivateImage);
    expect((await evaluate(policy, snapshot[0])).allowed).toBe(false);
  });
});

// Issue 29: WriteManifests also granted writes and deletes under every cluster parameter's `-manifests` path (the
// cluster parameters are in replicaParameters, for `cache gc`'s reads); nothing writes there (cli/cache/manifest.ts
// writes only <cache parameter>-manifests/<build id>/<part>). The statement as it shipped before, kept to show it.
describe('WriteManifests: the cluster-parameter over-grant allowed before, denied after', () => {
  const P = '/bottlerocket-fleet/image-cache/general/snapshot-id';
  const ssm = (region: string, name: string) => `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name}`;
  const WRITE_MANIFESTS_BEFORE: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'WriteManifests',
        Effect: 'Allow',
        Action: ['ssm:PutParameter', 'ssm:DeleteParameter'],
        Resource: [ssm('us-east-1', `${P}-manifests/*`), ssm('us-east-1', `${P}/clusters/payments-prod-manifests/*`), ssm('us-west-2', `${P}-manifests/*`)],
      },
    ],
  };
  const after = (): PolicyDocument => {
    const p = builderPolicyOf(rolloutFleetWithoutCertificates);
    return { ...p, Statement: p.Statement.filter((s) => s.Sid === 'WriteManifests') };
  };
  const allowed = async (p: PolicyDocument, action: string, resource: string) => (await evaluate(p, { action, resource, context: {} })).allowed;

  test("a cluster parameter's -manifests path: writable before, not after", async () => {
    const p = after();
    for (const action of ['ssm:PutParameter', 'ssm:DeleteParameter']) {
      const clusterManifest = ssm('us-east-1', `${P}/clusters/payments-prod-manifests/build-1/0`);
      expect(await allowed(WRITE_MANIFESTS_BEFORE, action, clusterManifest)).toBe(true);
      expect(await allowed(p, action, clusterManifest)).toBe(false);
    }
  });

  test("the cache's own manifests stay writable in the home region and every replica region", async () => {
    const p = after();
    for (const region of ['us-west-2', 'us-east-1'])
      for (const action of ['ssm:PutParameter', 'ssm:DeleteParameter'])
        expect(await allowed(p, action, ssm(region, `${P}-manifests/general-20261125120000-abcdef/0`))).toBe(true);
  });
});
