/**
 * dashes() (indicators/render/dash.ts) in Debian Chromium: the one-fillRect pattern path draws exactly
 * the pixels of the per-dash fillRect loop it replaces (naked-POC rays, profile VAH/VAL lines), over
 * 3,000 random lines (pixel ratios 1, 1.5 and 2, rays starting far off-screen, opaque and translucent
 * colours, global alpha 1 and below), and takes the pattern path (2 fillRects) where it applies.
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
  page = await browser.newPage();
  await page.setContent('<!doctype html><canvas id="a" width="1700" height="24"></canvas><canvas id="b" width="1700" height="24"></canvas>');
  await page.addScriptTag({ path: join(REPO_ROOT, 'dist/tapeflow-lightweight-charts.iife.js') });
}, 60_000);
afterAll(async () => { await browser?.close(); });

describe('dashed lines', () => {
  it('draws the same pixels as one fillRect per dash, with 2 fillRects on whole-pixel dashes', async () => {
    const r = await page.evaluate(() => {
      const dashes = (window as any).TapeFlowLWC.dashes;
      const get = (id: string) => (document.getElementById(id) as HTMLCanvasElement).getContext('2d', { willReadFrequently: true })!;
      const A = get('a'), B = get('b');
      const loop = (ctx: CanvasRenderingContext2D, x0: number, x1: number, end: number, y: number, h: number, on: number, period: number): void => {
        let x = x0;
        if (x < -period) x += Math.floor(-x / period) * period;
        for (; x < end; x += period) ctx.fillRect(Math.round(x), y, Math.max(1, Math.round(Math.min(on, x1 - x))), h);
      };
      let calls = 0;
      const fr = B.fillRect.bind(B);
      B.fillRect = (x: number, y: number, w: number, h: number) => { calls++; fr(x, y, w, h); };
      let s = 7; const rnd = (): number => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
      let differ = 0, fast = 0, fastCalls = 0, lines = 0;
      for (let t = 0; t < 3000; t++) {
        const hpr = [1, 2, 1, 1.5][t % 4];
        const [on0, off0] = [[2, 2], [6, 3], [4, 3]][t % 3];
        const on = on0 * hpr, period = (on0 + off0) * hpr;
        const x0 = (rnd() - 0.5) * 40_000 * (rnd() < 0.5 ? 0.01 : 1), x1 = x0 + rnd() * 50_000, end = Math.min(x1, 1601 * hpr);
        const color = t % 4 === 3 ? 'rgba(10,200,30,0.5)' : ['#ffb300', '#ff7043', '#5c6bc0'][(t >> 2) % 3];
        const alpha = [1, 0.8, 1, 0.45][(t >> 3) % 4];
        for (const c of [A, B]) { c.globalAlpha = 1; c.fillStyle = '#131722'; c.fillRect(0, 0, 1700, 24); c.globalAlpha = alpha; c.fillStyle = color; }
        loop(A, x0, x1, end, 10, 2, on, period);
        calls = 0;
        dashes(B, x0, x1, end, 10, 2, on, period);
        A.globalAlpha = 1; B.globalAlpha = 1;
        const pa = A.getImageData(0, 0, 1700, 24).data, pb = B.getImageData(0, 0, 1700, 24).data;
        for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) { differ++; break; }
        if (Number.isInteger(on) && Number.isInteger(period) && color[0] === '#' && alpha === 1 && end - x0 > 3 * period && x1 > 0) { fast++; fastCalls = Math.max(fastCalls, calls); }
        if (x1 > 0 && end > 0) lines++;
      }
      return { differ, fast, fastCalls, lines };
    });
    expect(r.lines).toBeGreaterThan(1000);
    expect(r.differ).toBe(0);
    expect(r.fast).toBeGreaterThan(300);
    expect(r.fastCalls).toBe(2);
  }, 60_000);
});
