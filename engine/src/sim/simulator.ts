/**
 * Seeded, deterministic market simulator: a level book with stochastic flow (Poisson limit orders
 * at power-law distances, size-proportional cancels, Hawkes marketable orders with log-normal
 * sizes, drift regimes with mean reversion) emitting the engine's events, plus scripted events
 * with ground-truth labels. Browser-safe: no Node APIs. See docs/simulator.md.
 */
import type { BookDelta, BookSnapshot, Level, MarketEvent, Quote, Trade } from '../core/events.js';
import { ASK, BID, LevelBook, type BookSide } from './book.js';
import { EventChecksum } from './checksum.js';
import { DiscretePowerLaw, mixSeed, Rng } from './prng.js';
import { DEFAULT_SCRIPT_PARAMS, createScript, nominalDuration, scriptAlignment, type ReserveStats, type ScriptApi, type ScriptGen } from './scripts.js';
import { SCRIPT_KINDS, type EventSink, type FlowParams, type GroundTruthLabel, type LabelSide, type ScriptKind, type ScriptedEvent, type SimConfig, type SimMode, type SimStats } from './types.js';

export const DEFAULT_FLOW: FlowParams = {
  limitRate: 12,
  cancelRate: 20,
  marketRate: 2.5,
  hawkesAlpha: 1.2,
  hawkesBeta: 2.5,
  depthLevels: 40,
  distanceAlpha: 1.3,
  limitSizeMedian: 7,
  limitSizeSigma: 0.8,
  marketSizeMedian: 8,
  marketSizeSigma: 1.0,
  regimeMeanMs: 8 * 60_000,
  regimeBias: 0.12,
  meanReversion: 0.15,
  reversionLevels: 40,
  anchorHalfLifeMs: 20 * 60_000,
  maxWalkLevels: 8,
  initialLevels: 40,
};

interface Planned {
  kind: ScriptKind;
  side: LabelSide;
  params: Record<string, number>;
  /** planned start (ms, already aligned for bar-aligned kinds) */
  startT: number;
  align: number;
  label: GroundTruthLabel;
}

interface Reserve {
  side: BookSide;
  g: number;
  display: number;
  hidden: number;
  jitter: number;
  executed: number;
  refills: number;
  maxDisplayed: number;
}

const NO_RESERVE_STATS: ReserveStats = { executed: 0, refills: 0, maxDisplayed: 0 };

/** Sliding-window max (or min) of trade prices keyed by emitted ts (monotone deque). */
class RollingExtreme {
  private ts: number[] = [];
  private px: number[] = [];
  private head = 0;
  constructor(private readonly isMax: boolean, private readonly windowMs: number) {}

  push(ts: number, price: number): void {
    const px = this.px;
    const isMax = this.isMax;
    while (px.length > this.head) {
      const last = px[px.length - 1];
      if (isMax ? last <= price : last >= price) {
        px.pop();
        this.ts.pop();
      } else break;
    }
    px.push(price);
    this.ts.push(ts);
    const cut = ts - this.windowMs;
    while (this.head < px.length && this.ts[this.head] < cut) this.head++;
    if (this.head > 1024 && this.head * 2 > px.length) {
      this.ts = this.ts.slice(this.head);
      this.px = this.px.slice(this.head);
      this.head = 0;
    }
  }

  /** extreme over trades with ts >= cutoff (NaN when none) */
  since(cutoff: number): number {
    for (let i = this.head; i < this.px.length; i++) if (this.ts[i] >= cutoff) return this.px[i];
    return NaN;
  }
}

function mergeParams(kind: ScriptKind, over: Record<string, number> | undefined): Record<string, number> {
  return { ...DEFAULT_SCRIPT_PARAMS[kind], ...(over ?? {}) };
}

export class MarketSimulator implements ScriptApi {
  readonly instrument: string;
  readonly flow: FlowParams;
  readonly levelTicks: number;
  readonly startTs: number;
  readonly endTs: number;
  readonly mode: SimMode;
  readonly seed: number;
  readonly tickSize: string | undefined;
  readonly lotStep: string | undefined;
  /** every scheduled event, in start order; filled in (times, prices, evidence) as events run */
  readonly labels: GroundTruthLabel[] = [];

