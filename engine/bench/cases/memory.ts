/**
 * Memory: 30 instruments × 36 simulated hours (peak over the first day, then whether RSS still grows
 * once the bar budget is full) through the engine with `tapeflow start`'s pipeline
 * options (closed bars bounded by analytics.barMemoryMB, default config), at the registry's rows and
 * at 1-tick rows. Each variant runs in its own child process (dist/bench-memory.js: the engine
 * alone, not the other cases' modules) so its peak RSS is its own; startRssMB is that process before
 * the engine runs.
 *
 * The day: the real USD-M BTCUSDT window (shared/data) stretched ×10 in time (≈ 6 trades/s per
 * instrument), one window an hour, every other one mirrored, each instrument on its own price
 * offset. RSS is read after a GC at every simulated hour; the growth figure is the slope from the
 * hour the bar budget is full (older bars would then be read from the store) to the end.
 */
import { execFileSync } from 'node:child_process';
import { InstrumentRegistry, type InstrumentSpec } from '../../src/core/instruments.js';
import { Engine } from '../../src/analytics/engine.js';
import { defaultConfig } from '../../src/config/types.js';
import { pipelineOptionsFrom } from '../../src/config/analytics.js';
import { emit, peakRssMB } from '../harness.js';
import { loadTradeTape, type TradeTape } from '../trade-tape.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { newTrade } from '../../src/core/events.js';

const HOUR = 3_600_000, INSTRUMENTS = 30, STRETCH = 10, HOURS = 36;

/** The tape as one file of float64 columns (n, pivot2, then ts, price, size, buy), so a child's peak RSS is not the capture's decoding. */
function writeTape(tape: TradeTape, file: string): void {
  const n = tape.n, f = new Float64Array(2 + 4 * n);
  f[0] = n; f[1] = tape.pivot2[0];
  for (let i = 0; i < n; i++) { f[2 + i] = tape.ts[i]; f[2 + n + i] = tape.price[i]; f[2 + 2 * n + i] = tape.size[i]; f[2 + 3 * n + i] = tape.buy[i]; }
  writeFileSync(file, new Uint8Array(f.buffer));
}

function readTape(file: string): { n: number; pivot2: number; ts: Float64Array; price: Float64Array; size: Float64Array; buy: Float64Array } {
  const b = readFileSync(file);
  const f = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  const n = f[0];
  return { n, pivot2: f[1], ts: f.subarray(2, 2 + n), price: f.subarray(2 + n, 2 + 2 * n), size: f.subarray(2 + 2 * n, 2 + 3 * n), buy: f.subarray(2 + 3 * n, 2 + 4 * n) };
}

