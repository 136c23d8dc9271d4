import { loadFleet } from '../modules/fleet/load';
import { DEFAULT_FLEET, MULTI_REGION_FLEET, fleetFrom, synthFleet, synthFleetFile, validFleet } from './helpers/fleet';
import { ciPolicyOf } from './helpers/ci-policy';
import { evaluate, grantedActions } from './helpers/iam-policy';

describe('image-cache-<cache>: regional replication', () => {
  const stacks = synthFleetFile(DEFAULT_FLEET);
  const stack = stacks['image-cache-general'];

  test('matches the snapshot', () => {
    expect(stack).toMatchSnapshot();
    expect(stacks['image-cache-gpu']).toMatchSnapshot();
  });

  test('one provider for the home region and an aliased provider per replica region', () => {
    expect(stack.provider.aws.map((p: any) => [p.alias, p.region])).toEqual([
      [undefined, 'us-west-2'],
      ['us_east_1', 'us-east-1'],
    ]);
  });

  test('reads the snapshot ID and its history from SSM in the home region', () => {
    expect(Object.values<any>(stack.data.aws_ssm_parameter).map((p) => [p.name, p.provider])).toEqual([
      ['/bottlerocket-fleet/image-cache/general/snapshot-id', undefined],
      ['/bottlerocket-fleet/image-cache/general/snapshot-id-history', undefined],
    ]);
    expect(stack.locals.generations).toBe(
      '${[for i, id in distinct(concat([data.aws_ssm_parameter.current.insecure_value], jsondecode(data.aws_ssm_parameter.history.insecure_value))) : id if i < 2]}',
    );
  });

  test('one encrypted copy set and one parameter per replica region, at the same path, pointing at the current copy', () => {
    const copies = Object.entries<any>(stack.resource.aws_ebs_snapshot_copy);
    expect(copies).toHaveLength(1);
    const [copyId, copy] = copies[0];
    expect(copy).toMatchObject({
      provider: 'aws.us_east_1',
      source_region: 'us-west-2',
      source_snapshot_id: '${each.value}',
      encrypted: true,
      for_each: '${toset(local.generations)}',
    });
    expect(copy.tags).toMatchObject({
      'bottlerocket-fleet:cache': 'general',
      'bottlerocket-fleet:source-snapshot': '${each.value}',
      'bottlerocket-fleet:source-region': 'us-west-2',
    });
    const params = Object.values<any>(stack.resource.aws_ssm_parameter);
    expect(params).toHaveLength(1);
    expect(params[0]).toMatchObject({
      provider: 'aws.us_east_1',
      name: '/bottlerocket-fleet/image-cache/general/snapshot-id',
      type: 'String',
      value: `\${aws_ebs_snapshot_copy.${copyId}[data.aws_ssm_parameter.current.insecure_value].id}`,
    });
  });

  test('every generation is looked up and checked before it is copied, and each copy carries its source build ID', () => {
    const lookups = Object.entries<any>(stack.data.aws_ebs_snapshot);
    expect(lookups).toHaveLength(1);
    const [lookupId, lookup] = lookups[0];
    expect(lookup).toMatchObject({ for_each: '${toset(local.generations)}', snapshot_ids: ['${each.value}'] });
    expect(lookup.owners).toBeUndefined();
    expect(lookup.lifecycle.postcondition.map((c: any) => c.condition)).toEqual([
      '${self.owner_id == data.aws_caller_identity.account.account_id}',
      '${self.state == "completed"}',
      '${self.encrypted}',
      '${lookup(self.tags, "bottlerocket-fleet:cache", "") == "general"}',
      '${lookup(self.tags, "bottlerocket-fleet:build-id", "") != ""}',
      '${contains(jsondecode(data.aws_ssm_parameter.history.insecure_value), self.id)}',
    ]);
    // The message names the pointer the generation came from: the parameter, its history or a cluster parameter.
    expect(lookup.lifecycle.postcondition[0].error_message).toMatch(
      /^\$\{each\.value == data\.aws_ssm_parameter\.current\.insecure_value \? "SSM parameter \/bottlerocket-fleet\/image-cache\/general\/snapshot-id in us-west-2" : /,
    );
    const [copy] = Object.values<any>(stack.resource.aws_ebs_snapshot_copy);
    expect(copy.tags['bottlerocket-fleet:build-id']).toBe(`\${lookup(data.aws_ebs_snapshot.${lookupId}[each.value].tags, "bottlerocket-fleet:build-id", "")}`);
  });

  test('no snapshot ID is hard-coded anywhere', () => {
    for (const s of Object.values(stacks)) expect(JSON.stringify(s)).not.toMatch(/snap-[0-9a-f]/);
  });

  test('retention, per-region KMS keys and Fast Snapshot Restore come from the fleet file', () => {
    const f = validFleet();
    Object.assign(f.imageCaches.general, {
      replicaRegions: ['us-east-1', 'eu-west-1'],
      retainGenerations: 3,
      kmsKeyIds: { 'eu-west-1': 'alias/cache' },
      fastSnapshotRestoreAzs: { 'us-east-1': ['us-east-1a', 'us-east-1b'], 'us-west-2': ['us-west-2a'] },
    });
    const s = synthFleet(fleetFrom(f))['image-cache-general'];
    expect(s.locals.generations).toMatch(/if i < 3\]\}$/);
    expect(
      Object.values<any>(s.resource.aws_ebs_snapshot_copy)
        .map((c) => [c.provider, c.kms_key_id])
        .sort(),
    ).toEqual([
      ['aws.eu_west_1', 'alias/cache'],
      ['aws.us_east_1', undefined],
    ]);
    expect(Object.values<any>(s.resource.aws_ebs_fast_snapshot_restore).map((r) => [r.provider, r.availability_zone])).toEqual([
      [undefined, 'us-west-2a'],
      ['aws.us_east_1', 'us-east-1a'],
      ['aws.us_east_1', 'us-east-1b'],
    ]);
  });

  test('a cache not built yet, or with nowhere to copy to, gets no replication stack', () => {
    const f = validFleet();
    f.imageCaches.gpu.built = false;
    const names = Object.keys(synthFleet(fleetFrom(f)));
    expect(names).toContain('image-cache-general');
    expect(names).not.toContain('image-cache-gpu'); // validFleet's gpu cache has no replicas either
  });
});

