import { describe, expect, it } from 'vitest';
import { SnapshotResetSync, createBookSync, MultiBookSync, type ResyncRequest } from '../../engine/src/book/sync.js';
import { BinanceSync } from '../../engine/src/venues/binance/book.js';
import { BybitSync } from '../../engine/src/venues/bybit/book.js';
import { CoinbaseSync } from '../../engine/src/venues/coinbase/book.js';
import '../../engine/src/venues/registry.js';
import type { BookDelta, BookSnapshot, Gap, Level } from '../../engine/src/core/events.js';

const snap = (seq: number, bids: Level[], asks: Level[], instrument = 'X'): BookSnapshot => ({ type: 'book_snapshot', instrument, ts: seq, seq, bids, asks });
const delta = (U: number, u: number, pu: number, bids: Level[], asks: Level[] = [], instrument = 'X'): BookDelta => ({ type: 'book_delta', instrument, ts: u, firstSeq: U, seq: u, prevSeq: pu, bids, asks });

function collect() {
  const gaps: Gap[] = [];
  const resyncs: ResyncRequest[] = [];
  return { gaps, resyncs, opts: { onGap: (g: Gap) => gaps.push(g), onResync: (r: ResyncRequest) => resyncs.push(r) } };
}

describe('BinanceSync futures (USD-M / COIN-M)', () => {
  it('buffers diffs that arrive before the snapshot and applies them from U <= lastUpdateId <= u', () => {
    const c = collect();
    const s = new BinanceSync('futures', c.opts);
    s.onEvent(delta(90, 95, 89, [[100, 1]]));     // u < lastUpdateId: dropped
    s.onEvent(delta(96, 105, 95, [[100, 2]]));    // U <= 100 <= u: first applied
    s.onEvent(delta(106, 110, 105, [[99, 7]], [[102, 4]]));
    expect(s.synced).toBe(false);
    expect(s.bufferedCount).toBe(3);
    expect(s.stats.buffered).toBe(3);
    s.onEvent(snap(100, [[100, 5], [98, 1]], [[101, 3]]));
    expect(s.synced).toBe(true);
    expect(s.stats.staleDropped).toBe(1);
    expect(s.stats.updatesApplied).toBe(2);
    expect(s.book.depth('bid', 5)).toEqual([[100, 2], [99, 7], [98, 1]]);
    expect(s.book.depth('ask', 5)).toEqual([[101, 3], [102, 4]]);
    expect(s.lastSeq).toBe(110);
    expect(c.gaps).toHaveLength(0);
    // live diffs chain on pu
    s.onEvent(delta(111, 120, 110, [[100, 0]]));
    expect(s.book.bestBid()).toBe(99);
    expect(s.stats.gaps).toBe(0);
  });

  it('keeps the diff whose u equals lastUpdateId (futures drop only u < lastUpdateId)', () => {
    const s = new BinanceSync('futures');
    s.onEvent(delta(95, 100, 94, [[100, 9]]));
    s.onEvent(snap(100, [[100, 5]], [[101, 3]]));
    expect(s.stats.updatesApplied).toBe(1);
    expect(s.book.bestBidSize()).toBe(9);
  });

  it('flags a gap when pu != previous u, requests a resync and resyncs on the next snapshot', () => {
    const c = collect();
    const s = new BinanceSync('futures', c.opts);
    s.onEvent(snap(100, [[100, 5]], [[101, 3]], 'BTCUSDT'));
    s.onEvent(delta(99, 105, 98, [[100, 6]], [], 'BTCUSDT'));
    s.onEvent(delta(112, 115, 110, [[100, 7]], [], 'BTCUSDT')); // 106..110 missing
    expect(c.gaps).toHaveLength(1);
    expect(c.gaps[0]).toMatchObject({ type: 'gap', instrument: 'BTCUSDT', from: 106, to: 110 });
    expect(c.resyncs).toHaveLength(1);
    expect(c.resyncs[0]!.venue).toBe('binance-usdm');
    expect(s.synced).toBe(false);
    s.onEvent(delta(116, 118, 115, [[99, 1]], [], 'BTCUSDT')); // buffered
    expect(s.book.sizeAt('bid', 99)).toBe(0);
    // a new snapshot at 116: the 112..115 diff is stale, 116..118 applies
    s.onEvent(snap(116, [[100, 8]], [[101, 3]], 'BTCUSDT'));
    expect(s.synced).toBe(true);
    expect(s.stats.resyncs).toBe(1);
    expect(s.book.depth('bid', 5)).toEqual([[100, 8], [99, 1]]);
    expect(s.lastSeq).toBe(118);
  });

  it('drops duplicate and out-of-order diffs without a gap', () => {
    const s = new BinanceSync('futures');
    s.onEvent(snap(100, [[100, 5]], [[101, 3]]));
    s.onEvent(delta(99, 105, 98, [[100, 6]]));
    s.onEvent(delta(106, 110, 105, [[100, 7]]));
    s.onEvent(delta(106, 110, 105, [[100, 1]])); // duplicate
    s.onEvent(delta(99, 105, 98, [[100, 2]]));   // late / out of order
    expect(s.stats.duplicates).toBe(2);
    expect(s.stats.gaps).toBe(0);
    expect(s.book.bestBidSize()).toBe(7);
  });

  it('flags a gap when the first diff after the snapshot starts after lastUpdateId', () => {
    const c = collect();
    const s = new BinanceSync('futures', c.opts);
    s.onEvent(delta(105, 110, 104, [[100, 1]]));
    s.onEvent(snap(100, [[100, 5]], [[101, 3]]));
    expect(c.gaps).toHaveLength(1);
    expect(c.gaps[0]).toMatchObject({ from: 100, to: 104 });
    expect(s.synced).toBe(false);
  });
});

