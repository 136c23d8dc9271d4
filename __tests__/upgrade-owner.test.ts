/**
 * Which `upgrade apply` process owns a cluster (cli/upgrade/owner.ts): another run's live claim refuses a second run;
 * a stale one (not renewed within the lease, or a dead process of this host) is taken over; a claim that does not
 * parse is refused, naming how to remove it.
 */
import { checkOwner, claimValue, LEASE_MS, UpgradeOwned } from '../cli/upgrade/owner';

const me = { run: 'second', host: 'build-host', pid: 200 };
const now = 1_000_000_000;
const classWith = (owner: string) => ({ name: 'default', annotations: { 'bottlerocket-fleet/upgrade-owner': owner } });
const check =
  (owner: string, alive = true) =>
  () =>
    checkOwner('ml-train', [classWith(owner)], me, now, () => alive);
const claim = (o: Partial<typeof me>, ageMs: number) => claimValue({ ...me, run: 'first', pid: 100, ...o }, now - ageMs);

test("another run's claim renewed within the lease refuses, naming it; this run's own claim passes", () => {
  expect(check(claim({}, 10_000))).toThrow(UpgradeOwned);
  expect(check(claim({ host: 'other-host' }, LEASE_MS))).toThrow(/another upgrade apply owns it \(run first, pid 100 on other-host, renewed 120s ago/);
  expect(check(claimValue(me, now - 10_000))).not.toThrow();
  expect(() => checkOwner('ml-train', [undefined, { name: 'batch', annotations: {} }], me, now)).not.toThrow();
});

test('a stale claim is taken over: older than the lease, or a process of this host that is gone', () => {
  expect(check(claim({ host: 'other-host' }, LEASE_MS + 1))).not.toThrow();
  expect(check(claim({}, 10_000), false)).not.toThrow();
  // A dead pid on ANOTHER host says nothing: only the lease decides there.
  expect(check(claim({ host: 'other-host' }, 10_000), false)).toThrow(UpgradeOwned);
});

test('a claim that does not parse is refused, naming the command that removes it', () => {
  expect(check('someone')).toThrow(/kubectl annotate ec2nodeclass default bottlerocket-fleet\/upgrade-owner-/);
  expect(check(JSON.stringify({ run: 'x' }))).toThrow(UpgradeOwned);
});
