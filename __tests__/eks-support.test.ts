/**
 * EKS support windows decide what synth says about a cluster's Kubernetes version: a warning in extended support
 * (and in the last 30 days of standard support), a refusal past extended support, with the date. Dates: AWS "Amazon
 * EKS Kubernetes release calendar", cross-checked with endoflife.date/amazon-eks (modules/fleet/eks-support.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { EKS_SUPPORT, eksSupportPhase, todayFromEnvironment } from '../modules/fleet/eks-support';
import { SUPPORTED_KUBERNETES_VERSIONS } from '../modules/fleet/constants';
import { loadFleet } from '../modules/fleet/load';
import { FleetValidationError } from '../modules/fleet/problems';
import { DEFAULT_FLEET, fleetFrom, PROJECT_ROOT, tempDir, validFleet } from './helpers/fleet';

/**
 * The migration guide's fleet on the guide's Kubernetes 1.31: examples/migration-guide as it is, but for its
 * version (moved to 1.32 when 1.31 left EKS support, issue 28), with its certificates beside it.
 */
function guideFleetOn131(): string {
  const example = path.join(PROJECT_ROOT, 'examples', 'migration-guide');
  const dir = tempDir('guide-131-');
  fs.cpSync(path.join(example, 'certs'), path.join(dir, 'certs'), { recursive: true });
  const text = fs.readFileSync(path.join(example, 'fleet.yaml'), 'utf8');
  expect(text.match(/kubernetesVersion: "1\.32"/g)).toHaveLength(1);
  fs.writeFileSync(path.join(dir, 'fleet.yaml'), text.replace('kubernetesVersion: "1.32"', 'kubernetesVersion: "1.31"'));
  return path.join(dir, 'fleet.yaml');
}

describe('EKS support windows', () => {
  test('every supported version has dates, standard support 14 months before extended support ends 12 months later', () => {
    for (const v of SUPPORTED_KUBERNETES_VERSIONS) {
      const w = EKS_SUPPORT[v];
      if (v === '1.36') {
        expect(w).toBeUndefined(); // no published EKS dates yet: docs/not-verified.md
        continue;
      }
      const std = new Date(w!.endOfStandardSupport);
      const ext = new Date(w!.endOfExtendedSupport);
      expect([v, ext.getUTCFullYear() - std.getUTCFullYear(), ext.getUTCMonth() - std.getUTCMonth(), ext.getUTCDate() - std.getUTCDate()]).toEqual([
        v,
        1,
        0,
        0,
      ]);
    }
  });

  test('a date is the day support ends', () => {
    expect(eksSupportPhase('1.31', '2025-11-25')).toBe('standard');
    expect(eksSupportPhase('1.31', '2025-11-26')).toBe('extended');
    expect(eksSupportPhase('1.31', '2026-11-25')).toBe('extended');
    expect(eksSupportPhase('1.31', '2026-11-26')).toBe('ended');
    expect(eksSupportPhase('1.36', '2026-11-26')).toBe('unknown');
  });
});

describe('the version checks at synth', () => {
  let GUIDE_FLEET: string;
  beforeAll(() => {
    GUIDE_FLEET = guideFleetOn131();
  });

  test('the example fleet.yaml is in standard support on the day this was written, with no warning', () => {
    const fleet = loadFleet(DEFAULT_FLEET, { today: '2026-11-25' });
    expect(fleet.clusters.map((c) => [c.kubernetesVersion, eksSupportPhase(c.kubernetesVersion, '2026-11-25')])).toEqual([['1.35', 'standard']]);
    expect(fleet.warnings).toEqual([]);
  });

  test("the guide's 1.31 example warns in extended support, with both dates and a version to move to", () => {
    const fleet = loadFleet(GUIDE_FLEET, { today: '2026-11-25' });
    expect(fleet.warnings).toEqual([
      {
        path: 'clusters.my-cluster.kubernetesVersion',
        message:
          'Kubernetes 1.31 left EKS standard support on 2025-11-26: extended support costs extra per cluster hour and ends on 2026-11-26, when EKS upgrades the control plane by itself',
        fix: 'upgrade to 1.35 (EKS standard support until 2027-03-27), control plane first, then the nodes',
      },
      // The guide's public endpoint has no endpointPublicAccessCidrs (issue 21): open to the internet.
      expect.objectContaining({ path: 'clusters.my-cluster.endpointPublicAccess' }),
    ]);
  });

  test('a version past its extended support is refused with the date, before any stack exists', () => {
    let error: unknown;
    try {
      loadFleet(GUIDE_FLEET, { today: '2026-11-26' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FleetValidationError);
    expect((error as FleetValidationError).problems).toEqual([
      {
        path: 'clusters.my-cluster.kubernetesVersion',
        message: 'Kubernetes 1.31 reached the end of EKS extended support on 2026-11-26: EKS upgrades such clusters to the next version by itself',
        fix: 'use 1.35 (EKS standard support until 2027-03-27); upgrade an existing cluster one minor version at a time, control plane first',
      },
    ]);
  });

  test('the last 30 days of standard support get a notice; earlier, nothing', () => {
    const f = validFleet();
    f.clusters['my-cluster'].kubernetesVersion = '1.34';
    expect(fleetFrom(f, { today: '2026-11-01' }).warnings).toEqual([]);
    expect(fleetFrom(f, { today: '2026-11-25' }).warnings).toEqual([
      expect.objectContaining({
        path: 'clusters.my-cluster.kubernetesVersion',
        message: expect.stringMatching(/1\.34 leaves EKS standard support on 2026-12-02 \(in 7 day\(s\)\)/),
      }),
    ]);
  });

  test('the guide example differs from fleet.yaml only in its version, the public endpoint ranges and comments', () => {
    // Why terraform-validate need not synthesize it again: the stacks differ only in version strings.
    const strip = (file: string) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n');
    // fleet.yaml limits its public endpoint to a range (a valid module input, validated with fleet.yaml's stacks).
    expect(strip(GUIDE_FLEET).replace('"1.31"', '"1.35"')).toBe(strip(DEFAULT_FLEET).replace(/\n\s+endpointPublicAccessCidrs: .*/, ''));
  });

  test('BOTTLEROCKET_FLEET_TODAY pins the date; a malformed one is refused; otherwise today (UTC)', () => {
    expect(todayFromEnvironment({ BOTTLEROCKET_FLEET_TODAY: '2027-01-02' })).toBe('2027-01-02');
    expect(() => todayFromEnvironment({ BOTTLEROCKET_FLEET_TODAY: 'tomorrow' })).toThrow(
      /BOTTLEROCKET_FLEET_TODAY must be a date like 2026-11-25, not "tomorrow"/,
    );
    expect(todayFromEnvironment({}, new Date('2026-11-25T23:59:00Z'))).toBe('2026-11-25');
  });
});
