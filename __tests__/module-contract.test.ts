import { TerraformStack, Testing } from 'cdktf';
import { DEFAULT_FLEET, MULTI_REGION_FLEET, synthFleetFile } from './helpers/fleet';
import { checkModuleInputs, checkNodeGroupInputs, eksModuleContract, parseTfType, typeMismatch } from '../modules/contracts/terraform-interface';
import { EksCluster } from '../modules/eks/eks-cluster';

const contract = eksModuleContract();

describe('module calls match the eks module v20.37.2 interface (contracts/)', () => {
  test.each([
    ['default fleet', DEFAULT_FLEET],
    ['multi-region example', MULTI_REGION_FLEET],
  ])('every input of every eks module block in the %s is a variable with the right shape', (_, file) => {
    const stacks = synthFleetFile(file);
    const eksBlocks = Object.values(stacks).flatMap((s: any) => Object.values(s.module ?? {}).filter((m: any) => m.source === 'terraform-aws-modules/eks/aws'));
    expect(eksBlocks.length).toBeGreaterThan(0);
    for (const block of eksBlocks as any[]) {
      const { source: _s, version: _v, '//': _m, ...inputs } = block;
      expect(checkModuleInputs(inputs, contract.variables, 'eks')).toEqual([]);
      expect(checkNodeGroupInputs(inputs.eks_managed_node_groups, contract)).toEqual([]);
    }
  });

  test('a misspelled or renamed input is reported', () => {
    expect(checkModuleInputs({ cluster_nmae: 'x', cluster_version: '1.31' }, contract.variables, 'eks')).toEqual([
      'eks: input "cluster_nmae" is not a variable of the module',
    ]);
    // v21 renamed cluster_name to name: using the v21 spelling against v20 fails.
    expect(checkModuleInputs({ name: 'x' }, contract.variables, 'eks')).toEqual(['eks: input "name" is not a variable of the module']);
  });

  test('an input named like an Object.prototype member is reported, not mistaken for a variable', () => {
    // Regression: variables["constructor"] found Object's constructor and the type check then crashed.
    expect(checkModuleInputs({ constructor: 'x' }, contract.variables, 'eks')).toEqual(['eks: input "constructor" is not a variable of the module']);
    expect(checkNodeGroupInputs({ system: { toString: 'x' } }, { ...contract, node_group_keys: [...contract.node_group_keys, 'toString'] })).toEqual([]);
  });

  test('a value of the wrong shape is reported', () => {
    expect(checkModuleInputs({ subnet_ids: 'subnet-1' }, contract.variables, 'eks')).toEqual(['eks.subnet_ids: expected list, got "subnet-1"']);
    expect(checkModuleInputs({ cluster_endpoint_public_access: 'yes' }, contract.variables, 'eks')).toEqual([
      'eks.cluster_endpoint_public_access: expected bool, got "yes"',
    ]);
    expect(checkNodeGroupInputs({ system: { ami_typ: 'BOTTLEROCKET_x86_64', min_size: 'two' } }, contract)).toEqual([
      'eks_managed_node_groups.system.ami_typ: "ami_typ" is not read by the eks module\'s node_groups.tf',
      'eks_managed_node_groups.system.min_size: expected number, got "two"',
    ]);
  });

  test('the check runs at synth time: a bad input fails synthesis', () => {
    const s = new TerraformStack(Testing.stubVersion(Testing.app()), 's');
    new EksCluster(s, 'eks', {
      clusterName: 'c',
      clusterVersion: '1.31',
      vpcId: 'vpc-1',
      subnetIds: ['a'],
      endpointPublicAccess: false,
      nodeSecurityGroupTags: {},
      managedNodeGroups: {
        system: {
          amiType: 'BOTTLEROCKET_x86_64',
          instanceTypes: ['m6i.large'],
          minSize: 'two' as any,
          maxSize: 2,
          desiredSize: 1,
          labels: {},
          taints: {},
          bootstrapExtraArgs: '',
          blockDevices: [],
          metadataHopLimit: 2,
        },
      },
    });
    expect(() => Testing.synth(s, true)).toThrow(/eks_managed_node_groups.system.min_size: expected number/);
  });

  test('Terraform type constraints parse, including optional object attributes', () => {
    const t = parseTfType('list(object({ content = string content_type = optional(string) merge_type = optional(string, "x") }))');
    expect(typeMismatch([{ content: 'a' }], t, 'v')).toBeUndefined();
    expect(typeMismatch([{ contnet: 'a' }], t, 'v')).toBe('v[0]: unknown attribute(s) contnet');
    expect(typeMismatch([{}], t, 'v')).toBe('v[0]: missing attribute(s) content');
    expect(typeMismatch({ a: 1 }, parseTfType('map(string)'), 'v')).toBeUndefined(); // Terraform converts numbers to strings
    expect(typeMismatch('${var.x}', parseTfType('list(string)'), 'v')).toBeUndefined(); // expressions are known only at plan
  });
});
