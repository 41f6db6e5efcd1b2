/**
 * Examples page (examples/lightweight-charts) in Debian Chromium, fed by the simulator through the
 * real datafeed server: POC highlight at its price, bid/ask text by zoom, DPR 1 vs 2 cell edges,
 * signal markers at their bars, row hit test, O(visible) draw counts. Screenshots in artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { simEngine, type SimFixture } from '../../indicators/testing/sim-bars.js';
import { startExamples, openPage, frames, column, countColor, saveShot, type ExampleServer } from './indicators-support.js';
import { DARK } from '../../indicators/render/theme.js';

let fx: SimFixture;
let srv: ExampleServer;
let page: Page;
let target = -1;

/** geometry of bar i in media px: x centre, POC cell top/bottom, row size, text-fit info */
async function geom(p: Page, i: number) {
  return p.evaluate((i) => {
    const tf = (window as any).tapeflow;
    const fp = tf.of.footprint;
    const b = fp.prepared.bars[i];
    const rs = b.data.rowSize;
    const x = tf.chart.timeScale().timeToCoordinate(Math.floor(fp.times[i] / 1000));
    return {
      x, rs, n: b.n, row0: b.row0, poc: b.poc,
      pocTop: fp.series.priceToCoordinate((b.row0 + b.poc + 1) * rs), pocBottom: fp.series.priceToCoordinate((b.row0 + b.poc) * rs),
      top: fp.series.priceToCoordinate((b.row0 + b.n) * rs), bottom: fp.series.priceToCoordinate(b.row0 * rs),
      spacing: tf.chart.timeScale().options().barSpacing, stats: { ...fp.view.stats },
      edges: Array.from({ length: b.n + 1 }, (_, k) => fp.series.priceToCoordinate((b.row0 + k) * rs)),
      filled: Array.from({ length: b.n }, (_, k) => b.bid[k] + b.ask[k] > 0),
    };
  }, i);
}

/** Show bars i ± half; with `padRows`, fix the price range to the bar's rows ± padRows (zoomed in). */
async function focus(p: Page, i: number, half: number, padRows = 0): Promise<void> {
  await p.evaluate(({ i, half, padRows }) => {
    const tf = (window as any).tapeflow;
    tf.of.profile?.applyOptions({ sessions: [] });
    tf.chart.timeScale().setVisibleLogicalRange({ from: i - half, to: i + half });
    const ps = tf.of.footprint.series.priceScale();
    if (padRows > 0) {
      const b = tf.of.footprint.prepared.bars[i], rs = b.data.rowSize;
      ps.setVisibleRange({ from: (b.row0 - padRows) * rs, to: (b.row0 + b.n + padRows) * rs });
    } else ps.setAutoScale(true);
  }, { i, half, padRows });
  await frames(p, 4);
}

beforeAll(async () => {
  fx = simEngine(240, 7);
  srv = await startExamples(fx.engine, fx.service);
  page = await openPage(srv, 'symbol=BTCUSDT&tf=1&stream=0');
  // a bar with several rows, away from both ends
  target = await page.evaluate(() => {
    const fp = (window as any).tapeflow.of.footprint;
    let best = -1;
    for (let i = fp.prepared.bars.length - 40; i > 20; i--) if (fp.prepared.bars[i].n >= 6) { best = i; break; }
    return best;
  });
}, 300_000);

afterAll(async () => { await srv?.close(); });

