/**
 * Issue 21 (5): the rollout's own least-privilege policy (bottlerocket-fleet-rollout-<cache>, in the cache's
 * image-cache-<cache> stack) allows every AWS call a rollout makes and nothing it does not. The calls are recorded
 * from the engine and the report running against the AWS emulator (as in rollout-scenarios.test.ts), plus the
 * identity check's DescribeCluster; the synthesized policy is evaluated by the IAM simulator with the condition keys AWS
 * supplies per call (helpers/iam-policy.ts).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import { describeWithRealTools } from '../helpers/real-tools';
import { useRolloutWorld } from '../helpers/rollout-world';
import { planRollout } from '../../cli/rollout/model';
import { resolveRollout, runRollout } from '../../cli/rollout/engine';
import { status } from '../../cli/rollout/report';
import { regionApi } from '../../cli/rollout/aws';
import { describeEksCluster } from '../../cli/shared/cluster-identity';
import { AwsWorld, RecordedCall, recordCalls } from '../helpers/aws-authorization';
import { ciPolicyOf } from '../helpers/ci-policy';
import { evaluateAll, grantedActions, PolicyDocument, unusedGrants } from '../helpers/iam-policy';
import { ACCOUNT } from '../helpers/aws-account';
import { synthFleet } from '../helpers/fleet';

describeWithRealTools('the rollout policy', () => {
  const world = useRolloutWorld();
  const sink: { calls: RecordedCall[]; errors: Error[] } = { calls: [], errors: [] };

  beforeAll(async () => {
    const w = world.w;
    // Soaks look every 10 virtual minutes (rollout-world.ts soakStepMs): a soak's looks are Kubernetes reads only, so the
    // AWS calls recorded are the same (issue 27 item 5).
    w.soakStepMs = 600_000;
    const aws: AwsWorld = { partition: 'aws', account: ACCOUNT, roleOfInstanceProfile: () => 'unused', tagsOf: () => undefined };
    const deps = w.deps();
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    const recorded = (region: string) =>
      regionApi(region, {
        ssm: recordCalls(new SSMClient({ region, endpoint: w.endpoint, credentials }), region, aws, sink),
        ec2: recordCalls(new EC2Client({ region, endpoint: w.endpoint, credentials }), region, aws, sink),
      });
    const apis = new Map<string, ReturnType<typeof regionApi>>();
    const api = (region: string) => apis.get(region) ?? apis.set(region, recorded(region)).get(region)!;
    const plan = planRollout(w.fleet, 'general');
    // The identity check before the first write (main), per cluster: the emulator has no such cluster, which
    // does not matter here; the call is recorded before it is sent.
    for (const c of w.fleet.clusters)
      await describeEksCluster(
        c.name,
        c.region,
        recordCalls(new EKSClient({ region: c.region, endpoint: w.endpoint, credentials }), c.region, aws, sink),
      ).catch(() => undefined);
    const resolved = await resolveRollout({ ...deps, aws: api }, plan);
    await runRollout({ ...deps, aws: api }, plan, w.fleet.tags, resolved);
    await status(plan, { aws: api, kube: deps.kube });
    await resolveRollout({ ...deps, aws: api }, plan, w.gen.homeOld); // --to: the snapshot's existence and cache tag
  }, 120_000);

  // The policy is synthesized and the recorded calls are decided once for the file (each was three times): the tests
  // only read them, and each test gets its own copy of the policy.
  let synthesized: PolicyDocument | undefined;
  const policy = () =>
    structuredClone(
      (synthesized ??= ciPolicyOf(
        synthFleet(world.w.fleet, ['image-cache-builder-us-west-2'])['image-cache-builder-us-west-2'],
        'aws',
        'rollout-policy-general_rollout-policy-document',
      )),
    );
  const requests = () => sink.calls.flatMap((c) => c.requests.map((q) => ({ call: c, q })));

  test('the recording modelled every call', () => {
    expect(sink.errors).toEqual([]);
    expect([...new Set(sink.calls.map((c) => c.api))].sort()).toEqual(['ec2:DescribeSnapshots', 'eks:DescribeCluster', 'ssm:GetParameter', 'ssm:PutParameter']);
  });

  const evaluateRecorded = () =>
    evaluateAll(
      policy(),
      requests().map(({ call, q }) => ({ ...q, region: call.region })),
    );
  let decisions: ReturnType<typeof evaluateRecorded> | undefined;
  const decided = () => (decisions ??= evaluateRecorded());

  test('allows every call of a rollout, its status and --to', async () => {
    const denied = (await decided()).filter(({ decision }) => !decision.allowed).map(({ request: q }) => `${q.action} on ${q.resource} (${q.region})`);
    expect([...new Set(denied)]).toEqual([]);
  });

  test('every context key of every recorded call is one AWS supplies for that action and resource type', async () => {
    expect((await decided()).flatMap(({ request, decision }) => decision.notSupplied.map((k) => `${request.action} ${k}`))).toEqual([]);
  });

  test('grants no action the rollout never needs, and every statement allows some call', async () => {
    const p = policy();
    const needed = new Set(requests().map(({ q }) => q.action));
    expect(grantedActions(p).filter((a) => !needed.has(a))).toEqual([]);
    const all = await decided();
    const used = new Set(all.filter(({ decision }) => decision.allowed).flatMap(({ decision }) => decision.allowedBy));
    expect(p.Statement.map((s) => s.Sid).filter((sid) => !used.has(sid!))).toEqual([]);
    // Nothing beyond what it needs: every action of every statement allows some call the rollout makes.
    expect(unusedGrants(p, all)).toEqual([]);
  });
});
