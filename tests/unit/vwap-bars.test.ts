/**
 * Anchored VWAP from stored bars equals VWAP from trades: with 1-tick footprint rows the series is
 * folded from the base bars' rows (source "bars", across the store / memory split, an anchor inside a
 * bar, a `to` inside a bar, 5-minute and 1D buckets) and every point equals a trade-by-trade build
 * (only the summation order differs, so the values agree to 1e-9 relative); with wider rows the
 * service keeps the trade path (source "trades"), which gives the same points.
 */
import { describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { Vwap } from '../../engine/src/analytics/vwap.js';
import { Store } from '../../engine/src/store/store.js';
import { recordEngine } from '../../engine/src/store/recorder.js';
import { HistoryService } from '../../datafeed-adapter/src/service/history.js';
import { vwapWork } from '../../datafeed-adapter/src/service/vwap.js';
import { runSync } from '../../datafeed-adapter/src/service/work.js';
import { randomTape } from '../helpers/tape.js';

const T0 = Date.UTC(2024, 7, 8, 20, 0);
const tape = randomTape(43, 30_000, { start: T0 });
const END = tape[tape.length - 1].ts + 1;

function setup(footprintRowTicks?: number, maxTrades?: number) {
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', ...(footprintRowTicks ? { footprintRowTicks } : {}) });
  const store = Store.open({ path: ':memory:', flushIntervalMs: 0 });
  recordEngine(engine, store);
  const service = new HistoryService(engine, store, { tradeRingSize: 5_000, ...(maxTrades ? { maxTrades } : {}) });
  for (const t of tape) engine.onEvent({ ...t });
  while (store.queued > 0 && store.commit() > 0);
  return service;
}

type Point = { time: number; vwap: number; stdev: number; volume: number };

/** Trade by trade, one point per bucket close, prices in price units (tick 0.10, lot 0.001). */
function naive(anchor: number, to: number, key: (ts: number) => number): Point[] {
  const v = new Vwap(anchor);
  const out: Point[] = [];
  let bucket = NaN;
  const pt = () => out.push({ time: bucket, vwap: v.value * 0.1, stdev: v.stdev * 0.1, volume: v.weight / 1000 });
  for (const t of tape) {
    if (t.ts < anchor || t.ts >= to) continue;
    const k = key(t.ts);
    if (k !== bucket && !Number.isNaN(bucket)) pt();
    bucket = k;
    v.add(t.price, t.size);
  }
  if (!Number.isNaN(bucket)) pt();
  return out;
}

function expectSame(got: Point[], want: Point[]): void {
  expect(got.length).toBe(want.length);
  expect(want.length).toBeGreaterThan(3);
  got.forEach((g, k) => {
    expect(g.time).toBe(want[k].time);
    expect(g.volume).toBeCloseTo(want[k].volume, 6);
    expect(Math.abs(g.vwap - want[k].vwap)).toBeLessThanOrEqual(1e-9 * want[k].vwap);
    expect(Math.abs(g.stdev - want[k].stdev)).toBeLessThanOrEqual(1e-9 * want[k].vwap);
  });
}

describe('anchored VWAP from bars', () => {
  const oneTick = setup(1);
  const wide = setup();
  const anchor = T0 + 7 * 60_000 + 12_345; // inside a 1m bar
  const to = END - 25_000; // inside a bar
  const m5 = (ts: number) => Math.floor(ts / 300_000) * 300_000;
  const run = (s: HistoryService, res: string, a = anchor, t = to) => (runSync(vwapWork(s, 'BTCUSDT', { anchor: a, resolution: res, to: t })) as { anchored: { source: string; complete: boolean; series: Point[]; limits: string[] } }).anchored;

  it('1-tick rows: the series is folded from bars and equals the trade build (5-minute buckets, anchor and to inside bars)', () => {
    const a = run(oneTick, '5');
    expect(a.source).toBe('bars');
    expect(a.limits).toEqual([]);
    expect(a.complete).toBe(true);
    expectSame(a.series, naive(anchor, to, m5));
  });

  it('the bar path spans the store and the in-memory bars, with the anchor before the first trade', () => {
    const a = run(oneTick, '1', T0 - 3_600_000, END);
    expect(a.source).toBe('bars');
    expectSame(a.series, naive(T0 - 3_600_000, END, (ts) => Math.floor(ts / 60_000) * 60_000));
  });

  it('wider footprint rows keep the trade path, with the same points', () => {
    const a = run(wide, '5');
    expect(a.source).toBe('trades');
    expectSame(a.series, naive(anchor, to, m5));
    const b = run(oneTick, '5');
    expect(b.series.map((p) => p.time)).toEqual(a.series.map((p) => p.time));
  });

  it('the bar path is bounded by bars, not trades: 30 000 trades under a 2 000-trade cap give the whole series', () => {
    const capped = run(setup(1, 2_000), '5');
    expect(capped.source).toBe('bars');
    expect(capped.complete).toBe(true);
    expectSame(capped.series, naive(anchor, to, m5));
    const trades = run(setup(undefined, 2_000), '5');
    expect(trades.complete).toBe(false);
    expect(trades.limits).toContain('read at most 2000 trades: the series ends early');
  });

  it('seconds stay on the trade path', () => {
    expect(run(oneTick, '30S').source).toBe('trades');
  });
});
