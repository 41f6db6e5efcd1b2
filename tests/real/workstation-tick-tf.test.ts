/**
 * Issue 17, timeframe setting: a tick timeframe on the workstation keeps updating live. The real CLI
 * (`tapeflow replay usdm_btcusdt_20240808.gz --serve --speed 5`) and the page at /?tf=100T in Debian
 * chromium: new 100-tick bars keep arriving over /ws (no "live bars:" refusal on the page), and every
 * bar the page drew equals the server's /api/v1/footprint agg=tick&size=100 bar at that time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, CHROMIUM_ARGS } from '../browser/global-setup.js';
import { dataFile, REPO_ROOT } from '../helpers/data.js';
import { serveReplay } from '../helpers/replay-serve.js';

let proc: ChildProcess;
let url = '';
let browser: Browser;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  const file = dataFile('binance/usdm_btcusdt_20240808.gz');
  ({ proc, url } = await serveReplay([file, '--speed', '5']));
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/?symbol=BTCUSDT&tf=100T&bars=200`);
  await page.waitForFunction(() => (window as any).tapeflow?.ready === true, null, { timeout: 60_000 });
}, 120_000);

afterAll(async () => { await browser?.close(); proc?.kill('SIGINT'); });

describe('workstation: a tick timeframe streams live', () => {
  it('100T: new bars keep arriving from the stream and equal the REST tick grouping', async () => {
    const bars = () => page.evaluate(() => (window as any).tapeflow.of.footprint.bars.map((b: any) => ({ time: b.time, volume: b.volume, open: b.open, close: b.close })));
    const a = await bars();
    expect(a.length).toBeGreaterThan(0);
    await page.waitForFunction((n) => { const t = (window as any).tapeflow.of.footprint.bars; return t.length > n + 3; }, a.length, { timeout: 30_000 });
    await page.evaluate(() => fetch('/replay', { method: 'POST', body: JSON.stringify({ op: 'pause' }) }));
    await page.waitForTimeout(1500);
    expect(await page.locator('#status').textContent()).not.toMatch(/live bars:/);
    const b = await bars();
    expect(b.length).toBeGreaterThan(a.length + 3);
    const rest = await page.evaluate(async () => (await (await fetch(`/api/v1/footprint?symbol=BTCUSDT&agg=tick&size=100&countback=400&rows=false&to=${Date.now() + 60_000}`)).json()).bars);
    const byTime = new Map<number, any>(rest.map((r: any) => [r.time, r]));
    // every bar drawn after the history load came from the stream; each is the server's bar at that time
    const live = b.slice(a.length - 1);
    let matched = 0;
    for (const x of live) {
      const r = byTime.get(x.time);
      expect(r, `REST bar at ${x.time}`).toBeDefined();
      expect([x.volume, x.open, x.close]).toEqual([r.volume, r.open, r.close]);
      matched++;
    }
    expect(matched).toBeGreaterThan(3);
    expect(errors).toEqual([]);
  }, 90_000);
});
