/**
 * The open trade's entry / SL / TP lines on the workstation page, from the trade-state machine and the
 * paper trader on real data, nothing injected. The Bybit BTCUSD day (2019-10-01, 24 h of real trades)
 * with sessions anchored at 12:00 UTC (a config choice: `session: {start: "12:00", end: "12:00"}`),
 * so its first 12 h are the prior session the strategy frames from; `tapeflow replay … --serve`, paused
 * and sought to a time where the strategy holds a position (the page never sees injected data).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, CHROMIUM_ARGS } from '../browser/global-setup.js';
import { dataFile, REPO_ROOT } from '../helpers/data.js';
import { serveReplay } from '../helpers/replay-serve.js';

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
  await p.goto(`${url}/?symbol=BYBIT:BTCUSD&tf=1&rows=1&bars=300`);
  await p.waitForFunction(() => (window as any).tapeflow?.ready === true, null, { timeout: 60_000 });
  return p;
}
/** the price lines the page drew: [price, title] */
const lines = (p: Page) => p.evaluate(() => ((window as any).tapeflow.of.signals as any).lines.map((l: any) => [l.options().price, l.options().title]));

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
