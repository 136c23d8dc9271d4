/**
 * The real-tool tier: Terraform with the real hashicorp/aws provider (from a provider filesystem mirror,
 * offline) and the AWS emulator moto_server. Detection runs once per jest run (global-setup.ts) and is
 * passed to the test workers in BRF_REAL_TOOLS; the suites of one jest worker share one emulator on a free
 * loopback port, reset between suites (sharedMoto), and each suite writes its own Terraform CLI config (the
 * machine's TF_CLI_CONFIG_FILE names a missing file).
 *
 * Missing tools: under CI=true the suites fail, saying what is missing and how to install it; elsewhere
 * global-setup prints one line saying the real-tool tests were skipped, and why.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ESM_BUNDLE_DIR } from './esm-bundles';

/** The aws provider version @cdktf/provider-aws 20.1.0 pins into every stack. */
export const AWS_PROVIDER_VERSION = '5.100.0';

export interface RealTools {
  readonly terraform?: string;
  /** Root of a provider filesystem mirror (the folder that contains registry.terraform.io). */
  readonly mirror?: string;
  readonly moto?: string;
  /** One sentence per missing tool: what is missing and how to get it. */
  readonly missing: string[];
  /** The real-containerd tier: Debian's containerd (with its ctr) and docker-registry. */
  readonly containerd?: { readonly containerd: string; readonly ctr: string; readonly registry: string };
  /** What that tier lacks, one sentence each. */
  readonly containerdMissing: string[];
}

