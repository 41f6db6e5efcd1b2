/**
 * The history service: every read the HTTP API, the UDF server and the WebSocket need, answered
 * from the Engine (in-memory bars, open bar, session profiles, CVD, VWAP) and, when configured, the
 * Store (older bars, trades, profiles, signals, gaps).
 *
 * Sources per resolution (see resolution.ts and aggregate.ts for the rules):
 *  - minutes ≥ the engine's base timeframe, 1D, 1W, 1M: base bars (store bars older than the oldest
 *    in-memory bar, then `pipeline.bars`, then the open bar) merged per bucket;
 *  - seconds and ticks: trades (the service's in-memory TradeRing for recent history, the store's
 *    trades table before that), grouped into footprint bars; N-tick bars restart at every UTC hour
 *    so a bar's composition never depends on the requested window.
 * Prices in responses are in price units (ticks × tick size), volumes in instrument units
 * (lots × lot step), times in ms unless a field says otherwise.
 *
 * Change tracking (for caches): `version(id)` = {mod, mutableFrom}. `mod` increments on every trade
 * of the instrument; `mutableFrom` is the earliest time a future trade can change (the open bar's
 * start, else the end of the last bar). A cached answer covering [a, b) stays valid while
 * `mod` is unchanged or b <= the `mutableFrom` observed when it was cached.
 */
