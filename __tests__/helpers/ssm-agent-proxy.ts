/**
 * A loopback HTTP proxy in front of moto_server that plays ONLY the SSM agent, which moto lacks:
 *
 * - `AmazonSSM.DescribeInstanceInformation` (moto answers HTTP 500): PingStatus Online for the instances
 *   that exist and are running in moto (asked through DescribeInstances).
 * - `AmazonSSM.SendCommand` / `AmazonSSM.GetCommandInvocation` (moto ends every invocation Success with
 *   empty output; the answer holds at most 24,000 characters of stdout and 8,000 of stderr, as AWS's): the commands are run by a tiny shell interpreter against a per-instance model of
 *   containerd's image store, and `ctr` is parsed the way containerd 2.1's ctr parses it (urfave/cli v2,
 *   see `runCtr`), so a call containerd 2.x would reject ends `Failed` with ctr's kind of stderr.
 *
 * - GetParameter and GetParametersByPath of AWS-owned public parameters that moto lacks and refuses to store (`publicParameters`).
 *
 * Everything else is forwarded unchanged to moto (headers kept; the response is streamed back; request
 * bodies are buffered first because they are small API calls whose Action must be read). Every call is
 * recorded in order (`calls`, e.g. "ec2:StopInstances"), and a test can make chosen calls fail (`fault`).
 */
import { createHash, randomUUID } from 'crypto';
import { EventEmitter } from 'events';
import * as http from 'http';
import { AddressInfo } from 'net';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { Filter, GLOBAL_FLAGS, LIST_FLAGS, parseFilter, parseFlags, PULL_FLAGS, TAG_FLAGS } from './ctr-cli';
import { BottlerocketHost, HostOptions } from './bottlerocket-host';

export interface ProxiedCall {
  /** From the SigV4 credential scope: ec2, ssm, iam, ... */
  readonly service: string;
  /** EC2/IAM query Action, or the operation of an X-Amz-Target (AmazonSSM.PutParameter -> PutParameter). */
  readonly action: string;
  readonly region: string;
  /** Parsed request: JSON for SSM, the form fields for query APIs. */
  readonly input: Record<string, any>;
}

export interface AwsFault {
  readonly status?: number;
  readonly code: string;
  readonly message?: string;
}

export interface AgentOptions {
  /** References whose pull fails as if the registry had no such image. */
  readonly unpullable?: Set<string>;
  /** References whose pull succeeds but that are gone from the image store when a later script only looks (the verification). */
  readonly vanish?: Set<string>;
  /** References whose registry serves other content than the same repository path elsewhere (a stale replica). */
  readonly otherContent?: Set<string>;
  /**
   * AWS-owned public parameters moto lacks and refuses to store (PutParameter of a name under /aws/ is
   * AccessDenied): GetParameter of these names is answered here, e.g. the Bottlerocket AMI parameter.
   */
  readonly publicParameters?: Record<string, string>;
  /** The hosts' kernel release and data-volume size (bottlerocket-host.ts). */
  readonly host?: HostOptions;
  /** Makes a call fail before it reaches moto (or the agent): return the AWS error to answer with. */
  fault?: (call: ProxiedCall) => AwsFault | undefined;
}

export interface Invocation {
  readonly commandId: string;
  readonly instanceId: string;
  readonly comment: string;
  readonly commands: string[];
  readonly status: 'Success' | 'Failed';
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  polls: number;
}

interface StoredImage {
  name: string;
  digest: string;
  labels: Record<string, string>;
  platforms: string[];
}

export class SsmAgentProxy extends EventEmitter {
  /** Every call, in order: "ec2:RunInstances", "ssm:SendCommand", ... */
  readonly calls: ProxiedCall[] = [];
  readonly invocations = new Map<string, Invocation>();
  /** containerd's k8s.io image store per instance. */
  readonly images = new Map<string, Map<string, StoredImage>>();
  /** The rest of each instance's host that the scripts touch: builder state on the data volume, units (bottlerocket-host.ts). */
  readonly hosts = new Map<string, BottlerocketHost>();
  readonly unpullable: Set<string>;
  readonly vanish: Set<string>;

  private constructor(
    private readonly server: http.Server,
    readonly endpoint: string,
    private readonly upstream: string,
    private readonly options: AgentOptions,
  ) {
    super();
    this.unpullable = options.unpullable ?? new Set();
    this.vanish = options.vanish ?? new Set();
  }

