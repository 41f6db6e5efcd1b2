/**
 * The per-instrument analytics pipeline: one deterministic reducer over the normalized event
 * stream. Live feeds, replay and backtest all push events through `onEvent`, so they produce the
 * same numbers (and the same checksum). Core code: no Node imports.
 */
import type { MarketEvent, Quote, Trade } from '../core/events.js';
import { newTrade, SIDE_SOURCE_INDEX } from '../core/events.js';
import type { SessionWindow } from '../core/sessions.js';
import type { Instrument } from '../core/instruments.js';
import { SideClassifier, type ClassifierOptions } from '../core/classify.js';
import { BarBuilder } from './bars.js';
import { parseTimeframe, type BarSpec } from './timeframe.js';
import type { FootprintBar } from './footprint.js';
import { SealedRows } from './sealed-rows.js';
import { CvdTracker, DeltaDynamicsTracker, type CvdReset } from './delta.js';
import { Vwap, type VwapState } from './vwap.js';
import { Checksum } from './checksum.js';
import { computeBarStats, type BarStats, type BarStatsOptions } from './bar-stats.js';
import { SessionProfiles } from './profile/index.js';
import type { ValueAreaOptions } from './value-area.js';
import type { ImbalanceOptions } from './imbalance.js';

export interface PipelineOptions {
  /** bar spec or a timeframe string such as "1m", "500T", "100V" */
  timeframe: string | BarSpec;
  /** time-bar alignment for intraday bars (daily bars always align to the session) */
  align: 'utc' | 'session';
  /** footprint ticks per row (default: the instrument's footprint row) */
  footprintRowTicks?: number;
  /** profile ticks per row (default: the instrument's profile row) */
  profileRowTicks?: number;
  cvdReset: CvdReset;
  valueArea: Partial<ValueAreaOptions>;
  imbalance: Partial<ImbalanceOptions>;
  stackedMinRows: number;
  classifier: Partial<ClassifierOptions>;
  /**
   * imbalance minimums in INSTRUMENT units (the config's analytics.imbalance.minDominant / minOther): converted to
   * this instrument's lots (rounded up, so `dominant ≥ minimum` holds exactly); with metric 'trades' they are counts.
   * Overrides the same keys of `imbalance` (which are in lots).
   */
  imbalanceSizes?: { minDominant?: number; minOther?: number };
  /** closed bars kept in memory (oldest dropped first); Infinity for replay */
  keepBars: number;
  /** a memory budget for closed bars shared by every pipeline holding it (oldest dropped first) */
  barMemory?: BarMemory;
  /** quote updates become mid-tick units of tick volume (default: instrument.flow === 'quote-activity');
   * switched off automatically at the first real trade so volume is never counted twice */
  quoteActivity?: boolean;
}

export const DEFAULT_PIPELINE: PipelineOptions = {
  timeframe: '1m', align: 'utc', cvdReset: 'session', valueArea: {}, imbalance: {}, stackedMinRows: 3,
  classifier: {}, keepBars: Infinity,
};

export interface ClosedBar { bar: FootprintBar; stats: BarStats }

/**
 * Estimated memory of a closed bar: its sealed rows' bytes plus about 1.4 KB for the bar, its stats
 * and their objects (the bench's memory case measured the JS heap at about 1.4 KB per held bar at
 * coarse rows). A bar not yet sealed (rare: restored dense) counts its rows dense.
 */
export function closedBarBytes(b: FootprintBar): number {
  const g = b.rows;
  return BAR_OBJECT_BYTES + (g instanceof SealedRows ? g.bytes : g.length * 48);
}
const BAR_OBJECT_BYTES = 1400;

/**
 * A memory budget for the closed bars and session profiles of many pipelines (`tapeflow start`:
 * analytics.barMemoryMB). While the total is over budget, a pipeline closing a bar drops its own
 * oldest bars if it holds more than an equal share, so one busy 1-tick instrument cannot starve the
 * others (down to one bar, then its oldest closed session profiles). Dropped bars and profiles stay
 * in the store; history queries read them from there.
 */
