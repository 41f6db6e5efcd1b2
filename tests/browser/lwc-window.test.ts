/**
 * The footprint's window of bars (FootprintController.window) in Debian Chromium, on 20,000 one-minute
 * bars through the built iife bundle: the chart (footprint, CVD, delta, VWAP series) holds a bounded
 * window, panning moves it without moving the view (each step shifts the bar under the centre by
 * exactly the scrolled bars, by script and by a real mouse drag), the VWAP comes from every bar, a
 * signal-card jump (showBars) shows an old bar, and a live bar while the user looks at history waits
 * in the controller until the window reaches it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/data.js';
import { ensureChromium, CHROMIUM_ARGS } from './global-setup.js';

const T0 = Date.UTC(2024, 7, 8, 0, 0, 0);
const N = 20_000;
let browser: Browser;
let page: Page;
const errors: string[] = [];

/** Index (into the controller's bars) of the bar under the chart's centre x. */
const centre = (): Promise<number> => page.evaluate(() => {
  const { chart, of } = (window as any).t, ts = chart.timeScale();
  const t = ts.coordinateToTime(ts.width() / 2);
  return t === null ? -1 : of.footprint.indexAt(t * 1000);
});
const frame = (): Promise<void> => page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0))));
/**
 * Two frames: a scroll is applied at the chart's next draw, and a window move it causes that trims the
 * right end puts the view back with setVisibleLogicalRange, which Lightweight Charts applies at the draw
 * after that. Between the two the time scale keeps its old right offset over the new data (nothing is
 * drawn then), so a read after one frame could land there on a loaded machine (CI, 2026-12-05).
 */
const settled = async (): Promise<void> => { await frame(); await frame(); };
const state = (): Promise<{ from: number; to: number; n: number; held: number; cvd: number; delta: number; vwap: number }> => page.evaluate(() => {
  const { of } = (window as any).t, fp = of.footprint;
  return { ...fp.window, n: fp.bars.length, held: fp.series.data().length, cvd: of.delta.cvd.data().length, delta: of.delta.delta.data().length, vwap: of.vwap.points.length };
});

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 700 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.setContent('<!doctype html><html><body style="margin:0;background:#131722"><div id="chart" style="position:absolute;inset:0"></div></body></html>');
  await page.addScriptTag({ path: join(REPO_ROOT, 'node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js') });
  await page.addScriptTag({ path: join(REPO_ROOT, 'dist/tapeflow-lightweight-charts.iife.js') });
  await page.evaluate(({ T0, N }) => {
    const LWC = (window as any).LightweightCharts, TF = (window as any).TapeFlowLWC;
    const chart = LWC.createChart(document.getElementById('chart'), { autoSize: true, layout: { background: { color: '#131722' }, textColor: '#d1d4dc' }, timeScale: { barSpacing: 40 } });
    const of = TF.attachOrderFlow(chart, LWC, { theme: 'dark' });
    let s = 7; const r = (): number => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
    const bars = []; let p = 600000, cvd = 0;
    for (let i = 0; i < N; i++) {
      const k = 4 + Math.floor(r() * 8), lo = p - Math.floor(r() * k), rows = [];
      for (let j = 0; j < k; j++) rows.push({ price: (lo + j) / 10, bid: 1 + Math.floor(r() * 50), ask: 1 + Math.floor(r() * 50) });
      const delta = rows.reduce((a, x) => a + x.ask - x.bid, 0), close = lo + Math.floor(r() * k);
      bars.push({ time: T0 + i * 60_000, open: p / 10, high: (lo + k - 1) / 10, low: lo / 10, close: close / 10, volume: rows.reduce((a, x) => a + x.bid + x.ask, 0), delta, rowSize: 0.1, rows, cvd: { open: cvd, high: cvd + Math.max(0, delta), low: cvd + Math.min(0, delta), close: cvd + delta } });
      cvd += delta; p = close;
    }
    of.setBars(bars);
    (window as any).t = { chart, of, TF, bars };
  }, { T0, N });
  await frame();
}, 60_000);

afterAll(async () => { await browser?.close(); });

