import { describe, expect, it } from 'vitest';
import { OrderBook } from '../../engine/src/book/order-book.js';
import { findWalls, imbalance, levelWeight, midTicks, spreadTicks, weightedImbalance } from '../../engine/src/book/analytics.js';
import { LevelFlowTracker, type LevelFlowBar } from '../../engine/src/book/level-flow.js';
import { DepthHistory } from '../../engine/src/book/depth-history.js';
import { IcebergDetector, icebergConfidence, type Iceberg } from '../../engine/src/book/iceberg.js';
import { InstitutionalTracker } from '../../engine/src/book/institutional.js';
import type { Side, Trade } from '../../engine/src/core/events.js';

const trade = (ts: number, price: number, size: number, side: Side): Trade => ({ type: 'trade', instrument: 'X', ts, id: ts, price, size, side, sideSource: 'flag' });

describe('imbalance, spread, mid', () => {
  const b = new OrderBook();
  b.applySnapshot({ bids: [[100, 10], [99, 5], [98, 1]], asks: [[102, 5], [103, 15]] });
  it('plain imbalance over the top N levels', () => {
    expect(imbalance(b, 1)).toBeCloseTo(1 / 3, 12);
    expect(imbalance(b, 2)).toBeCloseTo((15 - 20) / 35, 12);
    expect(Number.isNaN(imbalance(new OrderBook(), 5))).toBe(true);
  });
  it('distance-weighted imbalance: block halving and exponential decay', () => {
    expect(levelWeight(0)).toBe(1);
    expect(levelWeight(9)).toBe(1);
    expect(levelWeight(10)).toBe(0.5);
    expect(levelWeight(25)).toBe(0.25);
    expect(levelWeight(4, { mode: 'exp', halfLife: 2 })).toBe(0.25);
    // K = 1: weights 1, 1/2, 1/4
    const bid = 10 + 2.5 + 0.25;
    const ask = 5 + 7.5;
    expect(weightedImbalance(b, 3, { mode: 'block', blockLevels: 1 })).toBeCloseTo((bid - ask) / (bid + ask), 12);
  });
  it('spread and mid in ticks', () => {
    expect(spreadTicks(b)).toBe(2);
    expect(midTicks(b)).toBe(101);
  });
});

describe('walls and thin levels', () => {
  it('finds levels >= k x median and <= x x median within the top M', () => {
    const b = new OrderBook();
    const bids: [number, number][] = [];
    for (let i = 0; i < 60; i++) bids.push([1000 - i, 10]);
    bids[3] = [997, 60];   // wall: 6x
    bids[7] = [993, 2];    // thin: 0.2x
    bids[55] = [945, 500]; // beyond M = 50: ignored
    b.applySnapshot({ bids, asks: [[1001, 10], [1002, 10], [1003, 49], [1004, 50], [1005, 10]] });
    const r = findWalls(b);
    expect(r.medianBid).toBe(10);
    expect(r.walls).toEqual([
      { side: 'bid', price: 997, size: 60, index: 3, ratio: 6 },
      { side: 'ask', price: 1004, size: 50, index: 3, ratio: 5 },
    ]);
    expect(r.thin).toEqual([{ side: 'bid', price: 993, size: 2, index: 7, ratio: 0.2 }]);
    expect(findWalls(b, { m: 60 }).walls.map((w) => w.price)).toContain(945);
  });
});

