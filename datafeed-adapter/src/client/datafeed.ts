/**
 * TapeFlowDatafeed: a Charting Library datafeed (IBasicDataFeed + IDatafeedQuotesApi + depth) that
 * reads history from the TapeFlow UDF endpoints (/config, /symbols, /search, /history, /marks,
 * /timescale_marks, /time, /quotes) and streams realtime data over the msgpack WebSocket (no polling).
 *
 * Realtime bars: minute/hour/day resolutions use the `bar` channel at that timeframe; second and tick
 * resolutions (and any timeframe the server cannot stream) are built here from the `tick` channel
 * (seconds: UTC-aligned buckets like /history; N-tick bars: counted from the first trade after the
 * last history bar, merged into the previous bar when they start in the same second). Every bar
 * handed to onTick has time >= the last bar of that listener (equal = replace, greater = append).
 * After a reconnect the fresh snapshot (and /history for anything older than it) refills missed bars.
 */
import { StreamClient, type StreamClientOptions, type StreamSubscription, type WebSocketCtor } from './stream.js';
import { normalizeTimeframe, type WireBar, type WireBook, type WireStats, type WireTrade } from '../ws/protocol.js';
import type {
  Bar, DatafeedConfiguration, DatafeedErrorCallback, DOMCallback, GetMarksCallback, HistoryCallback, HistoryMetadata,
  IBasicDataFeed, IDatafeedQuotesApi, LibrarySymbolInfo, Mark, OnReadyCallback, PeriodParams, QuoteData, QuotesCallback,
  QuotesErrorCallback, ResolutionString, ResolveCallback, SearchSymbolResultItem, SearchSymbolsCallback, ServerTimeCallback,
  SubscribeBarsCallback, SymbolResolveExtension, TimescaleMark, DatafeedQuoteValues, Timezone,
} from './types.js';

export interface TapeFlowDatafeedOptions {
  /** UDF root, e.g. "http://localhost:8080" or "/udf" (where /config lives) */
  baseUrl: string;
  /** WebSocket URL; default: the baseUrl origin with ws(s):// and path /ws */
  streamUrl?: string;
  /** an existing StreamClient (else the page's shared client for streamUrl + token: one socket per page) */
  stream?: StreamClient;
  /** API token: sent as `token=` to the UDF endpoints and in the stream hello */
  token?: string;
  fetch?: typeof fetch;
  WebSocket?: WebSocketCtor;
  stream_options?: Partial<StreamClientOptions>;
  /** bars requested in a stream snapshot (refill window after reconnects), default 500 */
  snapshotBars?: number;
  /** called for diagnostics (time violations ignored, refill errors) */
  onDiagnostic?: (msg: string) => void;
}

const DEFAULT_CONFIG: DatafeedConfiguration = {
  supported_resolutions: ['1', '5', '15', '30', '60', '1D'] as ResolutionString[],
  supports_marks: false, supports_timescale_marks: false, supports_time: false, exchanges: [], symbols_types: [],
};

interface Listener {
  guid: string;
  ticker: string;
  resolution: string;
  onTick: SubscribeBarsCallback;
  onReset: () => void;
  last: Bar | null;
  sub: StreamSubscription | null;
  mode: 'bar' | 'tick';
  /** tick mode: bucket ms (seconds/minutes) or 0 for N-tick bars */
  bucketMs: number;
  ticks: number;
  count: number;
  refilling: boolean;
  pending: Bar[];
  closed: boolean;
}

/** most bars one /history answer holds (the server's documented bound) */
const MAX_COUNTBACK = 20_000;
/** the UDF `to` bound (2100-01-01): the library sends 2037 for marks and the browser's clock for bars */
const MAX_TO_S = 4_102_444_800;

const once = <A extends unknown[]>(fn: (...a: A) => void): ((...a: A) => void) => {
  let done = false;
  return (...a: A) => { if (!done) { done = true; fn(...a); } };
};

