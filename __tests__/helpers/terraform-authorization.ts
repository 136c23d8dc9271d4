/**
 * What IAM authorizes when Terraform (hashicorp/aws) creates, reads, updates and deletes the resources of a
 * synthesized stack: per resource and data source type, the actions, ARNs and request context, as the provider's
 * source calls them (internal/service/ec2/ebs_snapshot_copy.go: CopySnapshot with TagSpecifications, the
 * snapshot-completed waiter's DescribeSnapshots, then aws_ebs_snapshot's read/update/delete; internal/service/ssm/
 * parameter.go, parameters_by_path_data_source.go; ebs_fast_snapshot_restore.go), ARNs and keys from the Service
 * Authorization Reference (checked as data by helpers/iam-policy.ts, which also drops the keys AWS does not
 * supply). What was read at which version: docs/not-verified.md. A type without a model throws,
 * so a resource added to the stack fails the replication-policy test until it is modelled.
 */
import type { AuthorizationRequest } from './iam-policy';
import { ACCOUNT } from './fake-aws';
import { CACHE_TAG } from '../../modules/image-cache/parameters';

const req = (action: string, resource: string, context: AuthorizationRequest['context'] = {}): AuthorizationRequest => ({ action, resource, context });
const tags = (prefix: string, t: Record<string, string>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [`${prefix}/${k}`, v]));

/** The key a stand-in for an alias resolves to (the alias stays in kms:ResourceAliases, as KMS supplies it). */
const ALIASED_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * A copy encrypted with a customer managed key: EBS uses the key with the caller's permissions, the calls the EBS
 * User Guide lists ("Requirements for Amazon EBS encryption", Permissions for users), through EC2 in the region
 * (kms:ViaService), CreateGrant for an AWS resource (kms:GrantIsForAWSResource).
 */
function copyKeyRequests(key: string, region: string, partition: string): AuthorizationRequest[] {
  const alias = /(alias\/.+)$/.exec(key)?.[1];
  const arn = key.startsWith('arn:') && !alias ? key : `arn:${partition}:kms:${region}:${ACCOUNT}:key/${alias ? ALIASED_KEY_ID : key}`;
  const context = { 'kms:ViaService': `ec2.${region}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT, ...(alias ? { 'kms:ResourceAliases': [alias] } : {}) };
  return [
    req('kms:DescribeKey', arn, context),
    req('kms:CreateGrant', arn, { ...context, 'kms:GrantIsForAWSResource': 'true' }),
    ...['kms:GenerateDataKeyWithoutPlaintext', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'].map((a) => req(a, arn, context)),
  ];
}

/** Every request Terraform's lifecycle of the stack makes: create, refresh, update of tags, destroy. */
export function terraformRequests(stack: any, partition = 'aws'): AuthorizationRequest[] {
  const providers = new Map<string, { region: string; tags: Record<string, string> }>(
    (stack.provider?.aws ?? []).map((p: any) => [p.alias ? `aws.${p.alias}` : 'aws', { region: p.region, tags: p.default_tags?.[0]?.tags ?? {} }]),
  );
  const of = (r: any) => providers.get(r.provider ?? 'aws')!;
  const ssm = (region: string, name: string) => `arn:${partition}:ssm:${region}:${ACCOUNT}:parameter${name}`;
  const snapshot = (region: string, id: string) => `arn:${partition}:ec2:${region}::snapshot/${id}`;
  const out: AuthorizationRequest[] = [];
  for (const [type, items] of Object.entries<Record<string, any>>(stack.data ?? {}))
    for (const d of Object.values(items)) {
      const { region } = of(d);
      if (type === 'aws_ssm_parameter') out.push(req('ssm:GetParameter', ssm(region, d.name)));
      else if (type === 'aws_ssm_parameters_by_path') out.push(req('ssm:GetParametersByPath', ssm(region, d.path)));
      else if (type === 'aws_ebs_snapshot') out.push(req('ec2:DescribeSnapshots', '*'));
      else if (!['aws_caller_identity', 'aws_partition', 'aws_iam_policy_document'].includes(type))
        throw new Error(`data.${type}: no authorization model in __tests__/helpers/terraform-authorization.ts`);
    }
  for (const [type, items] of Object.entries<Record<string, any>>(stack.resource ?? {}))
    for (const r of Object.values(items)) {
      const { region, tags: defaults } = of(r);
      const all = { ...defaults, ...(r.tags ?? {}) };
      if (type === 'aws_ebs_snapshot_copy') {
        // The source is a build of the cache in its home region (the builder tags it with the cache).
        const existing = tags('aws:ResourceTag', { [CACHE_TAG]: all[CACHE_TAG] });
        // What the caller knows of the source: its tags too, but CopySnapshot's snapshot resource supplies no
        // aws:ResourceTag (Service Authorization Reference; helpers/iam-policy.ts drops it, as AWS does).
        const source = { ...existing, ...tags('aws:RequestTag', all), 'ec2:Owner': ACCOUNT, 'ec2:Encrypted': 'true', 'ec2:SnapshotID': 'snap-source' };
        out.push(
          req('ec2:CopySnapshot', snapshot(r.source_region, 'snap-source'), source),
          req('ec2:CopySnapshot', snapshot(region, '*'), tags('aws:RequestTag', all)),
          req('ec2:CreateTags', snapshot(region, '*'), { 'ec2:CreateAction': 'CopySnapshot', ...tags('aws:RequestTag', all) }),
          req('ec2:DescribeSnapshots', '*'),
          req('ec2:CreateTags', snapshot(region, 'snap-copy'), existing),
          req('ec2:DeleteTags', snapshot(region, 'snap-copy'), existing),
          req('ec2:DeleteSnapshot', snapshot(region, 'snap-copy'), existing),
          ...(r.kms_key_id ? copyKeyRequests(r.kms_key_id, region, partition) : []),
        );
      } else if (type === 'aws_ssm_parameter') {
        const arn = ssm(region, r.name);
        out.push(
          ...[
            'ssm:PutParameter',
            'ssm:AddTagsToResource',
            'ssm:GetParameter',
            'ssm:ListTagsForResource',
            'ssm:RemoveTagsFromResource',
            'ssm:DeleteParameter',
          ].map((a) => req(a, arn)),
          req('ssm:DescribeParameters', '*'),
        );
      } else if (type === 'aws_ebs_fast_snapshot_restore') {
        const existing = tags('aws:ResourceTag', { [CACHE_TAG]: defaults[CACHE_TAG] });
        out.push(
          req('ec2:EnableFastSnapshotRestores', snapshot(region, 'snap-current'), existing),
          req('ec2:DescribeFastSnapshotRestores', '*'),
          req('ec2:DisableFastSnapshotRestores', snapshot(region, 'snap-current'), existing),
        );
      } else throw new Error(`${type}: no authorization model in __tests__/helpers/terraform-authorization.ts`);
    }
  return out;
}
