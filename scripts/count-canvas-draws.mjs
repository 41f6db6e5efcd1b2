/**
 * Which canvases a pan frame touches on the workstation page (issue 17): serves the USD-M replay, pans by
 * 2 bars on some frames, and per frame lists the canvases any 2D draw call reached. Needs `npm run build`.
 * Usage: TAPEFLOW_DATA=../shared/data node scripts/count-canvas-draws.mjs
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
const p = spawn(process.execPath, ['bin/tapeflow.js', 'replay', resolve(process.env.TAPEFLOW_DATA ?? '../shared/data', 'binance/usdm_btcusdt_20240808.gz'), '--serve', '--speed', '10', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
const url = await new Promise((ok) => { let o = ''; const on = (b) => { o += b; const m = /serving on (http:\/\/[\d.:]+)/.exec(o); if (m) ok(m[1]); }; p.stdout.on('data', on); p.stderr.on('data', on); });
const b = await chromium.launch({ executablePath: process.env.TAPEFLOW_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await b.newPage({ viewport: { width: 1600, height: 900 }, deviceScaleFactor: 1 });
await page.addInitScript(() => {
  const C = CanvasRenderingContext2D.prototype; window.__cnt = new Map();
  for (const k of ['clearRect', 'fillRect', 'drawImage', 'fillText', 'stroke', 'fill']) { const f = C[k]; C[k] = function (...a) { const c = this.canvas; window.__cnt.set(c, (window.__cnt.get(c) ?? 0) + 1); return f.apply(this, a); }; }
});
await page.goto(`${url}/?symbol=BTCUSDT&tf=1`);
await page.waitForFunction(() => window.tapeflow?.ready === true, null, { timeout: 60000 });
for (let i = 0; i < 3; i++) {
  for (const step of [2, 0, 0, 2, 0]) {
    const r = await page.evaluate((step) => new Promise((res) => {
      window.__cnt.clear();
      const ts = window.tapeflow.chart.timeScale(); if (step) ts.scrollToPosition(ts.scrollPosition() - step, false);
      requestAnimationFrame(() => setTimeout(() => { const all = [...document.querySelectorAll('canvas')]; res({ canvases: all.length, touched: window.__cnt.size, sizes: [...window.__cnt.keys()].map((c) => `${c.width}x${c.height}`).join(' ') }); }, 0));
    }), step);
    console.log(step, JSON.stringify(r));
  }
}
await b.close(); p.kill('SIGINT');
