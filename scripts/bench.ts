/**
 * `npm run bench`: the speed goals, measured in one run on this machine, as a table to paste into docs/benchmarks.md.
 *
 * - floor: Node loading cdktf and synthesizing one empty stack (the least any cdktf app can cost);
 * - the app command of cdktf.json (what `cdktf synth` and `cdktf deploy` run) on the example fleet, as a ratio
 *   to the floor;
 * - `npm run synth`, the whole process, as a ratio to the floor;
 * - on each backend (local, S3, Terraform Cloud): the app on generated 20- and 100-cluster fleets, as ratios to the
 *   app on the example fleet with that backend (a cost per stack, such as one `terraform version` per cloud
 *   block, shows here), and the example fleet on S3 and cloud as a ratio to the example fleet on local;
 * - `npm run test:unit` and `npm test`, whole (skip them with --no-tests).
 *
 * Ratios are taken round by round (A, B, C, A, B, C, ...), so a machine whose speed drifts during the run still
 * gives a fair ratio; the median is reported. Not a test: timings vary, this prints them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { performance } from 'perf_hooks';
import { parseDocument, stringify } from 'yaml';

const ROOT = path.join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const APP = (JSON.parse(fs.readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8')) as { app: string }).app;

/** A fleet of n clusters over four regions, each with a CPU and a GPU pool on replicated caches. */
export function generatedFleet(n: number): unknown {
  const regions = ['us-west-2', 'us-east-1', 'eu-west-1', 'ap-southeast-2'];
  const clusters: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    clusters[`cluster-${String(i).padStart(2, '0')}`] = {
      region: regions[i % regions.length],
      kubernetesVersion: '1.35',
      vpc: { cidr: `10.${i}.0.0/16` },
      endpointPublicAccess: true,
      endpointPublicAccessCidrs: ['203.0.113.0/24'],
      // Relative to the fleet file, which the bench writes beside a copy of certs/ (certificates must lie inside its folder).
      trustedCertificates: ['certs/corp-ca.pem'],
      karpenter: { nodePools: { default: { imageCache: 'general' }, gpu: { imageCache: 'gpu', gpu: true } } },
    };
  }
  const cache = (variant: string, size: number) => ({
    variant,
    arch: 'x86_64',
    homeRegion: regions[0],
    replicaRegions: regions.slice(1),
    dataVolumeGiB: size,
    images: ['public.ecr.aws/docker/library/nginx:1.27'],
  });
  return { tags: { team: 'platform' }, imageCaches: { general: cache('cpu', 100), gpu: cache('gpu', 200) }, clusters };
}

/** The state backends the bench measures, as fleet files spell them (no backend is contacted at synth). */
export const BENCH_BACKENDS = {
  local: { type: 'local' },
  S3: { type: 's3', bucket: 'fleet-state', region: 'us-west-2', keyPrefix: 'fleet' },
  cloud: { type: 'cloud', organization: 'acme', workspacePrefix: 'fleet-' },
} as const;

/**
 * The example fleet (fleet.yaml) with another backend, as text to write beside a copy of the example's
 * certs/ folder: certificate paths stay relative, since they must lie inside the fleet file's folder.
 */
