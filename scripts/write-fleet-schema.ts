/** Writes fleet.schema.json (editor support) from the one schema definition in modules/fleet/schema.ts. */
import * as fs from 'fs';
import * as path from 'path';
import { fleetJsonSchema } from '../modules/fleet/schema';

export const FLEET_SCHEMA_FILE = path.join(__dirname, '..', 'fleet.schema.json');

export function renderFleetSchema(): string {
  return JSON.stringify(fleetJsonSchema(), null, 2) + '\n';
}

if (require.main === module) {
  fs.writeFileSync(FLEET_SCHEMA_FILE, renderFleetSchema());
  process.stdout.write(`wrote ${path.relative(process.cwd(), FLEET_SCHEMA_FILE)}\n`);
}
