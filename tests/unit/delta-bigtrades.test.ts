import { describe, expect, it } from 'vitest';
import { BigTradeDetector, type BigTrade } from '../../engine/src/analytics/big-trades.js';
import { DeltaDynamicsTracker, CvdTracker } from '../../engine/src/analytics/delta.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { InstrumentPipeline } from '../../engine/src/analytics/pipeline.js';
import { newTrade, type Trade } from '../../engine/src/core/events.js';

const tr = (ts: number, side: Trade['side'], size: number, price = 100): Trade => {
  const t = newTrade('X'); t.ts = ts; t.side = side; t.size = size; t.price = price; t.sideSource = 'flag'; return t;
};

describe('big trades', () => {
  it('merges prints with the same timestamp and side into one order (absolute threshold)', () => {
    const out: BigTrade[] = [];
    const d = new BigTradeDetector({ minSize: 10 }, (b) => out.push(b));
    [tr(1, 'buy', 4, 100), tr(1, 'buy', 4, 101), tr(1, 'buy', 3, 102), tr(1, 'sell', 9), tr(2, 'buy', 2)].forEach((t) => d.onTrade(t));
    d.flush();
    expect(out).toEqual([{ ts: 1, side: 'buy', size: 11, prints: 3, vwapTicks: (400 + 404 + 306) / 11, low: 100, high: 102, threshold: 10 }]);
  });

  it('rolling percentile threshold after warm-up', () => {
    const out: BigTrade[] = [];
    const d = new BigTradeDetector({ percentile: 0.9, window: 100, warmup: 50 }, (b) => out.push(b));
    for (let i = 0; i < 100; i++) d.onTrade(tr(i, 'buy', 1 + (i % 10)));
    d.flush();
    // sizes cycle 1..10; nothing before the warm-up of 50 merged prints; afterwards the 90th percentile
    // (index floor(0.9·n) of the sorted window) is 9 or 10 depending on n, so only 9s and 10s are big
    expect(out.length).toBeGreaterThan(0);
    expect(out.every((b) => b.size >= 9 && b.ts >= 50 && b.size >= b.threshold)).toBe(true);
    expect(out.some((b) => b.size === 10)).toBe(true);
    expect(d.threshold()).toBe(10); // n = 100: index 90 is the first 10
  });
});

describe('delta dynamics', () => {
  it('momentum, acceleration and pressure', () => {
    const d = new DeltaDynamicsTracker();
    const a = d.next(10, 30, 20);
    expect([a.momentum, a.acceleration, a.buyPressurePct, a.sellPressurePct]).toEqual([NaN, NaN, 60, 40]);
    const b = d.next(-5, 10, 15);
    expect([b.momentum, b.acceleration]).toEqual([-15, NaN]);
    const c = d.next(5, 5, 0);
    expect([c.momentum, c.acceleration, c.buyPressurePct]).toEqual([10, 25, 100]);
    expect(d.peek(0, 0, 0).buyPressurePct).toBeNaN();
  });

  it('CVD session reset happens at the first trade of a new session only', () => {
    const c = new CvdTracker('session');
    c.enterSession('2024-01-01'); c.add(5);
    c.enterSession(''); c.add(2); // outside sessions: continues
    expect(c.value).toBe(7);
    c.enterSession('2024-01-02'); c.add(-1);
    expect(c.value).toBe(-1);
  });
});

describe('anchored VWAP', () => {
  it('only trades at or after the anchor enter it', () => {
    const p = new InstrumentPipeline(new InstrumentRegistry().get('BTCUSDT'), { timeframe: '1m' });
    const v = p.anchorVwap(2000);
    [tr(1000, 'buy', 5, 100), tr(2000, 'buy', 1, 110), tr(3000, 'sell', 3, 120)].forEach((t) => { t.instrument = 'BTCUSDT'; p.onEvent(t); });
    expect(v.weight).toBe(4);
    expect(v.value).toBeCloseTo((110 + 360) / 4, 12);
    expect(p.sessionVwap.weight).toBe(9);
  });
});
