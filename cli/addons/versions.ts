/**
 * EKS add-on versions, compared (pure): which versions EKS offers for a Kubernetes version are newer than the one a
 * cluster pins. EKS spells them v<major>.<minor>.<patch>-eksbuild.<n> (DescribeAddonVersions addonVersion).
 */
const ADDON_VERSION = /^v(\d+)\.(\d+)\.(\d+)-eksbuild\.(\d+)$/;

/** Orders add-on versions (v1.11.4-eksbuild.9 < v1.11.4-eksbuild.22 < v1.12.0-eksbuild.1); unparseable ones sort first. */
export function compareAddonVersions(a: string, b: string): number {
  const x = ADDON_VERSION.exec(a)?.slice(1).map(Number);
  const y = ADDON_VERSION.exec(b)?.slice(1).map(Number);
  if (!x || !y) return (x ? 1 : 0) - (y ? 1 : 0);
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

export interface AddonRow {
  readonly addon: string;
  /** What the cluster stack pins (undefined: EKS's default version). */
  readonly pinned?: string;
  /** EKS's default version for the Kubernetes version. */
  readonly eksDefault?: string;
  /** Versions EKS offers for the running Kubernetes version that are newer than the pin, newest first. */
  readonly newer: readonly string[];
}

/** One row: the versions EKS offers, newer than the pin (all of them when nothing is pinned), newest first. */
export function addonRow(addon: string, pinned: string | undefined, offered: readonly { version: string; isDefault: boolean }[]): AddonRow {
  const sorted = [...offered].sort((a, b) => compareAddonVersions(b.version, a.version));
  return {
    addon,
    ...(pinned ? { pinned } : {}),
    ...(sorted.find((o) => o.isDefault) ? { eksDefault: sorted.find((o) => o.isDefault)!.version } : {}),
    newer: sorted.filter((o) => pinned === undefined || compareAddonVersions(o.version, pinned) > 0).map((o) => o.version),
  };
}
