/**
 * Issue 29 item 1: the longest cluster name the schema accepts (39 characters) gives names every AWS
 * resource accepts. The registry modules cannot be planned here, so the names they would create are
 * derived from the inputs their stubs receive (helpers/module-resource-names.ts, the modules' own
 * expressions at v20.37.2), and the real aws provider 5.100.0 judges them in a plan against the emulator —
 * its limits are the ones AWS's API enforces (an IAM role's name_prefix at most 38 characters). The
 * project's own cluster and Karpenter stacks of that fleet are planned against the emulator too.
 *
 * Every case is a child module of one root, and one `terraform init` and one plan check them all
 * (helpers/terraform-batch.ts, issue 27 item 5): the names, the names with the module's default prefix, the
 * cluster stack, and the Karpenter stack twice: in the account that has the Spot service-linked role and in a
 * second emulator account that has none (reached by the provider's assume_role, as a deployment into another
 * account would be). Each test asserts its own case's errors and changes, never "some error" of the plan.
 * The same plan carries fleet.yaml's cluster stack for issue 30's release lookup (below; it was a suite of its own
 * with its own init and plan).
 */
import * as path from 'path';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { describeWithRealTools, emulatorEnv, Moto, recordRealToolRun, sharedMoto, terraformEnv } from '../helpers/real-tools';
import { DEFAULT_FLEET, fleetFrom, synthFleet, synthFleetFile, tempDir } from '../helpers/fleet';
import { BatchRun, TerraformBatch } from '../helpers/terraform-batch';
import { RELAXED_GO_GC } from '../helpers/provider-server';
import { eksModuleNames, karpenterModuleNames, namedResourcesModule } from '../helpers/module-resource-names';
import { SPOT_SERVICE_LINKED_ROLE } from '../../modules/karpenter/spot-service-linked-role';

/** 39 characters: the schema's maximum (modules/fleet/schema.ts, `name`). */
const LONGEST = 'payments-platform-production-usw2a-east';

const fleet = () =>
  fleetFrom({
    clusters: {
      [LONGEST]: {
        region: 'us-east-1',
        kubernetesVersion: '1.35',
        vpc: { cidr: '10.0.0.0/16' },
        endpointPublicAccess: true,
        endpointPublicAccessCidrs: ['203.0.113.0/24'],
        // Spot and a reservation (issue 29 items 5 and 7): the capacity-reservation interruption rule is planned too.
        // Also issue 29's other "done when" inputs: a karpenter namespace (created by the releases) and a maxPods
        // above the smallest allowed type's ENI limit (prefix delegation on the vpc-cni add-on).
        karpenter: {
          namespace: 'karpenter',
          nodePools: {
            default: {
              capacityTypes: ['on-demand', 'spot', 'reserved'],
              capacityReservationSelectorTerms: [{ tags: { team: 'payments' } }],
              maxPods: 110,
              instanceGenerationGreaterThan: 4,
            },
          },
        },
      },
    },
  });

