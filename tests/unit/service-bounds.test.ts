/**
 * Bounded queries give the same bars as building everything: with small caps (so bars are skipped,
 * hours cut and pages crossed) the answer equals the tail of a naive full build, for N-tick, volume
 * and seconds bars, across the store / in-memory ring split; the caps are named in `limits`; a query
 * cancelled through the scheduler stops at its next yield.
 */
import { describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { Store } from '../../engine/src/store/store.js';
import { recordEngine } from '../../engine/src/store/recorder.js';
import { HistoryService } from '../../datafeed-adapter/src/service/history.js';
import { seriesWork, type TradeBarRule } from '../../datafeed-adapter/src/service/bars.js';
import { timeAndSalesWork } from '../../datafeed-adapter/src/service/time-sales.js';
import { parseResolution, type Resolution } from '../../datafeed-adapter/src/service/resolution.js';
import { Cancelled, Scheduler, runSync } from '../../datafeed-adapter/src/service/work.js';
import { randomTape } from '../helpers/tape.js';

const T0 = Date.UTC(2024, 7, 8, 20, 0);
const tape = randomTape(41, 40_000, { start: T0 }); // ~2.2 h of trades, several UTC hours
const END = tape[tape.length - 1].ts + 1;

function setup(opts: ConstructorParameters<typeof HistoryService>[2]) {
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
  const store = Store.open({ path: ':memory:', flushIntervalMs: 0 });
  recordEngine(engine, store);
  const service = new HistoryService(engine, store, { tradeRingSize: 7_000, ...opts });
  for (const t of tape) engine.onEvent({ ...t });
  while (store.queued > 0 && store.commit() > 0); // commit() takes maxBatch ops at a time
  return service;
}

/** Every bar of [T0, END) built trade by trade, hour-anchored like the service: [start, trades, volume, open, close]. */
function naive(rule: TradeBarRule): number[][] {
  const out: number[][] = [];
  let cur: number[] | null = null, hour = NaN, vol = 0;
  for (const t of tape) {
    const h = Math.floor(t.ts / 3_600_000);
    const start = rule.kind === 'second' ? Math.floor(t.ts / rule.ms) * rule.ms : t.ts;
    const boundary = rule.kind === 'second' ? cur !== null && cur[0] !== start : cur !== null && (h !== hour || (rule.kind === 'tick' && cur[1] >= rule.n));
    if (boundary) { out.push(cur!); cur = null; vol = 0; }
    hour = h;
    if (!cur) cur = [start, 0, 0, t.price, t.price];
    cur[1]++; cur[2] += t.size; cur[4] = t.price; vol += t.size;
    if (rule.kind === 'volume' && vol >= rule.lots) { out.push(cur); cur = null; vol = 0; }
  }
  if (cur) out.push(cur);
  return out;
}

const asRows = (bars: { start: number; trades: number; volume: number; open: number; close: number }[]) => bars.map((b) => [b.start, b.trades, b.volume, b.open, b.close]);

describe('bounded bars equal the tail of a full build', () => {
  const cases: [string, Resolution, TradeBarRule][] = [
    ['1T', parseResolution('1T') as Resolution, { kind: 'tick', n: 1 }],
    ['7T', parseResolution('7T') as Resolution, { kind: 'tick', n: 7 }],
    ['1S', parseResolution('1S') as Resolution, { kind: 'second', ms: 1000 }],
    ['volume 900 lots', parseResolution('1T') as Resolution, { kind: 'volume', lots: 900 }],
  ];
  for (const [name, res, rule] of cases) {
    it(name, () => {
      const full = naive(rule);
      for (const cap of [1, 50, 3_000, 100_000]) {
        const s = setup({ maxBars: cap });
        const r = runSync(seriesWork(s, 'BTCUSDT', res, T0, END, 0, false, rule));
        const want = full.slice(Math.max(0, full.length - cap));
        expect(asRows(r.bars), `${name} cap ${cap}`).toEqual(want);
        if (full.length > cap) expect(r.limits.join(';')).toContain(`at most ${cap} bars`);
        else expect(r.limits).toEqual([]);
      }
    });
  }

  it('time & sales with minSize (filtered in SQLite for stored trades, in the ring for recent ones) equals a plain filter', () => {
    const s = setup({});
    const big = tape.filter((t) => t.size >= 300);
    expect(big.length).toBeGreaterThan(30);
    const ids = (r: Record<string, unknown>) => (r.trades as { id: number }[]).map((t) => t.id);
    // BTCUSDT lots are 0.001: 300 lots = 0.3
    expect(ids(runSync(timeAndSalesWork(s, 'BTCUSDT', { from: T0, to: END, limit: 10_000, minSize: 0.3 })))).toEqual(big.map((t) => t.id));
    expect(ids(runSync(timeAndSalesWork(s, 'BTCUSDT', { from: T0, to: END, limit: 7, minSize: 0.3 })))).toEqual(big.slice(0, 7).map((t) => t.id));
    expect(ids(runSync(timeAndSalesWork(s, 'BTCUSDT', { to: END, limit: 25, minSize: 0.3 })))).toEqual(big.slice(-25).map((t) => t.id));
    expect(ids(runSync(timeAndSalesWork(s, 'BTCUSDT', { to: END, limit: 10_000, minSize: 0.3 })))).toEqual(big.map((t) => t.id));
    expect(ids(runSync(timeAndSalesWork(s, 'BTCUSDT', { to: END, limit: 10_000 }))).length).toBe(10_000);
  });

  it('the trade budget stops a scan and says so', () => {
    const s = setup({ maxTrades: 5_000 });
    const r = runSync(seriesWork(s, 'BTCUSDT', parseResolution('10000T') as Resolution, T0, END, 0, false));
    expect(r.limits.join(';')).toContain('read at most 5000 trades');
    expect(r.bars.reduce((n, b) => n + b.trades, 0)).toBeLessThanOrEqual(5_000);
  });

  it('countback above the cap is clamped and said; the latest bars come back', () => {
    const s = setup({ maxBars: 100 });
    const r = runSync(seriesWork(s, 'BTCUSDT', parseResolution('1S') as Resolution, END - 1000, END, 1_220_930, false));
    expect(r.limits[0]).toBe('countback 1220930 clamped to 100');
    expect(asRows(r.bars)).toEqual(naive({ kind: 'second', ms: 1000 }).slice(-100));
  });

  it('a cancelled query stops at its next yield and rejects with Cancelled', async () => {
    const s = setup({});
    const sched = new Scheduler({ sliceMs: 1 });
    const ac = new AbortController();
    let steps = 0;
    const w = seriesWork(s, 'BTCUSDT', parseResolution('10000T') as Resolution, T0, END, 0, true);
    const counted = (function* () { for (;;) { const r = w.next(); if (r.done) return r.value; steps++; yield; } })();
    const p = sched.run(counted, ac.signal);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(Cancelled);
    expect(steps).toBeLessThanOrEqual(1);
    expect(sched.stats.cancelled).toBe(1);
  });
});
