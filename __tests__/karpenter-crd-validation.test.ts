import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { Testing, TerraformStack } from 'cdktf';
import { validateAgainstCrd } from '../modules/karpenter/crd-validation';
import { poolManifests, PLACEHOLDER_SNAPSHOT_ID } from '../modules/karpenter/node-pools';
import { buildApp } from '../stacks/app';
import { DEFAULT_FLEET, MULTI_REGION_FLEET, fleetFrom, problemsOf, tempDir, validFleet } from './helpers/fleet';
import { loadFleet } from '../modules/fleet/load';

const fixture = (name: string) => parse(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8'));

function allManifests(file: string) {
  const fleet = loadFleet(file);
  return fleet.clusters.flatMap((cluster) =>
    (cluster.karpenter?.nodePools ?? []).flatMap((pool) =>
      poolManifests(
        { cluster, nodeRoleName: `KarpenterNodeRole-${cluster.name}`, tags: { team: 'platform' } },
        pool,
        pool.imageCache ? PLACEHOLDER_SNAPSHOT_ID : undefined,
      ),
    ),
  );
}

describe('manifests are validated against the Karpenter v1.14.1 CRDs (OpenAPI schema and CEL rules)', () => {
  test.each([
    ['default fleet', DEFAULT_FLEET],
    ['multi-region example', MULTI_REGION_FLEET],
  ])('every manifest of the %s passes', (_, file) => {
    const manifests = allManifests(file);
    expect(manifests.length).toBeGreaterThan(0);
    for (const m of manifests)
      expect({ name: `${m.kind}/${m.metadata.name}`, errors: validateAgainstCrd(m).errors }).toEqual({ name: `${m.kind}/${m.metadata.name}`, errors: [] });
  });

  test('rules that cannot be evaluated are listed, not silently passed: only the NodePool transition rules', () => {
    const skipped = allManifests(DEFAULT_FLEET).flatMap((m) => validateAgainstCrd(m).skippedRules);
    expect(skipped.every((s) => s.includes('transition rule'))).toBe(true);
    expect(skipped.filter((s) => s.startsWith('NodePool/default'))).toEqual([
      'NodePool/default spec: transition rule (checked on update only): has(self.replicas) == has(oldSelf.replicas)',
      'NodePool/default spec.template.spec.nodeClassRef: transition rule (checked on update only): self.group == oldSelf.group',
      'NodePool/default spec.template.spec.nodeClassRef: transition rule (checked on update only): self.kind == oldSelf.kind',
    ]);
  });

  test("the guide's own EC2NodeClass is rejected: no amiSelectorTerms, and snapshotId misspelt", () => {
    const { errors } = validateAgainstCrd(fixture('guide-ec2nodeclass.yaml'));
    expect(errors).toContain("EC2NodeClass/bottlerocket-cached spec: must have required property 'amiSelectorTerms'");
    expect(errors).toContain('EC2NodeClass/bottlerocket-cached spec.blockDeviceMappings[1].ebs: unknown field "snapshotId"');
    // The CEL rules that read amiSelectorTerms fail to evaluate, which the API server also rejects.
    expect(errors.slice(2).every((e) => /^EC2NodeClass\/bottlerocket-cached spec: .*rule evaluation error/.test(e))).toBe(true);
  });

  test('CEL rules report the CRD message: an alias with other terms, and an initialization rate without a snapshot', () => {
    const [nodeClass] = allManifests(DEFAULT_FLEET) as any[];
    const twoTerms = structuredClone(nodeClass);
    twoTerms.spec.amiSelectorTerms.push({ tags: { team: 'x' } });
    expect(validateAgainstCrd(twoTerms).errors).toEqual([
      "EC2NodeClass/default spec.amiSelectorTerms: 'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms",
    ]);
    const rateWithoutSnapshot = structuredClone(nodeClass);
    delete rateWithoutSnapshot.spec.blockDeviceMappings[1].ebs.snapshotID;
    rateWithoutSnapshot.spec.blockDeviceMappings[1].ebs.volumeInitializationRate = 200;
    expect(validateAgainstCrd(rateWithoutSnapshot).errors).toEqual([
      expect.stringMatching(/^EC2NodeClass\/default spec\.blockDeviceMappings\[1\]\.ebs: .*snapshotID/),
    ]);
  });

  test('rule outcomes kept across manifests: the same bad value fails again under its own name and path, a fixed one passes', () => {
    const [nodeClass] = allManifests(DEFAULT_FLEET) as any[];
    const twoTerms = (name: string) => {
      const m = structuredClone(nodeClass);
      m.metadata.name = name;
      m.spec.amiSelectorTerms.push({ tags: { team: 'x' } });
      return m;
    };
    const message = "spec.amiSelectorTerms: 'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms";
    expect(validateAgainstCrd(twoTerms('first')).errors).toEqual([`EC2NodeClass/first ${message}`]);
    expect(validateAgainstCrd(twoTerms('second')).errors).toEqual([`EC2NodeClass/second ${message}`]);
    expect(validateAgainstCrd(structuredClone(nodeClass)).errors).toEqual([]);
    // Values that differ get their own outcome: an ebs block without a size or snapshot, then with a size.
    const ebs = (extra: object) => {
      const m = structuredClone(nodeClass);
      m.spec.blockDeviceMappings[0].ebs = { volumeType: 'gp3', ...extra };
      return validateAgainstCrd(m).errors;
    };
    expect(ebs({})).toEqual([expect.stringMatching(/^EC2NodeClass\/default spec\.blockDeviceMappings\[0\]\.ebs: /)]);
    expect(ebs({ volumeSize: '4Gi' })).toEqual([]);
  });

  test('schema rules report the field: a bad volume size and an unknown kind', () => {
    const [nodeClass] = allManifests(DEFAULT_FLEET) as any[];
    const bad = structuredClone(nodeClass);
    bad.spec.blockDeviceMappings[0].ebs.volumeSize = '20GB';
    expect(validateAgainstCrd(bad).errors).toEqual([
      expect.stringMatching(/^EC2NodeClass\/default spec\.blockDeviceMappings\[0\]\.ebs\.volumeSize: must match pattern/),
    ]);
    expect(validateAgainstCrd({ apiVersion: 'karpenter.sh/v1beta1', kind: 'NodePool', metadata: { name: 'old' } }).errors[0]).toMatch(
      /karpenter.sh\/v1beta1 NodePool is not served/,
    );
  });

  test('an invalid manifest fails synthesis with the CRD message and the fleet path', () => {
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.nodePools.default.labels = { 'karpenter.sh/nodepool': 'x' };
    const app = buildApp(fleetFrom(f), { outdir: tempDir('invalid-') });
    const stack = app.node.findChild('my-cluster-karpenter') as TerraformStack;
    expect(() => Testing.synth(stack, true)).toThrow(
      /clusters\.my-cluster\.karpenter\.nodePools\.default: rejected by the Karpenter CRD: NodePool\/default spec\.template\.metadata\.labels: .*karpenter\.sh\/nodepool/,
    );
  });
});

describe('pool problems the fleet loader rejects with a clear message', () => {
  const pools = (mutate: (f: any) => void) => {
    const f = validFleet();
    mutate(f);
    return problemsOf(f).map((p) => [p.path, p.message]);
  };

  test('a pool whose cache has another architecture', () => {
    expect(
      pools((f) => {
        f.clusters['my-cluster'].karpenter.nodePools.default.arch = ['arm64'];
      }),
    ).toEqual([['clusters.my-cluster.karpenter.nodePools.default.arch', '[arm64] does not match cache general, which is built for x86_64 (amd64)']]);
  });

  test('a GPU pool on a CPU cache, and a CPU pool on a GPU cache', () => {
    expect(
      pools((f) => {
        f.clusters['my-cluster'].karpenter.nodePools.default.gpu = true;
      }),
    ).toEqual([['clusters.my-cluster.karpenter.nodePools.default.imageCache', 'a GPU pool cannot use the CPU cache general']]);
    expect(
      pools((f) => {
        f.clusters['my-cluster'].karpenter.nodePools.gpu.gpu = false;
      }),
    ).toEqual([['clusters.my-cluster.karpenter.nodePools.gpu.imageCache', 'a CPU pool cannot use the GPU cache gpu']]);
  });

  test('a data volume smaller than the cache', () => {
    expect(
      pools((f) => {
        f.clusters['my-cluster'].karpenter.nodePools.default.dataVolumeGiB = 50;
      }),
    ).toEqual([['clusters.my-cluster.karpenter.nodePools.default.dataVolumeGiB', '50 GiB is smaller than the snapshot of cache general (100 GiB)']]);
  });

  test('an unknown cache name', () => {
    expect(
      pools((f) => {
        f.clusters['my-cluster'].karpenter.nodePools.gpu.imageCache = 'cuda';
      }),
    ).toEqual([['clusters.my-cluster.karpenter.nodePools.gpu.imageCache', 'unknown image cache "cuda"']]);
  });

  test('a nodes budget that is neither a count nor a percentage', () => {
    expect(
      pools((f) => {
        f.clusters['my-cluster'].karpenter.nodePools.default.disruptionBudgets = [{ nodes: 'ten' }, { nodes: '150%' }];
      }),
    ).toEqual([
      ['clusters.my-cluster.karpenter.nodePools.default.disruptionBudgets[0].nodes', 'must be a node count such as "5" or a percentage such as "10%"'],
      ['clusters.my-cluster.karpenter.nodePools.default.disruptionBudgets[1].nodes', 'must be a node count such as "5" or a percentage such as "10%"'],
    ]);
  });

  test('an interval that is not a duration', () => {
    expect(
      pools((f) => {
        f.clusters['my-cluster'].karpenter.nodePools.default.expireAfter = '30 days';
        f.clusters['my-cluster'].karpenter.nodePools.default.consolidation = { after: '1 minute' };
      }).map(([p]) => p),
    ).toEqual(['clusters.my-cluster.karpenter.nodePools.default.expireAfter', 'clusters.my-cluster.karpenter.nodePools.default.consolidation.after']);
  });

  test('an initialization rate on a pool without a cache, or out of range', () => {
    expect(
      pools((f) => {
        delete f.clusters['my-cluster'].karpenter.nodePools.default.imageCache;
        f.clusters['my-cluster'].karpenter.nodePools.default.dataVolume = { initializationRateMiBps: 200 };
      }),
    ).toEqual([
      [
        'clusters.my-cluster.karpenter.nodePools.default.dataVolume.initializationRateMiBps',
        'applies only to a volume restored from a snapshot, and this pool has no imageCache',
      ],
    ]);
    expect(
      pools((f) => {
        f.clusters['my-cluster'].karpenter.nodePools.default.dataVolume = { initializationRateMiBps: 500 };
      }).map(([p]) => p),
    ).toEqual(['clusters.my-cluster.karpenter.nodePools.default.dataVolume.initializationRateMiBps']);
  });

  test('Bottlerocket keys Karpenter overwrites or drops are rejected in pool settings', () => {
    expect(
      pools((f) => {
        f.clusters['my-cluster'].karpenter.nodePools.default.settings = { kubernetes: { 'cluster-dns-ip': '10.100.0.10', 'node-ip': '1.2.3.4' } };
      }),
    ).toEqual([
      ['clusters.my-cluster.karpenter.nodePools.default.settings.kubernetes.cluster-dns-ip', 'is set by Karpenter itself'],
      [
        'clusters.my-cluster.karpenter.nodePools.default.settings.kubernetes.node-ip',
        'is dropped by Karpenter, which rebuilds settings.kubernetes from its own model',
      ],
    ]);
  });
});