export class BarMemory {
  used = 0;
  pipelines = 0;
  constructor(readonly budgetBytes: number) {
    if (!(budgetBytes > 0)) throw new RangeError(`bar memory budget must be > 0 bytes, got ${budgetBytes}`);
  }
  get share(): number { return this.budgetBytes / Math.max(1, this.pipelines); }
}

export interface PipelineCounters {
  trades: number;
  quotes: number;
  quoteActivityUnits: number;
  bookEvents: number;
  gaps: number;
  /** trade-id discontinuities observed (venue ids present and not contiguous) */
  idGaps: number;
  volume: number;
  buyVolume: number;
  sellVolume: number;
  unknownVolume: number;
  /** volume by classification rung (flag, quote, tick, midtick, none) */
  sourceVolume: number[];
}

export class InstrumentPipeline {
  readonly instrument: Instrument;
  readonly opts: PipelineOptions;
  readonly spec: BarSpec;
  /** closed bars in memory, oldest first (use prependBars to add restored ones: it keeps the accounting) */
  readonly bars: ClosedBar[] = [];
  readonly classifier: SideClassifier;
  readonly cvd: CvdTracker;
  readonly sessionVwap = new Vwap();
  readonly anchoredVwaps: Vwap[] = [];
  readonly profiles: SessionProfiles;
  readonly counters: PipelineCounters = { trades: 0, quotes: 0, quoteActivityUnits: 0, bookEvents: 0, gaps: 0, idGaps: 0, volume: 0, buyVolume: 0, sellVolume: 0, unknownVolume: 0, sourceVolume: [0, 0, 0, 0, 0] };
  private readonly builder: BarBuilder;
  private readonly dynamics = new DeltaDynamicsTracker();
  private readonly statsOpts: BarStatsOptions;
  private readonly hash = new Checksum();
  private quoteActivity: boolean;
  private readonly unit: Trade = newTrade();
  private readonly unitLots: number;
  private vwapSession = '';
  /** cached session window [sessFrom, sessTo): `sess`, or a gap between sessions when null */
  private sess: SessionWindow | null = null;
  private sessFrom = NaN;
  private sessTo = NaN;
  private lastId = 0;
  private barListeners: ((b: ClosedBar) => void)[] = [];
  private tradeListeners: ((t: Trade, bar: FootprintBar) => void)[] = [];
  /** last event time seen */
  lastTs = 0;
  /** closedBarBytes of the bars held */
  barBytes = 0;
  /** session profiles' bytes (SessionProfiles.bytes) at the last bar close: counted in the budget too */
  profileBytes = 0;

  constructor(instrument: Instrument, opts: Partial<PipelineOptions> = {}) {
    this.instrument = instrument;
    this.opts = { ...DEFAULT_PIPELINE, ...opts };
    const sizes = this.opts.imbalanceSizes;
    if (sizes) {
      const lots = (x: number | undefined): number | undefined => (x === undefined ? undefined : this.opts.imbalance.metric === 'trades' ? x : Math.ceil(x / instrument.qty.toNumber(1) - 1e-9));
      const md = lots(sizes.minDominant), mo = lots(sizes.minOther);
      this.opts = { ...this.opts, imbalance: { ...this.opts.imbalance, ...(md !== undefined ? { minDominant: md } : {}), ...(mo !== undefined ? { minOther: mo } : {}) } };
    }
    this.spec = typeof this.opts.timeframe === 'string' ? parseTimeframe(this.opts.timeframe, this.opts.align) : this.opts.timeframe;
    this.classifier = new SideClassifier(this.opts.classifier);
    this.cvd = new CvdTracker(this.opts.cvdReset);
    this.quoteActivity = this.opts.quoteActivity ?? instrument.flow === 'quote-activity';
    this.unitLots = instrument.qty.parse('1');
    this.unit.instrument = instrument.id;
    if (this.opts.barMemory) this.opts.barMemory.pipelines++;
    this.statsOpts = { valueArea: this.opts.valueArea, imbalance: this.opts.imbalance, stackedMinRows: this.opts.stackedMinRows, unfinishedMinBid: 0, unfinishedMinAsk: 0 };
    this.profiles = new SessionProfiles(instrument.calendar, this.opts.profileRowTicks ?? instrument.profileRowTicks, { valueArea: this.opts.valueArea });
    this.builder = new BarBuilder({
      instrument: instrument.id,
      spec: this.spec,
      rowTicks: this.opts.footprintRowTicks ?? instrument.footprintRowTicks,
      calendar: instrument.calendar,
      volumeLots: this.spec.kind === 'volume' ? instrument.qty.parse(String(this.spec.volume)) : undefined,
      onClose: (bar) => this.closed(bar),
      onSealed: (bar) => this.account(bar),
    });
  }