describe('footprint window of bars', () => {
  it('gives every series of the chart a bounded window at the live end, and the VWAP of every bar', async () => {
    const s = await state();
    expect(s.n).toBe(N);
    expect(s.to).toBe(N);
    expect(s.to - s.from).toBeLessThanOrEqual(4000);
    expect(s.held).toBe(s.to - s.from);
    expect(s.cvd).toBe(s.held);
    expect(s.delta).toBe(s.held);
    expect(s.vwap).toBe(s.held);
    // the newest VWAP point is the session VWAP over all of that UTC day's bars, not over the window
    const v = await page.evaluate(() => {
      const { of, TF, bars } = (window as any).t;
      const all = TF.vwapFromBars(bars);
      return { chart: of.vwap.points.at(-1).vwap, all: all.at(-1).vwap };
    });
    expect(v.chart).toBeCloseTo(v.all, 9);
  });

  it('moves the window as the view pans into history without moving the view', async () => {
    let c = await centre();
    expect(c).toBeGreaterThan(N - 40);
    const moves0 = await page.evaluate(() => (window as any).t.of.footprint.windowMoves);
    const step = 150;
    for (let i = 0; i < 60; i++) {
      await page.evaluate((step) => { const ts = (window as any).t.chart.timeScale(); ts.scrollToPosition(ts.scrollPosition() - step, false); }, step);
      await settled();
      const c2 = await centre();
      expect(Math.abs(c - c2 - step)).toBeLessThanOrEqual(1);
      c = c2;
      const s = await state();
      expect(s.held).toBe(s.to - s.from);
      expect(s.from).toBeLessThanOrEqual(c - 20);
      expect(s.to).toBeGreaterThanOrEqual(c + 20);
    }
    const s = await state();
    expect(await page.evaluate(() => (window as any).t.of.footprint.windowMoves)).toBeGreaterThan(moves0);
    // 9,000 bars back: the chart holds a window there, not everything from there to the live end
    expect(s.to).toBeLessThan(N);
    expect(s.to - s.from).toBeLessThanOrEqual(4000 + 100);
    // the drawn cells are the bars at their own times: the row under the centre is the centre bar's
    const hit = await page.evaluate(() => {
      const { chart, of } = (window as any).t, fp = of.footprint, ts = chart.timeScale(), x = ts.width() / 2;
      const k = fp.indexAt(ts.coordinateToTime(x) * 1000), b = fp.prepared.bars[k];
      const y = fp.series.priceToCoordinate((b.row0 + 0.5) * b.data.rowSize);
      return { k, x: fp.xOfIndex(k), byTime: ts.timeToCoordinate(Math.floor(fp.times[k] / 1000)), hit: fp.rowAt(fp.xOfIndex(k), y) };
    });
    expect(hit.x).toBeCloseTo(hit.byTime, 6);
    expect(hit.hit?.index).toBe(hit.k);
  });

  it('keeps a mouse drag steady while the window grows under it', async () => {
    // the view just right of the window's left margin, so that the drag crosses it
    await page.evaluate(() => {
      const ts = (window as any).t.chart.timeScale(), lr = ts.getVisibleLogicalRange(), vis = lr.to - lr.from, margin = Math.max(vis, 250);
      ts.setVisibleLogicalRange({ from: margin + 12, to: margin + 12 + vis });
    });
    await frame(); await frame();
    const from0 = (await state()).from;
    const c0 = await centre();
    await page.mouse.move(100, 300);
    await page.mouse.down();
    // 40 px = one bar at this spacing: every move shows the bar one earlier under the centre
    const cs: number[] = [c0];
    for (let i = 1; i <= 30; i++) {
      await page.mouse.move(100 + 40 * i, 300);
      await frame();
      cs.push(await centre());
    }
    const steps = cs.slice(2).map((c, i) => cs[i + 1] - c);
    expect(steps.every((d) => d >= 0 && d <= 2), `bars moved per 40 px: ${steps.join(' ')}`).toBe(true);
    expect(Math.abs(cs[1] - cs[30] - 29)).toBeLessThanOrEqual(1);
    const during = await state();
    await page.mouse.up();
    // it grew to the left while the button was down (a prepend keeps Lightweight Charts' right offset)
    expect(during.from).toBeLessThan(from0);
    expect(during.held).toBe(during.to - during.from);
    expect(errors).toEqual([]);
  });

  it('shows an old bar by index (signal-card jump) and keeps live bars for when the window reaches them', async () => {
    await page.evaluate(() => (window as any).t.of.footprint.showBars(100, 120));
    // Lightweight Charts applies a logical range with the next frame
    await frame();
    const vis = await page.evaluate(() => {
      const { chart, of } = (window as any).t;
      const r = chart.timeScale().getVisibleRange();
      return { from: r.from * 1000, to: r.to * 1000, t100: of.footprint.times[100], t120: of.footprint.times[120] };
    });
    expect(vis.from).toBeLessThanOrEqual(vis.t100);
    expect(vis.to).toBeGreaterThanOrEqual(vis.t120);
    const c = await centre();
    // a live bar while the user looks at bar ~110: stored, not given to the chart, the view stays
    const live = T0 + N * 60_000;
    const after = await page.evaluate((live) => {
      const { of } = (window as any).t;
      of.update({ time: live, open: 1, high: 1, low: 1, close: 1, volume: 2, delta: 0, rowSize: 0.1, rows: [{ price: 1, bid: 1, ask: 1 }] });
      return { n: of.footprint.bars.length, last: of.footprint.series.data().at(-1).time * 1000, to: of.footprint.window.to };
    }, live);
    expect(after.n).toBe(N + 1);
    expect(after.last).toBeLessThan(live);
    await frame();
    expect(Math.abs((await centre()) - c)).toBeLessThanOrEqual(1);
    // back to the live end: the chart now holds the new bar
    const end = await page.evaluate(() => {
      const { of } = (window as any).t, fp = of.footprint, n = fp.bars.length;
      fp.showBars(n - 30, n);
      return { last: fp.series.data().at(-1).time * 1000, delta: of.delta.delta.data().at(-1).time * 1000, to: fp.window.to, n };
    });
    expect(end.last).toBe(live);
    expect(end.delta).toBe(live);
    expect(end.to).toBe(end.n);
    expect(errors).toEqual([]);
  });
});
