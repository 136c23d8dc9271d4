/**
 * The app runs as an esbuild bundle that changes two cdktf internals for speed (scripts/bundled.js: no creation
 * stack per token, the resolve path string built only for an error message). Neither may change what is written:
 * the bundled app and cdktf unbundled, in this process, write the same files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { buildApp } from '../stacks/app';
import { loadFleet } from '../modules/fleet/load';
import { MULTI_REGION_FLEET, PROJECT_ROOT, tempDir } from './helpers/fleet';

function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = fs.readFileSync(full, 'utf8');
    }
  };
  walk(dir);
  return out;
}

test('the bundled app writes exactly what cdktf writes unbundled', () => {
  const bundled = tempDir('bundled-out-');
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'app.js')], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, FLEET_FILE: MULTI_REGION_FLEET, CDKTF_OUTDIR: bundled },
  });
  expect(r.status).toBe(0);
  const unbundled = tempDir('unbundled-out-');
  buildApp(loadFleet(MULTI_REGION_FLEET), { outdir: unbundled }).synth();
  const written = filesUnder(bundled);
  expect(Object.keys(written).filter((f) => f.endsWith('cdk.tf.json')).length).toBeGreaterThan(5);
  expect(written).toEqual(filesUnder(unbundled));
});

test("the bundle's cdktf resolve builds the value's path only for an error message", () => {
  const bundle = fs.readFileSync(path.join(PROJECT_ROOT, 'dist', 'app', 'main.cjs'), 'utf8');
  expect(bundle).toContain('const pathName = { toString: () => "/" + prefix.join("/") };');
  expect(bundle).not.toContain('const pathName = "/" + prefix.join("/");');
});