describe('BinanceSync spot', () => {
  it('applies the first diff with U <= lastUpdateId+1 <= u, then requires U == previous u + 1', () => {
    const c = collect();
    const s = new BinanceSync('spot', c.opts);
    s.onEvent(delta(95, 100, NaN, [[100, 1]])); // u <= lastUpdateId: dropped
    s.onEvent(delta(101, 104, NaN, [[100, 2]]));
    s.onEvent(snap(100, [[100, 5]], [[101, 3]]));
    expect(s.stats.staleDropped).toBe(1);
    expect(s.book.bestBidSize()).toBe(2);
    s.onEvent(delta(105, 107, NaN, [[100, 3]]));
    expect(s.book.bestBidSize()).toBe(3);
    s.onEvent(delta(104, 107, NaN, [[100, 9]])); // duplicate
    expect(s.stats.duplicates).toBe(1);
    s.onEvent(delta(109, 110, NaN, [[100, 4]])); // 108 missing
    expect(c.gaps).toHaveLength(1);
    expect(c.gaps[0]).toMatchObject({ from: 108, to: 108 });
    expect(s.book.bestBidSize()).toBe(3);
  });
});

describe('uncross rule', () => {
  it('removes stale asks crossed by a fresh bid and counts it', () => {
    const s = new BinanceSync('futures');
    s.onEvent(snap(100, [[100, 5]], [[101, 3], [102, 4], [103, 1]]));
    s.onEvent(delta(100, 101, 99, [[102, 2]])); // bid at 102 crosses asks 101 and 102
    expect(s.stats.crossed).toBe(1);
    expect(s.stats.crossedLevelsRemoved).toBe(2);
    expect(s.book.isCrossed()).toBe(false);
    expect(s.book.bestBid()).toBe(102);
    expect(s.book.bestAsk()).toBe(103);
  });

  it('removes stale bids crossed by a fresh ask', () => {
    const s = new BybitSync();
    s.onEvent(snap(10, [[100, 5], [99, 1]], [[101, 3]]));
    s.onEvent(delta(11, 11, NaN, [], [[99, 2]]));
    expect(Number.isNaN(s.book.bestBid())).toBe(true);
    expect(s.book.depth('bid', 5)).toEqual([]);
    expect(s.book.bestAsk()).toBe(99);
    expect(s.stats.crossed).toBe(1);
    expect(s.stats.crossedLevelsRemoved).toBe(2);
  });

  it('does not count a diff that moves the touch consistently (ask consumed, new bid at that price)', () => {
    const s = new BinanceSync('futures');
    s.onEvent(snap(100, [[100, 5]], [[101, 3], [102, 4]]));
    s.onEvent(delta(100, 101, 99, [[101, 1]], [[101, 0]]));
    expect(s.stats.crossed).toBe(0);
    expect(s.book.bestBid()).toBe(101);
    expect(s.book.bestAsk()).toBe(102);
  });
});

