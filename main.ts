/**
 * Entry point for `cdktf synth` / `cdktf deploy`: reads the fleet file (./fleet.yaml or FLEET_FILE),
 * validates all of it, and only then builds and synthesizes the stacks. A bad fleet file exits
 * non-zero with every problem listed, before any stack is written.
 */
import { fleetFileFromEnvironment, loadFleet } from './modules/fleet/load';
import { FleetValidationError, formatProblem } from './modules/fleet/problems';
import { buildApp } from './stacks/app';

function main(): void {
  let fleet;
  try {
    fleet = loadFleet(fleetFileFromEnvironment());
  } catch (e) {
    if (e instanceof FleetValidationError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  for (const w of fleet.warnings) process.stderr.write(`WARNING ${formatProblem(w)}\n`);
  buildApp(fleet).synth();
}

main();
