/**
 * The app as `cdktf synth` runs it (cdktf.json's "app", the same command as `npm run synth`): a bad fleet file
 * exits non-zero, lists every problem with its path and fix, and writes nothing; a good one writes the stacks.
 * Warnings go to stderr when the app runs directly, and to stdout under the cdktf CLI, which logs every stderr
 * line of the app as [ERROR] (modules/fleet/app-output.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { PROJECT_ROOT, tempDir } from './helpers/fleet';

const APP_COMMAND: string = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdktf.json'), 'utf8')).app;

function runApp(fleetFile: string, env: NodeJS.ProcessEnv = {}) {
  const outdir = tempDir('synth-out-');
  const [command, ...args] = APP_COMMAND.split(' ');
  const result = spawnSync(command, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, FLEET_FILE: fleetFile, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1', ...env },
    encoding: 'utf8',
  });
  return { ...result, outdir, written: fs.readdirSync(outdir) };
}

/**
 * The migration guide's fleet on the guide's Kubernetes 1.31 (the example itself moved to 1.32 when 1.31 left EKS
 * support, issue 28): with the pinned test date (2026-11-25) 1.31 is in extended support, so synth warns.
 */
function guideFleetOn131(): string {
  const dir = tempDir('guide-131-');
  const example = path.join(PROJECT_ROOT, 'examples', 'migration-guide');
  fs.cpSync(path.join(example, 'certs'), path.join(dir, 'certs'), { recursive: true });
  const text = fs.readFileSync(path.join(example, 'fleet.yaml'), 'utf8').replace(/kubernetesVersion: "1\.32"/g, 'kubernetesVersion: "1.31"');
  fs.writeFileSync(path.join(dir, 'fleet.yaml'), text);
  return path.join(dir, 'fleet.yaml');
}

test('a bad fleet file fails with every problem and its fix, and writes no stack', () => {
  const dir = tempDir('bad-fleet-');
  const file = path.join(dir, 'fleet.yaml');
  fs.writeFileSync(
    file,
    [
      'clusters:',
      '  my-cluster:',
      '    region: us-west-2',
      '    kubernetesVersion: "1.31"',
      '    vpc: {cidr: 10.0.0.0/16}',
      '    systemNodeGroup: {minSize: 5, maxSize: 4, desiredSize: 4}',
      '    trustedCertificates: [missing.pem]',
      '',
    ].join('\n'),
  );
  const r = runApp(file);
  // Issue 28: exit 2 for a fleet-file problem, as the CLI does (was 1).
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('clusters.my-cluster.systemNodeGroup.minSize: must not exceed maxSize (4)');
  expect(r.stderr).toContain('fix: lower minSize to at most 4 or raise maxSize');
  expect(r.stderr).toContain('no stack was written');
  expect(r.written).toEqual([]);
});

test.each([
  [
    'a YAML alias bomb',
    ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n'),
  ],
  ['an empty file', ''],
  ['a misspelled key', 'clusters:\n  my-cluster: {regoin: us-west-2, kubernetesVersion: "1.35", vpc: {cidr: 10.0.0.0/16}}\n'],
])('%s exits 2 with the problem, no stack trace, and writes no stack', (_, text) => {
  const file = path.join(tempDir('bad-fleet-'), 'fleet.yaml');
  fs.writeFileSync(file, text);
  const r = runApp(file);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^.*fleet\.yaml: 1 problem, no stack was written:\n {2}- /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack frames
  expect(r.written).toEqual([]);
});

test('the app command is what npm run synth runs', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
  expect([APP_COMMAND, pkg.scripts.synth]).toEqual(['node scripts/app.js', 'node scripts/app.js']);
});

test('a good fleet file writes one stack per cluster; run directly, warnings go to stderr and a summary to stdout', () => {
  const r = runApp(guideFleetOn131());
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(/^WARNING clusters\.my-cluster\.kubernetesVersion: Kubernetes 1\.31 left EKS standard support/);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.stdout).toMatch(/^Generated Terraform code for 5 stack\(s\) in .*: my-cluster-cluster, my-cluster-karpenter/);
  // Issue 21: what every node will trust, for the reviewer.
  expect(r.stderr).toMatch(
    /^TRUSTED clusters\.my-cluster\.trustedCertificates certs\/corp-ca\.pem: CN=Example Corp Root CA, O=Example Corp, SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}, valid to Nov 22 04:14:08 2036 GMT$/m,
  );
  const manifest = JSON.parse(fs.readFileSync(path.join(r.outdir, 'manifest.json'), 'utf8'));
  expect(Object.keys(manifest.stacks)).toContain('my-cluster-cluster');
});

test('under the cdktf CLI, warnings go to stdout, which cdktf shows as they are (its stderr lines become [ERROR])', () => {
  const r = runApp(guideFleetOn131(), { CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: 'true' });
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/^WARNING clusters\.my-cluster\.kubernetesVersion: Kubernetes 1\.31/);
  expect(r.stdout).not.toMatch(/Generated Terraform code/); // cdktf prints its own summary
});
