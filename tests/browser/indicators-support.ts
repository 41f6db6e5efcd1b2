/**
 * Shared setup for the indicator browser tests: builds the examples page bundle into a temp copy of
 * examples/, starts the datafeed HTTP + WebSocket server on it, launches Debian Chromium, and reads
 * the chart's real screen pixels (page screenshot in device pixels, decoded with @napi-rs/canvas).
 */
import { cpSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import type { Engine } from '../../engine/src/analytics/engine.js';
import type { HistoryService } from '../../datafeed-adapter/src/service/history.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { createStreamServer, type StreamServer } from '../../datafeed-adapter/src/ws/server.js';
import { ensureChromium, CHROMIUM_ARGS } from './global-setup.js';

export interface ExampleServer { http: DatafeedServer; ws: StreamServer; browser: Browser; dir: string; close(): Promise<void> }

export async function buildExamples(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-examples-'));
  cpSync('examples', dir, { recursive: true });
  await build({ bundle: true, platform: 'browser', target: 'es2020', format: 'iife', entryPoints: ['examples/lightweight-charts/app.ts'], outfile: join(dir, 'lightweight-charts/app.iife.js'), logLevel: 'warning' });
  return dir;
}

export async function startExamples(engine: Engine, service?: HistoryService): Promise<ExampleServer> {
  const exe = await ensureChromium();
  const dir = await buildExamples();
  const http = await createServer({ engine, port: 0, host: '127.0.0.1', staticDir: dir, ...(service ? { service } : {}) });
  const ws = createStreamServer({ engine, server: http.server });
  const browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS });
  return { http, ws, browser, dir, close: async () => { await browser.close(); await ws.close?.(); await http.close(); } };
}

export async function openPage(s: ExampleServer, query: string, dpr = 1, size = { width: 1280, height: 760 }): Promise<Page> {
  const page = await s.browser.newPage({ viewport: size, deviceScaleFactor: dpr });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${s.http.url}/?${query}`);
  await page.waitForFunction(() => (window as any).tapeflow?.ready === true || (window as any).tapeflow?.error, null, { timeout: 30_000 });
  const err = await page.evaluate(() => (window as any).tapeflow.error ?? null);
  if (err || errors.length) throw new Error(`page error: ${err ?? errors.join('; ')}`);
  return page;
}

export function saveShot(name: string, png: Buffer): string {
  mkdirSync('artifacts', { recursive: true });
  const p = join('artifacts', name);
  writeFileSync(p, png);
  return p;
}

/** Wait for two animation frames (LWC paints on rAF). */
export async function frames(page: Page, n = 3): Promise<void> {
  await page.evaluate((k) => new Promise<void>((r) => { let i = 0; const f = () => (++i >= k ? r() : requestAnimationFrame(f)); requestAnimationFrame(f); }), n);
}

export interface Shot { data: Uint8ClampedArray; width: number; height: number }

/** The chart element's real screen pixels (device pixels), decoded in Node. */
export async function grab(page: Page): Promise<Shot> {
  const box = await page.locator('#chart').boundingBox();
  if (!box) throw new Error('no #chart');
  const png = await page.screenshot({ clip: box });
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, img.width, img.height);
  return { data: d.data as unknown as Uint8ClampedArray, width: img.width, height: img.height };
}

const hex = (d: Uint8ClampedArray, i: number): string => '#' + [d[i], d[i + 1], d[i + 2]].map((v) => v.toString(16).padStart(2, '0')).join('');

/** A column of device pixels [y0, y1) at device x, as hex strings. */
export async function column(page: Page, x: number, y0: number, y1: number): Promise<string[]> {
  const s = await grab(page);
  const out: string[] = [];
  const xx = Math.round(x);
  for (let y = Math.max(0, y0); y < Math.min(s.height, y1); y++) out.push(hex(s.data, (y * s.width + xx) * 4));
  return out;
}

/** Count pixels of a colour (±tol per channel) in a device-pixel rectangle of the chart. */
export async function countColor(page: Page, rect: { x: number; y: number; w: number; h: number }, color: string, tol = 8): Promise<number> {
  const s = await grab(page);
  const r = parseInt(color.slice(1, 3), 16), g = parseInt(color.slice(3, 5), 16), b = parseInt(color.slice(5, 7), 16);
  const x0 = Math.max(0, Math.round(rect.x)), y0 = Math.max(0, Math.round(rect.y));
  const x1 = Math.min(s.width, Math.round(rect.x + rect.w)), y1 = Math.min(s.height, Math.round(rect.y + rect.h));
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const i = (y * s.width + x) * 4;
    if (Math.abs(s.data[i] - r) <= tol && Math.abs(s.data[i + 1] - g) <= tol && Math.abs(s.data[i + 2] - b) <= tol) n++;
  }
  return n;
}
