/**
 * cachedTickMarkFormatter (indicators/lightweight-charts/time-axis.ts) in Debian Chromium: for every
 * tick-mark kind (year, month, day, time, time with seconds), several locales and 2,000 timestamps it
 * returns the text Lightweight Charts' default formatter makes (Date.toLocaleString of the UTC fields),
 * and a chart given it draws the same time axis as one without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/data.js';
import { ensureChromium, CHROMIUM_ARGS } from './global-setup.js';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: await ensureChromium(), args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 900, height: 400 }, deviceScaleFactor: 1 });
  await page.setContent('<!doctype html><html><body style="margin:0"><div id="a" style="width:900px;height:200px"></div><div id="b" style="width:900px;height:200px"></div></body></html>');
  await page.addScriptTag({ path: join(REPO_ROOT, 'node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js') });
  await page.addScriptTag({ path: join(REPO_ROOT, 'dist/tapeflow-lightweight-charts.iife.js') });
}, 60_000);
afterAll(async () => { await browser?.close(); });

describe('time-axis labels', () => {
  it('are the library default text for every kind and locale', async () => {
    const r = await page.evaluate(() => {
      const f = (window as any).TapeFlowLWC.cachedTickMarkFormatter;
      const opts: Intl.DateTimeFormatOptions[] = [{ year: 'numeric' }, { month: 'short' }, { day: 'numeric' }, { hour12: false, hour: '2-digit', minute: '2-digit' }, { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' }];
      let n = 0, bad: string[] = [];
      for (const locale of ['en-US', 'de-DE', 'ja-JP', 'ar-EG']) {
        for (let k = 0; k < 2000; k++) {
          const t = 946684800 + k * 987_654 + (k % 60);
          for (let type = 0; type < 5; type++) {
            const d = new Date(t * 1000);
            const want = new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()).toLocaleString(locale, opts[type]);
            const got = f(t, type, locale);
            if (got !== want) bad.push(`${locale} ${t} ${type}: ${got} vs ${want}`);
            n++;
          }
        }
      }
      return { n, bad: bad.slice(0, 5), business: f({ year: 2024, month: 8, day: 8 }, 2, 'en-US') };
    });
    expect(r.n).toBe(40_000);
    expect(r.bad).toEqual([]);
    expect(r.business).toBeNull(); // business-day times are left to the library
  });

  it('draws the same time axis as the library default', async () => {
    const same = await page.evaluate(async () => {
      const LWC = (window as any).LightweightCharts, f = (window as any).TapeFlowLWC.cachedTickMarkFormatter;
      const mk = (id: string, fmt?: unknown) => {
        const c = LWC.createChart(document.getElementById(id), { width: 900, height: 200, timeScale: { timeVisible: true, secondsVisible: true, barSpacing: 6, ...(fmt ? { tickMarkFormatter: fmt } : {}) } });
        const s = c.addSeries(LWC.LineSeries);
        s.setData(Array.from({ length: 3000 }, (_, i) => ({ time: 1723075200 + i * 37, value: 100 + Math.sin(i / 9) })));
        return c;
      };
      mk('a'); mk('b', f);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50))));
      const px = (id: string) => [...document.querySelectorAll(`#${id} canvas`)].map((c) => (c as HTMLCanvasElement).toDataURL());
      const a = px('a'), b = px('b');
      return a.length > 0 && a.length === b.length && a.every((x, i) => x === b[i]);
    });
    expect(same).toBe(true);
  });
});
