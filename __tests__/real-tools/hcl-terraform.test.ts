/**
 * `npm run synth:hcl` is how users leave cdktf (archived 2025-12-10), so its output must be Terraform that
 * Terraform accepts (issue 28 item 2). For fleet.yaml and every example, the HCL of every stack, as the script
 * writes it:
 * - passes `terraform fmt -check`;
 * - where its providers are installable here (aws, from the mirror; registry modules as the stubs generated from
 *   contracts/, see helpers/hcl-offline.ts): passes `terraform init -backend=false` and `terraform validate`
 *   with no error and no warning, and gives the same `terraform graph` (resources, data sources, modules and
 *   their dependencies: what a plan walks) as the JSON output of the same fleet;
 * - elsewhere (helm, kubectl): `terraform init` reads the whole configuration, and fails only where it installs
 *   the providers missing here.
 * Each check runs once for all stacks (issue 27 item 5): one `fmt -check` over every stack's folder, one init +
 * validate of the HCL (every stack a child module of one root; each diagnostic belongs to the stack whose files it
 * names), one init + graph of both outputs of every stack (each stack's HCL and JSON as two child modules of one
 * root), one init for the helm/kubectl stacks (each on its own when that init meets a configuration error). validate and graph attach to one aws provider process
 * (helpers/provider-server.ts) instead of starting one per provider block.
 * Regressions: a lifecycle `postcondition` as an attribute (init: An argument named "postcondition" is not
 * expected here), quoted `provider`/`depends_on` references (validate: Quoted references are deprecated), and
 * unformatted HCL (`terraform fmt -check` exited 3).
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { DEFAULT_FLEET, PROJECT_ROOT, tempDir } from '../helpers/fleet';
import { describeWithRealTools, recordRealToolRun, realTools, terraformEnv } from '../helpers/real-tools';
import {
  limiter,
  OFFLINE_PROVIDERS,
  runTerraform,
  stackDirName,
  terraformInit,
  terraformValidate,
  writeOfflineStack,
  Diagnostic,
  formatDiagnostics,
} from '../helpers/terraform-offline';
import { parseGraph, toOfflineHcl, writeOfflineHcl } from '../helpers/hcl-offline';
import { ProviderServer, RELAXED_GO_GC, startProviderServer } from '../helpers/provider-server';

const fleetFiles: [string, string][] = [
  ['fleet.yaml', DEFAULT_FLEET],
  ...fs
    .readdirSync(path.join(PROJECT_ROOT, 'examples'))
    .filter((d) => fs.existsSync(path.join(PROJECT_ROOT, 'examples', d, 'fleet.yaml')))
    .sort()
    .map((d): [string, string] => [`examples/${d}`, path.join(PROJECT_ROOT, 'examples', d, 'fleet.yaml')]),
];

/** Runs an npm script's command (as `npm run` would, without npm's banner) for a fleet into outdir. */
function runScript(script: string, fleetFile: string, outdir: string): void {
  const command: string = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).scripts[script];
  const r = spawnSync('sh', ['-c', command], { cwd: PROJECT_ROOT, env: { ...process.env, FLEET_FILE: fleetFile, CDKTF_OUTDIR: outdir }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run ${script} failed for ${fleetFile}:\n${r.stderr}`);
}

interface Stack {
  readonly id: string;
  readonly dir: string;
  readonly hcl: string;
  readonly json: Record<string, any>;
}

function synthesize(): Stack[] {
  return fleetFiles.flatMap(([label, file]) => {
    const hclOut = tempDir('hcl-out-');
    const jsonOut = tempDir('json-out-');
    runScript('synth:hcl', file, hclOut);
    runScript('synth', file, jsonOut);
    return fs.readdirSync(path.join(hclOut, 'stacks')).map((name) => ({
      id: `${label} ${name}`,
      dir: path.join(hclOut, 'stacks', name),
      hcl: fs.readFileSync(path.join(hclOut, 'stacks', name, 'cdk.tf'), 'utf8'),
      json: JSON.parse(fs.readFileSync(path.join(jsonOut, 'stacks', name, 'cdk.tf.json'), 'utf8')),
    }));
  });
}

/** One root with every stack as a child module: one init, one validate, one graph for all of them. */
function writeBatch(root: string, stacks: readonly { id: string; write: (dir: string) => void }[]): void {
  fs.mkdirSync(root, { recursive: true });
  for (const s of stacks) s.write(path.join(root, 'stacks', stackDirName(s.id)));
  const modules = Object.fromEntries(stacks.map((s) => [stackDirName(s.id), { source: `./stacks/${stackDirName(s.id)}` }]));
  fs.writeFileSync(path.join(root, 'main.tf.json'), JSON.stringify({ module: modules }, null, 2));
}

/** A batch's graph, per stack: nodes and edges with the stack's module prefix taken off. */
function graphOf(dot: string, id: string): { nodes: string[]; edges: string[] } {
  const prefix = `module.${stackDirName(id)}.`;
  const strip = (s: string) => s.split(prefix).join('');
  const { nodes, edges } = parseGraph(dot);
  return { nodes: nodes.filter((n) => n.startsWith(prefix)).map(strip), edges: edges.filter((e) => e.startsWith(prefix)).map(strip) };
}

/** `terraform init -json`'s diagnostics (one JSON message per line). */
function initDiagnostics(stdout: string): Diagnostic[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'diagnostic')
    .map((m) => m.diagnostic as Diagnostic);
}

/**
 * `terraform fmt -check -diff` over every stack's folder in one run: per stack, its files' part of the output (a
 * listed file name and its diff, or an error naming its file) and the run's status when it has such a part. A
 * failure that names no stack's file counts against all of them.
 */
function fmtCheck(dirs: readonly string[], terraform: string): (dir: string) => { status: number | null; diff: string } {
  const cwd = PROJECT_ROOT;
  const r = spawnSync(terraform, ['fmt', '-check', '-no-color', '-diff', ...dirs], {
    cwd,
    encoding: 'utf8',
    env: terraformEnv(tempDir('fmt-'), RELAXED_GO_GC),
  });
  // fmt names files relative to its working directory: each unformatted file's path on a line of its own (-list),
  // then its diff (--- old/<path>, +++ new/<path>, hunks); an error names its file as "on <path> line N".
  const shown = (dir: string) => path.relative(cwd, dir);
  const inDir = (dir: string, file: string) => path.dirname(file) === shown(dir);
  const parts = new Map<string, string>();
  let current: string | undefined;
  for (const line of r.stdout.split('\n')) {
    if (dirs.some((d) => inDir(d, line))) current = line;
    if (current !== undefined) parts.set(current, `${parts.get(current) ?? ''}${line}\n`);
  }
  const named = (dir: string) => [...parts.keys()].some((f) => inDir(dir, f)) || r.stderr.includes(`${shown(dir)}/`);
  const unattributed = r.status !== 0 && !dirs.some(named);
  return (dir) => {
    if (!named(dir) && !unattributed) return { status: 0, diff: '' };
    const mine = [...parts].filter(([f]) => inDir(dir, f)).map(([, text]) => text);
    return { status: r.status, diff: mine.join('') + r.stderr };
  };
}

const PROVIDER_INSTALL_ERRORS = /^(Failed to query available provider packages|Failed to resolve provider packages|Failed to install provider)/;

describeWithRealTools('HCL output (npm run synth:hcl) through the real Terraform', () => {
  const stacks = synthesize();
  const installable = stacks.filter((s) => toOfflineHcl(s.hcl).providers.every((p) => p === 'aws'));
  const elsewhere = stacks.filter((s) => !installable.includes(s));
  const tools = realTools();
  const cpu = limiter(2);
  const initLock = limiter(1);
  const root = tempDir('hcl-terraform-');
  let server: ProviderServer | undefined;
  let batches: Promise<{ hcl: BatchResult; graph: BatchResult; elsewhere: Map<string, Diagnostic[]> }> | undefined;

  interface BatchResult {
    readonly initialized: boolean;
    readonly diagnostics: Diagnostic[];
    readonly graph: string;
    readonly report: string;
  }

  /**
   * One batch: init, then `validate` (HCL only: the JSON output's own validation is terraform-validate.test.ts's) or
   * `graph`, attached to the one provider process (provider-server.ts: neither command configures a provider).
   */
  async function runBatch(dir: string, command: 'validate' | 'graph'): Promise<BatchResult> {
    const env = terraformEnv(dir, RELAXED_GO_GC);
    const init = await initLock(() => cpu(() => terraformInit(dir, env, tools.terraform)));
    if (!init.ok) return { initialized: false, diagnostics: [], graph: '', report: init.report };
    const attached = { ...env, ...server!.env };
    if (command === 'validate') {
      const checked = await cpu(() => terraformValidate(dir, attached, tools.terraform));
      return { initialized: true, diagnostics: checked.diagnostics, graph: '', report: checked.report };
    }
    const graph = await cpu(() => runTerraform(['graph', '-no-color'], dir, attached, tools.terraform));
    return { initialized: true, diagnostics: [], graph: graph.stdout, report: graph.code === 0 ? '' : graph.stderr };
  }

  /** `terraform init -json`'s errors in a directory. */
  async function initErrors(dir: string): Promise<Diagnostic[]> {
    const init = await initLock(() =>
      cpu(() => runTerraform(['init', '-backend=false', '-input=false', '-no-color', '-json'], dir, terraformEnv(dir, RELAXED_GO_GC), tools.terraform)),
    );
    return initDiagnostics(init.stdout).filter((d) => d.severity === 'error');
  }

  /**
   * The init errors of each helm/kubectl stack. One init reads all of them, as child modules of one root; its
   * provider install errors count for every stack. A configuration error stops that init before it installs
   * anything, so then every stack gets an init of its own, as a user would run it, and its own errors.
   */
  async function initElsewhere(): Promise<Map<string, Diagnostic[]>> {
    const batch = await initErrors(path.join(root, 'elsewhere'));
    if (batch.every((d) => PROVIDER_INSTALL_ERRORS.test(d.summary))) return new Map(elsewhere.map((s) => [s.id, batch]));
    const each = elsewhere.map(async (s): Promise<[string, Diagnostic[]]> => {
      const dir = path.join(root, 'each', stackDirName(s.id));
      writeOfflineHcl(s.hcl, dir);
      return [s.id, await initErrors(dir)];
    });
    return new Map(await Promise.all(each));
  }

  beforeAll(async () => {
    server = await startProviderServer();
    writeBatch(
      path.join(root, 'hcl'),
      installable.map((s) => ({ id: s.id, write: (dir: string) => writeOfflineHcl(s.hcl, dir) })),
    );
    // Both outputs of every stack in one root, for one graph: each stack's HCL as "hcl <id>", its JSON as "json <id>".
    writeBatch(path.join(root, 'graph'), [
      ...installable.map((s) => ({ id: `hcl ${s.id}`, write: (dir: string) => writeOfflineHcl(s.hcl, dir) })),
      ...installable.map((s) => ({ id: `json ${s.id}`, write: (dir: string) => writeOfflineStack(s.json, dir) })),
    ]);
    writeBatch(
      path.join(root, 'elsewhere'),
      elsewhere.map((s) => ({ id: s.id, write: (dir: string) => writeOfflineHcl(s.hcl, dir) })),
    );
    batches = Promise.all([runBatch(path.join(root, 'hcl'), 'validate'), runBatch(path.join(root, 'graph'), 'graph'), initElsewhere()]).then(
      ([hcl, graph, elsewhere]) => ({ hcl, graph, elsewhere }),
    );
    batches.catch(() => undefined);
  }, 120_000);

  afterAll(async () => {
    await batches?.catch(() => undefined);
    await server?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('covers fleet.yaml and every example, with stacks of both kinds', () => {
    expect(new Set(stacks.map((s) => s.id.split(' ')[0]))).toEqual(new Set(fleetFiles.map(([label]) => label)));
    expect(installable.length).toBeGreaterThan(0);
    expect(elsewhere.length).toBeGreaterThan(0);
  });

  describe('terraform fmt -check (one run over every stack)', () => {
    let fmt: ReturnType<typeof fmtCheck>;
    beforeAll(() => {
      fmt = fmtCheck(
        stacks.map((s) => s.dir),
        tools.terraform!,
      );
    });

    test.each(stacks.map((s) => [s.id, s] as const))('%s: terraform fmt -check', (_, s) => {
      expect(fmt(s.dir)).toEqual({ status: 0, diff: '' });
    });
  });

  test.each(installable.map((s) => [s.id, s] as const))(
    '%s: terraform init and validate accept it, without a warning',
    async (_, s) => {
      const { hcl } = await batches!;
      if (!hcl.initialized) throw new Error(hcl.report);
      const mine = hcl.diagnostics.filter((d) => d.range?.filename.startsWith(`stacks/${stackDirName(s.id)}/`) || !d.range);
      expect(formatDiagnostics(mine)).toBe('');
      recordRealToolRun('validated', `${s.id} (HCL)`);
    },
    300_000,
  );

  test.each(installable.map((s) => [s.id, s] as const))(
    '%s: the same terraform graph as the JSON output',
    async (_, s) => {
      const { graph } = await batches!;
      if (!graph.initialized) throw new Error(graph.report);
      const fromHcl = graphOf(graph.graph, `hcl ${s.id}`);
      expect(fromHcl.nodes.length).toBeGreaterThan(0);
      expect(fromHcl).toEqual(graphOf(graph.graph, `json ${s.id}`));
    },
    300_000,
  );

  test.each(elsewhere.map((s) => [s.id, s] as const))(
    '%s: terraform init reads all of it; only the providers missing here fail to install',
    async (_, s) => {
      const errors = (await batches!).elsewhere.get(s.id)!;
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.map((d) => d.summary).filter((e) => !PROVIDER_INSTALL_ERRORS.test(e))).toEqual([]);
      // The install errors name every provider this stack needs that is missing here (in one init with the other
      // stacks, that is what shows this stack's configuration was read through to the install).
      const missing = toOfflineHcl(s.hcl).providers.filter((p) => !OFFLINE_PROVIDERS.includes(p));
      expect(missing.filter((p) => !errors.some((d) => new RegExp(`provider [\\w.-]+/${p}:`).test(d.detail ?? '')))).toEqual([]);
    },
    300_000,
  );
});
