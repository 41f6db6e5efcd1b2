/**
 * The examples page in real Chromium on a first run without a reachable venue: the server falls back to
 * the simulator, the page shows the banner "SIMULATED — live venues unreachable", opens the simulated
 * instrument (a chart with bars, not a blank page), and hides the banner once the venue delivers data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { FakeVenue, binance } from '../../engine/src/feeds/testing.js';
import { createLogger } from '../../engine/src/log.js';
import { ensureChromium, CHROMIUM_ARGS } from './global-setup.js';

let app: StartedApp;
let venue: FakeVenue;
let browser: Browser;

beforeAll(async () => {
  venue = await FakeVenue.start();
  venue.refuse = true;
  venue.routes.set('/fapi/v1/exchangeInfo', () => ({ body: binance.exchangeInfo([{ symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', tick: '0.10', step: '0.001' }]) }));
  venue.routes.set('/fapi/v1/depth', () => ({ body: binance.snapshot(1, [['60000.0', '1.000']], [['60000.1', '1.000']], Date.now()) }));
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-banner-'));
  writeFileSync(join(dir, 'cfg.yaml'), `feeds:\n  - venue: binance-usdm\n    symbols: [BTCUSDT]\n    wsUrl: ${venue.wsBase}\n    restUrl: ${venue.restUrl}\n`);
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: null, feeds: true, clock: Date.now, fallback: { afterMs: 1000, backfillMs: 30 * 60_000 }, logger: createLogger({ level: 'error', write: () => {} }), feedDefaults: { backoff: { baseMs: 50, maxMs: 300 } } });
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => { await browser?.close(); await app?.close(); await venue?.close(); });

describe('examples page: first run without a venue', () => {
  it('shows the SIMULATED banner and a simulated chart, then live without a reload', async () => {
    for (let i = 0; i < 100 && app.fallback?.mode !== 'simulated'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(app.fallback?.mode).toBe('simulated');
    const page = await browser.newPage();
    await page.goto(`${app.server.url}/lightweight-charts/index.html`);
    await page.waitForFunction(() => { const b = document.getElementById('banner'); return b !== null && !b.hidden; }, undefined, { timeout: 20_000 });
    expect(await page.textContent('#banner')).toBe('SIMULATED — live venues unreachable');
    await page.waitForFunction(() => (window as any).tapeflow?.state?.symbol === 'SIM:BTCUSDT' && /\d+ bars/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 20_000 });
    const status = await page.textContent('#status');
    expect(Number(/(\d+) bars/.exec(status ?? '')?.[1])).toBeGreaterThanOrEqual(20);
    // the venue comes back: data flows, the banner goes (pushed on the feeds stream, no polling)
    venue.refuse = false;
    let a = 1;
    const pump = setInterval(() => venue.send(binance.aggTrade('BTCUSDT', a++, '60000.0', '0.001', Date.now(), false)), 50);
    try {
      await page.waitForFunction(() => document.getElementById('banner')?.hidden === true, undefined, { timeout: 30_000 });
    } finally { clearInterval(pump); }
    expect(app.fallback?.mode).toBe('live');
  }, 90_000);
});
