/**
 * Runs the longest suites first (the real-tool tier and the rollout scenarios), so that on a cold run, when
 * jest knows no durations yet, they never start last and stretch the run; the rest as jest would order them.
 */
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = [/real-tools\/pipeline/, /real-tools\//, /rollout-(scenarios|cli)/, /migrate-drain/];
const rank = (p) => {
  const i = FIRST.findIndex((r) => r.test(p));
  return i < 0 ? FIRST.length : i;
};

class SlowFirst extends Sequencer {
  sort(tests) {
    return [...super.sort(tests)].sort((a, b) => rank(a.path) - rank(b.path));
  }
}
module.exports = SlowFirst;
