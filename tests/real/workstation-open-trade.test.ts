/**
 * The open trade's entry / SL / TP lines on the workstation page, from the trade-state machine and the
 * paper trader on real data, nothing injected. The Bybit BTCUSD day (2019-10-01, 24 h of real trades)
 * with sessions anchored at 12:00 UTC (a config choice: `session: {start: "12:00", end: "12:00"}`),
 * so its first 12 h are the prior session the strategy frames from; `tapeflow replay … --serve`, paused
 * and sought to a time where the strategy holds a position (the page never sees injected data).
 * The same day's prior session gives the page a naked session POC to draw (a ray from its session).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { ensureChromium, CHROMIUM_ARGS } from '../browser/global-setup.js';
import { dataFile, REPO_ROOT } from '../helpers/data.js';
import { serveReplay } from '../helpers/replay-serve.js';
import { collisions, paneTexts } from '../helpers/pane-texts.js';
import { axisOverlaps, recordCanvasText } from '../helpers/axis-texts.js';

let proc: ChildProcess;
let url = '';
let browser: Browser;
let page: Page;
const errors: string[] = [];
const post = (body: unknown) => fetch(`${url}/replay`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());

beforeAll(async () => {
  // the same config `npm run screenshots` uses for the open-trade picture
  ({ proc, url } = await serveReplay([dataFile('bybit/BTCUSD2019-10-01.csv.gz'), '--config', join(REPO_ROOT, 'docs/screenshots/bybit-noon-sessions.yaml'), '--speed', '1']));
  for (let i = 0; i < 100; i++) { const r = await fetch(`${url}/replay`); if (r.ok) break; await new Promise((r) => setTimeout(r, 200)); }
  await post({ op: 'pause' });
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => { await browser?.close(); proc?.kill('SIGINT'); });

async function open(): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.addInitScript(recordCanvasText);
  await p.goto(`${url}/?symbol=BYBIT:BTCUSD&tf=1&rows=1&bars=300`);
  await p.waitForFunction(() => (window as any).tapeflow?.ready === true, null, { timeout: 60_000 });
  return p;
}
/** the open trade's levels the page drew (one price line each, titled by its tag): [price, title] */
const lines = (p: Page) => p.evaluate(() => ((window as any).tapeflow.of.signals as any).levels.map((l: any) => [l.price, l.title]));