describeWithRealTools('the longest accepted cluster name against the real aws provider and the emulator', () => {
  let moto: Moto;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let stacks: Record<string, any>;

  beforeAll(async () => {
    expect(LONGEST).toHaveLength(39);
    moto = await sharedMoto();
    work = tempDir('cluster-names-');
    env = terraformEnv(work, { ...emulatorEnv(moto.endpoint, 'us-east-1'), ...RELAXED_GO_GC });
    stacks = synthFleet(fleet());
  }, 60_000);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed first
  afterAll(async () => moto?.stop());

  const names = () => [...eksModuleNames(stacks[`${LONGEST}-cluster`].module.eks), ...karpenterModuleNames(stacks[`${LONGEST}-karpenter`].module.karpenter)];
  /** The eks module's names as they were before the fix: the module's default name prefix for the cluster role. */
  const defaultNames = () => {
    const { iam_role_use_name_prefix: _fixed, ...defaults } = stacks[`${LONGEST}-cluster`].module.eks;
    return eksModuleNames(defaults);
  };

  /**
   * What `aws iam create-service-linked-role --aws-service-name spot.amazonaws.com` does, applied to the emulator:
   * IAM's CreateServiceLinkedRole with AWSServiceName (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html;
   * IAM's Query protocol, API version 2010-05-08, as the CLI sends it). One request instead of a Terraform init and
   * apply of an aws_iam_service_linked_role (issue 27 item 5). The project has no IAM SDK client; moto reads the
   * service and region from the credential scope and checks no signature.
   */
  async function createSpotServiceLinkedRole() {
    const r = await fetch(moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: new URLSearchParams({ Action: 'CreateServiceLinkedRole', Version: '2010-05-08', AWSServiceName: 'spot.amazonaws.com' }),
    });
    const body = await r.text();
    expect({ status: r.status, path: /<Path>([^<]*)<\/Path>/.exec(body)?.[1] }).toEqual({ status: 200, path: SPOT_SERVICE_LINKED_ROLE.pathPrefix });
  }

  /**
   * A second account in the emulator, which has no Spot service-linked role: moto keeps every account apart and
   * answers an AssumeRole into another account's role with credentials of that account (moto's
   * docs/docs/multi_account.rst; the role need not exist). One plan then shows both the refusal and the pass.
   */
  const OTHER_ACCOUNT_ROLE = 'arn:aws:iam::222222222222:role/bottlerocket-fleet-deployer';
  /** The stack as it would be deployed into the second account: each aws provider block assumes the role there. */
  const inOtherAccount = (stack: Record<string, any>) => {
    const copy = structuredClone(stack);
    for (const block of [copy.provider.aws].flat()) block.assume_role = [{ role_arn: OTHER_ACCOUNT_ROLE }];
    return copy;
  };

  /** The EKS cluster the Karpenter stack reads, created in the emulator in both accounts. */
  async function createClusters() {
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    const assumed = (await sts.send(new AssumeRoleCommand({ RoleArn: OTHER_ACCOUNT_ROLE, RoleSessionName: 'cluster-names' }))).Credentials!;
    const other = { accessKeyId: assumed.AccessKeyId!, secretAccessKey: assumed.SecretAccessKey!, sessionToken: assumed.SessionToken };
    for (const creds of [credentials, other]) {
      await new EKSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds }).send(
        new CreateClusterCommand({ name: LONGEST, roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
      );
    }
  }

  /** Every case in one root, one init, one plan (the Spot role created in the first account before it). */
  let planned: Promise<BatchRun> | undefined;
  const runPlan = () =>
    (planned ??= (async () => {
      const batch = new TerraformBatch(path.join(work, 'batch'), env);
      const named = namedResourcesModule(names());
      batch.addConfig('names', named.config, named.inputs);
      const withDefaults = namedResourcesModule(defaultNames());
      batch.addConfig('names_default', withDefaults.config, withDefaults.inputs);
      batch.addStack('cluster', stacks[`${LONGEST}-cluster`]);
      batch.addStack('karpenter', stacks[`${LONGEST}-karpenter`]);
      batch.addStack('karpenter_no_spot_role', inOtherAccount(stacks[`${LONGEST}-karpenter`]));
      // Issue 30 item 1 (was a suite of its own, with its own init and plan): fleet.yaml's cluster stack, pinned release.
      batch.addStack('release_lookup', synthFleetFile(DEFAULT_FLEET)['my-cluster-cluster']);
      expect(await batch.init()).toBe('');
      await createClusters();
      await createSpotServiceLinkedRole();
      return batch.plan();
    })());

  test('every name and name prefix the eks module and its karpenter submodule would create is accepted', async () => {
    const all = names();
    expect(all.find((n) => n.what.startsWith('cluster IAM role'))).toMatchObject({ attribute: 'name', value: `${LONGEST}-cluster` });
    const plan = (await runPlan()).cases.names;
    expect({ errors: plan.report }).toEqual({ errors: '' });
    // "Plan: N to add", for this case's module.
    expect(Object.values(plan.changes).filter((a) => a === 'create')).toHaveLength(all.length);
  }, 180_000);

  test("with the module's default name prefix the cluster role is refused: the check fails without the fix", async () => {
    const plan = (await runPlan()).cases.names_default;
    expect(plan.errors.length).not.toBe(0);
    expect(plan.report).toContain(`expected length of name_prefix to be in the range (1 - 38), got ${LONGEST}-cluster-`);
  }, 180_000);

  test("the fleet's cluster and Karpenter stacks plan against the emulator", async () => {
    expect(stacks[`${LONGEST}-cluster`].module.eks.cluster_addons['vpc-cni'].configuration_values).toContain('ENABLE_PREFIX_DELEGATION');
    expect(Object.values<any>(stacks[`${LONGEST}-karpenter`].resource.helm_release).map((r) => r.create_namespace)).toEqual([true, true]);
    const plan = await runPlan();
    expect(Object.keys(TerraformBatch.changesOf(plan, 'cluster'))).toEqual([]); // only modules (stubs) and outputs
    recordRealToolRun('validated', `${LONGEST}-cluster`);

    // Issue 29 item 5: the pool allows Spot, and the account (the emulator's second) has no Spot service-linked role.
    const refused = plan.cases.karpenter_no_spot_role;
    expect(refused.errors.length).not.toBe(0);
    expect(refused.report.replace(/\s+/g, ' ')).toContain('aws iam create-service-linked-role --aws-service-name spot.amazonaws.com');
    // In the account where createSpotServiceLinkedRole() made it:
    const changes = TerraformBatch.changesOf(plan, 'karpenter');
    expect(Object.values(changes).every((a) => a === 'create')).toBe(true);
    expect(Object.keys(changes)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^aws_cloudwatch_event_rule\./), expect.stringMatching(/^aws_cloudwatch_event_target\./)]),
    );
    recordRealToolRun('validated', `${LONGEST}-karpenter`);
  }, 240_000);

  /**
   * Issue 30, item 1: the cluster stack reads the pinned release's image_version from its public parameter at plan
   * time. The emulator serves no /aws/service/bottlerocket/... parameters (and refuses to store any under /aws/), so
   * the plan fails, and it must fail with the postcondition's message naming release, variant and architecture, not
   * the provider's bare "couldn't find resource" (why the lookup is by path: modules/eks/bottlerocket-image-version.ts).
   */
  describe('the system node group release lookup against the emulator', () => {
    test('a release without a public parameter fails the plan naming release, variant and architecture', async () => {
      const plan = await runPlan();
      expect(plan.code).not.toBe(0);
      const release = plan.cases.release_lookup;
      expect(release.errors.length).not.toBe(0);
      const output = release.report.replace(/\s+/g, ' ');
      expect(output).toContain('Resource postcondition failed');
      expect(output).toContain(
        'Bottlerocket 1.55.0 has no aws-k8s-1.35 build for x86_64: the public parameter /aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.55.0/image_version does not exist in this region',
      );
      expect(output).not.toContain("couldn't find resource");
      expect(plan.report).not.toContain("couldn't find resource");
    }, 240_000);
  });
});