const later = (fn: () => void): void => { setTimeout(fn, 0); };

function wireToBar(b: WireBar): Bar { return { time: b.t, open: b.o, high: b.h, low: b.l, close: b.c, volume: b.v }; }

export class TapeFlowDatafeed implements IBasicDataFeed, IDatafeedQuotesApi {
  readonly stream: StreamClient;
  private readonly ownsStream: boolean;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly token: string | undefined;
  private readonly snapshotBars: number;
  private readonly diag: (m: string) => void;
  private config: Promise<DatafeedConfiguration> | null = null;
  private configCache: DatafeedConfiguration | null = null;
  private readonly symbols = new Map<string, LibrarySymbolInfo>();
  private readonly lastBars = new Map<string, Bar>();
  private readonly listeners = new Map<string, Listener>();
  private readonly quoteSubs = new Map<string, { subs: StreamSubscription[]; cb: QuotesCallback }>();
  private readonly depthSubs = new Map<string, StreamSubscription>();
  private depthIds = 0;
  /** bars dropped because they were older than the listener's last bar (should stay 0) */
  timeViolations = 0;

  constructor(opts: TapeFlowDatafeedOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    const f = opts.fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : undefined);
    if (!f) throw new Error('TapeFlowDatafeed: no fetch implementation');
    this.fetchFn = f;
    this.token = opts.token;
    this.snapshotBars = opts.snapshotBars ?? 500;
    this.diag = opts.onDiagnostic ?? (() => {});
    // one socket per page: datafeeds of several charts (and indicators using `datafeed.stream`) share it
    this.ownsStream = !opts.stream;
    this.stream = opts.stream ?? StreamClient.shared({ url: opts.streamUrl ?? defaultStreamUrl(this.base), token: opts.token, WebSocket: opts.WebSocket, ...opts.stream_options });
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async get<T>(path: string, params: Record<string, string | number> = {}): Promise<T> {
    const q = Object.entries({ ...params, ...(this.token ? { token: this.token } : {}) }).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    const res = await this.fetchFn(`${this.base}${path}${q ? '?' + q : ''}`, { credentials: 'same-origin' });
    const text = await res.text();
    try { return JSON.parse(text) as T; } catch { throw new Error(`${path}: HTTP ${res.status}: ${text.slice(0, 200)}`); }
  }

  // ---- IExternalDatafeed / IDatafeedChartApi --------------------------------------------------

  onReady(callback: OnReadyCallback): void {
    this.config ??= this.get<DatafeedConfiguration & { s?: string }>('/config').then((c) => (c && typeof c === 'object' && !('s' in c) ? c : DEFAULT_CONFIG)).catch(() => DEFAULT_CONFIG)
      .then((c) => { this.configCache = c; return c; });
    void this.config.then((c) => later(() => callback(c)));
  }

  searchSymbols(userInput: string, exchange: string, symbolType: string, onResult: SearchSymbolsCallback, _searchSource?: string): void {
    const done = once(onResult);
    this.get<unknown>('/search', { query: userInput.toUpperCase(), type: symbolType ?? '', exchange: exchange ?? '', limit: 30 })
      .then((r) => {
        if (!Array.isArray(r)) return done([]);
        done(r.map((x: Record<string, unknown>): SearchSymbolResultItem => ({
          symbol: String(x.symbol ?? x.ticker ?? ''), description: String(x.description ?? ''), exchange: String(x.exchange ?? ''), type: String(x.type ?? ''),
          ...(x.ticker !== undefined ? { ticker: String(x.ticker) } : {}),
        })));
      })
      .catch(() => done([]));
  }

