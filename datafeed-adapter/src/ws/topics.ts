/**
 * Engine → stream topics. One SymbolHub per instrument listens to its pipeline (trades, bar closes)
 * and to engine events (quotes, book updates); one Topic per (channel, symbol, timeframe) shared by
 * every subscriber builds snapshots and incremental updates. Updates are encoded once per topic and
 * handed to each subscription sink with a delivery kind that tells the sink how it may conflate:
 *   'plain'  never dropped or merged (signals)
 *   'close'  never dropped; voids a pending 'slot' update of the same subscription (closed bars)
 *   'slot'   latest state wins: replaces a pending, unsent 'slot' update (open bar, vwap, profile…)
 * Tick batches go through `pushTicks` so a congested subscription can merge them (bounded).
 */
import type { Engine } from '../../../engine/src/analytics/engine.js';
import type { ClosedBar, InstrumentPipeline } from '../../../engine/src/analytics/pipeline.js';
import { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import { computeBarStats, type BarStats, type BarStatsOptions } from '../../../engine/src/analytics/bar-stats.js';
import { imbalances, type ImbalanceOptions } from '../../../engine/src/analytics/imbalance.js';
import { coarsenBar } from '../../../engine/src/analytics/coarse-rows.js';
import { COL_ASK_VOL, COL_BID_VOL, COL_UNK_VOL } from '../../../engine/src/analytics/row-grid.js';
import type { DeltaDynamics } from '../../../engine/src/analytics/delta.js';
import type { Instrument } from '../../../engine/src/core/instruments.js';
import type { MarketEvent, Quote, Trade } from '../../../engine/src/core/events.js';
import type { OrderBook } from '../../../engine/src/book/order-book.js';
import {
  timeframeMs, type Channel, type WireBar, type WireBook, type WireDelta, type WireFootprint, type WireProfile,
  type WireStats, type WireTrade, type WireVwap,
} from './protocol.js';

export type PushKind = 'plain' | 'close' | 'slot';

/** A subscription as seen by a topic (implemented by the server). */
export interface TopicSink {
  /** `at`: performance.now() at emit (one clock read per update, not per subscriber) */
  push(data: Uint8Array, kind: PushKind, at?: number): void;
  /** a tick batch: `buf` is the shared encoding of `{trades}`; the sink may merge `trades` instead */
  pushTicks(trades: WireTrade[], buf: Uint8Array | null): void;
  /** tick channel: index of the first trade not covered by this subscription's snapshot */
  tickFrom: number;
}

export type Encoder = (x: unknown) => Uint8Array;

export interface TopicRequest { limit?: number; depth?: number }

export const DEFAULT_INTERVALS: Record<Channel, number> = {
  tick: 100, bar: 250, footprint: 250, delta: 250, vwap: 250, profile: 1000, orderbook: 250, stats: 1000,
  signal: 0, trade_state: 250, bias: 250, rule: 0, pcr: 250, feeds: 1000,
};

export const SNAPSHOT_LIMITS = {
  bar: { def: 300, max: 5000 },
  delta: { def: 300, max: 5000 },
  footprint: { def: 50, max: 500 },
  tick: { def: 200, max: 2000 },
  orderbook: { def: 20, max: 200 },
};

const TICK_RING = 8192;
const NO_DYNAMICS: DeltaDynamics = { momentum: NaN, acceleration: NaN, buyPressurePct: NaN, sellPressurePct: NaN };
const DAY = 86_400_000;
const DEFAULT_STATS_OPTS: BarStatsOptions = { valueArea: {}, imbalance: {}, stackedMinRows: 3, unfinishedMinBid: 0, unfinishedMinAsk: 0 };

const nn = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** 'YYYY-MM-DD' → 00:00 UTC of that date (NaN for ''). */
export function dayStamp(key: string): number {
  if (key.length !== 10) return NaN;
  return Date.UTC(Number(key.slice(0, 4)), Number(key.slice(5, 7)) - 1, Number(key.slice(8, 10)));
}

/** Per-instrument state shared by its topics. */
export class SymbolHub {
  readonly inst: Instrument;
  pipeline: InstrumentPipeline | null = null;
  readonly topics = new Set<Topic>();
  book: OrderBook | undefined;
  bookTs = 0;
  // tick ring
  total = 0;
  private readonly rTs = new Float64Array(TICK_RING);
  private readonly rPx = new Float64Array(TICK_RING);
  private readonly rSz = new Float64Array(TICK_RING);
  private readonly rId = new Float64Array(TICK_RING);
  private readonly rSd = new Int8Array(TICK_RING);
  // quote-ish state (ticks / lots)
  bid = NaN; ask = NaN; last = NaN;
  sessKey = ''; sessOpen = NaN; sessHigh = NaN; sessLow = NaN; sessVol = 0; prevClose = NaN;
  lastTs = 0;
  alive = true;

  constructor(inst: Instrument) { this.inst = inst; }

  px(ticks: number): number { return this.inst.price.toNumber(ticks); }
  qty(lots: number): number { return this.inst.qty.toNumber(lots); }
  pxn(ticks: number): number | null { return Number.isFinite(ticks) ? this.inst.price.toNumber(ticks) : null; }

  attach(p: InstrumentPipeline): void {
    if (this.pipeline) return;
    this.pipeline = p;
    for (const tp of this.topics) tp.onAttach(p);
    p.onTrade((t, bar) => { if (this.alive) this.trade(t, bar); });
    p.onBarClose((cb) => { if (this.alive) for (const tp of this.topics) tp.onBarClose(cb); });
  }

  private trade(t: Trade, bar: FootprintBar): void {
    const i = this.total % TICK_RING;
    this.rTs[i] = t.ts; this.rPx[i] = t.price; this.rSz[i] = t.size; this.rId[i] = t.id;
    this.rSd[i] = t.side === 'buy' ? 1 : t.side === 'sell' ? -1 : 0;
    this.total++;
    this.last = t.price;
    this.lastTs = t.ts;
    const key = bar.sessionKey;
    if (key !== '' && key !== this.sessKey) {
      if (this.sessKey !== '') this.prevClose = this.sessClose;
      this.sessKey = key; this.sessOpen = t.price; this.sessHigh = t.price; this.sessLow = t.price; this.sessVol = 0;
    }
    if (key !== '' && key === this.sessKey) {
      if (t.price > this.sessHigh) this.sessHigh = t.price;
      if (t.price < this.sessLow) this.sessLow = t.price;
      this.sessVol += t.size;
      this.sessClose = t.price;
    }
    for (const tp of this.topics) tp.onTrade(bar, t);
  }
  private sessClose = NaN;

  onQuote(q: Quote): void {
    this.bid = q.bid; this.ask = q.ask;
    for (const tp of this.topics) tp.onQuote();
  }

  onBook(ts: number): void {
    this.bookTs = ts;
    for (const tp of this.topics) tp.onBook();
  }

  /** Trades with global index in [from, to) still in the ring (older ones are gone). */
  trades(from: number, to: number): WireTrade[] {
    const lo = Math.max(from, to - TICK_RING, 0);
    const out: WireTrade[] = new Array(Math.max(0, to - lo));
    for (let k = lo; k < to; k++) {
      const i = k % TICK_RING;
      out[k - lo] = [this.rTs[i], this.px(this.rPx[i]), this.qty(this.rSz[i]), this.rSd[i], this.rId[i]];
    }
    return out;
  }

  stats(): WireStats {
    const p = this.pipeline;
    const c = p?.counters;
    return {
      ts: Math.max(this.lastTs, p?.lastTs ?? 0), symbol: this.inst.id,
      last: this.pxn(this.last), bid: this.pxn(this.bid), ask: this.pxn(this.ask),
      session: this.sessKey || null, open: this.pxn(this.sessOpen), high: this.pxn(this.sessHigh), low: this.pxn(this.sessLow),
      prevClose: this.pxn(this.prevClose), volume: this.qty(this.sessVol), cvd: p ? this.qty(p.cvd.value) : 0,
      trades: c?.trades ?? 0, totalVolume: this.qty(c?.volume ?? 0), buyVolume: this.qty(c?.buyVolume ?? 0), sellVolume: this.qty(c?.sellVolume ?? 0),
      bars: p?.bars.length ?? 0,
    };
  }
}

export abstract class Topic {
  readonly subs = new Set<TopicSink>();
  dirty = false;
  lastFlush = 0;
  constructor(
    readonly key: string, readonly ch: Channel, readonly hub: SymbolHub, readonly tf: string,
    readonly intervalMs: number, protected readonly enc: Encoder,
  ) {}

  abstract snapshot(req: TopicRequest, sink: TopicSink): unknown;
  /** Send the conflated state (called when dirty and the interval elapsed). */
  flush(): void {}
  onAttach(_p: InstrumentPipeline): void {}
  /** `t` is the classified trade just added to `bar` */
  onTrade(_bar: FootprintBar, _t?: Trade): void {}
  onBarClose(_cb: ClosedBar): void {}
  onQuote(): void {}
  onBook(): void {}

  protected emit(data: unknown, kind: PushKind): void {
    if (this.subs.size === 0) return;
    const buf = this.enc(data);
    const at = kind === 'slot' ? 0 : performance.now();
    for (const s of this.subs) s.push(buf, kind, at);
  }
}

// ---- bar-like channels ------------------------------------------------------------------------

type BarProjection = 'bar' | 'footprint' | 'delta';

interface Window { key: number; end: number; t: number }

/** A footprint subscription's own view: k × the engine's row size, imbalance options over the config's. */
export interface FootprintView { k: number; imbalance: Partial<ImbalanceOptions> }

/**
 * bar / footprint / delta for one timeframe: either the pipeline's own timeframe ("base") or a time
 * timeframe that is a multiple of it ("derived", aggregated from base bars; daily = one bar per session).
 */
export class BarTopic extends Topic {
  private readonly derived: boolean;
  private readonly winMs: number;
  private readonly daily: boolean;
  private acc: FootprintBar | null = null;
  private accWin: Window | null = null;
  private lastBarObj: FootprintBar | null = null;
  private lastBarWin: Window | null = null;
  private statsOpts: BarStatsOptions | null = null;

  constructor(key: string, ch: BarProjection, hub: SymbolHub, tf: string, intervalMs: number, enc: Encoder, derived: boolean, private readonly view: FootprintView | null = null) {
    super(key, ch, hub, tf, intervalMs, enc);
    this.derived = derived;
    const ms = timeframeMs(tf);
    this.winMs = ms ?? 0;
    this.daily = ms === DAY;
    if (hub.pipeline) this.onAttach(hub.pipeline);
  }

  /** The instrument's pipeline appeared (or existed at creation). */
  override onAttach(p: InstrumentPipeline): void {
    const o = p.opts;
    this.statsOpts = { valueArea: o.valueArea, imbalance: { ...o.imbalance, ...this.view?.imbalance }, stackedMinRows: o.stackedMinRows, unfinishedMinBid: 0, unfinishedMinAsk: 0 };
    if (this.derived) this.seed(p);
    this.dirty = true;
  }

  /** Can `tf` (normalized) be served from a pipeline? 'base' | 'derived' | an error message. */
  static support(pipelineTf: { kind: string; label: string; ms?: number }, tf: string): 'base' | 'derived' | string {
    if (tf === pipelineTf.label) return 'base';
    const ms = timeframeMs(tf);
    if (pipelineTf.kind !== 'time' || !pipelineTf.ms) return `timeframe ${tf} not available: the engine builds ${pipelineTf.label} bars`;
    if (ms === null) return `timeframe ${tf} not available: the engine builds ${pipelineTf.label} bars`;
    if (ms === pipelineTf.ms) return 'base';
    if (ms < pipelineTf.ms || ms % pipelineTf.ms !== 0) return `timeframe ${tf} is not a multiple of the engine timeframe ${pipelineTf.label}`;
    if (ms > DAY || DAY % ms !== 0) return `timeframe ${tf} must divide a day (1D max)`;
    return 'derived';
  }

  private barTime(b: FootprintBar): number {
    if (this.daily) { const d = dayStamp(b.sessionKey); if (d === d) return d; }
    return b.start;
  }

  private window(b: FootprintBar): Window {
    if (b === this.lastBarObj && this.lastBarWin) return this.lastBarWin;
    let w: Window;
    const spec = this.hub.pipeline?.spec;
    const sess = spec && spec.kind === 'time' && (this.daily || spec.align === 'session') ? this.hub.inst.calendar.sessionAt(b.start) : null;
    if (this.daily) {
      // bars outside every session belong to no daily bar (key NaN), as in UDF /history
      const key = dayStamp(b.sessionKey);
      w = { key, t: key, end: sess ? sess.end : key + DAY };
    } else if (sess) {
      const key = sess.start + Math.floor((b.start - sess.start) / this.winMs) * this.winMs;
      w = { key, t: key, end: Math.min(key + this.winMs, sess.end) };
    } else {
      const key = Math.floor(b.start / this.winMs) * this.winMs;
      w = { key, t: key, end: key + this.winMs };
    }
    this.lastBarObj = b;
    this.lastBarWin = w;
    return w;
  }

  private newAgg(w: Window, first: FootprintBar): FootprintBar {
    const a = new FootprintBar(first.instrument, w.key, w.end, first.rowTicks, first.sessionKey, first.cvdOpen);
    return a;
  }

  /** Seed the accumulator with the retained base bars of the window still in progress. */
  private seed(p: InstrumentPipeline): void {
    const bars = p.bars;
    if (!bars.length) return;
    const last = bars[bars.length - 1].bar;
    const w = this.window(last);
    if (w.key !== w.key || last.end >= w.end) return;
    let i = bars.length - 1;
    while (i > 0 && this.window(bars[i - 1].bar).key === w.key) i--;
    this.acc = this.newAgg(w, bars[i].bar);
    this.accWin = w;
    for (; i < bars.length; i++) mergeBar(this.acc, bars[i].bar);
  }

  private closeAcc(): void {
    const a = this.acc, w = this.accWin;
    this.acc = null; this.accWin = null;
    if (!a || !w || a.trades === 0) return;
    a.closed = true;
    this.emit(this.project(a, w.t, true, null), 'close');
  }

  override onTrade(bar: FootprintBar): void {
    this.dirty = true;
    if (this.derived && this.acc) { const k = this.window(bar).key; if (k === k && k !== this.accWin!.key) this.closeAcc(); }
  }

  override onBarClose(cb: ClosedBar): void {
    if (!this.derived) {
      this.dirty = false;
      this.emit(this.project(cb.bar, this.barTime(cb.bar), true, cb.stats), 'close');
      return;
    }
    const w = this.window(cb.bar);
    if (w.key !== w.key) return;
    if (this.acc && this.accWin!.key !== w.key) this.closeAcc();
    if (!this.acc) { this.acc = this.newAgg(w, cb.bar); this.accWin = w; }
    mergeBar(this.acc, cb.bar);
    if (cb.bar.end >= w.end) this.closeAcc();
  }

  override flush(): void {
    const cur = this.current();
    if (cur) this.emit(cur, 'slot');
  }

  /** The open bar's projection (null between bars). */
  private current(): unknown {
    const p = this.hub.pipeline;
    if (!p) return null;
    const open = p.openBar;
    if (!this.derived) {
      if (!open || open.trades === 0) return null;
      return this.project(open, this.barTime(open), false, this.ch === 'footprint' ? p.openBarStats() : null);
    }
    let w = this.accWin;
    let agg: FootprintBar | null = null;
    if (this.acc && w) {
      agg = this.newAgg(w, this.acc);
      mergeBar(agg, this.acc);
      if (open && open.trades > 0 && this.window(open).key === w.key) mergeBar(agg, open);
    } else if (open && open.trades > 0 && this.window(open).key === this.window(open).key) {
      w = this.window(open);
      agg = this.newAgg(w, open);
      mergeBar(agg, open);
    }
    if (!agg || !w || agg.trades === 0) return null;
    return this.project(agg, w.t, false, null);
  }

  snapshot(req: TopicRequest): { bars: unknown[]; open: unknown } {
    const lim = SNAPSHOT_LIMITS[this.ch as BarProjection];
    const limit = Math.max(0, Math.min(lim.max, Math.floor(req.limit ?? lim.def)));
    const p = this.hub.pipeline;
    if (!p) return { bars: [], open: null };
    const all = p.bars;
    const out: unknown[] = [];
    if (!this.derived) {
      for (let i = Math.max(0, all.length - limit); i < all.length; i++) out.push(this.project(all[i].bar, this.barTime(all[i].bar), true, all[i].stats));
      return { bars: out, open: this.current() };
    }
    const baseMs = p.spec.kind === 'time' ? p.spec.ms : 1;
    const ratio = Math.max(1, Math.ceil(this.winMs / baseMs));
    const from = Math.max(0, all.length - Math.min(200_000, (limit + 1) * ratio));
    const stop = this.accWin ? this.accWin.key : Infinity;
    let agg: FootprintBar | null = null;
    let w: Window | null = null;
    const groups: { a: FootprintBar; w: Window }[] = [];
    for (let i = from; i < all.length; i++) {
      const b = all[i].bar;
      const bw = this.window(b);
      if (bw.key !== bw.key) continue;
      if (bw.key >= stop) break;
      if (!agg || bw.key !== w!.key) {
        if (agg) groups.push({ a: agg, w: w! });
        agg = this.newAgg(bw, b); w = bw;
      }
      mergeBar(agg, b);
    }
    if (agg) groups.push({ a: agg, w: w! });
    // the first group may be partial (cut by `from`) when more history exists: drop it
    if (from > 0 && groups.length > 0) groups.shift();
    for (const g of groups.slice(-limit)) { g.a.closed = true; out.push(this.project(g.a, g.w.t, true, null)); }
    return { bars: out, open: this.current() };
  }

  protected project(b: FootprintBar, t: number, closed: boolean, stats: BarStats | null): WireBar | WireFootprint | WireDelta {
    const h = this.hub;
    const end = Number.isFinite(b.end) ? b.end : null;
    if (this.ch === 'delta') {
      return {
        t, end, delta: h.qty(b.delta), deltaMin: h.qty(b.deltaMin), deltaMax: h.qty(b.deltaMax),
        cvdO: h.qty(b.cvdOpen), cvdH: h.qty(b.cvdHigh), cvdL: h.qty(b.cvdLow), cvdC: h.qty(b.cvdClose),
        buy: h.qty(b.buyVolume), sell: h.qty(b.sellVolume), closed,
      };
    }
    const bar: WireBar = {
      t, end, o: h.px(b.open), h: h.px(b.high), l: h.px(b.low), c: h.px(b.close),
      v: h.qty(b.volume), buy: h.qty(b.buyVolume), sell: h.qty(b.sellVolume), delta: h.qty(b.delta), trades: b.trades, closed,
    };
    if (this.ch === 'bar') return bar;
    // a subscription's own view: its row size and imbalance options (the engine's stats are for the config's)
    if (this.view) { b = coarsenBar(b, this.view.k); stats = null; }
    const st = stats ?? computeBarStats(b, this.statsOpts ?? DEFAULT_STATS_OPTS, NO_DYNAMICS);
    const g = b.rows;
    const bid = g.cols[COL_BID_VOL], ask = g.cols[COL_ASK_VOL], unk = g.cols[COL_UNK_VOL];
    const rows: [number, number, number, number][] = [];
    // 4th element: the row's imbalance flags (1 buy, 2 sell), exact on lots, so charts need not recompute them
    const f = imbalances(g, (this.statsOpts ?? DEFAULT_STATS_OPTS).imbalance);
    for (let i = 0; i < g.length; i++) {
      if (bid[i] === 0 && ask[i] === 0 && unk[i] === 0) continue;
      rows.push([h.px((g.base + i) * b.rowTicks), h.qty(bid[i]), h.qty(ask[i]), f.buy[i] | (f.sell[i] << 1)]);
    }
    return {
      ...bar, rowSize: h.px(b.rowTicks), deltaMin: h.qty(b.deltaMin), deltaMax: h.qty(b.deltaMax),
      poc: nn(st.poc) === null ? null : h.px(st.poc), vah: nn(st.vah) === null ? null : h.px(st.vah), val: nn(st.val) === null ? null : h.px(st.val),
      buyImbalances: st.buyImbalances, sellImbalances: st.sellImbalances, rows,
    };
  }
}

/** Merge a (base) footprint bar into an aggregate bar covering a longer window. */
export function mergeBar(dst: FootprintBar, src: FootprintBar): void {
  if (src.trades === 0) return;
  if (dst.trades === 0) { dst.open = src.open; dst.firstTs = src.firstTs; dst.firstId = src.firstId; dst.cvdOpen = dst.cvdHigh = dst.cvdLow = src.cvdOpen; }
  if (src.high > dst.high) dst.high = src.high;
  if (src.low < dst.low) dst.low = src.low;
  dst.close = src.close;
  dst.lastTs = src.lastTs;
  dst.lastId = src.lastId;
  dst.volume += src.volume;
  dst.trades += src.trades;
  dst.buyVolume += src.buyVolume;
  dst.sellVolume += src.sellVolume;
  dst.unknownVolume += src.unknownVolume;
  dst.buyTrades += src.buyTrades;
  dst.sellTrades += src.sellTrades;
  dst.deltaMin = Math.min(dst.deltaMin, dst.delta + src.deltaMin);
  dst.deltaMax = Math.max(dst.deltaMax, dst.delta + src.deltaMax);
  dst.delta += src.delta;
  if (src.cvdHigh > dst.cvdHigh) dst.cvdHigh = src.cvdHigh;
  if (src.cvdLow < dst.cvdLow) dst.cvdLow = src.cvdLow;
  dst.cvdClose = src.cvdClose;
  for (let i = 0; i < 5; i++) dst.sourceVolume[i] += src.sourceVolume[i];
  dst.mergeRows(src.rows);
}

// ---- other channels ---------------------------------------------------------------------------

export class TickTopic extends Topic {
  private sent: number;
  constructor(key: string, hub: SymbolHub, intervalMs: number, enc: Encoder) {
    super(key, 'tick', hub, '', intervalMs, enc);
    this.sent = hub.total;
  }
  override onTrade(): void { this.dirty = true; }
  override flush(): void {
    const from = this.sent, to = this.hub.total;
    this.sent = to;
    if (to <= from || this.subs.size === 0) return;
    const trades = this.hub.trades(from, to);
    const dropped = to - from - trades.length;
    const buf = this.enc(dropped > 0 ? { trades, dropped } : { trades });
    for (const s of this.subs) {
      if (s.tickFrom <= to - trades.length) s.pushTicks(trades, buf);
      else if (s.tickFrom < to) s.pushTicks(trades.slice(s.tickFrom - (to - trades.length)), null);
    }
  }
  snapshot(req: TopicRequest, sink: TopicSink): { trades: WireTrade[] } {
    const lim = SNAPSHOT_LIMITS.tick;
    const n = Math.max(0, Math.min(lim.max, Math.floor(req.limit ?? lim.def)));
    sink.tickFrom = this.hub.total;
    return { trades: this.hub.trades(this.hub.total - n, this.hub.total) };
  }
}

export class VwapTopic extends Topic {
  override onTrade(): void { this.dirty = true; }
  override flush(): void { this.emit(this.snapshot(), 'slot'); }
  snapshot(): WireVwap {
    const h = this.hub;
    const p = h.pipeline;
    if (!p || p.sessionVwap.weight === 0) return { ts: h.lastTs, anchor: p?.sessionVwap.anchor ?? 0, vwap: null, stdev: null, upper: [null, null, null], lower: [null, null, null], volume: 0 };
    const s = p.sessionVwap.snapshot();
    return {
      ts: p.lastTs, anchor: s.anchor, vwap: h.pxn(s.vwap), stdev: h.pxn(s.stdev),
      upper: s.upper.map((x) => h.pxn(x)), lower: s.lower.map((x) => h.pxn(x)), volume: h.qty(s.volume),
    };
  }
}

/** The current session profile; `valueArea` (0–1): a subscription's value-area share over the config's. */
export class ProfileTopic extends Topic {
  constructor(key: string, hub: SymbolHub, intervalMs: number, enc: Encoder, private readonly valueArea: number | null = null) {
    super(key, 'profile', hub, '', intervalMs, enc);
  }
  override onTrade(): void { this.dirty = true; }
  override flush(): void { this.emit(this.snapshot(), 'slot'); }
  snapshot(): WireProfile {
    const h = this.hub;
    const p = h.pipeline;
    const cur = p?.profiles.current ?? null;
    const rowTicks = p?.profiles.rowTicks ?? h.inst.profileRowTicks;
    if (!p || !cur) return { ts: h.lastTs, session: null, start: null, end: null, closed: false, rowSize: h.px(rowTicks), poc: null, vah: null, val: null, low: null, high: null, volume: 0, buy: 0, sell: 0, rows: [] };
    const s = cur.profile.summary({ valueArea: this.valueArea === null ? p.opts.valueArea : { ...p.opts.valueArea, pct: this.valueArea }, rows: true });
    return {
      ts: p.lastTs, session: cur.key, start: cur.start, end: cur.end, closed: cur.closed, rowSize: h.px(rowTicks),
      poc: h.pxn(s.pocPrice), vah: h.pxn(s.vahPrice), val: h.pxn(s.valPrice), low: h.pxn(s.lowPrice), high: h.pxn(s.highPrice),
      volume: h.qty(s.totalVolume), buy: h.qty(s.buyVolume), sell: h.qty(s.sellVolume),
      rows: (s.rows ?? []).filter((r) => r.volume > 0).map((r) => [h.px(r.price), h.qty(r.volume), h.qty(r.buy), h.qty(r.sell)]),
    };
  }
}

export class StatsTopic extends Topic {
  override onTrade(): void { this.dirty = true; }
  override onQuote(): void { this.dirty = true; }
  override flush(): void { this.emit(this.hub.stats(), 'slot'); }
  snapshot(): WireStats { return this.hub.stats(); }
}

export class BookTopic extends Topic {
  constructor(key: string, hub: SymbolHub, intervalMs: number, enc: Encoder, readonly depth: number) {
    super(key, 'orderbook', hub, '', intervalMs, enc);
  }
  override onBook(): void { this.dirty = true; }
  override flush(): void { this.emit(this.snapshot(), 'slot'); }
  snapshot(): WireBook {
    const h = this.hub;
    const b = h.book;
    const depthLevels = h.inst.depthLevels ?? null;
    if (!b) return { ts: h.bookTs, available: false, synced: false, depthLevels, bids: [], asks: [] };
    const conv = (side: 'bid' | 'ask'): [number, number][] => b.depth(side, this.depth).map(([p, s]) => [h.px(p), h.qty(s)]);
    return { ts: h.bookTs, available: true, synced: b.synced, depthLevels, bids: conv('bid'), asks: conv('ask') };
  }
}

/** signal / trade_state / bias / rule / pcr: items arrive through StreamServer.publish(); signal, rule and trade_state items are never conflated. */
export class PublishedTopic extends Topic {
  /**
   * Channels whose every item is delivered (never conflated; the snapshot holds the last 50): signals,
   * rule decisions, and trade_state, whose items are lifecycle transitions and paper-account events
   * (an ENTRY followed within the interval by its first paper event must not vanish).
   */
  static readonly EVERY: ReadonlySet<string> = new Set(['signal', 'rule', 'trade_state']);
  readonly items: unknown[] = [];
  available = false;
  override flush(): void {
    if (!PublishedTopic.EVERY.has(this.ch) && this.items.length) this.emit({ item: this.items[this.items.length - 1] }, 'slot');
  }
  publish(item: unknown): void {
    this.available = true;
    this.items.push(item);
    const every = PublishedTopic.EVERY.has(this.ch);
    const keep = every ? 50 : 1;
    if (this.items.length > keep) this.items.splice(0, this.items.length - keep);
    if (every) this.emit({ item }, 'plain');
    else this.dirty = true;
  }
  snapshot(): { available: boolean; items: unknown[] } { return { available: this.available, items: [...this.items] }; }
}

/**
 * feeds: the server's feed and data status (mode live / simulated / replay, per-venue connection
 * state, gaps with their spans, the replay's position and play state), the same for every symbol.
 * Read from `source` every interval and sent only when it changed.
 */
export class FeedsTopic extends Topic {
  private last = '';
  constructor(key: string, hub: SymbolHub, intervalMs: number, enc: Encoder, private readonly source: (() => unknown) | undefined) {
    super(key, 'feeds', hub, '', intervalMs, enc);
    this.dirty = true;
  }
  override flush(): void {
    this.dirty = true; // re-read next interval: the source has no change events
    const d = this.snapshot();
    const j = JSON.stringify(d);
    if (j === this.last) return;
    this.last = j;
    this.emit(d, 'slot');
  }
  snapshot(): unknown { return this.source?.() ?? { available: false }; }
}

/** Route engine events that do not pass through pipeline listeners (quotes, books) to hubs. */
export function observeEngine(engine: Engine, hubFor: (id: string) => SymbolHub | undefined, bookFor?: (id: string) => OrderBook | undefined): void {
  engine.observe((ev: MarketEvent) => {
    if (ev.type === 'trade' || ev.type === 'gap') return;
    const hub = hubFor(ev.instrument);
    if (!hub || !hub.alive) return;
    if (ev.type === 'quote') hub.onQuote(ev);
    else {
      if (!hub.book && bookFor) hub.book = bookFor(ev.instrument);
      hub.onBook(ev.ts);
    }
  });
}
