import * as path from 'path';
import { fleetFrom, problemsOf, problemsOfText, validFleet, PROJECT_ROOT } from './helpers/fleet';
import { loadFleet, fleetFileFromEnvironment } from '../modules/fleet/load';
import { FleetValidationError } from '../modules/fleet/problems';

const at = (problems: { path: string }[]) => problems.map((p) => p.path);

describe('a valid fleet', () => {
  test('the guide example parses with defaults filled in', () => {
    const fleet = loadFleet(path.join(PROJECT_ROOT, 'fleet.yaml'));
    expect(fleet.backend).toEqual({ type: 'local' });
    const cluster = fleet.clusters[0];
    expect(cluster.name).toBe('my-cluster');
    expect(cluster.systemNodeGroup).toMatchObject({ minSize: 2, maxSize: 4, desiredSize: 2, osVolumeGiB: 4, adminContainer: false });
    expect(cluster.trustedCertificates[0].name).toBe('corp-ca');
    expect(fleet.imageCaches.map((c) => [c.name, c.parameterPath, c.kubernetesVersion])).toEqual([
      ['general', '/bottlerocket-fleet/image-cache/general/snapshot-id', '1.35'],
      ['gpu', '/bottlerocket-fleet/image-cache/gpu/snapshot-id', '1.35'],
    ]);
    // 1.35 is in EKS standard support until 2027-03-27, and the public endpoint is limited to a range: nothing to warn about.
    expect(fleet.warnings).toEqual([]);
  });

  test('a GPU pool defaults to g and p instances and its data volume to the cache size', () => {
    const pool = fleetFrom(validFleet()).clusters[0].karpenter!.nodePools.find((p) => p.name === 'gpu')!;
    expect(pool.instanceCategories).toEqual(['g', 'p']);
    const noSize = validFleet();
    delete noSize.clusters['my-cluster'].karpenter.nodePools.gpu.dataVolumeGiB;
    expect(fleetFrom(noSize).clusters[0].karpenter!.nodePools.find((p) => p.name === 'gpu')!.dataVolumeGiB).toBe(200);
  });

  test('FLEET_FILE names another fleet file, relative to the working directory', () => {
    expect(fleetFileFromEnvironment({ FLEET_FILE: 'examples/x.yaml' }, '/repo')).toBe('/repo/examples/x.yaml');
    expect(fleetFileFromEnvironment({}, '/repo')).toBe('/repo/fleet.yaml');
  });
});

