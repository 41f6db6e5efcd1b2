/**
 * Public types of the replay readers.
 */
import type { InstrumentRegistry } from '../core/instruments.js';
import type { FeedContext } from './context.js';

export type FormatName =
  /** hftbacktest Binance raw capture: `<local recv ns> <combined-stream JSON frame>` per line */
  | 'binance-capture'
  /** bare Binance WebSocket frames, one JSON object per line (combined-stream envelope optional) */
  | 'binance-jsonl'
  /** data.binance.vision aggTrades CSV (with or without header) */
  | 'binance-archive-aggtrades'
  /** data.binance.vision trades CSV (with or without header) */
  | 'binance-archive-trades'
  /** Tardis `trades` CSV: exchange,symbol,timestamp,local_timestamp,id,side,price,amount (µs) */
  | 'tardis-trades'
  /** Tardis `book_snapshot_N` CSV: asks[i].price,asks[i].amount,bids[i].price,… */
  | 'tardis-book-snapshot'
  /** Tardis `incremental_book_L2` CSV: is_snapshot,side,price,amount */
  | 'tardis-incremental-l2'
  /** TrueFX quotes: `ts_utc,ts_ns,bid,ask` or the raw TrueFX `EUR/USD,YYYYMMDD HH:MM:SS.mmm,bid,ask` */
  | 'truefx'
  /** HistData ASCII ticks `YYYYMMDD HHMMSSmmm,bid,ask,vol`, EST (UTC−5, no DST) */
  | 'histdata'
  /** `timestamp,bid,ask` quotes with an ISO-8601 or epoch time */
  | 'truefx-usdjpy'
  /** MetaTrader 5 tick export (tab separated, UTF-16 or UTF-8) */
  | 'mt5-ticks'
  /** any CSV with a header naming time, price, qty/size/amount and optionally side, id */
  | 'generic-csv'
  /** cryptofeed raw capture (`<recv s>: <frame>` lines with `<url> <->` connection lines; .ws and .http files) */
  | 'cryptofeed'
  /** Bybit WebSocket frames, one JSON per line (v5 `orderbook.N.X` / `publicTrade.X`, also v2 `orderBookL2_25.X` / `trade.X`); zip archives too */
  | 'bybit-jsonl'
  /** Coinbase Exchange (legacy) and Advanced Trade frames, one JSON per line */
  | 'coinbase-jsonl'
  /** CME / Databento market-by-order CSV */
  | 'cme-mbo'
  /** TapeFlow raw recorder NDJSON: `{"recv": ms, "venue": ..., "frame": ...}` */
  | 'recorder-ndjson'
  /** Bybit public trading archive (public.bybit.com/trading): timestamp (s.µs),symbol,side,size,price,… newest first */
  | 'bybit-archive'
  /** frames of a registry venue (engine/src/venues/registry.ts VENUE_FORMATS), e.g. `okx-jsonl`, `hyperliquid-capture` */
  | `${string}-jsonl`
  | `${string}-capture`;

/** The built-in formats; the venue registry adds its venues' formats (REPLAY_FORMATS in replay/index.ts). */
export const FORMAT_NAMES: readonly FormatName[] = [
  'binance-capture', 'binance-jsonl', 'binance-archive-aggtrades', 'binance-archive-trades', 'tardis-trades',
  'tardis-book-snapshot', 'tardis-incremental-l2', 'truefx', 'histdata', 'truefx-usdjpy', 'mt5-ticks', 'generic-csv',
  'cryptofeed', 'bybit-jsonl', 'coinbase-jsonl', 'cme-mbo', 'recorder-ndjson', 'bybit-archive',
];

/** Venue names used for instrument resolution (and by the recorder's `venue` field): registry venue ids, `cme`, … */
export type VenueName = string;

export class ReplayLineError extends Error {
  readonly file: string;
  /** 1-based line number in the (decompressed, decoded) text */
  readonly line: number;
  readonly reason: string;
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'ReplayLineError';
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

export interface ReplayOptions {
  registry: InstrumentRegistry;
  /** called with the file's parser context before its first frame (e.g. the backtest reads a Kite chain's PCR from it) */
  onContext?: (ctx: FeedContext) => void;
  /**
   * Instrument id/name for files that carry no symbol. When given it also OVERRIDES any symbol found in
   * the data: every event of the file is attributed to this instrument.
   */
  instrument?: string;
  /** force the format instead of detecting it */
  format?: FormatName;
  /** throw the first bad row as a ReplayLineError instead of counting and skipping it */
  strict?: boolean;
  /**
   * MT5 only: broker server time offset from UTC in minutes (e.g. 120 for a UTC+2 server). Event time =
   * server time − offset. Default 0 (server time treated as UTC).
   */
  brokerUtcOffsetMinutes?: number;
  /** Binance @trade prints that are not market trades (X = INSURANCE_FUND, ADL, NA): include them (default: counted in stats.nonMarket and skipped, as the live aggTrade stream does) */
  includeNonMarket?: boolean;
  onError?(e: ReplayLineError): void;
  /** raw (compressed) bytes read so far and the file size */
  onProgress?(bytesRead: number, totalBytes: number): void;
}

export interface ReplayStats {
  file: string;
  format: FormatName;
  /** text lines read (including headers and empty lines) */
  lines: number;
  events: number;
  trades: number;
  quotes: number;
  /** book snapshots, deltas and MBO events */
  bookEvents: number;
  badLines: number;
  /** instrument ids that received events, in order of first appearance */
  instruments: string[];
  /**
   * decimal strings that were not an exact multiple of the instrument's tick/lot step during this replay
   * (rounded to the nearest step; 0 means every price and size converted exactly)
   */
  offGrid: number;
  /** non-market prints by kind (Binance @trade `X`: INSURANCE_FUND, ADL, NA); skipped unless nonMarketIncluded */
  nonMarket: Record<string, number>;
  nonMarketIncluded: boolean;
  /** instruments this file registered from its data (inferred tick/lot/row, auto thresholds) */
  registered: string[];
  /** trades more than 1 s older than a trade already read for their instrument (the file is not in time order) */
  outOfOrder: number;
}

/** Thrown by parsers for a malformed row/frame; the reader turns it into a ReplayLineError. */
export class BadRow extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'BadRow';
  }
}

/**
 * Receives events synchronously. Trade and Quote objects are reused flyweights (the next event
 * overwrites them): copy what you keep. Book snapshots/deltas and MBO events are fresh objects.
 */
export type EventSink = (ev: import('../core/events.js').MarketEvent) => void;
