/**
 * `deploy <c>-karpenter` is refused while an upgrade or a rollout owns the cluster (issue 31): the Karpenter stack
 * would put the NodePools' budgets back without the upgrade's drift freeze, or move the alias or snapshot behind
 * the upgrade's back. Refused before any AWS call or cdktf run; other stacks and other clusters deploy.
 */
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { main, type CdktfRunner } from '../cli/deploy/main';
import { kubeUpgradeOwnerWith, ownerOf, upgradeOwnerRefusals } from '../cli/deploy/upgrade-owner';
import { KubeConfig } from '@kubernetes/client-node';
import type { PlannedStack } from '../modules/fleet/stacks';
import { FREEZE_ANNOTATION } from '../cli/upgrade/freeze';
import { captureMain } from './helpers/capture';
import type { Cluster } from '../modules/fleet/load';
import { fleetFrom, PROJECT_ROOT, tempDir, validFleet } from './helpers/fleet';

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

// A context is a pointer: the one named like the cluster may reach another cluster, whose "nothing owns it" says
// nothing about this one. Checked against EKS (endpoint and CA, cli/shared/cluster-identity.ts) before it is read.
test('the context named like the cluster is verified against EKS first: a context on another cluster refuses the deploy and is never read', async () => {
  const CA = fs.readFileSync(path.join(PROJECT_ROOT, 'certs/corp-ca.pem')).toString('base64');
  const ENDPOINT = 'https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com';
  const kubeconfig = (server: string) => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server, caData: CA, skipTLSVerify: false }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'my-cluster', cluster: 'c', user: 'u' }],
      currentContext: 'my-cluster',
    });
    return kc;
  };
  const fleet = fleetFrom(validFleet());
  const plan = [{ kind: 'karpenter', name: 'my-cluster-karpenter', subject: 'my-cluster' }] as unknown as PlannedStack[];
  const reads: string[] = [];
  const owner = (server: string) =>
    kubeUpgradeOwnerWith({
      kubeconfig: () => Promise.resolve(kubeconfig(server)),
      describe: () => Promise.resolve({ endpoint: ENDPOINT, caData: CA }),
      read: (c) => {
        reads.push(c.name);
        return Promise.resolve([{ name: 'default', nodePool: frozen }]);
      },
    });
  const other = 'https://FEDCBA9876543210.gr7.us-west-2.eks.amazonaws.com';
  expect(await upgradeOwnerRefusals(fleet, ['my-cluster-karpenter'], plan, owner(other))).toEqual([
    `my-cluster-karpenter: whether an upgrade or rollout owns cluster my-cluster cannot be read: kubeconfig context "my-cluster" is not cluster my-cluster: its server is ${other}, but EKS reports the cluster's endpoint as ${ENDPOINT}. Nothing was changed. Fix: aws eks update-kubeconfig --name my-cluster --region us-west-2 --alias my-cluster, or pass the right context.`,
  ]);
  expect(reads).toEqual([]);
  expect(await upgradeOwnerRefusals(fleet, ['my-cluster-karpenter'], plan, owner(ENDPOINT))).toEqual([
    expect.stringContaining('my-cluster-karpenter: NodePool default is frozen by upgrade of my-cluster'),
  ]);
  expect(reads).toEqual(['my-cluster']);
});