  static async start(upstream: string, options: AgentOptions = {}): Promise<SsmAgentProxy> {
    const server = http.createServer((req, res) => {
      proxy.handle(req, res).catch((e) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`ssm-agent-proxy: ${(e as Error).stack}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const proxy = new SsmAgentProxy(server, `http://127.0.0.1:${port}`, upstream, options);
    return proxy;
  }

  set fault(f: AgentOptions['fault']) {
    this.options.fault = f;
  }

  stop(): Promise<void> {
    for (const c of this.clients.values()) c.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** "ec2:StopInstances" style names of the calls so far. */
  callNames(): string[] {
    return this.calls.map((c) => `${c.service}:${c.action}`);
  }

  /** Resolves with the first call (already made or future) that matches. */
  waitForCall(match: (c: ProxiedCall) => boolean, timeoutMs = 30_000): Promise<ProxiedCall> {
    const seen = this.calls.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('call', on);
        reject(new Error('ssm-agent-proxy: the awaited call never came'));
      }, timeoutMs);
      const on = (c: ProxiedCall) => {
        if (match(c)) {
          clearTimeout(timer);
          this.off('call', on);
          resolve(c);
        }
      };
      this.on('call', on);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const scope = /Credential=[^/]+\/\d+\/([^/]+)\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
    const region = scope?.[1] ?? 'us-east-1';
    const target = String(req.headers['x-amz-target'] ?? '');
    let call: ProxiedCall | undefined;
    if (target) {
      call = {
        service: scope?.[2] ?? target.split('.')[0],
        action: target.split('.').pop()!,
        region,
        input: body.length ? JSON.parse(body.toString('utf8')) : {},
      };
    } else if (req.method === 'POST' && String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded')) {
      const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
      if (form.Action) call = { service: scope?.[2] ?? 'unknown', action: form.Action, region, input: form };
    }
    if (call) {
      this.calls.push(call);
      this.emit('call', call);
      const fault = this.options.fault?.(call);
      if (fault)
        return target
          ? sendJsonError(res, fault.status ?? 400, fault.code, fault.message ?? fault.code)
          : sendXmlError(res, fault.status ?? 400, fault.code, fault.message ?? fault.code);
      if (target === 'AmazonSSM.DescribeInstanceInformation') return this.describeInstanceInformation(call, res);
      if (target === 'AmazonSSM.SendCommand') return this.sendCommand(call, res);
      if (target === 'AmazonSSM.GetCommandInvocation') return this.getCommandInvocation(call, res);
      const pub = target === 'AmazonSSM.GetParameter' ? this.options.publicParameters?.[call.input.Name] : undefined;
      if (pub !== undefined) return sendJson(res, { Parameter: publicParameter(call.input.Name, pub, call.region) });
      // The cluster stack reads a release's parameters by path (data aws_ssm_parameters_by_path). API_GetParametersByPath.html:
      // the parameters "under a specified level in a hierarchy", every level below with Recursive. One page (no NextToken).
      if (target === 'AmazonSSM.GetParametersByPath' && String(call.input.Path).startsWith('/aws/service/')) {
        const under = String(call.input.Path).replace(/\/+$/, '');
        const children = Object.entries(this.options.publicParameters ?? {}).filter(([name]) =>
          call.input.Recursive ? name.startsWith(`${under}/`) : name.slice(0, name.lastIndexOf('/')) === under,
        );
        return sendJson(res, { Parameters: children.map(([name, value]) => publicParameter(name, value, call.region)) });
      }
    }
    await this.forward(req, body, res);
  }

  private forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const url = new URL(this.upstream);
    return new Promise((resolve, reject) => {
      const up = http.request({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        r.on('end', resolve);
        r.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  private readonly clients = new Map<string, EC2Client>();

  private ec2(region: string): EC2Client {
    if (!this.clients.has(region))
      this.clients.set(region, new EC2Client({ region, endpoint: this.upstream, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }));
    return this.clients.get(region)!;
  }

  /** Instance IDs among `ids` (all instances when undefined) that are running in moto. */
  private async running(region: string, ids?: string[]): Promise<string[]> {
    const r = await this.ec2(region)
      .send(new DescribeInstancesCommand({ ...(ids ? { InstanceIds: ids } : {}), Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }))
      .catch((e) => {
        if ((e as Error).name === 'InvalidInstanceID.NotFound') return { Reservations: [] };
        throw e;
      });
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.InstanceId!);
  }

  private async describeInstanceInformation(call: ProxiedCall, res: http.ServerResponse) {
    const filters: { Key?: string; key?: string; Values?: string[]; valueSet?: string[] }[] = [
      ...(call.input.Filters ?? []),
      ...(call.input.InstanceInformationFilterList ?? []),
    ];
    const wanted = filters.filter((f) => (f.Key ?? f.key) === 'InstanceIds').flatMap((f) => f.Values ?? f.valueSet ?? []);
    // DescribeInstances with an unknown ID fails as a whole: ask one by one.
    const ids = wanted.length > 0 ? (await Promise.all(wanted.map((id) => this.running(call.region, [id])))).flat() : await this.running(call.region);
    sendJson(res, {
      InstanceInformationList: ids.map((id) => ({
        InstanceId: id,
        PingStatus: 'Online',
        LastPingDateTime: Date.now() / 1000,
        AgentVersion: '3.3.1142.0',
        IsLatestVersion: true,
        PlatformType: 'Linux',
        PlatformName: 'Bottlerocket',
        ResourceType: 'EC2Instance',
      })),
    });
  }

  private async sendCommand(call: ProxiedCall, res: http.ServerResponse) {
    const { DocumentName, InstanceIds = [], Parameters = {}, Comment = '' } = call.input;
    if (DocumentName !== 'AWS-RunShellScript')
      return sendJsonError(res, 400, 'InvalidDocument', `ssm-agent-proxy plays only AWS-RunShellScript, not ${DocumentName}`);
    const running = await this.running(call.region, InstanceIds);
    const missing = (InstanceIds as string[]).filter((id) => !running.includes(id));
    if (missing.length > 0 || InstanceIds.length === 0)
      return sendJsonError(res, 400, 'InvalidInstanceId', `Instances [${missing.join(',')}] not in a valid state for account 123456789012`);
    const commands: string[] = Parameters.commands ?? [];
    const commandId = randomUUID();
    for (const instanceId of InstanceIds as string[]) {
      const r = this.runScript(instanceId, commands, commandId);
      this.invocations.set(`${commandId}/${instanceId}`, {
        commandId,
        instanceId,
        comment: Comment,
        commands,
        status: r.code === 0 ? 'Success' : 'Failed',
        exitCode: r.code,
        stdout: r.stdout,
        stderr: r.stderr,
        polls: 0,
      });
    }
    sendJson(res, {
      Command: {
        CommandId: commandId,
        DocumentName,
        Comment,
        InstanceIds,
        Parameters,
        Status: 'Pending',
        RequestedDateTime: Date.now() / 1000,
        TargetCount: InstanceIds.length,
      },
    });
  }

  private getCommandInvocation(call: ProxiedCall, res: http.ServerResponse) {
    const inv = this.invocations.get(`${call.input.CommandId}/${call.input.InstanceId}`);
    // Like SSM right after SendCommand: the invocation does not exist yet, then it is in progress.
    if (!inv || inv.polls === 0) {
      if (inv) inv.polls++;
      return sendJsonError(res, 400, 'InvocationDoesNotExist', 'An error occurred (InvocationDoesNotExist)');
    }
    const done = inv.polls++ >= 2;
    sendJson(res, {
      CommandId: inv.commandId,
      InstanceId: inv.instanceId,
      Comment: inv.comment,
      DocumentName: 'AWS-RunShellScript',
      PluginName: 'aws:runShellScript',
      Status: done ? inv.status : 'InProgress',
      StatusDetails: done ? inv.status : 'InProgress',
      ResponseCode: done ? inv.exitCode : -1,
      // Only the first 24,000 characters of stdout and 8,000 of stderr, as AWS documents (SSM API reference, GetCommandInvocation).
      StandardOutputContent: done ? inv.stdout.slice(0, 24_000) : '',
      StandardErrorContent: done ? inv.stderr.slice(0, 8_000) : '',
    });
  }

  /** AWS-RunShellScript: the commands joined into one script run by sh (bash on the control container). */
  runScript(instanceId: string, commands: string[], commandId: string = randomUUID()): { code: number; stdout: string; stderr: string } {
    this.ctrHost ??= new CtrHost(this, this.images, this.hosts, this.options.host);
    return this.ctrHost.run(commands, instanceId, commandId);
  }

  get otherContent(): Set<string> {
    return this.options.otherContent ?? new Set();
  }

  private ctrHost?: CtrHost;
}

/** What the registries serve, for the host model. */
export interface RegistryModel {
  readonly unpullable: Set<string>;
  readonly vanish: Set<string>;
  readonly otherContent: Set<string>;
}

/**
 * Bottlerocket hosts as Run Command sees them: the shell, `apiclient exec admin sheltie`, nsenter into the
 * host (bottlerocket-host.ts), and ctr against each instance's k8s.io image store. Shared by the SSM agent
 * proxy and the unit tier's fake AWS.
 */
export class CtrHost {
  constructor(
    private readonly registry: RegistryModel,
    private readonly stores = new Map<string, Map<string, StoredImage>>(),
    readonly hosts = new Map<string, BottlerocketHost>(),
    private readonly hostOptions?: HostOptions,
  ) {}

  /** The k8s.io image store of `instance`: name -> record. */
  store(instance = 'default'): Map<string, StoredImage> {
    if (!this.stores.has(instance)) this.stores.set(instance, new Map());
    return this.stores.get(instance)!;
  }

  run(commands: string[], instance = 'default', commandId: string = randomUUID()): Result {
    const store = this.store(instance);
    if (!this.hosts.has(instance)) this.hosts.set(instance, new BottlerocketHost(instance, this.hostOptions));
    const host = this.hosts.get(instance)!;
    host.beforeRunCommand(commandId, commands);
    const script = commands.join('\n');
    // `vanish`: gone once it was pulled and tagged, before a script that only looks (the verification).
    if (!/ images (pull|tag) /.test(script)) for (const ref of this.registry.vanish) store.delete(ref);
    return new MiniShell((argv, stdin) => this.command(store, argv, stdin, host)).run(script);
  }

  private command(store: Map<string, StoredImage>, argv: string[], stdin: string, host: BottlerocketHost): Result {
    const [cmd, ...args] = argv;
    if (cmd === 'nsenter') {
      // nsenter -t 1 -a <command...>: the command in the host's namespaces (how sheltie enters them).
      if (args[0] !== '-t' || args[1] !== '1' || args[2] !== '-a' || args.length < 4)
        return fail(`nsenter: ssm-agent-proxy models only "nsenter -t 1 -a <command...>", got: ${argv.join(' ')}`, 2);
      // Content is stored once per digest, whatever the number of names pointing at it.
      const imageBytes = new Set([...store.values()].map((i) => i.digest)).size * IMAGE_BYTES;
      return host.run(args.slice(3), imageBytes) ?? runUtility(args.slice(3), stdin);
    }
    if (cmd === 'ctr' && args.includes('pull')) host.events.push(`ctr pull ${args.at(-1)}`);
    if (cmd === 'apiclient') {
      // apiclient exec <container> <command...>: runs the command in that host container.
      if (args[0] !== 'exec' || args.length < 3)
        return fail(`apiclient: ssm-agent-proxy models only "apiclient exec <container> <command...>", got: ${argv.join(' ')}`, 2);
      return this.command(store, args.slice(2), stdin, host);
    }
    if (cmd === 'sheltie')
      return args.length === 0 ? fail('sheltie: the proxy does not model an interactive root shell', 2) : this.command(store, args, stdin, host);
    if (cmd === 'ctr') return runCtr(store, args, this.registry);
    return runUtility(argv, stdin);
  }
}

// ---------------------------------------------------------------------------------------------------
// ctr, as containerd 2.1 parses it.
//
// Sources (containerd v2.1, urfave/cli v2):
// - cmd/ctr/app/main.go: global flags --debug, --address/-a, --timeout, --connect-timeout, --namespace/-n.
// - cmd/ctr/commands/images/images.go: `images` (aliases image, i); `list` (alias ls) with the single
//   flag --quiet/-q; every positional is a filter, passed to the image store's List, which parses it with
//   pkg/filters (parser.go: "expected field or quoted" for a token that starts neither a field nor a quote).
// - cmd/ctr/commands/images/pull.go: `pull [flags] <ref>` with commands.RegistryFlags (--skip-verify/-k,
//   --plain-http, --user/-u, --refresh, --hosts-dir, --tlscacert, --tlscert, --tlskey, --http-dump,
//   --http-trace), commands.SnapshotterFlags (--snapshotter), commands.LabelFlag (--label), --platform
//   (string slice), --all-platforms, --all-metadata, --skip-metadata, --print-chainid,
//   --max-concurrent-downloads (int), --local, --sync-fs. The ref is Args().First(); further positionals
//   are ignored. Without --local, max-concurrent-downloads, print-chainid, skip-verify, tlscacert, tlscert
//   and tlskey fail with `"--<flag>" requires "--local" flag`; --platform with --all-platforms fails.
// - urfave/cli v2 parses each command's flags with Go's flag package: flags are read only until the first
//   positional argument (or "--"); everything after it is a positional. (v1 reordered arguments; v2 does not.)
// - containerd's reference parser needs a hostname in the reference: ctr never expands short names such as
//   nginx:1.27 (ErrHostnameRequired / an invalid-port URL error), unlike kubelet's docker.io normalisation.
// ---------------------------------------------------------------------------------------------------

/** What one image takes on the data volume in the model (the size `ctr images ls` shows). */
const IMAGE_BYTES = Math.round(67.7 * 2 ** 20);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
const ok = (stdout = ''): Result => ({ code: 0, stdout, stderr: '' });
const fail = (stderr: string, code = 1): Result => ({ code, stdout: '', stderr: stderr.endsWith('\n') ? stderr : `${stderr}\n` });

function runCtr(store: Map<string, StoredImage>, args: string[], registry: RegistryModel): Result {
  const global = parseFlags(args, GLOBAL_FLAGS);
  if (global.error) return fail(`Incorrect Usage: ${global.error}\n\nctr: ${global.error}`);
  const namespace = global.flags.namespace?.at(-1) ?? 'default';
  const [group, ...rest] = global.positionals;
  const sub = rest.shift();
  if (!group) return ok('NAME:\n   ctr - containerd CLI\n');
  if (!['images', 'image', 'i'].includes(group)) return fail(`ssm-agent-proxy: ctr ${group} is not modelled`, 2);
  if (namespace !== 'k8s.io') {
    // Images pulled into another namespace are invisible to kubelet; the model keeps only k8s.io.
    if (sub === 'ls' || sub === 'list') return ok('');
    return fail(`ssm-agent-proxy: the model holds only the k8s.io namespace, not ${namespace}`, 2);
  }
  if (sub === 'ls' || sub === 'list') return ctrImagesList(store, rest);
  if (sub === 'pull') return ctrImagesPull(store, rest, registry);
  if (sub === 'tag') return ctrImagesTag(store, rest);
  if (sub === undefined) return ok('NAME:\n   ctr images - Manage images\n');
  if (
    ['check', 'export', 'import', 'mount', 'unmount', 'push', 'prune', 'delete', 'del', 'remove', 'rm', 'label', 'convert', 'usage', 'inspect'].includes(sub)
  ) {
    return fail(`ssm-agent-proxy: ctr images ${sub} is not modelled`, 2);
  }
  return fail(`No help topic for '${sub}'`, 3);
}

function ctrImagesList(store: Map<string, StoredImage>, args: string[]): Result {
  const p = parseFlags(args, LIST_FLAGS);
  if (p.error) return fail(`Incorrect Usage: ${p.error}\n\nctr: ${p.error}`);
  const filters: Filter[] = [];
  for (const text of p.positionals) {
    const f = parseFilter(text);
    if (typeof f === 'string') return fail(`ctr: failed to list images: ${f}: invalid argument`);
    filters.push(f);
  }
  const images = [...store.values()].filter((img) => filters.length === 0 || filters.some((f) => f(img))).sort((a, b) => a.name.localeCompare(b.name));
  if (p.flags.quiet?.at(-1) === 'true') return ok(images.map((i) => `${i.name}\n`).join(''));
  const rows = [
    ['REF', 'TYPE', 'DIGEST', 'SIZE', 'PLATFORMS', 'LABELS'],
    ...images.map((i) => [
      i.name,
      'application/vnd.oci.image.index.v1+json',
      i.digest,
      '67.7 MiB',
      i.platforms.join(','),
      Object.entries(i.labels)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',') || '-',
    ]),
  ];
  // text/tabwriter with minwidth 1, padding 1, padchar ' ' (images.go).
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)) + 1);
  return ok(rows.map((r) => `${r.map((cell, c) => cell.padEnd(widths[c])).join('')}\n`).join(''));
}

function ctrImagesPull(store: Map<string, StoredImage>, args: string[], registry: RegistryModel): Result {
  const p = parseFlags(args, PULL_FLAGS);
  if (p.error) return fail(`Incorrect Usage: ${p.error}\n\nctr: ${p.error}`);
  const ref = p.positionals[0] ?? '';
  if (!ref) return fail('ctr: please provide an image reference to pull');
  if (p.flags.local?.at(-1) !== 'true') {
    for (const s of ['max-concurrent-downloads', 'print-chainid', 'skip-verify', 'tlscacert', 'tlscert', 'tlskey']) {
      if (p.flags[s]) return fail(`ctr: "--${s}" requires "--local" flag`);
    }
  }
  const platforms = p.flags.platform ?? [];
  if (platforms.length > 0 && p.flags['all-platforms']?.at(-1) === 'true') return fail('ctr: cannot specify both --platform and --all-platforms');
  for (const pl of platforms) {
    if (!/^(linux|windows|darwin)(\/(amd64|arm64|arm|386|ppc64le|s390x|riscv64)(\/v\d)?)?$/.test(pl))
      return fail(`ctr: "${pl}": unknown operating system or architecture: invalid argument`);
  }
  const first = ref.split('/')[0];
  if (!ref.includes('/')) {
    // "nginx:1.27" parses as host "nginx" with port "1.27"; "nginx" has no path at all.
    return fail(
      ref.includes(':')
        ? `ctr: failed to resolve reference "${ref}": parse "dummy://${ref}": invalid port "${ref.slice(ref.indexOf(':'))}" after host`
        : `ctr: failed to resolve reference "${ref}": hostname required`,
    );
  }
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') {
    return fail(
      `ctr: failed to resolve reference "${ref}": failed to do request: Head "https://${first}/v2/${ref.slice(first.length + 1).replace(/[:@].*$/, '')}/manifests/latest": dial tcp: lookup ${first}: no such host`,
    );
  }
  if (/\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/.test(first) && !p.flags.user) {
    return fail(
      `ctr: failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`,
    );
  }
  if (registry.unpullable.has(ref)) return fail(`ctr: failed to resolve reference "${ref}": ${ref}: not found`);
  const digest = contentDigest(ref, registry.otherContent.has(ref));
  const labels = Object.fromEntries(
    (p.flags.label ?? []).map((l) => {
      const i = l.indexOf('=');
      return i < 0 ? [l, 'true'] : [l.slice(0, i), l.slice(i + 1)];
    }),
  );
  store.set(ref, { name: ref, digest, labels, platforms: platforms.length > 0 ? platforms : ['linux/amd64'] });
  return ok(pullProgress(ref, digest));
}

