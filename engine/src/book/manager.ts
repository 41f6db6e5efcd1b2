/**
 * Keeps one synced book per instrument for an Engine: venue synchronizers for L2 snapshots/diffs
 * (sequence rules per venue, gaps, resyncs) and market-by-order books for L3 feeds, whose trades
 * (with aggressor side) are fed back into the engine like any other trade.
 */
import type { MarketEvent, MboEvent, Trade } from '../core/events.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import { bookSyncVenues, createBookSync, type BookSync, type ResyncRequest, type SyncStats } from './sync.js';
import { MboBook, type MboStats } from './mbo.js';
import type { OrderBook, BookSide } from './order-book.js';

/** Level change of an instrument's synced L2 book (see LevelHook in sync.ts). */
export type InstrumentLevelHook = (instrument: string, side: BookSide, price: number, size: number, prevSize: number, ts: number) => void;

export interface BookReport {
  instrument: string;
  kind: 'L2' | 'L3';
  synced: boolean;
  bidLevels: number;
  askLevels: number;
  bestBid: number | null;
  bestAsk: number | null;
  crossedNow: boolean;
  stats: SyncStats | MboStats;
}

export interface BookManagerOptions {
  registry: InstrumentRegistry;
  /** where trades reconstructed from L3 books go (normally engine.onEvent) */
  emit(ev: MarketEvent): void;
  onResync?(req: ResyncRequest): void;
}

export class BookManager {
  readonly l2 = new Map<string, BookSync>();
  readonly l3 = new Map<string, MboBook>();
  private readonly levelHooks: InstrumentLevelHook[] = [];
  private readonly bookHooks: ((instrument: string, book: OrderBook) => void)[] = [];
  private readonly snapshotHooks: ((instrument: string, book: OrderBook, ts: number) => void)[] = [];

  constructor(private readonly o: BookManagerOptions) {}

  /** Every level change of every L2 book (detectors: icebergs, pulls, sweeps). */
  onLevel(fn: InstrumentLevelHook): void { this.levelHooks.push(fn); }
  /** After a snapshot replaced an L2 book (level hooks do not see snapshot levels). */
  onSnapshot(fn: (instrument: string, book: OrderBook, ts: number) => void): void { this.snapshotHooks.push(fn); }

  /** Called once per instrument when its book is created (and for books that already exist). */
  onBook(fn: (instrument: string, book: OrderBook) => void): void {
    this.bookHooks.push(fn);
    for (const [id, s] of this.l2) fn(id, s.book);
    for (const [id, b] of this.l3) fn(id, b.book);
  }

  /** Engine observer: handles book and MBO events, ignores the rest. */
  onEvent = (ev: MarketEvent): void => {
    if (ev.type === 'book_snapshot' || ev.type === 'book_delta') this.sync(ev.instrument).onEvent(ev);
    else if (ev.type === 'mbo') this.mbo(ev);
  };

  sync(instrument: string): BookSync {
    let s = this.l2.get(instrument);
    if (!s) {
      // the simulator's books, and those of venues without a sequencing rule of their own (a Tardis
      // deribit file), are a snapshot then in-order deltas: the generic snapshot-reset rules. Venue rules
      // register when engine/src/venues/registry.ts loads; before that an unknown venue is still an error.
      const rv = this.o.registry.find(instrument)?.venue;
      const known = bookSyncVenues();
      const venue = rv === undefined || rv === 'simulator' || (known.length > 2 && !known.includes(rv)) ? 'generic' : rv;
      const hooks = this.levelHooks;
      s = createBookSync(venue, {
        onGap: (g) => this.o.emit(g),
        onResync: this.o.onResync,
        onLevel: (side, price, size, prev, ts) => { for (let i = 0; i < hooks.length; i++) hooks[i](instrument, side, price, size, prev, ts); },
        onSnapshot: (book, ev) => { for (const fn of this.snapshotHooks) fn(instrument, book, ev.ts); },
      });
      s.instrument = instrument;
      this.l2.set(instrument, s);
      for (const fn of this.bookHooks) fn(instrument, s.book);
    }
    return s;
  }

  private mbo(ev: MboEvent): void { this.mboBook(ev.instrument).apply(ev); }

  /** The instrument's market-by-order book, created (and announced to onBook) on first use. */
  mboBook(instrument: string): MboBook {
    let b = this.l3.get(instrument);
    if (!b) {
      b = new MboBook({ onTrade: (t: Trade) => this.o.emit(t) });
      b.instrument = instrument;
      this.l3.set(instrument, b);
      for (const fn of this.bookHooks) fn(instrument, b.book);
    }
    return b;
  }

  /** The current book of an instrument (L3 aggregated view when MBO, else the synced L2). */
  book(instrument: string): OrderBook | undefined {
    return this.l3.get(instrument)?.book ?? this.l2.get(instrument)?.book;
  }

  reports(): BookReport[] {
    const out: BookReport[] = [];
    const rep = (instrument: string, kind: 'L2' | 'L3', b: OrderBook, synced: boolean, stats: SyncStats | MboStats): BookReport => {
      const bb = b.bestBid(), ba = b.bestAsk();
      return { instrument, kind, synced, bidLevels: b.levelCount('bid'), askLevels: b.levelCount('ask'), bestBid: Number.isFinite(bb) ? bb : null, bestAsk: Number.isFinite(ba) ? ba : null, crossedNow: b.isCrossed(), stats: { ...stats } };
    };
    for (const [id, s] of this.l2) out.push(rep(id, 'L2', s.book, s.synced, s.stats));
    for (const [id, b] of this.l3) out.push(rep(id, 'L3', b.book, true, b.stats));
    return out.sort((a, b) => a.instrument.localeCompare(b.instrument));
  }
}
