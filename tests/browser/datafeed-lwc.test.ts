/**
 * Real Chromium: a page with Lightweight Charts v5 draws candles it gets through
 * TapeFlowDatafeed.getBars (UDF /history over HTTP) and subscribeBars (msgpack WebSocket) while the
 * engine is fed a generated tape live. Screenshot in artifacts/datafeed-lwc.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, copyFileSync, writeFileSync, mkdirSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Engine } from '../../engine/src/analytics/engine.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { createStreamServer, type StreamServer } from '../../datafeed-adapter/src/ws/server.js';
import { ensureChromium, CHROMIUM_ARGS } from './global-setup.js';
import { tape, feed, sleep } from './stream-support.js';

const MIN = 60_000;
let dir = '';
let engine: Engine;
let http: DatafeedServer;
let ws: StreamServer;
let browser: Browser;
let page: Page;
let lastPrice = 0;
const T0 = Math.floor(Date.now() / MIN) * MIN - 200 * MIN;

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>TapeFlow datafeed × Lightweight Charts</title>
<style>body{margin:0;font:12px sans-serif}#chart{width:900px;height:460px}</style></head><body>
<div id="chart"></div><div id="status">loading</div>
<script src="/lightweight-charts.standalone.production.js"></script>
<script src="/tapeflow-datafeed.iife.js"></script>
<script>
  window.state = { hist: 0, meta: null, updates: [], errors: [], info: null, config: null, violations: 0 };
  const feed = new TapeFlow.TapeFlowDatafeed({ baseUrl: location.origin });
  window.feed = feed;
  const chart = LightweightCharts.createChart(document.getElementById('chart'), { width: 900, height: 460, timeScale: { timeVisible: true, secondsVisible: false } });
  const series = chart.addSeries(LightweightCharts.CandlestickSeries, {});
  window.chart = chart; window.series = series;
  const toLwc = (b) => ({ time: b.time / 1000, open: b.open, high: b.high, low: b.low, close: b.close });
  feed.onReady((config) => {
    window.state.config = config;
    feed.resolveSymbol('BTCUSDT', (info) => {
      window.state.info = info;
      feed.getBars(info, '1', { from: Math.floor(Date.now() / 1000) - 3600, to: Math.floor(Date.now() / 1000) + 60, countBack: 150, firstDataRequest: true }, (bars, meta) => {
        series.setData(bars.map(toLwc));
        window.state.hist = bars.length; window.state.meta = meta;
        window.state.lastHist = bars.length ? bars[bars.length - 1].time : null;
        feed.subscribeBars(info, '1', (bar) => {
          const last = series.data().at(-1);
          if (last && bar.time / 1000 < last.time) { window.state.violations++; return; }
          series.update(toLwc(bar));
          window.state.updates.push(bar);
          document.getElementById('status').textContent = 'bars ' + series.data().length + ' updates ' + window.state.updates.length;
        }, 'lwc-1', () => window.state.errors.push('reset'));
        window.state.subscribed = true;
      }, (e) => window.state.errors.push('getBars: ' + e));
    }, (e) => window.state.errors.push('resolve: ' + e));
  });
</script></body></html>`;

beforeAll(async () => {
  const exe = await ensureChromium();
  dir = mkdtempSync(join(tmpdir(), 'tapeflow-lwc-'));
  copyFileSync('node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js', join(dir, 'lightweight-charts.standalone.production.js'));
  await build({ bundle: true, platform: 'browser', target: 'es2020', format: 'iife', globalName: 'TapeFlow', entryPoints: ['datafeed-adapter/src/client/index.ts'], outfile: join(dir, 'tapeflow-datafeed.iife.js'), logLevel: 'warning' });
  writeFileSync(join(dir, 'index.html'), PAGE);
  engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 5000 });
  // 180 minutes of history before the page loads
  const hist = tape(180 * 120, { start: T0, stepMs: 500, seed: 11 });
  for (const t of hist) engine.onEvent(t);
  lastPrice = hist[hist.length - 1].price;
  http = await createServer({ engine, port: 0, host: '127.0.0.1', staticDir: dir });
  ws = createStreamServer({ engine, server: http.server });
  browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 920, height: 500 } });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await ws?.close();
  await http?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TapeFlowDatafeed in Chromium with Lightweight Charts', () => {
  it('draws history candles from getBars and realtime candles from subscribeBars while the tape runs', async () => {
    const consoleErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`${http.url}/index.html`);
    await page.waitForFunction(() => (window as any).state.subscribed === true, null, { timeout: 20_000 });
    const first = await page.evaluate(() => ({ hist: (window as any).state.hist, drawn: (window as any).series.data().length, info: (window as any).state.info, config: (window as any).state.config }));
    const p = engine.pipelines.get('BTCUSDT')!;
    expect(first.hist).toBe(150);
    expect(first.drawn).toBe(150);
    expect(first.info.ticker).toBe('BTCUSDT');
    expect(first.info.minmov / first.info.pricescale).toBeCloseTo(0.1, 12);
    expect(first.config.supported_resolutions).toContain('1');
    // the last history bar is the engine's open bar (minute 180 has not closed yet)
    const lastHist = await page.evaluate(() => (window as any).series.data().at(-1));
    expect(lastHist.time * 1000).toBe(p.openBar!.start);

    // live: 30 more minutes of tape, 2 trades/ms of wall time → ~6 s
    await page.waitForTimeout(300);
    const live = tape(30 * 120, { start: T0 + 180 * MIN, stepMs: 500, seed: 12, price: lastPrice });
    const f = feed(engine, live, 60, 10);
    await page.waitForFunction(() => (window as any).state.updates.length > 5, null, { timeout: 10_000 });
    const mid = await page.evaluate(() => (window as any).series.data().length);
    await f.done;
    engine.onEvent({ ...live[live.length - 1], ts: live[live.length - 1].ts + MIN, id: 1e9 }); // close minute 210 with a trade in 211
    await sleep(600);
    const end = await page.evaluate(() => ({
      drawn: (window as any).series.data().length,
      last: (window as any).series.data().at(-1),
      times: (window as any).series.data().map((d: any) => d.time),
      updates: (window as any).state.updates.length,
      violations: (window as any).state.violations,
      errors: (window as any).state.errors,
      status: document.getElementById('status')!.textContent,
    }));
    expect(mid).toBeGreaterThan(150);
    // 150 history bars (last = minute 180 open) + minutes 181..211 appended in realtime
    expect(end.drawn).toBe(150 + 31);
    expect(end.times).toEqual([...end.times].sort((a: number, b: number) => a - b));
    expect(new Set(end.times).size).toBe(end.times.length);
    expect(end.updates).toBeGreaterThan(31);
    expect(end.violations).toBe(0);
    expect(end.errors).toEqual([]);
    // the drawn candles equal the engine's closed bars
    const closed = p.bars.slice(-31).map((x) => x.bar);
    const drawn = await page.evaluate(() => (window as any).series.data().slice(-32, -1));
    expect(drawn.map((d: any) => d.time * 1000)).toEqual(closed.map((b) => b.start));
    for (let i = 0; i < closed.length; i++) {
      expect(drawn[i].open).toBeCloseTo(closed[i].open / 10, 6);
      expect(drawn[i].high).toBeCloseTo(closed[i].high / 10, 6);
      expect(drawn[i].low).toBeCloseTo(closed[i].low / 10, 6);
      expect(drawn[i].close).toBeCloseTo(closed[i].close / 10, 6);
    }
    expect(end.last.close).toBeCloseTo(p.openBar!.close / 10, 6);
    expect(consoleErrors).toEqual([]);
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/datafeed-lwc.png' });
    expect(existsSync('artifacts/datafeed-lwc.png') && statSync('artifacts/datafeed-lwc.png').size > 5000).toBe(true);
  }, 120_000);
});
