/**
 * `cdktf synth --hcl` is the documented way off cdktf, so its output must be valid HCL with the same
 * module inputs. Regression: typed modules once rendered as empty module blocks, and Bottlerocket TOML
 * ("[settings...]") was written unquoted by cdktf's HCL renderer.
 */
import { spawnSync } from 'child_process';
import { Testing, TerraformStack } from 'cdktf';
import { loadFleet } from '../modules/fleet/load';
import { buildApp } from '../stacks/app';
import { DEFAULT_FLEET, MULTI_REGION_FLEET, tempDir } from './helpers/fleet';
import { quoteHclLiterals } from '../modules/terraform/typed-module';

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

test('literal strings are quoted for HCL with template sequences escaped; references are left alone', () => {
  expect(quoteHclLiterals({ a: '[x]\ny = "z"', b: ['1'], c: 'cost ${x} %{y}', d: 2 })).toEqual({
    a: '"[x]\\ny = \\"z\\""',
    b: ['"1"'],
    c: 'cost ${x} %{y}',
    d: 2,
  });
  expect(quoteHclLiterals('100%{')).toBe('"100%%{"');
});
