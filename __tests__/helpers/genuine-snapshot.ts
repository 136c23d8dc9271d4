import type { SnapshotRecord } from '../../modules/image-cache/provenance';

export const GENUINE_ACCOUNT = '123456789012';

/** A snapshot that passes the provenance checks (issue 21): this account's, completed, encrypted, the cache's tag, a build ID; a copy names its source. */
export function genuineSnapshot(id: string, cache: string, source?: string): SnapshotRecord {
  return {
    id,
    ownerId: GENUINE_ACCOUNT,
    state: 'completed',
    encrypted: true,
    tags: {
      'bottlerocket-fleet:cache': cache,
      'bottlerocket-fleet:build-id': `${cache}-${source ?? id}`,
      // What the builder records since issue 30 (the fixtures' clusters run 1.35: kernel line 6.12).
      ...(source ? {} : { 'bottlerocket-fleet:kernel-release': '6.12.40' }),
      ...(source ? { 'bottlerocket-fleet:source-snapshot': source } : {}),
    },
  };
}
