/**
 * L3 / market-by-order book for CME-style MBO events (Databento semantics).
 *  A add, C cancel (removes `size`; the order goes when nothing is left), M modify (new price and/or
 *  size; an unknown id is counted as dangling and then treated as an add), R clear (empty book),
 *  F fill and T trade (no book change; T yields a Trade with the aggressor side).
 * The aggregated L2 view is kept in `book` (an OrderBook) incrementally: O(log n) per event.
 *
 * Crossed states: checked at the end of each venue event (flags & F_LAST, 0x80), since the book may
 * be transiently crossed inside one packet; for sources that never set F_LAST, after every event.
 * Crossed and locked (bid >= ask) both count.
 */
import type { MboEvent, Trade } from '../core/events.js';
import { OrderBook, type BookSide } from './order-book.js';

export const MBO_F_LAST = 0x80;

export interface MboOrder {
  id: string;
  side: BookSide;
  price: number;
  size: number;
  /** ts of the add (or of the last priority-losing modify) */
  ts: number;
}

export interface MboStats {
  events: number;
  adds: number;
  cancels: number;
  modifies: number;
  clears: number;
  fills: number;
  trades: number;
  /** cancel/modify of an unknown order id */
  dangling: number;
  /** add of an id already in the book (the old order is replaced) */
  duplicateAdds: number;
  /** A/M events with side 'unknown' (ignored) */
  unknownSide: number;
  /** end-of-event checks at which the book was crossed or locked */
  crossedStates: number;
  firstCrossedTs: number;
  lastCrossedTs: number;
}

export interface MboBookOptions {
  /** called with each Trade built from a T event (a fresh object per trade) */
  onTrade?: (t: Trade) => void;
  /** called after each dangling reference */
  onDangling?: (ev: MboEvent) => void;
  /** max crossed-state timestamps kept in `crossedTimes`; default 10 000 */
  maxCrossedTimes?: number;
  maxLevels?: number;
}

export class MboBook {
  readonly book: OrderBook;
  readonly orders = new Map<string, MboOrder>();
  readonly stats: MboStats = { events: 0, adds: 0, cancels: 0, modifies: 0, clears: 0, fills: 0, trades: 0, dangling: 0, duplicateAdds: 0, unknownSide: 0, crossedStates: 0, firstCrossedTs: NaN, lastCrossedTs: NaN };
  /** timestamps of crossed end-of-event states (bounded, first ones kept) */
  readonly crossedTimes: number[] = [];
  private sawLastFlag = false;
  private readonly maxCrossedTimes: number;
  instrument = '';

  constructor(private readonly opts: MboBookOptions = {}) {
    this.book = new OrderBook({ maxLevels: opts.maxLevels ?? 1_000_000 });
    this.maxCrossedTimes = opts.maxCrossedTimes ?? 10_000;
  }

  getOrder(id: string): MboOrder | undefined { return this.orders.get(id); }
  get orderCount(): number { return this.orders.size; }

  /** Apply one MBO event. Returns the Trade for a T event, else null. */
  apply(ev: MboEvent): Trade | null {
    this.stats.events++;
    if (ev.instrument) this.instrument = ev.instrument;
    let trade: Trade | null = null;
    switch (ev.action) {
      case 'A': this.add(ev); break;
      case 'C': this.cancel(ev); break;
      case 'M': this.modify(ev); break;
      case 'R': this.clear(); break;
      case 'F': this.stats.fills++; break;
      case 'T': {
        this.stats.trades++;
        trade = { type: 'trade', instrument: ev.instrument, ts: ev.ts, id: 0 /* feed sequence numbers are not trade ids: no id-continuity check */, price: ev.price, size: ev.size, side: ev.side, sideSource: ev.side === 'unknown' ? 'none' : 'flag' };
        this.opts.onTrade?.(trade);
        break;
      }
    }
    const last = (ev.flags & MBO_F_LAST) !== 0;
    if (last) this.sawLastFlag = true;
    if ((last || !this.sawLastFlag) && this.book.isCrossed()) {
      const s = this.stats;
      s.crossedStates++;
      if (Number.isNaN(s.firstCrossedTs)) s.firstCrossedTs = ev.ts;
      s.lastCrossedTs = ev.ts;
      if (this.crossedTimes.length < this.maxCrossedTimes) this.crossedTimes.push(ev.ts);
    }
    return trade;
  }

  private static sideOf(ev: MboEvent): BookSide | null {
    return ev.side === 'buy' ? 'bid' : ev.side === 'sell' ? 'ask' : null;
  }

  private add(ev: MboEvent): void {
    this.stats.adds++;
    const side = MboBook.sideOf(ev);
    if (!side) { this.stats.unknownSide++; return; }
    const old = this.orders.get(ev.orderId);
    if (old) {
      this.stats.duplicateAdds++;
      this.adjust(old.side, old.price, -old.size);
    }
    this.orders.set(ev.orderId, { id: ev.orderId, side, price: ev.price, size: ev.size, ts: ev.ts });
    this.adjust(side, ev.price, ev.size);
  }

  private cancel(ev: MboEvent): void {
    this.stats.cancels++;
    const o = this.orders.get(ev.orderId);
    if (!o) {
      this.stats.dangling++;
      this.opts.onDangling?.(ev);
      return;
    }
    const cut = ev.size > 0 && ev.size < o.size ? ev.size : o.size;
    this.adjust(o.side, o.price, -cut);
    o.size -= cut;
    if (o.size <= 0) this.orders.delete(ev.orderId);
  }

  private modify(ev: MboEvent): void {
    this.stats.modifies++;
    const o = this.orders.get(ev.orderId);
    if (!o) {
      this.stats.dangling++;
      this.opts.onDangling?.(ev);
      this.stats.adds--; // counted as a modify, not an add
      this.add(ev);
      return;
    }
    if (o.price !== ev.price) {
      this.adjust(o.side, o.price, -o.size);
      o.price = ev.price;
      o.size = ev.size;
      o.ts = ev.ts;
      this.adjust(o.side, o.price, o.size);
    } else {
      if (ev.size > o.size) o.ts = ev.ts; // size increase loses priority
      this.adjust(o.side, o.price, ev.size - o.size);
      o.size = ev.size;
    }
    if (o.size <= 0) this.orders.delete(ev.orderId);
  }

  /** R: empty the book. */
  clear(): void {
    this.stats.clears++;
    this.orders.clear();
    this.book.clear();
  }

  private adjust(side: BookSide, price: number, delta: number): void {
    if (delta === 0) return;
    const lv = this.book.side(side);
    lv.set(price, lv.get(price) + delta);
  }
}
