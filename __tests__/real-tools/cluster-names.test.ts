/**
 * Issue 29 item 1: the longest cluster name the schema accepts (39 characters) gives names every AWS
 * resource accepts. The registry modules cannot be planned here, so the names they would create are
 * derived from the inputs their stubs receive (helpers/module-resource-names.ts, the modules' own
 * expressions at v20.37.2), and the real aws provider 5.100.0 judges them in a plan against the emulator —
 * its limits are the ones AWS's API enforces (an IAM role's name_prefix at most 38 characters). The
 * project's own cluster and Karpenter stacks of that fleet are planned against the emulator too.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { describeWithRealTools, emulatorEnv, Moto, recordRealToolRun, sharedMoto, terraformEnv } from '../helpers/real-tools';
import { fleetFrom, synthFleet, tempDir } from '../helpers/fleet';
import { runTerraform, terraformInit } from '../helpers/terraform-offline';
import { plannedChanges, prepareForPlanning } from '../helpers/terraform-plan';
import { eksModuleNames, karpenterModuleNames, namedResourcesConfig, ModuleResourceName } from '../helpers/module-resource-names';

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
    env = terraformEnv(work, emulatorEnv(moto.endpoint, 'us-east-1'));
    stacks = synthFleet(fleet());
  }, 60_000);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed first
  afterAll(async () => moto?.stop());

  /** Plans one resource per name; the provider's own validation fails the plan for a name AWS refuses. */
  async function planNames(dir: string, names: ModuleResourceName[]) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(namedResourcesConfig(names), null, 2));
    const init = await terraformInit(dir, env);
    if (!init.ok) throw new Error(init.report);
    return runTerraform(['plan', '-input=false', '-no-color'], dir, env);
  }

  /** What `aws iam create-service-linked-role --aws-service-name spot.amazonaws.com` does, applied to the emulator. */
  async function createSpotServiceLinkedRole(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const config = namedResourcesConfig([]);
    config.resource = { aws_iam_service_linked_role: { spot: { aws_service_name: 'spot.amazonaws.com' } } };
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(config));
    const init = await terraformInit(dir, env);
    if (!init.ok) throw new Error(init.report);
    const apply = await runTerraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, env);
    expect({ code: apply.code, stderr: apply.stderr }).toEqual({ code: 0, stderr: '' });
  }

  test('every name and name prefix the eks module and its karpenter submodule would create is accepted', async () => {
    const names = [...eksModuleNames(stacks[`${LONGEST}-cluster`].module.eks), ...karpenterModuleNames(stacks[`${LONGEST}-karpenter`].module.karpenter)];
    expect(names.find((n) => n.what.startsWith('cluster IAM role'))).toMatchObject({ attribute: 'name', value: `${LONGEST}-cluster` });
    const plan = await planNames(path.join(work, 'names'), names);
    expect({ code: plan.code, errors: plan.stderr }).toEqual({ code: 0, errors: '' });
    expect(plan.stdout).toContain(`Plan: ${names.length} to add`);
  }, 180_000);

  test("with the module's default name prefix the cluster role is refused: the check fails without the fix", async () => {
    const { iam_role_use_name_prefix: _fixed, ...defaults } = stacks[`${LONGEST}-cluster`].module.eks;
    const plan = await planNames(path.join(work, 'names-default'), eksModuleNames(defaults));
    expect(plan.code).not.toBe(0);
    expect(plan.stderr).toContain(`expected length of name_prefix to be in the range (1 - 38), got ${LONGEST}-cluster-`);
  }, 180_000);

  test("the fleet's cluster and Karpenter stacks plan against the emulator", async () => {
    expect(stacks[`${LONGEST}-cluster`].module.eks.cluster_addons['vpc-cni'].configuration_values).toContain('ENABLE_PREFIX_DELEGATION');
    expect(Object.values<any>(stacks[`${LONGEST}-karpenter`].resource.helm_release).map((r) => r.create_namespace)).toEqual([true, true]);
    const cluster = path.join(work, `${LONGEST}-cluster`);
    await prepareForPlanning(stacks[`${LONGEST}-cluster`], cluster, env);
    expect(Object.keys(await plannedChanges(cluster, env))).toEqual([]); // only modules (stubs) and outputs
    recordRealToolRun('validated', `${LONGEST}-cluster`);

    await new EKSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }).send(
      new CreateClusterCommand({ name: LONGEST, roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
    );
    const karpenter = path.join(work, `${LONGEST}-karpenter`);
    await prepareForPlanning(stacks[`${LONGEST}-karpenter`], karpenter, env);
    // Issue 29 item 5: the pool allows Spot, and the account (the emulator) has no Spot service-linked role yet.
    const refused = await runTerraform(['plan', '-input=false', '-no-color'], karpenter, env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.replace(/\s+/g, ' ')).toContain('aws iam create-service-linked-role --aws-service-name spot.amazonaws.com');
    await createSpotServiceLinkedRole(path.join(work, 'spot-role'));
    const changes = await plannedChanges(karpenter, env);
    expect(Object.values(changes).every((a) => a === 'create')).toBe(true);
    expect(Object.keys(changes)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^aws_cloudwatch_event_rule\./), expect.stringMatching(/^aws_cloudwatch_event_target\./)]),
    );
    recordRealToolRun('validated', `${LONGEST}-karpenter`);
  }, 240_000);
});
