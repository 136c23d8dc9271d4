/**
 * The part of a Bottlerocket host the image-cache builder's scripts touch besides containerd, for the SSM
 * agent proxy (ssm-agent-proxy.ts): the files of the data volume that belong to the builder, a few systemd
 * units, and the utilities the scripts call through `nsenter -t 1 -a`. Every rule is from the source it names:
 *
 * - The SSM agent keeps each Run Command's script under its state dir, which the control container links to
 *   /local/host-containers/control/ssm (bottlerocket-control-container Dockerfile c41140f5); the layout below
 *   <instance>/document/orchestration/<command-id>/ is the agent's (not checked here: only "the script is in
 *   a file under the state dir" matters to the model).
 * - The admin container's persistent storage: /local/host-containers/admin (core-kit host-ctr main.go
 *   a10182f9), with its SSH host keys in etc/ssh (bottlerocket-admin-container start_admin.sh 15548606).
 * - /var/lib/systemd/random-seed and a persistent journal in /var/log/journal (core-kit packages/systemd,
 *   a10182f9). systemd-random-seed.service saves a seed when it is stopped (systemd's unit: ExecStop=
 *   systemd-random-seed save); journald writes to /var/log/journal until `journalctl --relinquish-var`.
 * - /local's use (`df -B1 --output=used,size`): a base plus what containerd holds; GNU df prints a header line.
 *
 * Anything else a script asks the host for is "command not found" or a usage error, so a script relying on
 * something unmodelled fails instead of passing.
 */
export interface HostResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostOptions {
  /** `uname -r`. @default 6.1.170 (a 6.1-line Bottlerocket kernel) */
  readonly kernelRelease?: string;
  /** Total bytes of /local. @default 50 GiB */
  readonly dataVolumeBytes?: number;
}

const ok = (stdout = ''): HostResult => ({ code: 0, stdout, stderr: '' });
const fail = (stderr: string, code = 1): HostResult => ({ code, stdout: '', stderr: stderr.endsWith('\n') ? stderr : `${stderr}\n` });

export const SSM_STATE = '/local/host-containers/control/ssm';
export const ADMIN_STATE = '/local/host-containers/admin';
export const RANDOM_SEED = '/var/lib/systemd/random-seed';
export const JOURNAL = '/var/log/journal';

export class BottlerocketHost {
  /** Path -> file content; directories are the entries with `null`. */
  readonly files = new Map<string, string | null>();
  readonly units = new Map<string, 'active' | 'inactive'>([
    ['kubelet.service', 'active'],
    ['systemd-random-seed.service', 'active'],
  ]);
  /** What the scripts did, in order: "systemctl stop kubelet.service", "ctr pull <ref>", ... */
  readonly events: string[] = [];
  private journalOnVar = true;

  constructor(
    readonly instanceId: string,
    private readonly options: HostOptions = {},
  ) {
    for (const d of [
      '/local',
      '/var/lib/systemd',
      JOURNAL,
      `${JOURNAL}/ec2machineid`,
      '/local/host-containers',
      ADMIN_STATE,
      `${ADMIN_STATE}/etc/ssh`,
      SSM_STATE,
    ])
      this.files.set(d, null);
    this.files.set(RANDOM_SEED, 'seed-of-the-builder');
    this.files.set(`${ADMIN_STATE}/etc/ssh/ssh_host_ed25519_key`, 'builder host key');
    this.files.set(`${ADMIN_STATE}/user-data`, '{}');
    this.files.set(`${JOURNAL}/ec2machineid/system.journal`, 'boot\n');
  }

  /** The agent stores the script before it runs it; journald logs the run while it writes to /var. */
  beforeRunCommand(commandId: string, commands: readonly string[]): void {
    const dir = `${SSM_STATE}/${this.instanceId}/document/orchestration/${commandId}/awsrunShellScript/0.awsrunShellScript`;
    this.mkdirs(dir);
    this.files.set(`${dir}/_script.sh`, commands.join('\n'));
    if (this.journalOnVar) this.append(`${JOURNAL}/ec2machineid/system.journal`, `amazon-ssm-agent: running ${commandId}\n`);
  }

  /** Bytes /local holds given what containerd stores. */
  used(imageBytes: number): number {
    return 100_000_000 + imageBytes;
  }