describe('LevelFlowTracker: pulled vs consumed vs added', () => {
  it('attributes a constructed sequence', () => {
    const f = new LevelFlowTracker();
    f.onLevel('bid', 100, 10, 0, 0);        // +10 added
    f.onTrade(trade(10, 100, 3, 'sell'));   // 3 consumed
    f.onLevel('bid', 100, 5, 10, 20);       // Δ −5, traded 3 → 2 pulled
    f.onLevel('bid', 100, 8, 5, 30);        // +3 added
    f.onLevel('bid', 100, 0, 8, 40);        // 8 pulled (no trade)
    expect(f.flowAt('bid', 100)).toEqual({ side: 'bid', price: 100, added: 13, pulled: 10, consumed: 3 });
    expect(f.totals('bid')).toEqual({ added: 13, pulled: 10, consumed: 3 });
    expect(f.totals('ask')).toEqual({ added: 0, pulled: 0, consumed: 0 });
  });

  it('a refill at unchanged displayed size counts as consumed + added, not as nothing', () => {
    const f = new LevelFlowTracker();
    f.onTrade(trade(0, 101, 10, 'buy'));
    f.onLevel('ask', 101, 10, 10, 5);
    expect(f.flowAt('ask', 101)).toMatchObject({ added: 10, pulled: 0, consumed: 10 });
  });

  it('re-labels a pull as consumption when the trade prints just after the depth update', () => {
    const f = new LevelFlowTracker({ graceMs: 100 });
    f.onLevel('ask', 101, 6, 10, 1000);     // looks like a 4-lot pull
    f.onTrade(trade(1050, 101, 4, 'buy'));  // the trade arrives 50 ms later
    expect(f.flowAt('ask', 101)).toMatchObject({ pulled: 0, consumed: 4 });
    f.onLevel('ask', 101, 3, 6, 2000);      // a real pull of 3
    f.onTrade(trade(2500, 101, 1, 'buy'));  // outside the grace window: stays pending
    f.onLevel('ask', 101, 2, 3, 2600);
    expect(f.flowAt('ask', 101)).toMatchObject({ pulled: 3, consumed: 5, added: 0 });
  });

  it('rolls bars by event time', () => {
    const bars: LevelFlowBar[] = [];
    const f = new LevelFlowTracker({ barMs: 1000, onBar: (b) => bars.push(b) });
    f.onLevel('bid', 100, 5, 0, 100);
    f.onLevel('bid', 100, 2, 5, 900);
    f.onLevel('bid', 100, 4, 2, 1100);
    expect(bars).toHaveLength(1);
    expect(bars[0]).toMatchObject({ start: 0, end: 1000, bid: { added: 5, pulled: 3, consumed: 0 } });
    expect(bars[0]!.levels).toEqual([{ side: 'bid', price: 100, added: 5, pulled: 3, consumed: 0 }]);
    expect(f.totals('bid')).toEqual({ added: 2, pulled: 0, consumed: 0 });
  });
});

describe('DepthHistory order runs', () => {
  it('coalesces size changes under 15 % and splits on larger ones', () => {
    const h = new DepthHistory();
    h.onLevel('bid', 100, 10, 0);
    h.onLevel('bid', 100, 11, 100);  // 10 % → coalesced
    h.onLevel('bid', 100, 20, 200);  // new run
    h.onLevel('bid', 100, 0, 300);   // closes
    h.onLevel('ask', 105, 7, 250);
    const runs = h.runs();
    expect(runs).toEqual([
      { price: 100, side: 'bid', startTs: 0, endTs: 200, size: 10.5, maxSize: 11, open: false },
      { price: 100, side: 'bid', startTs: 200, endTs: 300, size: 20, maxSize: 20, open: false },
      { price: 105, side: 'ask', startTs: 250, endTs: 300, size: 7, maxSize: 7, open: true },
    ]);
    expect(h.bar(0, 150).map((r) => [r.startTs, r.endTs])).toEqual([[0, 150]]);
  });

  it('prunes by time window and by distance from the mid', () => {
    const h = new DepthHistory({ windowMs: 1000, rangeTicks: 10, pruneEveryMs: 0 });
    h.setMid(100);
    h.onLevel('bid', 95, 5, 0);
    h.onLevel('bid', 95, 0, 10);      // closed at 10
    h.onLevel('bid', 50, 5, 20);      // outside ±10: not recorded
    h.onLevel('ask', 108, 3, 30);
    expect(h.closedRunCount).toBe(1);
    expect(h.openRunCount).toBe(1);
    h.onLevel('ask', 109, 3, 2000);   // prune: the run ending at 10 is older than the window
    expect(h.closedRunCount).toBe(0);
    h.setMid(130);                    // 108 and 109 are now out of range
    h.prune(2100);
    expect(h.openRunCount).toBe(0);
    expect(h.closedRunCount).toBe(0);
  });
});

