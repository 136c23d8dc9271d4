/**
 * The names the eks module (v20.37.2) and its karpenter submodule give the AWS resources they create, from
 * the inputs a stack hands them — the module's own expressions, restated here (file and line of that tag
 * beside each), so a test can check them against AWS's limits without the registry module. Issue 29 item 1.
 */

/** One named resource: the aws provider resource type, whether the module sets `name` or `name_prefix`, the value. */
export interface ModuleResourceName {
  readonly what: string;
  readonly type: string;
  readonly attribute: 'name' | 'name_prefix';
  readonly value: string;
}

type Inputs = Record<string, any>;

function named(what: string, type: string, usePrefix: boolean, name: string, separator = '-'): ModuleResourceName {
  return { what, type, attribute: usePrefix ? 'name_prefix' : 'name', value: usePrefix ? `${name}${separator}` : name };
}

/** terraform-aws-modules/eks/aws v20.37.2: the root module and its eks-managed-node-group submodule. */
export function eksModuleNames(inputs: Inputs): ModuleResourceName[] {
  const cluster: string = inputs.cluster_name;
  const separator: string = inputs.prefix_separator ?? '-';
  // main.tf:439 iam_role_name = coalesce(var.iam_role_name, "${var.cluster_name}-cluster"); :498-499 aws_iam_role.this
  const roleName: string = inputs.iam_role_name ?? `${cluster}-cluster`;
  const roleUsesPrefix: boolean = inputs.iam_role_use_name_prefix ?? true;
  const names = [
    named('cluster IAM role (main.tf aws_iam_role.this)', 'aws_iam_role', roleUsesPrefix, roleName, separator),
    // main.tf:704-705 aws_iam_policy.custom (enable_auto_mode_custom_tags defaults to true)
    named('EKS Auto Mode custom-tags policy (main.tf aws_iam_policy.custom)', 'aws_iam_policy', roleUsesPrefix, roleName),
    // main.tf:442 and :543-544: the prefix is the whole name, without a separator
    named(
      'cluster encryption policy (main.tf aws_iam_policy.cluster_encryption)',
      'aws_iam_policy',
      inputs.cluster_encryption_policy_use_name_prefix ?? true,
      inputs.cluster_encryption_policy_name ?? `${roleName}-ClusterEncryption`,
      '',
    ),
    // main.tf:341 and :362-363
    named(
      'cluster security group (main.tf aws_security_group.cluster)',
      'aws_security_group',
      inputs.cluster_security_group_use_name_prefix ?? true,
      inputs.cluster_security_group_name ?? `${cluster}-cluster`,
      separator,
    ),
    // node_groups.tf:90 and :211-212
    named(
      'node security group (node_groups.tf aws_security_group.node)',
      'aws_security_group',
      inputs.node_security_group_use_name_prefix ?? true,
      inputs.node_security_group_name ?? `${cluster}-node`,
      separator,
    ),
  ];
  for (const [key, group] of Object.entries<Inputs>(inputs.eks_managed_node_groups ?? {})) {
    const name: string = group.name ?? key;
    // modules/eks-managed-node-group/main.tf:496, :524-525 (node role) and :66, :251-252 (launch template)
    names.push(named(`node group ${key} IAM role`, 'aws_iam_role', group.iam_role_use_name_prefix ?? true, group.iam_role_name ?? `${name}-eks-node-group`));
    names.push(
      named(`node group ${key} launch template`, 'aws_launch_template', group.launch_template_use_name_prefix ?? true, group.launch_template_name ?? key),
    );
  }
  return names;
}

/** terraform-aws-modules/eks/aws//modules/karpenter v20.37.2 (main.tf). */
export function karpenterModuleNames(inputs: Inputs): ModuleResourceName[] {
  const cluster: string = inputs.cluster_name;
  const rulePrefix: string = inputs.rule_name_prefix ?? 'Karpenter';
  return [
    // :72-73 and :94-95 (variables.tf: iam_role_name / iam_policy_name default KarpenterController, prefix true)
    named('controller IAM role', 'aws_iam_role', inputs.iam_role_use_name_prefix ?? true, inputs.iam_role_name ?? 'KarpenterController'),
    named('controller IAM policy', 'aws_iam_policy', inputs.iam_policy_use_name_prefix ?? true, inputs.iam_policy_name ?? 'KarpenterController'),
    // :139 queue_name = coalesce(var.queue_name, "Karpenter-${var.cluster_name}")
    { what: 'interruption queue', type: 'aws_sqs_queue', attribute: 'name', value: inputs.queue_name ?? `Karpenter-${cluster}` },
    // :244 name_prefix = "${var.rule_name_prefix}${each.value.name}-" (rules at :207-232)
    ...['HealthEvent', 'SpotInterrupt', 'InstanceRebalance', 'InstanceStateChange'].map((n) =>
      named(`interruption rule ${n}`, 'aws_cloudwatch_event_rule', true, `${rulePrefix}${n}`),
    ),
    // :270 and :298-299
    named('node IAM role', 'aws_iam_role', inputs.node_iam_role_use_name_prefix ?? true, inputs.node_iam_role_name ?? `Karpenter-${cluster}`),
  ];
}

/** A Terraform JSON configuration with one resource per name, for the real aws provider to judge. */
export function namedResourcesConfig(names: readonly ModuleResourceName[]): Record<string, any> {
  const required: Record<string, Record<string, unknown>> = {
    aws_iam_role: { assume_role_policy: '{"Version":"2012-10-17","Statement":[]}' },
    aws_iam_policy: { policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:RunInstances","Resource":"*"}]}' },
    aws_security_group: {},
    aws_launch_template: {},
    aws_sqs_queue: {},
    aws_cloudwatch_event_rule: { event_pattern: '{"source":["aws.ec2"]}' },
  };
  const resource: Record<string, Record<string, unknown>> = {};
  names.forEach((n, i) => {
    resource[n.type] ??= {};
    resource[n.type][`r${i}`] = { [n.attribute]: n.value, ...required[n.type] };
  });
  return {
    terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: '5.100.0' } } },
    provider: { aws: { region: 'us-east-1' } },
    resource,
  };
}

/**
 * namedResourcesConfig as a child module of a batch (terraform-batch.ts): every name reaches its resource as a
 * module input. Terraform's validate walk sees module inputs as unknown (internal/terraform/evaluate.go,
 * GetInputVariable, at v1.11.4), so the provider judges the names in the plan walk, where it validates each
 * resource's final values again (node_resource_abstract_instance.go, plan(): ValidateResourceConfig): with the
 * same message, and without stopping the plan of the other cases beside it as a validate-time error would.
 */
export function namedResourcesModule(names: readonly ModuleResourceName[]): { config: Record<string, any>; inputs: { names: Record<string, string> } } {
  const config = namedResourcesConfig(names);
  const values: Record<string, string> = {};
  for (const [type, blocks] of Object.entries<Record<string, Record<string, unknown>>>(config.resource)) {
    for (const [id, block] of Object.entries(blocks)) {
      const attribute = 'name_prefix' in block ? 'name_prefix' : 'name';
      values[`${type}.${id}`] = String(block[attribute]);
      block[attribute] = `\${var.names["${type}.${id}"]}`;
    }
  }
  config.variable = { names: { type: 'map(string)' } };
  return { config, inputs: { names: values } };
}