  // --- state
  private readonly book: LevelBook;
  private readonly bgRng: Rng;
  private readonly scriptSeed: number;
  private readonly baseScriptRng: Rng;
  private readonly dist: DiscretePowerLaw;
  private readonly quoteOnSize: boolean;
  private t: number;
  private started = false;
  private finished = false;
  private sink: EventSink = () => {};
  private readonly ck = new EventChecksum();

  // background processes (rates per ms)
  private nextBgT = NaN;
  private bgLambda = 0;
  private hawkesE = 0;
  private hawkesT: number;
  private readonly limRate: number;
  private readonly canRate: number;
  private readonly mu: number;
  private readonly alpha: number;
  private readonly beta: number;
  bgScale = 1;
  private regimeDir = 0;
  private nextRegimeT: number;
  private anchor: number;
  private anchorT: number;
  private lastMid: number;

  // sequencing
  private seq: number;
  private tradeId: number;
  private readonly chBid: number[] = [];
  private readonly chAsk: number[] = [];
  private qBid = NaN;
  private qAsk = NaN;
  private qBidSize = -1;
  private qAskSize = -1;

  // trade trackers
  cvd = 0;
  phaseHigh = NaN;
  phaseLow = NaN;
  phaseCvdHigh = NaN;
  phaseCvdLow = NaN;
  private readonly rollMax: RollingExtreme;
  private readonly rollMin: RollingExtreme;
  private labHigh = NaN;
  private labLow = NaN;

  // scripts
  private readonly plan: Planned[] = [];
  private planIdx = 0;
  private active: { gen: ScriptGen; nextT: number; p: Planned } | null = null;
  private reserve: Reserve | null = null;

  // stats
  private nEvents = 0;
  private nTrades = 0;
  private nQuotes = 0;
  private nDeltas = 0;
  private nSnapshots = 0;
  private wallMs = 0;

  constructor(cfg: SimConfig) {
    if (!(cfg.durationMs > 0)) throw new Error('SimConfig.durationMs must be > 0');
    if (!Number.isFinite(cfg.startPrice) || cfg.startPrice <= 0) throw new Error('SimConfig.startPrice must be a positive number of ticks');
    this.instrument = cfg.instrument;
    this.seed = cfg.seed;
    this.tickSize = cfg.tickSize;
    this.lotStep = cfg.lotStep;
    this.flow = { ...DEFAULT_FLOW, ...(cfg.flow ?? {}) };
    const f = this.flow;
    if (f.hawkesBeta > 0 && f.hawkesAlpha / f.hawkesBeta >= 1) throw new Error('flow.hawkesAlpha / hawkesBeta must be < 1 (stationary Hawkes process)');
    this.levelTicks = Math.max(1, Math.round(cfg.levelTicks ?? 1));
    this.startTs = cfg.startTs;
    this.endTs = cfg.startTs + cfg.durationMs;
    this.mode = cfg.mode ?? 'full';
    this.quoteOnSize = cfg.quoteOnSizeChange ?? this.mode === 'full';
    this.seq = cfg.initialSeq ?? 1_000_000;
    this.tradeId = (cfg.initialTradeId ?? 1) - 1;
    this.t = cfg.startTs;
    this.hawkesT = cfg.startTs;
    this.anchorT = cfg.startTs;

    this.bgRng = new Rng(mixSeed(cfg.seed, 1));
    this.scriptSeed = mixSeed(cfg.seed, 2);
    this.baseScriptRng = new Rng(this.scriptSeed);
    const planRng = new Rng(mixSeed(cfg.seed, 3));

    this.limRate = f.limitRate / 1000;
    this.canRate = f.cancelRate / 1000;
    this.mu = f.marketRate / 1000;
    this.alpha = f.hawkesAlpha / 1000;
    this.beta = f.hawkesBeta / 1000;
    this.dist = new DiscretePowerLaw(Math.max(1, Math.round(f.depthLevels)), f.distanceAlpha, 1);

    const g0 = Math.round(cfg.startPrice / this.levelTicks);
    this.book = new LevelBook(g0, 8192);
    this.lastMid = g0;
    this.anchor = g0;
    for (let d = 0; d < f.initialLevels; d++) {
      this.book.add(BID, g0 - 1 - d, Math.max(1, Math.round(this.bgRng.logNormal(3 * f.limitSizeMedian, 0.5))));
      this.book.add(ASK, g0 + 1 + d, Math.max(1, Math.round(this.bgRng.logNormal(3 * f.limitSizeMedian, 0.5))));
    }
    this.nextRegimeT = this.t + this.bgRng.exp(1 / f.regimeMeanMs);

    let lookback = 120_000;
    this.schedule(cfg, planRng);
    for (const p of this.plan) if (p.kind === 'stop_run') lookback = Math.max(lookback, p.params.lookbackMs);
    this.rollMax = new RollingExtreme(true, lookback);
    this.rollMin = new RollingExtreme(false, lookback);
  }