  resolveSymbol(symbolName: string, onResolve: ResolveCallback, onError: DatafeedErrorCallback, _extension?: SymbolResolveExtension): void {
    const ok = once(onResolve), bad = once(onError);
    const cached = this.symbols.get(symbolName);
    if (cached) { later(() => ok(cached)); return; }
    this.get<Record<string, unknown>>('/symbols', { symbol: symbolName })
      .then((r) => {
        if (!r || typeof r !== 'object' || 's' in r) return bad('unknown_symbol');
        const info = normalizeSymbol(r, symbolName);
        this.symbols.set(symbolName, info);
        this.symbols.set(info.ticker!, info);
        this.symbols.set(info.name, info);
        ok(info);
      })
      .catch(() => bad('unknown_symbol'));
  }

  getBars(symbolInfo: LibrarySymbolInfo, resolution: ResolutionString, periodParams: PeriodParams, onResult: HistoryCallback, onError: DatafeedErrorCallback): void {
    const ok = once(onResult), bad = once(onError);
    const ticker = symbolInfo.ticker || symbolInfo.name;
    this.history(ticker, resolution, periodParams.from, periodParams.to, periodParams.countBack)
      .then(({ bars, meta }) => {
        if (periodParams.firstDataRequest && bars.length) this.lastBars.set(`${ticker}|${resolution}`, bars[bars.length - 1]);
        ok(bars, meta);
      })
      .catch((e: Error) => bad(e.message));
  }

  /** /history → ascending unique ms bars strictly before `to` (seconds). */
  private async history(ticker: string, resolution: string, from: number, to: number, countBack: number): Promise<{ bars: Bar[]; meta: HistoryMetadata }> {
    // the library asks for up to 1.2 M bars on a replay's first load: ask for what one answer can hold
    // (fewer bars than countBack makes the library ask again for the older part)
    const countback = Math.min(MAX_COUNTBACK, Math.max(0, Math.floor(countBack)));
    const r = await this.get<Record<string, any>>('/history', { symbol: ticker, resolution, from: Math.floor(from), to: Math.min(Math.ceil(to), MAX_TO_S), countback });
    if (r.s === 'no_data') return { bars: [], meta: { noData: true, ...(typeof r.nextTime === 'number' ? { nextTime: r.nextTime } : {}) } };
    if (r.s !== 'ok') throw new Error(typeof r.errmsg === 'string' ? r.errmsg : 'history request failed');
    const t: number[] = r.t ?? [];
    const col = (k: string, i: number): number => (Array.isArray(r[k]) ? Number(r[k][i]) : r[k] !== undefined ? Number(r[k]) : Number(r.c[i]));
    const bars: Bar[] = [];
    const toMs = Math.ceil(to) * 1000;
    for (let i = 0; i < t.length; i++) {
      const time = t[i] * 1000;
      if (time >= toMs) continue;
      if (bars.length && time <= bars[bars.length - 1].time) continue;
      const b: Bar = { time, open: col('o', i), high: col('h', i), low: col('l', i), close: Number(r.c[i]) };
      if (r.v !== undefined) b.volume = col('v', i);
      bars.push(b);
    }
    return { bars, meta: bars.length ? {} : { noData: true } };
  }

  subscribeBars(symbolInfo: LibrarySymbolInfo, resolution: ResolutionString, onTick: SubscribeBarsCallback, listenerGuid: string, onResetCacheNeededCallback: () => void): void {
    this.unsubscribeBars(listenerGuid);
    const ticker = symbolInfo.ticker || symbolInfo.name;
    const L: Listener = {
      guid: listenerGuid, ticker, resolution, onTick, onReset: onResetCacheNeededCallback,
      last: this.lastBars.get(`${ticker}|${resolution}`) ?? null, sub: null, mode: 'bar', bucketMs: 0, ticks: 0, count: 0,
      refilling: false, pending: [], closed: false,
    };
    this.listeners.set(listenerGuid, L);
    const m = /^(\d*)([STDWM]?)$/.exec(resolution);
    const n = m && m[1] !== '' ? Number(m[1]) : 1;
    const unit = m ? m[2] : '';
    if (unit === 'S' || unit === 'T') this.tickMode(L, unit === 'S' ? n * 1000 : 0, n);
    else if (unit === 'W' || unit === 'M') this.tickMode(L, -1, 0);
    else this.barMode(L);
  }

