/**
 * Issue 28: every example works on the day it is read. The other tests pin the date (setup-env.js) so that a
 * fixture does not start failing the day its version leaves EKS support; this one reads the REAL clock: it
 * fails once an example's Kubernetes version has left EKS support (synth refuses it) and warns 60 days before.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadFleet, parseFleet } from '../modules/fleet/load';
import { daysOfSupportLeft } from '../modules/fleet/eks-support';
import { PROJECT_ROOT, synthFleet } from './helpers/fleet';

/** How long before an example's version leaves EKS support this test starts to say so. */
const WARN_DAYS = 60;

/** The real UTC date, never BOTTLEROCKET_FLEET_TODAY. */
const realToday = new Date().toISOString().slice(0, 10);

const examples = fs
  .readdirSync(path.join(PROJECT_ROOT, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(PROJECT_ROOT, 'examples', d.name, 'fleet.yaml')))
  .map((d) => `examples/${d.name}/fleet.yaml`);
const fleetFiles = ['fleet.yaml', ...examples];

test('covers fleet.yaml and every example', () => {
  expect(fleetFiles).toEqual(expect.arrayContaining(['fleet.yaml', 'examples/migration-guide/fleet.yaml', 'examples/multi-region/fleet.yaml']));
});

describe.each(fleetFiles)(`%s on the real date (${realToday})`, (file) => {
  test('loads and synthesizes every stack', () => {
    const fleet = loadFleet(path.join(PROJECT_ROOT, file), { today: realToday });
    const stacks = synthFleet(fleet);
    expect(Object.keys(stacks).length).toBeGreaterThan(0);
  });

  test(`its Kubernetes versions stay in EKS support for more than ${WARN_DAYS} days (or the test warns)`, () => {
    const fleet = loadFleet(path.join(PROJECT_ROOT, file), { today: realToday });
    for (const c of fleet.clusters) {
      const left = daysOfSupportLeft(c.kubernetesVersion, realToday);
      if (left === undefined) continue;
      expect({ cluster: c.name, version: c.kubernetesVersion, inSupport: left > 0 }).toEqual({
        cluster: c.name,
        version: c.kubernetesVersion,
        inSupport: true,
      });
      if (left <= WARN_DAYS)
        console.warn(
          `${file}: clusters.${c.name}.kubernetesVersion ${c.kubernetesVersion} leaves EKS support in ${left} day(s): move the example to a newer version`,
        );
    }
  });
});

test('days of support left count to the end of extended support; none for a version without published dates', () => {
  expect(daysOfSupportLeft('1.31', '2026-11-25')).toBe(1);
  expect(daysOfSupportLeft('1.31', '2026-11-26')).toBe(0);
  expect(daysOfSupportLeft('1.32', '2027-01-22')).toBe(60);
  expect(daysOfSupportLeft('1.36', '2026-12-07')).toBeUndefined();
});

test('the guide example on 1.31 is refused on the real date of issue 28 (the failure this test exists for)', () => {
  const guide = fs
    .readFileSync(path.join(PROJECT_ROOT, 'examples/migration-guide/fleet.yaml'), 'utf8')
    .replace('kubernetesVersion: "1.32"', 'kubernetesVersion: "1.31"');
  expect(() => parseFleet(guide, path.join(PROJECT_ROOT, 'examples/migration-guide/fleet.yaml'), { today: '2026-12-07' })).toThrow(
    /Kubernetes 1\.31 reached the end of EKS extended support on 2026-11-26/,
  );
});
