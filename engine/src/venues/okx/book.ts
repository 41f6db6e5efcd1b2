/**
 * OKX book sequencing rule (venue `okx`): a snapshot resets the book (its `prevSeqId` is -1); each update's
 * `prevSeqId` must equal the last applied `seqId`. An update with no levels and `seqId == prevSeqId` is
 * OKX's keep-alive (nothing changes). `seqId` may fall after a venue maintenance reset: only the chain
 * counts. A delta the parser marked `invalid` (checksum mismatch), a chain break or a stale update breaks
 * the sync (Gap + resync request: the feed resubscribes and OKX sends a new snapshot).
 */
import type { BookDelta, BookSnapshot } from '../../core/events.js';
import { BookSync, registerBookSync } from '../../book/sync.js';

export class OkxSync extends BookSync {
  readonly venue = 'okx';

  snapshot(s: BookSnapshot): boolean {
    return this.resetTo(s, s.seq);
  }

  delta(d: BookDelta): boolean {
    if (!this.acceptDelta(d)) return false;
    const last = this.lastSeq;
    if (d.invalid) { this.breakSync(d.ts, last + 1, last, d.invalid); return false; }
    if (d.prevSeq === last) {
      if (d.seq === d.prevSeq && d.bids.length === 0 && d.asks.length === 0) return false; // keep-alive
      this.applyDelta(d);
      return true;
    }
    if (d.seq <= last && d.prevSeq < last) { this.stats.duplicates++; return false; }
    this.breakSync(d.ts, last + 1, Number.isFinite(d.prevSeq) ? d.prevSeq : last, `prevSeqId=${d.prevSeq} != last seqId=${last}`);
    return false;
  }
}

registerBookSync('okx', (opts) => new OkxSync(opts));
