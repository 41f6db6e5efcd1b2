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
import type { Engine } from '../../../engine/src/analytics/engine.js';
import type { InstrumentPipeline } from '../../../engine/src/analytics/pipeline.js';
import { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import { computeBarStats, type BarStats, type BarStatsOptions } from '../../../engine/src/analytics/bar-stats.js';
import { DeltaDynamicsTracker } from '../../../engine/src/analytics/delta.js';
import { COL_ASK_VOL, COL_BID_VOL, COL_UNK_VOL, COL_ASK_CNT, COL_BID_CNT } from '../../../engine/src/analytics/row-grid.js';
import { VolumeProfile, type ProfileSummary } from '../../../engine/src/analytics/profile/volume-profile.js';
import { Vwap } from '../../../engine/src/analytics/vwap.js';
import type { Instrument } from '../../../engine/src/core/instruments.js';
import type { Quote, Trade } from '../../../engine/src/core/events.js';
import { newTrade } from '../../../engine/src/core/events.js';
import type { Store } from '../../../engine/src/store/store.js';
import { bucketEnd, bucketOf, groupBars } from './aggregate.js';
import { nominalMs, parseResolution, type Resolution } from './resolution.js';
import { TradeRing, type TradeRec } from './trades.js';
import { symbolInfo, type LibrarySymbolInfo } from './symbols.js';
import type { Problem } from '../../../engine/src/status/registry.js';

export class ServiceError extends Error {
  constructor(readonly status: number, readonly param: string, readonly reason: string) {
    super(`${param}: ${reason}`);
  }
}

export interface ServiceOptions {
  /** recent trades kept in memory per instrument (default 200 000) */
  tradeRingSize?: number;
  /** most bars in one answer (default 20 000) */
  maxBars?: number;
  /** most trades read to build tick/second bars for one answer (default 2 000 000) */
  maxTrades?: number;
}

/** Hooks the signals / order-book / strategy engineers fill in. Absent = the documented empty state. */
export interface Providers {
  signals?(q: { symbol?: string; from: number; to: number; limit: number }): SignalRecord[];
  bias?(symbol: string): unknown;
  levels?(symbol: string): unknown;
  tradeState?(symbol: string): unknown;
  strategy?(): unknown;
  scanner?(): unknown;
  /** paper trading: account, limits, open positions, fills, analytics (optionally for one instrument) */
  paper?(symbol?: string): Record<string, unknown>;
  /** per-venue contributions of a merged instrument's footprint cells (null: not a merged instrument) */
  merged?(symbol: string, from: number, to: number, venue?: string): unknown[] | null;
  /** live feed status and data-completeness records */
  feeds?(): { feeds: unknown[]; completeness: unknown[] };
  orderbook?(symbol: string, depth: number): { ts: number; bids: [number, number][]; asks: [number, number][] } | null;
  depthHistory?(symbol: string, from: number, to: number, limit: number): unknown[];
  /** what is wrong beside the store (feeds, books, Telegram poller): engine/src/status/registry.ts */
  status?(): Problem[];
}

export interface SignalRecord { id: string | number; instrument: string; ts: number; kind: string; side?: 'buy' | 'sell'; price?: number; text?: string; data?: unknown }

export interface SeriesResult { bars: FootprintBar[]; noData: boolean; nextTime?: number }

interface Track { mod: number; mutableFrom: number; ring: TradeRing; quote: Quote | null }

const TF_MS_DEFAULT = 60_000;

export class HistoryService {
  readonly engine: Engine;
  readonly store: Store | undefined;
  readonly providers: Providers = {};
  readonly startedAt = Date.now();
  private readonly opts: Required<ServiceOptions>;
  private readonly tracks = new Map<string, Track>();
  private readonly listeners: ((id: string, t: Trade, bar: FootprintBar) => void)[] = [];
  lastEventAt = 0;

  constructor(engine: Engine, store?: Store, opts: ServiceOptions = {}) {
    this.engine = engine;
    this.store = store;
    this.opts = { tradeRingSize: 200_000, maxBars: 20_000, maxTrades: 2_000_000, ...opts };
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

  private rowTicks(i: Instrument): number { return this.pipeline(i.id)?.opts.footprintRowTicks ?? i.footprintRowTicks; }

  statsOptions(id: string): BarStatsOptions {
    const p = this.pipeline(id);
    return { valueArea: p?.opts.valueArea ?? {}, imbalance: p?.opts.imbalance ?? {}, stackedMinRows: p?.opts.stackedMinRows ?? 3, unfinishedMinBid: 0, unfinishedMinAsk: 0 };
  }

  // ------------------------------------------------------------------ base bars

  /** Base-timeframe bars with from <= start < to: store (older than memory), memory, open bar. */
  baseBars(id: string, from: number, to: number): FootprintBar[] {
    const p = this.pipeline(id);
    const out: FootprintBar[] = [];
    const mem = p?.bars ?? [];
    const open = p?.openBar ?? null;
    const memFirst = mem.length ? mem[0].bar.start : open ? open.start : Infinity;
    if (this.store && from < memFirst) {
      for (const b of this.store.bars(id, this.baseTimeframe(id).label, from, Math.min(to, memFirst), this.opts.maxBars * 1500)) out.push(b);
    }
    let lo = 0, hi = mem.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (mem[m].bar.start < from) lo = m + 1; else hi = m; }
    for (let i = lo; i < mem.length && mem[i].bar.start < to; i++) out.push(mem[i].bar);
    if (open && open.start >= from && open.start < to && open.trades > 0) out.push(open);
    return out;
  }

  /** Earliest bar time known for an instrument (memory or store), Infinity when none. */
  earliest(id: string): number {
    const p = this.pipeline(id);
    let e = p?.bars.length ? p.bars[0].bar.start : p?.openBar ? p.openBar.start : Infinity;
    const s = this.store?.firstBarStart(id, this.baseTimeframe(id).label);
    if (s !== undefined && s !== null && s < e) e = s;
    return e;
  }

  // ------------------------------------------------------------------ trades

  /** Trades with from <= ts < to: store before the ring's complete range, then the ring. */
  trades(id: string, from: number, to: number, limit = this.opts.maxTrades, fromEnd = false): TradeRec[] {
    const ring = this.tracks.get(id)?.ring;
    const split = ring && !Number.isNaN(ring.completeFrom) ? ring.completeFrom : Infinity;
    let older: TradeRec[] = [];
    if (this.store && from < split) {
      const hi = Math.min(to, split);
      older = fromEnd ? this.store.lastTrades(id, hi, limit).filter((t) => t.ts >= from) : this.store.trades(id, from, hi, limit);
    }
    const newer = ring && to > split ? ring.range(Math.max(from, split), to, limit, fromEnd) : [];
    let all = older.length ? (newer.length ? older.concat(newer) : older) : newer;
    if (all.length > limit) all = fromEnd ? all.slice(all.length - limit) : all.slice(0, limit);
    return all;
  }

  earliestTrade(id: string): number {
    const ring = this.tracks.get(id)?.ring;
    let e = ring && ring.length ? ring.tsAt(0) : Infinity;
    const s = this.store?.tradeSpan(id);
    if (s && s.first < e) e = s.first;
    return e;
  }

  private tradeBars(i: Instrument, r: Resolution, trades: TradeRec[], withRows: boolean): FootprintBar[] {
    const out: FootprintBar[] = [];
    const rowTicks = this.rowTicks(i);
    const t = newTrade(i.id);
    let cur: FootprintBar | null = null;
    let hour = NaN;
    for (const x of trades) {
      const sign = x.side === 'buy' ? 1 : x.side === 'sell' ? -1 : 0;
      let start: number;
      if (r.kind === 'second') {
        start = Math.floor(x.ts / r.ms) * r.ms;
        if (cur && cur.start !== start) { out.push(cur); cur = null; }
      } else {
        const h = Math.floor(x.ts / 3_600_000);
        if (cur && (h !== hour || cur.trades >= r.n)) { cur.end = cur.lastTs + 1; out.push(cur); cur = null; }
        hour = h;
        start = x.ts;
      }
      if (!cur) {
        const sess = i.calendar.sessionAt(x.ts);
        cur = new FootprintBar(i.id, start, r.kind === 'second' ? start + r.ms : Infinity, rowTicks, sess ? sess.key : '', x.cvd - sign * x.size);
      }
      t.ts = x.ts; t.id = x.id; t.price = x.price; t.size = x.size; t.side = x.side; t.sideSource = x.sideSource;
      if (withRows) cur.add(t, x.cvd);
      else addLight(cur, t, x.cvd);
    }
    if (cur) { if (r.kind === 'tick') cur.end = cur.lastTs + 1; out.push(cur); }
    return out;
  }

  // ------------------------------------------------------------------ series

  /**
   * Bars of `res` with from <= time < to; when fewer than countback exist there, the last
   * `countback` bars with time < to (charting-hosts.md §1.5). At most maxBars (the latest).
   * noData = nothing at all before `to`; nextTime (ms) = the latest bar time before `from` when the
   * range is empty and countback is 0.
   */
  series(symbol: string, res: Resolution, from: number, to: number, countback: number, withRows: boolean): SeriesResult {
    const i = this.instrument(symbol);
    const id = i.id;
    const base = this.baseTimeframe(id);
    const fromTrades = res.kind === 'tick' || res.kind === 'second' || (res.kind === 'minute' && res.ms < base.ms);
    const earliest = fromTrades ? this.earliestTrade(id) : this.earliest(id);
    const nominal = nominalMs(res);
    const padAfter = res.kind === 'day' ? 86_400_000 * 2 : res.kind === 'week' ? 8 * 86_400_000 : res.kind === 'month' ? 32 * 86_400_000 : 0;
    const padBefore = padAfter;
    let w = from;
    if (countback > 0) w = Math.min(w, to - countback * nominal);
    let before: FootprintBar[] = [];
    let inRange: FootprintBar[] = [];
    for (let iter = 0; iter < 40; iter++) {
      let buckets: FootprintBar[];
      if (fromTrades) {
        const a = res.kind === 'tick' ? Math.floor(w / 3_600_000) * 3_600_000 : Math.floor(w / nominal) * nominal;
        buckets = this.tradeBars(i, res, this.trades(id, a, to), withRows);
      } else {
        const a = res.kind === 'minute' ? Math.floor(w / res.ms) * res.ms : w - padBefore;
        const bars = this.baseBars(id, a, res.kind === 'minute' ? Math.ceil(to / res.ms) * res.ms : to + padAfter);
        if (res.kind === 'minute' && res.ms === base.ms) buckets = bars;
        else buckets = groupBars(bars, res, i.calendar, withRows, (t) => bucketEnd(res, t, i.calendar));
        if (res.kind !== 'minute') {
          // drop a first bucket that may be cut by the window start
          const a0 = a;
          if (buckets.length && buckets[0].firstTs < a0 + padBefore && a0 > earliest) buckets = buckets.slice(1);
        }
      }
      let k = buckets.length;
      while (k > 0 && buckets[k - 1].start >= to) k--;
      before = buckets.slice(0, k);
      let j = 0;
      while (j < before.length && before[j].start < from) j++;
      inRange = before.slice(j);
      if (inRange.length >= countback || before.length >= countback || w <= earliest) break;
      const span = Math.max(to - w, nominal * Math.max(countback, 1));
      w = to - span * 4;
      if (w < earliest) w = earliest - nominal;
    }
    let bars = inRange.length >= countback ? inRange : before.slice(Math.max(0, before.length - countback));
    if (bars.length > this.opts.maxBars) bars = bars.slice(bars.length - this.opts.maxBars);
    if (bars.length > 0) return { bars, noData: false };
    const prior = before.length ? before[before.length - 1].start : NaN;
    if (!Number.isNaN(prior) && prior < from) return { bars, noData: false, nextTime: prior };
    if (earliest < from) {
      // something exists before from but outside the window we read: find it cheaply
      const last = fromTrades ? this.trades(id, earliest, from, 1, true)[0]?.ts : this.lastBaseBefore(id, from);
      if (last !== undefined && Number.isFinite(last)) {
        const t = fromTrades || res.kind === 'minute' ? (res.kind === 'tick' ? last : Math.floor(last / nominal) * nominal)
          : bucketOf(res, { start: last, sessionKey: this.sessionKeyAt(i, last) }, i.calendar);
        if (Number.isFinite(t) && t < from) return { bars, noData: false, nextTime: t };
      }
    }
    return { bars, noData: true };
  }

  private sessionKeyAt(i: Instrument, ts: number): string { return i.calendar.sessionAt(ts)?.key ?? ''; }

  private lastBaseBefore(id: string, t: number): number | undefined {
    const p = this.pipeline(id);
    if (p) {
      const all = p.bars;
      for (let k = all.length - 1; k >= 0; k--) if (all[k].bar.start < t) return all[k].bar.start;
    }
    return this.store?.lastBars(id, this.baseTimeframe(id).label, t, 1)[0]?.start;
  }

  // ------------------------------------------------------------------ UDF history

  /** UDF /history body (times in seconds). Tick bars starting in the same second are merged (UDF has 1 s resolution). */
  udfHistory(symbol: string, resolution: string, fromS: number, toS: number, countback: number): Record<string, unknown> {
    const i = this.instrument(symbol);
    const r = this.resolution(resolution, i.id);
    const res = this.series(i.id, r, fromS * 1000, toS * 1000, countback, false);
    if (res.bars.length === 0) return res.nextTime !== undefined ? { s: 'no_data', nextTime: res.nextTime } : { s: 'no_data' };
    let bars = res.bars;
    if (r.kind === 'tick') bars = collapseSameSecond(bars);
    const px = (x: number): number => i.price.toNumber(x);
    const n = bars.length;
    const t = new Array<number>(n), o = new Array<number>(n), h = new Array<number>(n), l = new Array<number>(n), c = new Array<number>(n), v = new Array<number>(n);
    for (let k = 0; k < n; k++) {
      const b = bars[k];
      t[k] = Math.floor(b.start / 1000); o[k] = px(b.open); h[k] = px(b.high); l[k] = px(b.low); c[k] = px(b.close); v[k] = i.qty.toNumber(b.volume);
    }
    return { s: 'ok', t, o, h, l, c, v };
  }

  // ------------------------------------------------------------------ footprint / delta

  barJson(i: Instrument, b: FootprintBar, stats: BarStats | null, rows: boolean): Record<string, unknown> {
    const px = (x: number): number | null => (Number.isFinite(x) ? i.price.toNumber(x) : null);
    const vol = (x: number): number => i.qty.toNumber(x);
    const out: Record<string, unknown> = {
      time: b.start, end: Number.isFinite(b.end) ? b.end : null, closed: b.closed, session: b.sessionKey,
      open: px(b.open), high: px(b.high), low: px(b.low), close: px(b.close),
      volume: vol(b.volume), buyVolume: vol(b.buyVolume), sellVolume: vol(b.sellVolume), unknownVolume: vol(b.unknownVolume),
      trades: b.trades, delta: vol(b.delta), deltaMin: vol(b.deltaMin), deltaMax: vol(b.deltaMax),
      cvd: { open: vol(b.cvdOpen), high: vol(b.cvdHigh), low: vol(b.cvdLow), close: vol(b.cvdClose) },
      firstTs: b.firstTs, lastTs: b.lastTs,
    };
    if (stats) {
      out.poc = px(stats.poc); out.vah = px(stats.vah); out.val = px(stats.val);
      out.buyImbalances = stats.buyImbalances; out.sellImbalances = stats.sellImbalances;
      out.stacked = stats.stacked;
    }
    if (rows) {
      const g = b.rows;
      const list: Record<string, number>[] = [];
      for (let k = 0; k < g.length; k++) {
        const bid = g.cols[COL_BID_VOL][k], ask = g.cols[COL_ASK_VOL][k], unk = g.cols[COL_UNK_VOL][k];
        if (bid === 0 && ask === 0 && unk === 0) continue;
        list.push({ price: i.price.toNumber((g.base + k) * b.rowTicks), bid: vol(bid), ask: vol(ask), unknown: vol(unk), bidTrades: g.cols[COL_BID_CNT][k], askTrades: g.cols[COL_ASK_CNT][k], delta: vol(ask - bid) });
      }
      out.rowSize = i.price.toNumber(b.rowTicks);
      out.rows = list;
    }
    return out;
  }

  /** Footprint bars: agg 'time' (resolution), 'tick' (N trades) or 'volume' (N instrument units). */
  footprint(symbol: string, q: { agg: 'time' | 'tick' | 'volume'; resolution?: string; size?: number; from: number; to: number; countback: number; rows: boolean }): Record<string, unknown> {
    const i = this.instrument(symbol);
    let bars: FootprintBar[];
    if (q.agg === 'volume') {
      const size = q.size ?? 0;
      const lots = i.qty.parse(String(size));
      if (!(lots > 0)) throw new ServiceError(400, 'size', `volume bar size must be a positive multiple of the lot step ${i.lotStep}`);
      bars = this.volumeBars(i, lots, q.from, q.to, q.countback);
    } else {
      const res = q.agg === 'tick' ? this.resolution(`${q.size ?? 100}T`, i.id, 'size') : this.resolution(q.resolution ?? '1', i.id);
      bars = this.series(i.id, res, q.from, q.to, q.countback, true).bars;
    }
    const so = this.statsOptions(i.id);
    const dyn = new DeltaDynamicsTracker();
    return {
      symbol: i.id, agg: q.agg, resolution: q.agg === 'time' ? q.resolution ?? '1' : undefined, size: q.agg === 'time' ? undefined : q.size,
      bars: bars.map((b) => this.barJson(i, b, computeBarStats(b, so, dyn.next(b.delta, b.buyVolume, b.sellVolume)), q.rows)),
    };
  }

  private volumeBars(i: Instrument, lots: number, from: number, to: number, countback: number): FootprintBar[] {
    const earliest = this.earliestTrade(i.id);
    let w = from;
    let all: FootprintBar[] = [];
    for (let iter = 0; iter < 40; iter++) {
      all = this.volumeBarsFrom(i, lots, Math.floor(w / 3_600_000) * 3_600_000, to);
      if (all.filter((b) => b.start >= from).length >= countback || all.length >= countback || w <= earliest) break;
      w = to - Math.max(to - w, 3_600_000) * 4;
      if (w < earliest) w = earliest;
    }
    let k = all.filter((b) => b.start >= from);
    if (k.length < countback) k = all.slice(Math.max(0, all.length - countback));
    return k.slice(Math.max(0, k.length - this.opts.maxBars));
  }

  private volumeBarsFrom(i: Instrument, lots: number, from: number, to: number): FootprintBar[] {
    const trades = this.trades(i.id, from, to);
    const out: FootprintBar[] = [];
    const t = newTrade(i.id);
    let cur: FootprintBar | null = null;
    let hour = NaN;
    for (const x of trades) {
      const h = Math.floor(x.ts / 3_600_000);
      if (cur && h !== hour) { cur.end = cur.lastTs + 1; out.push(cur); cur = null; }
      hour = h;
      const sign = x.side === 'buy' ? 1 : x.side === 'sell' ? -1 : 0;
      if (!cur) cur = new FootprintBar(i.id, x.ts, Infinity, this.rowTicks(i), this.sessionKeyAt(i, x.ts), x.cvd - sign * x.size);
      t.ts = x.ts; t.id = x.id; t.price = x.price; t.size = x.size; t.side = x.side; t.sideSource = x.sideSource;
      cur.add(t, x.cvd);
      if (cur.volume >= lots) { cur.end = cur.lastTs + 1; cur.closed = true; out.push(cur); cur = null; }
    }
    if (cur) out.push(cur);
    return out;
  }

  delta(symbol: string, resolution: string, from: number, to: number, countback: number): Record<string, unknown> {
    const i = this.instrument(symbol);
    const r = this.resolution(resolution, i.id);
    const { bars } = this.series(i.id, r, from, to, countback, false);
    const vol = (x: number): number => i.qty.toNumber(x);
    const p = this.pipeline(i.id);
    return {
      symbol: i.id, resolution: r.label, cvdReset: p?.cvd.reset ?? 'session', cvd: p ? vol(p.cvd.value) : null,
      bars: bars.map((b) => ({ time: b.start, delta: vol(b.delta), deltaMin: vol(b.deltaMin), deltaMax: vol(b.deltaMax), buyVolume: vol(b.buyVolume), sellVolume: vol(b.sellVolume), volume: vol(b.volume), cvdOpen: vol(b.cvdOpen), cvdHigh: vol(b.cvdHigh), cvdLow: vol(b.cvdLow), cvdClose: vol(b.cvdClose) })),
    };
  }

  // ------------------------------------------------------------------ profiles

  /**
   * Volume profile. type: session (key or current), composite (last N sessions), fixed / visible
   * (time range [from, to), built from the base bars' footprint rows, bars included when their start
   * is in the range; row size = rowTicks if given, else the instrument profile row when it is a
   * multiple of the footprint row, else the footprint row).
   */
  profile(symbol: string, q: { type: 'session' | 'fixed' | 'visible' | 'composite'; session?: string; sessions?: number; from?: number; to?: number; rowTicks?: number; rows: boolean; valueAreaPct?: number }): Record<string, unknown> {
    const i = this.instrument(symbol);
    const p = this.pipeline(i.id);
    const va = q.valueAreaPct !== undefined ? { ...(p?.opts.valueArea ?? {}), pct: q.valueAreaPct } : p?.opts.valueArea;
    let prof: VolumeProfile | null = null;
    let meta: Record<string, unknown> = {};
    let developing: unknown[] | undefined;
    if (q.type === 'session') {
      const live = q.session ? p?.profiles.get(q.session) : p?.profiles.current ?? undefined;
      if (live) {
        prof = live.profile; meta = { session: live.key, start: live.start, end: live.end, closed: live.closed };
        developing = live.developing.map((d) => ({ ts: d.ts, poc: this.px(i, d.poc), vah: this.px(i, d.vah), val: this.px(i, d.val) }));
      } else if (this.store) {
        const all = this.store.profiles(i.id);
        const sp = q.session ? all.find((s) => s.key === q.session) : all[all.length - 1];
        if (sp) {
          prof = sp.profile; meta = { session: sp.key, start: sp.start, end: sp.end, closed: sp.closed };
          developing = sp.developing.map((d) => ({ ts: d.ts, poc: this.px(i, d.poc), vah: this.px(i, d.vah), val: this.px(i, d.val) }));
        }
      }
      if (!prof && q.session) throw new ServiceError(404, 'session', `no profile for session "${q.session.slice(0, 20)}" of ${i.id}`);
    } else if (q.type === 'composite') {
      const n = q.sessions ?? 5;
      if (p) {
        prof = p.profiles.composite(n);
        const list = p.profiles.sessions;
        const used = list.slice(Math.max(0, list.length - n));
        meta = { sessions: used.map((s) => s.key), start: used[0]?.start ?? null, end: used[used.length - 1]?.end ?? null };
      } else if (this.store) {
        const all = this.store.profiles(i.id);
        const used = all.slice(Math.max(0, all.length - n));
        if (used.length) {
          prof = new VolumeProfile(used[0].profile.rowTicks);
          for (const s of used) if (s.profile.rowTicks === prof.rowTicks) prof.merge(s.profile);
          meta = { sessions: used.map((s) => s.key), start: used[0].start, end: used[used.length - 1].end };
        }
      }
    } else {
      const from = q.from as number, to = q.to as number;
      const fr = this.rowTicks(i);
      const rowTicks = q.rowTicks ?? (i.profileRowTicks % fr === 0 ? i.profileRowTicks : fr);
      prof = new VolumeProfile(rowTicks);
      for (const b of this.baseBars(i.id, from, to)) {
        const g = b.rows;
        for (let k = 0; k < g.length; k++) {
          const price = (g.base + k) * b.rowTicks;
          const bid = g.cols[COL_BID_VOL][k], ask = g.cols[COL_ASK_VOL][k], unk = g.cols[COL_UNK_VOL][k];
          if (bid) prof.add(price, bid, -1);
          if (ask) prof.add(price, ask, 1);
          if (unk) prof.add(price, unk, 0);
        }
      }
      meta = { from, to, exact: rowTicks % fr === 0 };
    }
    const base = { symbol: i.id, type: q.type, ...meta };
    if (!prof) return { ...base, empty: true, rowSize: this.px(i, this.rowTicks(i)), rows: [], poc: null, vah: null, val: null, hvn: [], lvn: [], shape: 'none', totalVolume: 0 };
    return { ...base, ...this.profileJson(i, prof.summary({ valueArea: va, rows: q.rows })), ...(developing ? { developing } : {}) };
  }

  private px(i: Instrument, t: number): number | null { return Number.isFinite(t) ? i.price.toNumber(t) : null; }

  private profileJson(i: Instrument, s: ProfileSummary): Record<string, unknown> {
    const vol = (x: number): number => i.qty.toNumber(x);
    const node = (n: { lowPrice: number; highPrice: number; peakPrice: number; volume: number }) => ({ low: this.px(i, n.lowPrice), high: this.px(i, n.highPrice), peak: this.px(i, n.peakPrice), volume: vol(n.volume) });
    return {
      empty: s.totalVolume === 0, rowSize: this.px(i, s.rowTicks),
      poc: this.px(i, s.pocPrice), vah: this.px(i, s.vahPrice), val: this.px(i, s.valPrice), low: this.px(i, s.lowPrice), high: this.px(i, s.highPrice),
      totalVolume: vol(s.totalVolume), buyVolume: vol(s.buyVolume), sellVolume: vol(s.sellVolume), unknownVolume: vol(s.unknownVolume), valueAreaVolume: vol(s.areaVolume),
      shape: s.shape, pocPct: Number.isFinite(s.pocPct) ? s.pocPct : null, hvn: s.hvn.map(node), lvn: s.lvn.map(node),
      rows: (s.rows ?? []).filter((r) => r.volume > 0).map((r) => ({ price: this.px(i, r.price), volume: vol(r.volume), buy: vol(r.buy), sell: vol(r.sell), ask: vol(r.buy), bid: vol(r.sell), unknown: vol(r.unknown), delta: vol(r.buy - r.sell) })),
    };
  }

  // ------------------------------------------------------------------ VWAP, time & sales

  /**
   * VWAP with ±1/2/3σ bands. Current session VWAP from the engine; with `anchor` (ms) or a
   * resolution, a series recomputed from trades (ring/store) from the anchor (default: the current
   * session start), one point per bucket close. `complete` is false when trades before the first
   * available one were not available.
   */
  vwap(symbol: string, q: { anchor?: number; resolution?: string; to: number }): Record<string, unknown> {
    const i = this.instrument(symbol);
    const p = this.pipeline(i.id);
    const pf = (x: number): number | null => (Number.isFinite(x) ? Number((x * Number(i.tickSize)).toFixed(i.price.decimals + 4)) : null);
    const snap = (v: Vwap) => ({ anchor: v.anchor, vwap: pf(v.value), stdev: pf(v.stdev), upper: [1, 2, 3].map((k) => pf(v.band(k))), lower: [1, 2, 3].map((k) => pf(v.band(-k))), volume: i.qty.toNumber(v.weight) });
    const session = p && p.sessionVwap.weight > 0 ? snap(p.sessionVwap) : null;
    const out: Record<string, unknown> = { symbol: i.id, session };
    if (q.anchor !== undefined || q.resolution !== undefined) {
      const anchor = q.anchor ?? p?.sessionVwap.anchor ?? 0;
      const r = this.resolution(q.resolution ?? '1', i.id);
      if (r.kind === 'tick') throw new ServiceError(400, 'resolution', 'VWAP series need a time resolution');
      const trades = this.trades(i.id, anchor, q.to);
      const v = new Vwap(anchor);
      const series: unknown[] = [];
      let bucket = NaN;
      const n = nominalMs(r);
      for (const t of trades) {
        const b = r.kind === 'second' || r.kind === 'minute' ? Math.floor(t.ts / n) * n : bucketOf(r, { start: t.ts, sessionKey: this.sessionKeyAt(i, t.ts) }, i.calendar);
        if (b !== bucket && !Number.isNaN(bucket) && v.weight > 0) series.push({ time: bucket, ...snap(v) });
        bucket = b;
        v.add(t.price, t.size);
      }
      if (!Number.isNaN(bucket) && v.weight > 0) series.push({ time: bucket, ...snap(v) });
      const first = trades[0]?.ts;
      out.anchored = { anchor, resolution: r.label, complete: first !== undefined && (this.earliestTrade(i.id) <= anchor || first <= anchor), current: v.weight > 0 ? snap(v) : null, series };
    }
    return out;
  }

  timeAndSales(symbol: string, q: { from?: number; to: number; limit: number; minSize?: number }): Record<string, unknown> {
    const i = this.instrument(symbol);
    const minLots = q.minSize !== undefined ? i.qty.parse(String(q.minSize)) : 0;
    const raw = q.from !== undefined ? this.trades(i.id, q.from, q.to, minLots > 0 ? this.opts.maxTrades : q.limit) : this.trades(i.id, -8.64e15, q.to, minLots > 0 ? Math.max(q.limit * 50, 10_000) : q.limit, true);
    let list = minLots > 0 ? raw.filter((t) => t.size >= minLots) : raw;
    if (list.length > q.limit) list = q.from !== undefined ? list.slice(0, q.limit) : list.slice(list.length - q.limit);
    return {
      symbol: i.id,
      trades: list.map((t) => ({ ts: t.ts, id: t.id, price: i.price.toNumber(t.price), size: i.qty.toNumber(t.size), side: t.side, sideSource: t.sideSource, cvd: i.qty.toNumber(t.cvd) })),
    };
  }

  // ------------------------------------------------------------------ instruments, quotes, marks

  instrumentStats(symbol: string): Record<string, unknown> {
    const i = this.instrument(symbol);
    const p = this.pipeline(i.id);
    const info = symbolInfo(i);
    const base = { id: i.id, symbol: i.symbol, venue: i.venue, assetClass: i.assetClass, description: i.description, tickSize: i.tickSize, lotStep: i.lotStep, flow: i.flow, session: info.session, timezone: info.timezone, active: !!p };
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

  /** UDF/CL quote values for one symbol (lp, ch, chp, prev_close_price, volume, …). */
  quote(symbol: string): { s: 'ok' | 'error'; n: string; v: Record<string, unknown> } {
    const i = this.engine.registry.find(symbol);
    if (!i) return { s: 'error', n: symbol, v: { error: 'unknown_symbol' } };
    const p = this.pipeline(i.id);
    const q = this.tracks.get(i.id)?.quote ?? null;
    const s = p ? this.sessionStats(i, p) : null;
    const bid = q && Number.isFinite(q.bid) ? i.price.toNumber(q.bid) : undefined;
    const ask = q && Number.isFinite(q.ask) ? i.price.toNumber(q.ask) : undefined;
    const v: Record<string, unknown> = {
      short_name: i.id, exchange: i.venue, description: i.description, original_name: i.id,
      lp: s?.last ?? null, ch: s?.change ?? 0, chp: s?.changePct ?? 0, prev_close_price: s?.prevClose ?? s?.open ?? null,
      open_price: s?.open ?? null, high_price: s?.high ?? null, low_price: s?.low ?? null, volume: s?.sessionVolume ?? 0,
    };
    if (bid !== undefined) v.bid = bid;
    if (ask !== undefined) v.ask = ask;
    if (bid !== undefined && ask !== undefined) v.spread = Number((ask - bid).toFixed(i.price.decimals));
    return { s: 'ok', n: symbol, v };
  }

  signals(q: { symbol?: string; from: number; to: number; limit: number }): SignalRecord[] {
    const out: SignalRecord[] = [];
    if (this.providers.signals) out.push(...this.providers.signals(q));
    else if (this.store) {
      for (const r of this.store.signals(q.symbol, q.from, q.to, q.limit)) {
        const d = (r.data ?? {}) as Record<string, unknown>;
        out.push({ id: r.seq, instrument: r.instrument, ts: r.ts, kind: r.kind, side: d.side === 'buy' || d.side === 'sell' ? d.side : undefined, price: typeof d.price === 'number' ? d.price : undefined, text: typeof d.text === 'string' ? d.text : undefined, data: r.data });
      }
    }
    return out.slice(0, q.limit);
  }

  /** CL marks: signals at the start time (seconds) of their bar at `resolution`, at most 10 per bar. */
  marks(symbol: string, resolution: string, fromS: number, toS: number): Record<string, unknown>[] {
    const i = this.instrument(symbol);
    const r = this.resolution(resolution, i.id);
    const perBar = new Map<number, number>();
    const out: Record<string, unknown>[] = [];
    for (const s of this.signals({ symbol: i.id, from: fromS * 1000, to: toS * 1000, limit: 5000 })) {
      const t = this.markTime(i, r, s.ts);
      if (!Number.isFinite(t)) continue;
      const n = perBar.get(t) ?? 0;
      if (n >= 10) continue;
      perBar.set(t, n + 1);
      const color = s.side === 'buy' ? 'green' : s.side === 'sell' ? 'red' : 'blue';
      out.push({ id: s.id, time: Math.floor(t / 1000), color, text: s.text ?? `${s.kind}${s.price !== undefined ? ` @ ${s.price}` : ''}`, label: (s.kind[0] ?? 'S').toUpperCase(), labelFontColor: 'white', minSize: 14 });
    }
    return out;
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
    if (!b) return { symbol: i.id, available: false, snapshot: true, ts: null, bids: [], asks: [], note: 'order book not wired for this instrument' };
    // best `depth` levels per side, then both sides ascending by price (Charting Library DOM order, §1.11)
    const lv = (l: [number, number]) => ({ price: i.price.toNumber(l[0]), size: i.qty.toNumber(l[1]) });
    const bids = [...b.bids].sort((x, y) => y[0] - x[0]).slice(0, depth).reverse();
    const asks = [...b.asks].sort((x, y) => x[0] - y[0]).slice(0, depth);
    return { symbol: i.id, available: true, snapshot: true, ts: b.ts, bids: bids.map(lv), asks: asks.map(lv) };
  }

  depthHistory(symbol: string, from: number, to: number, limit: number): Record<string, unknown> {
    const i = this.instrument(symbol);
    const rows = this.providers.depthHistory?.(i.id, from, to, limit) ?? null;
    return { symbol: i.id, available: rows !== null, snapshots: rows ?? [] };
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
    const journal = this.store?.journal(i.id, 0, 8.64e15, 100) ?? [];
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

  feeds(): Record<string, unknown> {
    const f = this.providers.feeds?.();
    return { available: f !== undefined, feeds: f?.feeds ?? [], completeness: f?.completeness ?? [] };
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
    };
  }
}

function addLight(b: FootprintBar, t: Trade, cvd: number): void {
  // like FootprintBar.add without rows (UDF history needs OHLCV only)
  const p = t.price;
  if (b.trades === 0) { b.open = p; b.firstTs = t.ts; b.firstId = t.id; }
  if (p > b.high) b.high = p;
  if (p < b.low) b.low = p;
  b.close = p; b.lastTs = t.ts; b.lastId = t.id; b.volume += t.size; b.trades++;
  if (t.side === 'buy') { b.buyVolume += t.size; b.buyTrades++; b.delta += t.size; } else if (t.side === 'sell') { b.sellVolume += t.size; b.sellTrades++; b.delta -= t.size; } else b.unknownVolume += t.size;
  if (b.delta > b.deltaMax) b.deltaMax = b.delta;
  if (b.delta < b.deltaMin) b.deltaMin = b.delta;
  b.cvdClose = cvd;
  if (cvd > b.cvdHigh) b.cvdHigh = cvd;
  if (cvd < b.cvdLow) b.cvdLow = cvd;
}

/** Merge consecutive bars whose start falls in the same second (UDF times are seconds). */
export function collapseSameSecond(bars: FootprintBar[]): FootprintBar[] {
  const out: FootprintBar[] = [];
  let k = 0;
  while (k < bars.length) {
    const s = Math.floor(bars[k].start / 1000);
    let j = k + 1;
    while (j < bars.length && Math.floor(bars[j].start / 1000) === s) j++;
    if (j - k === 1) out.push(bars[k]);
    else {
      const group = bars.slice(k, j);
      const m = new FootprintBar(group[0].instrument, group[0].start, group[j - k - 1].end, group[0].rowTicks, group[0].sessionKey, group[0].cvdOpen);
      m.open = group[0].open; m.close = group[group.length - 1].close; m.firstTs = group[0].firstTs; m.lastTs = group[group.length - 1].lastTs;
      for (const b of group) { if (b.high > m.high) m.high = b.high; if (b.low < m.low) m.low = b.low; m.volume += b.volume; m.trades += b.trades; }
      out.push(m);
    }
    k = j;
  }
  return out;
}
