/**
 * The node settings that decide how images are pulled, which the cache builder must share with the nodes
 * it serves: a pull that needs the cluster's CA, a registry mirror, a credential provider or the proxy
 * fails on a builder without them, and a pool that verifies images (settings.image-verifier-plugins; containerd
 * runs verifiers only on pull) would otherwise get cached images that were never verified.
 *
 * The settings (contracts/bottlerocket-settings.json): settings.pki (trustedCertificates and settings.pki),
 * settings.container-registry (mirrors, credentials), settings.kubernetes.credential-providers,
 * settings.network.https-proxy / no-proxy, settings.image-verifier-plugins.
 */
import type { BottlerocketSettings } from '../bottlerocket/settings';
import { mergeSettings, trustedCertificateSettings } from '../bottlerocket/settings';

/** Setting paths (below `settings.`) that shape a pull, each compared across a cache's pools. */
export const PULL_SETTING_PATHS = [
  ['pki'],
  ['container-registry'],
  ['kubernetes', 'credential-providers'],
  ['network', 'https-proxy'],
  ['network', 'no-proxy'],
  ['image-verifier-plugins'],
] as const;

export interface CachedPool {
  /** clusters.<c>.karpenter.nodePools.<p> */
  readonly at: string;
  readonly trustedCertificates: readonly { name: string; pem: string }[];
  readonly clusterSettings?: BottlerocketSettings;
  readonly poolSettings?: BottlerocketSettings;
}

function valueAt(settings: BottlerocketSettings, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), settings);
}

function setAt(settings: BottlerocketSettings, path: readonly string[], value: unknown): void {
  let node = settings;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as BottlerocketSettings;
  node[path.at(-1)!] = value;
}

/** Stable text of a value (object keys sorted), to compare settings. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v ?? null);
}

/** A pool's pull settings as its nodes get them (as node-class.ts merges them: certificates, cluster, pool). */
export function poolPullSettings(p: CachedPool): BottlerocketSettings {
  const merged = mergeSettings(trustedCertificateSettings(p.trustedCertificates), p.clusterSettings, p.poolSettings);
  const out: BottlerocketSettings = {};
  for (const path of PULL_SETTING_PATHS) {
    const v = valueAt(merged, path);
    if (v !== undefined) setAt(out, path, v);
  }
  return out;
}

/**
 * The builder's pull settings for a cache: those its pools share. Where they differ, one problem per
 * setting, naming each pool and what it has, at `imageCaches.<cache>`.
 */
export function cachePullSettings(
  cache: string,
  pools: readonly CachedPool[],
): { settings: BottlerocketSettings; problems: { path: string; message: string; fix: string }[] } {
  const each = pools.map((p) => ({ at: p.at, settings: poolPullSettings(p) }));
  const problems: { path: string; message: string; fix: string }[] = [];
  for (const path of PULL_SETTING_PATHS) {
    const values = new Map<string, string[]>();
    for (const p of each) {
      const text = canonical(valueAt(p.settings, path));
      values.set(text, [...(values.get(text) ?? []), p.at]);
    }
    if (values.size < 2) continue;
    const key = `settings.${path.join('.')}`;
    const verifiers = path[0] === 'image-verifier-plugins';
    problems.push({
      path: `imageCaches.${cache}`,
      message: `its pools pull with different ${key} (${[...values.entries()].map(([v, at]) => `${at.join(', ')}: ${v === 'null' ? 'not set' : v.length > 80 ? `${v.slice(0, 77)}...` : v}`).join('; ')}): the builder pulls once for all of them${verifiers ? ', so the cached images would be verified for some pools and not for others (containerd runs verifiers only on pull)' : ', and a pull that depends on it would fail or differ on the builder'}`,
      fix: `give those pools the same ${key} (in clusters.<c>.settings or the pools' settings${path[0] === 'pki' ? ', and the same trustedCertificates' : ''}), or give them image caches of their own`,
    });
  }
  return { settings: problems.length === 0 && each.length > 0 ? each[0].settings : {}, problems };
}