  unsubscribeBars(listenerGuid: string): void {
    const L = this.listeners.get(listenerGuid);
    if (!L) return;
    L.closed = true;
    L.sub?.unsubscribe();
    this.listeners.delete(listenerGuid);
  }

  /** Emit a bar to a listener, enforcing time order (equal replaces, greater appends). */
  private emit(L: Listener, b: Bar): void {
    if (L.closed) return;
    if (L.last && b.time < L.last.time) { this.timeViolations++; this.diag(`${L.guid}: dropped bar ${b.time} older than ${L.last.time}`); return; }
    L.last = b;
    this.lastBars.set(`${L.ticker}|${L.resolution}`, b);
    L.onTick({ ...b });
  }

  private barMode(L: Listener): void {
    const tf = normalizeTimeframe(L.resolution) ?? L.resolution;
    L.mode = 'bar';
    L.sub = this.stream.subscribe('bar', L.ticker, {
      onSnapshot: (d, info) => {
        const bars = d.bars.map(wireToBar);
        if (d.open) bars.push(wireToBar(d.open));
        void this.refill(L, bars, info.resync);
      },
      onUpdate: (b) => {
        const bar = wireToBar(b);
        if (L.refilling) L.pending.push(bar); else this.emit(L, bar);
      },
      onError: (e) => {
        if (e.code === 'bad_timeframe') { this.diag(`${L.guid}: ${e.message}; building ${L.resolution} bars from ticks`); this.tickMode(L, timeframeMsOf(tf), 0); }
        else this.diag(`${L.guid}: ${e.code}: ${e.message}`);
      },
    }, { tf, limit: this.snapshotBars });
  }

  /**
   * Bring a listener up to date from a snapshot: bars at or after its last bar are emitted; when the
   * snapshot starts later than the last bar (a long disconnect), /history fills the hole first.
   */
  private async refill(L: Listener, snap: Bar[], resync: boolean): Promise<void> {
    L.refilling = true;
    try {
      const last = L.last;
      if (last && snap.length && snap[0].time > last.time && resync) {
        try {
          const { bars } = await this.history(L.ticker, L.resolution, Math.floor(last.time / 1000), Math.ceil(snap[0].time / 1000), 0);
          for (const b of bars) if (b.time >= last.time && b.time < snap[0].time) this.emit(L, b);
        } catch (e) {
          this.diag(`${L.guid}: refill failed (${(e as Error).message}); resetting the chart cache`);
          L.onReset();
        }
      }
      const from = L.last ? L.last.time : -Infinity;
      const todo = L.last ? snap.filter((b) => b.time >= from) : snap.slice(-1);
      for (const b of todo) this.emit(L, b);
      for (const b of L.pending.splice(0)) this.emit(L, b);
    } finally {
      L.refilling = false;
      for (const b of L.pending.splice(0)) this.emit(L, b);
    }
  }