  /** Runs one host command (argv after `nsenter -t 1 -a`); undefined when it is not a host utility modelled here. */
  run(argv: string[], imageBytes: number): HostResult | undefined {
    const [cmd, ...args] = argv;
    switch (cmd) {
      case 'systemctl': {
        if (args[0] !== 'stop' || args.length !== 2) return fail(`systemctl: the model knows only "systemctl stop <unit>", got: ${args.join(' ')}`, 2);
        const unit = args[1];
        if (!this.units.has(unit)) return fail(`Failed to stop ${unit}: Unit ${unit} not loaded.`, 5);
        if (unit === 'systemd-random-seed.service' && this.units.get(unit) === 'active') this.files.set(RANDOM_SEED, 'seed saved on stop');
        this.units.set(unit, 'inactive');
        this.events.push(`systemctl stop ${unit}`);
        return ok();
      }
      case 'journalctl':
        if (args.join(' ') !== '--relinquish-var') return fail(`journalctl: the model knows only --relinquish-var, got: ${args.join(' ')}`, 2);
        this.journalOnVar = false;
        return ok();
      case 'uname':
        return args.join(' ') === '-r' ? ok(`${this.options.kernelRelease ?? '6.1.170'}\n`) : fail(`uname: the model knows only -r`, 2);
      case 'df': {
        if (args.join(' ') !== '-B1 --output=used,size /local')
          return fail(`df: the model knows only "df -B1 --output=used,size /local", got: ${args.join(' ')}`, 2);
        const size = this.options.dataVolumeBytes ?? 50 * 2 ** 30;
        return ok(`         Used   1B-blocks\n${String(this.used(imageBytes)).padStart(13)} ${String(size).padStart(11)}\n`);
      }
      case 'rm': {
        if (args[0] !== '-f' || args.length !== 2) return fail(`rm: the model knows only "rm -f <file>", got: ${args.join(' ')}`, 2);
        if (this.files.get(args[1]) === null) return fail(`rm: cannot remove '${args[1]}': Is a directory`);
        this.files.delete(args[1]);
        return ok();
      }
      case 'find':
        return this.find(args);
      case 'test':
        if (args.length === 3 && args[0] === '!' && args[1] === '-e') return { code: this.files.has(args[2]) ? 1 : 0, stdout: '', stderr: '' };
        if (args.length === 2 && args[0] === '-e') return { code: this.files.has(args[1]) ? 0 : 1, stdout: '', stderr: '' };
        return fail(`test: the model knows only [!] -e <path>, got: ${args.join(' ')}`, 2);
      case 'grep':
        return args[0]?.startsWith('-') && args[0].includes('r') ? this.grepRecursive(args) : undefined;
      default:
        return undefined;
    }
  }

  /** find <dir...> -mindepth 1 [-delete]: descendants in sorted order; -delete removes them. */
  private find(args: string[]): HostResult {
    const i = args.indexOf('-mindepth');
    if (i < 1 || args[i + 1] !== '1' || !args.slice(i + 2).every((a) => a === '-delete'))
      return fail(`find: the model knows only "find <dir>... -mindepth 1 [-delete]", got: ${args.join(' ')}`, 2);
    const del = args.includes('-delete');
    let stdout = '';
    let stderr = '';
    let code = 0;
    for (const dir of args.slice(0, i)) {
      if (this.files.get(dir) !== null) {
        stderr += `find: '${dir}': No such file or directory\n`;
        code = 1;
        continue;
      }
      const below = [...this.files.keys()].filter((p) => p.startsWith(`${dir}/`)).sort();
      if (del) for (const p of below) this.files.delete(p);
      else stdout += below.map((p) => `${p}\n`).join('');
    }
    return { code, stdout, stderr };
  }

  /** grep -r[l][s][q] <fixed pattern with [ ] classes> <dir>: files below dir whose content matches. */
  private grepRecursive(args: string[]): HostResult {
    const [flags, pattern, dir, ...rest] = args;
    if (!/^-[rlsq]+$/.test(flags) || !pattern || !dir || rest.length > 0)
      return fail(`grep: the model knows only "grep -r[lsq] <pattern> <dir>", got: ${args.join(' ')}`, 2);
    const re = new RegExp(pattern);
    const hits = [...this.files.entries()].filter(([p, c]) => c !== null && p.startsWith(`${dir}/`) && re.test(c)).map(([p]) => p);
    if (this.files.get(dir) !== null && !flags.includes('s')) return fail(`grep: ${dir}: No such file or directory`, 2);
    if (flags.includes('q')) return { code: hits.length > 0 ? 0 : 1, stdout: '', stderr: '' };
    return {
      code: hits.length > 0 ? 0 : 1,
      stdout: (flags.includes('l') ? hits : hits.map((h) => `${h}:${this.files.get(h)}`)).map((l) => `${l}\n`).join(''),
      stderr: '',
    };
  }

  private mkdirs(dir: string) {
    const parts = dir.split('/');
    for (let i = 2; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!this.files.has(p)) this.files.set(p, null);
    }
  }

  private append(file: string, text: string) {
    this.files.set(file, `${this.files.get(file) ?? ''}${text}`);
  }
}
