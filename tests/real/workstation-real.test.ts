/**
 * The workstation page (issue 17 acceptance) on the real Binance USD-M capture, nothing injected:
 * `tapeflow replay usdm_btcusdt_20240808.gz --serve --speed 10` (the real CLI), the page at / in
 * Debian chromium. Every panel shows and updates from the stream; signal labels intersect neither
 * each other nor any footprint bar body (measured here from the chart's own coordinates); 0 console
 * errors; a timeframe change reaches the server and redraws the footprint; the transport pauses
 * and seeks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, CHROMIUM_ARGS } from '../browser/global-setup.js';
import { dataFile, REPO_ROOT } from '../helpers/data.js';

let proc: ChildProcess;
let url = '';
let browser: Browser;
let page: Page;
const errors: string[] = [];

type B = { x: number; y: number; w: number; h: number };
const hit = (a: B, b: B): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function counters(p: Page) {
  return p.evaluate(() => {
    const tf = (window as any).tapeflow, P = tf.panels, fp = tf.of.footprint, n = fp.prepared.bars.length;
    return {
      bars: n, lastVol: n ? fp.prepared.bars[n - 1].data.volume : 0, ladder: P.ladder.updates, tape: P.tape.received, status: P.status.updates,
      heat: tf.of.heatmap.columns, cards: P.cards.cards, signals: tf.signals.length,
      scannerRows: document.querySelectorAll('#panel-scanner tr').length, paperText: document.querySelector('#panel-paper .kv')?.textContent ?? '',
    };
  });
}

/** labels and every visible bar body, in pane media px, from the chart's own mapping */
function geometry(p: Page) {
  return p.evaluate(() => {
    const tf = (window as any).tapeflow, fp = tf.of.footprint, ts = tf.chart.timeScale();
    const half = (ts.options().barSpacing * 0.86) / 2;
    const bodies: B[] = [];
    fp.prepared.bars.forEach((b: any, i: number) => {
      if (!b.n) return;
      const x = ts.timeToCoordinate(Math.floor(fp.times[i] / 1000));
      if (x === null) return;
      const rs = b.data.rowSize, y0 = fp.series.priceToCoordinate((b.row0 + b.n) * rs), y1 = fp.series.priceToCoordinate(b.row0 * rs);
      if (y0 === null || y1 === null) return;
      bodies.push({ x: x - half, y: Math.min(y0, y1), w: 2 * half, h: Math.abs(y1 - y0) });
    });
    const labels = tf.of.signals.labels.placed.map((l: any) => ({ x: l.x, y: l.y, w: l.w, h: l.h, text: l.text }));
    return { bodies, labels };
  });
}

