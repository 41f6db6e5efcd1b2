/**
 * The Lightweight Charts plugins on a chart the user already has: the user's own line series has a
 * timestamp every 30 s and 50 minutes more history than the 1-minute footprint, so the chart's logical
 * index of footprint bar k is neither k nor k + a constant. Measured in Debian Chromium from real
 * screen pixels (the built iife bundle, as a user loads it):
 *  - each footprint cell is drawn centred on its own bar time (±2 px), and the hit test names that bar;
 *  - the right-edge profile reserves its width: the newest bar's cells end left of it;
 *  - a session profile whose start is not a bar time is drawn (not skipped) from that time;
 *  - the profile's autoscaleInfo brings a value area far above the bars into view; its hitTest names
 *    the row under the pointer and nothing elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { REPO_ROOT } from '../helpers/data.js';
import { ensureChromium, CHROMIUM_ARGS } from './global-setup.js';

const T0 = Date.UTC(2024, 7, 8, 10, 0, 0);
const BG = '#131722';
let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 700 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setContent(`<!doctype html><html><body style="margin:0;background:${BG}"><div id="chart" style="position:absolute;inset:0"></div></body></html>`);
  await page.addScriptTag({ path: join(REPO_ROOT, 'node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js') });
  await page.addScriptTag({ path: join(REPO_ROOT, 'dist/tapeflow-lightweight-charts.iife.js') });
  await page.evaluate(({ T0, BG }) => {
    const LWC = (window as any).LightweightCharts, TF = (window as any).TapeFlowLWC;
    const chart = LWC.createChart(document.getElementById('chart'), {
      autoSize: true, layout: { background: { color: BG }, textColor: '#d1d4dc', attributionLogo: false },
      grid: { vertLines: { visible: false }, horzLines: { visible: false } }, crosshair: { mode: 2, vertLine: { visible: false }, horzLine: { visible: false } },
      timeScale: { barSpacing: 40 },
    });
    // the user's own series: every 30 s, starting 50 minutes before the footprint
    const user = chart.addSeries(LWC.LineSeries, { color: 'rgba(0,0,0,0)', lineWidth: 1, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false });
    const pts = [];
    for (let t = T0 - 50 * 60_000; t <= T0 + 40 * 60_000; t += 30_000) pts.push({ time: t / 1000, value: 150 });
    user.setData(pts);
    const fp = new TF.FootprintController(chart, LWC, { theme: 'dark', footprint: { showBarStats: false } });
    // 40 one-minute bars on a staircase: bar k has rows at 100 + 2k and 101 + 2k only
    const bars = [];
    for (let k = 0; k < 40; k++) {
      const p = 100 + 2 * k;
      bars.push({ time: T0 + k * 60_000, open: p, high: p + 1, low: p, close: p + 1, volume: 10, delta: 2, rowSize: 1, rows: [{ price: p, bid: 3, ask: 2 }, { price: p + 1, bid: 1, ask: 4 }], closed: true });
    }
    fp.setBars(bars);
    const profile = new TF.VolumeProfilePrimitive(fp, { visibleRange: true, width: 120 });
    fp.series.attachPrimitive(profile);
    (window as any).t = { chart, fp, profile, user };
  }, { T0, BG });
  expect(errors).toEqual([]);
}, 60_000);

afterAll(async () => { await browser?.close(); });

async function frames(n = 3): Promise<void> {
  await page.evaluate((k) => new Promise<void>((r) => { let i = 0; const f = () => (++i >= k ? r() : requestAnimationFrame(f)); requestAnimationFrame(f); }), n);
}

async function pixels(): Promise<{ at(x: number, y: number): string; width: number }> {
  const png = await page.screenshot();
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, img.width, img.height).data;
  return {
    width: img.width,
    at: (x, y) => { const i = (Math.round(y) * img.width + Math.round(x)) * 4; return '#' + [d[i], d[i + 1], d[i + 2]].map((v) => v.toString(16).padStart(2, '0')).join(''); },
  };
}

/** The run of non-background pixels on row y that contains x (or null when x is background). */
function runAt(px: { at(x: number, y: number): string; width: number }, x: number, y: number): { left: number; right: number } | null {
  if (px.at(x, y) === BG) return null;
  let l = Math.round(x), r = Math.round(x);
  while (l > 0 && px.at(l - 1, y) !== BG) l--;
  while (r < px.width - 1 && px.at(r + 1, y) !== BG) r++;
  return { left: l, right: r };
}