  /** Realtime bars built from trades: bucketMs > 0 time buckets, 0 = N-tick bars, -1 = update the last bar only. */
  private tickMode(L: Listener, bucketMs: number, ticks: number): void {
    L.sub?.unsubscribe();
    L.mode = 'tick';
    L.bucketMs = bucketMs;
    L.ticks = ticks;
    L.count = ticks; // the last history bar is considered full
    const apply = (trades: WireTrade[]): void => {
      for (const [ts, price, size] of trades) {
        const cur = L.last;
        let time: number;
        if (bucketMs > 0) time = Math.floor(ts / bucketMs) * bucketMs;
        else if (bucketMs < 0) { if (!cur) continue; time = cur.time; }
        else {
          const sec = Math.floor(ts / 1000) * 1000;
          time = cur && (L.count < ticks || sec <= cur.time) ? cur.time : sec;
        }
        if (cur && time < cur.time) continue; // trade older than the bar on screen
        if (cur && time === cur.time) {
          const b: Bar = { time, open: cur.open, high: Math.max(cur.high, price), low: Math.min(cur.low, price), close: price, volume: (cur.volume ?? 0) + size };
          L.count++;
          this.emit(L, b);
        } else {
          L.count = 1;
          this.emit(L, { time, open: price, high: price, low: price, close: price, volume: size });
        }
      }
    };
    L.sub = this.stream.subscribe('tick', L.ticker, {
      onSnapshot: (_d, info) => {
        if (!info.resync || !L.last) return;
        // trades during the disconnect are gone from the stream: refill the bars from /history
        const last = L.last;
        L.refilling = true;
        this.history(L.ticker, L.resolution, Math.floor(last.time / 1000), Math.ceil(Date.now() / 1000) + 1, 2)
          .then(({ bars }) => { for (const b of bars) if (b.time >= last.time) this.emit(L, b); L.count = L.ticks; })
          .catch(() => L.onReset())
          .finally(() => { L.refilling = false; for (const t of L.pending.splice(0)) this.emit(L, t); });
      },
      onUpdate: (u) => { if (!L.refilling) apply(u.trades); },
      onError: (e) => this.diag(`${L.guid}: ${e.code}: ${e.message}`),
    }, { limit: 0 });
  }

  getMarks(symbolInfo: LibrarySymbolInfo, from: number, to: number, onDataCallback: GetMarksCallback<Mark>, resolution: ResolutionString): void {
    const done = once(onDataCallback);
    this.get<unknown>('/marks', { symbol: symbolInfo.ticker || symbolInfo.name, from, to, resolution })
      .then((r) => done(rowsOf<Mark>(r)))
      .catch(() => done([]));
  }

  getTimescaleMarks(symbolInfo: LibrarySymbolInfo, from: number, to: number, onDataCallback: GetMarksCallback<TimescaleMark>, resolution: ResolutionString): void {
    const done = once(onDataCallback);
    this.get<unknown>('/timescale_marks', { symbol: symbolInfo.ticker || symbolInfo.name, from, to, resolution })
      .then((r) => done(rowsOf<TimescaleMark>(r)))
      .catch(() => done([]));
  }

  /**
   * The built-in Volume Profile (Visible/Fixed Range) builds its rows from the bars it requests at this
   * resolution, spreading each bar's volume over its high–low range. The finer the bars, the closer its
   * rows are to the exact traded volume per price: one-second bars up to 6 hours, 1-minute bars up to 10
   * days, else the chart's resolution (the library's cost grows with the bar count). Only resolutions
   * the server offers are returned. (A footprint cannot be drawn by a custom indicator: see
   * examples/charting-library/README.md.)
   */
  getVolumeProfileResolutionForPeriod(currentResolution: ResolutionString, from: number, to: number, _symbolInfo: LibrarySymbolInfo): ResolutionString {
    const span = to - from;
    const pick = span <= 6 * 3600 ? '1S' : span <= 10 * 86_400 ? '1' : null;
    const offered = this.configCache?.supported_resolutions;
    if (pick && (!offered || offered.includes(pick as ResolutionString))) return pick as ResolutionString;
    return currentResolution;
  }

  getServerTime(callback: ServerTimeCallback): void {
    this.get<number>('/time').then((t) => { if (Number.isFinite(Number(t))) callback(Math.floor(Number(t))); }).catch(() => {});
  }

  // ---- IDatafeedQuotesApi -------------------------------------------------------------------

