/**
 * `npm run bench`: times synthesis of the example fleet and of a generated 20-cluster fleet, in-process
 * (load + build + synth, after one warm-up) and as whole commands (the app as cdktf runs it, and the
 * `cdktf synth` CLI). Prints a table; record the figures in the README. Not a test: timings vary.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { performance } from 'perf_hooks';
import { stringify } from 'yaml';
import { loadFleet } from '../modules/fleet/load';
import { buildApp } from '../stacks/app';

const ROOT = path.join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** A fleet of n clusters over four regions, each with a CPU and a GPU pool on replicated caches. */
export function generatedFleet(n: number): unknown {
  const regions = ['us-west-2', 'us-east-1', 'eu-west-1', 'ap-southeast-2'];
  const clusters: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    clusters[`cluster-${String(i).padStart(2, '0')}`] = {
      region: regions[i % regions.length],
      kubernetesVersion: '1.31',
      vpc: { cidr: `10.${i}.0.0/16` },
      endpointPublicAccess: true,
      trustedCertificates: [path.join(ROOT, 'certs/corp-ca.pem')],
      karpenter: { nodePools: { default: { imageCache: 'general' }, gpu: { imageCache: 'gpu', gpu: true } } },
    };
  }
  const cache = (variant: string, size: number) => ({ variant, arch: 'x86_64', homeRegion: regions[0], replicaRegions: regions.slice(1), dataVolumeGiB: size, images: ['public.ecr.aws/docker/library/nginx:1.27'] });
  return { tags: { team: 'platform' }, imageCaches: { general: cache('cpu', 100), gpu: cache('gpu', 200) }, clusters };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function inProcess(file: string): number {
  const once = () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
    const t0 = performance.now();
    buildApp(loadFleet(file), { outdir }).synth();
    const ms = performance.now() - t0;
    fs.rmSync(outdir, { recursive: true, force: true });
    return ms;
  };
  once(); // warm-up: module loading and JIT
  return median(Array.from({ length: RUNS }, once));
}

function command(cmd: string, args: string[], file: string): number {
  const times = Array.from({ length: Math.min(RUNS, 3) }, () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
    const t0 = performance.now();
    const r = spawnSync(cmd, args.map((a) => a.replace('$OUT', outdir)), {
      cwd: ROOT, encoding: 'utf8',
      env: { ...process.env, FLEET_FILE: file, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' },
    });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
    fs.rmSync(outdir, { recursive: true, force: true });
    return ms;
  });
  return median(times);
}

function main(): void {
  const generated = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-fleet-')), 'fleet.yaml');
  fs.writeFileSync(generated, stringify(generatedFleet(20)));
  const fleets: [string, string][] = [['example fleet.yaml', path.join(ROOT, 'fleet.yaml')], ['generated 20 clusters', generated]];
  const rows: string[][] = [];
  for (const [name, file] of fleets) {
    const stacks = buildApp(loadFleet(file), { outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')) }).node.children.length;
    rows.push([name, String(stacks),
      `${inProcess(file).toFixed(0)} ms`,
      `${command(path.join(ROOT, 'node_modules/.bin/tsx'), ['main.ts'], file).toFixed(0)} ms`,
      `${command(path.join(ROOT, 'node_modules/.bin/cdktf'), ['synth', '--output', '$OUT'], file).toFixed(0)} ms`]);
  }
  const header = ['fleet', 'stacks', 'in-process synth (median)', 'app command: tsx main.ts', 'cdktf synth CLI'];
  process.stdout.write(`Node ${process.version}, ${os.cpus().length} cores, ${RUNS} runs (commands: ${Math.min(RUNS, 3)})\n\n`);
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
}

if (require.main === module) main();
