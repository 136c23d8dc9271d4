/** `cache list` and `cache gc` as text: a table with a header row (issue 28: the rows alone did not say which column was which). */
import type { CacheRegionState, GcAction } from './inventory';
import { textTable } from '../shared/table';

const LIST_HEADER = ['CACHE', 'REGION', 'CURRENT', 'PREVIOUS', 'RELEASE', 'KERNEL', 'FILL', 'IMAGES', 'OWNER', 'BUILD ID', 'IN HISTORY', 'PROBLEM'];

/** One row per cache and region; "-" where nothing is known; PROBLEM says why a snapshot is untrusted or its manifest unreadable. */
export function listTable(rows: readonly CacheRegionState[]): string {
  const dash = (v: string | undefined) => v ?? '-';
  return textTable(
    LIST_HEADER,
    rows.map((r) => [
      r.cache,
      r.region,
      dash(r.current),
      dash(r.previous),
      dash(r.bottlerocketVersion),
      dash(r.kernelRelease),
      dash(r.fill),
      r.images ? String(r.images.length) : '-',
      dash(r.owner),
      dash(r.buildId),
      r.inHistory === undefined ? '-' : r.inHistory ? 'yes' : 'no',
      [r.untrusted && `untrusted: ${r.untrusted}`, r.manifestError && `manifest: ${r.manifestError}`].filter(Boolean).join('; ') || '-',
    ]),
  );
}

/** What gc terminated or deleted (or, with --dry-run, would), or that there was nothing to collect. */
export function gcTable(actions: readonly GcAction[]): string {
  if (actions.length === 0) return 'nothing to collect\n';
  return textTable(
    ['REGION', 'ACTION', 'ID', 'REASON'],
    actions.map((a) => [a.region, a.action, a.id, a.reason]),
  );
}
