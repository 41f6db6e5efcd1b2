/**
 * Book synchronizers (generic machinery; each venue's sequencing rule lives in engine/src/venues/<venue>/book.ts): feed them the venue's BookSnapshot / BookDelta events (in arrival
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

/** Deep copy of a delta's levels (buffered deltas must not alias a parser's arrays). */
export function cloneDelta(d: BookDelta): BookDelta {
  const copy = (ls: Level[]): Level[] => ls.map((l) => [l[0], l[1]] as Level);
  return { ...d, bids: copy(d.bids), asks: copy(d.asks) };
}

export abstract class BookSync {
  readonly book: OrderBook;
  readonly stats: SyncStats = newSyncStats();
  abstract readonly venue: string;
  instrument = '';
  /** last applied venue sequence (NaN before the first) */
  lastSeq = NaN;
  private isLive = false;
  /** in sync; mirrored on `book.synced` so every holder of the book can tell (API answers, detectors) */
  protected get live(): boolean { return this.isLive; }
  protected set live(v: boolean) { this.isLive = v; this.book.synced = v; }
  /** true between a break and the next successful sync */
  protected broken = false;

  constructor(protected readonly opts: BookSyncOptions = {}) {
    this.book = new OrderBook(opts);
    this.book.synced = false;
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

/** Builds a venue's synchronizer. */
export type BookSyncFactory = (opts: BookSyncOptions, venue: string) => BookSync;

/**
 * Sequencing rules by venue id (the instrument registry's `venue`). Core knows only the generic rules;
 * each venue folder (engine/src/venues/<venue>/book.ts) registers its own when it loads, so loading
 * engine/src/venues/registry.ts makes every venue's rule available.
 */
const RULES = new Map<string, BookSyncFactory>([
  ['generic', (opts, venue) => new SnapshotResetSync(venue, opts)],
  ['bybit-v2', (opts, venue) => new SnapshotResetSync(venue, opts)],
]);

export function registerBookSync(venue: string, factory: BookSyncFactory): void {
  RULES.set(venue, factory);
}

/** Venue ids that have a synchronizer. */
export function bookSyncVenues(): string[] { return [...RULES.keys()]; }

/** The synchronizer for a venue id; throws when no venue registered one. */
export function createBookSync(venue: string, opts: BookSyncOptions = {}): BookSync {
  const f = RULES.get(venue);
  if (!f) throw new Error(`no book synchronizer for venue "${venue}" (known: ${[...RULES.keys()].join(', ')}; venue rules load with engine/src/venues/registry.ts)`);
  return f(opts, venue);
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