describe('naked session POC on real data (Bybit BTCUSD day, sessions at 12:00 UTC, nothing injected)', () => {
  it('draws the prior session\'s naked POC as a ray from that session\'s time, and ends it at the bar that trades it', async () => {
    await post({ op: 'seek', ts: Date.UTC(2019, 9, 1, 12, 5) });
    const prof = await (await fetch(`${url}/api/v1/profile?symbol=BYBIT:BTCUSD&type=session&rows=false`)).json();
    expect(prof.session).toBe('2019-10-01'); // the 12:00 session, 5 minutes old
    expect(prof.nakedPocs.length).toBe(1); // the 00:00-12:00 data's POC (8440), not traded yet since
    const n = prof.nakedPocs[0];
    const p = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${url}/?symbol=BYBIT:BTCUSD&tf=5&rows=1&bars=300`);
    await p.waitForFunction(() => (window as any).tapeflow?.ready === true, null, { timeout: 60_000 });
    // every 5m bar of the day in view: the prior session (its first bar 00:00) and the current one
    // (set again until it holds: the page's own loads may still move the time scale)
    await p.waitForFunction((time) => {
      const t = (window as any).tapeflow, fp = t.of.footprint, ts = fp.times, r = t.of.profile.nakedRays[0];
      const x0 = fp.xOfIndex(0);
      if (!(x0 >= 0 && x0 < 20)) t.chart.timeScale().setVisibleRange({ from: ts[0] / 1000 - 600, to: ts[ts.length - 1] / 1000 });
      return x0 >= 0 && x0 < 20 && r !== undefined && r.from === fp.xOfTime(time);
    }, n.time, { timeout: 20_000, polling: 250 });
    const geo = (q: Page) => q.evaluate(([time, start, row]) => {
      const t = (window as any).tapeflow, fp = t.of.footprint;
      const pane = t.chart.panes()[0].getHTMLElement().getBoundingClientRect();
      const r = t.of.profile.nakedRays[0];
      return { ray: { ...r }, xSession: fp.xOfTime(time), xFirstBar: fp.xOfIndex(0), firstBar: fp.times[0], xCurrent: fp.xOfTime(start), y: fp.series.priceToCoordinate(r.price + row / 2), top: pane.top, left: pane.left, width: t.chart.timeScale().width(), touchedTime: r.touched >= 0 ? fp.times[r.touched] : null, xTouched: r.touched >= 0 ? fp.xOfIndex(r.touched) : null };
    }, [n.time, prof.start, prof.rowSize]);
    const g = await geo(p);
    expect(g.ray.price).toBe(n.price);
    // the ray starts at its own session's time (before the data's first bar: that bar's left edge), not at the current session
    expect(g.ray.from).toBe(g.xSession);
    expect(g.firstBar).toBe(Date.UTC(2019, 9, 1, 0, 0));
    expect(g.ray.from).toBeLessThanOrEqual(g.xFirstBar);
    expect(g.ray.from).toBeGreaterThan(-10);
    expect(g.xCurrent - g.ray.from).toBeGreaterThan(900);
    expect(g.ray.touched).toBe(-1);
    expect(g.ray.to).toBe(g.width); // still naked: to the right edge
    // and it is drawn there: the ray's colour on its row over the prior session's first 60 px
    const img = await loadImage(await p.screenshot());
    const cv = createCanvas(img.width, img.height), ctx = cv.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const y = Math.round(g.top + g.y!);
    const px = ctx.getImageData(Math.max(0, Math.round(g.left + g.ray.from)), y - 1, 60, 3).data;
    let orange = 0;
    for (let k = 0; k < px.length; k += 4) if (Math.abs(px[k] - 0xff) < 14 && Math.abs(px[k + 1] - 0x70) < 14 && Math.abs(px[k + 2] - 0x43) < 14) orange++;
    expect(orange).toBeGreaterThan(8);
    // played on over the stream (no reload): the first later bar reaching 8440 ends the ray there
    await post({ op: 'seek', ts: Date.UTC(2019, 9, 1, 12, 40) });
    await p.waitForFunction(() => (window as any).tapeflow.of.profile.nakedRays[0]?.touched >= 0, null, { timeout: 20_000 });
    const bars = (await (await fetch(`${url}/api/v1/footprint?symbol=BYBIT:BTCUSD&resolution=5&from=${n.end}&to=${Date.UTC(2019, 9, 1, 12, 40)}&rows=false`)).json()).bars;
    const touch = bars.find((b: any) => b.low < n.price + prof.rowSize && b.high >= n.price);
    expect(touch).toBeDefined();
    const h = await geo(p);
    expect(h.touchedTime).toBe(touch.time);
    expect(h.ray.to).toBe(h.xTouched);
    expect(h.ray.from).toBe(h.xSession);
    expect(h.ray.to).toBeLessThan(h.width);
    await p.close();
  });
});

describe('open trade lines on real data (Bybit BTCUSD day, replay --serve, nothing injected)', () => {
  it('draws the strategy position\'s entry, SL and TP, equal to the trade state and the paper position', async () => {
    const s = await post({ op: 'seek', ts: Date.UTC(2019, 9, 1, 13, 12) });
    expect(s.position).toBeLessThanOrEqual(Date.UTC(2019, 9, 1, 13, 12));
    const ts = await (await fetch(`${url}/api/v1/trade-state?symbol=BYBIT:BTCUSD`)).json();
    const pos = ts.state.position;
    expect(pos).not.toBeNull(); // the strategy holds a position at 13:12 (opened 13:10:43 at the VAL)
    expect(pos.sl).not.toBe(pos.entry);
    const paper = await (await fetch(`${url}/api/v1/paper`)).json();
    expect(paper.open.map((o: any) => o.openedAt)).toContain(pos.openedAt); // the paper trader holds it too
    page = await open();
    await page.waitForFunction(() => ((window as any).tapeflow.of.signals as any).lines.length === 3, null, { timeout: 20_000 });
    expect((await lines(page)).sort((a: any, b: any) => a[0] - b[0])).toEqual([
      [pos.sl, 'SL'], [pos.entry, pos.side === 'buy' ? 'LONG' : 'SHORT'], [pos.tp, 'TP1'],
    ].sort((a: any, b: any) => a[0] - b[0]));
    expect(await page.locator('#panel-signals').textContent()).toMatch(new RegExp(String(pos.entry)));
    // the levels' tags, VWAP / σ tags, profile POC and signal labels: all drawn, no two intersect
    await page.waitForTimeout(500);
    const g = await paneTexts(page);
    expect(g.texts.filter((t) => t.kind === 'tag').map((t) => t.text)).toEqual(expect.arrayContaining(['SL', pos.side === 'buy' ? 'LONG' : 'SHORT', 'TP1']));
    expect(collisions(g)).toEqual([]);
    // on the axes, as drawn: no tick label under the last-value or the levels' price labels
    const axes = await Promise.all(([[0, 'price'], [1, 'CVD'], [2, 'Δ']] as const).map(([i, what]) => axisOverlaps(page, i, what)));
    expect(axes[0].labels).toBeGreaterThanOrEqual(4); // last value, LONG, SL, TP1
    expect(axes.flatMap((a) => a.bad)).toEqual([]);
    await page.screenshot({ path: 'artifacts/workstation-open-trade.png' });
  });

  it('follows the stream: after the move to break-even the stop shares the entry\'s line', async () => {
    // played on over the stream, not reloaded: the trade_state channel moves the lines
    const scans = await page.evaluate(() => (window as any).tapeflow.panels.scanner.updates);
    await post({ op: 'seek', ts: Date.UTC(2019, 9, 1, 13, 20) });
    const pos = (await (await fetch(`${url}/api/v1/trade-state?symbol=BYBIT:BTCUSD`)).json()).state.position;
    expect(pos.sl).toBe(pos.entry);
    await page.waitForFunction(() => ((window as any).tapeflow.of.signals as any).lines.length === 2, null, { timeout: 20_000 });
    expect((await lines(page)).sort((a: any, b: any) => a[0] - b[0])).toEqual([[pos.entry, 'LONG · SL'], [pos.tp, 'TP1']]);
    // the axes once the lines moved over the stream
    const axes = await Promise.all(([[0, 'price'], [1, 'CVD'], [2, 'Δ']] as const).map(([i, what]) => axisOverlaps(page, i, what)));
    expect(axes.flatMap((a) => a.bad)).toEqual([]);
    // the scanner row moved with the same transition, the paper panel shows the open position
    await page.waitForFunction((n) => (window as any).tapeflow.panels.scanner.updates > n, scans, { timeout: 20_000 });
    expect(await page.locator('#panel-scanner').textContent()).toMatch(/BYBIT:BTCUSD\s*BREAK_EVEN/);
    const paper = await (await fetch(`${url}/api/v1/paper`)).json();
    expect(await page.locator('#panel-paper').textContent()).toContain(`@ ${Number(paper.open[0].entry.toFixed(8))}`);
  });

  it('clears the lines at the exit and the paper panel counts the closed trade', async () => {
    const before = await page.evaluate(() => (window as any).tapeflow.panels.paper.updates);
    await post({ op: 'seek', ts: Date.UTC(2019, 9, 1, 13, 50) }); // the exit came at 13:46:17
    expect((await (await fetch(`${url}/api/v1/trade-state?symbol=BYBIT:BTCUSD`)).json()).state.position).toBeNull();
    await page.waitForFunction(() => ((window as any).tapeflow.of.signals as any).lines.length === 0, null, { timeout: 20_000 });
    await page.waitForFunction((n) => (window as any).tapeflow.panels.paper.updates > n, before, { timeout: 20_000 });
    const paper = await (await fetch(`${url}/api/v1/paper`)).json();
    expect(paper.fills.length).toBeGreaterThan(0);
    await page.waitForFunction(() => /no open positions/.test(document.getElementById('panel-paper')?.textContent ?? ''), null, { timeout: 20_000 });
    expect(await page.locator('#panel-signals').textContent()).toMatch(/EXIT/);
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
