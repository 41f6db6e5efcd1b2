/**
 * Venue book synchronizers: feed them the venue's BookSnapshot / BookDelta events (in arrival
 * order) and they maintain a synced OrderBook, emit Gap events and ask for a resync on a break.
 *
 * Uncross rule (all venues): after a snapshot or a delta has been applied, if best bid >= best ask
 * (crossed or locked) the levels written by that message are taken as the fresh truth and the stale
 * opposite levels are removed from the touch until the book is uncrossed:
 *   - the best bid was written by this message and the best ask was not -> remove asks;
 *   - the best ask was written by this message and the best bid was not -> remove bids;
 *   - both or neither (a self-crossed message or a crossed snapshot)       -> remove bids.
 * Each message that needed this counts once in `stats.crossed`; removed levels are counted in
 * `stats.crossedLevelsRemoved`. With correct sequencing on Binance/Bybit/Coinbase this never fires.
 */
import type { BookDelta, BookSnapshot, Gap, Level } from '../core/events.js';
import { OrderBook, type BookSide, type OrderBookOptions } from './order-book.js';

export interface SyncStats {
  /** snapshots applied */
  snapshots: number;
  /** deltas applied to the book */
  updatesApplied: number;
  /** individual level updates applied (snapshot levels not included) */
  levelUpdates: number;
  /** sequence breaks detected (each emitted a Gap) */
  gaps: number;
  /** resync requests issued */
  resyncRequests: number;
  /** completed resyncs (book synced again after a break) */
  resyncs: number;
  /** messages after which the book was crossed/locked and had to be uncrossed */
  crossed: number;
  /** levels removed by the uncross rule */
  crossedLevelsRemoved: number;
  /** deltas dropped because they are older than the snapshot, or arrived while no snapshot is usable */
  staleDropped: number;
  /** deltas dropped as duplicates / out of order (sequence <= last applied) */
  duplicates: number;
  /** deltas buffered while waiting for a snapshot (Binance) */
  buffered: number;
  /** buffered deltas discarded because the buffer was full */
  bufferOverflow: number;
  /** venue restarts seen (Bybit u=1 snapshot) */
  restarts: number;
}

export interface ResyncRequest {
  venue: string;
  instrument: string;
  ts: number;
  reason: string;
}

/**
 * Per-level hook: called for every level a delta carries (also when the size is unchanged: with trades
 * in between, an unchanged size means a refill), except removals of absent levels; and for levels
 * removed by the uncross rule. Not called for snapshot loads (see onSnapshot).
 */
export type LevelHook = (side: BookSide, price: number, size: number, prevSize: number, ts: number) => void;

export interface BookSyncOptions extends OrderBookOptions {
  onGap?: (gap: Gap) => void;
  onResync?: (req: ResyncRequest) => void;
  /** after every applied snapshot or delta */
  onBook?: (book: OrderBook, ev: BookSnapshot | BookDelta) => void;
  onLevel?: LevelHook;
  /** called after a snapshot replaced the book (level hooks are not called for snapshot levels) */
  onSnapshot?: (book: OrderBook, ev: BookSnapshot) => void;
  /** Binance: max deltas buffered while waiting for a snapshot (oldest dropped); default 20 000 */
  maxBuffer?: number;
}

export function newSyncStats(): SyncStats {
  return { snapshots: 0, updatesApplied: 0, levelUpdates: 0, gaps: 0, resyncRequests: 0, resyncs: 0, crossed: 0, crossedLevelsRemoved: 0, staleDropped: 0, duplicates: 0, buffered: 0, bufferOverflow: 0, restarts: 0 };
}

export abstract class BookSync {
  readonly book: OrderBook;
  readonly stats: SyncStats = newSyncStats();
  abstract readonly venue: string;
  instrument = '';
  /** last applied venue sequence (NaN before the first) */
  lastSeq = NaN;
  protected live = false;
  /** true between a break and the next successful sync */
  protected broken = false;