function which(command: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * A real mirror holds the provider itself: a plugin cache (Terraform's, or cdktf's ~/.terraform.d/plugin-cache)
 * has the same layout but links to where it was installed from, and using one as the mirror of another
 * (or of itself) makes `terraform init` fail ("cannot install existing provider directory ... to itself").
 */
/** A regular, non-empty file someone may execute: an empty stand-in left by a test is no provider ("permission denied"). */
function isProgram(file: string): boolean {
  const st = fs.lstatSync(file);
  return st.isFile() && st.size > 0 && (st.mode & 0o111) !== 0;
}

export function hasAwsProvider(root: string): boolean {
  const platform = path.join(root, 'registry.terraform.io', 'hashicorp', 'aws', AWS_PROVIDER_VERSION, `linux_${process.arch === 'arm64' ? 'arm64' : 'amd64'}`);
  try {
    if (fs.lstatSync(platform).isSymbolicLink()) return false;
    return fs.readdirSync(platform).some((f) => f.startsWith('terraform-provider-aws') && isProgram(path.join(platform, f)));
  } catch {
    return false;
  }
}

/**
 * The Terraform plugin cache (also handed to cdktf, which otherwise uses ~/.terraform.d/plugin-cache). One
 * per jest worker: Terraform documents the cache as unsafe for concurrent `terraform init`s, and two
 * workers initialising at once left a stack's provider link dangling ("could not read package
 * directory"). Suites in one worker run one after another; within a suite, inits never overlap.
 */
export const PLUGIN_CACHE_DIR = path.join(os.tmpdir(), `bottlerocket-fleet-tf-plugin-cache-${process.pid}`);

/** Where the last mirror found is remembered (node_modules/.cache: gone with a clean install, as a cache should be). */
export const PROVIDER_MIRROR_RECORD = path.join(ESM_BUNDLE_DIR, 'provider-mirror');

/**
 * The first registry.terraform.io folder within four levels of / that holds hashicorp/aws at the pinned version.
 * The folder found last time is taken again while it still holds the provider (checked, never trusted): the walk
 * costs seconds where /tmp is full (13,000 entries on the team's machine), every jest run. /proc, /sys and /dev are
 * pruned, not just filtered out: `-not -path` still walked every process's task tree four levels deep.
 */
export function findProviderMirror(record = PROVIDER_MIRROR_RECORD, walk: () => string[] = walkForMirrors): string | undefined {
  try {
    const known = fs.readFileSync(record, 'utf8').trim();
    if (hasAwsProvider(known)) return known;
  } catch {
    /* nothing remembered yet */
  }
  const mirror = walk().find(hasAwsProvider);
  if (mirror) {
    fs.mkdirSync(path.dirname(record), { recursive: true });
    fs.writeFileSync(record, mirror);
  }
  return mirror;
}

/** Every folder within four levels of / that contains a registry.terraform.io folder (a mirror or a plugin cache). */
function walkForMirrors(): string[] {
  const pruned = ['/proc', '/sys', '/dev'].flatMap((p, i) => [...(i ? ['-o'] : []), '-path', p]);
  const found = spawnSync('find', ['/', '-maxdepth', '4', '(', ...pruned, ')', '-prune', '-o', '-type', 'd', '-name', 'registry.terraform.io', '-print'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return ((found.stdout as string | null) ?? '') // null when find could not be spawned
    .split('\n')
    .filter(Boolean)
    .map((p) => path.dirname(p));
}

/**
 * Finds the tools: TF_PROVIDER_MIRROR if set, else the first registry.terraform.io folder within four
 * levels of / that holds hashicorp/aws at the pinned version (never a hard-coded machine path).
 */
export function detectRealTools(): RealTools {
  const missing: string[] = [];
  const terraform = which('terraform');
  if (!terraform) missing.push('terraform is not on the PATH (install Terraform >= 1.10 from releases.hashicorp.com)');
  let mirror: string | undefined;
  if (process.env.TF_PROVIDER_MIRROR) {
    mirror = hasAwsProvider(process.env.TF_PROVIDER_MIRROR) ? process.env.TF_PROVIDER_MIRROR : undefined;
    if (!mirror) missing.push(`TF_PROVIDER_MIRROR=${process.env.TF_PROVIDER_MIRROR} holds no registry.terraform.io/hashicorp/aws/${AWS_PROVIDER_VERSION}`);
  } else {
    mirror = findProviderMirror();
    if (!mirror) {
      missing.push(
        `no provider filesystem mirror with hashicorp/aws ${AWS_PROVIDER_VERSION} (create one with "terraform providers mirror <dir>" on a machine with internet and set TF_PROVIDER_MIRROR=<dir>)`,
      );
    }
  }
  const moto = which('moto_server');
  if (!moto) missing.push('moto_server is not on the PATH (pip install "moto[server]==5.2.1")');
  const [containerd, ctr, registry] = ['containerd', 'ctr', 'docker-registry'].map(which);
  const containerdMissing = [
    ...(containerd && ctr ? [] : ['containerd and ctr are not on the PATH (apt-get install containerd)']),
    ...(registry ? [] : ['docker-registry is not on the PATH (apt-get install docker-registry)']),
  ];
  return { terraform, mirror, moto, missing, containerdMissing, ...(containerd && ctr && registry ? { containerd: { containerd, ctr, registry } } : {}) };
}

/** What global-setup found (detected again if a suite runs without it). */
export function realTools(): RealTools {
  const passed = process.env.BRF_REAL_TOOLS;
  return passed ? (JSON.parse(passed) as RealTools) : detectRealTools();
}

/**
 * `describe` for a real-tool suite: runs it when the tools are there; under CI=true a missing tool fails
 * the suite with what is missing; elsewhere the suite is skipped (global-setup printed why).
 */
export function describeWithRealTools(name: string, fn: () => void): void {
  const tools = realTools();
  if (tools.missing.length === 0) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      test('the real tools are installed', () => {
        throw new Error(`real-tool tests need: ${tools.missing.join('; ')}`);
      });
    });
  } else {
    describe.skip(name, fn);
  }
}

/** `describe` for the real-containerd tier: the same rule as describeWithRealTools, for containerd and docker-registry. */
export function describeWithContainerd(name: string, fn: () => void): void {
  const { containerdMissing } = realTools();
  if (containerdMissing.length === 0) describe(name, fn);
  else if (process.env.CI === 'true')
    describe(name, () => {
      test('containerd and docker-registry are installed', () => {
        throw new Error(`real-containerd tests need: ${containerdMissing.join('; ')}`);
      });
    });
  else describe.skip(name, fn);
}

