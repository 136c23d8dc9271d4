/**
 * The HTML cache report as a person sees it: Debian's headless Chromium renders the page `cache report
 * --html` wrote, with every host name unresolvable. A copy of the page with one measuring script added
 * (its policy widened for that script alone) reports what Chromium laid out: each chart's size and how
 * many of its bars have a visible width. The page itself is also dumped as is and screenshotted.
 */
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../cli/cache/main';
import { captureMain } from '../helpers/capture';
import { CacheReportWorld, NOW, TRAINER_EAST } from '../helpers/cache-report-world';
import { describeWithChromium, runChromium } from '../helpers/chromium';

const MEASURE = `<script>
const charts = [...document.querySelectorAll('svg[data-chart]')].map((svg) => {
  const box = svg.getBoundingClientRect();
  const bars = [...svg.querySelectorAll('rect.bar')].filter((r) => r.getBoundingClientRect().width > 0.5);
  return { chart: svg.dataset.chart, width: Math.round(box.width), height: Math.round(box.height), visibleBars: bars.length };
});
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify(charts);
document.body.appendChild(pre);
</script>`;

/** Where Chromium puts each chart's texts: the text, its left and right edge and the chart's width (outside is cut off). */
const MEASURE_LABELS = `<script>
const labels = [...document.querySelectorAll('svg[data-chart] text')].map((t) => {
  const box = t.getBBox();
  return { text: t.textContent, left: Math.floor(box.x), right: Math.ceil(box.x + box.width), width: t.ownerSVGElement.width.baseVal.value };
});
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify(labels);
document.body.appendChild(pre);
</script>`;

/** The page with one measuring script added (its policy widened for that script alone), as Chromium laid it out. */
function measure(dir: string, html: string, script: string): unknown {
  const measuring = path.join(dir, `measure-${Math.random().toString(36).slice(2)}.html`);
  fs.writeFileSync(measuring, html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';").replace('</body>', `${script}</body>`));
  const dom = runChromium(['--dump-dom'], measuring);
  return JSON.parse(
    /<pre id="measured">([^<]*)<\/pre>/
      .exec(dom)![1]
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&'),
  );
}

describeWithChromium('the HTML cache report in headless Chromium', () => {
  const w = new CacheReportWorld();
  let html = '';
  let file = '';
  beforeAll(async () => {
    w.populate();
    await w.start();
    file = path.join(w.dir, 'report.html');
    const r = await captureMain(main, ['report', '--cluster', 'east', '--html', file], w.env(), { now: () => NOW });
    expect(r.code).toBe(0);
    html = fs.readFileSync(file, 'utf8');
  });
  afterAll(() => w.stop());

  test('Chromium lays out the three charts with visible bars', () => {
    const measuring = path.join(w.dir, 'measure.html');
    fs.writeFileSync(measuring, html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';").replace('</body>', `${MEASURE}</body>`));
    const dom = runChromium(['--dump-dom'], measuring);
    const measured = JSON.parse(/<pre id="measured">([^<]*)<\/pre>/.exec(dom)![1].replace(/&quot;/g, '"'));
    expect(measured.map((c: { chart: string }) => c.chart)).toEqual(['startup', 'hits', 'pulls']);
    for (const c of measured) {
      expect(c.width).toBeGreaterThan(600);
      expect(c.height).toBeGreaterThan(60);
    }
    // Start-up: 3 bars per pool, all non-zero; hits: batch's 3 segments and plain's uncached pulls; pulls: 4 images.
    expect(measured.map((c: { visibleBars: number }) => c.visibleBars)).toEqual([6, 4, 4]);
  });

  test('the page as written renders without a script and keeps its charts', () => {
    const dom = runChromium(['--dump-dom'], file);
    expect(dom.match(/<svg[^>]*data-chart=/g)).toHaveLength(3);
    expect(dom).toContain('Image cache report: cluster east');
  });

  // Issue 28 (9): the registry host (with its region) of every image label is on the page, not cut off at the left.
  test('every label and value is laid out whole inside its chart, the us-east-1 registry host included', () => {
    const texts = measure(w.dir, html, MEASURE_LABELS) as { text: string; left: number; right: number; width: number }[];
    expect(texts.map((l) => l.text)).toContain(`${TRAINER_EAST} (batch)`);
    expect(texts.filter((l) => l.left < 0 || l.right > l.width)).toEqual([]);
  });

  // Issue 28 (9): an empty window showed three empty charts of "- s".
  test('an empty window renders its message and no chart', async () => {
    const file = path.join(w.dir, 'empty.html');
    expect((await captureMain(main, ['report', '--cluster', 'east', '--since', '1s', '--html', file], w.env(), { now: () => NOW })).code).toBe(0);
    const dom = runChromium(['--dump-dom'], file);
    expect(dom).toContain(`no node launched since ${new Date(NOW - 1000).toISOString()}; try a wider --since`);
    expect(dom).not.toContain('<svg');
  });

  test('a screenshot of the page is a PNG', () => {
    const png = path.join(w.dir, 'report.png');
    runChromium([`--screenshot=${png}`, '--window-size=1100,1600', '--hide-scrollbars'], file);
    const bytes = fs.readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(bytes.length).toBeGreaterThan(20_000);
  });
});
