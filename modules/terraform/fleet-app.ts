/**
 * The fleet's cdktf App: cdktf's, with one `terraform version` per synth however many stacks check it
 * (see terraform-version.ts), and an output folder that holds only what this synth wrote (stale-output.ts).
 * Everything else, validation included, is cdktf's.
 */
import { App } from 'cdktf';
import { readTerraformVersionOnce } from './terraform-version';
import { pruneStaleOutput } from './stale-output';

export class FleetApp extends App {
  override synth(): void {
    readTerraformVersionOnce(() => super.synth());
    pruneStaleOutput(this.outdir, this.manifest);
  }
}
