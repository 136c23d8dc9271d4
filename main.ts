/**
 * The app (scripts/app.js runs it as a bundle): reads the fleet file (./fleet.yaml or FLEET_FILE), validates
 * all of it, and only then builds and synthesizes the stacks. A bad fleet file exits 2 (the CLI's code for a
 * fleet-file problem) with every problem listed, before any stack is written; anything else that fails exits 1.
 */
import { fleetFileFromEnvironment, loadFleet } from './modules/fleet/load';
import { FleetValidationError } from './modules/fleet/problems';
import { buildApp } from './stacks/app';
import { appOutput, trustedCertificateLines } from './modules/fleet/app-output';

function main(): void {
  const output = appOutput(process.env);
  let fleet;
  try {
    fleet = loadFleet(fleetFileFromEnvironment());
  } catch (e) {
    if (e instanceof FleetValidationError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  for (const w of fleet.warnings) output.warning(w);
  for (const line of trustedCertificateLines(fleet)) output.notice(line);
  const app = buildApp(fleet);
  app.synth();
  if (app.hclFormat && !app.hclFormat.formatted) output.notice(`NOTE ${app.hclFormat.reason}`);
  output.done(
    app.node.children.map((s) => s.node.id),
    app.outdir,
  );
}

main();