describe('BybitSync', () => {
  it('resets on snapshots, applies contiguous u, drops duplicates, flags gaps and waits for a snapshot', () => {
    const c = collect();
    const s = new BybitSync(c.opts);
    s.onEvent(delta(5, 5, NaN, [[1, 1]]));   // before any snapshot
    expect(s.stats.staleDropped).toBe(1);
    s.onEvent(snap(10, [[100, 5]], [[101, 3]]));
    s.onEvent(delta(11, 11, NaN, [[100, 6]]));
    s.onEvent(delta(11, 11, NaN, [[100, 1]])); // duplicate
    s.onEvent(delta(9, 9, NaN, [[100, 1]]));   // out of order
    expect(s.stats.duplicates).toBe(2);
    expect(s.book.bestBidSize()).toBe(6);
    s.onEvent(delta(13, 13, NaN, [[100, 7]])); // 12 missing
    expect(c.gaps[0]).toMatchObject({ from: 12, to: 12 });
    expect(c.resyncs).toHaveLength(1);
    s.onEvent(delta(14, 14, NaN, [[100, 8]]));
    expect(s.book.bestBidSize()).toBe(6);
    s.onEvent(snap(20, [[100, 9]], [[101, 1]]));
    expect(s.synced).toBe(true);
    expect(s.stats.resyncs).toBe(1);
    s.onEvent(delta(21, 21, NaN, [[99, 2]]));
    expect(s.book.depth('bid', 3)).toEqual([[100, 9], [99, 2]]);
  });

  it('treats a u=1 snapshot as a service restart and resets', () => {
    const s = new BybitSync();
    s.onEvent(snap(500, [[100, 5], [99, 2]], [[101, 3]]));
    s.onEvent(delta(501, 501, NaN, [[98, 1]]));
    s.onEvent(snap(1, [[90, 1]], [[91, 1]]));
    expect(s.stats.restarts).toBe(1);
    expect(s.book.depth('bid', 5)).toEqual([[90, 1]]);
    s.onEvent(delta(2, 2, NaN, [[89, 4]]));
    expect(s.stats.gaps).toBe(0);
    expect(s.book.levelCount('bid')).toBe(2);
  });
});

describe('CoinbaseSync', () => {
  it('accepts unsequenced l2updates in order', () => {
    const s = new CoinbaseSync();
    s.onEvent(snap(NaN, [[100, 5]], [[101, 3]]));
    s.onEvent(delta(NaN, NaN, NaN, [[100, 6]]));
    s.onEvent(delta(NaN, NaN, NaN, [], [[101, 0], [102, 2]]));
    expect(s.stats.gaps).toBe(0);
    expect(s.stats.updatesApplied).toBe(2);
    expect(s.book.bestAsk()).toBe(102);
  });

  it('requires sequence + 1, drops duplicates and flags gaps', () => {
    const c = collect();
    const s = new CoinbaseSync(c.opts);
    s.onEvent(snap(50, [[100, 5]], [[101, 3]]));
    s.onEvent(delta(51, 51, NaN, [[100, 6]]));
    s.onEvent(delta(51, 51, NaN, [[100, 1]]));
    expect(s.stats.duplicates).toBe(1);
    s.onEvent(delta(54, 54, NaN, [[100, 1]]));
    expect(c.gaps[0]).toMatchObject({ from: 52, to: 53 });
    expect(s.book.bestBidSize()).toBe(6);
    expect(s.synced).toBe(false);
  });
});

describe('SnapshotResetSync and routing', () => {
  it('legacy Bybit v2: each snapshot resets, deltas apply in order', () => {
    const s = createBookSync('bybit-v2');
    expect(s).toBeInstanceOf(SnapshotResetSync);
    s.onEvent(snap(0, [[100, 5]], [[101, 3]]));
    s.onEvent(delta(0, 0, NaN, [[99, 1]], [[101, 0], [103, 2]]));
    s.onEvent(snap(0, [[200, 1]], [[201, 1]]));
    expect(s.book.toLevels()).toEqual({ bids: [[200, 1]], asks: [[201, 1]] });
    expect(s.stats.snapshots).toBe(2);
  });

  it('routes events per instrument', () => {
    const m = new MultiBookSync(() => createBookSync('bybit'));
    m.onEvent(snap(1, [[10, 1]], [[11, 1]], 'A'));
    m.onEvent(snap(1, [[20, 1]], [[21, 1]], 'B'));
    m.onEvent(delta(2, 2, NaN, [[10, 5]], [], 'A'));
    expect(m.get('A')!.book.bestBidSize()).toBe(5);
    expect(m.get('B')!.book.bestBidSize()).toBe(1);
    expect(m.instruments().sort()).toEqual(['A', 'B']);
    expect(() => createBookSync('nowhere')).toThrow(/no book synchronizer/);
  });

  it('reports applied level changes through onLevel with the previous size', () => {
    const seen: [string, number, number, number][] = [];
    const s = new BybitSync({ onLevel: (side, p, z, prev) => seen.push([side, p, z, prev]) });
    s.onEvent(snap(1, [[100, 5]], [[101, 3]]));
    s.onEvent(delta(2, 2, NaN, [[100, 2], [99, 4]], [[101, 0]]));
    expect(seen).toEqual([['bid', 100, 2, 5], ['bid', 99, 4, 0], ['ask', 101, 0, 3]]);
  });
});
