import { parse } from 'yaml';
import { fleetFrom, problemsOf, synthFleet, validFleet } from './helpers/fleet';
import { headroomManifests, headroomSize } from '../modules/migration/headroom';
import { parseQuantity } from '../modules/fleet/capacity';
import { migrationManifests } from '../modules/migration';
import { validateSettings, renderSettingsToml } from '../modules/bottlerocket/settings';
import { cgroupSettings } from '../modules/bottlerocket/cgroup';

function withLimits(f: any) {
  f.clusters['my-cluster'].karpenter.nodePools.default.limits = { cpu: '100', memory: '400Gi' };
  return f;
}

function addonManifests(f: any): Record<string, any> {
  const stack = synthFleet(fleetFrom(f))['my-cluster-karpenter'];
  return Object.fromEntries(
    Object.values<any>(stack.resource.kubectl_manifest).map((m) => {
      const body = parse(m.yaml_body);
      return [`${body.kind}-${body.metadata.name}`, { ...m, body }];
    }),
  );
}

describe('headroom during the migration', () => {
  test("headroomPercent of the CPU pools' limits, as pause pods of one vCPU with the same memory ratio", () => {
    const f = withLimits(validFleet());
    f.clusters['my-cluster'].migration = { headroomPercent: 30 };
    expect(headroomSize(fleetFrom(f).clusters[0])).toEqual({ replicas: 30, podCpu: 1, podMemoryMiB: 4096 });
  });

  test('legacyCapacity, when given, is what the percentage applies to', () => {
    const f = withLimits(validFleet());
    f.clusters['my-cluster'].migration = { headroomPercent: 25, legacyCapacity: { cpu: 64, memoryGiB: 256 }, placeholderPodCpu: 2 };
    expect(headroomSize(fleetFrom(f).clusters[0])).toEqual({ replicas: 8, podCpu: 2, podMemoryMiB: 8192 });
  });

  test('the placeholders: a negative, non-preempting PriorityClass and pause pods kept on Bottlerocket nodes', () => {
    const f = withLimits(validFleet());
    f.clusters['my-cluster'].migration = { headroomPercent: 10 };
    const [priority, deployment] = headroomManifests(fleetFrom(f).clusters[0]) as any[];
    expect(priority).toMatchObject({ kind: 'PriorityClass', value: -10, globalDefault: false, preemptionPolicy: 'Never' });
    const pod = deployment.spec.template.spec;
    expect(deployment.spec.replicas).toBe(10);
    expect(pod.priorityClassName).toBe(priority.metadata.name);
    expect(pod.containers[0]).toMatchObject({ image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '1', memory: '4096Mi' } } });
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: 'bottlerocket-fleet/os', operator: 'In', values: ['bottlerocket'] }] },
    ]);
  });

  test('the Karpenter stack applies the headroom with the key, and drops it without', () => {
    const f = withLimits(validFleet());
    f.clusters['my-cluster'].migration = { headroomPercent: 30 };
    const on = addonManifests(f);
    expect(on['Deployment-bottlerocket-migration-headroom'].body.spec.replicas).toBe(30);
    expect(on['PriorityClass-bottlerocket-migration-headroom'].depends_on).toEqual([expect.stringMatching(/^helm_release\.charts_controller/)]);
    delete f.clusters['my-cluster'].migration;
    expect(Object.keys(addonManifests(f)).filter((k) => k.includes('headroom'))).toEqual([]);
  });

  test('headroom without a basis, or without Karpenter, is rejected', () => {
    const f = validFleet();
    f.clusters['my-cluster'].migration = { headroomPercent: 30 };
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ path: 'clusters.my-cluster.migration.headroomPercent', fix: expect.stringMatching(/legacyCapacity/) }),
    ]);
    delete f.clusters['my-cluster'].karpenter;
    expect(problemsOf(f).map((p) => p.path)).toEqual(['clusters.my-cluster.migration']);
  });

  test('quantities', () => {
    expect(parseQuantity('1000')).toBe(1000);
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('2Gi')).toBe(2 ** 31);
    expect(() => parseQuantity('lots')).toThrow(/not a Kubernetes quantity/);
  });
});