/**
 * What containerd 2.x's ctr prints on stdout while it pulls through the transfer service: the whole progress
 * table again at every progress event (cmd/ctr/commands/images/pull.go ProgressHandler, DisplayHierarchy then
 * Flush). Modelled as 4 layers, each reporting 20 times: about 40,000 characters for any image, more than the
 * 24,000 GetCommandInvocation returns.
 */
function pullProgress(ref: string, digest: string): string {
  const layers = [1, 2, 3, 4].map((n) => `layer-sha256:${createHash('sha256').update(`${ref}#${n}`).digest('hex')}`);
  const table = (event: number) =>
    [
      `${ref.slice(0, 40).padEnd(40)}\tresolved   \t|++++++++++++++++++++++++++++++++++++++|\t`,
      `└──index-${digest.slice(7, 19)}\tcomplete   \t|++++++++++++++++++++++++++++++++++++++|\t`,
      ...layers.map(
        (l, i) =>
          `   ├──${l.slice(13, 25)}\tdownloading\t|${'+'.repeat(Math.min(38, event + i))}${'-'.repeat(38 - Math.min(38, event + i))}|\t${event} MiB/20 MiB\t`,
      ),
      `application/vnd.oci.image.index.v1+json ${digest}`,
      `downloading\telapsed: ${(event * 0.1).toFixed(1)}s\ttotal: ${event * 4} MiB\t(40 MiB/s)\t`,
    ].join('\n');
  return `${Array.from({ length: 80 }, (_, e) => table(e)).join('\n')}\n`;
}

/**
 * What a registry serves for a reference: the digest written in it, else one derived from the repository
 * path and tag without the registry host, so an ECR replica in another region (or an EKS add-on registry of
 * another account) serves the same content as the original; `other` models a stale replica.
 */
export function contentDigest(ref: string, other = false): string {
  const at = ref.indexOf('@');
  // A registry serving other content for a pinned reference (the builder must refuse what it reports).
  if (at >= 0) return other ? `sha256:${'e'.repeat(64)}` : ref.slice(at + 1);
  const path = ref.slice(ref.indexOf('/') + 1);
  return `sha256:${createHash('sha256')
    .update(`${other ? 'other:' : ''}${path}`)
    .digest('hex')}`;
}

/** `ctr images tag [--force] [--local] <source> <target>...` as containerd 2.x runs it (tag.go, v2.2.2). */
function ctrImagesTag(store: Map<string, StoredImage>, args: string[]): Result {
  const p = parseFlags(args, TAG_FLAGS);
  if (p.error) return fail(`Incorrect Usage: ${p.error}\n\nctr: ${p.error}`);
  const [source, ...targets] = p.positionals;
  if (!source) return fail('ctr: please provide an image reference to tag from');
  if (targets.length === 0) return fail('ctr: please provide an image reference to tag to');
  const image = store.get(source);
  if (!image) return fail(`ctr: image "${source}": not found`);
  const local = p.flags.local?.at(-1) === 'true';
  let stdout = '';
  for (const target of targets) {
    if (store.has(target) && p.flags.force?.at(-1) !== 'true') return { code: 1, stdout, stderr: `ctr: image "${target}": already exists\n` };
    // Through the transfer service the new record carries none of the source's labels.
    store.set(target, { ...image, name: target, labels: local ? { ...image.labels } : {} });
    stdout += `${target}\n`;
  }
  return ok(stdout);
}

// ---------------------------------------------------------------------------------------------------
// The few utilities the builder's scripts use; anything else is "command not found" (status 127), so a
// script that relies on something unmodelled fails loudly instead of passing.
// ---------------------------------------------------------------------------------------------------

function runUtility(argv: string[], stdin: string): Result {
  const [cmd, ...args] = argv;
  const lines = stdin.split('\n');
  if (stdin.endsWith('\n')) lines.pop();
  switch (cmd) {
    case 'true':
      return ok();
    case 'false':
      return { code: 1, stdout: '', stderr: '' };
    case 'echo': {
      const n = args[0] === '-n';
      return ok(`${(n ? args.slice(1) : args).join(' ')}${n ? '' : '\n'}`);
    }
    case 'cat':
      return args.length === 0 ? ok(stdin) : fail(`cat: ${args[0]}: No such file or directory`);
    case 'head':
    case 'tail': {
      const m = /^-n?(\d+)$/.exec(args[0] ?? '') ?? (args[0] === '-n' ? [args[1], args[1]] : null);
      const n = m ? Number(m[1]) : 10;
      const pick = cmd === 'head' ? lines.slice(0, n) : lines.slice(-n);
      return ok(pick.map((l) => `${l}\n`).join(''));
    }
    case 'wc':
      return args[0] === '-l' ? ok(`${lines.length}\n`) : fail('wc: only -l is modelled', 2);
    case 'grep': {
      const opts = new Set<string>();
      const rest = [...args];
      while (rest[0]?.startsWith('-') && rest[0] !== '-') for (const o of rest.shift()!.slice(1)) opts.add(o);
      const pattern = rest.at(0);
      if (pattern === undefined) return fail('grep: no pattern', 2);
      const test = (l: string) => {
        const a = opts.has('i') ? l.toLowerCase() : l;
        const p = opts.has('i') ? pattern.toLowerCase() : pattern;
        const hit = opts.has('F') ? (opts.has('x') ? a === p : a.includes(p)) : new RegExp(opts.has('x') ? `^(?:${p})$` : p).test(a);
        return opts.has('v') ? !hit : hit;
      };
      const hits = lines.filter(test);
      if (opts.has('q')) return { code: hits.length > 0 ? 0 : 1, stdout: '', stderr: '' };
      if (opts.has('c')) return { code: hits.length > 0 ? 0 : 1, stdout: `${hits.length}\n`, stderr: '' };
      return { code: hits.length > 0 ? 0 : 1, stdout: hits.map((l) => `${l}\n`).join(''), stderr: '' };
    }
    case 'awk': {
      // Only programs of the form [NR==N] {print $K[, $L...]}.
      const m = /^\s*(?:NR\s*==\s*(\d+)\s*)?\{\s*print\s+((?:\$\d+\s*,?\s*)+)\}\s*$/.exec(args[0] ?? '');
      if (!m || args.length > 1) return fail(`awk: ssm-agent-proxy models only '[NR==N] {print $K}', got: ${args.join(' ')}`, 2);
      const cols = m[2]
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((c) => Number(c.slice(1)));
      const out = lines
        .map((l, i) => ({ l, nr: i + 1 }))
        .filter(({ nr }) => !m[1] || nr === Number(m[1]))
        .map(({ l }) => {
          const f = l.trim().split(/\s+/);
          return cols.map((c) => (c === 0 ? l : (f[c - 1] ?? ''))).join(' ');
        });
      return ok(out.map((l) => `${l}\n`).join(''));
    }
    default:
      return { code: 127, stdout: '', stderr: `sh: line 1: ${cmd}: command not found\n` };
  }
}

// ---------------------------------------------------------------------------------------------------
// A tiny POSIX-ish shell: lines; && and || lists; | pipelines; ';'; single and double quotes; $(...)
// substitution and $name / ${name} (also inside double quotes); NAME=value assignments (their status is
// the last substitution's, so `x="$(failing)"` exits under set -e); test / [ with -n, -z, =, !=;
// >/dev/null, 2>/dev/null, 2>&1, >&2; `set -e/-u/-o pipefail` with bash's errexit rules (a failure left of
// && or || does not exit; the script's status is the last command's).
// ---------------------------------------------------------------------------------------------------

type Part = { lit: string } | { sub: string } | { variable: string };
interface Word {
  parts: Part[];
}
interface SimpleCommand {
  words: Word[];
  redirects: string[];
}
interface Pipeline {
  commands: SimpleCommand[];
  negate: boolean;
}
interface AndOr {
  pipelines: Pipeline[];
  ops: ('&&' | '||')[];
}

export class MiniShell {
  private errexit = false;
  private nounset = false;
  private pipefail = false;
  private vars = new Map<string, string>();
  private lastSubstitution = 0;

  constructor(private readonly exec: (argv: string[], stdin: string) => Result) {}

  run(script: string): Result {
    let stdout = '';
    let stderr = '';
    let code = 0;
    let lists: AndOr[];
    try {
      lists = parseScript(script);
    } catch (e) {
      return { code: 2, stdout: '', stderr: `sh: syntax error: ${(e as Error).message}\n` };
    }
    for (const list of lists) {
      const r = this.runList(list);
      stdout += r.stdout;
      stderr += r.stderr;
      code = r.code;
      if (r.exit) break;
    }
    return { code, stdout, stderr };
  }

  private runList(list: AndOr): Result & { exit: boolean } {
    let stdout = '';
    let stderr = '';
    let code = 0;
    let last = -1;
    for (let i = 0; i < list.pipelines.length; i++) {
      if (i > 0 && ((list.ops[i - 1] === '&&' && code !== 0) || (list.ops[i - 1] === '||' && code === 0))) continue;
      const r = this.runPipeline(list.pipelines[i]);
      stdout += r.stdout;
      stderr += r.stderr;
      code = r.code;
      last = i;
      if (r.exit) return { code, stdout, stderr, exit: true };
    }
    const exit = this.errexit && code !== 0 && last === list.pipelines.length - 1 && !list.pipelines[last].negate;
    return { code, stdout, stderr, exit };
  }

  private runPipeline(p: Pipeline): Result & { exit: boolean } {
    let stdin = '';
    let stderr = '';
    const codes: number[] = [];
    let stdout = '';
    for (const [i, c] of p.commands.entries()) {
      this.lastSubstitution = 0;
      let argv: string[];
      try {
        argv = c.words.map((w) => w.parts.map((part) => this.expand(part)).join(''));
      } catch (e) {
        return { code: 1, stdout, stderr: `${stderr}sh: line 1: ${(e as Error).message}\n`, exit: true };
      }
      stderr += this.pendingStderr;
      this.pendingStderr = '';
      const assignment = /^[A-Za-z_][A-Za-z0-9_]*=/;
      if (c.words.length > 0 && c.words.every((w, k) => assignment.test(argv[k]) && 'lit' in w.parts[0] && assignment.test(w.parts[0].lit))) {
        for (const a of argv) this.vars.set(a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1));
        codes.push(this.lastSubstitution);
        stdin = '';
        continue;
      }
      if (argv[0] === 'test' || argv[0] === '[') {
        const t = argv[0] === '[' ? (argv.at(-1) === ']' ? argv.slice(1, -1) : undefined) : argv.slice(1);
        const result =
          t === undefined
            ? 2
            : t.length === 2 && t[0] === '-n'
              ? t[1]
                ? 0
                : 1
              : t.length === 2 && t[0] === '-z'
                ? t[1]
                  ? 1
                  : 0
                : t.length === 3 && t[1] === '='
                  ? t[0] === t[2]
                    ? 0
                    : 1
                  : t.length === 3 && t[1] === '!='
                    ? t[0] !== t[2]
                      ? 0
                      : 1
                    : t.length === 1
                      ? t[0]
                        ? 0
                        : 1
                      : 2;
        if (result === 2) stderr += `sh: test: ssm-agent-proxy models only -n, -z, = and !=: ${argv.join(' ')}\n`;
        codes.push(result);
        stdin = '';
        continue;
      }
      if (argv[0] === 'set') {
        this.set(argv.slice(1));
        codes.push(0);
        stdin = '';
        continue;
      }
      stderr += this.pendingStderr;
      this.pendingStderr = '';
      let r = this.exec(argv, stdin);
      for (const redirect of c.redirects) {
        if (redirect === '>/dev/null' || redirect === '1>/dev/null') r = { ...r, stdout: '' };
        else if (redirect === '2>/dev/null') r = { ...r, stderr: '' };
        else if (redirect === '2>&1') r = { ...r, stdout: r.stdout + r.stderr, stderr: '' };
        else if (redirect === '>&2' || redirect === '1>&2') r = { ...r, stderr: r.stderr + r.stdout, stdout: '' };
      }
      stderr += r.stderr;
      codes.push(r.code);
      if (i === p.commands.length - 1) stdout = r.stdout;
      else stdin = r.stdout;
    }
    let code = codes[codes.length - 1];
    if (this.pipefail) code = [...codes].reverse().find((x) => x !== 0) ?? 0;
    if (p.negate) code = code === 0 ? 1 : 0;
    return { code, stdout, stderr, exit: false };
  }

  private set(args: string[]) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-o' || a === '+o') {
        if (args[i + 1] === 'pipefail') this.pipefail = a === '-o';
        if (args[i + 1] === 'errexit') this.errexit = a === '-o';
        if (args[i + 1] === 'nounset') this.nounset = a === '-o';
        i++;
      } else if (/^[-+][euxo]+$/.test(a)) {
        const on = a[0] === '-';
        if (a.includes('e')) this.errexit = on;
        if (a.includes('u')) this.nounset = on;
        if (a.includes('o') && args[i + 1] === 'pipefail') {
          this.pipefail = on;
          i++;
        }
      }
    }
  }

  private expand(part: Part): string {
    if ('lit' in part) return part.lit;
    if ('variable' in part) {
      const v = this.vars.get(part.variable);
      if (v === undefined && this.nounset) throw new Error(`${part.variable}: unbound variable`);
      return v ?? '';
    }
    // $(...): a subshell with the same options and variables; trailing newlines removed.
    const sub = new MiniShell(this.exec);
    sub.errexit = this.errexit;
    sub.nounset = this.nounset;
    sub.pipefail = this.pipefail;
    sub.vars = new Map(this.vars);
    const r = sub.run(part.sub);
    this.lastSubstitution = r.code;
    this.pendingStderr += r.stderr;
    return r.stdout.replace(/\n+$/, '');
  }

  private pendingStderr = '';
}