describe('image-cache-builder-<region>: the builder infrastructure', () => {
  const stack = synthFleetFile(DEFAULT_FLEET)['image-cache-builder-us-west-2'];

  test('matches the snapshot', () => {
    expect(stack).toMatchSnapshot();
  });

  test('one builder stack per home region in use', () => {
    expect(
      Object.keys(synthFleetFile(MULTI_REGION_FLEET))
        .filter((n) => n.startsWith('image-cache-builder-'))
        .sort(),
    ).toEqual(['image-cache-builder-eu-west-1', 'image-cache-builder-us-east-1']);
  });

  // Issue 21: AmazonSSMManagedInstanceCore (ssm:GetParameter on *) and ECR read-only on *, reachable by anyone who
  // can run a command on the builder, went far past the CI policy's own scoping.
  test("the instance role has no managed policy: only the SSM agent's Run Command and the host containers' pull", async () => {
    expect(stack.resource.aws_iam_role_policy_attachment).toBeUndefined();
    expect(Object.keys(stack.resource.aws_iam_role_policy)).toHaveLength(1);
    expect(JSON.parse(Object.values<any>(stack.resource.aws_iam_role)[0].assume_role_policy).Statement[0].Principal).toEqual({ Service: 'ec2.amazonaws.com' });
    const policy = ciPolicyOf(stack, 'aws', 'instance-policy-document');
    expect(grantedActions(policy)).toEqual([
      'ec2messages:AcknowledgeMessage',
      'ec2messages:DeleteMessage',
      'ec2messages:FailMessage',
      'ec2messages:GetEndpoint',
      'ec2messages:GetMessages',
      'ec2messages:SendReply',
      'ecr:BatchGetImage',
      'ecr:GetAuthorizationToken',
      'ecr:GetDownloadUrlForLayer',
      'ssm:UpdateInstanceInformation',
      'ssmmessages:CreateControlChannel',
      'ssmmessages:OpenControlChannel',
    ]);
    const allowed = async (action: string, resource: string) => (await evaluate(policy, { action, resource, context: {} })).allowed;
    expect(await allowed('ecr:BatchGetImage', 'arn:aws:ecr:us-west-2:328549459982:repository/bottlerocket-admin')).toBe(true);
    expect(await allowed('ecr:GetDownloadUrlForLayer', 'arn:aws:ecr:us-west-2:328549459982:repository/bottlerocket-control')).toBe(true);
    expect(await allowed('ecr:BatchGetImage', 'arn:aws:ecr:us-west-2:111122223333:repository/team/app')).toBe(false);
    expect(await allowed('ecr:BatchGetImage', 'arn:aws:ecr:eu-west-1:328549459982:repository/bottlerocket-admin')).toBe(false);
    expect(await allowed('ssm:GetParameter', 'arn:aws:ssm:us-west-2:123456789012:parameter/bottlerocket-fleet/builder/subnet-ids')).toBe(false);
    expect(await allowed('ssmmessages:CreateDataChannel', '*')).toBe(false); // Session Manager's, never a build's
  });

  test('the security group allows egress only', () => {
    const sg = Object.values<any>(stack.resource.aws_security_group)[0];
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toHaveLength(1);
  });

  test('SSM parameters tell the builder what to launch with', () => {
    expect(
      Object.values<any>(stack.resource.aws_ssm_parameter)
        .map((p) => p.name)
        .sort(),
    ).toEqual(['/bottlerocket-fleet/builder/instance-profile', '/bottlerocket-fleet/builder/security-group-id', '/bottlerocket-fleet/builder/subnet-ids']);
  });

  test('the CI policy launches and terminates only tagged instances and writes only the cache parameters', () => {
    const statements = Object.values<any>(stack.data.aws_iam_policy_document)[0].statement;
    const sid = (s: string) => statements.find((x: any) => x.sid === s);
    // Exact values (issue 21): the caches built here and this fleet's ID, never any value of the tag key.
    const fleetId = loadFleet(DEFAULT_FLEET).id;
    for (const [statement, kind] of [
      ['LaunchTagged', 'RequestTag'],
      ['ManageTagged', 'ResourceTag'],
      ['SnapshotCacheVolume', 'ResourceTag'],
      ['SnapshotTagged', 'RequestTag'],
      ['DeleteOldSnapshots', 'ResourceTag'],
    ])
      expect(sid(statement).condition).toEqual([
        { test: 'StringEquals', variable: `aws:${kind}/bottlerocket-fleet:cache`, values: ['general', 'gpu'] },
        { test: 'StringEquals', variable: `aws:${kind}/bottlerocket-fleet:fleet`, values: [fleetId] },
      ]);
    expect(sid('WriteCacheParameters').resources.map((r: string) => r.split(':parameter').pop())).toEqual([
      '/bottlerocket-fleet/image-cache/general/snapshot-id',
      '/bottlerocket-fleet/image-cache/general/snapshot-id-history',
      '/bottlerocket-fleet/image-cache/gpu/snapshot-id',
      '/bottlerocket-fleet/image-cache/gpu/snapshot-id-history',
    ]);
    // A failed first build deletes the parameter it wrote (issue 14); the history is never deleted.
    expect(sid('UndoFirstParameterWrite').actions).toEqual(['ssm:DeleteParameter']);
    expect(sid('UndoFirstParameterWrite').resources.map((r: string) => r.split(':parameter').pop())).toEqual([
      '/bottlerocket-fleet/image-cache/general/snapshot-id',
      '/bottlerocket-fleet/image-cache/gpu/snapshot-id',
    ]);
    // cache list reads the parameter in each replica region, and nothing else there.
    expect(sid('ReadReplicaParameters')).toMatchObject({
      actions: ['ssm:GetParameter'],
      resources: [
        expect.stringMatching(/:ssm:us-east-1:.*:parameter\/bottlerocket-fleet\/image-cache\/general\/snapshot-id$/),
        expect.stringMatching(/:ssm:us-east-1:.*:parameter\/bottlerocket-fleet\/image-cache\/gpu\/snapshot-id$/),
      ],
    });
    expect(Object.values<any>(stack.resource.aws_iam_policy)[0].policy).toMatch(/^\$\{data\.aws_iam_policy_document\./);
    expect(sid('PassBuilderRole').resources[0]).toMatch(/^\$\{aws_iam_role\./);
  });

  test('the CI policy may pull exactly the private ECR repositories of the caches (the builder authorizes pulls with its own token)', () => {
    const statementsOf = (st: any) => Object.values<any>(st.data.aws_iam_policy_document)[0].statement;
    // The default fleet has public images only: no ECR rights at all.
    expect(statementsOf(stack).filter((x: any) => x.sid.startsWith('Ecr'))).toEqual([]);
    const f = validFleet();
    f.imageCaches.general.images.push(
      '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:1',
      '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app@sha256:' + 'a'.repeat(64),
    );
    const statements = statementsOf(synthFleet(fleetFrom(f))['image-cache-builder-us-west-2']);
    const sid = (s: string) => statements.find((x: any) => x.sid === s);
    expect(sid('EcrToken').actions).toEqual(['ecr:GetAuthorizationToken']);
    expect(sid('EcrPullCacheImages').resources).toEqual([
      expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:ecr:eu-west-1:111122223333:repository\/team\/app$/),
    ]);
  });
});