describe('IcebergDetector (L2 + trades)', () => {
  function setup() {
    const book = new OrderBook();
    book.applySnapshot({ bids: [[100, 5]], asks: [[101, 10], [102, 8]] });
    const found: Iceberg[] = [];
    const det = new IcebergDetector(book, { onDetect: (i) => found.push(i) });
    const level = (price: number, size: number, ts: number) => {
      const prev = book.applyLevel('ask', price, size);
      det.onLevel('ask', price, size, prev, ts);
    };
    return { book, det, found, level };
  }

  it('detects >= 3 refills to a similar size, each within 500 ms of the consumption, executed >= 3 × displayed', () => {
    const { det, found, level } = setup();
    det.onTrade(trade(1000, 101, 10, 'buy'));
    level(101, 10, 1010);               // shown again at the same size: refill 1
    det.onTrade(trade(1500, 101, 10, 'buy'));
    level(101, 10, 1510);               // refill 2
    det.onTrade(trade(2000, 101, 6, 'buy'));
    det.onTrade(trade(2001, 101, 4, 'buy'));
    expect(found).toHaveLength(0);      // executed 30 = 3 × 10 and confidence 1, but only 2 refills
    level(101, 0, 2002);                // emptied by trades
    level(101, 9, 2200);                // refill 3 (within 20 % of 10, 198 ms after the consumption)
    expect(found).toHaveLength(1);
    const ice = found[0]!;
    expect(ice).toMatchObject({ price: 101, side: 'ask', firstSeenAt: 1000, executed: 30, displayedMax: 10, refills: 3, exact: false });
    expect(ice.confirmedAt).toBe(2200);
    expect(ice.confidence).toBe(1);
    expect(ice.evidence.map((e) => e.kind)).toEqual(['display', 'trade', 'refill', 'trade', 'refill', 'trade', 'trade', 'refill']);
    expect(icebergConfidence(20, 10, 2)).toBeCloseTo(0.875, 12);
    // one detection per episode: more refills do not report it again
    det.onTrade(trade(2500, 101, 9, 'buy'));
    level(101, 10, 2510);
    expect(found).toHaveLength(1);
    expect(det.get('ask', 101)!.refills).toBe(4);
  });

  it('needs executed >= 3 × the largest displayed size, and a refill within 500 ms', () => {
    const { det, found, level } = setup();
    for (let i = 0; i < 4; i++) { det.onTrade(trade(1000 + i * 1000, 101, 10, 'buy')); level(101, 10, 1010 + i * 1000); }
    expect(det.get('ask', 101)!.refills).toBe(4);
    expect(found).toHaveLength(1);      // 40 executed vs 10 shown
    const b = setup();
    b.level(101, 30, 500);              // displayed 30
    for (let i = 0; i < 3; i++) { b.det.onTrade(trade(1000 + i * 1000, 101, 25, 'buy')); b.level(101, 30, 1010 + i * 1000); }
    expect(b.det.get('ask', 101)).toMatchObject({ refills: 3, executed: 75, displayedMax: 30 });
    expect(b.found).toHaveLength(0);    // 75 < 3 × 30
    b.det.onTrade(trade(4000, 101, 25, 'buy'));
    b.level(101, 30, 4010);
    expect(b.found).toHaveLength(1);    // 100 >= 90
    expect(b.found[0]!.confirmedAt).toBe(4000); // the trade that took executed past 3 × displayed (refills already 3)
    const c = setup();
    c.det.onTrade(trade(1000, 101, 10, 'buy'));
    c.level(101, 0, 1001);
    c.level(101, 10, 1700);             // 699 ms after the consumption: late
    expect(c.det.get('ask', 101)!.refills).toBe(0);
  });

  it('control: a level simply traded through, partly traded, or refilled late is not an iceberg', () => {
    const { det, found, level } = setup();
    det.onTrade(trade(1000, 101, 10, 'buy'));
    level(101, 0, 1010);                // consumed, never refilled
    det.onTrade(trade(1100, 102, 3, 'buy')); // traded through 101: that candidate ends
    expect(det.get('ask', 101)).toBeUndefined();
    level(102, 5, 1110);                // partial consumption
    level(102, 16, 1200);               // someone joins: size not similar → display
    level(101, 10, 9000);               // late re-appearance (no candidate any more)
    expect(found).toHaveLength(0);
    expect(det.get('ask', 102)!.refills).toBe(0);
    expect(det.get('ask', 102)!.confidence).toBe(0);
  });

  it('a pull (decrease without trades) ends the episode', () => {
    const { det, found, level } = setup();
    det.onTrade(trade(1000, 101, 10, 'buy'));
    level(101, 10, 1010);
    expect(det.get('ask', 101)!.refills).toBe(1);
    level(101, 2, 1100);
    expect(det.get('ask', 101)).toBeUndefined();
    expect(found).toHaveLength(0);
  });
});

describe('InstitutionalTracker', () => {
  it('traded volume per average displayed size per minute of existence', () => {
    const t = new InstitutionalTracker();
    t.onLevel('ask', 101, 10, 0, 0);
    t.onTrade(trade(30_000, 101, 20, 'buy'));
    t.onLevel('ask', 101, 30, 10, 30_000);
    const s = t.stats('ask', 101, 60_000)!;
    expect(s.area).toBe(10 * 30_000 + 30 * 30_000);
    expect(s.lifetimeMs).toBe(60_000);
    expect(s.avgDisplayed).toBe(20);
    expect(s.turnover).toBe(1);
    expect(s.ratio).toBe(1);
    expect(t.top(5, 60_000).map((x) => x.price)).toEqual([101]);
  });
});
