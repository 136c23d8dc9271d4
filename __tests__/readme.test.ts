/**
 * What a new user meets first in the README (issue 28 item 10), checked against the README itself: one `npm ci`,
 * how long the tests take and what the real-tool tier needs, the offline deploy flag, `npm run -s` where JSON is
 * shown, the rollout commands on the example that has a rollout, and the Node lines supported.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadFleet } from '../modules/fleet/load';
import { PROJECT_ROOT } from './helpers/fleet';

const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
const lines = readme.split('\n');

test('npm ci appears once', () => {
  expect(readme.match(/\bnpm ci\b/g)).toHaveLength(1);
});

test('says how long npm test takes and what the real-tool tier needs', () => {
  expect(readme).toMatch(/npm test\s+#.*about \d+-?\d* min/);
  for (const tool of ['terraform', 'moto_server', 'filesystem mirror', 'containerd', 'chromium']) expect(readme.toLowerCase()).toContain(tool.toLowerCase());
});

test('names the offline deploy flag after a lone --', () => {
  expect(readme).toContain('npm run deploy -- my-cluster-cluster -- --skip-provider-lock');
});

test('every command line that asks for --json runs npm with -s (no npm banner before the JSON)', () => {
  const jsonLines = lines.filter((l) => /npm run(?! -s)[^`|]*--json/.test(l));
  expect(jsonLines).toEqual([]);
  expect(readme).toContain('npm run -s cache -- list --json');
});

test('the rollout commands name examples/staged-rollout, the fleet with a rollout section; fleet.yaml has none', () => {
  const rolloutCommands = lines.flatMap((l) => [...l.matchAll(/`([^`]*npm run rollout[^`]*)`/g)].map((m) => m[1]));
  expect(rolloutCommands.length).toBeGreaterThan(0);
  for (const c of rolloutCommands) expect(c).toMatch(/^FLEET_FILE=examples\/staged-rollout\/fleet\.yaml /);
  expect(loadFleet(path.join(PROJECT_ROOT, 'fleet.yaml')).rollout).toBeUndefined();
  expect(loadFleet(path.join(PROJECT_ROOT, 'examples/staged-rollout/fleet.yaml')).rollout).toBeDefined();
});

test('names the Node lines supported: 22 and 24', () => {
  expect(readme).toContain('Node.js 22 or 24');
  expect(readme).not.toMatch(/Node\.js ≥ 20/);
});