  // ------------------------------------------------------------------ scheduling

  private schedule(cfg: SimConfig, rng: Rng): void {
    const sc = cfg.scenario;
    if (!sc) return;
    const items: Array<{ kind: ScriptKind; side: LabelSide; t: number; params: Record<string, number> }> = [];
    const warm = cfg.warmupMs ?? 180_000;
    if (sc === 'random') {
      const perHour = cfg.eventsPerHour ?? 6;
      if (perHour > 0) {
        let t = this.startTs + warm;
        let first = true;
        for (;;) {
          t += first ? rng.exp(perHour / 3_600_000) * 0.5 : rng.exp(perHour / 3_600_000);
          first = false;
          const kind = SCRIPT_KINDS[rng.int(SCRIPT_KINDS.length)];
          const side: LabelSide = rng.chance(0.5) ? 'buy' : 'sell';
          const params = mergeParams(kind, undefined);
          if (t + nominalDuration(kind, params) + scriptAlignment(kind, params) > this.endTs) break;
          items.push({ kind, side, t, params });
          t += nominalDuration(kind, params) + scriptAlignment(kind, params) + 20_000;
        }
      }
    } else {
      for (const ev of sc) {
        const t = ev.at ?? (ev.offsetMs !== undefined ? this.startTs + ev.offsetMs : NaN);
        if (!Number.isFinite(t)) throw new Error(`scripted ${ev.kind}: give "at" or "offsetMs"`);
        if (!SCRIPT_KINDS.includes(ev.kind)) throw new Error(`unknown scripted event kind "${ev.kind}"`);
        items.push({ kind: ev.kind, side: ev.side ?? (rng.chance(0.5) ? 'buy' : 'sell'), t, params: mergeParams(ev.kind, ev.params) });
      }
      items.sort((a, b) => a.t - b.t);
    }
    // planned bracket: events never overlap; a later one waits for the previous to end
    let free = -Infinity;
    items.forEach((it, n) => {
      const align = scriptAlignment(it.kind, it.params);
      let start = Math.max(it.t, free);
      if (align > 0) start = Math.ceil(start / align) * align;
      const end = start + nominalDuration(it.kind, it.params);
      free = end;
      const label: GroundTruthLabel = {
        id: `${this.instrument}#${n + 1}:${it.kind}`,
        instrument: this.instrument,
        kind: it.kind,
        side: it.side,
        startTs: Math.floor(start),
        endTs: Math.floor(end),
        priceLow: NaN,
        priceHigh: NaN,
        params: { ...it.params },
        done: false,
      };
      this.labels.push(label);
      this.plan.push({ kind: it.kind, side: it.side, params: it.params, startT: start, align, label });
    });
  }

  // ------------------------------------------------------------------ public API

  /** Run the whole span as fast as possible (deterministic). */
  run(sink: EventSink): SimStats {
    this.step(this.endTs, sink);
    return this.stats();
  }