describe('footprint on a chart with extra timestamps and more history', () => {
  it('draws every visible bar centred on its own time and the hit test names that bar', async () => {
    await page.evaluate((T0) => {
      const { chart } = (window as any).t;
      chart.timeScale().setVisibleRange({ from: (T0 + 8 * 60_000) / 1000, to: (T0 + 32 * 60_000) / 1000 });
      chart.priceScale('right').applyOptions({ autoScale: true });
    }, T0);
    await frames();
    const geo = await page.evaluate((T0) => {
      const { chart, fp } = (window as any).t;
      const ts = chart.timeScale();
      return [10, 14, 18, 22, 26].map((k) => ({
        k, x: ts.timeToCoordinate((T0 + k * 60_000) / 1000), logical: ts.coordinateToLogical(ts.timeToCoordinate((T0 + k * 60_000) / 1000)),
        y: fp.series.priceToCoordinate(100 + 2 * k + 1.5), spacing: ts.options().barSpacing,
      }));
    }, T0);
    const px = await pixels();
    for (const g of geo) {
      // the chart's logical index is not the footprint index: the user's series is interleaved and longer
      expect(Math.round(g.logical)).not.toBe(g.k);
      const run = runAt(px, g.x, g.y);
      expect(run, `bar ${g.k} at x ${g.x}`).not.toBeNull();
      expect(Math.abs((run!.left + run!.right + 1) / 2 - g.x), `bar ${g.k}`).toBeLessThanOrEqual(2);
      // the cell is one bar wide (not smeared over the next slot)
      expect(run!.right - run!.left + 1).toBeLessThanOrEqual(g.spacing);
      const hit = await page.evaluate(({ x, y }) => (window as any).t.fp.rowAt(x, y), { x: g.x, y: g.y });
      expect(hit).toMatchObject({ time: T0 + g.k * 60_000, index: g.k, price: 100 + 2 * g.k + 1, ask: 4, bid: 1 });
    }
    // a slot that holds only the user's 30-s timestamp has no footprint cell and no hit
    const gap = await page.evaluate((T0) => {
      const { chart, fp } = (window as any).t;
      const x = chart.timeScale().timeToCoordinate((T0 + 20 * 60_000 + 30_000) / 1000);
      const y = fp.series.priceToCoordinate(141.5);
      return { x, y, hit: fp.rowAt(x, y) };
    }, T0);
    expect(gap.hit).toBeNull();
    expect(px.at(gap.x, gap.y)).toBe(BG);
  });

  it('reserves the right-edge profile width: the newest bar stays left of the profile', async () => {
    // the chart's default view (as after loading data): newest bars at the right edge
    await page.evaluate(() => { (window as any).t.chart.timeScale().resetTimeScale(); });
    await frames();
    const g = await page.evaluate((T0) => {
      const { chart, fp } = (window as any).t;
      const ts = chart.timeScale();
      return { x: ts.timeToCoordinate((T0 + 39 * 60_000) / 1000), y: fp.series.priceToCoordinate(100 + 78 + 1.5), paneWidth: ts.width(), offsetPx: ts.options().rightOffsetPixels };
    }, T0);
    expect(g.offsetPx).toBeGreaterThanOrEqual(128);
    const px = await pixels();
    const run = runAt(px, g.x, g.y);
    expect(run).not.toBeNull();
    expect(run!.right).toBeLessThan(g.paneWidth - 120);
  });
});

describe('volume profile primitive', () => {
  it('draws a session profile whose start is not a bar time, autoscales to its value area and answers hitTest', async () => {
    const g = await page.evaluate((T0) => {
      const { chart, fp, profile } = (window as any).t;
      const start = T0 + 20 * 60_000 + 10_000; // between bars 20 and 21, and not a time of the user's series either
      const rows = [];
      for (let p = 300; p <= 305; p++) rows.push({ price: p, volume: p === 302 ? 50 : 20, buy: 10, sell: 10 });
      profile.applyOptions({ sessions: [{ start, end: T0 + 40 * 60_000, rowSize: 1, rows, poc: 302, vah: 304, val: 301 }] });
      chart.timeScale().setVisibleRange({ from: (T0 + 8 * 60_000) / 1000, to: (T0 + 32 * 60_000) / 1000 });
      return { start };
    }, T0);
    await frames(4);
    const m = await page.evaluate(({ start }) => {
      const { chart, fp, profile } = (window as any).t;
      const x0 = fp.xOfTime(start);
      const h = chart.panes()[0].getHeight();
      return {
        x0, h, yPoc: fp.series.priceToCoordinate(302.5), yVah: fp.series.priceToCoordinate(305), yVal: fp.series.priceToCoordinate(301),
        xBar20: chart.timeScale().timeToCoordinate((start - 10_000) / 1000), xBar21: chart.timeScale().timeToCoordinate((start + 50_000) / 1000),
      };
    }, g);
    // placed by time: between bar 20's and bar 21's centres
    expect(m.x0).toBeGreaterThan(m.xBar20 - 40);
    expect(m.x0).toBeLessThan(m.xBar21);
    // autoscale brought the value area (far above the bars) into the pane
    expect(m.yVah).toBeGreaterThanOrEqual(0);
    expect(m.yVal).toBeLessThanOrEqual(m.h);
    const px = await pixels();
    expect(px.at(m.x0 + 4, m.yPoc)).not.toBe(BG);
    const hit = await page.evaluate(({ x, y }) => { const p = (window as any).t.profile; return { row: p.rowAt(x, y), ht: p.hitTest(x, y), none: p.hitTest(x, 2) }; }, { x: m.x0 + 4, y: m.yPoc });
    expect(hit.row).toMatchObject({ profile: 'session', price: 302, volume: 50, poc: true, inValueArea: true });
    expect(hit.ht.externalId).toBe('profile:session:302');
    expect(hit.none).toBeNull();
  });
});