describe('a bad fleet file is rejected with the path and the fix', () => {
  test('min > max names minSize and the limit, exactly as documented', () => {
    const f = validFleet();
    Object.assign(f.clusters['my-cluster'].systemNodeGroup, { minSize: 5, maxSize: 4, desiredSize: 4 });
    const problems = problemsOf(f);
    const p = problems.find((x) => x.path === 'clusters.my-cluster.systemNodeGroup.minSize')!;
    expect(`${p.path}: ${p.message}`).toBe('clusters.my-cluster.systemNodeGroup.minSize: must not exceed maxSize (4)');
    expect(p.fix).toMatch(/lower minSize/);
  });

  test('desired size outside [min, max]', () => {
    const f = validFleet();
    f.clusters['my-cluster'].systemNodeGroup.desiredSize = 9;
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ path: 'clusters.my-cluster.systemNodeGroup.desiredSize', message: '9 is outside [minSize, maxSize] = [2, 4]' }),
    ]);
  });

  test('an unknown key (typo) is named, with a suggestion', () => {
    const f = validFleet();
    f.clusters['my-cluster'].systemNodeGroup.instanceType = ['m6i.xlarge'];
    f.clusters['my-cluster'].regoin = 'us-west-2';
    const problems = problemsOf(f);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'clusters.my-cluster.systemNodeGroup.instanceType', message: 'unknown key', fix: 'did you mean "instanceTypes"?' }),
        expect.objectContaining({ path: 'clusters.my-cluster.regoin', message: 'unknown key', fix: 'did you mean "region"?' }),
      ]),
    );
  });

  test('a bad region', () => {
    const f = validFleet();
    f.clusters['my-cluster'].region = 'us-west-9';
    const [p] = problemsOf(f);
    expect(p.path).toBe('clusters.my-cluster.region');
    expect(p.message).toMatch(/"us-west-9" is not an AWS region/);
  });

  test('an unsupported Kubernetes version, and an unquoted one', () => {
    const f = validFleet();
    f.clusters['my-cluster'].kubernetesVersion = '1.22';
    expect(problemsOf(f)[0]).toMatchObject({
      path: 'clusters.my-cluster.kubernetesVersion',
      message: expect.stringMatching(/"1.22" is not supported \(supported: 1.31, .*, 1.36\)/),
    });
    // Past the end of EKS extended support, and no longer built by Bottlerocket.
    for (const gone of ['1.29', '1.30']) {
      f.clusters['my-cluster'].kubernetesVersion = gone;
      expect(problemsOf(f)[0].path).toBe('clusters.my-cluster.kubernetesVersion');
    }
    f.clusters['my-cluster'].kubernetesVersion = 1.3;
    expect(problemsOf(f)[0].path).toBe('clusters.my-cluster.kubernetesVersion');
  });

  test('an invalid CIDR: not an address, host bits set, too small', () => {
    for (const cidr of ['10.0.0.0/33', '10.0.0.1/16', '300.0.0.0/16', '10.0.0.0/26']) {
      const f = validFleet();
      f.clusters['my-cluster'].vpc.cidr = cidr;
      expect(at(problemsOf(f))).toEqual(['clusters.my-cluster.vpc.cidr']);
    }
  });

  test('overlapping CIDRs between clusters', () => {
    const f = validFleet();
    f.clusters.other = { ...f.clusters['my-cluster'], region: 'us-east-1', vpc: { cidr: '10.0.128.0/17' }, karpenter: undefined };
    const problems = problemsOf(f);
    expect(problems).toEqual([
      expect.objectContaining({ path: 'clusters.other.vpc.cidr', message: '10.0.128.0/17 overlaps 10.0.0.0/16 of cluster my-cluster' }),
    ]);
  });

  test('a missing certificate file', () => {
    const f = validFleet();
    f.clusters['my-cluster'].trustedCertificates = ['certs/nope.pem'];
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ path: 'clusters.my-cluster.trustedCertificates[0]', message: expect.stringMatching(/certs\/nope.pem not found/) }),
    ]);
  });

  test('a certificate file that is not PEM, or whose PEM is not a certificate', () => {
    const f = validFleet();
    f.clusters['my-cluster'].trustedCertificates = ['__tests__/fixtures/not-a-cert.pem', '__tests__/fixtures/broken-cert.pem'];
    const problems = problemsOf(f);
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      ['clusters.my-cluster.trustedCertificates[0]', '__tests__/fixtures/not-a-cert.pem holds no PEM certificate block'],
      ['clusters.my-cluster.trustedCertificates[1]', expect.stringMatching(/does not parse as X.509/)],
    ]);
  });

  test('a pool referring to an unknown image cache', () => {
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.nodePools.default.imageCache = 'genral';
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({
        path: 'clusters.my-cluster.karpenter.nodePools.default.imageCache',
        message: 'unknown image cache "genral"',
        fix: 'did you mean "general"?',
      }),
    ]);
  });

  test('duplicate names (a cluster defined twice) are reported with their line', () => {
    const text = [
      'clusters:',
      '  a-cluster: {region: us-west-2, kubernetesVersion: "1.31", vpc: {cidr: 10.0.0.0/16}}',
      '  a-cluster: {region: us-east-1, kubernetesVersion: "1.31", vpc: {cidr: 10.1.0.0/16}}',
      '',
    ].join('\n');
    const [p] = problemsOfText(text);
    expect(p.message).toMatch(/line 3.*unique/i);
    expect(p.fix).toMatch(/each name may appear once/);
  });

  test('a YAML syntax error is reported with its line', () => {
    const [p] = problemsOfText('clusters:\n  my-cluster:\n    region: [us-west-2\n');
    expect(p.message).toMatch(/^YAML syntax error at line \d+/);
  });

  test('every problem is reported at once, not just the first', () => {
    const f = validFleet();
    f.clusters['my-cluster'].region = 'mars-1';
    f.clusters['my-cluster'].vpc.cidr = 'nope';
    f.clusters['my-cluster'].kubernetesVersion = '1.10';
    expect(problemsOf(f).length).toBe(3);
    f.clusters['my-cluster'].systemNodeGroup.minSize = 9;
    expect(at(problemsOf(f)).sort()).toEqual([
      'clusters.my-cluster.kubernetesVersion',
      'clusters.my-cluster.region',
      'clusters.my-cluster.systemNodeGroup.desiredSize',
      'clusters.my-cluster.systemNodeGroup.minSize',
      'clusters.my-cluster.vpc.cidr',
    ]);
  });

  test('once the shape is valid, every file and cross-reference problem is reported together', () => {
    const f = validFleet();
    f.clusters['my-cluster'].trustedCertificates = ['x.pem', 'y.pem'];
    f.clusters['my-cluster'].karpenter.nodePools.default.imageCache = 'nope';
    f.clusters.other = { ...f.clusters['my-cluster'], vpc: { cidr: '10.0.0.0/20' }, karpenter: undefined, trustedCertificates: [] };
    expect(at(problemsOf(f)).sort()).toEqual([
      'clusters.my-cluster.karpenter.nodePools.default.imageCache',
      'clusters.my-cluster.trustedCertificates[0]',
      'clusters.my-cluster.trustedCertificates[1]',
      'clusters.other.vpc.cidr',
    ]);
  });

  test('a fleet without clusters', () => {
    expect(problemsOf({ clusters: {} })).toEqual([expect.objectContaining({ path: 'clusters', message: 'must name at least one cluster' })]);
  });

  test('a vpc that is neither new nor existing', () => {
    const f = validFleet();
    f.clusters['my-cluster'].vpc = {};
    expect(problemsOf(f)[0]).toMatchObject({ path: 'clusters.my-cluster.vpc', message: expect.stringMatching(/either \{cidr/) });
    f.clusters['my-cluster'].vpc = { cidr: '10.0.0.0/16', vpcId: 'vpc-0123456789abcdef0' };
    expect(problemsOf(f)[0]).toMatchObject({ path: 'clusters.my-cluster.vpc.vpcId', message: expect.stringMatching(/other form/) });
    f.clusters['my-cluster'].vpc = { vpcId: 'vpc-0123456789abcdef0', privateSubnetIds: ['subnet-1'] };
    expect(problemsOf(f).map((p) => p.path)).toEqual(['clusters.my-cluster.vpc.privateSubnetIds[0]', 'clusters.my-cluster.vpc.privateSubnetIds']);
  });

  test('a cache used by a cluster in a region that holds no copy', () => {
    const f = validFleet();
    f.imageCaches.general.replicaRegions = [];
    f.clusters['my-cluster'].region = 'eu-west-1';
    f.imageCaches.gpu.replicaRegions = ['eu-west-1'];
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({
        path: 'clusters.my-cluster.karpenter.nodePools.default.imageCache',
        fix: 'add eu-west-1 to imageCaches.general.replicaRegions',
      }),
    ]);
  });

  test('Bottlerocket settings that EKS sets itself, or that do not exist, are rejected by key', () => {
    const f = validFleet();
    f.clusters['my-cluster'].systemNodeGroup.settings = { kubernetes: { 'cluster-name': 'x' }, kernal: { sysctl: {} } };
    expect(problemsOf(f).map((p) => [p.path, p.message])).toEqual([
      ['clusters.my-cluster.systemNodeGroup.settings.kubernetes.cluster-name', 'is set by EKS itself'],
      ['clusters.my-cluster.systemNodeGroup.settings.kernal', expect.stringMatching(/not a Bottlerocket setting/)],
    ]);
  });

  test('a missing fleet file', () => {
    expect(() => loadFleet('/nonexistent/fleet.yaml')).toThrow(FleetValidationError);
    expect(() => loadFleet('/nonexistent/fleet.yaml')).toThrow(/cannot read the fleet file/);
  });
});
