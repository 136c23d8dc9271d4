/**
 * The HTML form of a cache report: one self-contained page (inline CSS and SVG, no script, nothing
 * fetched: its Content-Security-Policy allows no source at all) with three charts a person reads at a
 * glance: start-up per pool, hits against pulls, and the biggest pulls. Then the tables and suggestions.
 */
import { CacheReport, gb, PoolReport } from './measure';
import { emptyWindowMessage } from './report-text';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number | null) => (x === null ? '-' : x.toFixed(1));
const COLORS = { hit: '#2e7d32', miss: '#c62828', uncached: '#9e9e9e', node: '#1565c0', pod: '#ef6c00' };
// Wide enough for an image name of IMAGE_LABEL_MAX characters and its pool at 12px (about 6.5px a character).
const LABEL_W = 440;
const BAR_W = 280;
// Room for the longest value text, "7 hits, 2 misses, 2 uncached pulls" (the page is at most 1000 px wide).
const TEXT_W = 260;
const IMAGE_LABEL_MAX = 60;
const LEGEND_W = 200;
const ROW_H = 22;

interface Bar {
  readonly label: string;
  readonly segments: readonly { readonly value: number; readonly color: string; readonly title: string }[];
  readonly text: string;
}

/** A horizontal bar chart (stacked when a bar has several segments), scaled to its largest bar. */
function barChart(id: string, title: string, bars: readonly Bar[], legend: readonly [string, string][]): string {
  const max = Math.max(1e-9, ...bars.map((b) => b.segments.reduce((s, x) => s + x.value, 0)));
  const height = Math.max(1, bars.length) * ROW_H + 40;
  const rows = bars.map((b, i) => {
    const y = 30 + i * ROW_H;
    let x = LABEL_W;
    const rects = b.segments.map((s) => {
      const w = (s.value / max) * BAR_W;
      const r = `<rect class="bar" x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW_H - 6}" fill="${s.color}"><title>${esc(s.title)}</title></rect>`;
      x += w;
      return r;
    });
    return `<text x="${LABEL_W - 6}" y="${y + 12}" text-anchor="end">${esc(b.label)}</text>${rects.join('')}<text x="${(x + 4).toFixed(1)}" y="${y + 12}">${esc(b.text)}</text>`;
  });
  const legendText = legend
    .map(
      ([name, color], i) =>
        `<rect x="${LABEL_W + i * LEGEND_W}" y="6" width="12" height="12" fill="${color}"/><text x="${LABEL_W + 16 + i * LEGEND_W}" y="16">${esc(name)}</text>`,
    )
    .join('');
  const empty = bars.length === 0 ? `<text x="${LABEL_W}" y="44">nothing measured in the window</text>` : '';
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" data-chart="${id}" role="img" aria-label="${esc(title)}" width="${LABEL_W + BAR_W + TEXT_W}" height="${height}" font-family="sans-serif" font-size="12">${legendText}${rows.join('')}${empty}</svg></figure>`;
}

function startupChart(r: CacheReport): string {
  const bars = r.pools.flatMap((p): Bar[] => {
    const name = `${p.pool} (${p.imageCache ?? 'uncached'})`;
    return [
      {
        label: `${name} node p50`,
        segments: [{ value: p.nodes.initializedSeconds.p50 ?? 0, color: COLORS.node, title: 'NodeClaim created -> Initialized, p50' }],
        text: `${num(p.nodes.initializedSeconds.p50)} s`,
      },
      {
        label: `${name} pod p50`,
        segments: [{ value: p.podStartSeconds.p50 ?? 0, color: COLORS.pod, title: 'pod scheduled -> Ready, p50' }],
        text: `${num(p.podStartSeconds.p50)} s`,
      },
      {
        label: `${name} pod p90`,
        segments: [{ value: p.podStartSeconds.p90 ?? 0, color: COLORS.pod, title: 'pod scheduled -> Ready, p90' }],
        text: `${num(p.podStartSeconds.p90)} s`,
      },
    ];
  });
  return barChart('startup', 'Start-up per pool (seconds)', bars, [
    ['node created -> Initialized', COLORS.node],
    ['pod scheduled -> Ready', COLORS.pod],
  ]);
}

function hitsChart(r: CacheReport): string {
  const sum = (p: PoolReport, f: (i: PoolReport['images'][number]) => number) => p.images.reduce((s, i) => s + f(i), 0);
  const bars = r.pools.map((p): Bar => {
    const hits = sum(p, (i) => (i.status === 'hit' || i.status === 'miss' ? i.hits : 0));
    const misses = sum(p, (i) => (i.status === 'miss' ? i.pulls : 0));
    const uncached = sum(p, (i) => (i.status === 'uncached' ? i.pulls : 0));
    return {
      label: `${p.pool} (${p.imageCache ?? 'uncached'})`,
      segments: [
        { value: hits, color: COLORS.hit, title: `${hits} hit(s)` },
        { value: misses, color: COLORS.miss, title: `${misses} miss(es): cached, pulled anyway` },
        { value: uncached, color: COLORS.uncached, title: `${uncached} pull(s) of uncached images` },
      ],
      text: `${hits} hits, ${misses} misses, ${uncached} uncached pulls`,
    };
  });
  return barChart('hits', 'Hits against pulls per pool (image uses on new nodes)', bars, [
    ['hit', COLORS.hit],
    ['miss', COLORS.miss],
    ['uncached pull', COLORS.uncached],
  ]);
}