export function exampleFleetWith(backend: unknown, file = path.join(ROOT, 'fleet.yaml')): string {
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  doc.set('backend', backend);
  return doc.toString();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs a command line once (in the project, output thrown away) and returns its wall time in ms. */
function time(command: string, env: NodeJS.ProcessEnv = {}): number {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-out-'));
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', command], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null', ...env },
  });
  const ms = performance.now() - t0;
  fs.rmSync(outdir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`${command} failed (exit ${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return ms;
}

/** Runs the commands round by round (after one warm-up round) and returns the times: [command][round]. */
function rounds(runs: (() => number)[]): number[][] {
  for (const run of runs) run();
  const times: number[][] = runs.map(() => []);
  for (let i = 0; i < RUNS; i++) runs.forEach((run, j) => times[j].push(run()));
  return times;
}

/** The median of A/B taken round by round. */
const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));

/** Medians of A, of B and of A/B over paired runs (after one warm-up of each). */
function paired(a: () => number, b: () => number): { a: number; b: number; ratio: number } {
  const [as, bs] = rounds([a, b]);
  return { a: median(as), b: median(bs), ratio: ratio(as, bs) };
}

function main(): void {
  const withTests = !process.argv.includes('--no-tests');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  fs.cpSync(path.join(ROOT, 'certs'), path.join(tmp, 'certs'), { recursive: true });
  const floorScript = path.join(tmp, 'floor.js');
  fs.writeFileSync(
    floorScript,
    `const { App, TerraformStack } = require(${JSON.stringify(require.resolve('cdktf', { paths: [ROOT] }))});
const app = new App();
new TerraformStack(app, 'empty');
app.synth();
`,
  );
  const example = path.join(ROOT, 'fleet.yaml');
  const fleets = Object.fromEntries(
    Object.entries(BENCH_BACKENDS).map(([label, backend]) => {
      const write = (name: string, text: string) => {
        const file = path.join(tmp, `${name}-${backend.type}.yaml`);
        fs.writeFileSync(file, text);
        return file;
      };
      const sized = (n: number) => write(`fleet-${n}`, stringify({ ...(generatedFleet(n) as object), backend }));
      return [label, { example: write('example', exampleFleetWith(backend)), 20: sized(20), 100: sized(100) }];
    }),
  );

  const floor = () => time(`node ${floorScript}`);
  const app = (file: string) => () => time(APP, { FLEET_FILE: file });
  const rows: [string, string, string, string][] = [];
  const goal = (what: string, value: string, target: string, met: boolean) => rows.push([what, value, target, met ? 'met' : 'NOT MET']);

  const appVsFloor = paired(app(example), floor);
  rows.push(['floor: node loads cdktf, synthesizes one empty stack', `${appVsFloor.b.toFixed(0)} ms`, '—', '']);
  goal(`app command (\`${APP}\`), example fleet`, `${appVsFloor.a.toFixed(0)} ms = ${appVsFloor.ratio.toFixed(2)}× floor`, '≤ 2× floor', appVsFloor.ratio <= 2);
  const synthVsFloor = paired(() => time('npm run -s synth >/dev/null', { FLEET_FILE: example }), floor);
  goal('`npm run synth`, whole process', `${synthVsFloor.a.toFixed(0)} ms = ${synthVsFloor.ratio.toFixed(2)}× floor`, '≤ 3× floor', synthVsFloor.ratio <= 3);
  // All nine in the same rounds: each ratio, to the example on the same backend or across backends, is paired.
  const stacksOf = (n: number) => 2 * n + 3; // a cluster and a Karpenter stack per cluster, a builder, two caches
  const labels = Object.keys(fleets) as (keyof typeof fleets)[];
  const sizes = ['example', 20, 100] as const;
  const times = rounds(labels.flatMap((label) => sizes.map((size) => app(fleets[label][size]))));
  const timesOf = (label: keyof typeof fleets, size: (typeof sizes)[number]) => times[labels.indexOf(label) * sizes.length + sizes.indexOf(size)];
  for (const label of labels) {
    const example = timesOf(label, 'example');
    const versusLocal = label === 'local' ? '' : ` = ${ratio(example, timesOf('local', 'example')).toFixed(2)}× local`;
    rows.push([`${label} backend: app command, example fleet`, `${median(example).toFixed(0)} ms${versusLocal}`, '—', '']);
    for (const [n, target] of [
      [20, 2.5],
      [100, 8],
    ] as const) {
      const r = ratio(timesOf(label, n), example);
      goal(
        `${label} backend: app command, generated ${n}-cluster fleet (${stacksOf(n)} stacks)`,
        `${median(timesOf(label, n)).toFixed(0)} ms = ${r.toFixed(2)}× example fleet`,
        `≤ ${target}× example fleet`,
        r <= target,
      );
    }
  }
  if (withTests) {
    const unit = time('npm run -s test:unit >/dev/null 2>&1');
    goal('`npm run test:unit`, whole', `${(unit / 1000).toFixed(0)} s`, '≤ 30 s', unit <= 30_000);
    const all = time('npm test >/dev/null 2>&1');
    goal('`npm test`, whole (tsc + unit + real-tool tier)', `${(all / 1000).toFixed(0)} s`, '≤ 120 s', all <= 120_000);
  }
  fs.rmSync(tmp, { recursive: true, force: true });

  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  process.stdout.write(
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB; medians of ${RUNS} paired rounds\n\n`,
  );
  process.stdout.write('| what | measured | goal | |\n|---|---|---|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
  if (rows.some((r) => r[3] === 'NOT MET')) process.exitCode = 1;
}

if (require.main === module) main();
