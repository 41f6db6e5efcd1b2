/**
 * Render bench (browser): Lightweight Charts v5 + the TapeFlow footprint series with 50,000 bars
 * loaded (synthetic, 8–24 rows each, plus the visible-range profile primitive) in Debian Chromium
 * (playwright-core). The chart is scrolled one bar per frame at a typical zoom (12 px and 40 px bar
 * spacing) and the footprint draw time of each frame (performance.now around the renderer) is
 * collected; reports median / p95 ms and the draw counts of the last frame. Target: median < 8 ms.
 */
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { emit, peakRssMB, percentile as pct } from '../harness.js';

const ENTRY = `
import * as LWC from 'lightweight-charts';
import { attachOrderFlow } from './indicators/lightweight-charts/index.js';
import { mulberry32 } from './engine/src/sim/prng.js';
window.benchSetup = (n, seed) => {
  const r = mulberry32(seed);
  const bars = [];
  let p = 60000;
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < n; i++) {
    const k = 8 + Math.floor(r() * 16), lo = p - Math.floor(r() * k);
    const rows = [];
    for (let j = 0; j < k; j++) rows.push({ price: lo + j, bid: Math.round(r() * 50 * 1000) / 1000, ask: Math.round(r() * 50 * 1000) / 1000 });
    const open = lo + Math.floor(r() * k), close = lo + Math.floor(r() * k);
    const vol = rows.reduce((a, x) => a + x.bid + x.ask, 0), delta = rows.reduce((a, x) => a + x.ask - x.bid, 0);
    bars.push({ time: t0 + i * 60000, open, high: lo + k - 1, low: lo, close, volume: vol, delta, rowSize: 1, rows, cvd: { open: 0, high: 0, low: 0, close: 0 } });
    p = close;
  }
  const chart = LWC.createChart(document.getElementById('c'), { width: 1280, height: 720, timeScale: { barSpacing: 12 } });
  const of = attachOrderFlow(chart, LWC, { deltaPanes: false, vwap: false, heatmap: false, signals: false });
  const t = performance.now();
  of.setBars(bars);
  window.bench = { chart, of, setupMs: performance.now() - t };
  return window.bench.setupMs;
};
window.benchRun = async (spacing, frames) => {
  const { chart, of } = window.bench;
  const ts = chart.timeScale();
  ts.applyOptions({ barSpacing: spacing });
  const fp = of.footprint;
  const raf = () => new Promise((r) => requestAnimationFrame(() => r()));
  await raf(); await raf();
  fp.view.frameMs.length = 0;
  for (let i = 0; i < frames; i++) { ts.scrollToPosition(-i * 3, false); await raf(); }
  const ms = fp.view.frameMs.slice();
  return { ms, stats: { ...fp.view.stats }, visible: ts.getVisibleLogicalRange() };
};
`;


export async function benchRender(bars = Number(process.env.RENDER_BARS ?? 50_000), frames = Number(process.env.RENDER_FRAMES ?? 120)): Promise<void> {
  const exe = process.env.TAPEFLOW_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(exe)) { emit({ name: 'render', skipped: `${exe} missing (apt-get install chromium)` }); return; }
  const { chromium } = await import('playwright-core');
  const out = await build({ stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'ts', sourcefile: 'render-bench-entry.ts' }, bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2020', logLevel: 'warning' });
  const code = out.outputFiles[0].text;
  const browser = await chromium.launch({ executablePath: exe, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 740 }, deviceScaleFactor: 1 });
    await page.setContent('<!doctype html><html><body style="margin:0"><div id="c"></div></body></html>');
    await page.addScriptTag({ content: code });
    const setupMs = await page.evaluate(([n]) => (window as any).benchSetup(n, 42), [bars]);
    for (const spacing of [12, 40]) {
      const r = await page.evaluate(([sp, f]) => (window as any).benchRun(sp, f), [spacing, frames]) as { ms: number[]; stats: Record<string, unknown>; visible: { from: number; to: number } };
      emit({
        name: 'render', bars, barSpacing: spacing, frames: r.ms.length, visibleBars: Math.round(r.visible.to - r.visible.from),
        medianMs: Number(pct(r.ms, 50).toFixed(3)), p95Ms: Number(pct(r.ms, 95).toFixed(3)), targetMs: 8,
        detail: r.stats.detail, rects: r.stats.rects, texts: r.stats.texts, setDataMs: Math.round(setupMs), peakRssMB: peakRssMB(),
      });
    }
  } finally { await browser.close(); }
}