/**
 * A Terraform CLI config for the tests: the aws provider from the filesystem mirror (never the
 * registry), a shared plugin cache (one link per stack, no copy of the ~700 MB binary), no telemetry.
 * Returns the environment to run terraform with.
 */
export function terraformEnv(workDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const tools = realTools();
  const cache = PLUGIN_CACHE_DIR;
  fs.mkdirSync(cache, { recursive: true });
  const config = path.join(workDir, 'terraform-cli.tfrc');
  fs.writeFileSync(
    config,
    [
      'provider_installation {',
      '  filesystem_mirror {',
      `    path    = ${JSON.stringify(tools.mirror)}`,
      '    include = ["registry.terraform.io/hashicorp/aws"]',
      '  }',
      '}',
      `plugin_cache_dir = ${JSON.stringify(cache)}`,
      '',
    ].join('\n'),
  );
  return { ...process.env, TF_CLI_CONFIG_FILE: config, TF_PLUGIN_CACHE_DIR: cache, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0', ...extra };
}

/** Credentials and endpoint that send the aws provider and AWS SDK v3 to the emulator. */
export function emulatorEnv(endpoint: string, region = 'us-west-2'): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

export interface Moto {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections on a loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A loopback port that refuses connections and stays refusing: below the kernel's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range, 32768 by default), where no server listening on port 0 (the emulator,
 * the fake API servers, another worker's) can be handed it later. A port freePort() closed was handed to another
 * worker's server mid-test once, and the "refused" endpoint answered TLS with HTTP.
 */
export async function refusedPort(): Promise<number> {
  const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * Math.max(1, low - 20000));
    if (!(await listening(port))) return port;
  }
  throw new Error('no refusing loopback port below the ephemeral range');
}

/** The one AMI the emulator starts with (see startMoto). */
export const EMULATOR_AMI = {
  ami_id: 'ami-0b0771e40c7e0a1b2',
  name: 'bottlerocket-aws-k8s-1.31-x86_64-v1.26.2-943d9a41',
  description: 'bottlerocket-aws-k8s-1.31-x86_64-v1.26.2',
  owner_id: '651937483462',
  public: true,
  architecture: 'x86_64',
  virtualization_type: 'hvm',
  hypervisor: 'xen',
  root_device_type: 'ebs',
  root_device_name: '/dev/xvda',
  state: 'available',
};

/** One Bottlerocket AMI instead of moto's ~1,200 defaults (see startMoto); written once per process. */
function amisFile(): string {
  const amis = path.join(os.tmpdir(), `bottlerocket-fleet-moto-amis-${process.pid}.json`);
  fs.writeFileSync(amis, JSON.stringify([EMULATOR_AMI]));
  return amis;
}

