/**
 * CME ESH4 market-by-order (Databento fixture): rebuild the book from A/C/M/R.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayFile } from '../../engine/src/replay/index.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { MboEvent, Trade } from '../../engine/src/core/events.js';
import { MboBook } from '../../engine/src/book/mbo.js';
import { MboIcebergDetector } from '../../engine/src/book/iceberg.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = process.env.TAPEFLOW_DATA ?? path.resolve(ROOT, '../shared/data');

describe('CME MBO book', () => {
  it('has no dangling references and no crossed state after 23:00 UTC', async () => {
    const registry = new InstrumentRegistry();
    const trades: Trade[] = [];
    const book = new MboBook({ onTrade: (t) => trades.push(t) });
    const ice = new MboIcebergDetector();
    let snapshotTotal = -1;
    let lastEv: MboEvent | undefined;
    await replayFile(path.join(DATA, 'cme/esh4_20231225_mbo.csv.gz'), (ev) => {
      if (ev.type !== 'mbo') return;
      // the initial snapshot rows carry F_SNAPSHOT (0x20); measure the book once it is loaded
      if (snapshotTotal < 0 && lastEv && (lastEv.flags & 0x20) && !(ev.flags & 0x20)) snapshotTotal = book.orderCount;
      ice.onEvent(ev);
      book.apply(ev);
      lastEv = ev;
    }, { registry, strict: true });

    const s = book.stats;
    expect(book.instrument).toBe('CME:ESH4');
    expect(snapshotTotal).toBe(8725);
    expect(s.dangling).toBe(0);
    expect(s.duplicateAdds).toBe(0);
    expect(s.events).toBe(68792);
    expect(s.trades).toBe(2973);
    expect(trades).toHaveLength(2973);
    // the book is crossed only in the pre-open (22:39:55 → 23:00:00 UTC), which CME allows
    const open = Date.UTC(2023, 11, 25, 23, 0, 0);
    expect(s.crossedStates).toBeGreaterThan(0);
    expect(s.firstCrossedTs).toBeGreaterThanOrEqual(Date.UTC(2023, 11, 25, 22, 39, 55));
    expect(s.lastCrossedTs).toBeLessThanOrEqual(open);
    expect(book.crossedTimes.every((t) => t <= open)).toBe(true);
    expect(book.book.isCrossed()).toBe(false);
    expect(book.book.bestAsk() - book.book.bestBid()).toBe(1);
    // the opening cross prints with no aggressor side; continuous trading after it has one
    const afterOpen = trades.filter((t) => t.ts > open + 1000);
    expect(afterOpen.length).toBeGreaterThan(2000);
    expect(afterOpen.every((t) => t.side !== 'unknown' && t.sideSource === 'flag')).toBe(true);
    // the aggregated L2 view equals the sum of resting orders
    let bidTotal = 0;
    for (const o of book.orders.values()) if (o.side === 'bid') bidTotal += o.size;
    expect(book.book.totalSize('bid')).toBe(bidTotal);
    // exact (order-id) icebergs: each one executed beyond its displayed size or was replenished
    expect(ice.detected.length).toBe(13);
    for (const d of ice.detected) {
      expect(d.exact).toBe(true);
      expect(d.executed > d.displayedMax || d.refills > 0).toBe(true);
      expect(d.confirmedAt).toBeGreaterThan(open);
    }
  }, 60_000);
});
