/**
 * `cdktf synth --hcl` is the documented way off cdktf, so its output must be valid HCL with the same
 * module inputs. Regression: typed modules once rendered as empty module blocks, and Bottlerocket TOML
 * ("[settings...]") was written unquoted by cdktf's HCL renderer.
 */
import { spawnSync } from 'child_process';
import { Testing, TerraformStack } from 'cdktf';
import { loadFleet } from '../modules/fleet/load';
import { buildApp } from '../stacks/app';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_FLEET, MULTI_REGION_FLEET, PROJECT_ROOT, tempDir } from './helpers/fleet';
import { quoteHclLiterals } from '../modules/terraform/typed-module';
import { hclMetaArguments } from '../modules/terraform/hcl-meta-arguments';
import { formatHclFiles } from '../modules/terraform/hcl-format';

const STAGED_ROLLOUT_FLEET = path.join(PROJECT_ROOT, 'examples', 'staged-rollout', 'fleet.yaml');

function hclStacks(file: string): Record<string, string> {
  const app = buildApp(loadFleet(file), { outdir: tempDir('hcl-') });
  const stacks = app.node.children.filter((c): c is TerraformStack => c instanceof TerraformStack);
  return Object.fromEntries(stacks.map((s) => [s.node.id, Testing.synthHcl(s, true) as string]));
}

/** terraform fmt parses HCL offline (no init, no registry) and fails on a syntax error. */
function terraformParses(hcl: string): { ok: boolean; stderr: string } {
  const r = spawnSync('terraform', ['fmt', '-no-color', '-'], { input: hcl, encoding: 'utf8', env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' } });
  return { ok: r.status === 0, stderr: r.stderr };
}

describe.each([
  ['default fleet', DEFAULT_FLEET],
  ['multi-region example', MULTI_REGION_FLEET],
  ['staged-rollout example', STAGED_ROLLOUT_FLEET],
])('HCL output of the %s', (_, file) => {
  const stacks = hclStacks(file);

  test.each(Object.keys(stacks))('%s is valid HCL', (name) => {
    expect(terraformParses(stacks[name])).toEqual({ ok: true, stderr: '' });
  });

  test('module blocks carry their inputs, the TOML user data as one quoted string', () => {
    for (const [name, hcl] of Object.entries(stacks).filter(([n]) => n.endsWith('-cluster'))) {
      expect({ name, hasClusterName: /cluster_name\s+=\s+"/.test(hcl) }).toEqual({ name, hasClusterName: true });
      expect(hcl).toMatch(/bootstrap_extra_args\s+=\s+"\[settings\./);
    }
  });
});

// Issue 28: Terraform refused `postcondition = [...]` (An argument named "postcondition" is not expected here) and
// warned on every quoted reference; the real-tool tier (real-tools/terraform-validate.test.ts) runs init and validate.
describe.each([
  ['default fleet', DEFAULT_FLEET],
  ['staged-rollout example', STAGED_ROLLOUT_FLEET],
])('lifecycle and references in the HCL of the %s', (_, file) => {
  const all = Object.values(hclStacks(file)).join('\n');

  test('lifecycle conditions are blocks, never attributes', () => {
    expect(all).toMatch(/lifecycle \{\s*postcondition \{\s*condition = /);
    expect(all).not.toMatch(/(pre|post)condition\s*=/);
  });

  test('provider, depends_on and ignore_changes are bare references, never quoted', () => {
    expect(all).toMatch(/provider = aws\.\w+/);
    expect(all).not.toMatch(/\bprovider = "/);
    expect(all).not.toMatch(/depends_on = \[\s*"/);
    expect(all).not.toMatch(/ignore_changes = \[\s*"/);
  });
});

test("the meta-arguments are rewritten into cdktf's typed form, everything else is left as it is", () => {
  const condition = { condition: '${self.encrypted}', error_message: 'not encrypted' };
  expect(
    hclMetaArguments({
      name: 'x',
      provider: 'aws.us_east_1',
      depends_on: ['helm_release.crd', 'module.karpenter'],
      lifecycle: { postcondition: [condition], ignore_changes: ['value'], create_before_destroy: true },
    }),
  ).toEqual({
    name: 'x',
    provider: { value: 'aws.us_east_1', type: 'reference' },
    depends_on: { value: '[helm_release.crd, module.karpenter]', type: 'reference' },
    lifecycle: {
      value: {
        postcondition: { value: [condition], isBlock: true, type: 'list' },
        ignore_changes: { value: '[value]', type: 'reference' },
        create_before_destroy: true,
      },
      isBlock: true,
      type: 'simple',
    },
  });
  expect(hclMetaArguments({ name: 'y' })).toEqual({ name: 'y' });
});

describe('formatting the HCL output with terraform fmt', () => {
  test('formats the files in place', () => {
    const file = path.join(tempDir('fmt-'), 'cdk.tf');
    fs.writeFileSync(file, 'resource "terraform_data" "x" {\ninput = 1\n}\n');
    expect(formatHclFiles([file])).toEqual({ formatted: true });
    expect(fs.readFileSync(file, 'utf8')).toBe('resource "terraform_data" "x" {\n  input = 1\n}\n');
  });

  test('without terraform, leaves the files as they are and says why', () => {
    const file = path.join(tempDir('fmt-'), 'cdk.tf');
    fs.writeFileSync(file, 'x = 1\n');
    expect(formatHclFiles([file], 'no-such-terraform-binary')).toEqual({ formatted: false, reason: expect.stringContaining('not on the PATH') });
    expect(fs.readFileSync(file, 'utf8')).toBe('x = 1\n');
  });

  test('a syntax error in generated HCL fails the synth', () => {
    const file = path.join(tempDir('fmt-'), 'cdk.tf');
    fs.writeFileSync(file, 'resource "x" {\n');
    expect(() => formatHclFiles([file])).toThrow(/terraform fmt rejected the generated HCL/);
  });
});

test('literal strings are quoted for HCL with template sequences escaped; references are left alone', () => {
  expect(quoteHclLiterals({ a: '[x]\ny = "z"', b: ['1'], c: 'cost ${x} %{y}', d: 2 })).toEqual({
    a: '"[x]\\ny = \\"z\\""',
    b: ['"1"'],
    c: 'cost ${x} %{y}',
    d: 2,
  });
  expect(quoteHclLiterals('100%{')).toBe('"100%%{"');
});
