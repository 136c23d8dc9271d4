/**
 * @kubernetes/client-node 1.x ships only as ES modules (about a thousand files, with ESM-only
 * dependencies). jest's module system cannot require ES modules on Node 20, and transforming every file
 * with swc cost each cold test run ~20 s of CPU. Instead, global-setup bundles it once into one CommonJS
 * file with esbuild (the bundler tsx itself runs on), and jest.config.js maps the package to that file.
 * The same code runs; only its module format differs. The CLIs, run by tsx or node, load the package itself.
 */
import * as fs from 'fs';
import * as path from 'path';

export const ESM_BUNDLE_DIR = path.resolve(__dirname, '..', '..', 'node_modules', '.cache', 'bottlerocket-fleet');

/** Builds node_modules/.cache/bottlerocket-fleet/client-node.cjs unless it is there for this package version. */
export function bundleClientNode(): string {
  const root = path.dirname(require.resolve('@kubernetes/client-node/package.json'));
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const out = path.join(ESM_BUNDLE_DIR, 'client-node.cjs');
  const stamp = `${out}.version`;
  if (fs.existsSync(out) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === version) return out;
  fs.mkdirSync(ESM_BUNDLE_DIR, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: esbuild loads only when the bundle must be rebuilt
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [path.join(root, 'dist', 'index.js')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: out,
    logLevel: 'error',
  });
  fs.writeFileSync(stamp, version);
  return out;
}
