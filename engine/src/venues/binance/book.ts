/** Binance book sequencing rule (registered for binance-usdm/-coinm/-futures and binance-spot/binance). */
import type { BookDelta, BookSnapshot } from '../../core/events.js';
import { BookSync, cloneDelta, registerBookSync, type BookSyncOptions } from '../../book/sync.js';

/**
 * Binance diff-depth synchronizer.
 *  - futures (USD-M, COIN-M): buffer diffs until the REST snapshot (lastUpdateId = snapshot.seq);
 *    drop diffs with u < lastUpdateId; the first applied diff has U <= lastUpdateId <= u; then each
 *    diff's pu (prevSeq) must equal the previous u, else Gap + resync (buffer again until a new
 *    snapshot). Requires BookDelta.prevSeq.
 *  - spot: drop u <= lastUpdateId; first applied U <= lastUpdateId+1 <= u; then U == previous u + 1.
 * A diff with u <= the last applied u is a duplicate (dropped, counted).
 * A snapshot arriving while synced replaces the book only when it is newer than the last applied u.
 */
export class BinanceSync extends BookSync {
  readonly venue: string;
  private buffer: BookDelta[] = [];
  /** lastUpdateId of the snapshot we are syncing from, while waiting for the first diff */
  private snapSeq = NaN;
  private awaitingFirst = false;
  private readonly maxBuffer: number;

  constructor(readonly mode: 'futures' | 'spot', opts: BookSyncOptions = {}, venue?: string) {
    super(opts);
    this.venue = venue ?? (mode === 'futures' ? 'binance-usdm' : 'binance-spot');
    this.maxBuffer = opts.maxBuffer ?? 20_000;
  }

  /** diffs currently buffered (waiting for a snapshot) */
  get bufferedCount(): number { return this.buffer.length; }

  snapshot(s: BookSnapshot): boolean {
    if (this.live && !this.awaitingFirst && s.seq <= this.lastSeq) {
      this.stats.staleDropped++;
      return false;
    }
    this.applySnapshot(s);
    this.snapSeq = s.seq;
    this.lastSeq = s.seq;
    this.awaitingFirst = true;
    this.live = true;
    const buf = this.buffer;
    this.buffer = [];
    for (const d of buf) this.delta(d, true);
    return true;
  }

  delta(d: BookDelta, fromBuffer = false): boolean {
    if (d.instrument) this.instrument = d.instrument;
    if (!this.live) {
      if (this.buffer.length >= this.maxBuffer) {
        this.buffer.splice(0, Math.max(1, this.maxBuffer >> 4));
        this.stats.bufferOverflow++;
      }
      this.buffer.push(fromBuffer ? d : cloneDelta(d));
      if (!fromBuffer) this.stats.buffered++;
      return false;
    }
    const futures = this.mode === 'futures';
    if (this.awaitingFirst) {
      const id = this.snapSeq;
      const target = futures ? id : id + 1;
      if (d.seq < target) {
        this.stats.staleDropped++;
        return false;
      }
      if (d.firstSeq > target) {
        this.breakSync(d.ts, target, d.firstSeq - 1, `first diff U=${d.firstSeq} > ${futures ? 'lastUpdateId' : 'lastUpdateId+1'}=${target}`);
        this.awaitingFirst = false;
        this.buffer.push(fromBuffer ? d : cloneDelta(d));
        return false;
      }
      this.awaitingFirst = false;
      this.applyDelta(d);
      return true;
    }
    const last = this.lastSeq;
    if (d.seq <= last) {
      this.stats.duplicates++;
      return false;
    }
    const ok = futures ? d.prevSeq === last : d.firstSeq === last + 1;
    if (!ok) {
      const to = futures && Number.isFinite(d.prevSeq) ? d.prevSeq : d.firstSeq - 1;
      this.breakSync(d.ts, last + 1, to, futures ? `pu=${d.prevSeq} != previous u=${last}` : `U=${d.firstSeq} != previous u+1=${last + 1}`);
      this.buffer.push(fromBuffer ? d : cloneDelta(d));
      return false;
    }
    this.applyDelta(d);
    return true;
  }

  override reset(): void {
    super.reset();
    this.buffer = [];
    this.awaitingFirst = false;
    this.snapSeq = NaN;
  }
}


for (const v of ['binance-usdm', 'binance-coinm', 'binance-futures']) registerBookSync(v, (opts, venue) => new BinanceSync('futures', opts, venue));
for (const v of ['binance-spot', 'binance']) registerBookSync(v, (opts, venue) => new BinanceSync('spot', opts, venue));
