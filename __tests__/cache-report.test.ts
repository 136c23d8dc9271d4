/**
 * `cache report` against the fake API server (FakeKube + FakeCacheCluster): the scenario of a pool
 * with hits, a regional miss, an uncached large image, an unused image and a slow start, with kubelet's
 * events in every message form (old and new wording, with and without the field-path prefix, aggregated
 * by count and by series.count) behind more than two pages of other events.
 */
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../cli/cache/main';
import { parseGoDuration, parseKubeletImageEvent } from '../cli/cache/kubelet-events';
import { aliasOf } from '../cli/cache/image-identity';
import { percentile } from '../cli/cache/measure';
import { cacheNamesFor } from '../cli/cache/cache-names';
import { shortImageName } from '../cli/cache/report-html';
import { captureMain } from './helpers/capture';
import { BIG, CacheReportWorld, MODEL_SERVER, NGINX, NOW, TRAINER_EAST, TRAINER_HOME } from './helpers/cache-report-world';

describe('kubelet image events (pkg/kubelet/images/image_manager.go, 1.31-1.36)', () => {
  test.each([
    ['Container image "nginx:1.27" already present on machine', { kind: 'present', image: 'nginx:1.27' }],
    ['Container image "nginx:1.27" already present on machine and can be accessed by the pod', { kind: 'present', image: 'nginx:1.27' }],
    ['spec.containers{web}: Container image "nginx:1.27" already present on machine and can be accessed by the pod', { kind: 'present', image: 'nginx:1.27' }],
    ['spec.initContainers{init}: Container image "busybox" already present on machine', { kind: 'present', image: 'busybox' }],
    ['(combined from similar events): Container image "a/b:1" already present on machine', { kind: 'present', image: 'a/b:1' }],
    [
      'Successfully pulled image "ghcr.io/x/y:1" in 1m4.5s (1m10s including waiting). Image size: 3500000000 bytes.',
      { kind: 'pulled', image: 'ghcr.io/x/y:1', pullSeconds: 64.5, totalSeconds: 70, bytes: 3500000000 },
    ],
    ['Successfully pulled image "x:1" in 350ms (1.2s including waiting)', { kind: 'pulled', image: 'x:1', pullSeconds: 0.35, totalSeconds: 1.2 }],
    ['Failed to pull image "x:1": rpc error: code = NotFound', { kind: 'failed', image: 'x:1', error: 'rpc error: code = NotFound' }],
    ['Container image "x:1" is not present with pull policy of Never', { kind: 'failed', image: 'x:1', error: 'not present with pull policy Never' }],
  ])('%s', (message, expected) => {
    expect(parseKubeletImageEvent(message)).toEqual(expected);
  });

  test('other kubelet messages are not image events', () => {
    for (const m of [
      'Pulling image "x:1"',
      'Back-off pulling image "x:1"',
      'Container started',
      'Successfully pulled image "x:1" in soon (now including waiting)',
    ])
      expect(parseKubeletImageEvent(m)).toBeUndefined();
  });

  test("Go's Duration.String() forms", () => {
    expect([parseGoDuration('0s'), parseGoDuration('1h2m3.5s'), parseGoDuration('12µs'), parseGoDuration('2m0s'), parseGoDuration('5 s')]).toEqual([
      0,
      3723.5,
      12e-6,
      120,
      undefined,
    ]);
  });
});

