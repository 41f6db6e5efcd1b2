import { describe, expect, it } from 'vitest';
import { OrderBook } from '../../engine/src/book/order-book.js';
import type { Level } from '../../engine/src/core/events.js';

describe('OrderBook', () => {
  it('inserts, updates and deletes levels on both sides', () => {
    const b = new OrderBook();
    expect(Number.isNaN(b.bestBid())).toBe(true);
    expect(b.applyLevel('bid', 100, 5)).toBe(0);
    b.applyLevel('bid', 98, 3);
    b.applyLevel('bid', 99, 4);
    b.applyLevel('ask', 103, 7);
    b.applyLevel('ask', 101, 2);
    b.applyLevel('ask', 102, 9);
    expect(b.bestBid()).toBe(100);
    expect(b.bestAsk()).toBe(101);
    expect(b.bestBidSize()).toBe(5);
    expect(b.bestAskSize()).toBe(2);
    expect(b.depth('bid', 10)).toEqual([[100, 5], [99, 4], [98, 3]]);
    expect(b.depth('ask', 2)).toEqual([[101, 2], [102, 9]]);
    // update returns the previous size
    expect(b.applyLevel('bid', 99, 11)).toBe(4);
    expect(b.sizeAt('bid', 99)).toBe(11);
    // delete the touch and a middle level
    expect(b.applyLevel('bid', 100, 0)).toBe(5);
    expect(b.applyLevel('ask', 102, 0)).toBe(9);
    expect(b.bestBid()).toBe(99);
    expect(b.levelCount('bid')).toBe(2);
    expect(b.depth('ask', 10)).toEqual([[101, 2], [103, 7]]);
    // deleting an absent level is a no-op
    expect(b.applyLevel('ask', 150, 0)).toBe(0);
    expect(b.levelCount('ask')).toBe(2);
    expect(b.spread()).toBe(2);
    expect(b.mid()).toBe(100);
    expect(b.depthIndex('ask', 103)).toBe(1);
    expect(b.depthIndex('ask', 104)).toBe(-1);
  });

  it('loads unsorted snapshots, skips zero sizes and reuses depth output tuples', () => {
    const b = new OrderBook();
    b.applySnapshot({ bids: [[10, 1], [12, 2], [11, 0], [9, 4]], asks: [[15, 3], [13, 1], [14, 2]] });
    expect(b.depth('bid', 5)).toEqual([[12, 2], [10, 1], [9, 4]]);
    expect(b.depth('ask', 5)).toEqual([[13, 1], [14, 2], [15, 3]]);
    const out: Level[] = [];
    const first = b.depth('ask', 3, out);
    const tuple = first[0];
    b.applyLevel('ask', 13, 8);
    const again = b.depth('ask', 3, out);
    expect(again[0]).toBe(tuple);
    expect(again[0]).toEqual([13, 8]);
    expect(b.totalSize('bid', 2)).toBe(3);
  });

  it('keeps large books sorted under random updates (against a reference Map)', () => {
    const b = new OrderBook({ initialCapacity: 4 });
    const ref = new Map<number, number>();
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 20000; i++) {
      const p = 1000 + Math.floor(rnd() * 500);
      const z = rnd() < 0.3 ? 0 : 1 + Math.floor(rnd() * 50);
      b.applyLevel('bid', p, z);
      if (z > 0) ref.set(p, z); else ref.delete(p);
    }
    const expected = [...ref.entries()].sort((a, c) => c[0] - a[0]);
    expect(b.depth('bid', Infinity)).toEqual(expected);
    expect(b.bestBid()).toBe(expected[0]![0]);
  });

  it('detects crossed and locked books', () => {
    const b = new OrderBook();
    b.applyLevel('bid', 100, 1);
    b.applyLevel('ask', 101, 1);
    expect(b.isCrossed()).toBe(false);
    b.applyLevel('bid', 101, 1);
    expect(b.isCrossed()).toBe(true);
    b.removeBest('bid');
    expect(b.isCrossed()).toBe(false);
    expect(b.bestBid()).toBe(100);
  });

  it('bounds memory by dropping the levels farthest from the touch', () => {
    const b = new OrderBook({ maxLevels: 100 });
    for (let p = 1; p <= 1000; p++) b.applyLevel('ask', p, 1);
    expect(b.levelCount('ask')).toBeLessThanOrEqual(108);
    expect(b.bestAsk()).toBe(1);
    expect(b.trimmed).toBeGreaterThan(890);
  });
});