describe('examples/lightweight-charts page (simulator)', () => {
  it('loads history bars through /api/v1/footprint and keeps the TradingView attribution', async () => {
    const n = await page.evaluate(() => (window as any).tapeflow.of.footprint.bars.length);
    expect(n).toBeGreaterThan(200);
    expect(target).toBeGreaterThan(0);
    // the attribution is the page's footer (the licence's NOTICE text and a link), not a logo over the panes
    const attribution = await page.evaluate(() => ({ logo: (window as any).tapeflow.chart.options().layout.attributionLogo, link: !!document.querySelector('#foot a[href="https://www.tradingview.com/"]'), notice: /TradingView Lightweight Charts.*Copyright \(c\) 2023 TradingView, Inc\./.test(document.getElementById('foot')?.textContent ?? '') }));
    expect(attribution).toEqual({ logo: false, link: true, notice: true });
  });

  it('highlights the POC row of a known bar at the y of its price (±1 px) and shows bid/ask text at wide zoom', async () => {
    await focus(page, target, 5, 6);
    const g = await geom(page, target);
    expect(g.spacing).toBeGreaterThan(70);
    expect(g.stats.detail).toBe('full');
    const y0 = Math.floor(g.top) - 10, y1 = Math.ceil(g.bottom) + 10;
    const col = await column(page, g.x, y0, y1);
    const isPoc = (c: string) => { const r = parseInt(c.slice(1, 3), 16), gg = parseInt(c.slice(3, 5), 16), b = parseInt(c.slice(5, 7), 16); return Math.abs(r - 0xff) <= 8 && Math.abs(gg - 0xb3) <= 8 && Math.abs(b - 0x00) <= 8; };
    const hits = col.map((c, k) => (isPoc(c) ? y0 + k : -1)).filter((k) => k >= 0);
    expect(hits.length).toBeGreaterThan(1);
    expect(Math.abs(hits[0] - g.pocTop)).toBeLessThanOrEqual(1);
    expect(Math.abs(hits[hits.length - 1] + 1 - g.pocBottom)).toBeLessThanOrEqual(1);
    // text pixels (theme text colour) inside the bar's cells
    const half = (g.spacing * 0.86) / 2;
    const textPx = await countColor(page, { x: g.x - half, y: g.top, w: 2 * half, h: g.bottom - g.top }, DARK.text, 40);
    expect(textPx).toBeGreaterThan(30);
    expect(g.stats.texts).toBeGreaterThan(2 * g.n);
    saveShot('indicators-lwc-wide.png', await page.screenshot());
  });

  it('draws no bid/ask text at narrow zoom and the draw work depends on visible bars only', async () => {
    await focus(page, target, 120);
    const g = await geom(page, target);
    expect(g.spacing).toBeLessThan(8);
    expect(['color', 'candles']).toContain(g.stats.detail);
    expect(g.stats.texts).toBe(0);
    const textPx = await countColor(page, { x: g.x - 20, y: g.top, w: 40, h: g.bottom - g.top }, DARK.text, 40);
    expect(textPx).toBe(0);
    expect(g.stats.bars).toBeLessThanOrEqual(245);
    saveShot('indicators-lwc-narrow.png', await page.screenshot());
  });

  it('gives the row under the cursor for a tooltip (hit test)', async () => {
    await focus(page, target, 5, 6);
    const g = await geom(page, target);
    const yMid = (g.pocTop + g.pocBottom) / 2;
    const hit = await page.evaluate(({ x, y }) => (window as any).tapeflow.of.footprint.rowAt(x, y), { x: g.x, y: yMid });
    expect(hit).not.toBeNull();
    expect(hit.poc).toBe(true);
    expect(hit.price).toBeCloseTo((g.row0 + g.poc) * g.rs, 6);
    const box = await page.locator('#chart').boundingBox();
    await page.mouse.move(box!.x + g.x, box!.y + yMid);
    await frames(page, 2);
    const tip = await page.locator('#tooltip').textContent();
    expect(tip).toContain('POC');
  });

  it('puts signal markers at the bars of known signals', async () => {
    await page.mouse.move(1, 1); // no tooltip over the chart
    await focus(page, target, 8, 14);
    const info = await page.evaluate((i) => {
      const tf = (window as any).tapeflow;
      const fp = tf.of.footprint;
      const t = fp.times[i];
      tf.of.signals.setSignals([
        { id: 'a', time: t + 30_000, kind: 'absorption', side: 'buy' },
        { id: 'b', time: fp.times[i + 3] + 1, kind: 'sweep', side: 'sell' },
      ]);
      return { t: Math.floor(t / 1000), t3: Math.floor(fp.times[i + 3] / 1000) };
    }, target);
    expect(info.t3).toBeGreaterThan(info.t);
    await frames(page, 4);
    // short labels (never the sentence): ABS below the buy bar, SWP above the sell bar
    const placed = await page.evaluate(() => (window as any).tapeflow.of.signals.labels.placed.map((l: any) => ({ text: l.text, side: l.side, y: l.y, h: l.h, x: l.x, w: l.w })));
    expect(placed.map((l: any) => l.text).sort()).toEqual(['ABS', 'SWP']);
    const ga = await geom(page, target), gb = await geom(page, target + 3);
    const abs = placed.find((l: any) => l.text === 'ABS'), swp = placed.find((l: any) => l.text === 'SWP');
    expect(abs.y).toBeGreaterThanOrEqual(ga.bottom - 1);
    expect(swp.y + swp.h).toBeLessThanOrEqual(gb.top + 1);
    expect(Math.abs(abs.x + abs.w / 2 - ga.x)).toBeLessThan(2);
    saveShot('indicators-lwc-markers.png', await page.screenshot());
    const g = await geom(page, target), g3 = await geom(page, target + 3), g1 = await geom(page, target + 1);
    const h = 60;
    expect(await countColor(page, { x: g.x - 10, y: g.top - h, w: 20, h: g.bottom - g.top + 2 * h }, DARK.markerBuy, 10)).toBeGreaterThan(10);
    const nSwp = await countColor(page, { x: swp.x, y: swp.y, w: swp.w, h: swp.h }, DARK.markerSell, 10);
    expect(nSwp).toBeGreaterThan(10);
    expect(g3.x).toBeGreaterThan(g.x);
    expect(await countColor(page, { x: g.x - 10, y: 0, w: 20, h: 700 }, DARK.markerSell, 10)).toBe(0);
    expect(await countColor(page, { x: g1.x - 8, y: 0, w: 16, h: 700 }, DARK.markerBuy, 10)).toBe(0);
    saveShot('indicators-lwc-markers.png', await page.screenshot());
  });

  it('puts cell edges at the same CSS positions at device pixel ratio 1 and 2 (±1 px)', async () => {
    const edgesAt = async (dpr: number) => {
      const p = await openPage(srv, 'symbol=BTCUSDT&tf=1&stream=0', dpr);
      await p.evaluate(() => (window as any).tapeflow.of.footprint.setFootprintOptions({ fullSpacing: 1e9, compactSpacing: 1e9, showImbalances: false }));
      await focus(p, target, 5, 6);
      const g = await geom(p, target);
      const x = (g.x - (g.spacing * 0.86) / 4) * dpr; // inside the bid half
      const y0 = Math.floor(g.top * dpr) - 4, y1 = Math.ceil(g.bottom * dpr) + 4;
      const col = await column(p, x, y0, y1);
      const edges: number[] = [];
      for (let k = 1; k < col.length; k++) if (col[k] !== col[k - 1]) edges.push((y0 + k) / dpr);
      saveShot(`indicators-lwc-dpr${dpr}.png`, await p.screenshot());
      await p.close();
      return { edges, g };
    };
    const a = await edgesAt(1), b = await edgesAt(2);
    // the price edges map to the same CSS y at both ratios
    for (let k = 0; k < a.g.edges.length; k++) expect(Math.abs(a.g.edges[k] - b.g.edges[k])).toBeLessThanOrEqual(1);
    // every cell top edge found at DPR 1 has a pixel edge within 1 CSS px at DPR 2
    expect(a.edges.length).toBeGreaterThan(4);
    let matched = 0;
    for (let k = 1; k < a.g.edges.length - 1; k++) {
      if (!a.g.filled[k - 1] || !a.g.filled[k]) continue;
      const e = a.g.edges[k];
      const near1 = a.edges.some((y) => Math.abs(y - e) <= 1), near2 = b.edges.some((y) => Math.abs(y - e) <= 1);
      expect(near1).toBe(true);
      expect(near2).toBe(true);
      matched++;
    }
    expect(matched).toBeGreaterThan(3);
  });
});
