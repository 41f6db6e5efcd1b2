/**
 * Real data: the Binance USD-M BTCUSDT capture of 2024-08-08 (23:54–24:00 UTC, shown as 5-second bars) replayed into a live datafeed server
 * serving the examples page; in Chromium: the POC row of a known bar at its price (±1 px), bid/ask
 * text at wide zoom and none at narrow zoom, the profile view. Screenshots in artifacts/ (README
 * pictures: `npm run screenshots`, scripts/screenshots.mjs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serveReplay, type ServeReplayHandle } from '../../datafeed-adapter/src/service/serve-replay.js';
import { createStreamServer, type StreamServer } from '../../datafeed-adapter/src/ws/server.js';
import { ensureChromium, CHROMIUM_ARGS } from '../browser/global-setup.js';
import { buildExamples, frames, column, countColor, saveShot } from '../browser/indicators-support.js';
import { DARK } from '../../indicators/render/theme.js';

const DATA = process.env.TAPEFLOW_DATA ?? resolve(__dirname, '../../../shared/data');
const file = join(DATA, 'binance/usdm_btcusdt_20240808.gz');
let h: ServeReplayHandle;
let ws: StreamServer;
let browser: Browser;
let page: Page;
let sym = '';
let target = -1;

async function geom(p: Page, i: number) {
  return p.evaluate((i) => {
    const tf = (window as any).tapeflow, fp = tf.of.footprint, b = fp.prepared.bars[i], rs = b.data.rowSize;
    return {
      x: tf.chart.timeScale().timeToCoordinate(Math.floor(fp.times[i] / 1000)), n: b.n, spacing: tf.chart.timeScale().options().barSpacing, stats: { ...fp.view.stats },
      pocTop: fp.series.priceToCoordinate((b.row0 + b.poc + 1) * rs), pocBottom: fp.series.priceToCoordinate((b.row0 + b.poc) * rs),
      top: fp.series.priceToCoordinate((b.row0 + b.n) * rs), bottom: fp.series.priceToCoordinate(b.row0 * rs),
    };
  }, i);
}

async function focus(p: Page, i: number, half: number, padRows = 0): Promise<void> {
  await p.evaluate(({ i, half, padRows }) => {
    const tf = (window as any).tapeflow;
    tf.chart.timeScale().setVisibleLogicalRange({ from: i - half, to: i + half });
    const ps = tf.of.footprint.series.priceScale();
    if (padRows > 0) { const b = tf.of.footprint.prepared.bars[i], rs = b.data.rowSize; ps.setVisibleRange({ from: (b.row0 - padRows) * rs, to: (b.row0 + b.n + padRows) * rs }); } else ps.setAutoScale(true);
  }, { i, half, padRows });
  await frames(p, 4);
}

beforeAll(async () => {
  expect(existsSync(file)).toBe(true);
  const exe = await ensureChromium();
  const dir = await buildExamples();
  h = await serveReplay([file], { speed: 'max', server: { port: 0, staticDir: dir } });
  await h.done;
  ws = createStreamServer({ engine: h.engine, server: h.server });
  sym = [...h.engine.pipelines.keys()].find((k) => /BTCUSDT/.test(k))!;
  browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  await page.goto(`${h.url}/?symbol=${encodeURIComponent(sym)}&tf=5S&stream=0&bars=600`);
  await page.waitForFunction(() => (window as any).tapeflow?.ready === true || (window as any).tapeflow?.error, null, { timeout: 60_000 });
  expect(await page.evaluate(() => (window as any).tapeflow.error ?? null)).toBeNull();
  target = await page.evaluate(() => {
    const fp = (window as any).tapeflow.of.footprint;
    let best = -1, bestN = 0;
    for (let i = Math.max(10, fp.prepared.bars.length - 120); i < fp.prepared.bars.length - 12; i++) if (fp.prepared.bars[i].n > bestN && fp.prepared.bars[i].n <= 40) { best = i; bestN = fp.prepared.bars[i].n; }
    return best;
  });
}, 900_000);

afterAll(async () => { await browser?.close(); await ws?.close(); await h?.close(); });

describe('examples page on real Binance USD-M BTCUSDT (2024-08-08)', () => {
  it('highlights the POC row of a known bar at its price (±1 px) with bid/ask text at wide zoom', async () => {
    expect(target).toBeGreaterThan(0);
    await focus(page, target, 5, 3);
    const g = await geom(page, target);
    expect(g.stats.detail).toBe('full');
    const y0 = Math.floor(g.top) - 10, y1 = Math.ceil(g.bottom) + 10;
    const col = await column(page, g.x, y0, y1);
    const hits = col.map((c, k) => (c === '#ffb300' ? y0 + k : -1)).filter((k) => k >= 0);
    expect(hits.length).toBeGreaterThan(1);
    expect(Math.abs(hits[0] - g.pocTop)).toBeLessThanOrEqual(1.5);
    expect(Math.abs(hits[hits.length - 1] + 1 - g.pocBottom)).toBeLessThanOrEqual(1.5);
    const half = (g.spacing * 0.86) / 2;
    expect(await countColor(page, { x: g.x - half, y: g.top, w: 2 * half, h: g.bottom - g.top }, DARK.text, 40)).toBeGreaterThan(30);
    expect(g.stats.texts).toBeGreaterThan(g.n);
    saveShot('indicators-real-wide.png', await page.screenshot());
  });

  it('has no bid/ask text at narrow zoom', async () => {
    await focus(page, target, 110);
    const g = await geom(page, target);
    expect(['color', 'candles']).toContain(g.stats.detail);
    expect(g.stats.texts).toBe(0);
    expect(await countColor(page, { x: g.x - 20, y: g.top, w: 40, h: Math.max(1, g.bottom - g.top) }, DARK.text, 40)).toBe(0);
    saveShot('indicators-real-narrow.png', await page.screenshot());
  });

  // (the README pictures come from `npm run screenshots` on the served replay; nothing is injected here)
  it('draws the profile view: profile-in-bar footprint and the visible-range profile', async () => {
    // profile view: medium zoom, footprint as profile-in-bar, visible-range profile on the right
    await page.evaluate(() => { const tf = (window as any).tapeflow; tf.of.footprint.setFootprintOptions({ mode: 'profile', showPoc: false }); tf.of.profile.applyOptions({ width: 300 }); });
    await focus(page, target, 18);
    const vp = await page.evaluate(() => (window as any).tapeflow.of.profile.visibleProfile);
    expect(vp.rows.length).toBeGreaterThan(5);
    saveShot('indicators-real-profile.png', await page.screenshot());
  });
});
