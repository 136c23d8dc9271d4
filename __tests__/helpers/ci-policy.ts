/**
 * The builder's CI policy as IAM would see it, read from a synthesized image-cache-builder-<region>
 * stack: the aws_iam_policy_document statements in IAM's JSON shape (what the data source renders), with
 * the Terraform references the policy uses resolved to test values. Any other reference throws.
 * The security group and subnets resolve to the fake's builder parameters only when the stack writes
 * the same security group and subnets into those parameters (what the CLI then launches with).
 */
import { builderParameters } from '../../modules/image-cache/parameters';
import { ACCOUNT, BUILDER_SECURITY_GROUP_ID, BUILDER_SUBNET_IDS } from './aws-account';
import type { PolicyDocument, PolicyStatement } from './iam-policy';

const STATEMENT_KEYS = new Set(['sid', 'effect', 'actions', 'resources', 'condition']);

export function ciPolicyOf(stack: any, partition = 'aws', document = 'ci-policy-document'): PolicyDocument {
  const [id, ...more] = Object.keys(stack.data?.aws_iam_policy_document ?? {}).filter((k) => k.includes(document.replace(/-/g, '_')) || k.includes(document));
  if (!id || more.length > 0) throw new Error(`expected exactly one ${document} in the stack`);
  const parameterValue = (name: string) => Object.values<any>(stack.resource.aws_ssm_parameter ?? {}).find((p) => p.name === name)?.value;
  const builderSecurityGroup = /^\$\{aws_security_group\.([^.]+)\.id\}$/.exec(parameterValue(builderParameters().securityGroupId) ?? '')?.[1];
  const builderSubnets = /^\$\{join\(",", data\.aws_subnets\.([^.]+)\.ids\)\}$/.exec(parameterValue(builderParameters().subnetIds) ?? '')?.[1];
  const resolve = (s: string) =>
    s.replace(/\$\{([^}]+)\}/g, (_, ref: string) => {
      const [kind, type, name, attr] = ref.split('.');
      if (kind === 'aws_security_group' && name === 'id' && type === builderSecurityGroup) return BUILDER_SECURITY_GROUP_ID;
      if (kind === 'data' && type === 'aws_partition' && attr === 'partition') return partition;
      if (kind === 'data' && type === 'aws_caller_identity' && attr === 'account_id') return ACCOUNT;
      if (kind === 'aws_iam_role' && name === 'arn' && stack.resource.aws_iam_role?.[type])
        return `arn:${partition}:iam::${ACCOUNT}:role/${stack.resource.aws_iam_role[type].name}`;
      throw new Error(`ci policy: cannot resolve \${${ref}}`);
    });
  /** A list of ARNs, or one Terraform list: formatlist over the builder subnets' IDs. */
  const resourcesOf = (s: any): string[] => {
    if (Array.isArray(s.resources)) return s.resources.map(resolve);
    const m = /^\$\{formatlist\("((?:[^"\\]|\\.)*)", data\.aws_subnets\.([^.]+)\.ids\)\}$/.exec(s.resources);
    if (!m || m[2] !== builderSubnets) throw new Error(`ci policy statement ${s.sid}: cannot resolve resources ${s.resources}`);
    const format = resolve(m[1]);
    return BUILDER_SUBNET_IDS.map((id) => format.replace('%s', id));
  };
  const statements: PolicyStatement[] = stack.data.aws_iam_policy_document[id].statement.map((s: any) => {
    for (const key of Object.keys(s)) if (!STATEMENT_KEYS.has(key)) throw new Error(`ci policy statement ${s.sid}: ${key} is not modelled`);
    const condition: Record<string, Record<string, string[]>> = {};
    for (const c of s.condition ?? []) {
      if (!Object.hasOwn(condition, c.test)) condition[c.test] = {};
      if (Object.hasOwn(condition[c.test], c.variable)) throw new Error(`ci policy statement ${s.sid}: ${c.test} ${c.variable} twice`);
      condition[c.test][c.variable] = c.values.map(resolve);
    }
    return {
      Sid: s.sid,
      Effect: s.effect ?? 'Allow',
      Action: s.actions.map(resolve),
      Resource: resourcesOf(s),
      ...(s.condition ? { Condition: condition } : {}),
    };
  });
  return { Version: '2012-10-17', Statement: statements };
}

/** The role inside the stack's instance profile, by the profile's name (what RunInstances passes). */
export function roleOfInstanceProfileIn(stack: any): (name: string) => string {
  return (name) => {
    const profile = Object.values<any>(stack.resource.aws_iam_instance_profile ?? {}).find((p) => p.name === name);
    const roleId = /^\$\{aws_iam_role\.([^.]+)\.name\}$/.exec(profile?.role ?? '')?.[1];
    if (!roleId) throw new Error(`no instance profile ${name} with a role in the stack`);
    return stack.resource.aws_iam_role[roleId].name;
  };
}
