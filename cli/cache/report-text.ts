/** The text form of a cache report: a table per pool, pod start-up side by side, then the suggestions. */
import { CacheReport, gb, PoolReport } from './measure';

const num = (x: number | null) => (x === null ? '-' : x.toFixed(1));
const pct = (x: number | null) => (x === null ? '-' : `${Math.round(x * 1000) / 10}%`);

function table(rows: string[][], indent = '  '): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `${indent}${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`.trimEnd());
}

function poolLines(p: PoolReport, slowStartSeconds: number): string[] {
  const lines = [
    `pool ${p.pool} (${p.imageCache ? `cache ${p.imageCache}` : 'no image cache'}): ${p.nodes.launched} node(s) launched, cache hit ratio ${pct(p.cacheHitRatio)}`,
    ...table([
      ['node start-up (s)', 'p50', 'p90', 'max'],
      ['created -> Registered', num(p.nodes.registeredSeconds.p50), num(p.nodes.registeredSeconds.p90), num(p.nodes.registeredSeconds.max)],
      ['created -> Initialized', num(p.nodes.initializedSeconds.p50), num(p.nodes.initializedSeconds.p90), num(p.nodes.initializedSeconds.max)],
    ]),
    `  pod start-up, scheduled -> Ready: p50 ${num(p.podStartSeconds.p50)} s, p90 ${num(p.podStartSeconds.p90)} s`,
  ];
  if (p.images.length === 0) lines.push('  no image events on its new nodes (events are kept about an hour)');
  else
    lines.push(
      ...table([
        ['image', 'status', 'hits', 'pulls', 'pulled', 'pull s', 'failures'],
        ...p.images.map((i) => [
          i.image,
          i.status,
          String(i.hits),
          String(i.pulls),
          i.pulls ? gb(i.pulledBytes) : '-',
          i.pulls ? i.pullSeconds.toFixed(1) : '-',
          String(i.failures),
        ]),
      ]),
    );
  if (p.slowStarts.length > 0) {
    lines.push(`  slow starts (image already present, container started ${slowStartSeconds} s or more later):`);
    for (const s of p.slowStarts)
      lines.push(`    ${s.pod} container ${s.container} (${s.image}) on ${s.node}: started ${s.delaySeconds} s after the image was present`);
    lines.push(`    ${p.slowStarts[0].advice}`);
  }
  return lines;
}

/** What an empty window says instead of tables and charts of "- s" (issue 28): when it started and what to do. */
export const emptyWindowMessage = (r: CacheReport): string => `no node launched since ${r.since}; try a wider --since`;

export function reportText(r: CacheReport, slowStartSeconds: number): string {
  const out = [`cache report for cluster ${r.cluster}: nodes launched since ${r.since}`, ''];
  if (r.pools.length === 0) out.push('no Karpenter pool in the fleet file or the cluster');
  else if (r.pools.every((p) => p.nodes.launched === 0)) out.push(emptyWindowMessage(r), '');
  for (const p of r.pools) out.push(...poolLines(p, slowStartSeconds), '');
  if (r.pools.length > 0) {
    out.push(
      'pod start-up, scheduled -> Ready (s), cached and uncached pools side by side:',
      ...table([
        ['pool', 'cache', 'pods p50', 'pods p90', 'nodes p50'],
        ...r.pools.map((p) => [p.pool, p.imageCache ?? '-', num(p.podStartSeconds.p50), num(p.podStartSeconds.p90), num(p.nodes.initializedSeconds.p50)]),
      ]),
      '',
    );
  }
  const suggestions = r.pools.flatMap((p) => p.suggestions.map((s) => ({ pool: p.pool, ...s })));
  out.push(suggestions.length === 0 ? 'suggestions: none' : 'suggestions:');
  for (const s of suggestions) out.push(`  ${s.action.padEnd(6)} ${s.image} (pool ${s.pool}): ${s.reason}`);
  return `${out.join('\n')}\n`;
}
