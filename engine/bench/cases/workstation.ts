/**
 * Workstation bench (browser, issue 17): the real page at / of `tapeflow replay <USD-M capture> --serve`
 * (or `tapeflow demo --serve --backfill 10` without the data) in Debian Chromium, with every panel
 * live over /ws. The footprint is then given 50,000 bars (synthetic, 8–24 rows each, ending before
 * the replay's first bar so live bars keep appending) and panned by relative scrolls (what a drag
 * does), one frame drawn per step.
 * Frame cost per step, from CDP Performance.getMetrics deltas across one requestAnimationFrame step:
 * main-thread CPU time (ThreadTime; the figure that holds on a loaded machine) and main-thread busy
 * wall time (TaskDuration; inflated by other processes). Both include the stream's messages and every
 * panel's DOM work. Reported, median and p95:
 *  - idle: the same steps without scrolling (stream + panels + harness: a floor); the stream's load
 *    varies along the replay, so the pan is also run on every other frame only and its frames are
 *    given beside the still frames between them (paired, same period of the stream);
 *  - pan: 2 bars (80 px) per frame (target < 8 ms), beside a bare Lightweight Charts candlestick chart
 *    of the same size panned the same way in the same run (the browser's own floor for a pan);
 *  - sweep: the whole 50,000 bars in `WS_FRAMES` frames (the chart's window of bars moves every few frames);
 *  - tape: the pan with 17 trades per frame (1,000 trades/s at 60 fps, every frame's trades new: prices,
 *    sizes and sides differ from the previous frame's) fed to the time & sales panel (target: adds < 2 ms),
 *    against the pan without (runs in sequence) and, paired, frames with 17 trades against the frames
 *    between them in one run with the tape on every other frame;
 *  - load: bytes before first paint on a fresh load (target < 1 MB) and until the chart is drawn.
 * Profile the pan with WS_PROFILE=1 (top JS functions) or WS_TRACE=1 (the main thread's trace events per frame,
 * self time, for the page and for the bare chart: where a frame goes beyond script); WS_STREAM=0 runs it with the stream off.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { emit, percentile as pct } from '../harness.js';
import { traceFrames } from '../frame-trace.js';


function serve(args: string[]): Promise<{ url: string; stop(): void }> {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, ['bin/tapeflow.js', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const on = (b: Buffer): void => { out += String(b); const m = /serving on (http:\/\/[\d.:]+)/.exec(out); if (m) ok({ url: m[1], stop: () => p.kill('SIGINT') }); };
    p.stdout.on('data', on); p.stderr.on('data', on);
    p.on('exit', (c) => fail(new Error(`tapeflow ${args.join(' ')} exited ${c}: ${out.slice(-400)}`)));
  });
}

const SETUP = `(n) => {
  const tf = window.tapeflow, fp = tf.of.footprint;
  const end = fp.times.length ? fp.times[0] : Date.UTC(2024, 7, 8);
  let s = 42; const r = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
  // prices (in 0.1 ticks) around the capture's own price, so the price scale and the cells look like the real chart's
  const bars = []; let p = Math.round((fp.bars[0]?.open ?? 61000) * 10);
  for (let i = 0; i < n; i++) {
    const k = 8 + Math.floor(r() * 16), lo = p - Math.floor(r() * k);
    const rows = [];
    for (let j = 0; j < k; j++) rows.push({ price: (lo + j) / 10, bid: Math.round(r() * 50000) / 1000, ask: Math.round(r() * 50000) / 1000 });
    const open = lo + Math.floor(r() * k), close = lo + Math.floor(r() * k);
    const vol = rows.reduce((a, x) => a + x.bid + x.ask, 0), delta = rows.reduce((a, x) => a + x.ask - x.bid, 0);
    bars.push({ time: end - (n - i) * 60000, open: open / 10, high: (lo + k - 1) / 10, low: lo / 10, close: close / 10, volume: vol, delta, rowSize: 0.1, rows, cvd: { open: 0, high: 0, low: 0, close: 0 } });
    p = close;
  }
  tf.of.setBars([...bars, ...fp.bars]);
  tf.chart.timeScale().applyOptions({ barSpacing: 40 });
  return fp.bars.length;
}`;

export async function benchWorkstation(frames = Number(process.env.WS_FRAMES ?? 150)): Promise<void> {
  const exe = process.env.TAPEFLOW_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(exe)) { emit({ name: 'workstation', skipped: `${exe} missing` }); return; }
  if (!existsSync('bin/tapeflow.js') || !existsSync('examples/lightweight-charts/app.iife.js')) { emit({ name: 'workstation', skipped: 'run npm run build first' }); return; }
  const file = resolve(process.env.TAPEFLOW_DATA ?? '../shared/data', 'binance/usdm_btcusdt_20240808.gz');
  const source = existsSync(file) ? `replay ${file} --speed 10` : 'demo --backfill 10';
  const srv = await serve(existsSync(file) ? ['replay', file, '--serve', '--speed', '10'] : ['demo', '--serve', '--backfill', '10']);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: exe, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  try {
    // page load: bytes before first paint (fresh context, no cache)
    const ctx0 = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    const p0 = await ctx0.newPage();
    await p0.goto(`${srv.url}/?symbol=BTCUSDT&tf=1`);
    await p0.waitForFunction(() => (window as any).tapeflow?.ready === true, null, { timeout: 60_000 });
    const load = await p0.evaluate(() => {
      const fpaint = performance.getEntriesByType('paint').find((e) => e.name === 'first-paint')?.startTime ?? Infinity;
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const before = res.filter((r) => r.responseEnd <= fpaint);
      // also everything up to the first drawn chart (tapeflow.ready): the bundle and the first history reads
      return { firstPaintMs: fpaint, bytes: (nav?.transferSize ?? 0) + before.reduce((a, r) => a + r.transferSize, 0), bytesUntilReady: (nav?.transferSize ?? 0) + res.reduce((a, r) => a + r.transferSize, 0), resources: before.map((r) => r.name.replace(location.origin, '')) };
    });
    await ctx0.close();
    emit({ name: 'workstation-load', source, bytesBeforeFirstPaint: load.bytes, bytesUntilChartReady: load.bytesUntilReady, targetBytes: 1_000_000, firstPaintMs: Math.round(load.firstPaintMs), resources: load.resources.join(' ') });

    const page = await browser.newPage({ viewport: { width: 1600, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(`${srv.url}/?symbol=BTCUSDT&tf=1${process.env.WS_STREAM === '0' ? '&stream=0' : ''}`);
    await page.waitForFunction(() => (window as any).tapeflow?.ready === true, null, { timeout: 60_000 });
    const n = await page.evaluate(`(${SETUP})(50000)`) as number;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    // main-thread busy time (TaskDuration, wall) and main-thread CPU time (ThreadTime), both in ms
    const metrics = async (): Promise<{ task: number; cpu: number }> => {
      const m = (await cdp.send('Performance.getMetrics')).metrics as { name: string; value: number }[];
      return { task: (m.find((x) => x.name === 'TaskDuration')?.value ?? 0) * 1000, cpu: (m.find((x) => x.name === 'ThreadTime')?.value ?? 0) * 1000 };
    };
    interface Run { frame: number[]; cpu: number[]; draw: number[]; tape: number; moves: number }
    // one step = scroll by `step` bars relative to where the chart is (what a drag does), one frame drawn
    const pan = async (tapePerFrame: number, step = 2): Promise<Run> => {
      const m0 = await page.evaluate(() => { const fp = (window as any).tapeflow.of.footprint; fp.view.frameMs.length = 0; return fp.windowMoves as number; });
      const frame: number[] = [], cpu: number[] = [];
      let t = await metrics();
      for (let i = 0; i < frames; i++) {
        await page.evaluate(([i, k, step]) => new Promise<void>((r) => {
          const tf = (window as any).tapeflow;
          // each frame's trades differ from the previous frame's (price, size, side run on with the trade count, as a
          // real tape's do): the same 17 trades every frame let a list that skips unchanged rows skip most of them
          if (k) { const now = Date.now(), tr = []; for (let j = 0; j < k; j++) { const q = i * k + j; tr.push([now, 61000 + (q % 200) / 10, 0.001 * (1 + (q % 50)), q % 2 ? 1 : -1, i * 1000 + j]); } tf.panels.tape.add(tr); }
          const ts = tf.chart.timeScale();
          if (step) ts.scrollToPosition(ts.scrollPosition() - step, false);
          requestAnimationFrame(() => setTimeout(r, 0));
        }), [i, tapePerFrame < 0 ? (i % 2 ? 0 : -tapePerFrame) : tapePerFrame, step < 0 ? (i % 2 ? 0 : -step) : step]);
        const t2 = await metrics();
        frame.push(t2.task - t.task); cpu.push(t2.cpu - t.cpu); t = t2;
      }
      const r = await page.evaluate(() => { const tf = (window as any).tapeflow; return { draw: tf.of.footprint.view.frameMs.slice() as number[], tape: tf.panels.tape.received as number, moves: tf.of.footprint.windowMoves as number }; });
      return { frame, cpu, draw: r.draw, tape: r.tape, moves: r.moves - m0 };
    };
    if (process.env.WS_PROFILE) {
      await cdp.send('Profiler.enable'); await cdp.send('Profiler.start');
      await pan(0);
      const { profile } = await cdp.send('Profiler.stop') as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[] } };
      const top = profile.nodes.filter((x) => x.hitCount).sort((a, b) => (b.hitCount ?? 0) - (a.hitCount ?? 0)).slice(0, 15).map((x) => `${x.hitCount} ${x.callFrame.functionName}@${x.callFrame.url.split('/').pop()}:${x.callFrame.lineNumber}`);
      console.log(top.join('\n'));
    }
    if (process.env.WS_TRACE) emit({ name: 'workstation-pan-trace', source, frames, ...await traceFrames(cdp, frames, async () => { await pan(0); }) });
    // warm-up (the 50,000-bar set-up's garbage, JIT): not measured
    for (let i = 0; i < 30; i++) await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    // the floor: the same frames with every panel live and nothing panned (stream + harness cost)
    const idle = await pan(0, 0);
    const base = await pan(0);
    // 1,000 trades/s at 60 frames/s ≈ 17 trades per frame
    const taped = await pan(17);
    // the same, tape on every other frame only: the added cost as a paired difference within one run
    // (frames with 17 trades vs the frames between them), which the machine's load moves far less
    const alt = await pan(-17);
    const even = <T,>(x: T[], odd: number): T[] => x.filter((_, i) => i % 2 === odd);
    // pan on every other frame: the pan's own cost as a paired difference against the still frames between
    const altPan = await pan(0, -2);
    // the whole history in `frames` frames: the chart's window of bars moves every few frames
    const step = Math.ceil(n / frames);
    const sweep = await pan(0, step);
    // the floor of a pan in this browser: a bare Lightweight Charts candlestick chart of the same size
    // and bar spacing, 2,000 bars, scrolled the same way in the same run (no TapeFlow code at all)
    const bare = await browser.newPage({ viewport: { width: 1600, height: 900 }, deviceScaleFactor: 1 });
    await bare.setContent('<!doctype html><html><body style="margin:0"><div id="chart" style="position:absolute;inset:0"></div></body></html>');
    await bare.addScriptTag({ path: resolve('node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js') });
    await bare.evaluate(() => {
      const LWC = (window as any).LightweightCharts, chart = LWC.createChart(document.getElementById('chart'), { autoSize: true, timeScale: { barSpacing: 40 } });
      const d = []; let p = 61000;
      for (let i = 0; i < 2000; i++) { const o = p; p += Math.round(Math.sin(i * 7.3) * 20) / 10; d.push({ time: 1.7e9 + i * 60, open: o, high: Math.max(o, p) + 1, low: Math.min(o, p) - 1, close: p }); }
      chart.addSeries(LWC.CandlestickSeries).setData(d);
      (window as any).chart = chart;
    });
    const bcdp = await bare.context().newCDPSession(bare);
    await bcdp.send('Performance.enable');
    // one step of the bare chart's pan: 2 bars, one frame drawn
    const bareStep = (): Promise<void> => bare.evaluate(() => new Promise<void>((r) => { const ts = (window as any).chart.timeScale(); ts.scrollToPosition(ts.scrollPosition() - 2, false); requestAnimationFrame(() => setTimeout(r, 0)); }));
    if (process.env.WS_TRACE) emit({ name: 'workstation-bare-lwc-trace', frames, ...await traceFrames(bcdp, frames, async () => { for (let i = 0; i < frames; i++) await bareStep(); }) });
    const bareCpu: number[] = [];
    const cpuNow = async (): Promise<number> => (((await bcdp.send('Performance.getMetrics')).metrics as { name: string; value: number }[]).find((x) => x.name === 'ThreadTime')?.value ?? 0) * 1000;
    let bt = await cpuNow();
    for (let i = 0; i < frames; i++) {
      await bareStep();
      const b2 = await cpuNow(); bareCpu.push(b2 - bt); bt = b2;
    }
    await bare.close();
    const r3 = (x: number): number => Number(x.toFixed(3));
    const med = (x: number[]): number => r3(pct(x, 50));
    const p95 = (x: number[]): number => r3(pct(x, 95));
    const loadavg = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ');
    const fig = (r: Run) => ({ medianFrameMs: med(r.frame), p95FrameMs: p95(r.frame), medianCpuMs: med(r.cpu), p95CpuMs: p95(r.cpu) });
    emit({ name: 'workstation-idle', source, frames, panelsLive: true, ...fig(idle), loadavg });
    emit({
      name: 'workstation-pan', source, bars: n, frames, barSpacing: 40, barsPerFrame: 2, panelsLive: true, ...fig(base), targetMs: 8,
      floorIdleFrameMs: med(idle.frame), floorIdleCpuMs: med(idle.cpu), floorBareLwcCpuMs: med(bareCpu), footprintDrawMs: med(base.draw),
      ratioCpuToBareLwc: r3(med(base.cpu) / Math.max(1e-3, med(bareCpu))), windowMoves: base.moves,
      pairedPanCpuMs: med(even(altPan.cpu, 0)), pairedStillCpuMs: med(even(altPan.cpu, 1)), loadavg,
    });
    emit({
      name: 'workstation-sweep', source, bars: n, frames, barsPerFrame: step, panelsLive: true, ...fig(sweep), maxFrameMs: r3(Math.max(...sweep.frame)), targetMs: 8,
      footprintDrawMs: med(sweep.draw), windowMoves: sweep.moves, loadavg,
    });
    emit({
      name: 'workstation-tape', source, tradesPerSecond: 1000, tradesPerFrame: 17, ...fig(taped),
      addedFrameMs: r3(med(taped.frame) - med(base.frame)), addedCpuMs: r3(med(taped.cpu) - med(base.cpu)),
      pairedAddedFrameMs: r3(med(even(alt.frame, 0)) - med(even(alt.frame, 1))), pairedAddedCpuMs: r3(med(even(alt.cpu, 0)) - med(even(alt.cpu, 1))), targetAddedMs: 2, loadavg,
    });
  } finally { await browser.close(); srv.stop(); }
}
