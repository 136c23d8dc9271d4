/**
 * cgroup version of a node. Bottlerocket aws-k8s-1.26 and later run cgroup v2; v1 comes back only with
 * the systemd init parameter and a reboot at first boot (settings.boot.reboot-to-reconcile).
 * The fleet loader warns for every pool that opts in to v1.
 */
import type { BottlerocketSettings } from './settings';

export function cgroupSettings(version: 'v1' | 'v2'): BottlerocketSettings {
  if (version === 'v2') return {};
  return {
    boot: {
      'reboot-to-reconcile': true,
      'init-parameters': { 'systemd.unified_cgroup_hierarchy': ['0'] },
    },
  };
}
