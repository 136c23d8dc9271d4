import { parse } from 'smol-toml';
import { DEFAULT_FLEET, MULTI_REGION_FLEET, synthFleetFile } from './helpers/fleet';

describe('my-cluster-cluster (the guide example)', () => {
  const stacks = synthFleetFile(DEFAULT_FLEET);
  const stack = stacks['my-cluster-cluster'];
  const eks = stack.module.eks;
  const system = eks.eks_managed_node_groups.system;

  test('matches the snapshot', () => {
    expect(stack).toMatchSnapshot();
  });

  test('calls terraform-aws-modules/eks/aws ~> 20.0 with the cluster, version, VPC and endpoint access', () => {
    expect(eks).toMatchObject({
      source: 'terraform-aws-modules/eks/aws',
      version: '~> 20.0',
      cluster_name: 'my-cluster',
      cluster_version: '1.35',
      vpc_id: '${module.vpc.vpc_id}',
      subnet_ids: '${module.vpc.private_subnets}',
      cluster_endpoint_public_access: true,
      cluster_endpoint_private_access: true,
      enable_cluster_creator_admin_permissions: true,
    });
    expect(Object.keys(eks.cluster_addons).sort()).toEqual(['coredns', 'eks-pod-identity-agent', 'kube-proxy', 'vpc-cni']);
    expect(eks.node_security_group_tags).toEqual({ 'karpenter.sh/discovery': 'my-cluster' });
  });

  test('the system node group is Bottlerocket, sized, labelled and tainted CriticalAddonsOnly', () => {
    expect(system).toMatchObject({
      ami_type: 'BOTTLEROCKET_x86_64',
      instance_types: ['m6i.xlarge'],
      min_size: 2,
      max_size: 4,
      desired_size: 2,
      labels: { 'node-role': 'system', 'bottlerocket-fleet/os': 'bottlerocket' },
      taints: { criticalAddonsOnly: { key: 'CriticalAddonsOnly', value: 'true', effect: 'NO_SCHEDULE' } },
      enable_bootstrap_user_data: false,
    });
  });

  test('IMDSv2 is required with hop limit 2', () => {
    expect(system.metadata_options).toEqual({ http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 2 });
  });

  test('both Bottlerocket volumes are listed, gp3 and encrypted', () => {
    expect(Object.values(system.block_device_mappings).map((b: any) => [b.device_name, b.ebs.volume_type, b.ebs.encrypted])).toEqual([
      ['/dev/xvda', 'gp3', true],
      ['/dev/xvdb', 'gp3', true],
    ]);
  });

  test('bootstrap_extra_args is Bottlerocket TOML with the corporate CA under settings.pki', () => {
    const toml = parse(system.bootstrap_extra_args) as any;
    expect(toml.settings.pki['corp-ca'].trusted).toBe(true);
    expect(Buffer.from(toml.settings.pki['corp-ca'].data, 'base64').toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(toml.settings['host-containers'].admin.enabled).toBe(false);
    expect(toml.settings.kubernetes).toBeUndefined();
  });

  test('a new VPC with private subnets tagged for Karpenter discovery', () => {
    expect(stack.module.vpc).toMatchObject({
      source: 'terraform-aws-modules/vpc/aws',
      cidr: '10.0.0.0/16',
      private_subnets: ['10.0.0.0/19', '10.0.32.0/19', '10.0.64.0/19'],
      private_subnet_tags: { 'karpenter.sh/discovery': 'my-cluster' },
      azs: '${slice(data.aws_availability_zones.vpc-azs.names, 0, 3)}',
    });
  });

  test('the AWS provider is in the cluster region with the fleet tags as default tags', () => {
    expect(stack.provider.aws).toEqual([
      { region: 'us-west-2', default_tags: [{ tags: expect.objectContaining({ team: 'platform', 'bottlerocket-fleet:cluster': 'my-cluster' }) }] },
    ]);
    // Issue 28: the local state file's name carries the fleet ID.
    expect(stack.terraform.backend).toEqual({
      local: { path: expect.stringMatching(/^\.\.\/\.\.\/\.\.\/terraform\.fleet-[0-9a-f]{12}\.my-cluster-cluster\.tfstate$/) },
    });
  });

  test('exports what later stacks need', () => {
    expect(Object.keys(stack.output).sort()).toEqual([
      'cluster_certificate_authority_data',
      'cluster_endpoint',
      'cluster_name',
      'node_security_group_id',
      'oidc_provider_arn',
      'private_subnets',
    ]);
    expect(stack.output.cluster_endpoint.value).toBe('${module.eks.cluster_endpoint}');
  });
});

describe('the multi-region example', () => {
  const stacks = synthFleetFile(MULTI_REGION_FLEET);

  test('matches the snapshot', () => {
    expect(stacks['prod-use1-cluster']).toMatchSnapshot();
    expect(stacks['prod-euw1-cluster']).toMatchSnapshot();
  });

  test('one cluster stack per cluster, each in its own region, state in S3 with one key per stack', () => {
    expect(stacks['prod-use1-cluster'].provider.aws[0].region).toBe('us-east-1');
    expect(stacks['prod-euw1-cluster'].provider.aws[0].region).toBe('eu-west-1');
    expect(stacks['prod-euw1-cluster'].terraform.backend.s3).toEqual({
      bucket: 'example-platform-terraform-state',
      region: 'us-east-1',
      key: 'bottlerocket-fleet/prod-euw1-cluster.tfstate',
      encrypt: true,
      use_lockfile: true,
    });
  });

  test('the ARM64 cluster runs BOTTLEROCKET_ARM_64 system nodes', () => {
    expect(stacks['prod-euw1-cluster'].module.eks.eks_managed_node_groups.system.ami_type).toBe('BOTTLEROCKET_ARM_64');
  });

  test('an existing VPC is used as is, its private subnets tagged for discovery', () => {
    const stack = stacks['prod-euw1-cluster'];
    expect(stack.module.vpc).toBeUndefined();
    expect(stack.module.eks.vpc_id).toBe('vpc-0a1b2c3d4e5f60718');
    expect(Object.values(stack.resource.aws_ec2_tag).map((t: any) => [t.resource_id, t.key, t.value])).toEqual([
      ['subnet-0a1b2c3d4e5f60711', 'karpenter.sh/discovery', 'prod-euw1'],
      ['subnet-0a1b2c3d4e5f60722', 'karpenter.sh/discovery', 'prod-euw1'],
      ['subnet-0a1b2c3d4e5f60733', 'karpenter.sh/discovery', 'prod-euw1'],
    ]);
    expect(stack.module.eks.cluster_endpoint_public_access_cidrs).toEqual(['203.0.113.0/24']);
  });

  test('cluster-wide settings reach the system node group', () => {
    const toml = parse(stacks['prod-use1-cluster'].module.eks.eks_managed_node_groups.system.bootstrap_extra_args) as any;
    expect(toml.settings.kernel.sysctl['vm.max_map_count']).toBe('262144');
  });
});
