import * as fs from 'fs';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { FLEET_SCHEMA_FILE, renderFleetSchema } from '../scripts/write-fleet-schema';
import * as path from 'path';
import { DEFAULT_FLEET, MULTI_REGION_FLEET, PROJECT_ROOT } from './helpers/fleet';

describe('fleet.schema.json (editor schema)', () => {
  test('is in sync with modules/fleet/schema.ts (run `npm run schema` after changing the schema)', () => {
    expect(fs.readFileSync(FLEET_SCHEMA_FILE, 'utf8')).toBe(renderFleetSchema());
  });

  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(fs.readFileSync(FLEET_SCHEMA_FILE, 'utf8')));

  test.each([DEFAULT_FLEET, MULTI_REGION_FLEET, path.join(PROJECT_ROOT, 'examples', 'staged-rollout', 'fleet.yaml')])(
    'accepts the example fleet %s',
    (file) => {
      expect(validate(parse(fs.readFileSync(file, 'utf8')))).toBe(true);
    },
  );

  test('rejects a typo, as the loader does', () => {
    const fleet = parse(fs.readFileSync(DEFAULT_FLEET, 'utf8'));
    fleet.clusters['my-cluster'].regoin = 'us-west-2';
    expect(validate(fleet)).toBe(false);
  });
});
