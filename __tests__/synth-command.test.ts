/**
 * The app as `cdktf synth` runs it (tsx main.ts): a bad fleet file exits non-zero, lists every problem
 * with its path and fix, and writes nothing; a good one writes the stacks.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { PROJECT_ROOT, tempDir } from './helpers/fleet';

function runApp(fleetFile: string) {
  const outdir = tempDir('synth-out-');
  const result = spawnSync(path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, FLEET_FILE: fleetFile, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' },
    encoding: 'utf8',
  });
  return { ...result, outdir, written: fs.readdirSync(outdir) };
}

test('a bad fleet file fails with every problem and its fix, and writes no stack', () => {
  const dir = tempDir('bad-fleet-');
  const file = path.join(dir, 'fleet.yaml');
  fs.writeFileSync(file, [
    'clusters:',
    '  my-cluster:',
    '    region: us-west-2',
    '    kubernetesVersion: "1.31"',
    '    vpc: {cidr: 10.0.0.0/16}',
    '    systemNodeGroup: {minSize: 5, maxSize: 4, desiredSize: 4}',
    '    trustedCertificates: [missing.pem]',
    '',
  ].join('\n'));
  const r = runApp(file);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('clusters.my-cluster.systemNodeGroup.minSize: must not exceed maxSize (4)');
  expect(r.stderr).toContain('fix: lower minSize to at most 4 or raise maxSize');
  expect(r.stderr).toContain('no stack was written');
  expect(r.written).toEqual([]);
});

test('a good fleet file writes one stack per cluster', () => {
  const r = runApp(path.join(PROJECT_ROOT, 'fleet.yaml'));
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.status).toBe(0);
  const manifest = JSON.parse(fs.readFileSync(path.join(r.outdir, 'manifest.json'), 'utf8'));
  expect(Object.keys(manifest.stacks)).toContain('my-cluster-cluster');
});
