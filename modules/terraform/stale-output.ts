/**
 * cdktf writes into its output folder without clearing it (cdktf 0.21.0 lib/manifest.js only creates `stacks/`;
 * lib/synthesize/synthesizer.js writes `cdk.tf.json`, or `cdk.tf` and `metadata.json` for HCL): a JSON synth then
 * an HCL synth left `cdk.tf.json` beside `cdk.tf` (Terraform then reads both: "Duplicate backend configuration"),
 * and a synth of another fleet left the first fleet's stack folders. After a synth, this removes from `stacks/`
 * every stack folder the synth did not write and, in the folders it wrote, the synth files of the other format.
 * Terraform's own working files in a written stack (`.terraform/`, `.terraform.lock.hcl`) stay: they are
 * Terraform's cache for that stack, not synth output, and deleting them would only force a re-download.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The part of cdktf's manifest this needs: which stacks were written, and where. */
export interface WrittenStacks {
  readonly stacks: Readonly<Record<string, { readonly workingDirectory: string; readonly synthesizedStackPath: string; readonly stackMetadataPath: string }>>;
}

/** Every file cdktf writes into a stack folder, in either format. */
const SYNTH_FILES = ['cdk.tf.json', 'cdk.tf', 'metadata.json'];

/** Removes stale output; returns what it removed (paths relative to outdir), for the caller to report or test. */
export function pruneStaleOutput(outdir: string, manifest: WrittenStacks): string[] {
  const stacksDir = path.join(outdir, 'stacks');
  if (!fs.existsSync(stacksDir)) return [];
  const written = new Map(Object.values(manifest.stacks).map((s) => [path.resolve(outdir, s.workingDirectory), s]));
  const removed: string[] = [];
  for (const entry of fs.readdirSync(stacksDir, { withFileTypes: true })) {
    const dir = path.join(stacksDir, entry.name);
    const stack = written.get(dir);
    if (!stack) {
      // Only folders that hold cdktf output: anything else someone put there is not ours to delete.
      if (entry.isDirectory() && isStackFolder(dir)) {
        fs.rmSync(dir, { recursive: true, force: true });
        removed.push(path.relative(outdir, dir));
      }
      continue;
    }
    // metadata.json is written only with cdk.tf (HCL); beside cdk.tf.json it is a leftover.
    const hcl = !stack.synthesizedStackPath.endsWith('.json');
    const keep = new Set((hcl ? [stack.synthesizedStackPath, stack.stackMetadataPath] : [stack.synthesizedStackPath]).map((p) => path.resolve(outdir, p)));
    for (const file of SYNTH_FILES.map((f) => path.join(dir, f))) {
      if (keep.has(file) || !fs.existsSync(file)) continue;
      fs.rmSync(file, { force: true });
      removed.push(path.relative(outdir, file));
    }
  }
  return removed;
}

function isStackFolder(dir: string): boolean {
  return [...SYNTH_FILES, '.terraform', '.terraform.lock.hcl'].some((f) => fs.existsSync(path.join(dir, f)));
}