  /**
   * Advance the simulation up to simulated time `untilTs` (inclusive), emitting events to sink.
   * Output does not depend on how the span is cut into steps. Returns false once the end is reached.
   */
  step(untilTs: number, sink: EventSink): boolean {
    if (this.finished) return false;
    const w0 = nowMs();
    this.sink = sink;
    if (!this.started) {
      this.started = true;
      this.emitSnapshot();
      this.checkQuote();
    }
    const limit = Math.min(untilTs, this.endTs);
    for (;;) {
      if (this.nextBgT !== this.nextBgT) this.drawBackground();
      const tScript = this.nextScriptTime();
      const tB = tScript < this.nextRegimeT ? tScript : this.nextRegimeT;
      if (this.nextBgT <= tB) {
        if (this.nextBgT > limit) break;
        this.t = this.nextBgT;
        this.nextBgT = NaN;
        this.backgroundEvent();
      } else {
        if (tB > limit) break;
        this.t = tB;
        this.decayHawkes();
        if (tB === tScript) this.scriptStep();
        else this.switchRegime();
        this.nextBgT = NaN; // intensity may have changed: redraw (deterministic point)
      }
    }
    if (limit >= this.endTs) this.finish();
    this.wallMs += nowMs() - w0;
    return !this.finished;
  }

  /** true once the end of the simulated span was reached */
  get done(): boolean { return this.finished; }

  /** current simulated time (ms) */
  get now(): number { return this.t; }

  /** Scheduled labels whose events have completed. */
  completedLabels(): GroundTruthLabel[] {
    return this.labels.filter((l) => l.done);
  }

  /** The current book as a snapshot event at the last emitted seq (out of band: not counted, not hashed). */
  bookSnapshot(maxLevels = Infinity): BookSnapshot {
    const lt = this.levelTicks;
    return {
      type: 'book_snapshot', instrument: this.instrument, ts: Math.floor(this.t), seq: this.seq,
      bids: this.book.levels(BID, maxLevels).map(([g, q]) => [g * lt, q] as Level),
      asks: this.book.levels(ASK, maxLevels).map(([g, q]) => [g * lt, q] as Level),
    };
  }

  /** Best bid / ask in ticks (NaN when a side is empty). */
  top(): { bid: number; ask: number; bidSize: number; askSize: number } {
    return { bid: this.book.bestBid() * this.levelTicks, ask: this.book.bestAsk() * this.levelTicks, bidSize: this.book.bestBidSize(), askSize: this.book.bestAskSize() };
  }

  checksum(): string { return this.ck.hex(); }

  stats(): SimStats {
    const secs = this.wallMs / 1000;
    return {
      instrument: this.instrument,
      events: this.nEvents,
      trades: this.nTrades,
      quotes: this.nQuotes,
      bookDeltas: this.nDeltas,
      snapshots: this.nSnapshots,
      checksum: this.ck.hex(),
      labels: this.labels.length,
      labelsDone: this.labels.reduce((n, l) => n + (l.done ? 1 : 0), 0),
      startTs: this.startTs,
      endTs: Math.floor(this.finished ? this.endTs : this.t),
      lastTradeId: this.tradeId,
      lastSeq: this.seq,
      lastMid: this.mid() * this.levelTicks,
      wallMs: this.wallMs,
      eventsPerSec: secs > 0 ? this.nEvents / secs : 0,
    };
  }

  // ------------------------------------------------------------------ background flow

  private drawBackground(): void {
    this.decayHawkes();
    const lam = 2 * this.limRate + 2 * this.canRate + this.bgScale * (this.mu + this.hawkesE);
    this.bgLambda = lam;
    this.nextBgT = this.t + this.bgRng.exp(lam);
  }

  private decayHawkes(): void {
    const dt = this.t - this.hawkesT;
    if (dt > 0 && this.hawkesE > 0) this.hawkesE *= Math.exp(-this.beta * dt);
    this.hawkesT = this.t;
  }