  getQuotes(symbols: string[], onDataCallback: QuotesCallback, onErrorCallback: QuotesErrorCallback): void {
    const ok = once(onDataCallback), bad = once(onErrorCallback);
    // the library asks for [] (e.g. an empty watchlist): answer [] without a request (was /quotes?symbols= → 400)
    if (symbols.length === 0) { later(() => ok([])); return; }
    this.get<Record<string, any>>('/quotes', { symbols: symbols.join(',') })
      .then((r) => {
        if (r.s !== 'ok' || !Array.isArray(r.d)) return bad(typeof r.errmsg === 'string' ? r.errmsg : 'quotes request failed');
        const byName = new Map<string, QuoteData>(r.d.map((q: QuoteData) => [q.n, q]));
        ok(symbols.map((n, i) => {
          const q = byName.get(n) ?? r.d[i];
          return q ? { ...q, n } as QuoteData : { s: 'error', n, v: {} };
        }));
      })
      .catch((e: Error) => bad(e.message));
  }

  subscribeQuotes(symbols: string[], fastSymbols: string[], onRealtimeCallback: QuotesCallback, listenerGUID: string): void {
    this.unsubscribeQuotes(listenerGUID);
    const names = [...new Set([...symbols, ...fastSymbols])];
    const entry = { subs: [] as StreamSubscription[], cb: onRealtimeCallback };
    this.quoteSubs.set(listenerGUID, entry);
    for (const n of names) {
      const push = (s: WireStats): void => { if (this.quoteSubs.get(listenerGUID) === entry) entry.cb([{ s: 'ok', n, v: statsToQuote(s, n) }]); };
      entry.subs.push(this.stream.subscribe('stats', n, {
        onSnapshot: push, onUpdate: push,
        onError: () => { if (this.quoteSubs.get(listenerGUID) === entry) entry.cb([{ s: 'error', n, v: {} }]); },
      }));
    }
  }

  unsubscribeQuotes(listenerGUID: string): void {
    const e = this.quoteSubs.get(listenerGUID);
    if (!e) return;
    this.quoteSubs.delete(listenerGUID);
    for (const s of e.subs) s.unsubscribe();
  }

  // ---- depth --------------------------------------------------------------------------------

  subscribeDepth(symbol: string, callback: DOMCallback): string {
    const id = `depth-${++this.depthIds}`;
    const push = (b: WireBook): void => {
      if (!this.depthSubs.has(id)) return;
      const asc = (l: [number, number][]) => l.map(([price, volume]) => ({ price, volume })).sort((a, c) => a.price - c.price);
      callback({ snapshot: true, asks: asc(b.asks), bids: asc(b.bids) });
    };
    this.depthSubs.set(id, this.stream.subscribe('orderbook', symbol, { onSnapshot: push, onUpdate: push }, { depth: 20 }));
    return id;
  }

  unsubscribeDepth(subscriberUID: string): void {
    const s = this.depthSubs.get(subscriberUID);
    if (!s) return;
    this.depthSubs.delete(subscriberUID);
    s.unsubscribe();
  }

  /** Stop all listeners and release the stream (the shared socket closes with its last user). */
  destroy(): void {
    for (const g of [...this.listeners.keys()]) this.unsubscribeBars(g);
    for (const g of [...this.quoteSubs.keys()]) this.unsubscribeQuotes(g);
    for (const g of [...this.depthSubs.keys()]) this.unsubscribeDepth(g);
    if (this.ownsStream) this.stream.release();
  }
}

// ---- helpers --------------------------------------------------------------------------------

export function defaultStreamUrl(base: string): string {
  const loc = (globalThis as { location?: { href: string } }).location;
  const u = new URL(base, loc?.href ?? 'http://localhost/');
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = '/ws';
  u.search = '';
  return u.toString();
}

function timeframeMsOf(tf: string): number {
  const m = /^(\d+)([smhD])$/.exec(tf);
  if (!m) return 60_000;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, D: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'D'];
}