  constructor(protected readonly opts: BookSyncOptions = {}) {
    this.book = new OrderBook(opts);
  }

  /** True when the book is in sync with the venue (a snapshot applied and no break since). */
  get synced(): boolean { return this.live; }

  /** Feed one event; returns true when the book changed. Other event types are ignored. */
  onEvent(ev: { type: string }): boolean {
    if (ev.type === 'book_snapshot') return this.snapshot(ev as BookSnapshot);
    if (ev.type === 'book_delta') return this.delta(ev as BookDelta);
    return false;
  }

  abstract snapshot(s: BookSnapshot): boolean;
  abstract delta(d: BookDelta): boolean;

  /** A snapshot that replaces the book and makes it live from sequence `seq`. */
  protected resetTo(s: BookSnapshot, seq: number): true {
    this.applySnapshot(s);
    this.lastSeq = seq;
    this.live = true;
    return true;
  }

  /** A delta can only apply to a live book; otherwise it is dropped as stale. */
  protected acceptDelta(d: BookDelta): boolean {
    if (d.instrument) this.instrument = d.instrument;
    if (this.live) return true;
    this.stats.staleDropped++;
    return false;
  }

  /**
   * Strict +1 sequencing: seq <= last is a duplicate (dropped); a jump breaks the sync (Gap + resync
   * request, `reason(last + 1)` names the venue field). True when `seq` is the next one.
   */
  protected nextInSequence(d: BookDelta, seq: number, reason: (expected: number) => string): boolean {
    const last = this.lastSeq;
    if (seq <= last) { this.stats.duplicates++; return false; }
    if (seq !== last + 1) { this.breakSync(d.ts, last + 1, seq - 1, reason(last + 1)); return false; }
    return true;
  }

  protected applySnapshot(s: BookSnapshot): void {
    if (s.instrument) this.instrument = s.instrument;
    this.book.applySnapshot(s);
    this.stats.snapshots++;
    this.uncross(-Infinity, Infinity);
    if (this.broken) {
      this.broken = false;
      this.stats.resyncs++;
    }
    this.opts.onSnapshot?.(this.book, s);
    this.opts.onBook?.(this.book, s);
  }

  protected applyDelta(d: BookDelta): void {
    if (d.instrument) this.instrument = d.instrument;
    const book = this.book;
    const hook = this.opts.onLevel;
    const ts = d.ts;
    let maxBid = -Infinity;
    let minAsk = Infinity;
    const bids = d.bids;
    for (let i = 0; i < bids.length; i++) {
      const lv = bids[i]!;
      const p = lv[0];
      const z = lv[1];
      const prev = book.bids.set(p, z);
      if (z > 0 && p > maxBid) maxBid = p;
      if (hook && (prev > 0 || z > 0)) hook('bid', p, z > 0 ? z : 0, prev, ts);
    }
    const asks = d.asks;
    for (let i = 0; i < asks.length; i++) {
      const lv = asks[i]!;
      const p = lv[0];
      const z = lv[1];
      const prev = book.asks.set(p, z);
      if (z > 0 && p < minAsk) minAsk = p;
      if (hook && (prev > 0 || z > 0)) hook('ask', p, z > 0 ? z : 0, prev, ts);
    }
    this.stats.updatesApplied++;
    this.stats.levelUpdates += bids.length + asks.length;
    this.lastSeq = d.seq;
    this.uncross(maxBid, minAsk, ts);
    this.opts.onBook?.(book, d);
  }

