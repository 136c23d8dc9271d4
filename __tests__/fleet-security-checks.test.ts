// Issue 21 (7): fleet-file input that weakens the fleet is refused (or warned about) at load time, each finding
// naming its path and the fix.
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { fleetFrom, problemsOf, tempDir, validFleet, PROJECT_ROOT } from './helpers/fleet';
import { loadFleet } from '../modules/fleet/load';
import { FleetValidationError } from '../modules/fleet/problems';

const FIXTURES = '__tests__/fixtures';
const withFix = (p: { fix?: string }) => Boolean(p.fix && p.fix.length > 10);

describe('the public API endpoint', () => {
  test('public access without endpointPublicAccessCidrs warns, naming the key to set (the migration guide example)', () => {
    const guide = loadFleet(path.join(PROJECT_ROOT, 'examples/migration-guide/fleet.yaml'));
    const w = guide.warnings.find((x) => x.path.endsWith('.endpointPublicAccess'))!;
    expect(w.message).toBe('the Kubernetes API endpoint is public and open to the whole internet (0.0.0.0/0)');
    expect(w.fix).toMatch(/^set clusters\.[a-z0-9-]+\.endpointPublicAccessCidrs to /);
  });

  test('without CIDRs the same cluster warns (regression: 0.0.0.0/0 passed silently)', () => {
    const f = validFleet();
    delete f.clusters['my-cluster'].endpointPublicAccessCidrs;
    expect(fleetFrom(f).warnings.map((w) => w.path)).toEqual(['clusters.my-cluster.endpointPublicAccess']);
  });

  test('with CIDRs there is no warning; CIDRs on a private endpoint warn that they do nothing', () => {
    const f = validFleet();
    f.clusters['my-cluster'].endpointPublicAccessCidrs = ['203.0.113.0/24', '198.51.100.7/32'];
    expect(fleetFrom(f).warnings.filter((w) => w.path.includes('endpoint'))).toEqual([]);
    f.clusters['my-cluster'].endpointPublicAccess = false;
    expect(fleetFrom(f).warnings.map((w) => w.path)).toEqual(['clusters.my-cluster.endpointPublicAccessCidrs']);
  });

  test.each(['not-a-cidr', '10.0.0.1/16', '300.0.0.0/8', '2001:db8::/32', '10.0.0.0'])('the CIDR %s is refused with its path and a fix', (cidr) => {
    const f = validFleet();
    f.clusters['my-cluster'].endpointPublicAccessCidrs = ['203.0.113.0/24', cidr];
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({
        path: 'clusters.my-cluster.endpointPublicAccessCidrs[1]',
        message: expect.stringContaining(`"${cidr}" is not an IPv4 network in CIDR form`),
        fix: expect.stringContaining('203.0.113.0/24'),
      }),
    ]);
  });
});

describe('image-cache parameter paths', () => {
  test.each([
    ['outside the fleet folder', '/bottlerocket-fleet/builder/subnet-ids', /is not under \/bottlerocket-fleet\/image-cache\//],
    ['anywhere else', '/prod/db/password', /the CI policy would grant PutParameter and DeleteParameter on it/],
    ['the folder itself', '/bottlerocket-fleet/image-cache/', /is not under/],
    ['a ".." segment', '/bottlerocket-fleet/image-cache/../builder/subnet-ids', /has an empty, "\." or "\.\." segment/],
    ['an empty segment', '/bottlerocket-fleet/image-cache//x', /has an empty/],
    ['a history name', '/bottlerocket-fleet/image-cache/general/snapshot-id-history', /looks like a history/],
    ['a cluster parameter name', '/bottlerocket-fleet/image-cache/x/clusters/prod', /looks like a history \(-history\) or cluster parameter/],
  ])('%s (%s) is refused with the path and the default as fix', (_name, parameterPath, message) => {
    const f = validFleet();
    f.imageCaches.gpu.parameterPath = parameterPath;
    const problems = problemsOf(f).filter((p) => p.path === 'imageCaches.gpu.parameterPath');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].message).toMatch(message);
    expect(problems[0].fix).toBe(
      'use a path of its own under /bottlerocket-fleet/image-cache/, such as /bottlerocket-fleet/image-cache/gpu/snapshot-id (the default)',
    );
  });

  test.each([
    ['inside its folder', '/bottlerocket-fleet/image-cache/general/snapshot-id/gpu'],
    ['inside its cluster parameters', '/bottlerocket-fleet/image-cache/general/snapshot-id/clusters/x'],
    ['at its history', '/bottlerocket-fleet/image-cache/general/snapshot-id-historyx'],
  ])("a path %s of another cache's parameter is refused, naming that cache", (_name, parameterPath) => {
    const f = validFleet();
    f.imageCaches.gpu.parameterPath = parameterPath;
    expect(problemsOf(f).map((p) => p.message)).toContainEqual(expect.stringContaining('lies inside the parameters of cache general'));
  });

  test('paths of their own under the prefix pass', () => {
    const f = validFleet();
    f.imageCaches.gpu.parameterPath = '/bottlerocket-fleet/image-cache/team-a/gpu';
    expect(fleetFrom(f).imageCaches.find((c) => c.name === 'gpu')!.parameterPath).toBe('/bottlerocket-fleet/image-cache/team-a/gpu');
  });
});