describe('names and percentiles', () => {
  test('a long image name is shortened in the middle: the registry host (with its region) and the tag stay', () => {
    const long = '111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/ml/team-a/trainer-with-a-long-name:2.1';
    const short = shortImageName(long);
    expect(short).toBe('111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/…-name:2.1');
    expect(short.length).toBeLessThanOrEqual(60);
    expect(shortImageName(TRAINER_EAST)).toBe(TRAINER_EAST); // short enough: whole
    // No registry host, or one too long to keep: both ends, evenly.
    expect(shortImageName(`library/${'x'.repeat(80)}:1`, 21)).toBe(`library/${'x'.repeat(2)}…${'x'.repeat(8)}:1`);
  });

  test("a cache's names for a region are issue 19's: the regional name, and repository@digest when the digest is known", () => {
    const cache = {
      imageTemplates: ['redis:7.4', '111122223333.dkr.ecr.{region}.amazonaws.com/ml/trainer:2.1'],
      homeRegion: 'us-west-2',
      regions: ['us-west-2', 'us-east-1'],
    };
    expect(cacheNamesFor(cache, 'us-east-1')).toEqual([
      { image: 'docker.io/library/redis:7.4', names: ['docker.io/library/redis:7.4'] },
      { image: TRAINER_HOME, names: [TRAINER_EAST] },
    ]);
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(cacheNamesFor(cache, 'us-east-1', [undefined, digest])[1].names).toEqual([
      TRAINER_EAST,
      `111122223333.dkr.ecr.us-east-1.amazonaws.com/ml/trainer@${digest}`,
    ]);
  });
  test('a regional ECR name and a digest reference are aliases of a cached name; another tag is not', () => {
    expect(aliasOf(TRAINER_EAST, TRAINER_HOME)).toBe('regional');
    expect(aliasOf(`111122223333.dkr.ecr.us-west-2.amazonaws.com/ml/trainer@sha256:${'a'.repeat(64)}`, TRAINER_HOME)).toBe('digest');
    expect(aliasOf('111122223333.dkr.ecr.us-east-1.amazonaws.com/ml/trainer:2.2', TRAINER_HOME)).toBeUndefined();
    expect(aliasOf(TRAINER_HOME, TRAINER_HOME)).toBeUndefined();
    expect(aliasOf('222233334444.dkr.ecr.us-east-1.amazonaws.com/ml/trainer:2.1', TRAINER_HOME)).toBeUndefined();
  });
  test('nearest-rank percentiles', () => {
    expect([
      percentile([], 50),
      percentile([7], 90),
      percentile([4, 5, 6, 80, 90, 160, 300, 620], 50),
      percentile([4, 5, 6, 80, 90, 160, 300, 620], 90),
    ]).toEqual([null, 7, 80, 620]);
  });
});