  private backgroundEvent(): void {
    this.decayHawkes();
    const r = this.bgRng;
    let u = r.float() * this.bgLambda;
    const lr = this.limRate;
    const cr = this.canRate;
    if (u < 2 * lr) {
      this.limitArrival(u < lr ? BID : ASK);
      return;
    }
    u -= 2 * lr;
    if (u < 2 * cr) {
      this.cancelArrival(u < cr ? BID : ASK);
      return;
    }
    u -= 2 * cr;
    if (u < this.bgScale * (this.mu + this.hawkesE)) {
      this.hawkesE += this.alpha;
      this.marketArrival();
    }
    // else: thinned candidate, nothing happens
  }

  private mid(): number {
    const b = this.book.bestBid();
    const a = this.book.bestAsk();
    if (b === b && a === a) this.lastMid = (a + b) / 2;
    else if (b === b) this.lastMid = Math.max(this.lastMid, b + 0.5);
    else if (a === a) this.lastMid = Math.min(this.lastMid, a - 0.5);
    return this.lastMid;
  }

  private limitArrival(side: BookSide): void {
    const f = this.flow;
    const d = this.dist.sample(this.bgRng);
    const q = Math.max(1, Math.round(this.bgRng.logNormal(f.limitSizeMedian, f.limitSizeSigma)));
    const b = this.book.bestBid();
    const a = this.book.bestAsk();
    let g: number;
    if (side === BID) {
      const ref = a === a ? a : b === b ? b + 1 : Math.floor(this.lastMid) + 1;
      g = ref - 1 - d;
    } else {
      const ref = b === b ? b : a === a ? a - 1 : Math.ceil(this.lastMid) - 1;
      g = ref + 1 + d;
    }
    const rs = this.reserve;
    if (rs !== null && rs.side === side && rs.g === g) return;
    this.book.add(side, g, q);
    (side === BID ? this.chBid : this.chAsk).push(g);
    this.endAction();
  }

  private cancelArrival(side: BookSide): void {
    const touch = side === BID ? this.book.bestBid() : this.book.bestAsk();
    if (touch !== touch) return;
    const d = this.bgRng.int(this.dist.n);
    const g = side === BID ? touch - d : touch + d;
    const q = this.book.size(side, g);
    if (q <= 0) return;
    const rs = this.reserve;
    if (rs !== null && rs.side === side && rs.g === g) return;
    const amt = Math.min(q, Math.ceil(q * (0.05 + 0.55 * this.bgRng.float())));
    this.book.remove(side, g, amt);
    (side === BID ? this.chBid : this.chAsk).push(g);
    this.endAction();
  }

  private marketArrival(): void {
    const f = this.flow;
    const r = this.bgRng;
    // anchor: slow EMA of the mid; buy probability = 0.5 + regime bias − mean reversion
    const m = this.mid();
    const dt = this.t - this.anchorT;
    this.anchorT = this.t;
    this.anchor += (m - this.anchor) * (1 - Math.pow(0.5, dt / f.anchorHalfLifeMs));
    let pBuy = 0.5 + this.regimeDir * f.regimeBias - f.meanReversion * Math.tanh((m - this.anchor) / f.reversionLevels);
    pBuy = pBuy < 0.05 ? 0.05 : pBuy > 0.95 ? 0.95 : pBuy;
    const buy = r.float() < pBuy;
    const q = Math.max(1, Math.round(r.logNormal(f.marketSizeMedian, f.marketSizeSigma)));
    this.marketOrder(buy, q, f.maxWalkLevels);
  }

  private switchRegime(): void {
    const r = this.bgRng;
    const u = r.float();
    this.regimeDir = u < 0.5 ? 0 : u < 0.75 ? 1 : -1;
    this.nextRegimeT = this.t + r.exp(1 / this.flow.regimeMeanMs);
  }

  // ------------------------------------------------------------------ matching and emission

