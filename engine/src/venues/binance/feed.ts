/**
 * Binance live feed: USD-M futures, COIN-M futures and spot.
 *
 * - `feeds[].wsUrl` names the venue ROOT (`wss://fstream.binance.com`); the feed derives its routes from it.
 *   USD-M follows Binance's "Important WebSocket Change Notice — Base URL Split & Migration" (announced
 *   2026-03-06, legacy URLs retired 2026-04-23): high-frequency public data (`@depth`, `@bookTicker`) on
 *   `<root>/public`, regular market data (`@aggTrade`, `@trade`) on `<root>/market`, each as a combined
 *   stream (`/stream?streams=a/b/c`). The unrouted root only carries /public data, so trades on it stay
 *   silent: the feed never dials it. COIN-M and spot docs (checked 2026-12-04) still serve every stream on
 *   their root (`<root>/stream?streams=`), which stays the default there; `routing: split | root` overrides.
 *   A legacy wsUrl ending in `/stream` or `/ws` (or `/public`, `/market`) is cut back to its root.
 * - Many symbols per connection (≤ 200 streams per futures connection, 1024 on spot); per symbol
 *   `<s>@aggTrade` (or `@trade`), `<s>@depth@100ms` and `<s>@bookTicker`.
 * - The server pings every few minutes; `ws` answers pongs automatically. We also ping and reconnect when
 *   nothing arrives for `staleMs`. Connections are renewed before Binance's 24-hour cut (maxConnectionMs).
 * - Depth: the engine's BinanceSync buffers diffs, drops stale ones and checks `pu`/`u` (futures) or
 *   `U`/`u` (spot). This feed fetches the REST snapshot (`/fapi/v1/depth`, `/api/v3/depth`, `/dapi/v1/depth`)
 *   after the first diff of a connection, and again on every resync request (BookManager onResync).
 * - Trades: ids (`a` for aggTrade, `t` for trade) are contiguous per symbol. An id <= the last delivered one
 *   is a duplicate (dropped); a jump holds the symbol's trades and backfills the missing ids over REST
 *   (`/fapi/v1/aggTrades?fromId=` / `/api/v3/aggTrades` / `/dapi/v1/aggTrades`; for `@trade`
 *   `historicalTrades?fromId=`, which Binance may require an API key for — unverified here), then releases.
 * - exchangeInfo gives tick sizes and lot steps for symbols the registry does not know, and discovers the
 *   gold/silver perpetuals (`@metals` in the symbol list → XAUUSDT, XAGUSDT on USD-M).
 * - REST weights (Binance docs, as of 2024): futures depth limit 1000 = 20, aggTrades = 20,
 *   exchangeInfo = 1, budget 2400/min; spot depth 1000 = 50, aggTrades = 2, exchangeInfo = 20, 6000/min.
 */
import type { InstrumentSpec } from '../../core/instruments.js';
import { SESSION_TEMPLATES } from '../../core/sessions.js';
import { normalizeDecimal } from '../../core/decimal.js';
import { BaseFeed, type ConnPlan } from '../../feeds/base.js';
import type { WsConn } from '../../feeds/ws.js';
import type { FeedOptions } from '../../feeds/types.js';
import { canonicalStep } from '../../feeds/util.js';
import { parseBinanceFrame } from './parse.js';

/** most trade ids fetched over REST for one gap (1000 per request) */
const MAX_BACKFILL_IDS = 200_000;

type Obj = Record<string, unknown>;

interface Flavor { ws: string; routing: 'split' | 'root'; rest: string; prefix: string; weight: number; streamsPerConn: number; depthWeight: number; tradesWeight: number; infoWeight: number }

