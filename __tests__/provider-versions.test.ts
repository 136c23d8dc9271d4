import { DEFAULT_FLEET, MULTI_REGION_FLEET, synthFleetFile } from './helpers/fleet';
import { moduleProviderConstraints, satisfiesTerraformConstraint, terraformConstraintToSemver } from '../modules/contracts/provider-constraints';

const constraints = moduleProviderConstraints().modules;

describe('provider versions satisfy every module a stack calls', () => {
  test.each([
    ['default fleet', DEFAULT_FLEET],
    ['multi-region example', MULTI_REGION_FLEET],
  ])('%s: each pinned provider version fits every module constraint', (_, file) => {
    const stacks = synthFleetFile(file);
    for (const [name, stack] of Object.entries<any>(stacks)) {
      const pinned: Record<string, string> = Object.fromEntries(Object.entries<any>(stack.terraform.required_providers ?? {}).map(([p, v]) => [p, v.version]));
      for (const block of Object.values<any>(stack.module ?? {})) {
        const moduleConstraints = constraints[block.source];
        expect({ stack: name, module: block.source, listed: Boolean(moduleConstraints) }).toEqual({ stack: name, module: block.source, listed: true });
        for (const [provider, constraint] of Object.entries(moduleConstraints.required_providers)) {
          if (!(provider in pinned)) continue; // the module brings its own (e.g. tls, time), resolved by terraform init
          expect({ stack: name, provider, version: pinned[provider], constraint, ok: satisfiesTerraformConstraint(pinned[provider], constraint) }).toEqual({
            stack: name,
            provider,
            version: pinned[provider],
            constraint,
            ok: true,
          });
        }
      }
    }
  });

  test('the AWS provider is 5.100.0: @cdktf/provider-aws 20.1.0, the last build for aws 5.x', () => {
    const stack = synthFleetFile(DEFAULT_FLEET)['my-cluster-cluster'];
    expect(stack.terraform.required_providers.aws.version).toBe('5.100.0');
  });

  test('an aws 6.x provider would be caught', () => {
    expect(satisfiesTerraformConstraint('6.0.0', constraints['terraform-aws-modules/eks/aws'].required_providers.aws)).toBe(false);
    expect(satisfiesTerraformConstraint('5.94.1', '>= 5.95, < 6.0.0')).toBe(false);
  });

  test('Terraform constraints translate to semver ranges', () => {
    expect(terraformConstraintToSemver('~> 2.1')).toBe('>=2.1.0 <3.0.0');
    expect(terraformConstraintToSemver('~> 2.1.3')).toBe('>=2.1.3 <2.2.0');
    expect(terraformConstraintToSemver('>= 5.95, < 6.0.0')).toBe('>=5.95.0 <6.0.0');
    expect(terraformConstraintToSemver('5.100.0')).toBe('5.100.0');
    expect(() => terraformConstraintToSemver('latest')).toThrow(/not a Terraform version constraint/);
  });
});
