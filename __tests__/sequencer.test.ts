/**
 * The test order (issue 27 item 5): with two workers the longest suites must start first, on a clean clone
 * (no timings: the estimates) as on a warm run (jest's timings); jest's file-size order left the slowest suite
 * (snapshot-provenance, 70 s in CI) starting 12th.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest loads the sequencer as CommonJS
const LongestFirst = require('./sequencer');

/** A jest Test with no cached timing (config.cache off) and a file size. */
function suite(file: string, size: number, context: object) {
  return { path: `/repo/__tests__/${file}`, context, duration: undefined as number | undefined, size };
}
function contextOf(sizes: Map<string, number>) {
  return { config: { cache: false, id: 'test', cacheDirectory: '/nonexistent' }, hasteFS: { getSize: (p: string) => sizes.get(p) ?? 0 } };
}
function order(files: [string, number][], timings: Record<string, [number, number]> = {}): string[] {
  const sizes = new Map(files.map(([f, size]) => [`/repo/__tests__/${f}`, size]));
  const context = contextOf(sizes);
  const sequencer = new LongestFirst({});
  // jest's own cache of the last run: path -> [0 failed | 1 passed, milliseconds].
  sequencer._cache.set(context, Object.fromEntries(Object.entries(timings).map(([f, t]) => [`/repo/__tests__/${f}`, t])));
  return sequencer.sort(files.map(([f, size]) => suite(f, size, context))).map((t: { path: string }) => t.path.replace('/repo/__tests__/', ''));
}

const CLEAN_CLONE: [string, number][] = [
  ['real-tools/cache-builder-process.test.ts', 506],
  ['real-tools/terraform-validate.test.ts', 301],
  ['real-tools/rollout-scenarios.test.ts', 494],
  ['real-tools/rollout-policy.test.ts', 96],
  ['real-tools/snapshot-provenance.test.ts', 192],
  ['real-tools/pipeline.test.ts', 173],
  ['real-tools/cluster-names.test.ts', 125],
  ['aws-deadlines.test.ts', 150],
  ['fleet-validation.test.ts', 900],
  ['sleep.test.ts', 30],
];

test('a clean clone (no timings) starts the slowest suites of the last CI run first, longest first, then the other real-tool suites, then the unit tests by size', () => {
  expect(order(CLEAN_CLONE)).toEqual([
    'real-tools/pipeline.test.ts',
    'real-tools/terraform-validate.test.ts',
    'real-tools/rollout-scenarios.test.ts',
    'real-tools/snapshot-provenance.test.ts',
    'aws-deadlines.test.ts',
    'real-tools/cluster-names.test.ts',
    'real-tools/cache-builder-process.test.ts',
    'real-tools/rollout-policy.test.ts',
    'fleet-validation.test.ts',
    'sleep.test.ts',
  ]);
});

test("a warm run orders by jest's own timings of the last run, not the estimates, and a suite that failed last time still runs first", () => {
  // Timings that invert the estimates: the fastest-estimated suite took longest last time.
  const timings: Record<string, [number, number]> = Object.fromEntries(CLEAN_CLONE.map(([f], i) => [f, [1, (i + 1) * 1000] as [number, number]]));
  timings['real-tools/rollout-scenarios.test.ts'] = [0, 500]; // failed last time
  expect(order(CLEAN_CLONE, timings)).toEqual([
    'real-tools/rollout-scenarios.test.ts',
    ...CLEAN_CLONE.map(([f]) => f)
      .filter((f) => f !== 'real-tools/rollout-scenarios.test.ts')
      .reverse(),
  ]);
});