describe('cache report --cluster east', () => {
  const w = new CacheReportWorld();
  beforeAll(async () => {
    w.populate();
    await w.start();
  });
  afterAll(() => w.stop());
  const run = (args: string[]) => captureMain(main, ['report', '--cluster', 'east', ...args], w.env(), { now: () => NOW });

  test('--json: counts, bytes, seconds, percentiles, statuses and suggestions per pool', async () => {
    const r = await run(['--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.cluster).toBe('east');
    expect(report.since).toBe('2026-11-25T11:00:00.000Z');
    const [batch, plain] = report.pools;
    expect(Object.keys(batch)).toEqual(['pool', 'imageCache', 'nodes', 'cacheHitRatio', 'images', 'slowStarts', 'suggestions', 'podStartSeconds']);
    expect(batch).toMatchObject({
      pool: 'batch',
      imageCache: 'general',
      nodes: { launched: 3, registeredSeconds: { p50: 30, p90: 40, max: 40 }, initializedSeconds: { p50: 45, p90: 60, max: 60 } },
      // hits: nginx 1 + 3 (series.count) + 2 (count) and the model server 1; misses: the trainer's 2 pulls.
      cacheHitRatio: 0.778,
      podStartSeconds: { p50: 80, p90: 620 },
    });
    expect(batch.images).toEqual([
      { image: TRAINER_EAST, status: 'miss', hits: 0, pulls: 2, pulledBytes: 3_500_000_000, pullSeconds: 122.7, failures: 0 },
      { image: BIG, status: 'uncached', hits: 0, pulls: 2, pulledBytes: 24_000_000_000, pullSeconds: 280.3, failures: 2 },
      { image: MODEL_SERVER, status: 'hit', hits: 1, pulls: 0, pulledBytes: 0, pullSeconds: 0, failures: 0 },
      { image: NGINX, status: 'hit', hits: 6, pulls: 0, pulledBytes: 0, pullSeconds: 0, failures: 0 },
      { image: 'docker.io/library/redis:7.4', status: 'unused', hits: 0, pulls: 0, pulledBytes: 0, pullSeconds: 0, failures: 0 },
    ]);
    expect(batch.slowStarts).toEqual([
      {
        pod: 'default/serve-1',
        container: 'serve',
        image: MODEL_SERVER,
        node: 'node-batch-c',
        presentAt: '2026-11-25T11:31:01.000Z',
        startedAt: '2026-11-25T11:41:13.000Z',
        delaySeconds: 612,
        advice: expect.stringMatching(/fastSnapshotRestoreAzs\.us-east-1.*initializationRateMiBps/),
      },
    ]);
    expect(batch.suggestions.map((s: { action: string; image: string }) => [s.action, s.image])).toEqual([
      ['alias', TRAINER_EAST],
      ['add', BIG],
      ['remove', 'docker.io/library/redis:7.4'],
    ]);
    expect(batch.suggestions[0].reason).toContain(`the cache holds ${TRAINER_HOME}`);
    expect(batch.suggestions[0].reason).toContain('the name in us-east-1');
    expect(batch.suggestions[1].reason).toBe('not in general, pulled anyway: 2 pull(s), 24.0 GB, 280.3 s on new nodes');
    expect(plain).toEqual({
      pool: 'plain',
      imageCache: null,
      nodes: { launched: 2, registeredSeconds: { p50: 30, p90: 35, max: 35 }, initializedSeconds: { p50: 200, p90: 240, max: 240 } },
      cacheHitRatio: null,
      images: [
        { image: BIG, status: 'uncached', hits: 0, pulls: 1, pulledBytes: 12_000_000_000, pullSeconds: 120, failures: 0 },
        { image: NGINX, status: 'uncached', hits: 0, pulls: 1, pulledBytes: 72_000_000, pullSeconds: 3.2, failures: 0 },
      ],
      slowStarts: [],
      suggestions: [],
      podStartSeconds: { p50: 30, p90: 150 },
    });
  });

  test('every list is read to its last page (limit + continue)', async () => {
    w.cluster.pages.length = 0;
    await run(['--json']);
    expect(w.cluster.pages.filter((p) => p.startsWith('/api/v1/events'))).toEqual([
      '/api/v1/events offset 0',
      '/api/v1/events offset 500',
      '/api/v1/events offset 1000',
    ]);
  });

  test('text: a table per pool, pod start-up side by side, then the suggestions', async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('cache report for cluster east: nodes launched since 2026-11-25T11:00:00.000Z');
    expect(r.stdout).toContain('pool batch (cache general): 3 node(s) launched, cache hit ratio 77.8%');
    expect(lines.find((l) => l.includes(TRAINER_EAST))).toMatch(/miss\s+0\s+2\s+3\.5 GB\s+122\.7\s+0$/);
    expect(lines.find((l) => l.includes('docker.io/library/redis:7.4') && !l.includes('remove'))).toMatch(/unused\s+0\s+0\s+-\s+-\s+0$/);
    expect(lines.find((l) => l.includes('created -> Initialized') && l.startsWith('  c'))).toMatch(/45\.0\s+60\.0\s+60\.0$/);
    expect(r.stdout).toContain('default/serve-1 container serve (' + MODEL_SERVER + ') on node-batch-c: started 612 s after the image was present');
    expect(r.stdout).toMatch(
      /pool\s+cache\s+pods p50\s+pods p90\s+nodes p50\n\s+batch\s+general\s+80\.0\s+620\.0\s+45\.0\n\s+plain\s+-\s+30\.0\s+150\.0\s+200\.0/,
    );
    expect(r.stdout).toMatch(
      /suggestions:\n {2}alias {2}.*\n {2}add {4}ghcr\.io\/acme\/big-model:3 \(pool batch\).*\n {2}remove docker\.io\/library\/redis:7\.4/,
    );
  });

  test('--html: one self-contained page with the three charts, nothing fetched', async () => {
    const file = path.join(w.dir, 'report.html');
    const r = await run(['--html', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`wrote ${file}\n`);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/<script|<link|\b(src|href)=/i);
    const chart = (id: string) => html.match(new RegExp(`<svg[^>]*data-chart="${id}"[\\s\\S]*?</svg>`))![0];
    // Start-up: node p50, pod p50, pod p90 per pool; hits: one bar of three segments per pool; pulls: the 4 pulled images of both pools.
    expect(chart('startup').match(/class="bar"/g)).toHaveLength(6);
    expect(chart('hits').match(/class="bar"/g)).toHaveLength(6);
    expect(chart('hits')).toContain('7 hits, 2 misses, 2 uncached pulls');
    expect(chart('pulls').match(/<title>[^<]*<\/title>/g)).toEqual([
      `<title>${BIG} (pool batch, uncached)</title>`,
      `<title>${BIG} (pool plain, uncached)</title>`,
      `<title>${TRAINER_EAST} (pool batch, miss)</title>`,
      `<title>${NGINX} (pool plain, uncached)</title>`,
    ]);
    expect(html).toContain('<strong>alias</strong>');
  });

  // Issue 28 (9): long names were cut from the left ("…1.amazonaws.com/ml/trainer:2.1"), hiding the registry's region,
  // the very thing that tells the regional miss (us-east-1 copy pulled in us-west-2) apart.
  test('--html: the biggest-pulls labels keep the registry host with its region', async () => {
    const file = path.join(w.dir, 'report-names.html');
    expect((await run(['--html', file])).code).toBe(0);
    const labels = [...fs.readFileSync(file, 'utf8').matchAll(/<text[^>]*text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toContain(`${TRAINER_EAST} (batch)`);
    expect(labels.filter((l) => l.startsWith('…'))).toEqual([]);
  });

  // Issue 28 (9): an empty window drew three empty charts and pools of "- s" with no word of why.
  test('--html and text: an empty window says so and what to do, with no chart', async () => {
    const file = path.join(w.dir, 'report-empty.html');
    const r = await run(['--since', '1s', '--html', file]);
    expect(r.code).toBe(0);
    const since = new Date(NOW - 1000).toISOString();
    expect(r.stdout).toContain(`no node launched since ${since}; try a wider --since`);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toContain(`no node launched since ${since}; try a wider --since`);
    expect(html).not.toContain('<svg');
    expect(html).not.toMatch(/- s\b/);
  });

  test('a context the kubeconfig lacks, or one that reaches another region, changes nothing and exits 1', async () => {
    const missing = await run(['--context', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('kubeconfig has no context "nope"');
    w.cluster.nodes.push({ name: 'stranger', labels: { 'topology.kubernetes.io/region': 'eu-west-1' } });
    try {
      const elsewhere = await run([]);
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toContain('node stranger is in eu-west-1, the fleet file puts east in us-east-1');
    } finally {
      w.cluster.nodes.pop();
    }
  });

  test.each([
    [['report'], 'missing --cluster <name>'],
    [['report', '--cluster', 'east', '--since', 'an hour'], '"an hour" is not a duration'],
    [['report', '--cluster', 'west'], 'unknown cluster "west" (known: east)'],
    [['report', '--cluster', 'east', 'extra'], 'unexpected argument(s): extra'],
  ])('usage error %j exits 2', async (argv, message) => {
    const r = await captureMain(main, argv, w.env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('report --cluster <name>');
  });
});