describe('credential-bearing Bottlerocket settings', () => {
  test('settings.aws.credentials is refused, naming the instance role and Pod Identity', () => {
    const f = validFleet();
    f.clusters['my-cluster'].settings = { aws: { credentials: Buffer.from('[default]\naws_secret_access_key = x').toString('base64') } };
    const problems = problemsOf(f).filter((p) => p.path.startsWith('clusters.my-cluster.settings'));
    expect(problems[0]).toMatchObject({
      path: 'clusters.my-cluster.settings.aws.credentials',
      message: 'carries credentials, which would be stored in plain text in user data, in the EC2NodeClass and in Terraform state',
    });
    expect(problems[0].fix).toMatch(/instance role .*Pod Identity/);
  });

  test('a registry password, auth or identity token is refused per entry; a username alone passes', () => {
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.nodePools.default.settings = {
      'container-registry': {
        credentials: [
          { registry: 'docker.io', username: 'me' },
          { registry: 'registry.example.com', username: 'me', password: 'hunter2' },
          { registry: 'quay.io', auth: Buffer.from('me:pw').toString('base64'), identitytoken: 't' },
        ],
      },
    };
    const problems = problemsOf(f);
    expect(problems.map((p) => p.path)).toEqual([
      'clusters.my-cluster.karpenter.nodePools.default.settings.container-registry.credentials[1].password',
      'clusters.my-cluster.karpenter.nodePools.default.settings.container-registry.credentials[2].auth',
      'clusters.my-cluster.karpenter.nodePools.default.settings.container-registry.credentials[2].identitytoken',
    ]);
    expect(problems.every(withFix)).toBe(true);
    expect(problems[0].fix).toMatch(/ECR credential provider .*imagePullSecret/);
  });
});

describe('trusted certificates', () => {
  const certs = (files: string[]) => {
    const f = validFleet();
    f.clusters['my-cluster'].trustedCertificates = files;
    return f;
  };

  test('a leaf certificate is refused: nodes would trust it as an authority', () => {
    expect(problemsOf(certs([`${FIXTURES}/leaf-cert.pem`]))).toEqual([
      expect.objectContaining({
        path: 'clusters.my-cluster.trustedCertificates[0]',
        message: expect.stringMatching(/leaf-cert\.pem is not a CA certificate \(CN=registry\.example\.com; basicConstraints CA:TRUE missing\)/),
        fix: expect.stringContaining('the CA that issued the server certificates'),
      }),
    ]);
  });

  test('an expired CA is refused with its expiry date', () => {
    expect(problemsOf(certs([`${FIXTURES}/expired-ca.pem`]))).toEqual([
      expect.objectContaining({
        path: 'clusters.my-cluster.trustedCertificates[0]',
        message: expect.stringMatching(/expired-ca\.pem expired on 2021-01-01/),
        fix: "replace it with the CA's current certificate",
      }),
    ]);
  });

  test('a file outside the fleet file folder is refused, by path or through a symbolic link', () => {
    const outside = path.join(tempDir('certs-'), 'ca.pem');
    fs.copyFileSync(path.join(PROJECT_ROOT, 'certs/corp-ca.pem'), outside);
    const relative = path.relative(PROJECT_ROOT, path.join(path.dirname(outside), 'ca2.pem'));
    fs.copyFileSync(outside, path.join(PROJECT_ROOT, relative));
    expect(relative.startsWith('..')).toBe(true);
    expect(problemsOf(certs([outside, relative]))).toEqual([
      expect.objectContaining({ path: 'clusters.my-cluster.trustedCertificates[0]', message: expect.stringContaining("is outside the fleet file's folder") }),
      expect.objectContaining({ path: 'clusters.my-cluster.trustedCertificates[1]', message: expect.stringContaining("is outside the fleet file's folder") }),
    ]);
    // A fleet folder with a link that leaves it:
    const dir = tempDir('fleet-');
    fs.symlinkSync(outside, path.join(dir, 'corp.pem'));
    const f = certs(['corp.pem']);
    fs.writeFileSync(path.join(dir, 'fleet.yaml'), stringify(f));
    const e = (() => {
      try {
        loadFleet(path.join(dir, 'fleet.yaml'));
        return undefined;
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(FleetValidationError);
    expect((e as FleetValidationError).problems).toContainEqual(
      expect.objectContaining({
        path: 'clusters.my-cluster.trustedCertificates[0]',
        message: expect.stringContaining(`a link to ${fs.realpathSync(outside)}`),
      }),
    );
  });

  test('a valid CA keeps its subject, SHA-256 fingerprint and expiry for the synth to print', () => {
    const cluster = fleetFrom(certs(['certs/corp-ca.pem'])).clusters[0];
    expect(cluster.trustedCertificates[0].certificates).toEqual([
      {
        subject: 'CN=Example Corp Root CA, O=Example Corp',
        fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
        validTo: expect.stringContaining('2036'),
      },
    ]);
  });
});