/** Waits until the emulator at `endpoint` answers; throws with its stderr when it exits or 30 s pass. */
async function waitForMoto(endpoint: string, exited: () => boolean, stderr: () => string, kill: () => void): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited()) throw new Error(`moto_server exited: ${stderr()}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      kill();
      throw new Error(`moto_server did not answer on ${endpoint} within 30s: ${stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts moto_server on a free loopback port and waits until it answers. It starts with one Bottlerocket
 * AMI instead of moto's ~1,200 defaults, each of which brings a snapshot owned by "self" and makes every
 * DescribeSnapshots (the rollout's copy lookup, gc, list) slow. Suites that need an emulator of their own
 * (other settings: `env`) use this; the others share their worker's (sharedMoto).
 */
export async function startMoto(env: NodeJS.ProcessEnv = {}): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn(realTools().moto ?? 'moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Managed policy ARNs (AmazonSSMManagedInstanceCore, ...) exist only with MOTO_IAM_LOAD_MANAGED_POLICIES=true,
    // which costs seconds of CPU at the first IAM call: suites that attach them ask for it.
    env: { ...process.env, MOTO_AMIS_PATH: amisFile(), ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + String(d)).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitForMoto(
    endpoint,
    () => child.exitCode !== null,
    () => stderr,
    () => child.kill('SIGKILL'),
  );
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** Where this worker records its shared emulator: one file per jest run (global setup's report file) and worker process. */
function sharedMotoRecord(): string {
  return `${realToolsReportFile()}.moto-${process.pid}.json`;
}

/**
 * The emulator of this jest worker (issue 27: emulators once per tier, not once per file). The worker's first
 * suite starts it; every later suite of the same worker gets it back emptied by moto's own reset (POST
 * /moto-api/reset: every backend recreated as new, the one-AMI list read again). Suites of one worker run one
 * after another, so no reset empties the emulator under a running suite; the other worker has its own.
 * The server lives as long as the worker: a watchdog shell stops it within a second of the worker's exit (the
 * worker's pid), so stop() here does nothing and no suite can stop it under the next one.
 */
export async function sharedMoto(): Promise<Moto> {
  const record = sharedMotoRecord();
  try {
    const known = JSON.parse(fs.readFileSync(record, 'utf8')) as { endpoint: string; port: number };
    const r = await fetch(`${known.endpoint}/moto-api/reset`, { method: 'POST' });
    if (r.ok) return { ...known, stop: async () => undefined };
  } catch {
    /* none yet in this worker, or it is gone: start one */
  }
  const port = await freePort();
  const moto = realTools().moto ?? 'moto_server';
  const log = `${record}.log`;
  // SIGKILL: moto answers SIGTERM with sys.exit(), which its request threads outlive (seen here: still serving
  // seconds later). It keeps nothing on disk. `wait` reaps it, so no zombie is left to a container's init.
  const stop = 'kill -9 $m 2>/dev/null; wait $m 2>/dev/null';
  const script = `"$0" -H 127.0.0.1 -p ${port} & m=$!; trap '${stop}; exit 0' TERM INT; while kill -0 ${process.pid} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; ${stop}`;
  const logFd = fs.openSync(log, 'w');
  const child = spawn('sh', ['-c', script, moto], { stdio: ['ignore', 'ignore', logFd], env: { ...process.env, MOTO_AMIS_PATH: amisFile() } });
  fs.closeSync(logFd); // the child has its own copy
  child.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  const stderr = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-4000) : '');
  await waitForMoto(
    endpoint,
    () => child.exitCode !== null,
    stderr,
    () => child.kill('SIGTERM'),
  );
  fs.writeFileSync(record, JSON.stringify({ endpoint, port }));
  return { endpoint, port, stop: async () => undefined };
}

/** Removes the records of the workers' shared emulators (global teardown; the servers stop with their workers). */
export function removeSharedMotoRecords(): void {
  const report = realToolsReportFile();
  const dir = path.dirname(report);
  for (const f of fs.readdirSync(dir)) if (f.startsWith(`${path.basename(report)}.moto-`)) fs.rmSync(path.join(dir, f), { force: true });
}

/** Where the real-tool suites record what Terraform did; global-setup empties it, global-teardown sums it up. */
export function realToolsReportFile(): string {
  // One file per jest run (global setup names it after its pid): runs in two checkouts at once must not share it.
  return process.env.BRF_REAL_TOOLS_REPORT ?? path.join(os.tmpdir(), `bottlerocket-fleet-real-tools-${process.pid}.log`);
}

/** Records one stack Terraform validated, or applied against the emulator (one line per event). */
export function recordRealToolRun(kind: 'validated' | 'applied', stack: string): void {
  fs.appendFileSync(realToolsReportFile(), `${kind} ${stack}\n`);
}

/** "Terraform validated N stacks and applied M against the AWS emulator", from the report file. */
export function realToolsSummary(): string {
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(realToolsReportFile(), 'utf8').split('\n').filter(Boolean);
  } catch {
    /* nothing ran */
  }
  const count = (kind: string) => lines.filter((l) => l.startsWith(`${kind} `)).length;
  return `real tools: Terraform validated ${count('validated')} stack(s) and applied ${count('applied')} against the AWS emulator`;
}