  /**
   * Walk the opposite side with a marketable order; one Trade per level, then one delta and a quote.
   * `maxLevels` > 0 makes it a marketable limit (IOC) at touch ± maxLevels: the rest is dropped.
   */
  private marketOrder(buy: boolean, qty: number, maxLevels = 0): number {
    const book = this.book;
    const side: BookSide = buy ? ASK : BID;
    const ch = buy ? this.chAsk : this.chBid;
    let rem = qty;
    let filled = 0;
    const first = buy ? book.bestAsk() : book.bestBid();
    const limitPx = maxLevels > 0 ? (buy ? first + maxLevels : first - maxLevels) : buy ? Infinity : -Infinity;
    while (rem > 0) {
      const g = buy ? book.bestAsk() : book.bestBid();
      if (g !== g || (buy ? g > limitPx : g < limitPx)) break;
      const shown = book.size(side, g);
      const rs = this.reserve;
      const isRes = rs !== null && rs.side === side && rs.g === g;
      const avail = isRes ? shown + rs.hidden : shown;
      const take = rem < avail ? rem : avail;
      const fromShown = take < shown ? take : shown;
      book.remove(side, g, fromShown);
      if (isRes) {
        rs.hidden -= take - fromShown;
        rs.executed += take;
        // refill the displayed size from the hidden quantity, to a similar (jittered) size
        const left = book.size(side, g);
        const target = Math.max(1, Math.round(rs.display * (1 + rs.jitter * (2 * this.rng.float() - 1))));
        if (left < target && rs.hidden > 0) {
          const add = Math.min(rs.hidden, target - left);
          rs.hidden -= add;
          book.add(side, g, add);
          rs.refills++;
        }
        const now = book.size(side, g);
        if (now > rs.maxDisplayed) rs.maxDisplayed = now;
      }
      ch.push(g);
      this.emitTrade(g, take, buy);
      rem -= take;
      filled += take;
    }
    this.endAction();
    return filled;
  }

  private emitTrade(g: number, size: number, buy: boolean): void {
    const ts = Math.floor(this.t);
    const id = ++this.tradeId;
    this.cvd += buy ? size : -size;
    const cvd = this.cvd;
    if (!(g <= this.phaseHigh)) this.phaseHigh = g;
    if (!(g >= this.phaseLow)) this.phaseLow = g;
    if (!(cvd <= this.phaseCvdHigh)) this.phaseCvdHigh = cvd;
    if (!(cvd >= this.phaseCvdLow)) this.phaseCvdLow = cvd;
    if (this.active !== null) {
      if (!(g <= this.labHigh)) this.labHigh = g;
      if (!(g >= this.labLow)) this.labLow = g;
    }
    this.rollMax.push(ts, g);
    this.rollMin.push(ts, g);
    if (this.mode === 'quotes') return;
    this.nTrades++;
    const ev: Trade = { type: 'trade', instrument: this.instrument, ts, id, price: g * this.levelTicks, size, side: buy ? 'buy' : 'sell', sideSource: 'flag' };
    this.emit(ev);
  }

  private emit(ev: MarketEvent): void {
    this.nEvents++;
    this.ck.add(ev);
    this.sink(ev);
  }

  /** Close an action: publish the changed levels as one delta, then a quote if the top changed. */
  private endAction(): void {
    // a market maker always quotes: an emptied side is re-quoted a few levels off the other touch
    if (this.book.bestAsk() !== this.book.bestAsk() || this.book.bestBid() !== this.book.bestBid()) this.requote();
    if (this.chBid.length > 0 || this.chAsk.length > 0) {
      if (this.mode === 'full') {
        const bids = this.levelsOf(BID, this.chBid);
        const asks = this.levelsOf(ASK, this.chAsk);
        const prev = this.seq;
        const seq = ++this.seq;
        const ev: BookDelta = { type: 'book_delta', instrument: this.instrument, ts: Math.floor(this.t), firstSeq: seq, seq, prevSeq: prev, bids, asks };
        this.nDeltas++;
        this.emit(ev);
      }
      this.chBid.length = 0;
      this.chAsk.length = 0;
    }
    this.checkQuote();
    if (this.book.needsRecentre()) this.recentre();
  }