export async function benchMemory(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-bench-'));
  const file = join(dir, 'tape.f64');
  try {
    writeTape(await loadTradeTape(['binance/usdm_btcusdt_20240808.gz'], new InstrumentRegistry()), file);
    // the engine-only child bundle beside dist/bench.js (built by scripts/build.mjs)
    const child = join(dirname(process.argv[1]), 'bench-memory.js');
    if (!existsSync(child)) throw new Error(`${child} is missing: run npm run bench (it builds it)`);
    for (const rows of ['registry', '1-tick']) {
      const out = execFileSync(process.execPath, ['--expose-gc', child], {
        env: { ...process.env, BENCH_MEMORY_ROWS: rows, BENCH_MEMORY_TAPE: file }, encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'],
      });
      process.stdout.write(out);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchMemoryChild(): Promise<void> {
  const oneTick = process.env.BENCH_MEMORY_ROWS === '1-tick';
  const registry = new InstrumentRegistry();
  const tape = readTape(process.env.BENCH_MEMORY_TAPE as string);
  const startRss = Math.round(process.memoryUsage().rss / 1048576);
  const btc = registry.get('BTCUSDT');
  const spec: InstrumentSpec = { id: '', symbol: '', venue: btc.venue, assetClass: btc.assetClass, description: 'memory bench', tickSize: btc.tickSize, lotStep: btc.lotStep, profileRow: btc.profileRow, footprintRow: btc.footprintRow, contractSize: 1, session: btc.session, thresholds: btc.thresholds, flow: btc.flow };
  const ids = Array.from({ length: INSTRUMENTS }, (_, k) => { const id = `MEM${String(k + 1).padStart(2, '0')}`; registry.add({ ...spec, id, symbol: id }); return id; });
  const opts = { ...pipelineOptionsFrom(defaultConfig()), ...(oneTick ? { footprintRowTicks: 1, profileRowTicks: 1 } : {}) };
  const engine = new Engine(registry, opts);
  const barMemory = opts.barMemory!;
  const flies = ids.map((id) => newTrade(id));
  const day0 = Date.UTC(2024, 7, 9);
  const t0 = tape.ts[0];
  const gc = (globalThis as { gc?: () => void }).gc;
  const rssByHour: number[] = [], heapByHour: number[] = [], buffersByHour: number[] = [], developingByHour: number[] = [], profileRowsByHour: number[] = [];
  const mb = (x: number): number => Math.round(x / 1048576);
  let trades = 0, fullAt = -1, peakDay = 0;
  const started = performance.now();
  for (let h = 0; h < HOURS; h++) {
    const mirror = (h & 1) === 1;
    for (let k = 0; k < INSTRUMENTS; k++) {
      const t = flies[k], off = k * 20_000;
      for (let i = 0; i < tape.n; i++) {
        t.ts = day0 + h * HOUR + (tape.ts[i] - t0) * STRETCH;
        t.id = h * 1e7 + i + 1;
        // (ids restart each hour: the pipeline counts the discontinuity, which costs nothing here)
        t.price = off + (mirror ? tape.pivot2 - tape.price[i] : tape.price[i]);
        t.size = tape.size[i];
        t.side = (tape.buy[i] ^ (h & 1)) === 1 ? 'buy' : 'sell';
        t.sideSource = 'flag';
        engine.onEvent(t);
        trades++;
      }
    }
    gc?.();
    const m = process.memoryUsage();
    rssByHour.push(mb(m.rss)); heapByHour.push(mb(m.heapUsed)); buffersByHour.push(mb(m.arrayBuffers));
    // what the engine holds beside the budgeted bars: session profiles' rows and developing points
    let dev = 0, prow = 0;
    for (const p of engine.pipelines.values()) for (const s of p.profiles.sessions) { dev += s.developing.length; prow += s.profile.grid.capacity; }
    developingByHour.push(dev); profileRowsByHour.push(prow);
    if (fullAt < 0 && barMemory.used > 0.98 * barMemory.budgetBytes) fullAt = h;
    if (h === 23) peakDay = peakRssMB();
  }
  engine.finish();
  const bars = [...engine.pipelines.values()].reduce((s, p) => s + p.bars.length, 0);
  // RSS after a GC, from the hour the bar budget was full to the end, least-squares slope in MB/hour
  const xs = rssByHour.map((_, h) => h).filter((h) => fullAt >= 0 && h >= fullAt);
  const slope = (ys: number[]): number => {
    const mx = xs.reduce((a, h) => a + h, 0) / xs.length, my = xs.reduce((a, h) => a + ys[h], 0) / xs.length;
    return xs.length > 2 ? xs.reduce((a, h) => a + (h - mx) * (ys[h] - my), 0) / xs.reduce((a, h) => a + (h - mx) ** 2, 0) : NaN;
  };
  const growth = slope(rssByHour);
  emit({
    name: `memory: ${INSTRUMENTS} instruments × ${HOURS} simulated hours, ${oneTick ? '1-tick' : 'registry (coarse)'} rows, tapeflow start options`,
    trades, seconds: +((performance.now() - started) / 1000).toFixed(1), barsHeld: bars, barMemoryBudgetMB: Math.round(barMemory.budgetBytes / 1048576), barMemoryUsedMB: Math.round(barMemory.used / 1048576),
    startRssMB: startRss, peakRssFirstDayMB: peakDay, peakRssMB: peakRssMB(), rssByHourMB: rssByHour,
    heapUsedByHourMB: heapByHour, arrayBuffersByHourMB: buffersByHour, developingPointsByHour: developingByHour, profileRowsAllocatedByHour: profileRowsByHour,
    // the JS heap the engine holds (after a GC) beside RSS, which also counts pages the allocators keep
    budgetFullFromHour: fullAt, rssSlopeSinceFullMBPerHour: +growth.toFixed(2), heapUsedSlopeSinceFullMBPerHour: +slope(heapByHour).toFixed(2),
    note: 'real USD-M BTCUSDT window stretched x10 in time, one window an hour (every other mirrored), 30 price-offset copies; a process holding the engine only (no store, no server); closed bars and session profiles bounded by analytics.barMemoryMB',
  });
}
