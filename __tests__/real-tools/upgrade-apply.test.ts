/**
 * `upgrade apply` through its engine (cli/upgrade/apply.ts) against the emulator and two simulated clusters: the
 * scenarios of `upgrade-apply/`, one describe block each with a world of its own (helpers/upgrade-world.ts), set up
 * before its tests and stopped after them. They are one test file so that jest loads the engine, the SDK clients and
 * the Kubernetes client once for all of them, not once per scenario (issue 27 item 5, docs/benchmarks.md); run one
 * scenario with `-t`, e.g. `npx jest __tests__/real-tools/upgrade-apply.test.ts -t 'interrupted'`.
 */
import './upgrade-apply/release';
import './upgrade-apply/failure';
import './upgrade-apply/generation';
import './upgrade-apply/interrupt';
import './upgrade-apply/minor';
import './upgrade-apply/minor-failure';
import './upgrade-apply/build';
