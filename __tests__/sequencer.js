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
  // Quiet full run on the 2-core machine on 2026-12-07, after issue 27's merges of files and batches (docs/benchmarks.md):
  // suite seconds, jest's own timing (the whole run: 112 s wall).
  [/real-tools\/pipeline\.test/, 38], // the README deploy, a cache build process, one apply and one plan of two stacks
  [/real-tools\/terraform-validate\.test/, 20], // every stack, the KMS-replica stacks and the HCL output through one attached provider
  [/real-tools\/upgrade-command\.test/, 16], // the command end to end, then the stacks through Terraform; coarse soaks (was 18)
  [/real-tools\/upgrade-apply\.test/, 11], // the seven upgrade-apply scenarios, one world each; coarse soaks (was 17)
  [/real-tools\/rollout-scenarios\.test/, 17], // with rollout-karpenter's and rollout-cli's blocks; coarse soaks
  [/real-tools\/rollout-terraform\.test/, 14], // one init, one apply and one plan for both stacks
  [/real-tools\/snapshot-provenance\.test/, 9], // was 70 before its one-plan batch
  [/aws-deadlines\.test/, 7],
  [/real-tools\/cluster-names\.test/, 7], // was 44: 11 Terraform processes became 2
  [/real-tools\/cache-builder-process\.test/, 6],
  [/ci-policy\.test/, 5],
];
/** Suites with no timing and no estimate that are still slower than the unit tests (real processes). */
const UNTIMED = [
  [/real-tools\//, 4],
  [/migrate-drain/, 3],
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
