/**
 * Issue 28 item 6: what a new user meets when the fleet file is wrong. Each test is a failing input from the
 * issue's "Why" list; each problem says where, what and the fix, and only once.
 */
import * as fs from 'fs';
import { DEFAULT_FLEET, problemsOf, problemsOfText, validFleet } from './helpers/fleet';

const fleetYaml = fs.readFileSync(DEFAULT_FLEET, 'utf8');

describe('a misspelled key', () => {
  test('regoin is reported with "did you mean region", and region is not also reported', () => {
    const f = validFleet();
    const c = f.clusters['my-cluster'];
    c.regoin = c.region;
    delete c.region;
    expect(problemsOf(f)).toEqual([{ path: 'clusters.my-cluster.regoin', message: 'unknown key', fix: 'did you mean "region"?' }]);
  });

  test('a misspelled optional key next to a wrong value elsewhere: both are reported, each once', () => {
    const f = validFleet();
    f.clusters['my-cluster'].kubernetesVerison = '1.35';
    delete f.clusters['my-cluster'].kubernetesVersion;
    f.imageCaches.general.dataVolumeGiB = 1;
    const problems = problemsOf(f);
    expect(problems.map((p) => p.path).sort()).toEqual(['clusters.my-cluster.kubernetesVerison', 'imageCaches.general.dataVolumeGiB']);
    expect(problems.map((p) => p.message).join('\n')).not.toContain('undefined');
  });
});

describe('a missing required field', () => {
  test('kubernetesVersion: says it is missing and what to add, never "undefined"', () => {
    const f = validFleet();
    delete f.clusters['my-cluster'].kubernetesVersion;
    const [p, ...rest] = problemsOf(f);
    expect(rest).toEqual([]);
    expect(p).toEqual({
      path: 'clusters.my-cluster.kubernetesVersion',
      message: 'is missing (required)',
      fix: expect.stringMatching(/^add kubernetesVersion: one of 1\.31, .*1\.36 under clusters\.my-cluster$/),
    });
  });

  test('region: says it is missing, without the list of every region as a complaint', () => {
    const f = validFleet();
    delete f.clusters['my-cluster'].region;
    expect(problemsOf(f)).toEqual([
      {
        path: 'clusters.my-cluster.region',
        message: 'is missing (required)',
        fix: expect.stringMatching(/^add region: one of us-east-1, .*, \.\.\. under clusters\.my-cluster$/),
      },
    ]);
  });

  test('a missing images list asks for a list', () => {
    const f = validFleet();
    delete f.imageCaches.general.images;
    expect(problemsOf(f)).toEqual([
      { path: 'imageCaches.general.images', message: 'is missing (required)', fix: 'add images: a list under imageCaches.general' },
    ]);
  });

  test('a missing vpc names both forms; a missing backend type its values; missing clusters asks for a mapping', () => {
    const f = validFleet();
    delete f.clusters['my-cluster'].vpc;
    expect(problemsOf(f)).toEqual([
      {
        path: 'clusters.my-cluster.vpc',
        message: 'is missing (required)',
        fix: 'add vpc: {cidr: 10.0.0.0/16} for a new VPC, or {vpcId, privateSubnetIds} for an existing one under clusters.my-cluster',
      },
    ]);
    const g = validFleet();
    g.backend = { directory: 'state' };
    expect(problemsOf(g)).toEqual([{ path: 'backend.type', message: 'is missing (required)', fix: 'add type: one of local, cloud, s3 under backend' }]);
    expect(problemsOfText('tags: {team: platform}\n')).toEqual([
      { path: 'clusters', message: 'is missing (required)', fix: 'add clusters: a mapping of names to entries' },
    ]);
  });
});

test.each([
  ['an empty file', ''],
  ['a file of comments only', '# fleet.yaml\n# nothing yet\n'],
])('%s says the file is empty', (_, text) => {
  expect(problemsOfText(text)).toEqual([{ path: '', message: 'the fleet file is empty', fix: expect.stringContaining('clusters') }]);
});

test('minSize 5 with maxSize 4 is one problem naming both fields, not "desiredSize between 5 and 4"', () => {
  const f = validFleet();
  Object.assign(f.clusters['my-cluster'].systemNodeGroup, { minSize: 5, maxSize: 4, desiredSize: 4 });
  expect(problemsOf(f)).toEqual([
    {
      path: 'clusters.my-cluster.systemNodeGroup.minSize',
      message: 'must not exceed maxSize (4)',
      fix: 'lower minSize to at most 4 or raise maxSize to at least 5',
    },
  ]);
});

test('one indentation error in fleet.yaml is one problem, with its line', () => {
  const text = fleetYaml.replace('\n    region: us-west-2\n', '\n      region: us-west-2\n');
  expect(text).not.toBe(fleetYaml);
  const problems = problemsOfText(text);
  expect(problems).toHaveLength(1);
  expect(problems[0].message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  expect(problems[0].fix).toMatch(/^fix the YAML syntax at that line \(often its indentation\); the parser's \d+ later complaint\(s\) follow from it$/);
});

test('duplicate keys are each reported', () => {
  const problems = problemsOfText('clusters: {}\nclusters: {}\nimageCaches: {}\nimageCaches: {}\n');
  expect(problems.map((p) => p.fix)).toEqual([
    'each name may appear once: rename or remove the duplicate',
    'each name may appear once: rename or remove the duplicate',
  ]);
});

/** Nine levels of nine aliases: a billion-laughs document of a few hundred bytes. */
const ALIAS_BOMB =
  ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n') +
  '\n';

test('a YAML alias bomb is a fleet-file problem, not a crash', () => {
  expect(problemsOfText(ALIAS_BOMB)).toEqual([
    { path: '', message: expect.stringMatching(/^YAML aliases expand too far .*more than 100 alias uses/), fix: expect.stringContaining('fewer aliases') },
  ]);
});
