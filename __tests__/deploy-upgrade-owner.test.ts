/**
 * `deploy <c>-karpenter` is refused while an upgrade or a rollout owns the cluster (issue 31): the Karpenter stack
 * would put the NodePools' budgets back without the upgrade's drift freeze, or move the alias or snapshot behind
 * the upgrade's back. Refused before any AWS call or cdktf run; other stacks and other clusters deploy.
 */
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { main, type CdktfRunner } from '../cli/deploy/main';
import { ownerOf } from '../cli/deploy/upgrade-owner';
import { FREEZE_ANNOTATION } from '../cli/upgrade/freeze';
import { captureMain } from './helpers/capture';
import type { Cluster } from '../modules/fleet/load';
import { tempDir, validFleet } from './helpers/fleet';

const frozen = {
  annotations: { [FREEZE_ANNOTATION]: JSON.stringify({ owner: 'upgrade of my-cluster to Kubernetes 1.35, bottlerocket@v1.56.0', budgets: [] }) },
  budgets: [],
};

test('what owns a cluster: a freeze with its owner, an upgrade or a rollout in progress; done or rolled back owns nothing', () => {
  expect(ownerOf([{ name: 'default', nodePool: frozen }])).toBe('NodePool default is frozen by upgrade of my-cluster to Kubernetes 1.35, bottlerocket@v1.56.0');
  const cls = (annotations: Record<string, string>) => ({ name: 'default', annotations });
  expect(
    ownerOf([
      { name: 'default', nodeClass: cls({ 'bottlerocket-fleet/upgrade-target': 'bottlerocket@v1.56.0', 'bottlerocket-fleet/upgrade-state': 'blocked' }) },
    ]),
  ).toBe('an upgrade to bottlerocket@v1.56.0 is blocked on EC2NodeClass default');
  expect(ownerOf([{ name: 'default', nodeClass: cls({ 'bottlerocket-fleet/rollout-target': 'snap-1', 'bottlerocket-fleet/rollout-state': 'applied' }) }])).toBe(
    'a rollout of snap-1 is applied on EC2NodeClass default',
  );
  expect(
    ownerOf([{ name: 'default', nodeClass: cls({ 'bottlerocket-fleet/upgrade-state': 'done', 'bottlerocket-fleet/rollout-state': 'rolled-back' }) }]),
  ).toBe(undefined);
  expect(ownerOf([{ name: 'default' }])).toBe(undefined);
});

test('deploy my-cluster-karpenter while an upgrade owns my-cluster: exit 1 naming the owner, cdktf never runs', async () => {
  const file = path.join(tempDir('deploy-owner-'), 'fleet.yaml');
  const spec = validFleet();
  delete spec.clusters['my-cluster'].trustedCertificates;
  // Pools without a cache: no SSM parameter to check, so the owner check is what decides.
  spec.imageCaches = {};
  for (const pool of Object.values<any>(spec.clusters['my-cluster'].karpenter.nodePools)) {
    delete pool.imageCache;
    delete pool.dataVolumeGiB;
  }
  fs.writeFileSync(file, stringify(spec));
  const saved = process.env.FLEET_FILE;
  process.env.FLEET_FILE = file;
  const runs: string[][] = [];
  const runCdktf: CdktfRunner = (args) => {
    runs.push(args);
    return Promise.resolve(0);
  };
  const asked: string[] = [];
  try {
    const r = await captureMain(
      main,
      ['my-cluster-karpenter', '--ignore-missing-stack-dependencies'],
      {},
      {
        runCdktf,
        runningVersion: async () => '1.35',
        upgradeOwner: (c: Cluster) => {
          asked.push(c.name);
          return Promise.resolve('NodePool default is frozen by upgrade of my-cluster to Kubernetes 1.35, bottlerocket@v1.56.0');
        },
      },
    );
    expect([r.code, r.stderr]).toEqual([1, expect.any(String)]);
    expect(r.stderr).toContain(
      'my-cluster-karpenter: NodePool default is frozen by upgrade of my-cluster to Kubernetes 1.35, bottlerocket@v1.56.0; the stack would change what the upgrade or rollout owns',
    );
    expect(r.stderr).toContain('nothing was deployed');
    expect(asked).toEqual(['my-cluster']);
    expect(runs).toEqual([]);
  } finally {
    if (saved === undefined) delete process.env.FLEET_FILE;
    else process.env.FLEET_FILE = saved;
  }
});
