/**
 * The drift freeze of a Kubernetes minor (cli/upgrade/freeze.ts): written with its owner in one patch, resumed by
 * the same owner, refused for another, lifted only when the live budgets are the freeze followed by exactly the
 * recorded ones (the annotation is a pointer anyone who can patch the NodePool can move).
 */
import type { RolloutKube, NodePoolInfo } from '../cli/rollout/kube';
import { FREEZE_ANNOTATION, FREEZE_BUDGET, freezeDrift, liftFreeze } from '../cli/upgrade/freeze';
import type { NodePool } from '../modules/fleet/load';

function kube(pools: Record<string, NodePoolInfo>) {
  const patches: string[] = [];
  const k = {
    getNodePool: (name: string) => Promise.resolve(pools[name]),
    patchNodePool: (name: string, p: { annotations: Record<string, string | null>; budgets: NodePoolInfo['budgets'] }) => {
      patches.push(name);
      const annotations = { ...pools[name].annotations };
      for (const [key, v] of Object.entries(p.annotations))
        if (v === null) delete annotations[key];
        else annotations[key] = v;
      pools[name] = { annotations, budgets: p.budgets };
      return Promise.resolve();
    },
  } as unknown as RolloutKube;
  return { k, patches, pools };
}
const pool = { name: 'default' } as NodePool;
const OWNER = 'upgrade of c to Kubernetes 1.35, bottlerocket@v1.56.0';

test('freeze and lift: one patch each, the owner with the freeze, the budgets back exactly', async () => {
  const w = kube({ default: { annotations: {}, budgets: [{ nodes: '10%' }] } });
  await freezeDrift(w.k, [pool], OWNER);
  expect(w.pools.default.budgets).toEqual([FREEZE_BUDGET, { nodes: '10%' }]);
  expect(JSON.parse(w.pools.default.annotations[FREEZE_ANNOTATION])).toEqual({ owner: OWNER, budgets: [{ nodes: '10%' }] });
  await freezeDrift(w.k, [pool], OWNER); // a resumed run: left as it is
  expect(w.patches).toEqual(['default']);
  await liftFreeze(w.k, [pool]);
  expect(w.pools.default).toEqual({ annotations: {}, budgets: [{ nodes: '10%' }] });
  expect(w.patches).toEqual(['default', 'default']);
});

test('a freeze another upgrade owns is refused, nothing written', async () => {
  const w = kube({ default: { annotations: { [FREEZE_ANNOTATION]: JSON.stringify({ owner: 'someone else', budgets: [] }) }, budgets: [FREEZE_BUDGET] } });
  await expect(freezeDrift(w.k, [pool], OWNER)).rejects.toThrow(`NodePool default is frozen by "someone else", not this upgrade ("${OWNER}")`);
  expect(w.patches).toEqual([]);
});

test('budgets changed while frozen: not lifted, nothing written, the error names both', async () => {
  const w = kube({
    default: { annotations: { [FREEZE_ANNOTATION]: JSON.stringify({ owner: OWNER, budgets: [{ nodes: '10%' }] }) }, budgets: [{ nodes: '100%' }] },
  });
  await expect(liftFreeze(w.k, [pool])).rejects.toThrow(
    'NodePool default: its budgets [{"nodes":"100%"}] are not the freeze followed by the recorded [{"nodes":"10%"}]: not lifted',
  );
  expect(w.patches).toEqual([]);
});
