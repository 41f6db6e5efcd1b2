/**
 * Imbalance flags on charts come from the server (computed exactly on lots with the engine's options),
 * not from float arithmetic in the renderer: at an exact 3:1 ratio of 0.3 vs 0.1 BTC the float
 * comparison 0.3 >= 3 × 0.1 is false, while 300 lots >= 3 × 100 lots is true.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../engine/src/analytics/engine.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { newTrade } from '../../engine/src/core/events.js';
import { HistoryService } from '../../datafeed-adapter/src/service/history.js';
import { fromApiBar, fromWireFootprint, prepareBar } from '../../indicators/render/prepare.js';

describe('imbalance flags taken from the server', () => {
  it('an exact 3:1 diagonal ratio is flagged by the server and drawn as flagged', () => {
    const e = new Engine(new InstrumentRegistry());
    const s = new HistoryService(e);
    const inst = e.registry.get('BTCUSDT');
    const row = inst.footprintRowTicks;
    const t0 = Date.UTC(2024, 7, 8, 10, 0, 0);
    const t = newTrade('BTCUSDT');
    // sell 0.1 BTC one row below, buy 0.3 BTC at the row: ask(p) = 3 × bid(p − 1) exactly
    Object.assign(t, { ts: t0, id: 1, price: 600000 - row, size: 100, side: 'sell', sideSource: 'flag' }); e.onEvent(t);
    Object.assign(t, { ts: t0 + 1, id: 2, price: 600000, size: 300, side: 'buy', sideSource: 'flag' }); e.onEvent(t);
    const fp = s.footprint('BTCUSDT', { agg: 'time', resolution: '1', from: t0 - 60_000, to: t0 + 60_000, countback: 0, rows: true }) as { bars: Record<string, any>[] };
    const bar = fp.bars[0];
    const top = bar.rows.find((r: any) => r.ask === 0.3);
    expect(top.imbalance & 1).toBe(1);
    expect(0.3 >= 3 * 0.1).toBe(false); // why recomputing with floats misses it
    const p = prepareBar(fromApiBar(bar));
    expect(p.imb[p.n - 1] & 1).toBe(1);
    // without the server's flags the renderer's own float comparison misses this one
    const stripped = prepareBar(fromApiBar({ ...bar, rows: bar.rows.map(({ imbalance, ...r }: any) => r) }));
    expect(stripped.imb[stripped.n - 1] & 1).toBe(0);
    // the WS wire rows carry the same flags as a 4th element
    const w = fromWireFootprint({ t: bar.time, o: bar.open, h: bar.high, l: bar.low, c: bar.close, v: bar.volume, delta: bar.delta, rowSize: bar.rowSize, poc: null, vah: null, val: null, closed: true, rows: bar.rows.map((r: any) => [r.price, r.bid, r.ask, r.imbalance]) });
    expect(prepareBar(w).imb[p.n - 1] & 1).toBe(1);
  });
});
