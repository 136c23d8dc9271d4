/**
 * The fleet's cdktf App: cdktf's, with one `terraform version` per synth however many stacks check it
 * (see terraform-version.ts), an output folder that holds only what this synth wrote (stale-output.ts), and
 * HCL output formatted by `terraform fmt` (hcl-format.ts). Everything else, validation included, is cdktf's.
 */
import * as path from 'path';
import { App } from 'cdktf';
import { readTerraformVersionOnce } from './terraform-version';
import { pruneStaleOutput } from './stale-output';
import { formatHclFiles, HclFormatResult } from './hcl-format';

export class FleetApp extends App {
  /** After an HCL synth: whether the stack files were formatted (the app prints the reason when not). */
  hclFormat?: HclFormatResult;

  override synth(): void {
    readTerraformVersionOnce(() => super.synth());
    pruneStaleOutput(this.outdir, this.manifest);
    if (this.hclOutput) {
      const files = Object.values(this.manifest.stacks).map((s) => path.join(this.outdir, s.synthesizedStackPath));
      this.hclFormat = formatHclFiles(files);
    }
  }
}