  /** Apply the uncross rule (see the module comment). */
  protected uncross(maxBidWritten: number, minAskWritten: number, ts = 0): void {
    const book = this.book;
    if (!book.isCrossed()) return;
    this.stats.crossed++;
    const hook = this.opts.onLevel;
    while (book.isCrossed()) {
      const b = book.bestBid();
      const a = book.bestAsk();
      const bidFresh = b === maxBidWritten;
      const askFresh = a === minAskWritten;
      if (bidFresh && !askFresh) {
        const z = book.bestAskSize();
        book.removeBest('ask');
        if (hook) hook('ask', a, 0, z, ts);
      } else {
        const z = book.bestBidSize();
        book.removeBest('bid');
        if (hook) hook('bid', b, 0, z, ts);
      }
      this.stats.crossedLevelsRemoved++;
    }
  }

  /** Sequence break: emit a Gap, stop applying and request a resync. */
  protected breakSync(ts: number, from: number, to: number, reason: string): void {
    this.live = false;
    this.broken = true;
    this.stats.gaps++;
    this.stats.resyncRequests++;
    const gap: Gap = { type: 'gap', instrument: this.instrument, ts, from, to, reason: `${this.venue}: ${reason}` };
    this.opts.onGap?.(gap);
    this.opts.onResync?.({ venue: this.venue, instrument: this.instrument, ts, reason: gap.reason });
  }

  /** Forget everything (book, sequence, buffer); the next snapshot starts a fresh sync. */
  reset(): void {
    this.book.clear();
    this.lastSeq = NaN;
    this.live = false;
  }
}

function cloneDelta(d: BookDelta): BookDelta {
  const copy = (ls: Level[]): Level[] => ls.map((l) => [l[0], l[1]] as Level);
  return { ...d, bids: copy(d.bids), asks: copy(d.asks) };
}

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

/**
 * No sequence checks: each snapshot resets the book, deltas are applied in arrival order (deltas
 * before the first snapshot are dropped as stale). Used for legacy Bybit v2 orderBookL2 (the replay
 * parser maps level ids to prices) and sources without sequence numbers.
 */
export class SnapshotResetSync extends BookSync {
  constructor(readonly venue: string = 'generic', opts: BookSyncOptions = {}) {
    super(opts);
  }

  snapshot(s: BookSnapshot): boolean {
    return this.resetTo(s, s.seq);
  }

  delta(d: BookDelta): boolean {
    if (!this.acceptDelta(d)) return false;
    this.applyDelta(d);
    return true;
  }
}

/**
 * Synchronizer for a venue id as used by the instrument registry: binance-usdm, binance-coinm,
 * binance-futures → futures rules; binance-spot → spot rules; bybit → Bybit v5; bybit-v2 and
 * generic → snapshot reset; coinbase → Coinbase.
 */
export function createBookSync(venue: string, opts: BookSyncOptions = {}): BookSync {
  switch (venue) {
    case 'binance-usdm':
    case 'binance-coinm':
    case 'binance-futures':
      return new BinanceSync('futures', opts, venue);
    case 'binance-spot':
    case 'binance':
      return new BinanceSync('spot', opts, venue);
    case 'bybit':
      return new BybitSync(opts);
    case 'coinbase':
      return new CoinbaseSync(opts);
    case 'bybit-v2':
    case 'generic':
      return new SnapshotResetSync(venue, opts);
    default:
      throw new Error(`no book synchronizer for venue "${venue}"`);
  }
}

/** One synchronizer per instrument, created on first sight; routes book events by instrument. */
export class MultiBookSync {
  private readonly syncs = new Map<string, BookSync>();

  constructor(private readonly make: (instrument: string) => BookSync) {}

  onEvent(ev: { type: string; instrument?: string }): boolean {
    if (ev.type !== 'book_snapshot' && ev.type !== 'book_delta') return false;
    const id = ev.instrument ?? '';
    let s = this.syncs.get(id);
    if (!s) {
      s = this.make(id);
      s.instrument = id;
      this.syncs.set(id, s);
    }
    return s.onEvent(ev);
  }

  get(instrument: string): BookSync | undefined { return this.syncs.get(instrument); }
  instruments(): string[] { return [...this.syncs.keys()]; }
  all(): BookSync[] { return [...this.syncs.values()]; }
}
