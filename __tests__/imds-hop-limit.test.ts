// Issue 21 (6): the IMDS hop limit stays 2 by default (the migration guide needs it for pods that still read
// instance metadata) and is a per-cluster and per-pool setting: 2 exposes the node role's credentials to every pod.
import { fleetFrom, problemsOf, synthFleet, validFleet } from './helpers/fleet';
import { systemNodeGroupProps } from '../modules/eks/system-node-group';
import { ec2NodeClass } from '../modules/karpenter/node-class';

const hopLimits = (f: any) => {
  const cluster = fleetFrom(f).clusters[0];
  return {
    system: systemNodeGroupProps(cluster).metadataHopLimit,
    pools: Object.fromEntries(
      cluster.karpenter!.nodePools.map((pool) => [
        pool.name,
        (ec2NodeClass({ cluster, pool, role: 'r', tags: {} }).spec as any).metadataOptions.httpPutResponseHopLimit,
      ]),
    ),
  };
};

test('default: 2 on the system node group and every EC2NodeClass, always written out', () => {
  expect(hopLimits(validFleet())).toEqual({ system: 2, pools: { default: 2, gpu: 2 } });
  const stack = synthFleet(fleetFrom(validFleet()))['my-cluster-cluster'];
  expect(JSON.stringify(stack)).toContain('"http_put_response_hop_limit":2');
});

test('imdsHopLimit: 1 on the cluster keeps instance metadata on the host for every node', () => {
  const f = validFleet();
  f.clusters['my-cluster'].imdsHopLimit = 1;
  expect(hopLimits(f)).toEqual({ system: 1, pools: { default: 1, gpu: 1 } });
});

test("a pool's imdsHopLimit overrides the cluster's, for that pool only", () => {
  const f = validFleet();
  f.clusters['my-cluster'].imdsHopLimit = 1;
  f.clusters['my-cluster'].karpenter.nodePools.gpu.imdsHopLimit = 2;
  expect(hopLimits(f)).toEqual({ system: 1, pools: { default: 1, gpu: 2 } });
});

test.each([0, 3, '2'])('imdsHopLimit %p is refused with its path', (value) => {
  const f = validFleet();
  f.clusters['my-cluster'].karpenter.nodePools.default.imdsHopLimit = value;
  expect(problemsOf(f).map((p) => p.path)).toEqual(['clusters.my-cluster.karpenter.nodePools.default.imdsHopLimit']);
});
