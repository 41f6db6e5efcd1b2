/**
 * The normalized event model. Every feed (exchange WebSocket, MT5 bridge, file replay, simulator)
 * produces these; every analytic consumes them. Prices are integer ticks of the instrument's tick
 * size and sizes are integer lots of its lot step, converted once at ingestion (see decimal.ts).
 */

export type Side = 'buy' | 'sell' | 'unknown';

/**
 * How the aggressor side was obtained, best first:
 * flag    = venue/broker aggressor flag; quote = trade vs prevailing bid/ask (Lee–Ready);
 * tick    = tick rule on trade prices; midtick = tick rule on quote mid for quote-only feeds
 *           (each quote update is one unit of tick volume: quote activity, not order flow);
 * none    = unclassified.
 */
export type SideSource = 'flag' | 'quote' | 'tick' | 'midtick' | 'none';

export const SIDE_SOURCES: readonly SideSource[] = ['flag', 'quote', 'tick', 'midtick', 'none'];
export const SIDE_SOURCE_INDEX: Record<SideSource, number> = { flag: 0, quote: 1, tick: 2, midtick: 3, none: 4 };

export interface Trade {
  type: 'trade';
  instrument: string;
  /** exchange/event time, ms since epoch UTC */
  ts: number;
  /** venue trade id or sequence when present (0 if none) */
  id: number;
  /** price in ticks */
  price: number;
  /** size in lots */
  size: number;
  side: Side;
  sideSource: SideSource;
}

export interface Quote {
  type: 'quote';
  instrument: string;
  ts: number;
  /** best bid/ask in ticks; NaN when that side is absent */
  bid: number;
  ask: number;
  /** sizes in lots; 0 when unknown */
  bidSize: number;
  askSize: number;
  /**
   * true when `ts` is the local receive time (the venue sends no exchange time, e.g. Binance spot
   * bookTicker): a different clock from exchange time, so such a quote never closes a bar
   */
  localTime?: boolean;
}

/** A price level: [priceTicks, sizeLots]; size 0 removes the level in a delta. */
export type Level = [price: number, size: number];

export interface BookSnapshot {
  type: 'book_snapshot';
  instrument: string;
  ts: number;
  /** venue sequence of the snapshot (e.g. Binance lastUpdateId) */
  seq: number;
  bids: Level[];
  asks: Level[];
}

export interface BookDelta {
  type: 'book_delta';
  instrument: string;
  ts: number;
  /** first and last venue sequence covered by this delta */
  firstSeq: number;
  seq: number;
  /** previous final sequence when the venue gives it (Binance futures `pu`), else NaN */
  prevSeq: number;
  bids: Level[];
  asks: Level[];
  /** set by a venue parser that found the book inconsistent after this message (OKX checksum mismatch): the synchronizer breaks the sync with this reason */
  invalid?: string;
}

export interface Gap {
  type: 'gap';
  instrument: string;
  ts: number;
  /** sequence/time range missing, when known */
  from: number;
  to: number;
  reason: string;
}

export type MarketEvent = Trade | Quote | BookSnapshot | BookDelta | Gap | MboEvent;

/** A mutable trade used as a flyweight on the hot path: parsers fill one and hand it on synchronously. */
export function newTrade(instrument = ''): Trade {
  return { type: 'trade', instrument, ts: 0, id: 0, price: 0, size: 0, side: 'unknown', sideSource: 'none' };
}

export function newQuote(instrument = ''): Quote {
  return { type: 'quote', instrument, ts: 0, bid: NaN, ask: NaN, bidSize: 0, askSize: 0, localTime: undefined };
}

/** Market-by-order action (CME MBO style): Add, Cancel, Modify, clear (R), Fill, Trade. */
export type MboAction = 'A' | 'C' | 'M' | 'R' | 'F' | 'T';

/** One L3 message. Fills and trades do not change the book; trades carry the aggressor side. */
export interface MboEvent {
  type: 'mbo';
  instrument: string;
  ts: number;
  action: MboAction;
  /** resting order side for A/C/M/F; aggressor side for T ('unknown' when the venue says N) */
  side: Side;
  price: number;
  size: number;
  orderId: string;
  seq: number;
  flags: number;
}