/**
 * A long image name cut in the middle: the registry host stays whole (its region is what tells a regional miss from a
 * hit, e.g. 111122223333.dkr.ecr.us-east-1.amazonaws.com) and so does the end (repository and tag); the full name is
 * in the bar's tooltip. Without room for the host beside 8 characters of the end (an ECR host is up to about 52
 * characters), both halves are kept evenly.
 */
export function shortImageName(image: string, max = IMAGE_LABEL_MAX): string {
  if (image.length <= max) return image;
  // The first component is a registry host when it has a '.' or ':' or is localhost (distribution/reference's rule).
  const first = image.split('/')[0];
  const host = image.includes('/') && (/[.:]/.test(first) || first === 'localhost') ? `${first}/` : '';
  const head = host && host.length <= max - 9 ? host : image.slice(0, Math.ceil((max - 1) / 2));
  return `${head}…${image.slice(image.length - (max - 1 - head.length))}`;
}

/** Nodes launched in the report's window, over every pool. */
const launchedNodes = (r: CacheReport) => r.pools.reduce((n, p) => n + p.nodes.launched, 0);

function biggestPullsChart(r: CacheReport): string {
  const pulls = r.pools
    .flatMap((p) => p.images.filter((i) => i.pulls > 0).map((i) => ({ pool: p.pool, ...i })))
    .sort((a, b) => b.pulledBytes - a.pulledBytes)
    .slice(0, 10);
  const bars = pulls.map((i): Bar => ({
    label: `${shortImageName(i.image)} (${i.pool})`,
    segments: [{ value: i.pulledBytes, color: i.status === 'miss' ? COLORS.miss : COLORS.uncached, title: `${i.image} (pool ${i.pool}, ${i.status})` }],
    text: `${gb(i.pulledBytes)}, ${i.pullSeconds.toFixed(0)} s`,
  }));
  return barChart('pulls', 'Biggest pulls (bytes pulled on new nodes)', bars, [
    ['miss', COLORS.miss],
    ['uncached', COLORS.uncached],
  ]);
}

function poolSection(p: PoolReport): string {
  const rows = p.images
    .map(
      (i) =>
        `<tr class="${i.status}"><td>${esc(i.image)}</td><td>${i.status}</td><td>${i.hits}</td><td>${i.pulls}</td><td>${i.pulls ? gb(i.pulledBytes) : '-'}</td><td>${i.pulls ? i.pullSeconds.toFixed(1) : '-'}</td><td>${i.failures}</td></tr>`,
    )
    .join('');
  const slow = p.slowStarts.length
    ? `<p><strong>Slow starts</strong>: ${p.slowStarts.map((s) => `${esc(s.pod)} ${esc(s.container)} ${s.delaySeconds} s`).join('; ')}. ${esc(p.slowStarts[0].advice)}</p>`
    : '';
  const ratio = p.cacheHitRatio === null ? '-' : `${Math.round(p.cacheHitRatio * 1000) / 10}%`;
  return `<section><h2>Pool ${esc(p.pool)} <small>${p.imageCache ? `cache ${esc(p.imageCache)}` : 'no image cache'}</small></h2>
<p>${p.nodes.launched} node(s) launched; cache hit ratio <strong>${ratio}</strong>; node created → Initialized p50 ${num(p.nodes.initializedSeconds.p50)} s, p90 ${num(p.nodes.initializedSeconds.p90)} s, max ${num(p.nodes.initializedSeconds.max)} s; pod scheduled → Ready p50 ${num(p.podStartSeconds.p50)} s, p90 ${num(p.podStartSeconds.p90)} s.</p>
<table><thead><tr><th>image</th><th>status</th><th>hits</th><th>pulls</th><th>pulled</th><th>pull s</th><th>failures</th></tr></thead><tbody>${rows}</tbody></table>${slow}</section>`;
}

export function reportHtml(r: CacheReport): string {
  const suggestions = r.pools.flatMap((p) =>
    p.suggestions.map((s) => `<li><strong>${s.action}</strong> ${esc(s.image)} (pool ${esc(p.pool)}): ${esc(s.reason)}</li>`),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Image cache report: ${esc(r.cluster)}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}
figure{margin:16px 0}figcaption{font-weight:bold;margin-bottom:4px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
tr.miss td:nth-child(2){color:${COLORS.miss};font-weight:bold}tr.hit td:nth-child(2){color:${COLORS.hit}}
small{color:#666;font-weight:normal}
</style></head><body>
<h1>Image cache report: cluster ${esc(r.cluster)}</h1>
<p>Nodes launched since ${esc(r.since)}. Kubernetes keeps events for about an hour (EKS too): run the report right after a scale-up or a rollout stage.</p>
${launchedNodes(r) === 0 ? `<p class="empty"><strong>${esc(emptyWindowMessage(r))}</strong></p>` : [startupChart(r), hitsChart(r), biggestPullsChart(r), ...r.pools.map(poolSection)].join('\n')}
<h2>Suggestions</h2>${suggestions.length ? `<ul>${suggestions.join('')}</ul>` : '<p>none</p>'}
</body></html>
`;
}
