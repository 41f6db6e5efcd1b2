/**
 * The workstation page's "Options PCR" panel in real Chromium against `tapeflow start` with a Kite feed on a
 * loopback Kite Ticker (FakeVenue): the panel appears with the chain's PCR read once over HTTP, then follows
 * the `pcr` WS channel — a changed chain on the Ticker changes the panel with no further /api/v1/pcr request —
 * with no console error. The DOM ladder of a Kite stock says its book has 5 levels (badge), as do
 * /api/v1/orderbook and /api/v1/instruments (`depthLevels`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { FakeVenue } from '../../engine/src/feeds/testing.js';
import { createLogger } from '../../engine/src/log.js';
import { ensureChromium, CHROMIUM_ARGS } from './global-setup.js';
import { chainCsv, chainMessage } from '../helpers/kite-chain.js';
import { kiteMessage, tickPacket } from '../helpers/kite.js';

const RELIANCE = 738561;

let app: StartedApp;
let venue: FakeVenue;
let browser: Browser;
let clock = Date.UTC(2026, 11, 4, 4, 0);
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-pcr-page-'));
const env = { ...process.env };

beforeAll(async () => {
  writeFileSync(join(dir, 'i.csv'), `${chainCsv()}\n${RELIANCE},2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE\n`);
  Object.assign(process.env, { KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't', KITE_INSTRUMENTS: join(dir, 'i.csv') });
  venue = await FakeVenue.start();
  writeFileSync(join(dir, 'cfg.yaml'), `feeds:\n  - venue: kite\n    symbols: ["NSE:NIFTY 50", "NSE:RELIANCE"]\n    wsUrl: ${venue.wsBase}\n    kite: { pcr: { underlying: NIFTY, spot: "NSE:NIFTY 50", strikes: 1 } }\n`);
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: null, feeds: true, fallback: false, logger: createLogger({ level: 'error', write: () => {} }), feedDefaults: { backoff: { baseMs: 50, maxMs: 300 }, now: () => clock } });
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close(); await app?.close(); await venue?.close();
  for (const k of ['KITE_API_KEY', 'KITE_ACCESS_TOKEN', 'KITE_INSTRUMENTS']) if (env[k] === undefined) delete process.env[k]; else process.env[k] = env[k];
  rmSync(dir, { recursive: true, force: true });
});

describe('workstation page: Options PCR panel from the pcr channel', () => {
  it('shows the chain PCR, then updates from the stream without polling; no console error', async () => {
    const sock = await venue.connection(1);
    const secs = clock / 1000;
    sock.send(Buffer.from(chainMessage(26_040, 0, secs)));
    const depth = (k: number): Array<[number, number, number]> => [0, 1, 2, 3, 4].map((j) => [100 + 10 * j, 141_250 + k * 5 * (j + 1), 1 + j]);
    const stock = (v: number, t: number): void => { sock.send(Buffer.from(kiteMessage([tickPacket({ token: RELIANCE, last: 141_255, volume: v, exchangeTime: t, bids: depth(-1), asks: depth(1) })]))); };
    stock(1000, secs); stock(1100, secs + 1);
    for (let i = 0; i < 100 && !(app.feeds.feeds[0] as unknown as { pcr(): unknown }).pcr(); i++) await new Promise((r) => setTimeout(r, 50));
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    let pcrRequests = 0;
    page.on('request', (r) => { if (r.url().includes('/api/v1/pcr')) pcrRequests++; });
    await page.goto(`${app.server.url}/lightweight-charts/index.html?symbol=${encodeURIComponent('KITE:NSE:RELIANCE')}`);
    await page.waitForFunction(() => { const p = document.getElementById('panel-pcr'); return p !== null && !p.hidden && /NIFTY/.test(p.textContent ?? ''); }, undefined, { timeout: 20_000 });
    const first = await page.textContent('#panel-pcr');
    expect(first).toContain('NIFTY 2026-12-10 · neutral');
    expect(first).toContain('OI 1.00 · near ATM 1.00 (25900–26100) · vol 2.00');
    expect(first).toContain('spot 26040 · ATM 26000 · session Δ n/a');
    // the snapshot of the pcr subscription arrives; then a changed chain is pushed
    await page.waitForFunction(() => (window as any).tapeflow.panels.pcr.streamed >= 1, undefined, { timeout: 10_000 });
    clock += 2000;
    sock.send(Buffer.from(chainMessage(26_040, 6000, secs + 2)));
    await page.waitForFunction(() => /strong bullish/.test(document.getElementById('panel-pcr')?.textContent ?? ''), undefined, { timeout: 10_000 });
    const second = await page.textContent('#panel-pcr');
    expect(second).toContain('NIFTY 2026-12-10 · strong bullish');
    expect(second).toContain('OI 1.40 · near ATM 1.67 (25900–26100) · vol 2.00');
    expect(second).toContain('session Δ +0.40');
    expect(await page.textContent('#panel-pcr summary')).toContain('live');
    expect(pcrRequests).toBe(1);
    // the 5-level Kite book: said on the DOM ladder and in the API
    await page.waitForFunction(() => /5 levels/.test(document.querySelector('#panel-ladder summary')?.textContent ?? ''), undefined, { timeout: 10_000 });
    expect(await page.textContent('#panel-ladder summary')).toContain('synced · 5 levels');
    expect(await page.getAttribute('#panel-ladder summary .badge', 'title')).toBe('the venue shows 5 levels a side: book metrics are over those 5 only');
    const ob = await (await fetch(`${app.server.url}/api/v1/orderbook?symbol=KITE:NSE:RELIANCE&depth=20`)).json() as Record<string, any>;
    expect([ob.available, ob.synced, ob.depthLevels, ob.bids.length, ob.asks.length]).toEqual([true, true, 5, 5, 5]);
    expect(ob.depthNote).toBe('the venue shows 5 levels a side: book metrics are over those 5 only');
    const inst = await (await fetch(`${app.server.url}/api/v1/instruments/${encodeURIComponent('KITE:NSE:RELIANCE')}`)).json() as Record<string, any>;
    expect([inst.depthLevels, inst.tradeProvenance]).toEqual([5, 'quote rule on snapshots']);
    // the one derived trade (volume 1000 → 1100) says how it was obtained
    const tr = await (await fetch(`${app.server.url}/api/v1/trades?symbol=KITE:NSE:RELIANCE`)).json() as Record<string, any>;
    expect(tr.provenance).toBe('quote rule on snapshots');
    expect(tr.trades.map((t: any) => [t.price, t.size, t.side, t.sideSource])).toEqual([[1412.55, 100, 'buy', 'quote']]); // above the preceding mid 1412.50
    expect((await (await fetch(`${app.server.url}/api/v1/trades?symbol=BTCUSDT`)).json() as Record<string, any>).provenance).toBeUndefined();
    const btc = await (await fetch(`${app.server.url}/api/v1/orderbook?symbol=BTCUSDT`)).json() as Record<string, any>;
    expect([btc.depthLevels, btc.depthNote]).toEqual([null, undefined]);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