import { groupSignalMarks } from '../client/marks.js';
import type { Mark } from '../client/types.js';
import type { Engine } from '../../../engine/src/analytics/engine.js';
import type { InstrumentPipeline } from '../../../engine/src/analytics/pipeline.js';
import type { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import type { BarStatsOptions } from '../../../engine/src/analytics/bar-stats.js';
import type { SignalEvent } from '../../../engine/src/signals/types.js';
import { journalView, signalView } from '../views/signals.js';
import type { Instrument } from '../../../engine/src/core/instruments.js';
import type { Quote, Trade } from '../../../engine/src/core/events.js';
import type { Store } from '../../../engine/src/store/store.js';
import { bucketOf } from './aggregate.js';
import { parseResolution, type Resolution } from './resolution.js';
import { TradeRing } from './trades.js';
import { symbolInfo, type LibrarySymbolInfo } from './symbols.js';
import type { Problem } from '../../../engine/src/status/registry.js';
import { ServiceError } from './errors.js';
import { collapseSameSecond, seriesWork, udfHistoryWork, type SeriesResult } from './bars.js';
import { deltaWork, footprintWork, type FootprintQuery } from './footprints.js';
import { profileWork, type ProfileQuery } from './profiles.js';
import { vwapWork } from './vwap.js';
import { timeAndSalesWork } from './time-sales.js';
import { runSync } from './work.js';
import { isEncoded, joinEncoded } from './udf-columns.js';

export { ServiceError, collapseSameSecond };
export type { SeriesResult, FootprintQuery, ProfileQuery };

export interface ServiceOptions {
  /** recent trades kept in memory per instrument (default 200 000) */
  tradeRingSize?: number;
  /** most bars in one answer (default 20 000) */
  maxBars?: number;
  /** most trades read for one answer: tick/second/volume bars, VWAP series, filtered time & sales (default 2 000 000) */
  maxTrades?: number;
  /** most stored base bars read for one answer: D/W/M bars, range profiles (default 600 000) */
  maxBaseBars?: number;
  /** most footprint bars with rows in one answer (default 5 000) */
  maxFootprintBars?: number;
}

/** Hooks the signals / order-book / strategy engineers fill in. Absent = the documented empty state. */
export interface Providers {
  /** extra /health sections of this node's role (a cluster gateway: what it consumed from the engines) */
  healthSections?(): Record<string, unknown>;
  signals?(q: { symbol?: string; from: number; to: number; limit: number }): SignalRecord[];
  bias?(symbol: string): unknown;
  /** rule-mode decisions of an instrument, oldest first (at most `limit`); undefined when rule mode is off */
  rule?(symbol: string, limit: number): unknown[] | undefined;
  levels?(symbol: string): unknown;
  tradeState?(symbol: string): unknown;
  strategy?(): unknown;
  scanner?(): unknown;
  /** paper trading: account, limits, open positions, fills, analytics (optionally for one instrument) */
  paper?(symbol?: string): Record<string, unknown>;
  /** paper trading control (routes in http/paper.ts) */
  paperControl?: import('../http/paper.js').PaperControl;
  /** per-venue contributions of a merged instrument's footprint cells (null: not a merged instrument) */
  merged?(symbol: string, from: number, to: number, venue?: string): unknown[] | null;
  /** options-chain PCR reports (Kite feeds with kite.pcr): engine/src/signals/pcr.ts PcrReport */
  pcr?(): unknown[];
  /** the instruments the configured chains publish their PCR under (WS channel `pcr`), known before the first report */
  pcrSymbols?(): string[];
  /** live feed status and data-completeness records */
  feeds?(): { feeds: unknown[]; completeness: unknown[]; mode?: string; simulated?: unknown };
  /** replay --serve: the files and the transport's status (position, playing, speed) */
  replay?(): unknown;
  orderbook?(symbol: string, depth: number): { ts: number; synced?: boolean; bids: [number, number][]; asks: [number, number][] } | null;
  depthHistory?(symbol: string, from: number, to: number, limit: number): unknown[];
  /** what is wrong beside the store (feeds, books, Telegram poller): engine/src/status/registry.ts */
  status?(): Problem[];
}

export interface SignalRecord { id: string | number; instrument: string; ts: number; kind: string; side?: 'buy' | 'sell'; price?: number; text?: string; data?: unknown }


interface Track { mod: number; mutableFrom: number; ring: TradeRing; quote: Quote | null }

const TF_MS_DEFAULT = 60_000;

export class HistoryService {
  readonly engine: Engine;
  readonly store: Store | undefined;
  readonly providers: Providers = {};
  readonly startedAt = Date.now();
  readonly opts: Required<ServiceOptions>;
  private readonly tracks = new Map<string, Track>();
  private readonly listeners: ((id: string, t: Trade, bar: FootprintBar) => void)[] = [];
  lastEventAt = 0;

  constructor(engine: Engine, store?: Store, opts: ServiceOptions = {}) {
    this.engine = engine;
    this.store = store;
    this.opts = { tradeRingSize: 200_000, maxBars: 20_000, maxTrades: 2_000_000, maxBaseBars: 600_000, maxFootprintBars: 5000, ...opts };
    engine.onPipeline((p) => {
      const tr = this.track(p.instrument.id);
      p.onTrade((t, bar) => {
        tr.mod++;
        tr.mutableFrom = bar.start;
        tr.ring.push(t.ts, t.id, t.price, t.size, t.side, t.sideSource, bar.cvdClose);
        for (let i = 0; i < this.listeners.length; i++) this.listeners[i](p.instrument.id, t, bar);
      });
      p.onBarClose((cb) => { tr.mutableFrom = Math.max(tr.mutableFrom, cb.bar.end); });
    });
    engine.observe((ev) => {
      this.lastEventAt = Date.now();
      if (ev.type === 'quote') {
        const tr = this.track(ev.instrument);
        tr.quote = { ...ev };
      }
    });
  }

  /** Called after each trade is applied (instrument id, classified trade, the bar it went into). */
  onTrade(fn: (id: string, t: Trade, bar: FootprintBar) => void): void { this.listeners.push(fn); }

  private track(id: string): Track {
    let t = this.tracks.get(id);
    if (!t) { t = { mod: 0, mutableFrom: -Infinity, ring: new TradeRing(this.opts.tradeRingSize), quote: null }; this.tracks.set(id, t); }
    return t;
  }

  get registry() { return this.engine.registry; }

  // ------------------------------------------------------------------ symbols

  instrument(symbol: string, param = 'symbol'): Instrument {
    const i = this.engine.registry.find(symbol);
    if (!i) throw new ServiceError(404, param, `unknown symbol "${symbol.slice(0, 80)}"`);
    return i;
  }

  symbolInfo(symbol: string): LibrarySymbolInfo { return symbolInfo(this.instrument(symbol)); }

  search(query: string, type: string, exchange: string, limit: number): { symbol: string; description: string; exchange: string; type: string; ticker: string }[] {
    const q = query.toUpperCase();
    const out = [];
    for (const i of this.engine.registry.all()) {
      const info = symbolInfo(i);
      if (type && info.type !== type) continue;
      if (exchange && i.venue.toUpperCase() !== exchange.toUpperCase()) continue;
      if (q && !i.id.toUpperCase().includes(q) && !i.symbol.toUpperCase().includes(q) && !i.description.toUpperCase().includes(q)) continue;
      out.push({ symbol: i.id, description: i.description, exchange: i.venue, type: info.type, ticker: i.id });
      if (out.length >= limit) break;
    }
    return out;
  }

  version(id: string): { mod: number; mutableFrom: number } {
    const t = this.tracks.get(id);
    return t ? { mod: t.mod, mutableFrom: t.mutableFrom } : { mod: 0, mutableFrom: -Infinity };
  }

  pipeline(id: string): InstrumentPipeline | undefined { return this.engine.pipelines.get(id); }

  baseTimeframe(id: string): { label: string; ms: number } {
    const p = this.pipeline(id);
    if (p) return { label: p.spec.label, ms: p.spec.kind === 'time' ? p.spec.ms : TF_MS_DEFAULT };
    const tf = this.engine.pipelineOptions.timeframe;
    const label = typeof tf === 'string' ? tf : tf?.label ?? '1m';
    const m = /^(\d+)([smhD])$/.exec(label);
    const unit: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, D: 86_400_000 };
    return { label, ms: m ? Number(m[1]) * unit[m[2]] : TF_MS_DEFAULT };
  }

  resolution(s: string, id: string, param = 'resolution'): Resolution {
    const r = parseResolution(s, this.baseTimeframe(id).ms);
    if (typeof r === 'string') throw new ServiceError(400, param, r);
    return r;
  }

  rowTicks(i: Instrument): number { return this.pipeline(i.id)?.opts.footprintRowTicks ?? i.footprintRowTicks; }

  sessionKeyAt(i: Instrument, ts: number): string { return i.calendar.sessionAt(ts)?.key ?? ''; }

  px(i: Instrument, t: number): number | null { return Number.isFinite(t) ? i.price.toNumber(t) : null; }

  /** The in-memory trade ring of an instrument (recent trades), if it has seen any. */
  ring(id: string): TradeRing | undefined { return this.tracks.get(id)?.ring; }

  statsOptions(id: string): BarStatsOptions {
    const p = this.pipeline(id);
    return { valueArea: p?.opts.valueArea ?? {}, imbalance: p?.opts.imbalance ?? {}, stackedMinRows: p?.opts.stackedMinRows ?? 3, unfinishedMinBid: 0, unfinishedMinAsk: 0 };
  }

  /** Earliest bar time known for an instrument (memory or store), Infinity when none. */
  earliest(id: string): number {
    const p = this.pipeline(id);
    let e = p?.bars.length ? p.bars[0].bar.start : p?.openBar ? p.openBar.start : Infinity;
    const s = this.store?.firstBarStart(id, this.baseTimeframe(id).label);
    if (s !== undefined && s !== null && s < e) e = s;
    return e;
  }

  /** Earliest trade time known (ring or store), Infinity when none. */
  earliestTrade(id: string): number {
    const ring = this.tracks.get(id)?.ring;
    let e = ring && ring.length ? ring.tsAt(0) : Infinity;
    // the first row of the (inst, ts) index, not tradeSpan: MIN and MAX together scan the whole index
    const first = this.store?.tradePage(id, -8.64e15, 8.64e15, null, 1).trades[0]?.ts;
    if (first !== undefined && first < e) e = first;
    return e;
  }

  // ------------------------------------------------------------------ queries (each module states its bound)
  // The *Work generators (bars.ts, footprints.ts, profiles.ts, vwap.ts, time-sales.ts) yield between
  // bounded chunks; the HTTP layer runs them on the shared Scheduler. These synchronous forms are for
  // in-process callers (alerts, examples, tests).

  series(symbol: string, res: Resolution, from: number, to: number, countback: number, withRows: boolean): SeriesResult {
    return runSync(seriesWork(this, symbol, res, from, to, countback, withRows));
  }

  udfHistory(symbol: string, resolution: string, fromS: number, toS: number, countback: number): Record<string, unknown> {
    const b = runSync(udfHistoryWork(this, symbol, resolution, fromS, toS, countback)).body;
    return isEncoded(b) ? JSON.parse(joinEncoded(b).toString('latin1')) as Record<string, unknown> : b;
  }

  footprint(symbol: string, q: FootprintQuery): Record<string, unknown> { return runSync(footprintWork(this, symbol, q)); }

  delta(symbol: string, resolution: string, from: number, to: number, countback: number): Record<string, unknown> {
    return runSync(deltaWork(this, symbol, resolution, from, to, countback));
  }

  profile(symbol: string, q: ProfileQuery): Record<string, unknown> { return runSync(profileWork(this, symbol, q)); }

  vwap(symbol: string, q: { anchor?: number; resolution?: string; to: number }): Record<string, unknown> { return runSync(vwapWork(this, symbol, q)); }

  timeAndSales(symbol: string, q: { from?: number; to: number; limit: number; minSize?: number }): Record<string, unknown> {
    return runSync(timeAndSalesWork(this, symbol, q));
  }

  // ------------------------------------------------------------------ instruments, quotes, marks

  instrumentStats(symbol: string): Record<string, unknown> {
    const i = this.instrument(symbol);
    const p = this.pipeline(i.id);
    const info = symbolInfo(i);
    const base = { id: i.id, symbol: i.symbol, venue: i.venue, assetClass: i.assetClass, description: i.description, tickSize: i.tickSize, lotStep: i.lotStep, rowSize: i.price.toNumber(this.rowTicks(i)), flow: i.flow, session: info.session, timezone: info.timezone, ...(i.session.holidays?.length ? { holidays: [...i.session.holidays] } : {}), depthLevels: i.depthLevels ?? null, ...(i.tradeProvenance ? { tradeProvenance: i.tradeProvenance } : {}), active: !!p };
    if (!p) return base;
    const s = this.sessionStats(i, p);
    const c = p.counters;
    return { ...base, ...s, trades: c.trades, totalVolume: i.qty.toNumber(c.volume), cvd: i.qty.toNumber(p.cvd.value), vwap: p.sessionVwap.weight > 0 ? Number((p.sessionVwap.value * Number(i.tickSize)).toFixed(i.price.decimals + 4)) : null, bars: p.bars.length, lastTs: p.lastTs || null };
  }

  private sessionStats(i: Instrument, p: InstrumentPipeline): { last: number | null; open: number | null; high: number | null; low: number | null; prevClose: number | null; change: number | null; changePct: number | null; sessionVolume: number; sessionKey: string | null } {
    const open = p.openBar;
    const lastBar = open && open.trades > 0 ? open : p.bars.length ? p.bars[p.bars.length - 1].bar : null;
    if (!lastBar) return { last: null, open: null, high: null, low: null, prevClose: null, change: null, changePct: null, sessionVolume: 0, sessionKey: null };
    const key = lastBar.sessionKey;
    let o = NaN, h = -Infinity, l = Infinity, v = 0, prev = NaN;
    const visit = (b: FootprintBar): boolean => {
      if (b.sessionKey !== key) { prev = b.close; return false; }
      o = b.open; if (b.high > h) h = b.high; if (b.low < l) l = b.low; v += b.volume; return true;
    };
    if (open && open.trades > 0) visit(open);
    for (let k = p.bars.length - 1; k >= 0; k--) if (!visit(p.bars[k].bar)) break;
    if (Number.isNaN(prev) && this.store) {
      const older = this.store.lastBars(i.id, p.spec.label, p.bars.length ? p.bars[0].bar.start : lastBar.start, 1)[0];
      if (older && older.sessionKey !== key) prev = older.close;
    }
    const px = (x: number): number | null => (Number.isFinite(x) ? i.price.toNumber(x) : null);
    const last = lastBar.close;
    const ch = Number.isNaN(prev) ? null : i.price.toNumber(last - prev);
    return { last: px(last), open: px(o), high: px(h), low: px(l), prevClose: px(prev), change: ch, changePct: ch === null ? null : Number((((last - prev) / prev) * 100).toFixed(4)), sessionVolume: i.qty.toNumber(v), sessionKey: key || null };
  }

  instruments(): Record<string, unknown>[] {
    return this.engine.registry.all().map((i) => this.instrumentStats(i.id));
  }

  /**
   * UDF/CL quote values for one symbol. `ch`/`chp` are lp against `prev_close_price` — the previous
   * session's last price, else this session's open — so the three always agree. A price that does not
   * exist yet (no trade, no quote) is omitted, never null.
   */
  quote(symbol: string): { s: 'ok' | 'error'; n: string; v: Record<string, unknown> } {
    const i = this.engine.registry.find(symbol);
    if (!i) return { s: 'error', n: symbol, v: { error: 'unknown_symbol' } };
    const p = this.pipeline(i.id);
    const q = this.tracks.get(i.id)?.quote ?? null;
    const s = p ? this.sessionStats(i, p) : null;
    const bid = q && Number.isFinite(q.bid) ? i.price.toNumber(q.bid) : undefined;
    const ask = q && Number.isFinite(q.ask) ? i.price.toNumber(q.ask) : undefined;
    const v: Record<string, unknown> = { short_name: i.id, exchange: i.venue, description: i.description, original_name: i.id, volume: s?.sessionVolume ?? 0 };
    const put = (k: string, x: number | null | undefined): void => { if (x !== null && x !== undefined && Number.isFinite(x)) v[k] = x; };
    const ref = s?.prevClose ?? s?.open ?? null;
    put('lp', s?.last);
    put('prev_close_price', ref);
    if (s && s.last !== null && ref !== null) {
      put('ch', Number((s.last - ref).toFixed(i.price.decimals)));
      put('chp', ref !== 0 ? Number((((s.last - ref) / ref) * 100).toFixed(4)) : 0);
    }
    put('open_price', s?.open); put('high_price', s?.high); put('low_price', s?.low);
    put('bid', bid); put('ask', ask);
    if (bid !== undefined && ask !== undefined) v.spread = Number((ask - bid).toFixed(i.price.decimals));
    return { s: 'ok', n: symbol, v };
  }

  signals(q: { symbol?: string; from: number; to: number; limit: number }): SignalRecord[] {
    const out: SignalRecord[] = [];
    if (this.providers.signals) out.push(...this.providers.signals(q));
    else if (this.store) {
      for (const r of this.store.signals(q.symbol, q.from, q.to, q.limit)) {
        const d = (r.data ?? {}) as Record<string, unknown>;
        const inst = this.engine.registry.find(r.instrument);
        if (inst && typeof d.priceLow === 'number' && typeof d.priceHigh === 'number' && Array.isArray(d.reasoning)) {
          // a stored engine SignalEvent (ticks, lots): served in price and instrument units
          const e = d as unknown as SignalEvent;
          out.push({ id: r.seq, instrument: r.instrument, ts: r.ts, kind: r.kind, side: e.side, price: inst.price.toNumber((e.priceLow + e.priceHigh) / 2), text: e.reasoning.join('; '), data: signalView(e, inst) });
          continue;
        }
        out.push({ id: r.seq, instrument: r.instrument, ts: r.ts, kind: r.kind, side: d.side === 'buy' || d.side === 'sell' ? d.side : undefined, price: typeof d.price === 'number' ? d.price : undefined, text: typeof d.text === 'string' ? d.text : undefined, data: r.data });
      }
    }
    return out.slice(0, q.limit);
  }

  /** CL marks: signals grouped per bar and side at `resolution` (client/marks.ts: ≤ 3 per bar, count badge). */
  marks(symbol: string, resolution: string, fromS: number, toS: number): Mark[] {
    const i = this.instrument(symbol);
    const r = this.resolution(resolution, i.id);
    return groupSignalMarks(this.signals({ symbol: i.id, from: fromS * 1000, to: toS * 1000, limit: 5000 }), (ts) => this.markTime(i, r, ts));
  }

  /** CL timescale marks: data-completeness gaps (store + engine Gap events) at their bar's start time. */
  timescaleMarks(symbol: string, resolution: string, fromS: number, toS: number): Record<string, unknown>[] {
    const i = this.instrument(symbol);
    const r = this.resolution(resolution, i.id);
    const out: Record<string, unknown>[] = [];
    const perBar = new Map<number, number>();
    for (const g of this.store?.gaps(i.id, fromS * 1000, toS * 1000, 5000) ?? []) {
      const t = this.markTime(i, r, g.ts);
      if (!Number.isFinite(t)) continue;
      const n = perBar.get(t) ?? 0;
      if (n >= 10) continue;
      perBar.set(t, n + 1);
      out.push({ id: `gap-${g.seq}`, time: Math.floor(t / 1000), color: 'red', label: 'G', tooltip: [`data gap: ${g.reason}`] });
    }
    // session opens, and the current session's daily bias (from the signal engine when wired)
    const sessions = this.pipeline(i.id)?.profiles.sessions ?? [];
    const bias = this.providers.bias?.(i.id) as { direction?: string; confidence?: number; shape?: string; warning?: boolean; reasoning?: string[] } | null | undefined;
    sessions.forEach((sess, k) => {
      if (sess.start < fromS * 1000 || sess.start >= toS * 1000) return;
      const t = this.markTime(i, r, sess.start);
      if (!Number.isFinite(t)) return;
      out.push({ id: `session-${sess.key}`, time: Math.floor(t / 1000), color: 'blue', label: 'S', tooltip: [`session ${sess.key} opens`] });
      if (k === sessions.length - 1 && bias && bias.direction) {
        const color = bias.direction === 'long' ? 'green' : bias.direction === 'short' ? 'red' : 'yellow';
        out.push({ id: `bias-${sess.key}`, time: Math.floor(t / 1000), color, label: 'B', tooltip: [`daily bias ${bias.direction} (${Math.round(bias.confidence ?? 0)}%) from the prior ${bias.shape ?? ''} profile${bias.warning ? ', WARNING' : ''}`, ...(bias.reasoning ?? []).slice(0, 3)] });
      }
    });
    return out.sort((a, b) => (a.time as number) - (b.time as number));
  }

  private markTime(i: Instrument, r: Resolution, ts: number): number {
    if (r.kind === 'tick') return Math.floor(ts / 1000) * 1000;
    if (r.kind === 'second' || r.kind === 'minute') return Math.floor(ts / r.ms) * r.ms;
    return bucketOf(r, { start: ts, sessionKey: this.sessionKeyAt(i, ts) }, i.calendar);
  }

  // ------------------------------------------------------------------ provider-backed state

  orderbook(symbol: string, depth: number): Record<string, unknown> {
    const i = this.instrument(symbol);
    const b = this.providers.orderbook?.(i.id, depth) ?? null;
    // a venue that shows only N levels (Kite: 5) says so: every book metric of the instrument is over those N
    const depthLevels = i.depthLevels ?? null;
    const limited = depthLevels !== null ? { depthNote: `the venue shows ${depthLevels} levels a side: book metrics are over those ${depthLevels} only` } : {};
    if (!b) return { symbol: i.id, available: false, synced: false, depthLevels, ...limited, snapshot: true, ts: null, bids: [], asks: [], note: 'order book not wired for this instrument' };
    // best `depth` levels per side, then both sides ascending by price (Charting Library DOM order, §1.11)
    const lv = (l: [number, number]) => ({ price: i.price.toNumber(l[0]), size: i.qty.toNumber(l[1]) });
    const bids = [...b.bids].sort((x, y) => y[0] - x[0]).slice(0, depth).reverse();
    const asks = [...b.asks].sort((x, y) => x[0] - y[0]).slice(0, depth);
    // synced: false while the venue book is out of sync (before its snapshot, after a break): not the venue's levels
    const synced = b.synced !== false;
    return { symbol: i.id, available: true, synced, depthLevels, ...limited, ...(synced ? {} : { note: 'order book not in sync with the venue (waiting for a snapshot or resync)' }), snapshot: true, ts: b.ts, bids: bids.map(lv), asks: asks.map(lv) };
  }

  depthHistory(symbol: string, from: number, to: number, limit: number): Record<string, unknown> {
    const i = this.instrument(symbol);
    const rows = this.providers.depthHistory?.(i.id, from, to, limit) ?? null;
    return { symbol: i.id, available: rows !== null, snapshots: rows ?? [] };
  }

  /** rule mode: the last decision and the recent ones (FlowSight JSON) */
  rule(symbol: string, limit = 50): Record<string, unknown> {
    const i = this.instrument(symbol);
    const r = this.providers.rule?.(i.id, limit);
    return { symbol: i.id, available: r !== undefined, rule: r?.at(-1) ?? null, recent: r ?? [] };
  }

  bias(symbol: string): Record<string, unknown> {
    const i = this.instrument(symbol);
    const b = this.providers.bias?.(i.id);
    return { symbol: i.id, available: b !== undefined, bias: b ?? null };
  }

  levels(symbol: string): Record<string, unknown> {
    const i = this.instrument(symbol);
    const l = this.providers.levels?.(i.id);
    const p = this.pipeline(i.id);
    const cur = p?.profiles.current;
    const lv = cur ? cur.profile.levels(p?.opts.valueArea) : null;
    return {
      symbol: i.id, available: l !== undefined, levels: l ?? [],
      session: cur && lv ? { key: cur.key, poc: this.px(i, lv.poc), vah: this.px(i, lv.vah), val: this.px(i, lv.val) } : null,
      vwap: p && p.sessionVwap.weight > 0 ? Number((p.sessionVwap.value * Number(i.tickSize)).toFixed(i.price.decimals + 4)) : null,
    };
  }

  tradeState(symbol: string): Record<string, unknown> {
    const i = this.instrument(symbol);
    const s = this.providers.tradeState?.(i.id);
    // stored transitions keep the engine's ticks: served in price units
    const journal = (this.store?.journal(i.id, 0, 8.64e15, 100) ?? []).map((r) => journalView(r, i));
    return { symbol: i.id, available: s !== undefined, state: s ?? null, journal };
  }

  strategy(): Record<string, unknown> {
    const s = this.providers.strategy?.();
    return { available: s !== undefined, strategies: s ?? [] };
  }

  scanner(): Record<string, unknown> {
    const s = this.providers.scanner?.();
    return { available: s !== undefined, rows: s ?? [] };
  }

  paper(symbol?: string): Record<string, unknown> {
    const id = symbol === undefined ? undefined : this.instrument(symbol).id;
    const p = this.providers.paper?.(id);
    return { available: p !== undefined, symbol: id ?? null, ...(p ?? { account: null, limits: null, open: [], fills: [], refusals: [], analytics: null }) };
  }

  merged(symbol: string, from: number, to: number, venue?: string): Record<string, unknown> {
    const i = this.instrument(symbol);
    const cells = this.providers.merged?.(i.id, from, to, venue) ?? null;
    return { symbol: i.id, merged: cells !== null, venue: venue ?? null, cells: cells ?? [] };
  }

  pcr(underlying?: string): Record<string, unknown> {
    const all = (this.providers.pcr?.() ?? []) as Array<{ underlying: string }>;
    const chains = underlying === undefined ? all : all.filter((r) => r.underlying.toUpperCase() === underlying.toUpperCase());
    return { available: this.providers.pcr !== undefined, symbols: this.providers.pcrSymbols?.() ?? [], chains };
  }

  feeds(): Record<string, unknown> {
    const f = this.providers.feeds?.();
    const replay = this.providers.replay?.() ?? null;
    // a served replay is neither live nor simulated: said so, with its position
    return { available: f !== undefined, mode: replay ? 'replay' : f?.mode ?? (f ? 'live' : 'none'), simulated: f?.simulated ?? null, feeds: f?.feeds ?? [], completeness: f?.completeness ?? [], replay };
  }

  // ------------------------------------------------------------------ system

  system(): Record<string, unknown> {
    const m = process.memoryUsage();
    return {
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      events: this.engine.events,
      instruments: [...this.engine.pipelines.values()].map((p) => ({ id: p.instrument.id, timeframe: p.spec.label, bars: p.bars.length, trades: p.counters.trades, lastTs: p.lastTs || null, ringTrades: this.tracks.get(p.instrument.id)?.ring.length ?? 0 })),
      memoryMB: { rss: Math.round(m.rss / 1048576), heapUsed: Math.round(m.heapUsed / 1048576) },
      store: this.store ? this.store.stats() : null,
      storage: this.store ? this.store.health() : null,
      ...this.problems(),
      node: process.version,
    };
  }

  /** ok, or degraded with every problem (a failing store first, then what providers.status reports). */
  problems(): { status: 'ok' | 'degraded'; problems: Problem[] } {
    const sh = this.store?.health();
    const problems: Problem[] = sh && sh.state !== 'ok' ? [{ component: 'store', reason: sh.reason ?? 'store degraded', since: sh.since }] : [];
    problems.push(...(this.providers.status?.() ?? []));
    return { status: problems.length ? 'degraded' : 'ok', problems };
  }

  health(): Record<string, unknown> {
    const sh = this.store?.health();
    const st = this.store?.stats();
    return {
      ...this.problems(), uptimeS: Math.round((Date.now() - this.startedAt) / 1000), events: this.engine.events, lastEventAgeMs: this.lastEventAt ? Date.now() - this.lastEventAt : null,
      store: sh && st ? { state: sh.state, queued: sh.queued, maxQueue: sh.maxQueue, errors: st.errors, notStoredOps: sh.droppedOps, storageGaps: sh.storageGaps.length } : null,
      ...this.providers.healthSections?.(),
    };
  }
}
