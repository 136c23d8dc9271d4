/**
 * What the HCL checks of the Terraform suite share (issue 28 item 2; real-tools/terraform-validate.test.ts): the HCL of
 * every stack as `npm run synth:hcl` writes it, roots with every stack as a child module (one init, one validate,
 * one graph for all of them), a batch's graph per stack, `terraform init -json`'s diagnostics, and one
 * `terraform fmt -check` over every stack's folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { PROJECT_ROOT, tempDir } from './fleet';
import { terraformEnv } from './real-tools';
import { Diagnostic, stackDirName } from './terraform-offline';
import { parseGraph } from './hcl-offline';
import { RELAXED_GO_GC } from './provider-server';

/** Runs an npm script's command (as `npm run` would, without npm's banner) for a fleet into outdir. */
export function runScript(script: string, fleetFile: string, outdir: string): void {
  const command: string = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).scripts[script];
  const r = spawnSync('sh', ['-c', command], { cwd: PROJECT_ROOT, env: { ...process.env, FLEET_FILE: fleetFile, CDKTF_OUTDIR: outdir }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run ${script} failed for ${fleetFile}:\n${r.stderr}`);
}

/** A stack of a fleet as the HCL synth wrote it, and the same stack's JSON output. */
export interface HclStack {
  readonly id: string;
  readonly dir: string;
  readonly hcl: string;
  readonly json: Record<string, any>;
}

/**
 * Every stack of each fleet as `npm run synth:hcl` writes it (one process per fleet, as users run it), with the same
 * stack's JSON output: `jsonOf(label)` gives a fleet's stacks synthesized by the same app in this process (the app's
 * bundle writes exactly what cdktf writes: app-bundle.test.ts), instead of a second `npm run synth` process per fleet.
 */
export function synthesizeHcl(fleetFiles: readonly [string, string][], jsonOf: (label: string) => Record<string, any>): HclStack[] {
  return fleetFiles.flatMap(([label, file]) => {
    const hclOut = tempDir('hcl-out-');
    runScript('synth:hcl', file, hclOut);
    const json = jsonOf(label);
    return fs.readdirSync(path.join(hclOut, 'stacks')).map((name) => {
      if (!Object.hasOwn(json, name)) throw new Error(`${label}: the HCL synth wrote stack ${name}, which the JSON synth did not`);
      return {
        id: `${label} ${name}`,
        dir: path.join(hclOut, 'stacks', name),
        hcl: fs.readFileSync(path.join(hclOut, 'stacks', name, 'cdk.tf'), 'utf8'),
        json: json[name],
      };
    });
  });
}

/** One root with every stack as a child module: one init, one validate, one graph for all of them. */
export function writeBatch(root: string, stacks: readonly { id: string; write: (dir: string) => void }[]): void {
  fs.mkdirSync(root, { recursive: true });
  for (const s of stacks) s.write(path.join(root, 'stacks', stackDirName(s.id)));
  const modules = Object.fromEntries(stacks.map((s) => [stackDirName(s.id), { source: `./stacks/${stackDirName(s.id)}` }]));
  fs.writeFileSync(path.join(root, 'main.tf.json'), JSON.stringify({ module: modules }, null, 2));
}

/** A batch's graph, per stack: nodes and edges with the stack's module prefix taken off. */
export function graphOf(dot: string, id: string): { nodes: string[]; edges: string[] } {
  const prefix = `module.${stackDirName(id)}.`;
  const strip = (s: string) => s.split(prefix).join('');
  const { nodes, edges } = parseGraph(dot);
  return { nodes: nodes.filter((n) => n.startsWith(prefix)).map(strip), edges: edges.filter((e) => e.startsWith(prefix)).map(strip) };
}

/** `terraform init -json`'s diagnostics (one JSON message per line). */
export function initDiagnostics(stdout: string): Diagnostic[] {
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
export function fmtCheck(dirs: readonly string[], terraform: string): (dir: string) => { status: number | null; diff: string } {
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

export const PROVIDER_INSTALL_ERRORS = /^(Failed to query available provider packages|Failed to resolve provider packages|Failed to install provider)/;