  onBarClose(fn: (b: ClosedBar) => void): void { this.barListeners.push(fn); }
  onTrade(fn: (t: Trade, bar: FootprintBar) => void): void { this.tradeListeners.push(fn); }

  /** trades older than a bar already closed (the bar builder put them into the next bar) */
  get lateTrades(): number { return this.builder.lateTrades; }

  /** The bar still open (null between bars). */
  get openBar(): FootprintBar | null { return this.builder.current; }

  /** Stats for the open bar, computed on demand. */
  openBarStats(): BarStats | null {
    const b = this.builder.current;
    return b ? computeBarStats(b, this.statsOpts, this.dynamics.peek(b.delta, b.buyVolume, b.sellVolume)) : null;
  }

  onEvent(ev: MarketEvent): void {
    switch (ev.type) {
      case 'trade': this.trade(ev); break;
      case 'quote': this.quote(ev); break;
      // gaps and REST book snapshots are stamped with local receive time, a different clock from
      // exchange time: they never close bars (trades, quotes, diffs and the market clock do)
      case 'gap': this.counters.gaps++; break;
      case 'book_snapshot': this.counters.bookEvents++; break;
      default: this.counters.bookEvents++; this.advance(ev.ts); break;
    }
  }

  /** Session VWAP accumulator and the session it belongs to (state snapshots for fast restarts). */
  sessionVwapState(): { session: string; vwap: VwapState } { return { session: this.vwapSession, vwap: this.sessionVwap.state() }; }
  restoreSessionVwap(session: string, vwap: VwapState): void { this.vwapSession = session; this.sessionVwap.restore(vwap); }

  /** Advance the clock without a trade (closes a finished time bar). */
  advance(ts: number): void {
    if (ts > this.lastTs) this.lastTs = ts;
    this.builder.flush(ts);
  }

  private quote(q: Quote): void {
    this.counters.quotes++;
    if (this.quoteActivity) {
      if (this.classifier.quoteActivity(q, this.unitLots, this.unit)) { this.counters.quoteActivityUnits++; this.apply(this.unit); }
      else if (!q.localTime) this.advance(q.ts);
    } else {
      this.classifier.onQuote(q);
      // receive-time quotes run ahead of exchange time: they must not close a bar before later-stamped trades
      if (!q.localTime) this.advance(q.ts);
    }
  }

  private trade(t: Trade): void {
    if (this.quoteActivity) this.quoteActivity = false;
    this.classifier.classify(t);
    if (t.id !== 0) {
      if (this.lastId !== 0 && t.id !== this.lastId + 1) this.counters.idGaps++;
      this.lastId = t.id;
    }
    this.apply(t);
  }

  /**
   * Apply a trade that is already classified (e.g. restored from the store) without running the
   * classifier again, so stored quote-rule sides stay quote-rule and quote-activity units do not
   * switch quote activity off.
   */
  applyClassified(t: Trade): void { this.apply(t); }

