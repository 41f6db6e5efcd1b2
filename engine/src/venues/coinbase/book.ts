/** Coinbase book sequencing rule (registered for venue `coinbase`). */
import type { BookDelta, BookSnapshot } from '../../core/events.js';
import { BookSync, registerBookSync, type BookSyncOptions } from '../../book/sync.js';

/**
 * Coinbase: sequenced messages (Advanced Trade `sequence_num`, Exchange `sequence`) must increase by
 * exactly 1 per message; a message without a sequence (seq NaN or 0: legacy `l2update` in cryptofeed
 * captures) is accepted in arrival order. seq <= last → duplicate; a jump → Gap + resync request,
 * deltas dropped until the next snapshot. A snapshot resets the book; if it carries a sequence the
 * next message must be snapshot.seq + 1.
 * Note: Advanced Trade numbers messages per connection across channels: feed this synchronizer a
 * sequence that counts only the book channel's messages, or disable checking by passing seq NaN.
 */
export class CoinbaseSync extends BookSync {
  readonly venue = 'coinbase';

  snapshot(s: BookSnapshot): boolean {
    return this.resetTo(s, s.seq > 0 ? s.seq : NaN);
  }

  delta(d: BookDelta): boolean {
    if (!this.acceptDelta(d)) return false;
    const seq = d.seq;
    if (!(seq > 0)) {
      // unsequenced message: applied in arrival order, the sequence stays where it was
      const last = this.lastSeq;
      this.applyDelta(d);
      this.lastSeq = last;
      return true;
    }
    if (!Number.isNaN(this.lastSeq) && !this.nextInSequence(d, seq, (e) => `sequence ${seq} != previous+1=${e}`)) return false;
    this.applyDelta(d);
    return true;
  }
}


registerBookSync('coinbase', (opts) => new CoinbaseSync(opts));
