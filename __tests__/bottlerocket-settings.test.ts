import { parse } from 'smol-toml';
import { adminContainerSettings, mergeSettings, renderSettingsToml, trustedCertificateSettings, validateSettings } from '../modules/bottlerocket/settings';
import { cgroupSettings } from '../modules/bottlerocket/cgroup';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('Bottlerocket settings', () => {
  test('render as TOML under the settings table, parseable back to the same values', () => {
    const toml = renderSettingsToml({ kernel: { sysctl: { 'vm.max_map_count': '262144' } }, 'host-containers': { admin: { enabled: false } } }, 'karpenter');
    expect(toml).toContain('[settings.kernel.sysctl]');
    expect(toml).toContain('"vm.max_map_count" = "262144"');
    expect(parse(toml)).toEqual({ settings: { 'host-containers': { admin: { enabled: false } }, kernel: { sysctl: { 'vm.max_map_count': '262144' } } } });
  });

  test('trusted certificates become settings.pki.<name> with base64 of the PEM text, never raw PEM', () => {
    const settings = trustedCertificateSettings([{ name: 'corp-ca', pem: PEM }]);
    const parsed = parse(renderSettingsToml(settings, 'eks-managed-node-group')) as any;
    expect(parsed.settings.pki['corp-ca'].trusted).toBe(true);
    expect(Buffer.from(parsed.settings.pki['corp-ca'].data, 'base64').toString('utf8')).toBe(PEM);
    expect(parsed.settings.pki['corp-ca'].data).not.toContain('BEGIN');
  });

  test('raw PEM under settings.pki is rejected (Bottlerocket wants base64)', () => {
    expect(validateSettings({ pki: { ca: { data: PEM, trusted: true } } }, 'karpenter')).toEqual([
      expect.objectContaining({ key: 'settings.pki.ca.data', message: 'must be base64-encoded' }),
    ]);
  });

  test.each([['cluster-name'], ['api-server'], ['cluster-certificate'], ['cluster-dns-ip']])(
    'rejects settings.kubernetes.%s, which EKS and Karpenter set themselves',
    (key) => {
      for (const provisioner of ['eks-managed-node-group', 'karpenter'] as const) {
        const problems = validateSettings({ kubernetes: { [key]: 'x' } }, provisioner);
        expect(problems).toEqual([
          expect.objectContaining({ key: `settings.kubernetes.${key}`, message: expect.stringMatching(/is set by (EKS|Karpenter) itself/) }),
        ]);
      }
    },
  );

  test('rejects for Karpenter the kubernetes keys it replaces or drops, naming the fleet field to use', () => {
    const problems = validateSettings(
      { kubernetes: { 'node-taints': { dedicated: ['gpu:NoSchedule'] }, 'max-pods': 110, 'provider-id': 'x', 'image-minimum-gc-age': '2m' } },
      'karpenter',
    );
    expect(problems.map((p) => [p.key, p.fix])).toEqual([
      ['settings.kubernetes.node-taints.dedicated', expect.stringMatching(/pool's taints/)],
      ['settings.kubernetes.max-pods', expect.stringMatching(/maxPods/)],
      ['settings.kubernetes.provider-id', expect.stringMatching(/remove the key/)],
      ['settings.kubernetes.image-minimum-gc-age', expect.stringMatching(/remove the key/)],
    ]);
    // The same keys are fine on a managed node group where nothing drops them.
    expect(validateSettings({ kubernetes: { 'image-minimum-gc-age': '2m' } }, 'eks-managed-node-group')).toEqual([]);
  });

  test('rejects keys that do not exist and values of the wrong type', () => {
    expect(validateSettings({ kernel: { sysctl: { a: 1 } }, kubernetez: { x: 1 }, motd: true }, 'karpenter').map((p) => p.key)).toEqual([
      'settings.kernel.sysctl.a',
      'settings.kubernetez',
      'settings.motd',
    ]);
    expect(() => renderSettingsToml({ 'host-containers': { admin: { enabeld: true } } }, 'karpenter')).toThrow(
      /settings.host-containers.admin.enabeld: is not a Bottlerocket setting/,
    );
  });

  test('list-of-table settings are accepted as leaves', () => {
    expect(validateSettings({ 'container-registry': { mirrors: [{ registry: 'docker.io', endpoint: ['https://mirror.example.com'] }] } }, 'karpenter')).toEqual(
      [],
    );
  });

  test('layers merge per leaf, later layers win', () => {
    expect(mergeSettings(adminContainerSettings(false), { 'host-containers': { admin: { enabled: true } }, motd: 'hi' })).toEqual({
      'host-containers': { admin: { enabled: true } },
      motd: 'hi',
    });
  });

  test('cgroup v2 adds nothing; v1 adds the systemd init parameter and a reboot to reconcile', () => {
    expect(cgroupSettings('v2')).toEqual({});
    const parsed = parse(renderSettingsToml(cgroupSettings('v1'), 'karpenter')) as any;
    expect(parsed.settings.boot).toEqual({ 'reboot-to-reconcile': true, 'init-parameters': { 'systemd.unified_cgroup_hierarchy': ['0'] } });
  });
});
