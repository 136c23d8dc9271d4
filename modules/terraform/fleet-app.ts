/**
 * The fleet's cdktf App: cdktf's, with one `terraform version` per synth however many stacks check it
 * (see terraform-version.ts). Everything else, validation included, is cdktf's.
 */
import { App } from 'cdktf';
import { readTerraformVersionOnce } from './terraform-version';

export class FleetApp extends App {
  override synth(): void {
    readTerraformVersionOnce(() => super.synth());
  }
}
