/**
 * The real-containerd tier: Debian's containerd (CRI plugin built in) and Debian's docker-registry, both
 * started by the test on loopback with their own temporary root, state, socket and config, and stopped after.
 *
 * - The registry serves every image under several host names: containerd's hosts configuration
 *   (certs.d/<host>/hosts.toml, `config_path` for the CRI, `--hosts-dir` for ctr) sends each ECR-style host
 *   (a home region, a replica, the EKS add-on registries) to the one loopback registry over plain HTTP.
 * - `apiclient exec admin sheltie ctr ...`, as the builder's commands call ctr on Bottlerocket, is a small
 *   script on the PATH that runs the local ctr against this containerd.
 * - The CRI is asked over gRPC (@grpc/grpc-js, the ImageService of contracts/cri-api/v0.35.0/api.proto).
 *
 * Debian bookworm's containerd is 1.6.20; Bottlerocket ships 2.x. Where their ctr differ the script says so:
 * - `images tag`: 1.6 has no --local (it always tags locally, copying the labels: cmd/ctr/commands/images/tag.go
 *   at v1.6.20); 2.x needs --local to keep them (tag.go at v2.2.2). The script drops --local for 1.6; the 2.x
 *   behaviour is covered by the ctr model (helpers/ctr-cli.ts, helpers/ssm-agent-proxy.ts).
 * - Flag parsing: 1.6 uses urfave/cli v1, which also reads flags after positionals; 2.x (v2) stops at the
 *   first positional. The builder puts every flag first, which both read the same; the model checks 2.x's rule.
 * - The CRI of 1.6 has no `pinned` field in its image status (containerd 1.7 added it): pinning is checked
 *   on the image records' labels instead.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { contractPath } from '../../modules/contracts';
import { freePort, realTools } from './real-tools';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface CriImage {
  readonly id: string;
  readonly repoTags: string[];
  readonly repoDigests: string[];
}

export interface Containerd {
  readonly dir: string;
  readonly socket: string;
  readonly registry: string;
  /** PATH with `apiclient` first: the builder's commands run as on a Bottlerocket host. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs a Run Command script (the builder's commands) with bash, as AWS-RunShellScript does. */
  runScript(commands: string[]): { code: number; stdout: string; stderr: string };
  /** Pushes a one-layer linux/amd64 image to the loopback registry; returns its manifest digest. */
  push(repository: string, tag: string, content: string): Promise<string>;
  /** CRI ImageService.ImageStatus: the image the CRI resolves `name` to, or undefined. */
  imageStatus(name: string): Promise<CriImage | undefined>;
  /** ctr's own record of `name` in k8s.io (labels included), or undefined. */
  record(name: string): { digest: string; labels: string } | undefined;
  stop(): Promise<void>;
}