  private requote(): void {
    const f = this.flow;
    const r = this.bgRng;
    const b = this.book.bestBid();
    const a = this.book.bestAsk();
    const m = Math.round(this.lastMid);
    for (let i = 0; i < 3; i++) {
      const q = Math.max(1, Math.round(r.logNormal(3 * f.limitSizeMedian, 0.5)));
      if (a !== a) {
        const g = (b === b ? b : m - 1) + 1 + i + r.int(2);
        this.book.add(ASK, g, q);
        this.chAsk.push(g);
      } else {
        const g = (a === a ? a : m + 1) - 1 - i - r.int(2);
        this.book.add(BID, g, q);
        this.chBid.push(g);
      }
    }
    if (this.book.bestAsk() !== this.book.bestAsk() || this.book.bestBid() !== this.book.bestBid()) this.requote();
  }

  private levelsOf(side: BookSide, ch: number[]): Level[] {
    const out: Level[] = [];
    const lt = this.levelTicks;
    for (let i = 0; i < ch.length; i++) {
      const g = ch[i];
      let dup = false;
      for (let j = 0; j < i; j++) if (ch[j] === g) { dup = true; break; }
      if (!dup) out.push([g * lt, this.book.size(side, g)]);
    }
    return out;
  }

  private checkQuote(): void {
    const b = this.book.bestBid();
    const a = this.book.bestAsk();
    const quotes = this.mode === 'quotes';
    const bs = quotes ? 0 : this.book.bestBidSize();
    const as = quotes ? 0 : this.book.bestAskSize();
    const priceChanged = !(b === this.qBid || (b !== b && this.qBid !== this.qBid)) || !(a === this.qAsk || (a !== a && this.qAsk !== this.qAsk));
    if (!priceChanged && (!this.quoteOnSize || (bs === this.qBidSize && as === this.qAskSize))) return;
    this.qBid = b;
    this.qAsk = a;
    this.qBidSize = bs;
    this.qAskSize = as;
    const lt = this.levelTicks;
    const ev: Quote = { type: 'quote', instrument: this.instrument, ts: Math.floor(this.t), bid: b * lt, ask: a * lt, bidSize: bs, askSize: as };
    this.nQuotes++;
    this.emit(ev);
  }

  private emitSnapshot(): void {
    this.mid();
    if (this.mode !== 'full') return;
    const snap = this.bookSnapshot();
    snap.ts = this.startTs;
    this.nSnapshots++;
    this.emit(snap);
  }

  private recentre(): void {
    const dropB: Level[] = [];
    const dropA: Level[] = [];
    const lt = this.levelTicks;
    this.book.recentre((side, g) => (side === BID ? dropB : dropA).push([g * lt, 0]));
    const rs = this.reserve;
    if (rs !== null && !this.book.inWindow(rs.g)) this.reserve = null;
    if ((dropB.length > 0 || dropA.length > 0) && this.mode === 'full') {
      const prev = this.seq;
      const seq = ++this.seq;
      this.nDeltas++;
      this.emit({ type: 'book_delta', instrument: this.instrument, ts: Math.floor(this.t), firstSeq: seq, seq, prevSeq: prev, bids: dropB, asks: dropA });
    }
  }

  // ------------------------------------------------------------------ scripts

  private nextScriptTime(): number {
    if (this.active !== null) return this.active.nextT;
    if (this.planIdx >= this.plan.length) return Infinity;
    const p = this.plan[this.planIdx];
    let s = p.startT > this.t ? p.startT : this.t;
    if (p.align > 0) s = Math.ceil(s / p.align) * p.align;
    return s;
  }

  private scriptStep(): void {
    if (this.active === null) {
      const p = this.plan[this.planIdx++];
      p.label.startTs = Math.floor(this.t);
      p.label.params.levelTicks = this.levelTicks;
      this.labHigh = NaN;
      this.labLow = NaN;
      this.resetPhase();
      // each event draws from its own stream so editing one event does not reshuffle the others
      const rng = new Rng(mixSeed(this.scriptSeed, this.planIdx));
      this.scriptRng = rng;
      this.active = { gen: createScript(p.kind, this, p.side, p.params), nextT: this.t, p };
    }
    const a = this.active;
    const r = a.gen.next();
    if (r.done) {
      this.finishScript(true);
      return;
    }
    const d = r.value;
    a.nextT = this.t + (d > 0.001 ? d : 0.001);
  }

