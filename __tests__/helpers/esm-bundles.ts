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

/** Bump when the cdktf bundle's build below changes, so an existing bundle is rebuilt. */
const CDKTF_BUNDLE_FORMAT = '1';

/**
 * cdktf creates a stack trace for every token (tokens/private/stack-trace.js, each Intrinsic and Lazy: thousands per
 * synth) and reads it at once. Under jest every stack is formatted by jest's source-map support (installed on the
 * worker's own Error, which Node consults for the test realm's errors too), which maps each frame: about a tenth of
 * a synthesizing suite's CPU. The trace appears only in cdktf's token errors; in the bundle it keeps V8's own frames
 * (positions in the bundle). Errors and their stacks are formatted by jest as before.
 */
const creationTracesInV8Frames = {
  name: 'cdktf-creation-traces-in-v8-frames',
  setup(build: import('esbuild').PluginBuild): void {
    build.onLoad({ filter: /[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]stack-trace\.js$/ }, (args) => ({
      loader: 'js',
      contents: `${fs.readFileSync(args.path, 'utf8')}
const captureWithJestFormatter = exports.captureStackTrace;
const v8Frames = (error, frames) => \`Error\${frames.map((frame) => \`\\n    at \${frame}\`).join('')}\`;
exports.captureStackTrace = function captureStackTrace(below) {
  const formatter = Error.prepareStackTrace;
  Error.prepareStackTrace = v8Frames;
  try {
    return captureWithJestFormatter(below || captureStackTrace);
  } finally {
    Error.prepareStackTrace = formatter;
  }
};
`,
    }));
  },
};

/**
 * cdktf is about 380 CommonJS files (with its bundled dependencies), each with an inline source map: jest resolves,
 * reads and compiles each of them again for every test file that synthesizes (the module registry is per file). One
 * bundle (node_modules/.cache/bottlerocket-fleet/cdktf.cjs, which jest.config.js maps `cdktf` to) is one file of the
 * same code, without the source maps: a frame inside cdktf names a line of the bundle, not of cdktf's .ts sources.
 * `cdktf/lib/util` (imported by modules/terraform for `terraformBinaryName`) gets a bundle of its own
 * (cdktf-util.cjs): cdktf keeps its token map on `global`, so a second copy of the token modules shares it.
 * `constructs` stays outside: it is this project's dependency too, and construct identity must be one.
 */
export async function bundleCdktf(): Promise<string> {
  const root = path.dirname(require.resolve('cdktf/package.json'));
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const out = path.join(ESM_BUNDLE_DIR, 'cdktf.cjs');
  const util = path.join(ESM_BUNDLE_DIR, 'cdktf-util.cjs');
  const stamp = `${out}.version`;
  const wanted = `${version} format ${CDKTF_BUNDLE_FORMAT}`;
  if ([out, util, stamp].every((f) => fs.existsSync(f)) && fs.readFileSync(stamp, 'utf8') === wanted) return out;
  fs.mkdirSync(ESM_BUNDLE_DIR, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: esbuild loads only when the bundle must be rebuilt
  const esbuild = require('esbuild') as typeof import('esbuild');
  // Built under names of this process and renamed: another jest run may be loading the bundle at this moment.
  const tmp = (file: string): string => `${file}.${process.pid}.tmp`;
  for (const [entry, file] of [
    [path.join(root, 'lib', 'index.js'), out],
    [path.join(root, 'lib', 'util.js'), util],
  ]) {
    await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: tmp(file),
      external: ['constructs'],
      logLevel: 'error',
      plugins: [creationTracesInV8Frames],
    });
    fs.renameSync(tmp(file), file);
  }
  fs.writeFileSync(tmp(stamp), wanted);
  fs.renameSync(tmp(stamp), stamp);
  return out;
}