function parseScript(script: string): AndOr[] {
  const tokens = tokenize(script);
  const lists: AndOr[] = [];
  let list: AndOr = { pipelines: [], ops: [] };
  let pipeline: Pipeline = { commands: [], negate: false };
  let command: SimpleCommand = { words: [], redirects: [] };
  const endCommand = () => {
    if (command.words.length === 0) {
      if (command.redirects.length > 0) throw new Error('redirect without a command');
      return false;
    }
    pipeline.commands.push(command);
    command = { words: [], redirects: [] };
    return true;
  };
  const endPipeline = () => {
    if (!endCommand() && pipeline.commands.length === 0) return false;
    list.pipelines.push(pipeline);
    pipeline = { commands: [], negate: false };
    return true;
  };
  const endList = () => {
    const had = endPipeline();
    if (!had && list.ops.length > list.pipelines.length - 1 && list.ops.length > 0) throw new Error('unexpected end after && or ||');
    if (list.pipelines.length > 0) lists.push(list);
    list = { pipelines: [], ops: [] };
  };
  for (const t of tokens) {
    if ('op' in t) {
      if (t.op === '\n' || t.op === ';') endList();
      else if (t.op === '|') {
        if (!endCommand()) throw new Error('unexpected |');
      } else if (t.op === '&&' || t.op === '||') {
        if (!endPipeline()) throw new Error(`unexpected ${t.op}`);
        list.ops.push(t.op);
      } else if (t.op === '!') pipeline.negate = !pipeline.negate;
      else command.redirects.push(t.op);
    } else command.words.push(t);
  }
  endList();
  return lists;
}