beforeAll(async () => {
  const file = dataFile('binance/usdm_btcusdt_20240808.gz');
  proc = spawn(process.execPath, ['bin/tapeflow.js', 'replay', file, '--serve', '--speed', '10', '--port', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise<string>((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (b) => { out += b; const m = /serving on (http:\/\/[\d.:]+)/.exec(out); if (m) ok(m[1]); });
    proc.on('exit', (c) => fail(new Error(`replay exited ${c}: ${out}`)));
  });
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/?symbol=BTCUSDT&tf=1&bars=600`);
  await page.waitForFunction(() => (window as any).tapeflow?.ready === true, null, { timeout: 60_000 });
}, 120_000);

afterAll(async () => { await browser?.close(); proc?.kill('SIGINT'); });

describe('workstation page on the real USD-M capture (replay --serve, nothing injected)', () => {
  it('shows every panel and updates them from the stream', async () => {
    const a = await counters(page);
    await page.waitForTimeout(8000);
    const b = await counters(page);
    expect(b.bars >= a.bars && (b.bars > a.bars || b.lastVol !== a.lastVol)).toBe(true); // footprint
    expect(b.ladder).toBeGreaterThan(a.ladder); // DOM ladder
    expect(b.tape).toBeGreaterThan(a.tape); // time & sales
    expect(b.status).toBeGreaterThan(a.status); // feed & data status (data time)
    expect(b.heat).toBeGreaterThan(a.heat); // heatmap columns appended from the book stream
    expect(b.signals).toBeGreaterThan(0); // signals as labels + cards
    expect(b.cards).toBeGreaterThan(0);
    expect(b.scannerRows).toBeGreaterThan(0); // scanner (this capture never leaves NO_LEVELS: no transitions to stream)
    expect(b.paperText).toMatch(/balance/); // paper trading
    expect(await page.locator('#panel-ladder .badge').textContent()).toMatch(/synced|UNSYNCED/);
    expect(await page.locator('#panel-tape .t').count()).toBeGreaterThan(0);
    expect(await page.locator('.transport').isVisible()).toBe(true);
  });

  it('lays signal labels clear of each other and of every footprint bar body', async () => {
    // measured on a still chart (paused replay): a live update between layout and measurement would move bars
    await page.evaluate(() => fetch('/replay', { method: 'POST', body: JSON.stringify({ op: 'pause' }) }));
    await page.waitForTimeout(500);
    for (const half of [12, 40]) {
      await page.evaluate((half) => { const tf = (window as any).tapeflow, n = tf.of.footprint.prepared.bars.length; tf.chart.timeScale().setVisibleLogicalRange({ from: n - half, to: n + 1 }); tf.of.footprint.series.priceScale().setAutoScale(true); }, half);
      await page.waitForTimeout(400);
      const g = await geometry(page);
      expect(g.labels.length).toBeGreaterThan(0);
      for (const l of g.labels) {
        expect(l.text).toMatch(/^(ABS|SWP|EXH|DIV|INI|ICE|ENTRY|BE|TRAIL|EXIT)( ×\d+)?( \+\d+)?$/);
        for (const body of g.bodies) expect(hit(l, body), `${JSON.stringify(l)} over a bar body ${JSON.stringify(body)}`).toBe(false);
      }
      for (let i = 0; i < g.labels.length; i++) for (let j = i + 1; j < g.labels.length; j++) expect(hit(g.labels[i], g.labels[j])).toBe(false);
      await page.screenshot({ path: `artifacts/workstation-labels-${half}.png` });
    }
    await page.evaluate(() => fetch('/replay', { method: 'POST', body: JSON.stringify({ op: 'play' }) }));
  });

  it('sends a timeframe change to the server and redraws the footprint with its bars', async () => {
    const before = await page.evaluate(() => { const fp = (window as any).tapeflow.of.footprint; return fp.times.slice(-2); });
    expect(before[1] - before[0]).toBe(60_000);
    const req = page.waitForRequest((r) => /\/api\/v1\/footprint\?.*resolution=5(&|$)/.test(r.url()));
    await page.selectOption('#tf', '5');
    await req;
    await page.waitForFunction(() => { const t = (window as any).tapeflow.of.footprint.times; return t.length > 1 && t[t.length - 1] - t[t.length - 2] === 300_000; }, null, { timeout: 20_000 });
    expect(page.url()).toMatch(/tf=5/);
    // imbalance ratio: the next footprint request carries it and the drawn cells' imbalance flags change
    const flags = () => page.evaluate(() => (window as any).tapeflow.of.footprint.prepared.bars.reduce((n: number, b: any) => n + b.imb.reduce((m: number, f: number) => m + (f ? 1 : 0), 0), 0));
    const f3 = await flags();
    const req2 = page.waitForRequest((r) => /\/api\/v1\/footprint\?.*imbalanceRatio=1\.5/.test(r.url()));
    await page.evaluate(() => { const e = document.querySelector('#ratio') as HTMLInputElement; e.value = '1.5'; e.dispatchEvent(new Event('change')); });
    await req2;
    await page.waitForFunction((f) => (window as any).tapeflow.of.footprint.prepared.bars.reduce((n: number, b: any) => n + b.imb.reduce((m: number, x: number) => m + (x ? 1 : 0), 0), 0) > f, f3, { timeout: 20_000 });
    expect(await flags()).toBeGreaterThan(f3);
    expect(page.url()).toMatch(/ratio=1\.5/);
  });

  it('pauses and seeks the replay', async () => {
    await page.click('.transport button');
    const paused = await page.evaluate(async () => (await (await fetch('/replay')).json()));
    expect(paused.playing).toBe(false);
    await page.waitForTimeout(1500);
    const still = await page.evaluate(async () => (await (await fetch('/replay')).json()));
    expect(still.fed).toBe(paused.fed);
    const target = Math.min(still.last, still.position + 60_000);
    await page.evaluate((t) => { const s = document.querySelector('#seek') as HTMLInputElement; s.value = String(t); s.dispatchEvent(new Event('change')); }, target);
    await page.waitForFunction(async (t) => (await (await fetch('/replay')).json()).position >= t - 1000, target, { timeout: 10_000, polling: 250 });
    const after = await page.evaluate(async () => (await (await fetch('/replay')).json()));
    expect(after.fed).toBeGreaterThan(still.fed);
    expect(after.playing).toBe(false);
    await page.click('.transport button');
    expect((await page.evaluate(async () => (await (await fetch('/replay')).json()))).playing || (await page.evaluate(async () => (await (await fetch('/replay')).json()))).done).toBe(true);
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
