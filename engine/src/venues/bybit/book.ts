/** Bybit book sequencing rule (registered for venue `bybit`, linear and spot). */
import type { BookDelta, BookSnapshot } from '../../core/events.js';
import { BookSync, registerBookSync, type BookSyncOptions } from '../../book/sync.js';

/**
 * Bybit v5 orderbook.N: every snapshot resets the book (u=1 in a snapshot = service restart, counted
 * in `restarts`); each delta's u (BookDelta.seq) must be previous u + 1. u <= last → duplicate /
 * out-of-order, dropped. u > last + 1 → Gap + resync request; deltas are dropped (staleDropped) until
 * the venue pushes the next snapshot (resubscribe).
 */
export class BybitSync extends BookSync {
  readonly venue = 'bybit';

  snapshot(s: BookSnapshot): boolean {
    if (s.seq === 1 && this.stats.snapshots > 0) this.stats.restarts++;
    return this.resetTo(s, s.seq);
  }

  delta(d: BookDelta): boolean {
    if (!this.acceptDelta(d) || !this.nextInSequence(d, d.seq, (e) => `u=${d.seq} != previous u+1=${e}`)) return false;
    this.applyDelta(d);
    return true;
  }
}


registerBookSync('bybit', (opts) => new BybitSync(opts));
