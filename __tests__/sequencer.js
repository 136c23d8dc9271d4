/**
 * Longest suites first, so that with two workers the long ones start at once on separate workers and none
 * starts last and stretches the run (longest-processing-time-first: the short ones fill the gaps at the end).
 * A suite's expected duration is jest's own timing from the last run when it has one, else the estimate below
 * (a clean clone has no timings, and jest would then order by file size: the 70 s suite started 12th).
 * A suite that failed last time still runs first, as jest does.
 */
const Sequencer = require('@jest/test-sequencer').default;

/**
 * Seconds each suite took in the last clean CI run (2 workers on 2 cores, issue 27 item 5). Only the order
 * matters: a suite missing here that matches a pattern of UNTIMED runs before the unit tests.
 */
const ESTIMATES = [
  // Quiet full run on the 2-core machine after issue 27's batching (docs/benchmarks.md): suite seconds, jest's own timing.
  [/real-tools\/pipeline\.test/, 38], // was 48: the README deploy, a cache build process, one apply and one plan of two stacks
  [/real-tools\/rollout-terraform\.test/, 19], // was 29: one init and one plan for both stacks, coarse soaks (docs/benchmarks.md)
  [/real-tools\/upgrade-command\.test/, 17], // was 26: one keep-alive connection per cluster; the command end to end, then the stacks through Terraform
  [/real-tools\/upgrade-apply\.test/, 25], // the seven upgrade-apply scenarios in one file (were 7 suites of ~7 s)
  [/real-tools\/rollout-scenarios\.test/, 16], // rollout-karpenter (17) and rollout-cli merged into it; coarse soaks
  [/real-tools\/snapshot-provenance\.test/, 13], // was 70 before its one-plan batch
  // Every stack through validate, the KMS-replica stacks, and the HCL output (was hcl-terraform, 13 s): one attached provider.
  [/real-tools\/terraform-validate\.test/, 20],
  [/real-tools\/cache-builder-process\.test/, 9],
  [/real-tools\/cluster-names\.test/, 8], // was 44: 11 Terraform processes became 2
  [/aws-deadlines\.test/, 8], // was 14: 100 ms request timeouts where the test asserts the deadline, not its default
];
/** Suites with no timing and no estimate that are still slower than the unit tests (real processes). */
const UNTIMED = [
  [/real-tools\//, 10],
  [/rollout-(scenarios|cli)/, 8],
  [/migrate-drain/, 6],
];

/** Expected milliseconds: jest's timing of the last run, else the estimate, else undefined. */
function expectedMs(test, timed) {
  if (timed !== undefined) return timed;
  const hit = [...ESTIMATES, ...UNTIMED].find(([pattern]) => pattern.test(test.path));
  return hit ? hit[1] * 1000 : undefined;
}

class LongestFirst extends Sequencer {
  sort(tests) {
    // jest's order (file size where it has no timing) breaks ties and orders the suites with no expectation.
    const ordered = [...super.sort(tests)];
    const position = new Map(ordered.map((t, i) => [t, i]));
    const expected = new Map(ordered.map((t) => [t, expectedMs(t, this.time(t))]));
    const key = (t) => [this.hasFailed(t) ? 0 : 1, expected.get(t) === undefined ? 1 : 0, -(expected.get(t) ?? 0), position.get(t)];
    return ordered.sort((a, b) => {
      const [ka, kb] = [key(a), key(b)];
      const i = ka.findIndex((v, j) => v !== kb[j]);
      return i < 0 ? 0 : ka[i] - kb[i];
    });
  }
}
module.exports = LongestFirst;
module.exports.expectedMs = expectedMs;