describe('the legacy NVIDIA device plugin', () => {
  test('keep-off-bottlerocket patches the existing DaemonSet with NotIn on the label Bottlerocket nodes carry', () => {
    const f = validFleet();
    f.clusters['my-cluster'].gpu = { legacyDevicePlugin: 'keep-off-bottlerocket' };
    const [entry] = migrationManifests(fleetFrom(f).clusters[0]);
    expect(entry).toMatchObject({ id: 'DaemonSet-nvidia-device-plugin-daemonset', serverSideApply: true });
    expect(entry.manifest.metadata).toEqual({ name: 'nvidia-device-plugin-daemonset', namespace: 'kube-system' });
    const terms = (entry.manifest as any).spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toEqual([{ matchExpressions: [{ key: 'bottlerocket-fleet/os', operator: 'NotIn', values: ['bottlerocket'] }] }]);
  });

  test('the label in the NotIn is one that every Bottlerocket node of the fleet really carries', () => {
    const f = validFleet();
    f.clusters['my-cluster'].gpu = { legacyDevicePlugin: 'keep-off-bottlerocket' };
    const stacks = synthFleet(fleetFrom(f));
    expect(stacks['my-cluster-cluster'].module.eks.eks_managed_node_groups.system.labels['bottlerocket-fleet/os']).toBe('bottlerocket');
    const pools = Object.values<any>(stacks['my-cluster-karpenter'].resource.kubectl_manifest)
      .map((m) => parse(m.yaml_body))
      .filter((b) => b.kind === 'NodePool');
    expect(pools.map((p) => p.spec.template.metadata.labels['bottlerocket-fleet/os'])).toEqual(['bottlerocket', 'bottlerocket']);
  });

  test('the patch is applied server-side, only our fields, and never deleted by Terraform', () => {
    const f = validFleet();
    f.clusters['my-cluster'].gpu = { legacyDevicePlugin: 'keep-off-bottlerocket' };
    const patch = addonManifests(f)['DaemonSet-nvidia-device-plugin-daemonset'];
    expect(patch).toMatchObject({ server_side_apply: true, force_conflicts: true, apply_only: true, field_manager: 'bottlerocket-fleet' });
  });

  test('remove applies nothing (the CLI deletes the DaemonSet); a cluster without GPU pools gets a warning', () => {
    const f = validFleet();
    f.clusters['my-cluster'].gpu = { legacyDevicePlugin: 'remove' };
    expect(migrationManifests(fleetFrom(f).clusters[0])).toEqual([]);
    delete f.clusters['my-cluster'].karpenter.nodePools.gpu;
    expect(fleetFrom(f).warnings.map((w) => w.path)).toEqual(['clusters.my-cluster.gpu.legacyDevicePlugin']);
  });
});

describe('cgroup v2 by default', () => {
  test('a pool that opts in to cgroup v1 gets a warning naming the pool, and the boot settings in its user data', () => {
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.nodePools.default.cgroupVersion = 'v1';
    f.clusters['my-cluster'].kubernetesVersion = '1.33'; // cgroup v1 ends with 1.35 (next test)
    const fleet = fleetFrom(f);
    expect(fleet.warnings.filter((w) => w.path !== 'clusters.my-cluster.kubernetesVersion')).toEqual([
      expect.objectContaining({
        path: 'clusters.my-cluster.karpenter.nodePools.default.cgroupVersion',
        message: expect.stringMatching(/pool "default" opts in to cgroup v1/),
      }),
    ]);
    const nodeClass = Object.values<any>(synthFleet(fleet)['my-cluster-karpenter'].resource.kubectl_manifest)
      .map((m) => parse(m.yaml_body))
      .find((b) => b.kind === 'EC2NodeClass' && b.metadata.name === 'default');
    expect(nodeClass.spec.userData).toContain('"systemd.unified_cgroup_hierarchy" = [ "0" ]');
    expect(nodeClass.spec.userData).toContain('reboot-to-reconcile = true');
  });

  test('cgroup v1 is refused from Kubernetes 1.35 on (kubelet fails on cgroup v1), naming the pool and the fix', () => {
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.nodePools.default.cgroupVersion = 'v1';
    f.clusters['my-cluster'].kubernetesVersion = '1.35';
    expect(() => fleetFrom(f)).toThrow(
      /clusters\.my-cluster\.karpenter\.nodePools\.default\.cgroupVersion: cgroup v1 is impossible with Kubernetes 1\.35.*failCgroupV1[\s\S]*move the workloads to cgroup v2/,
    );
    f.clusters['my-cluster'].kubernetesVersion = '1.34';
    // 1.34 also leaves EKS standard support within 30 days of the pinned test date (2026-12-02).
    expect(fleetFrom(f).warnings.map((w) => w.path)).toEqual([
      'clusters.my-cluster.kubernetesVersion',
      'clusters.my-cluster.karpenter.nodePools.default.cgroupVersion',
    ]);
  });

  test('v2 pools carry no cgroup settings, and the v1 settings pass the Karpenter settings rules', () => {
    expect(fleetFrom(validFleet()).warnings).toEqual([]);
    expect(validateSettings(cgroupSettings('v1'), 'karpenter')).toEqual([]);
    expect(cgroupSettings('v2')).toEqual({});
    expect(renderSettingsToml(cgroupSettings('v2'), 'karpenter').trim()).toBe('[settings]');
  });
});
