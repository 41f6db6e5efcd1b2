import { describe, expect, it } from 'vitest';
import { MboBook, MBO_F_LAST } from '../../engine/src/book/mbo.js';
import { MboIcebergDetector, type Iceberg } from '../../engine/src/book/iceberg.js';
import type { MboAction, MboEvent, Side, Trade } from '../../engine/src/core/events.js';

let seq = 0;
const ev = (action: MboAction, side: Side, price: number, size: number, orderId: string, ts = 1000, flags = MBO_F_LAST): MboEvent =>
  ({ type: 'mbo', instrument: 'ESH4', ts, action, side, price, size, orderId, seq: ++seq, flags });

describe('MboBook', () => {
  it('add / modify / cancel build the aggregated L2 view', () => {
    const m = new MboBook();
    m.apply(ev('A', 'buy', 100, 5, 'a'));
    m.apply(ev('A', 'buy', 100, 3, 'b'));
    m.apply(ev('A', 'buy', 99, 2, 'c'));
    m.apply(ev('A', 'sell', 102, 4, 'd'));
    expect(m.book.depth('bid', 5)).toEqual([[100, 8], [99, 2]]);
    expect(m.book.bestAsk()).toBe(102);
    // modify size at same price
    m.apply(ev('M', 'buy', 100, 1, 'a'));
    expect(m.book.sizeAt('bid', 100)).toBe(4);
    // modify price moves the order
    m.apply(ev('M', 'sell', 101, 4, 'd'));
    expect(m.book.depth('ask', 5)).toEqual([[101, 4]]);
    // partial cancel, then full cancel
    m.apply(ev('C', 'buy', 100, 2, 'b'));
    expect(m.book.sizeAt('bid', 100)).toBe(2);
    expect(m.getOrder('b')!.size).toBe(1);
    m.apply(ev('C', 'buy', 100, 1, 'b'));
    expect(m.getOrder('b')).toBeUndefined();
    m.apply(ev('C', 'buy', 100, 1, 'a'));
    expect(m.book.bestBid()).toBe(99);
    expect(m.orderCount).toBe(2);
    expect(m.stats.dangling).toBe(0);
  });

  it('fills and trades do not change the book; T yields a Trade with the aggressor side', () => {
    const trades: Trade[] = [];
    const m = new MboBook({ onTrade: (t) => trades.push(t) });
    m.apply(ev('A', 'sell', 101, 10, 'x'));
    m.apply(ev('A', 'buy', 100, 7, 'y'));
    const t = m.apply(ev('T', 'buy', 101, 4, '', 2000, 0));
    m.apply(ev('F', 'sell', 101, 4, 'x', 2000, 0));
    expect(m.book.sizeAt('ask', 101)).toBe(10);
    expect(t).toMatchObject({ type: 'trade', price: 101, size: 4, side: 'buy', sideSource: 'flag', ts: 2000 });
    expect(trades).toHaveLength(1);
    const n = m.apply(ev('T', 'unknown', 101, 1, '', 2001, 0));
    expect(n!.sideSource).toBe('none');
    // the venue then shrinks the order with a modify
    m.apply(ev('M', 'sell', 101, 6, 'x', 2002));
    expect(m.book.sizeAt('ask', 101)).toBe(6);
    expect(m.stats.fills).toBe(1);
    expect(m.stats.trades).toBe(2);
  });

  it('R clears the book; cancel/modify of unknown ids count as dangling', () => {
    const m = new MboBook();
    m.apply(ev('A', 'buy', 100, 5, 'a'));
    m.apply(ev('R', 'unknown', 0, 0, ''));
    expect(m.book.empty).toBe(true);
    expect(m.orderCount).toBe(0);
    m.apply(ev('C', 'buy', 100, 5, 'a'));
    m.apply(ev('M', 'buy', 100, 3, 'zz'));
    expect(m.stats.dangling).toBe(2);
    expect(m.book.sizeAt('bid', 100)).toBe(3); // modify of an unknown id is treated as an add
  });

  it('records crossed states only at end-of-event boundaries, with timestamps', () => {
    const m = new MboBook();
    m.apply(ev('A', 'sell', 100, 5, 's', 1000));
    m.apply(ev('A', 'buy', 101, 5, 'b', 1000, 0)); // crossed inside the packet
    m.apply(ev('C', 'buy', 101, 5, 'b', 1000));    // packet end: uncrossed
    expect(m.stats.crossedStates).toBe(0);
    m.apply(ev('A', 'buy', 100, 2, 'c', 5000));    // locked at packet end
    expect(m.stats.crossedStates).toBe(1);
    expect(m.stats.lastCrossedTs).toBe(5000);
    expect(m.crossedTimes).toEqual([5000]);
  });
});

describe('MboIcebergDetector (exact, order ids)', () => {
  it('detects an order executing beyond its displayed size and its replenishment', () => {
    const found: Iceberg[] = [];
    const d = new MboIcebergDetector({ onDetect: (i) => found.push(i) });
    d.onEvent(ev('A', 'sell', 101, 10, 'ice', 1000));
    d.onEvent(ev('F', 'sell', 101, 10, 'ice', 1100));
    d.onEvent(ev('M', 'sell', 101, 10, 'ice', 1100)); // refreshed after the tip was filled
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ price: 101, side: 'ask', orderId: 'ice', refills: 1, executed: 10, displayedMax: 10, confidence: 1, exact: true, confirmedAt: 1100 });
    expect(found[0]!.evidence.map((e) => e.kind)).toEqual(['display', 'trade', 'refill']);
  });

  it('an ordinary order filled in pieces is not an iceberg', () => {
    const d = new MboIcebergDetector();
    d.onEvent(ev('A', 'buy', 100, 10, 'o', 1000));
    d.onEvent(ev('F', 'buy', 100, 4, 'o', 1100));
    d.onEvent(ev('M', 'buy', 100, 6, 'o', 1100));
    d.onEvent(ev('F', 'buy', 100, 6, 'o', 1200));
    d.onEvent(ev('C', 'buy', 100, 6, 'o', 1200));
    expect(d.detected).toHaveLength(0);
    expect(d.get('o')!.executed).toBe(10);
  });

  it('a re-add with the same id after a fill is a refill', () => {
    const d = new MboIcebergDetector();
    d.onEvent(ev('A', 'buy', 100, 5, 'r', 1000));
    d.onEvent(ev('F', 'buy', 100, 5, 'r', 1100));
    d.onEvent(ev('C', 'buy', 100, 5, 'r', 1100));
    d.onEvent(ev('A', 'buy', 100, 5, 'r', 1150));
    expect(d.detected).toHaveLength(1);
    expect(d.detected[0]!.refills).toBe(1);
  });
});
