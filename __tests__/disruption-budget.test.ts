/**
 * Disruption budgets as Karpenter v1.14.1 computes them (kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go
 * and pkg/controllers/disruption/helpers.go), and the fleet loader's checks on them.
 */
import { allowedDisruptions, budgetActive, poolBudget, UNLIMITED } from '../modules/karpenter/disruption-budget';
import { fleetFrom, problemsOf } from './helpers/fleet';
import { rolloutFleet } from './helpers/rollout-fixtures';

const at = (iso: string) => new Date(iso);
const node = (name: string, o: Partial<{ initialized: boolean; ready: boolean; deleting: boolean; terminating: boolean }> = {}) => ({
  name,
  initialized: true,
  ready: true,
  deleting: false,
  ...o,
});

describe('Budget.IsActive and GetAllowedDisruptions (nodepool.go)', () => {
  const window = { nodes: '2', reasons: ['Drifted'], schedule: '0 22 * * *', duration: '6h' };

  test('a scheduled budget is active from its cron hit for its duration, in UTC', () => {
    expect(budgetActive(window, at('2026-11-25T22:00:00Z'))).toBe(true);
    expect(budgetActive(window, at('2026-11-26T03:59:00Z'))).toBe(true);
    expect(budgetActive(window, at('2026-11-26T04:01:00Z'))).toBe(false);
    expect(budgetActive(window, at('2026-11-25T12:00:00Z'))).toBe(false);
  });

  test('outside its window a scheduled budget is unlimited, not its nodes value: it does not confine drift', () => {
    expect(allowedDisruptions([window], at('2026-11-25T12:00:00Z'), 10, 'Drifted')).toEqual({ allowed: UNLIMITED, limitedBy: undefined });
    expect(allowedDisruptions([window], at('2026-11-25T23:00:00Z'), 10, 'Drifted')).toEqual({ allowed: 2, limitedBy: 0 });
  });

  test('the minimum over budgets with no reasons or with Drifted: driftBudget 20% under the default 10% has no effect', () => {
    const budgets = [{ nodes: '10%' }, { nodes: '20%', reasons: ['Drifted'] }, { nodes: '0', reasons: ['Underutilized'] }];
    expect(allowedDisruptions(budgets, at('2026-11-25T12:00:00Z'), 30, 'Drifted')).toEqual({ allowed: 3, limitedBy: 0 });
  });

  test('percentages are rounded up: 10% of 3 nodes is 1, 5% of 41 is 3', () => {
    expect(allowedDisruptions([{ nodes: '10%' }], at('2026-11-25T12:00:00Z'), 3, 'Drifted').allowed).toBe(1);
    expect(allowedDisruptions([{ nodes: '5%' }], at('2026-11-25T12:00:00Z'), 41, 'Drifted').allowed).toBe(3);
    expect(allowedDisruptions([{ nodes: '10%' }], at('2026-11-25T12:00:00Z'), 0, 'Drifted').allowed).toBe(0);
  });

  test('a budget Karpenter cannot parse makes the pool fail closed, even one for another reason', () => {
    const r = allowedDisruptions(
      [{ nodes: '5' }, { nodes: '1', reasons: ['Empty'], schedule: '0 0 * * * *', duration: '1h' }],
      at('2026-11-25T12:00:00Z'),
      9,
      'Drifted',
    );
    expect(r.allowed).toBe(0);
    expect(r.error).toMatch(/budget 1 .*five fields/);
  });
});

describe('BuildDisruptionBudgetMapping (helpers.go)', () => {
  const now = at('2026-11-25T12:00:00Z');

  test('one NotReady old node uses up a budget of 1', () => {
    const b = poolBudget([{ nodes: '1', reasons: ['Drifted'] }], [node('a', { ready: false }), node('b'), node('c')], now);
    expect(b).toMatchObject({ allowed: 1, numNodes: 3, disrupting: ['a'], remaining: 0 });
  });

  test('a node being deleted uses the budget; uninitialized and terminating nodes are not counted at all', () => {
    const b = poolBudget(
      [{ nodes: '50%' }],
      [node('a', { deleting: true }), node('b'), node('c', { initialized: false, ready: false }), node('d', { terminating: true, ready: false })],
      now,
    );
    expect(b).toMatchObject({ numNodes: 2, allowed: 1, disrupting: ['a'], remaining: 0 });
  });
});

describe('the loader checks budgets', () => {
  test('a driftBudget above another budget that applies to drift is warned about, naming it', () => {
    const f = rolloutFleet();
    f.clusters['ml-train'].karpenter.nodePools.batch.driftBudget = '20%';
    expect(fleetFrom(f).warnings).toContainEqual({
      path: 'clusters.ml-train.karpenter.nodePools.batch.driftBudget',
      message:
        'driftBudget "20%" exceeds disruptionBudgets[0] (nodes 10%), which also applies to drift: Karpenter uses the smaller, so at most 10% are replaced at once',
      fix: 'lower driftBudget to 10% or less, or add reasons to disruptionBudgets[0] (e.g. [Underutilized, Empty]) so it no longer applies to drift',
    });
  });

  test('a driftBudget under the other budgets, or beside budgets for other reasons, is not warned about', () => {
    const f = rolloutFleet();
    f.clusters['ml-train'].karpenter.nodePools.batch.driftBudget = '5%';
    f.clusters['ml-train'].karpenter.nodePools.default.driftBudget = '50%';
    f.clusters['ml-train'].karpenter.nodePools.default.disruptionBudgets = [{ nodes: '10%', reasons: ['Underutilized', 'Empty'] }];
    expect(fleetFrom(f).warnings.filter((w) => w.path.endsWith('driftBudget'))).toEqual([]);
  });

  test('a schedule Karpenter cannot parse is a problem (it would block every disruption)', () => {
    const f = rolloutFleet();
    f.clusters['ml-train'].karpenter.nodePools.batch.disruptionBudgets = [{ nodes: '1', schedule: '0 0 22 * * *', duration: '1h' }];
    expect(problemsOf(f)).toEqual([expect.objectContaining({ path: 'clusters.ml-train.karpenter.nodePools.batch.disruptionBudgets[0].schedule' })]);
  });
});
