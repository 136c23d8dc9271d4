/**
 * Issue 28 item 3: a synth leaves in its output folder exactly the stacks and files it wrote. Regressions: `npm run
 * synth` then `npm run synth:hcl` left cdk.tf.json beside cdk.tf ("Duplicate backend configuration" at init), and
 * a synth of another fleet left the first fleet's stack folders.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { loadFleet } from '../modules/fleet/load';
import { buildApp } from '../stacks/app';
import { pruneStaleOutput } from '../modules/terraform/stale-output';
import { DEFAULT_FLEET, MULTI_REGION_FLEET, PROJECT_ROOT, tempDir } from './helpers/fleet';

/** Every file under outdir (relative), folders of Terraform's own working files included. */
function tree(outdir: string): string[] {
  return (fs.readdirSync(outdir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(outdir, f)).isFile()).sort();
}

function synth(file: string, outdir: string, hcl = false): void {
  const previous = process.env.SYNTH_HCL_OUTPUT;
  if (hcl) process.env.SYNTH_HCL_OUTPUT = 'true';
  else delete process.env.SYNTH_HCL_OUTPUT;
  try {
    buildApp(loadFleet(file), { outdir }).synth();
  } finally {
    if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = previous;
  }
}

test('JSON then HCL leaves only cdk.tf and metadata.json in each stack, and HCL then JSON only cdk.tf.json', () => {
  const outdir = tempDir('stale-format-');
  synth(DEFAULT_FLEET, outdir);
  synth(DEFAULT_FLEET, outdir, true);
  const hclFiles = tree(outdir).filter((f) => f.startsWith('stacks/'));
  expect(hclFiles.filter((f) => f.endsWith('cdk.tf.json'))).toEqual([]);
  expect(hclFiles.filter((f) => f.endsWith('/cdk.tf')).length).toBeGreaterThan(0);
  synth(DEFAULT_FLEET, outdir);
  const jsonFiles = tree(outdir).filter((f) => f.startsWith('stacks/'));
  expect(jsonFiles.every((f) => f.endsWith('/cdk.tf.json'))).toBe(true);
});

test("a synth of another fleet removes the first fleet's stack folders, Terraform working files included", () => {
  const outdir = tempDir('stale-fleet-');
  synth(DEFAULT_FLEET, outdir);
  fs.mkdirSync(path.join(outdir, 'stacks', 'my-cluster-cluster', '.terraform'));
  fs.writeFileSync(path.join(outdir, 'stacks', 'my-cluster-cluster', '.terraform', 'x'), '');
  synth(MULTI_REGION_FLEET, outdir);
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  expect(fs.readdirSync(path.join(outdir, 'stacks')).sort()).toEqual(Object.keys(manifest.stacks).sort());
  expect(Object.keys(manifest.stacks)).not.toContain('my-cluster-cluster');
});

test('Terraform working files of a stack that is written again stay; a folder that is not cdktf output is left alone', () => {
  const outdir = tempDir('stale-keep-');
  synth(DEFAULT_FLEET, outdir);
  const stackDir = path.join(outdir, 'stacks', 'my-cluster-cluster');
  fs.writeFileSync(path.join(stackDir, '.terraform.lock.hcl'), '# lock');
  fs.mkdirSync(path.join(outdir, 'stacks', 'notes'));
  fs.writeFileSync(path.join(outdir, 'stacks', 'notes', 'README'), 'mine');
  synth(DEFAULT_FLEET, outdir);
  expect(fs.existsSync(path.join(stackDir, '.terraform.lock.hcl'))).toBe(true);
  expect(fs.existsSync(path.join(outdir, 'stacks', 'notes', 'README'))).toBe(true);
});

test('pruning reports what it removed', () => {
  const outdir = tempDir('stale-unit-');
  fs.mkdirSync(path.join(outdir, 'stacks', 'a'), { recursive: true });
  fs.mkdirSync(path.join(outdir, 'stacks', 'gone'), { recursive: true });
  for (const f of ['a/cdk.tf', 'a/metadata.json', 'a/cdk.tf.json', 'gone/cdk.tf.json']) fs.writeFileSync(path.join(outdir, 'stacks', f), '');
  const manifest = { stacks: { a: { workingDirectory: 'stacks/a', synthesizedStackPath: 'stacks/a/cdk.tf', stackMetadataPath: 'stacks/a/metadata.json' } } };
  expect(pruneStaleOutput(outdir, manifest).sort()).toEqual(['stacks/a/cdk.tf.json', 'stacks/gone']);
  expect(tree(outdir)).toEqual(['stacks/a/cdk.tf', 'stacks/a/metadata.json']);
});

test('npm run synth then npm run synth:hcl (the scripts themselves) leave no cdk.tf.json', () => {
  const outdir = tempDir('stale-scripts-');
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
  for (const script of ['synth', 'synth:hcl']) {
    const r = spawnSync('sh', ['-c', pkg.scripts[script]], { cwd: PROJECT_ROOT, env: { ...process.env, CDKTF_OUTDIR: outdir }, encoding: 'utf8' });
    expect({ script, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ script, status: 0, stderr: '' });
  }
  expect(tree(outdir).filter((f) => f.endsWith('cdk.tf.json'))).toEqual([]);
});
