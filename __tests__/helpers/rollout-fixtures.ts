/** Fleets with a `rollout` section for the rollout tests: a canary cluster in the cache's home region, production in a replica region. */
import { validFleet } from './fleet';

export function rolloutFleet(): any {
  const f = validFleet();
  delete f.imageCaches.gpu;
  const canary = f.clusters['my-cluster'];
  delete canary.karpenter.nodePools.gpu;
  canary.karpenter.nodePools.batch = { imageCache: 'general', dataVolumeGiB: 100 };
  f.clusters = {
    'ml-train': canary,
    'payments-prod': {
      ...JSON.parse(JSON.stringify(canary)),
      region: 'us-east-1',
      vpc: { cidr: '10.1.0.0/16', azCount: 3 },
      karpenter: { nodePools: { default: { imageCache: 'general', dataVolumeGiB: 100 } } },
    },
  };
  f.rollout = {
    stages: [
      { name: 'canary', clusters: ['ml-train'], soak: '30m' },
      { name: 'production', clusters: ['payments-prod'], soak: '2h' },
    ],
    healthTimeout: '20m',
  };
  return f;
}
