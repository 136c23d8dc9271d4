import { parse } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { DEFAULT_FLEET, MULTI_REGION_FLEET, fleetFrom, synthFleet, synthFleetFile, validFleet } from './helpers/fleet';
import { checkModuleInputs, eksModuleContract } from '../modules/contracts/terraform-interface';

function manifests(stack: any): Record<string, any> {
  return Object.fromEntries(
    Object.values<any>(stack.resource.kubectl_manifest).map((m) => {
      const body = parse(m.yaml_body);
      return [`${body.kind}/${body.metadata.name}`, { ...m, body }];
    }),
  );
}

describe('my-cluster-karpenter (the guide example)', () => {
  const stack = synthFleetFile(DEFAULT_FLEET)['my-cluster-karpenter'];
  const m = manifests(stack);
  const cpuClass = m['EC2NodeClass/default'].body.spec;
  const gpuClass = m['EC2NodeClass/gpu'].body.spec;

  test('matches the snapshot', () => {
    expect(stack).toMatchSnapshot();
  });

  test('both pools of the guide: an EC2NodeClass and a NodePool each', () => {
    expect(Object.keys(m).sort()).toEqual(['EC2NodeClass/default', 'EC2NodeClass/gpu', 'NodePool/default', 'NodePool/gpu']);
  });

  test('snapshot IDs are the checked lookups of what the cache parameters name, never literals', () => {
    const [, cpuData] = cpuClass.blockDeviceMappings;
    const lookup = /^\$\{data\.aws_ebs_snapshot\.([\w-]+)\.snapshot_id\}$/.exec(cpuData.ebs.snapshotID)![1];
    // insecure_value: `value` is always sensitive in the aws provider, and would make every manifest
    // and output carrying the ID sensitive although the parameter is a plain String.
    expect(stack.data.aws_ebs_snapshot[lookup].snapshot_ids).toEqual([expect.stringMatching(/^\$\{data\.aws_ssm_parameter\.[\w-]+\.insecure_value\}$/)]);
    expect(JSON.stringify(stack)).not.toMatch(/aws_ssm_parameter\.[\w-]+\.value\b/);
    expect(JSON.stringify(stack)).not.toMatch(/snap-[0-9a-f]/);
    const params = Object.values<any>(stack.data.aws_ssm_parameter)
      .map((p) => p.name)
      .sort();
    expect(params).toEqual([
      '/bottlerocket-fleet/image-cache/general/snapshot-id',
      '/bottlerocket-fleet/image-cache/general/snapshot-id-history',
      '/bottlerocket-fleet/image-cache/gpu/snapshot-id',
      '/bottlerocket-fleet/image-cache/gpu/snapshot-id-history',
    ]);
  });

  test('the snapshot a cache parameter names is checked before a node class uses it, and a failure names the parameter', () => {
    const lookup = Object.values<any>(stack.data.aws_ebs_snapshot).find((d) => JSON.stringify(d.snapshot_ids).includes('general_'))!;
    // No owners filter: it would turn another account's snapshot into the provider's generic "no results".
    expect(lookup.owners).toBeUndefined();
    const conditions = lookup.lifecycle.postcondition.map((c: any) => c.condition);
    expect(conditions).toEqual([
      expect.stringMatching(/^\$\{self\.owner_id == data\.aws_caller_identity\.[\w-]+\.account_id\}$/),
      '${self.state == "completed"}',
      '${self.encrypted}',
      '${lookup(self.tags, "bottlerocket-fleet:cache", "") == "general"}',
      '${lookup(self.tags, "bottlerocket-fleet:build-id", "") != ""}',
      expect.stringMatching(/^\$\{contains\(jsondecode\(data\.aws_ssm_parameter\.[\w-]+history-general[\w-]*\.insecure_value\), self\.id\)\}$/),
    ]);
    for (const c of lookup.lifecycle.postcondition)
      expect(c.error_message).toMatch(
        /^SSM parameter \/bottlerocket-fleet\/image-cache\/general\/snapshot-id in us-west-2 names snapshot \$\{self\.id\}, which /,
      );
  });

  test('each node class lists the OS volume and the snapshot-backed data volume, gp3 and encrypted', () => {
    expect(cpuClass.blockDeviceMappings.map((b: any) => [b.deviceName, b.ebs.volumeSize, b.ebs.volumeType, b.ebs.encrypted, 'snapshotID' in b.ebs])).toEqual([
      ['/dev/xvda', '20Gi', 'gp3', true, false],
      ['/dev/xvdb', '100Gi', 'gp3', true, true],
    ]);
    expect(gpuClass.blockDeviceMappings[1].ebs.volumeSize).toBe('200Gi');
  });

  test("the guide's OS volume: /dev/xvda is 20Gi on both node classes", () => {
    expect([cpuClass, gpuClass].map((c) => c.blockDeviceMappings[0])).toEqual([
      expect.objectContaining({ deviceName: '/dev/xvda', ebs: expect.objectContaining({ volumeSize: '20Gi' }) }),
      expect.objectContaining({ deviceName: '/dev/xvda', ebs: expect.objectContaining({ volumeSize: '20Gi' }) }),
    ]);
  });

  test("the guide's pool labels: workload-type general and gpu", () => {
    expect(m['NodePool/default'].body.spec.template.metadata.labels).toMatchObject({ 'workload-type': 'general' });
    expect(m['NodePool/gpu'].body.spec.template.metadata.labels).toMatchObject({ 'workload-type': 'gpu' });
  });

  test('a generation floor only where the pool sets one: the GPU pool keeps g4dn and p3, the CPU pool keeps Gt 4', () => {
    const generation = (pool: string) =>
      m[`NodePool/${pool}`].body.spec.template.spec.requirements.find((r: { key: string }) => r.key === 'karpenter.k8s.aws/instance-generation');
    expect(generation('gpu')).toBeUndefined();
    expect(generation('default')).toEqual({ key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['4'] });
  });

  test('Bottlerocket alias, IMDSv2 with hop limit 2, discovery selectors, node role, max pods', () => {
    expect(cpuClass).toMatchObject({
      role: '${module.karpenter.node_iam_role_name}',
      amiSelectorTerms: [{ alias: 'bottlerocket@v1.55.0' }], // fleet.yaml pins bottlerocketRelease: 1.55.0 (issue 30)
      metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 },
      subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'my-cluster' } }],
      securityGroupSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'my-cluster' } }],
      kubelet: { maxPods: 110 },
      tags: expect.objectContaining({ team: 'platform' }),
    });
  });

  test('user data is Bottlerocket TOML with the CA and never the keys Karpenter owns', () => {
    const toml = parseToml(cpuClass.userData) as any;
    expect(toml.settings.pki['corp-ca'].trusted).toBe(true);
    expect(toml.settings.kubernetes).toBeUndefined();
  });

  test('the GPU pool is tainted nvidia.com/gpu and limited to NVIDIA g and p instances; the CPU pool is neither', () => {
    const gpu = m['NodePool/gpu'].body.spec.template.spec;
    expect(gpu.taints).toEqual([{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }]);
    expect(gpu.requirements).toContainEqual({ key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['g', 'p'] });
    // g4ad (AMD) is in category g: the NVIDIA variant's pool must never launch it.
    expect(gpu.requirements).toContainEqual({ key: 'karpenter.k8s.aws/instance-gpu-manufacturer', operator: 'In', values: ['nvidia'] });
    const cpu = m['NodePool/default'].body.spec.template.spec;
    expect(cpu.taints).toBeUndefined();
    expect(cpu.requirements.map((r: { key: string }) => r.key)).not.toContain('karpenter.k8s.aws/instance-gpu-manufacturer');
  });

  test('pools carry the Bottlerocket node label, the disruption settings and limits of the guide', () => {
    const cpu = m['NodePool/default'].body.spec;
    expect(cpu.template.metadata.labels).toEqual({ 'workload-type': 'general', 'bottlerocket-fleet/os': 'bottlerocket' });
    expect(cpu.disruption).toEqual({ consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m', budgets: [{ nodes: '10%' }] });
    expect(cpu.limits).toEqual({ cpu: '1000', memory: '1000Gi' });
    expect(cpu.template.spec.expireAfter).toBe('720h');
    expect(m['NodePool/gpu'].body.spec.disruption).toMatchObject({ consolidationPolicy: 'WhenEmpty', consolidateAfter: '5m' });
  });

  test('manifests are applied after the Karpenter CRD and controller releases', () => {
    for (const manifest of Object.values<any>(m)) {
      expect(manifest.depends_on).toEqual(
        expect.arrayContaining([expect.stringMatching(/^helm_release\.charts_crd/), expect.stringMatching(/^helm_release\.charts_controller/)]),
      );
    }
  });

  test('the Karpenter charts: pinned OCI charts, values for the cluster, on the system node group', () => {
    const releases = Object.values<any>(stack.resource.helm_release).sort((a, b) => b.name.localeCompare(a.name));
    expect(releases.map((r) => [r.name, r.chart, r.repository, r.version])).toEqual([
      ['karpenter-crd', 'karpenter-crd', 'oci://public.ecr.aws/karpenter', '1.14.1'],
      ['karpenter', 'karpenter', 'oci://public.ecr.aws/karpenter', '1.14.1'],
    ]);
    const values = parse(releases[1].values[0]);
    expect(values).toMatchObject({
      settings: { clusterName: 'my-cluster', interruptionQueue: '${module.karpenter.queue_name}' },
      nodeSelector: { 'node-role': 'system' },
      tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(values.settings.clusterEndpoint).toMatch(/^\$\{data\.aws_eks_cluster\.[\w]+\.endpoint\}$/);
  });

  test('the karpenter module: v1 permissions, Pod Identity, KarpenterNodeRole-<cluster>, inputs match the v20 contract', () => {
    const { source, version, '//': _meta, ...inputs } = stack.module.karpenter;
    expect({ source, version }).toEqual({ source: 'terraform-aws-modules/eks/aws//modules/karpenter', version: '~> 20.0' });
    expect(inputs).toMatchObject({
      cluster_name: 'my-cluster',
      enable_v1_permissions: true,
      enable_pod_identity: true,
      create_pod_identity_association: true,
      node_iam_role_name: 'KarpenterNodeRole-my-cluster',
      node_iam_role_use_name_prefix: false,
    });
    expect(checkModuleInputs(inputs, eksModuleContract().submodules.karpenter.variables, 'karpenter')).toEqual([]);
  });

  test('providers are configured from the cluster data sources, with no secrets in the output', () => {
    expect(stack.provider.kubectl[0]).toMatchObject({
      host: expect.stringMatching(/^\$\{data\.aws_eks_cluster\./),
      load_config_file: false,
    });
    // Issue 29 item 8: a fresh token per connection (exec), never the 15-minute aws_eks_cluster_auth token.
    const exec = {
      api_version: 'client.authentication.k8s.io/v1beta1',
      command: 'aws',
      args: ['eks', 'get-token', '--cluster-name', 'my-cluster', '--region', 'us-west-2', '--output', 'json'],
    };
    expect(stack.provider.kubectl[0].exec).toEqual(exec);
    expect(stack.provider.helm[0].kubernetes.exec).toEqual(exec);
    expect(stack.provider.kubectl[0].token).toBeUndefined();
    expect(stack.provider.helm[0].kubernetes.token).toBeUndefined();
    expect(stack.data.aws_eks_cluster_auth).toBeUndefined();
    expect(stack.terraform.required_providers.kubectl).toEqual({ source: 'alekc/kubectl', version: '~> 2.1' });
  });
});

describe('image caches on first deploy and per-pool volume options', () => {
  test('a cache marked built: false gives its pools an empty data volume and reads no parameter', () => {
    const f = validFleet();
    f.imageCaches.gpu.built = false;
    const fleet = fleetFrom(f);
    expect(fleet.warnings.map((w) => w.path)).toEqual(['imageCaches.gpu.built']);
    const stack = synthFleet(fleet)['my-cluster-karpenter'];
    const m = manifests(stack);
    expect(m['EC2NodeClass/gpu'].body.spec.blockDeviceMappings[1].ebs).not.toHaveProperty('snapshotID');
    expect(m['EC2NodeClass/default'].body.spec.blockDeviceMappings[1].ebs).toHaveProperty('snapshotID');
    expect(Object.values<any>(stack.data.aws_ssm_parameter).map((p) => p.name)).toEqual([
      '/bottlerocket-fleet/image-cache/general/snapshot-id-history',
      '/bottlerocket-fleet/image-cache/general/snapshot-id',
    ]);
  });

  test('a pool without an image cache gets a plain data volume', () => {
    const f = validFleet();
    delete f.clusters['my-cluster'].karpenter.nodePools.default.imageCache;
    const ebs = manifests(synthFleet(fleetFrom(f))['my-cluster-karpenter'])['EC2NodeClass/default'].body.spec.blockDeviceMappings[1].ebs;
    expect(ebs).toEqual({ volumeType: 'gp3', encrypted: true, deleteOnTermination: true, volumeSize: '100Gi' });
  });

  test('volumeInitializationRate, IOPS, throughput and KMS key reach the data volume', () => {
    const stacks = synthFleetFile(MULTI_REGION_FLEET);
    const ebs = manifests(stacks['prod-use1-karpenter'])['EC2NodeClass/default'].body.spec.blockDeviceMappings[1].ebs;
    expect(ebs).toMatchObject({ volumeInitializationRate: 200, iops: 6000, throughput: 250, volumeSize: '120Gi' });
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.nodePools.default.kmsKeyId = 'arn:aws:kms:us-west-2:111122223333:key/abc';
    const cls = manifests(synthFleet(fleetFrom(f))['my-cluster-karpenter'])['EC2NodeClass/default'].body.spec;
    expect(cls.blockDeviceMappings.map((b: any) => b.ebs.kmsKeyID)).toEqual([
      'arn:aws:kms:us-west-2:111122223333:key/abc',
      'arn:aws:kms:us-west-2:111122223333:key/abc',
    ]);
  });

  test('the ARM64 example pool asks for arm64 nodes and a pinned Bottlerocket release where configured', () => {
    const stacks = synthFleetFile(MULTI_REGION_FLEET);
    expect(stacks['prod-use1-karpenter']).toMatchSnapshot();
    expect(stacks['prod-euw1-karpenter']).toMatchSnapshot();
    const graviton = manifests(stacks['prod-euw1-karpenter'])['NodePool/graviton'].body.spec.template.spec;
    expect(graviton.requirements).toContainEqual({ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] });
    expect(manifests(stacks['prod-use1-karpenter'])['EC2NodeClass/default'].body.spec.amiSelectorTerms).toEqual([{ alias: 'bottlerocket@v1.50.0' }]);
  });

  test('a cluster without karpenter gets no Karpenter stack', () => {
    const f = validFleet();
    delete f.clusters['my-cluster'].karpenter;
    expect(Object.keys(synthFleet(fleetFrom(f))).filter((n) => n.startsWith('my-cluster'))).toEqual(['my-cluster-cluster']);
  });
});