  private finishScript(done: boolean): void {
    const a = this.active;
    if (a === null) return;
    const lb = a.p.label;
    lb.endTs = Math.floor(this.t);
    lb.priceLow = this.labLow * this.levelTicks;
    lb.priceHigh = this.labHigh * this.levelTicks;
    lb.done = done;
    this.active = null;
    this.bgScale = 1;
    if (this.reserve !== null) this.clearReserve();
  }

  private finish(): void {
    if (this.finished) return;
    if (this.active !== null) {
      this.t = this.endTs;
      this.finishScript(false);
    }
    this.finished = true;
  }

  // ScriptApi -------------------------------------------------------

  private scriptRng: Rng | null = null;

  /** the active event's random stream (ScriptApi) */
  get rng(): Rng { return this.scriptRng ?? this.baseScriptRng; }

  get label(): GroundTruthLabel {
    if (this.active === null) throw new Error('no active scripted event');
    return this.active.p.label;
  }

  resetPhase(): void {
    this.phaseHigh = NaN;
    this.phaseLow = NaN;
    this.phaseCvdHigh = NaN;
    this.phaseCvdLow = NaN;
  }

  bestBid(): number { return this.book.bestBid(); }
  bestAsk(): number { return this.book.bestAsk(); }
  size(side: BookSide, g: number): number { return this.book.size(side, g); }
  sizeBetterThan(side: BookSide, g: number): number { return this.book.sizeBetterThan(side, g); }
  levels(side: BookSide, max: number): Array<[number, number]> { return this.book.levels(side, max); }

  market(side: LabelSide, qty: number): number {
    const q = Math.round(qty);
    if (!(q >= 1)) return 0;
    return this.marketOrder(side === 'buy', q);
  }

  add(side: BookSide, g: number, qty: number): void {
    const q = Math.round(qty);
    if (!(q >= 1)) return;
    const opp = side === BID ? this.book.bestAsk() : this.book.bestBid();
    if (opp === opp && (side === BID ? g >= opp : g <= opp)) return; // would cross
    if (!this.book.inWindow(g)) return;
    this.book.add(side, g, q);
    (side === BID ? this.chBid : this.chAsk).push(g);
    this.endAction();
  }

  cancel(side: BookSide, g: number, qty: number): void {
    const q = Math.round(qty);
    if (!(q >= 1) || this.book.size(side, g) <= 0) return;
    this.book.remove(side, g, q);
    (side === BID ? this.chBid : this.chAsk).push(g);
    this.endAction();
  }

  setReserve(side: BookSide, g: number, display: number, hidden: number, jitter: number): void {
    this.reserve = { side, g, display, hidden, jitter, executed: 0, refills: 0, maxDisplayed: this.book.size(side, g) };
  }

  clearReserve(): ReserveStats {
    const rs = this.reserve;
    this.reserve = null;
    return rs === null ? NO_RESERVE_STATS : { executed: rs.executed, refills: rs.refills, maxDisplayed: rs.maxDisplayed };
  }

  reserveStats(): ReserveStats {
    const rs = this.reserve;
    return rs === null ? NO_RESERVE_STATS : { executed: rs.executed, refills: rs.refills, maxDisplayed: rs.maxDisplayed };
  }

  recentHigh(lookbackMs: number): number { return this.rollMax.since(Math.floor(this.t) - lookbackMs); }
  recentLow(lookbackMs: number): number { return this.rollMin.since(Math.floor(this.t) - lookbackMs); }

  bgBarVolume(barMs: number): number {
    const f = this.flow;
    const meanSize = f.marketSizeMedian * Math.exp((f.marketSizeSigma * f.marketSizeSigma) / 2);
    const branching = f.hawkesBeta > 0 ? f.hawkesAlpha / f.hawkesBeta : 0;
    return (f.marketRate / (1 - branching)) * meanSize * (barMs / 1000);
  }
}

function nowMs(): number {
  const p = (globalThis as { performance?: { now(): number } }).performance;
  return p ? p.now() : Date.now();
}
