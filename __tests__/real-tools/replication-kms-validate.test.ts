/**
 * Issue 29: a fleet with replica regions and a KMS key per replica region (an alias and a key ARN) synthesizes to
 * a builder stack (its replication policy carries the KMS statements: ForAnyValue and Bool conditions) and an
 * image-cache-<cache> stack (copies with kms_key_id) that the real `terraform validate` accepts, with the real
 * hashicorp/aws provider offline (helpers/terraform-offline.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { fleetFrom, synthFleet, tempDir, validFleet } from '../helpers/fleet';
import { describeWithRealTools, realTools, recordRealToolRun, terraformEnv } from '../helpers/real-tools';
import { validateStacks } from '../helpers/terraform-offline';
import { ACCOUNT } from '../helpers/aws-account';

describeWithRealTools('terraform validate: replica regions with KMS keys', () => {
  test('the builder stack and the replication stack are valid Terraform', async () => {
    const f = validFleet();
    Object.assign(f.imageCaches.general, {
      replicaRegions: ['us-east-1', 'eu-west-1'],
      kmsKeyIds: { 'us-east-1': 'alias/cache', 'eu-west-1': `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-111122223333` },
    });
    const stacks = synthFleet(fleetFrom(f));
    const names = ['image-cache-builder-us-west-2', 'image-cache-general'];
    const policy = JSON.stringify(stacks['image-cache-builder-us-west-2'].data.aws_iam_policy_document);
    expect(policy).toContain('kms:ResourceAliases');
    const root = tempDir('terraform-validate-kms-');
    const results = await validateStacks(
      names.map((name) => ({ id: `kms ${name}`, stack: stacks[name] })),
      path.join(root, 'stacks'),
      { terraform: realTools().terraform, env: (dir: string) => terraformEnv(dir) },
    ).finally(() => fs.rmSync(root, { recursive: true, force: true }));
    for (const name of names) {
      const r = results.get(`kms ${name}`)!;
      expect({ name, valid: r.valid, errors: r.errors }).toEqual({ name, valid: true, errors: [] });
      recordRealToolRun('validated', `kms ${name}`);
    }
  }, 300_000);
});
