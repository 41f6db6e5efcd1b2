/**
 * Live exchange feeds: shared types. A Feed keeps WebSocket connections to one venue, turns the venue's
 * frames into normalized events (through the same frame parsers as replay) and hands them to a sink
 * (normally Engine.onEvent). It fetches REST book snapshots when a book needs (re)syncing, dedupes trades
 * across reconnects by id and backfills missing ones over REST where the venue allows it, and keeps a
 * completeness record per instrument (every gap with its reason and duration).
 */
import type { MarketEvent } from '../core/events.js';
import type { InstrumentRegistry } from '../core/instruments.js';
import type { Logger } from '../log.js';
import type { ResyncRequest } from '../book/sync.js';
import type { KiteConfig } from '../venues/kite/config.js';

/** A live venue id of engine/src/venues/registry.ts (`LIVE_VENUES` there lists them). */
export type LiveVenue = string;

export type ConnState = 'idle' | 'connecting' | 'open' | 'backoff' | 'stopped';

export interface FeedCounters {
  /** WebSocket frames received (including acks and pongs) */
  frames: number;
  /** frames that were not valid JSON or failed parsing: counted and skipped */
  malformed: number;
  /** successful reconnects (opens after the first) */
  reconnects: number;
  /** gaps recorded (disconnects, book sequence breaks, trade id jumps, connection sequence jumps) */
  gaps: number;
  /** book resyncs started (REST snapshot fetched or book channel resubscribed) */
  resyncs: number;
  /** trades recovered over REST */
  backfilled: number;
  /** trades dropped because their id was already delivered */
  duplicates: number;
  /** normalized events handed to the sink */
  events: number;
  trades: number;
  /** REST requests made, failed, and answered with 429/418 */
  restRequests: number;
  restFailures: number;
  rateLimited: number;
}

export function newCounters(): FeedCounters {
  return { frames: 0, malformed: 0, reconnects: 0, gaps: 0, resyncs: 0, backfilled: 0, duplicates: 0, events: 0, trades: 0, restRequests: 0, restFailures: 0, rateLimited: 0 };
}

export type GapKind = 'disconnect' | 'book' | 'trades' | 'sequence' | 'stall';

/** One gap in an instrument's data. Times are local wall-clock ms. */
export interface GapRecord {
  kind: GapKind;
  reason: string;
  from: number;
  /** null while still open */
  to: number | null;
  durationMs: number | null;
  /** trades: ids known missing / recovered by backfill */
  missing?: number;
  recovered?: number;
  /** false when the gap closed without the data being recovered (e.g. backfill impossible) */
  complete?: boolean;
}

export interface InstrumentCompleteness {
  instrument: string;
  venue: string;
  /** first and last event time seen (exchange time, ms) */
  firstTs: number | null;
  lastTs: number | null;
  gaps: GapRecord[];
  /** sum of the closed gaps' durations plus the open ones up to now */
  gapMs: number;
  openGaps: number;
  tradesMissing: number;
  tradesRecovered: number;
}

export interface ConnectionStatus {
  url: string;
  state: ConnState;
  /** local ms of the last state change */
  since: number;
  lastMessageAt: number | null;
  /** consecutive failed attempts (0 when open) */
  attempts: number;
  lastError: string | null;
  /** ms until the next attempt when in backoff */
  retryInMs: number | null;
  /** last data frame (pongs excluded), local ms */
  lastDataAt: number | null;
  /** set while the connection is stalled: no data since then although the socket was open */
  stalledSince: number | null;
}

export interface FeedStatus {
  name: string;
  venue: LiveVenue;
  /** worst connection state: open only when every connection is open */
  state: ConnState;
  connections: ConnectionStatus[];
  /** a connection is stalled (open, maybe answering pings, but no data): since when, and why; null otherwise */
  stalled: { since: number; reason: string } | null;
  counters: FeedCounters;
  instruments: string[];
  completeness: InstrumentCompleteness[];
}

export interface Feed {
  readonly name: string;
  readonly venue: LiveVenue;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): FeedStatus;
  /** instrument ids this feed produces */
  instruments(): string[];
  /** a book synchronizer asks for a resync (BookManager onResync); false when not this feed's instrument */
  onResync(req: ResyncRequest): boolean;
}

export interface BackoffOptions {
  /** first retry delay, default 500 ms */
  baseMs?: number;
  /** cap, default 30 s */
  maxMs?: number;
  /** random in [0,1) (tests make it deterministic) */
  random?: () => number;
}

/** Recorder tap: every frame the feed ingests, in ingestion order, after dedupe (see docs/feeds.md). */
export type FrameTap = (recv: number, venue: string, frame: unknown) => void;

export interface FeedOptions {
  venue: LiveVenue;
  /** venue symbols; Binance also accepts `@metals` (gold/silver perpetuals discovered from exchangeInfo) */
  symbols: string[];
  wsUrl?: string;
  restUrl?: string;
  registry: InstrumentRegistry;
  sink: (ev: MarketEvent) => void;
  tap?: FrameTap;
  log?: Logger;
  name?: string;
  backoff?: BackoffOptions;
  /** WebSocket ping interval; default 15 s */
  pingIntervalMs?: number;
  /** reconnect when nothing (not even a pong) arrived for this long; default 45 s */
  staleMs?: number;
  /**
   * a stall: no data frame (pongs do not count) for this long on an open connection becomes a gap, then a
   * reconnect; default 10 s with the book subscribed (diffs flow continuously), 60 s for trades only; 0 = off
   */
  stallMs?: number;
  /** planned reconnect after this long (Binance closes connections at 24 h); default 23 h 50 min for Binance, off elsewhere */
  maxConnectionMs?: number;
  /** REST timeout per request; default 10 s */
  restTimeoutMs?: number;
  /** REST request budget (venue weight units per minute); defaults per venue */
  restWeightPerMinute?: number;
  now?: () => number;
  /**
   * Binance: 'split' connects `<root>/public` (depth, bookTicker) and `<root>/market` (trades), per Binance's
   * 2026-03-06 notice (default on USD-M); 'root' serves every stream on `<root>/stream` (default on spot, COIN-M).
   */
  routing?: 'split' | 'root';
  /** Binance: 'aggTrade' (default) or 'trade' */
  tradeStream?: 'aggTrade' | 'trade';
  /** Binance diff depth speed, default '100ms' */
  depthSpeed?: '0ms' | '100ms' | '250ms' | '500ms' | '1000ms';
  /** Binance bookTicker stream, default true */
  bookTicker?: boolean;
  /** subscribe to the order book, default true */
  depth?: boolean;
  /** Binance REST snapshot depth (default 1000); Bybit orderbook depth (default 200) */
  depthLimit?: number;
  /** Binance: streams per connection (default 200 futures / 1024 spot); Bybit/Coinbase: symbols per connection (default 50) */
  perConnection?: number;
  /** fetch exchangeInfo (Binance) for tick sizes and discovery; default true */
  exchangeInfo?: boolean;
  /**
   * where each instrument stopped before a restart (the store's last trade): the feed backfills from there
   * over REST where the venue allows (Binance aggTrades by id; Bybit and Coinbase recent trades by time)
   * and records what it cannot recover as a gap
   */
  resume?: (instrument: string) => { id: number; ts: number } | undefined;
  /** Bybit application ping interval, default 20 s */
  appPingMs?: number;
  /** Zerodha Kite: streaming mode, options-chain PCR, exchange holidays (engine/src/venues/kite/config.ts) */
  kite?: KiteConfig;
}
