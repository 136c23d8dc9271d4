/**
 * Writes fleet.schema.json (editor support) and docs/fleet-file-reference.md (every key, its type and
 * default) from the one schema definition in modules/fleet/schema.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fleetJsonSchema } from '../modules/fleet/schema';
import { FLEET_REFERENCE_FILE, renderFleetReference } from './fleet-reference';

export const FLEET_SCHEMA_FILE = path.join(__dirname, '..', 'fleet.schema.json');

export function renderFleetSchema(): string {
  return JSON.stringify(fleetJsonSchema(), null, 2) + '\n';
}

if (require.main === module) {
  fs.writeFileSync(FLEET_SCHEMA_FILE, renderFleetSchema());
  fs.writeFileSync(FLEET_REFERENCE_FILE, renderFleetReference());
  for (const file of [FLEET_SCHEMA_FILE, FLEET_REFERENCE_FILE]) process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
