/**
 * What IAM authorizes when Terraform (hashicorp/aws) creates, reads, updates and deletes the resources of a
 * synthesized stack: per resource and data source type, the actions, ARNs and request context, as the provider's
 * source calls them (internal/service/ec2/ebs_snapshot_copy.go: CopySnapshot with TagSpecifications, the
 * snapshot-completed waiter's DescribeSnapshots, then aws_ebs_snapshot's read/update/delete; internal/service/ssm/
 * parameter.go, parameters_by_path_data_source.go; ebs_fast_snapshot_restore.go), ARNs and keys from the Service
 * Authorization Reference. What was read at which version: docs/not-verified.md. A type without a model throws,
 * so a resource added to the stack fails the replication-policy test until it is modelled.
 */
import type { AuthorizationRequest } from './iam-policy';
import { ACCOUNT } from './fake-aws';
import { CACHE_TAG } from '../../modules/image-cache/parameters';

const req = (action: string, resource: string, context: Record<string, string> = {}): AuthorizationRequest => ({ action, resource, context });
const tags = (prefix: string, t: Record<string, string>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [`${prefix}/${k}`, v]));

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
        out.push(
          req('ec2:CopySnapshot', snapshot(r.source_region, 'snap-source'), existing),
          req('ec2:CopySnapshot', snapshot(region, '*'), tags('aws:RequestTag', all)),
          req('ec2:CreateTags', snapshot(region, '*'), { 'ec2:CreateAction': 'CopySnapshot', ...tags('aws:RequestTag', all) }),
          req('ec2:DescribeSnapshots', '*'),
          req('ec2:CreateTags', snapshot(region, 'snap-copy'), existing),
          req('ec2:DeleteTags', snapshot(region, 'snap-copy'), existing),
          req('ec2:DeleteSnapshot', snapshot(region, 'snap-copy'), existing),
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