type Token = Word | { op: string };

function variableAt(s: string, i: number): [string, number] | undefined {
  const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(s.slice(i));
  return m ? [m[1] || m[2], i + m[0].length] : undefined;
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let word: Word | undefined;
  const lit = (c: string) => {
    word ??= { parts: [] };
    const last = word.parts.at(-1);
    if (last && 'lit' in last) last.lit += c;
    else word.parts.push({ lit: c });
  };
  const flush = () => {
    if (word) out.push(word);
    word = undefined;
  };
  /** From the index after "$(" to the matching ")", honouring quotes and nesting. */
  const substitution = (start: number): [string, number] => {
    let depth = 1;
    let j = start;
    while (j < s.length) {
      const c = s[j];
      if (c === "'") {
        j = s.indexOf("'", j + 1);
        if (j < 0) throw new Error('unterminated quote');
      } else if (c === '"') {
        j++;
        while (j < s.length && s[j] !== '"') {
          if (s[j] === '\\') j++;
          j++;
        }
      } else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return [s.slice(start, j), j + 1];
      j++;
    }
    throw new Error('unterminated $(');
  };
  while (i < s.length) {
    const c = s[i];
    const rest = s.slice(i);
    if (c === ' ' || c === '\t') {
      flush();
      i++;
      continue;
    }
    if (c === '#' && !word) {
      while (i < s.length && s[i] !== '\n') i++;
      continue;
    }
    if (c === '\\' && s[i + 1] === '\n') {
      i += 2;
      continue;
    }
    const redirect = /^(2>&1|1?>&2|[12]?>\/dev\/null)/.exec(rest);
    if (redirect && !word) {
      flush();
      out.push({ op: redirect[1] });
      i += redirect[1].length;
      continue;
    }
    const op = /^(&&|\|\||[|;\n])/.exec(rest);
    if (op) {
      flush();
      out.push({ op: op[1] });
      i += op[1].length;
      continue;
    }
    if (c === '!' && !word && /^!\s/.test(rest)) {
      out.push({ op: '!' });
      i += 1;
      continue;
    }
    if (/^[<>&()]/.test(c)) throw new Error(`"${c}" is not modelled by the ssm-agent-proxy shell`);
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated quote');
      lit(s.slice(i + 1, end));
      word ??= { parts: [] };
      i = end + 1;
      continue;
    }
    if (c === '"') {
      word ??= { parts: [] };
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && '"\\$`'.includes(s[i + 1])) {
          lit(s[i + 1]);
          i += 2;
        } else if (s.startsWith('$(', i)) {
          const [sub, next] = substitution(i + 2);
          word.parts.push({ sub });
          i = next;
        } else if (variableAt(s, i)) {
          const [name, next] = variableAt(s, i)!;
          word.parts.push({ variable: name });
          i = next;
        } else if (s[i] === '$' || s[i] === '`') throw new Error('only $(...), $name and ${name} expansions are modelled');
        else {
          lit(s[i]);
          i++;
        }
      }
      if (i >= s.length) throw new Error('unterminated quote');
      i++;
      continue;
    }
    if (s.startsWith('$(', i)) {
      word ??= { parts: [] };
      const [sub, next] = substitution(i + 2);
      word.parts.push({ sub });
      i = next;
      continue;
    }
    if (variableAt(s, i)) {
      word ??= { parts: [] };
      const [name, next] = variableAt(s, i)!;
      word.parts.push({ variable: name });
      i = next;
      continue;
    }
    if (c === '$' || c === '`') throw new Error('only $(...), $name and ${name} expansions are modelled');
    if (c === '\\') {
      lit(s[i + 1] ?? '');
      i += 2;
      continue;
    }
    lit(c);
    i++;
  }
  flush();
  return out;
}

/** A public parameter as SSM answers it (AWS-owned: no account in its ARN). */
function publicParameter(name: string, value: string, region: string) {
  return {
    Name: name,
    Type: 'String',
    Value: value,
    Version: 1,
    DataType: name.endsWith('/image_id') ? 'aws:ec2:image' : 'text',
    ARN: `arn:aws:ssm:${region}::parameter${name}`,
  };
}

function sendJson(res: http.ServerResponse, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
  res.end(text);
}

function sendJsonError(res: http.ServerResponse, status: number, code: string, message: string) {
  const text = JSON.stringify({ __type: code, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': code,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function sendXmlError(res: http.ServerResponse, status: number, code: string, message: string) {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