const FLAVORS: Record<'binance-usdm' | 'binance-spot' | 'binance-coinm', Flavor> = {
  'binance-usdm': { ws: 'wss://fstream.binance.com', routing: 'split', rest: 'https://fapi.binance.com', prefix: '/fapi/v1', weight: 2400, streamsPerConn: 200, depthWeight: 20, tradesWeight: 20, infoWeight: 1 },
  'binance-coinm': { ws: 'wss://dstream.binance.com', routing: 'root', rest: 'https://dapi.binance.com', prefix: '/dapi/v1', weight: 2400, streamsPerConn: 200, depthWeight: 20, tradesWeight: 20, infoWeight: 1 },
  'binance-spot': { ws: 'wss://stream.binance.com:9443', routing: 'root', rest: 'https://api.binance.com', prefix: '/api/v3', weight: 6000, streamsPerConn: 1024, depthWeight: 50, tradesWeight: 4, infoWeight: 20 },
};

/** The venue root of a wsUrl: a trailing `/stream`, `/ws`, `/public` or `/market` (legacy configs) is cut off. */
export function binanceRoot(url: string): string {
  let u = url.replace(/[?#].*$/, '').replace(/\/+$/, '');
  for (;;) {
    const cut = u.replace(/\/(stream|ws|public|market)$/, '');
    if (cut === u) return u;
    u = cut;
  }
}

/** Which route of the split venue serves a stream: depth and bookTicker are /public, the rest /market. */
export function binanceRouteOf(stream: string): 'public' | 'market' {
  return /@depth|@bookTicker$/.test(stream) || stream === '!bookTicker' ? 'public' : 'market';
}

/** A symbol entry that expands to the gold/silver perpetuals found in exchangeInfo. */
export const METALS = '@metals';

export interface BinanceSymbolInfo { symbol: string; baseAsset: string; quoteAsset: string; status: string; contractType?: string; tickSize: string; stepSize: string; contractSize?: number }

/** Parse an exchangeInfo body into per-symbol tick sizes (PRICE_FILTER) and lot steps (LOT_SIZE). */
export function parseExchangeInfo(body: unknown): BinanceSymbolInfo[] {
  const syms = (body as { symbols?: unknown })?.symbols;
  if (!Array.isArray(syms)) throw new Error('exchangeInfo without symbols');
  const out: BinanceSymbolInfo[] = [];
  for (const s of syms as Obj[]) {
    const filters = Array.isArray(s.filters) ? (s.filters as Obj[]) : [];
    const pf = filters.find((f) => f.filterType === 'PRICE_FILTER');
    const lf = filters.find((f) => f.filterType === 'LOT_SIZE');
    if (typeof s.symbol !== 'string' || !pf || !lf) continue;
    out.push({
      symbol: s.symbol, baseAsset: String(s.baseAsset ?? ''), quoteAsset: String(s.quoteAsset ?? ''),
      status: String(s.status ?? s.contractStatus ?? ''), contractType: typeof s.contractType === 'string' ? s.contractType : undefined,
      tickSize: canonicalStep(String(pf.tickSize)), stepSize: canonicalStep(String(lf.stepSize)),
      contractSize: typeof s.contractSize === 'number' ? s.contractSize : undefined,
    });
  }
  return out;
}

/** Gold and silver perpetuals (base XAU/XAG, contract type PERPETUAL, trading). */
export function discoverMetals(info: BinanceSymbolInfo[]): string[] {
  return info.filter((s) => (s.baseAsset === 'XAU' || s.baseAsset === 'XAG') && (s.contractType === undefined || s.contractType === 'PERPETUAL') && s.status === 'TRADING').map((s) => s.symbol).sort();
}

export class BinanceFeed extends BaseFeed {
  private readonly f: Flavor;
  private readonly lastId = new Map<string, number>();
  private readonly snapshotInflight = new Set<string>();
  private readonly needSnapshot = new Set<string>();
  exchangeInfo: BinanceSymbolInfo[] | null = null;

  constructor(o: FeedOptions) {
    const venue = o.venue as 'binance-usdm' | 'binance-spot' | 'binance-coinm';
    const f = FLAVORS[venue];
    if (!f) throw new Error(`not a Binance venue: ${o.venue}`);
    super(o, {
      wsUrl: f.ws, restUrl: f.rest, weightPerMinute: f.weight, parserVenue: venue, maxConnectionMs: (23 * 60 + 50) * 60_000,
      parse: (frame, recv, ctx, sink) => { ctx.binanceVenue = venue; parseBinanceFrame(frame, recv, ctx, sink); },
    });
    this.f = f;
  }

  private get tradeStream(): 'aggTrade' | 'trade' { return this.o.tradeStream ?? 'aggTrade'; }

  protected override async prepare(): Promise<void> {
    const wantMetals = this.symbols.includes(METALS.toUpperCase());
    if (this.o.exchangeInfo === false && !wantMetals) { this.symbols = this.symbols.filter((s) => s !== METALS.toUpperCase()); return; }
    const body = await this.retry('exchangeInfo', () => this.rest.getJson(`${this.f.prefix}/exchangeInfo`, this.f.infoWeight, this.abort.signal), 3);
    let info: BinanceSymbolInfo[] | null = null;
    if (body !== undefined) {
      try { info = parseExchangeInfo(body); } catch (e) { this.log.warn(`${this.name}: ${(e as Error).message}`); }
    }
    this.exchangeInfo = info;
    let syms = this.symbols.filter((s) => s !== METALS.toUpperCase());
    if (wantMetals) {
      if (info) {
        const m = discoverMetals(info);
        this.log.info(`${this.name}: discovered metal perpetuals ${m.join(', ') || '(none)'}`);
        syms = [...new Set([...syms, ...m])];
      } else this.log.error(`${this.name}: cannot discover ${METALS} without exchangeInfo; continuing with ${syms.join(', ')}`);
    }
    this.symbols = syms;
    if (info) for (const s of syms) this.register(s, info);
  }

  private register(symbol: string, info: BinanceSymbolInfo[]): void {
    const si = info.find((x) => x.symbol === symbol);
    if (!si) { this.log.warn(`${this.name}: ${symbol} is not listed in exchangeInfo`); return; }
    const known = this.lookup(symbol);
    if (known) {
      if (canonicalStep(known.tickSize) !== si.tickSize) this.log.warn(`${this.name}: ${known.id} tick size ${known.tickSize} differs from exchangeInfo ${si.tickSize} (keeping the configured one)`);
      return;
    }
    const id = this.venue === 'binance-usdm' ? symbol : `${this.venue === 'binance-spot' ? 'BINANCE_SPOT' : 'BINANCE_COINM'}:${symbol}`;
    const tick = si.tickSize;
    const row = (Number(tick) * 10).toString();
    const spec: InstrumentSpec = {
      id, symbol, venue: this.venue, assetClass: si.baseAsset === 'XAU' || si.baseAsset === 'XAG' ? 'metal' : 'crypto',
      description: `${symbol} on ${this.venue} (tick ${tick}, lot ${si.stepSize} from exchangeInfo)`,
      tickSize: tick, lotStep: si.stepSize, profileRow: normalizeDecimal(Number(row).toFixed(12)),
      contractSize: si.contractSize ?? 1, session: SESSION_TEMPLATES.crypto_24x7,
      thresholds: { absorptionMinVolume: 0, initiativeMinDelta: 0, auto: true }, flow: 'orderflow',
    };
    try {
      this.o.registry.add(spec);
      this.log.warn(`${this.name}: ${id} is not in the instrument registry: tick and lot from exchangeInfo, detector thresholds auto (derived from the data; nothing fires before 10 bars); add an instruments[] entry with id "${id}" to set them`);
    } catch (e) {
      this.log.warn(`${this.name}: cannot register ${symbol}: ${(e as Error).message}`);
    }
  }

  private streamsOf(symbol: string): string[] {
    const s = symbol.toLowerCase();
    const out = [`${s}@${this.tradeStream}`];
    if (this.o.depth !== false) out.push(`${s}@depth@${this.o.depthSpeed ?? '100ms'}`);
    if (this.o.bookTicker !== false) out.push(`${s}@bookTicker`);
    return out;
  }

  /** 'split': /public + /market connections (USD-M since 2026-04-23); 'root': every stream on the root. */
  get routing(): 'split' | 'root' { return this.o.routing ?? this.f.routing; }

  protected plan(): ConnPlan[] {
    const per = this.o.perConnection ?? this.f.streamsPerConn;
    const routes: ('public' | 'market' | 'root')[] = this.routing === 'split' ? ['public', 'market'] : ['root'];
    const plans: ConnPlan[] = [];
    for (const route of routes) {
      const streamsOf = (s: string): string[] => this.streamsOf(s).filter((x) => route === 'root' || binanceRouteOf(x) === route);
      let cur: string[] = [];
      let n = 0;
      for (const s of this.symbols) {
        const k = streamsOf(s).length;
        if (k === 0) continue;
        if (cur.length && n + k > per) { plans.push(this.planFor(cur, route, streamsOf)); cur = []; n = 0; }
        cur.push(s); n += k;
      }
      if (cur.length) plans.push(this.planFor(cur, route, streamsOf));
    }
    return plans;
  }

  private planFor(symbols: string[], route: 'public' | 'market' | 'root', streamsOf: (s: string) => string[]): ConnPlan {
    const streams = symbols.flatMap(streamsOf).join('/');
    const root = binanceRoot(this.wsUrl);
    const base = route === 'root' ? root : `${root}/${route}`;
    return { symbols, url: () => `${base}/stream?streams=${streams}` };
  }

  protected onOpen(conn: WsConn, symbols: string[], reconnect: boolean): void {
    // First connection: the first diff of each symbol triggers the REST snapshot. After a reconnect the
    // synchronizer sees the broken pu/u chain itself and asks for a resync (onResync).
    // Only the connection that carries the depth streams (the /public one when split) asks for snapshots:
    // a /market connection opening late must not ask for a second one.
    if (!reconnect && conn.url.includes('@depth')) for (const s of symbols) this.needSnapshot.add(s);
  }

  protected onText(text: string, recv: number): void {
    const o = this.parseText(text, recv);
    if (!o) return;
    const d = (typeof o.stream === 'string' && o.data !== null && typeof o.data === 'object' ? o.data : o) as Obj;
    const e = d.e;
    if (e === 'aggTrade' || e === 'trade') { this.tradeFrame(o, recv); return; }
    if (e === 'depthUpdate' && typeof d.s === 'string' && this.needSnapshot.has(d.s)) {
      this.needSnapshot.delete(d.s);
      this.ingest(o, recv);
      void this.fetchSnapshot(d.s, false);
      return;
    }
    this.ingest(o, recv);
  }

  private tradeFrame = (frame: unknown, recv: number): void => {
    const o = frame as Obj;
    const d = (typeof o.stream === 'string' && o.data !== null && typeof o.data === 'object' ? o.data : o) as Obj;
    const sym = d.s;
    const id = d.e === 'aggTrade' ? d.a : d.t;
    if (typeof sym !== 'string' || typeof id !== 'number') { this.ingest(frame, recv); return; }
    if (this.isHeld(sym)) { this.queueHeld(sym, recv, frame); return; }
    const last = this.lastId.get(sym);
    if (last !== undefined && id <= last) { this.counters.duplicates++; return; }
    if (last !== undefined && id - 1 - last > MAX_BACKFILL_IDS) {
      // too long a downtime to fetch over REST (it would hold live trades for minutes): recorded, not fetched
      const inst = this.instrumentId(sym);
      this.gap(inst, 'trades', `trade ids ${last + 1}..${id - 1} missing (more than ${MAX_BACKFILL_IDS} to backfill)`, { missing: id - 1 - last });
      this.completeness.close(inst, 'trades', { recovered: 0, complete: false });
      this.lastId.set(sym, id);
      this.ingest(frame, recv);
      return;
    }
    if (last !== undefined && id > last + 1) {
      const inst = this.instrumentId(sym);
      this.gap(inst, 'trades', `trade ids ${last + 1}..${id - 1} missing`, { missing: id - 1 - last });
      this.hold(sym);
      this.queueHeld(sym, recv, frame);
      void this.backfill(sym, last + 1, id - 1);
      return;
    }
    this.lastId.set(sym, id);
    this.ingest(frame, recv);
  };

  /** Fetch trades [from, to] over REST and ingest them as stream frames, then release held trades. */
  private async backfill(sym: string, from: number, to: number): Promise<void> {
    const inst = this.instrumentId(sym);
    let next = from;
    let recovered = 0;
    const agg = this.tradeStream === 'aggTrade';
    const path = agg ? 'aggTrades' : 'historicalTrades';
    while (next <= to && !this.stopped) {
      const limit = Math.min(1000, to - next + 1);
      const rows = await this.retry(`backfill ${sym} from id ${next}`, () => this.rest.getJson(`${this.f.prefix}/${path}?symbol=${sym}&fromId=${next}&limit=${limit}`, this.f.tradesWeight, this.abort.signal), 5);
      if (!Array.isArray(rows) || rows.length === 0) break;
      let progressed = false;
      for (const r of rows as Obj[]) {
        const id = Number(agg ? r.a : r.id);
        if (!(id >= next && id <= to)) continue;
        const frame = agg
          ? { e: 'aggTrade', E: r.T, s: sym, a: id, p: r.p, q: r.q, f: r.f, l: r.l, T: r.T, m: r.m, _backfill: true }
          : { e: 'trade', E: r.time, s: sym, t: id, p: r.price, q: r.qty, T: r.time, m: r.isBuyerMaker, _backfill: true };
        this.lastId.set(sym, id);
        this.ingest(frame, this.now());
        recovered++;
        next = id + 1;
        progressed = true;
      }
      if (!progressed) break;
    }
    if (this.stopped) return;
    this.counters.backfilled += recovered;
    const complete = next > to;
    if (!complete) {
      this.log.error(`${this.name}: ${sym} trade ids ${next}..${to} could not be backfilled`);
      this.lastId.set(sym, to);
    }
    this.completeness.close(inst, 'trades', { recovered, complete });
    this.release(sym, this.tradeFrame);
    this.emit('backfill', { symbol: sym, from, to, recovered, complete });
  }

  private async fetchSnapshot(sym: string, resync: boolean): Promise<void> {
    if (this.snapshotInflight.has(sym)) return;
    this.snapshotInflight.add(sym);
    if (resync) this.counters.resyncs++;
    const limit = this.o.depthLimit ?? 1000;
    const body = await this.retry(`depth snapshot ${sym}`, () => this.rest.getJson(`${this.f.prefix}/depth?symbol=${sym}&limit=${limit}`, this.f.depthWeight, this.abort.signal));
    this.snapshotInflight.delete(sym);
    if (body === undefined || this.stopped) return;
    if (body === null || typeof body !== 'object') { this.malformed('depth snapshot is not an object'); return; }
    // `symbol` lets the parser (and a replay of the recording) attribute the bare REST body.
    this.ingest({ ...(body as Obj), symbol: sym }, this.now());
    this.emit('snapshot', sym);
  }

  /** A restart: the first live trade after the stored one triggers the id-gap backfill (aggTrades fromId). */
  protected override resumeFrom(symbol: string, last: { id: number; ts: number }): void {
    if (Number.isFinite(last.id) && last.id > 0) this.lastId.set(symbol, last.id);
  }

  protected resyncBook(symbol: string): void {
    void this.fetchSnapshot(symbol, true);
  }
}
