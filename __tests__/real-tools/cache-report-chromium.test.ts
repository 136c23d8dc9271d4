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

const MEASURE = `<script>{ // a block: both scripts run on one page, each with its own names
const charts = [...document.querySelectorAll('svg[data-chart]')].map((svg) => {
  const box = svg.getBoundingClientRect();
  const bars = [...svg.querySelectorAll('rect.bar')].filter((r) => r.getBoundingClientRect().width > 0.5);
  return { chart: svg.dataset.chart, width: Math.round(box.width), height: Math.round(box.height), visibleBars: bars.length };
});
const pre = document.createElement('pre');
pre.id = 'measured-charts';
pre.textContent = JSON.stringify(charts);
document.body.appendChild(pre);
}</script>`;

/** Where Chromium puts each chart's texts: the text, its left and right edge and the chart's width (outside is cut off). */
const MEASURE_LABELS = `<script>{
const labels = [...document.querySelectorAll('svg[data-chart] text')].map((t) => {
  const box = t.getBBox();
  return { text: t.textContent, left: Math.floor(box.x), right: Math.ceil(box.x + box.width), width: t.ownerSVGElement.width.baseVal.value };
});
const pre = document.createElement('pre');
pre.id = 'measured-labels';
pre.textContent = JSON.stringify(labels);
document.body.appendChild(pre);
}</script>`;

/**
 * The page with both measuring scripts added (its policy widened for them alone), as ONE Chromium run laid it out:
 * each script reports into its own element, and a Chromium start costs a second or more. Neither script changes
 * what the other measures (each appends its report below the charts).
 */
function measureOnce(dir: string, html: string): { charts: any; labels: any } {
  const measuring = path.join(dir, 'measure.html');
  const scripts = `${MEASURE}${MEASURE_LABELS}`;
  fs.writeFileSync(measuring, html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';").replace('</body>', `${scripts}</body>`));
  const dom = runChromium(['--dump-dom'], measuring);
  const read = (id: string): unknown =>
    JSON.parse(
      new RegExp(`<pre id="${id}">([^<]*)</pre>`)
        .exec(dom)![1]
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&'),
    );
  return { charts: read('measured-charts'), labels: read('measured-labels') };
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

  let laidOut: { charts: any; labels: any } | undefined;
  const layout = () => (laidOut ??= measureOnce(w.dir, html));
  /** The page as written, dumped and screenshotted by one Chromium run (the DOM does not depend on the window size). */
  let written: { dom: string; png: string } | undefined;
  const asWritten = () => {
    if (written) return written;
    const png = path.join(w.dir, 'report.png');
    const dom = runChromium(['--dump-dom', `--screenshot=${png}`, '--window-size=1100,1600', '--hide-scrollbars'], file);
    return (written = { dom, png });
  };

  test('Chromium lays out the three charts with visible bars', () => {
    const { charts: measured } = layout();
    expect(measured.map((c: { chart: string }) => c.chart)).toEqual(['startup', 'hits', 'pulls']);
    for (const c of measured) {
      expect(c.width).toBeGreaterThan(600);
      expect(c.height).toBeGreaterThan(60);
    }
    // Start-up: 3 bars per pool, all non-zero; hits: batch's 3 segments and plain's uncached pulls; pulls: 4 images.
    expect(measured.map((c: { visibleBars: number }) => c.visibleBars)).toEqual([6, 4, 4]);
  });

  test('the page as written renders without a script and keeps its charts', () => {
    const { dom } = asWritten();
    expect(dom.match(/<svg[^>]*data-chart=/g)).toHaveLength(3);
    expect(dom).toContain('Image cache report: cluster east');
  });

  // Issue 28 (9): the registry host (with its region) of every image label is on the page, not cut off at the left.
  test('every label and value is laid out whole inside its chart, the us-east-1 registry host included', () => {
    const texts = layout().labels as { text: string; left: number; right: number; width: number }[];
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
    const { png } = asWritten();
    const bytes = fs.readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(bytes.length).toBeGreaterThan(20_000);
  });
});
