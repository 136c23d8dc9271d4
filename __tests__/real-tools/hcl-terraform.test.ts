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
  runTerraform,
  stackDirName,
  terraformInit,
  terraformValidate,
  writeOfflineStack,
  Diagnostic,
  formatDiagnostics,
} from '../helpers/terraform-offline';
import { parseGraph, toOfflineHcl, writeOfflineHcl } from '../helpers/hcl-offline';

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

const PROVIDER_INSTALL_ERRORS = /^(Failed to query available provider packages|Failed to resolve provider packages|Failed to install provider)/;

describeWithRealTools('HCL output (npm run synth:hcl) through the real Terraform', () => {
  const stacks = synthesize();
  const installable = stacks.filter((s) => toOfflineHcl(s.hcl).providers.every((p) => p === 'aws'));
  const elsewhere = stacks.filter((s) => !installable.includes(s));
  const tools = realTools();
  const cpu = limiter(2);
  const initLock = limiter(1);
  const root = tempDir('hcl-terraform-');
  let batches: Promise<{ hcl: BatchResult; json: BatchResult }>;

  interface BatchResult {
    readonly initialized: boolean;
    readonly diagnostics: Diagnostic[];
    readonly graph: string;
    readonly report: string;
  }

  async function runBatch(dir: string): Promise<BatchResult> {
    const env = terraformEnv(dir);
    const init = await initLock(() => cpu(() => terraformInit(dir, env, tools.terraform)));
    if (!init.ok) return { initialized: false, diagnostics: [], graph: '', report: init.report };
    const validate = await cpu(() => terraformValidate(dir, env, tools.terraform));
    const graph = await cpu(() => runTerraform(['graph', '-no-color'], dir, env, tools.terraform));
    return { initialized: true, diagnostics: validate.diagnostics, graph: graph.stdout, report: validate.report + (graph.code === 0 ? '' : graph.stderr) };
  }

  beforeAll(() => {
    writeBatch(
      path.join(root, 'hcl'),
      installable.map((s) => ({ id: s.id, write: (dir: string) => writeOfflineHcl(s.hcl, dir) })),
    );
    writeBatch(
      path.join(root, 'json'),
      installable.map((s) => ({ id: s.id, write: (dir: string) => writeOfflineStack(s.json, dir) })),
    );
    batches = Promise.all([runBatch(path.join(root, 'hcl')), runBatch(path.join(root, 'json'))]).then(([hcl, json]) => ({ hcl, json }));
    batches.catch(() => undefined);
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('covers fleet.yaml and every example, with stacks of both kinds', () => {
    expect(new Set(stacks.map((s) => s.id.split(' ')[0]))).toEqual(new Set(fleetFiles.map(([label]) => label)));
    expect(installable.length).toBeGreaterThan(0);
    expect(elsewhere.length).toBeGreaterThan(0);
  });

  test.each(stacks.map((s) => [s.id, s] as const))('%s: terraform fmt -check', (_, s) => {
    const r = spawnSync(tools.terraform!, ['fmt', '-check', '-no-color', '-diff', s.dir], { encoding: 'utf8', env: terraformEnv(s.dir) });
    expect({ status: r.status, diff: r.stdout }).toEqual({ status: 0, diff: '' });
  });

  test.each(installable.map((s) => [s.id, s] as const))(
    '%s: terraform init and validate accept it, without a warning',
    async (_, s) => {
      const { hcl } = await batches;
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
      const { hcl, json } = await batches;
      const fromHcl = graphOf(hcl.graph, s.id);
      expect(fromHcl.nodes.length).toBeGreaterThan(0);
      expect(fromHcl).toEqual(graphOf(json.graph, s.id));
    },
    300_000,
  );

  test.each(elsewhere.map((s) => [s.id, s] as const))(
    '%s: terraform init reads all of it; only the providers missing here fail to install',
    async (_, s) => {
      const dir = path.join(root, 'each', stackDirName(s.id));
      writeOfflineHcl(s.hcl, dir);
      const init = await initLock(() =>
        cpu(() => runTerraform(['init', '-backend=false', '-input=false', '-no-color'], dir, terraformEnv(dir), tools.terraform)),
      );
      const errors = [...init.stderr.matchAll(/^Error: (.*)$/gm)].map((m) => m[1]);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.filter((e) => !PROVIDER_INSTALL_ERRORS.test(e))).toEqual([]);
    },
    300_000,
  );
});