/** UDF /symbols body (underscore or dashed keys) → LibrarySymbolInfo with every required field set. */
export function normalizeSymbol(r: Record<string, unknown>, requested: string): LibrarySymbolInfo {
  const pick = (...keys: string[]): unknown => { for (const k of keys) if (r[k] !== undefined && r[k] !== null) return r[k]; return undefined; };
  const str = (d: string, ...keys: string[]): string => { const v = pick(...keys); return v === undefined ? d : String(v); };
  const num = (d: number, ...keys: string[]): number => { const v = Number(pick(...keys)); return Number.isFinite(v) ? v : d; };
  const bool = (d: boolean, ...keys: string[]): boolean => { const v = pick(...keys); return v === undefined ? d : Boolean(v); };
  const arr = (...keys: string[]): string[] | undefined => { const v = pick(...keys); return Array.isArray(v) ? v.map(String) : undefined; };
  const name = str(requested, 'name', 'symbol');
  const exchange = str('', 'exchange', 'exchange-traded', 'exchange_traded');
  const info: LibrarySymbolInfo = {
    ...(r as object),
    name,
    ticker: str(name, 'ticker'),
    description: str(name, 'description'),
    type: str('crypto', 'type'),
    session: str('24x7', 'session', 'session-regular', 'session_regular'),
    exchange,
    listed_exchange: str(exchange, 'listed_exchange', 'exchange-listed', 'exchange_listed'),
    // the server's value, kept as sent (an Olson name from the library's list, or Etc/UTC)
    timezone: str('Etc/UTC', 'timezone') as Timezone,
    format: str('price', 'format') === 'volume' ? 'volume' : 'price',
    pricescale: num(100, 'pricescale'),
    minmov: num(1, 'minmov', 'minmovement'),
    has_intraday: bool(true, 'has_intraday', 'has-intraday'),
    visible_plots_set: (str('ohlcv', 'visible_plots_set', 'visible-plots-set') as LibrarySymbolInfo['visible_plots_set']),
  };
  const sr = arr('supported_resolutions', 'supported-resolutions');
  if (sr) info.supported_resolutions = sr as ResolutionString[];
  const im = arr('intraday_multipliers', 'intraday-multipliers');
  if (im) info.intraday_multipliers = im;
  for (const k of Object.keys(info) as (keyof LibrarySymbolInfo)[]) if ((k as string).includes('-')) delete (info as unknown as Record<string, unknown>)[k];
  delete (info as unknown as Record<string, unknown>).s;
  return info;
}

/** Marks arrive as an array or as a column table {id:[], time:[], …}. */
function rowsOf<T>(r: unknown): T[] {
  if (Array.isArray(r)) return r as T[];
  if (!r || typeof r !== 'object' || 's' in (r as object)) return [];
  const t = r as Record<string, unknown[]>;
  const n = Array.isArray(t.id) ? t.id.length : 0;
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(t)) row[k] = Array.isArray(v) ? v[i] : v;
    out.push(row as T);
  }
  return out;
}

/** stats channel → quote values (change is against the previous session close, else the session open). */
export function statsToQuote(s: WireStats, name: string): DatafeedQuoteValues {
  const ref = s.prevClose ?? s.open;
  const lp = s.last ?? undefined;
  const v: DatafeedQuoteValues = { short_name: name, original_name: s.symbol, volume: s.volume };
  if (lp !== undefined) v.lp = lp;
  if (ref !== null) v.prev_close_price = ref;
  if (lp !== undefined && ref !== null) { v.ch = lp - ref; v.chp = ref !== 0 ? ((lp - ref) / ref) * 100 : 0; }
  if (s.open !== null) v.open_price = s.open;
  if (s.high !== null) v.high_price = s.high;
  if (s.low !== null) v.low_price = s.low;
  if (s.bid !== null) v.bid = s.bid;
  if (s.ask !== null) v.ask = s.ask;
  if (s.bid !== null && s.ask !== null) v.spread = s.ask - s.bid;
  return v;
}
