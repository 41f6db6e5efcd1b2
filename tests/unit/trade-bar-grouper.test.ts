/**
 * The one trade-bar grouping (issue 17): live N-tick / volume bars and REST bars are the same
 * TradeBarGrouper. Pinned on a hand tape that crosses a UTC hour (the count restarts there) and a
 * volume target inside a trade (the bar takes the whole trade), and REST (/api/v1/footprint's
 * seriesWork over the stored trades) returns exactly what the grouper built, closed flags included.
 */
import { describe, expect, it } from 'vitest';
import { FootprintBar } from '../../engine/src/analytics/footprint.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { newTrade, type Trade } from '../../engine/src/core/events.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { recordEngine } from '../../engine/src/store/recorder.js';
import { Store } from '../../engine/src/store/store.js';
import { seriesWork } from '../../datafeed-adapter/src/service/bars.js';
import { HistoryService } from '../../datafeed-adapter/src/service/history.js';
import { runSync } from '../../datafeed-adapter/src/service/work.js';
import { TradeBarGrouper, type CountRule } from '../../datafeed-adapter/src/service/trade-bar-grouper.js';

const H1 = Date.UTC(2024, 7, 8, 1, 0);
// [ms from 01:00, price ticks, lots, side]: four trades before the hour, four after
const TAPE: [number, number, number, 'buy' | 'sell'][] = [
  [-9_000, 600_000, 4, 'buy'],
  [-7_000, 600_002, 5, 'sell'],
  [-5_000, 600_001, 3, 'buy'], // volume 12 >= 10: closes the first 10-lot bar without splitting this trade
  [-1_000, 600_003, 6, 'sell'], // the hour's short last bar
  [100, 600_004, 2, 'buy'], // 01:00:00.100: the count restarts
  [900, 600_005, 9, 'buy'], // 11 >= 10
  [1_500, 600_003, 1, 'sell'],
  [2_000, 600_002, 1, 'sell'],
];

function trades(): Trade[] {
  return TAPE.map(([dt, price, size, side], k) => {
    const t = newTrade('BTCUSDT');
    t.ts = H1 + dt; t.id = k + 1; t.price = price; t.size = size; t.side = side; t.sideSource = 'flag';
    return t;
  });
}

type Row = { start: number; end: number; trades: number; volume: number; open: number; close: number; delta: number; closed: boolean };
// an open bar's end is provisional (live: Infinity until it closes; REST: its last trade + 1)
const row = (b: FootprintBar): Row => ({ start: b.start, end: b.closed ? b.end : b.lastTs + 1, trades: b.trades, volume: b.volume, open: b.open, close: b.close, delta: b.delta, closed: b.closed });

/** The grouper fed the tape: closed bars in order, then the open one. */
function group(rule: CountRule, tape: Trade[], seedFrom?: FootprintBar): FootprintBar[] {
  const out: FootprintBar[] = [];
  const g = new TradeBarGrouper('BTCUSDT', 1, rule, () => 's', (b) => out.push(b));
  if (seedFrom) g.seed(seedFrom);
  let cvd = 0;
  for (const t of tape) { cvd += t.side === 'buy' ? t.size : -t.size; g.add({ ...t }, cvd); }
  return g.open ? [...out, g.open] : out;
}

describe('TradeBarGrouper: one grouping for live and REST', () => {
  it('volume bars: a bar takes the whole trade that reaches the target; the UTC hour closes the short bar', () => {
    const bars = group({ kind: 'volume', lots: 10 }, trades()).map(row);
    expect(bars).toEqual([
      { start: H1 - 9_000, end: H1 - 5_000 + 1, trades: 3, volume: 12, open: 600_000, close: 600_001, delta: 2, closed: true },
      { start: H1 - 1_000, end: H1 - 1_000 + 1, trades: 1, volume: 6, open: 600_003, close: 600_003, delta: -6, closed: true },
      { start: H1 + 100, end: H1 + 900 + 1, trades: 2, volume: 11, open: 600_004, close: 600_005, delta: 11, closed: true },
      { start: H1 + 1_500, end: H1 + 2_000 + 1, trades: 2, volume: 2, open: 600_003, close: 600_002, delta: -2, closed: false },
    ]);
  });

  it('3-tick bars: the hour restarts the count', () => {
    const bars = group({ kind: 'tick', n: 3 }, trades()).map(row);
    expect(bars.map((b) => [b.start, b.trades, b.closed])).toEqual([
      [H1 - 9_000, 3, true], [H1 - 1_000, 1, true], [H1 + 100, 3, true], [H1 + 2_000, 1, false],
    ]);
  });

  it('a grouper seeded with an open bar (the live snapshot) continues it exactly as one fed every trade', () => {
    const all = trades();
    const whole = group({ kind: 'volume', lots: 10 }, all).map(row);
    const head = group({ kind: 'volume', lots: 10 }, all.slice(0, 4)); // ends with the hour's short bar open
    const open = head.pop()!;
    expect(open.closed).toBe(false);
    const rest = group({ kind: 'volume', lots: 10 }, all.slice(4), open).map(row);
    expect([...head.map(row), ...rest]).toEqual(whole);
  });

  it('REST bars (the stored trades through seriesWork) are the grouper\'s bars, closed flags included, also when older bars are skipped', () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    const store = Store.open({ path: ':memory:', flushIntervalMs: 0 });
    recordEngine(engine, store);
    const svc = new HistoryService(engine, store, {});
    for (const t of trades()) engine.onEvent(t);
    while (store.queued > 0 && store.commit() > 0);
    const rowTicks = svc.rowTicks(svc.instrument('BTCUSDT'));
    const res = { kind: 'tick' as const, n: 1, label: '1T' };
    for (const rule of [{ kind: 'volume', lots: 10 }, { kind: 'tick', n: 3 }] as CountRule[]) {
      const out: FootprintBar[] = [];
      const g = new TradeBarGrouper('BTCUSDT', rowTicks, rule, () => '', (b) => out.push(b));
      let cvd = 0;
      for (const t of trades()) { cvd += t.side === 'buy' ? t.size : -t.size; g.add(t, cvd); }
      const want = (g.open ? [...out, g.open] : out).map(row);
      for (const cap of [100, 3, 1]) {
        const got = runSync(seriesWork(svc, 'BTCUSDT', res, H1 - 10_000, H1 + 10_000, 0, true, rule, cap)).bars.map(row);
        expect(got, `${rule.kind} cap ${cap}`).toEqual(want.slice(-cap));
      }
    }
  });
});