  /** Apply a classified trade (or quote-activity unit) to every analytic. */
  private apply(t: Trade): void {
    const ts = t.ts, size = t.size, side = t.side;
    if (ts > this.lastTs) this.lastTs = ts;
    const builder = this.builder, open = builder.current;
    if (open !== null && ts >= open.end) builder.flush(ts);
    const c = this.counters;
    c.trades++;
    c.volume += size;
    const sign = side === 'buy' ? 1 : side === 'sell' ? -1 : 0;
    if (sign > 0) c.buyVolume += size; else if (sign < 0) c.sellVolume += size; else c.unknownVolume += size;
    const src = t.sideSource;
    c.sourceVolume[src === 'flag' ? 0 : SIDE_SOURCE_INDEX[src]] += size;
    // the session window is cached here: one range check per trade instead of a calendar call
    let sess = this.sess;
    if (!(ts >= this.sessFrom && ts < this.sessTo)) sess = this.locateSession(ts);
    const key = sess !== null ? sess.key : '';
    this.cvd.enterSession(key);
    const before = this.cvd.value;
    const after = this.cvd.add(sign * size);
    if (sess !== null) {
      if (key !== this.vwapSession) { this.sessionVwap.reset(sess.start); this.vwapSession = key; }
      this.sessionVwap.add(t.price, size);
      this.profiles.add(ts, t.price, size, sign);
    }
    const anchored = this.anchoredVwaps;
    for (let i = 0; i < anchored.length; i++) {
      const v = anchored[i];
      if (ts >= v.anchor) v.add(t.price, size);
    }
    const bar = builder.add(t, before, after);
    const listeners = this.tradeListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](t, bar);
  }

  /** The session at ts (null outside sessions), remembering the window it is valid for. */
  private locateSession(ts: number): SessionWindow | null {
    const cal = this.instrument.calendar;
    const s = cal.sessionAt(ts);
    if (s !== null) { this.sessFrom = s.start; this.sessTo = s.end; }
    else { this.sessFrom = ts; this.sessTo = cal.sessionFrom(ts).start; }
    this.sess = s;
    return s;
  }

  /** Anchor a VWAP at `ts` (applies to trades from then on). */
  anchorVwap(ts: number): Vwap {
    const v = new Vwap(ts);
    this.anchoredVwaps.push(v);
    return v;
  }

  private closed(bar: FootprintBar): void {
    const stats = computeBarStats(bar, this.statsOpts, this.dynamics.next(bar.delta, bar.buyVolume, bar.sellVolume));
    bar.digest(this.hash);
    this.profiles.closeBar(bar.end);
    const cb: ClosedBar = { bar, stats };
    this.bars.push(cb);
    for (const fn of this.barListeners) fn(cb);
  }

  /** A held bar has its compact rows: count it (and the profiles as they are now) against keepBars and the memory budget. */
  private account(bar: FootprintBar): void {
    const bytes = closedBarBytes(bar);
    this.barBytes += bytes;
    const mem = this.opts.barMemory;
    if (mem) mem.used += bytes;
    this.recountProfiles();
    this.trim();
  }

  private recountProfiles(): void {
    const mem = this.opts.barMemory;
    if (!mem) return;
    const pb = this.profiles.bytes;
    mem.used += pb - this.profileBytes;
    this.profileBytes = pb;
  }

  /**
   * Over keepBars, or over the budget while holding more than an equal share: drop the oldest bar;
   * when a single bar is left, the oldest closed session profile (the current and prior stay).
   */
  private trim(): void {
    while (this.bars.length > this.opts.keepBars) this.dropOldest();
    const mem = this.opts.barMemory;
    if (!mem) return;
    while (mem.used > mem.budgetBytes && this.barBytes + this.profileBytes > mem.share) {
      if (this.bars.length > 1) this.dropOldest();
      else if (this.profiles.dropOldest()) this.recountProfiles();
      else break;
    }
  }

  /** Put bars restored from the store in front of the held ones (within keepBars and the budget). */
  prependBars(closed: readonly ClosedBar[]): void {
    let bytes = 0;
    for (const c of closed) { c.bar.seal(); bytes += closedBarBytes(c.bar); } // held bars keep compact rows
    this.bars.splice(0, 0, ...closed);
    this.barBytes += bytes;
    const mem = this.opts.barMemory;
    if (mem) mem.used += bytes;
    this.trim();
  }

  private dropOldest(): void {
    const old = this.bars.shift();
    if (!old) return;
    const b = closedBarBytes(old.bar);
    this.barBytes -= b;
    if (this.opts.barMemory) this.opts.barMemory.used -= b;
  }

  /** Close the open bar (end of a replay / backtest). */
  finish(): void {
    this.builder.closeCurrent();
  }

  /** Determinism checksum over every closed bar so far. */
  checksum(): string { return this.hash.hex(); }
}
