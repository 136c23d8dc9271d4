/**
 * One running hashicorp/aws provider process that many `terraform validate` / `terraform graph` runs attach to
 * (issue 27 item 5), instead of one provider process per provider configuration per run.
 *
 * Why it is cheap: Terraform starts a new provider process for every provider configuration it walks
 * (internal/terraform/node_provider.go v1.11.4: NodeApplyableProvider.Execute calls ctx.InitProvider for each), and
 * every new aws provider process builds its whole schema before it answers (about 0.45 CPU-s here): a batch of 18
 * stacks with 23 provider blocks took 13 CPU-s to validate, 5 with one attached process (docs/benchmarks.md).
 *
 * Why it is safe for validate and graph, and only for them:
 * - the validate walk only validates a provider configuration (ValidateProvider), it never configures one
 *   (ConfigureProvider is for plan, apply and import: node_provider.go, same function). A second configure in one
 *   aws provider process fails ("unable to add custom RootCAs HTTPClient"), so plan and apply never attach;
 * - `terraform graph` and `terraform validate` ask the provider for its schema and for validations, which depend on
 *   the request only;
 * - the provider runs in its own debug mode (`-debug`, main.go of terraform-provider-aws: tf5server.WithManagedDebug),
 *   which prints the TF_REATTACH_PROVIDERS value with `"Test": true`; Terraform parses that field (main.go
 *   parseReattachProviders, v1.11.4) and go-plugin v1.6.0 then never kills the process when Terraform closes a
 *   provider instance (client.go: "If we're in test mode, we do NOT set the runner").
 * It is the same binary, from the same mirror, at the pinned version (AWS_PROVIDER_VERSION). BRF_TERRAFORM_REATTACH=0
 * turns it off (every run starts its own provider processes, as a user's would); the verdicts are the same.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AWS_PROVIDER_VERSION, realTools } from './real-tools';

/**
 * Go's garbage collector at GOGC=800 (default 100) for the Terraform and provider processes of the real-tool suites:
 * both allocate a large schema at start and live seconds, so most collections are wasted work. Measured here (CPU-s
 * of the process tree, same inputs): validate of an 18-stack batch 13.7 -> 10.8 at GOGC=400, the attached provider
 * over hcl-terraform 4.4 -> 3.4 (peak RSS 0.46 -> 0.80 GB); the one plan of snapshot-provenance (11 provider
 * processes) 7.9 -> 7.2 at 400 and 6.4 at 800, cluster-names' 9.9 -> 6.6 at 800 (largest process 0.33 -> 0.55 GB;
 * GOMAXPROCS=1 saved nothing more). GOMEMLIMIT caps what the relaxed pacing may cost in memory: near 1 GiB the
 * collector runs as often as it must (Go 1.19+ soft memory limit). Setup only: the collector's pacing changes no result.
 */
export const RELAXED_GO_GC: NodeJS.ProcessEnv = { GOGC: '800', GOMEMLIMIT: '1GiB' };

export interface ProviderServer {
  /** Environment for a Terraform run that attaches to the process ({} when attaching is turned off). */
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** The aws provider binary in the filesystem mirror (the one `terraform init` installs from). */
export function awsProviderBinary(mirror = realTools().mirror): string {
  if (!mirror) throw new Error('no provider filesystem mirror (see real-tools.ts detectRealTools)');
  const dir = path.join(mirror, 'registry.terraform.io', 'hashicorp', 'aws', AWS_PROVIDER_VERSION, `linux_${process.arch === 'arm64' ? 'arm64' : 'amd64'}`);
  const binary = fs.readdirSync(dir).find((f) => f.startsWith('terraform-provider-aws'));
  if (!binary) throw new Error(`no terraform-provider-aws binary in ${dir}`);
  fs.accessSync(path.join(dir, binary), fs.constants.X_OK); // throws, naming the file, when it cannot run
  return path.join(dir, binary);
}

/** The TF_REATTACH_PROVIDERS value the provider prints in debug mode, once it is serving. */
export function reattachValue(output: string): string | undefined {
  const m = /TF_REATTACH_PROVIDERS='(\{.*\})'/.exec(output);
  if (!m) return undefined;
  const parsed = JSON.parse(m[1]) as Partial<Record<string, { Test?: boolean }>>;
  // Without Test, Terraform's first closed provider instance would stop the process under the others.
  if (!parsed['registry.terraform.io/hashicorp/aws']?.Test) throw new Error(`the provider's reattach value lacks "Test": true: ${m[1]}`);
  return m[1];
}

/**
 * Starts the aws provider in debug mode and waits until it serves. It stops with stop(), or within a second of
 * this jest worker's exit (a watchdog shell, as for the shared emulator), so a failed suite never leaves it behind.
 */
export async function startProviderServer(): Promise<ProviderServer> {
  if (process.env.BRF_TERRAFORM_REATTACH === '0') return { env: {}, stop: async () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-provider-server-'));
  const log = path.join(dir, 'provider.log');
  // SIGINT: debug mode's own stop (tf5server stops serving and removes its socket). TMPDIR holds the socket.
  const stop = 'kill -INT $p 2>/dev/null; wait $p 2>/dev/null';
  const script = `"$0" -debug & p=$!; trap '${stop}; exit 0' TERM INT; while kill -0 ${process.pid} 2>/dev/null && kill -0 $p 2>/dev/null; do sleep 1; done; ${stop}`;
  const fd = fs.openSync(log, 'w');
  const child = spawn('sh', ['-c', script, awsProviderBinary()], { stdio: ['ignore', fd, fd], env: { ...process.env, ...RELAXED_GO_GC, TMPDIR: dir } });
  fs.closeSync(fd);
  child.unref();
  const deadline = Date.now() + 60_000;
  let reattach: string | undefined;
  while (!(reattach = reattachValue(fs.readFileSync(log, 'utf8')))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`the aws provider did not start in debug mode:\n${fs.readFileSync(log, 'utf8').slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    env: { TF_REATTACH_PROVIDERS: reattach },
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}