/** A ustar archive holding one file (the layer of a test image). */
function tar(name: string, content: string): Buffer {
  const h = Buffer.alloc(512);
  const field = (at: number, value: string) => h.write(value, at, 'ascii');
  field(0, name);
  field(100, '0000644\0');
  field(108, '0000000\0');
  field(116, '0000000\0');
  field(124, `${Buffer.byteLength(content).toString(8).padStart(11, '0')}\0`);
  field(136, '00000000000\0');
  field(148, '        ');
  field(156, '0');
  field(257, 'ustar\0');
  field(263, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  const body = Buffer.alloc(Math.ceil(Buffer.byteLength(content) / 512) * 512);
  body.write(content);
  return Buffer.concat([h, body, Buffer.alloc(1024)]);
}

function waitFor(what: string, check: () => Promise<boolean> | boolean, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  return (async () => {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${log()}`);
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`${what} did not come up within 20s: ${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** Starts docker-registry and containerd on loopback; `hosts` are the registry host names to serve. */
export async function startContainerd(hosts: readonly string[]): Promise<Containerd> {
  const tools = realTools().containerd!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brf-containerd-'));
  const port = await freePort();
  const registry = `127.0.0.1:${port}`;
  fs.writeFileSync(
    path.join(dir, 'registry.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/registry\nhttp:\n  addr: ${registry}\n`,
  );
  const hostsDir = path.join(dir, 'certs.d');
  for (const host of hosts) {
    fs.mkdirSync(path.join(hostsDir, host), { recursive: true });
    fs.writeFileSync(
      path.join(hostsDir, host, 'hosts.toml'),
      `server = "http://${registry}"\n\n[host."http://${registry}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
  }
  const socket = path.join(dir, 'containerd.sock');
  fs.writeFileSync(
    path.join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      '[plugins."io.containerd.grpc.v1.cri".registry]',
      `  config_path = "${hostsDir}"`,
      '',
    ].join('\n'),
  );
  let logs = '';
  const keep = (d: Buffer) => {
    logs = (logs + String(d)).slice(-6000);
  };
  const reg = spawn(tools.registry, ['serve', path.join(dir, 'registry.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  reg.stderr.on('data', keep);
  const ctd = spawn(tools.containerd, ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  ctd.stderr.on('data', keep);
  const stopAll = async () => {
    await Promise.all([stopChild(ctd), stopChild(reg)]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'docker-registry',
      () =>
        fetch(`http://${registry}/v2/`)
          .then((r) => r.ok)
          .catch(() => false),
      reg,
      () => logs,
    );
    await waitFor(
      'containerd',
      () => spawnSync(tools.ctr, ['--address', socket, 'version'], { encoding: 'utf8' }).status === 0,
      ctd,
      () => logs,
    );
  } catch (e) {
    await stopAll();
    throw e;
  }

  // `apiclient exec admin sheltie ctr ARGS` -> the local ctr on this socket. For containerd 1.6's ctr:
  // `images pull` gets --hosts-dir (the loopback routing; Bottlerocket's hosts need none), `images tag` loses
  // --local (1.6 has no such flag and always tags locally, labels copied).
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, 'apiclient'),
    `#!/bin/bash
set -euo pipefail
[ "$1 $2 $3" = "exec admin sheltie" ] || { echo "apiclient: the test models only 'exec admin sheltie', got: $*" >&2; exit 2; }
shift 3
[ "$1" = ctr ] || { echo "apiclient: the test models only ctr, got: $1" >&2; exit 2; }
shift
out=()
while [ $# -gt 0 ]; do
  case "$1" in
    pull) out+=(pull --hosts-dir ${JSON.stringify(hostsDir)}) ;;
    --local) ;;
    *) out+=("$1") ;;
  esac
  shift
done
exec ${JSON.stringify(tools.ctr)} --address ${JSON.stringify(socket)} "\${out[@]}"
`,
    { mode: 0o755 },
  );
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };

  const definition = protoLoader.loadSync(contractPath('cri-api', 'v0.35.0', 'api.proto'), { keepCase: false, longs: String, defaults: true });
  const runtime = (grpc.loadPackageDefinition(definition) as any).runtime.v1;
  const images = new runtime.ImageService(`unix://${socket}`, grpc.credentials.createInsecure());

  const upload = async (repository: string, blob: Buffer) => {
    const start = await fetch(`http://${registry}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    const at = new URL(start.headers.get('location')!, `http://${registry}`);
    at.searchParams.set('digest', sha256(blob));
    const put = await fetch(at, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } });
    if (put.status !== 201) throw new Error(`registry: blob upload ${put.status}: ${await put.text()}`);
  };

  return {
    dir,
    socket,
    registry,
    env,
    runScript(commands) {
      const r = spawnSync('bash', ['-c', commands.join('\n')], { env, encoding: 'utf8', timeout: 60_000 });
      return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    },
    async push(repository, tag, content) {
      const layerTar = tar('content.txt', content);
      const layer = gzipSync(layerTar);
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] } }));
      await upload(repository, layer);
      await upload(repository, config);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
        }),
      );
      const r = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
        method: 'PUT',
        body: manifest,
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      });
      if (r.status !== 201) throw new Error(`registry: manifest ${r.status}: ${await r.text()}`);
      return sha256(manifest);
    },
    imageStatus(name) {
      return new Promise((resolve, reject) => {
        images.imageStatus({ image: { image: name } }, (e: Error | null, r: { image: CriImage | null }) => (e ? reject(e) : resolve(r.image ?? undefined)));
      });
    },
    record(name) {
      const r = spawnSync(tools.ctr, ['--address', socket, '-n', 'k8s.io', 'images', 'ls', `name==${name}`], { encoding: 'utf8' });
      const row = r.stdout.split('\n')[1]?.trim();
      if (!row) return undefined;
      const cells = row.split(/\s+/);
      return { digest: cells[2], labels: cells.at(-1)! };
    },
    async stop() {
      images.close();
      await stopAll();
    },
  };
}
