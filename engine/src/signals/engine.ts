/**
 * SignalEngine: attaches the detectors, framing and the trade state machine to an analytics Engine
 * (one set per instrument pipeline) and, optionally, to book state (sweep thin-book confirmation,
 * icebergs, book imbalance for rule mode). Exposes current state per instrument and listeners for the
 * store / HTTP / WebSocket / Telegram layers. Deterministic: driven only by event timestamps.
 * Core code: no Node imports.
 */
import type { Engine } from '../analytics/engine.js';
import type { InstrumentPipeline } from '../analytics/pipeline.js';
import type { Trade } from '../core/events.js';
import type { BookManager } from '../book/manager.js';
import { imbalance as bookImbalance } from '../book/analytics.js';
import { IcebergDetector, type Iceberg, type IcebergOptions } from '../book/iceberg.js';
import { InstitutionalTracker } from '../book/institutional.js';
import type { OrderBook } from '../book/order-book.js';
import {
  DeltaMismatchAbsorption, DivergenceDetector, ExhaustionDetector, icebergSignal, InitiativeDetector, LevelAbsorptionDetector, SweepDetector,
  type DeltaMismatchOptions, type DivergenceOptions, type ExhaustionOptions, type InitiativeOptions, type LevelAbsorptionOptions, type SweepOptions,
} from './detectors.js';
import { dailyBias, qualifiedLevels, toSessionLevels, type Bias, type LevelOptions, type QualifiedLevel, type SessionLevels } from './framing.js';
import { ruleSignal, type RuleOptions, type RuleSignalJson } from './rule-mode.js';
import { strategyStatus, scan, TradeStateMachine, type Alert, type StateMachineOptions, type StrategyStatus, type Transition } from './state.js';
import { Thresholds, type ThresholdOptions } from './thresholds.js';
import type { SignalEvent, SignalKind } from './types.js';
import { unitText, type UnitText } from './units.js';

export interface SignalEngineOptions {
  thresholds: Partial<ThresholdOptions>;
  deltaMismatch: Partial<DeltaMismatchOptions>;
  levelAbsorption: Partial<LevelAbsorptionOptions>;
  initiative: Partial<InitiativeOptions>;
  sweep: Partial<SweepOptions>;
  exhaustion: Partial<ExhaustionOptions>;
  divergence: Partial<DivergenceOptions>;
  levels: Partial<LevelOptions>;
  state: Partial<StateMachineOptions>;
  rule: Partial<RuleOptions>;
  /** detector kinds switched on (default all) */
  kinds: SignalKind[];
  /** compute a rule-mode call at every bar close (needs a book for the imbalance; WAIT without) */
  ruleMode: boolean;
  /** bars of CVD closes used for the rule-mode slope */
  ruleCvdBars: number;
  /** L2 iceberg detector options (refill window, minimum refills / executed ratio, cool-down; onDetect is set by the engine) */
  iceberg: Omit<IcebergOptions, 'onDetect'>;
  /** icebergs become signals only when executed >= this × the absorption minimum (lots) */
  icebergMinExecutedFactor: number;
  /** keep at most this many events in `signals` (oldest dropped) */
  keepSignals: number;
}

export const DEFAULT_SIGNAL_ENGINE: SignalEngineOptions = {
  thresholds: {}, deltaMismatch: {}, levelAbsorption: {}, initiative: {}, sweep: {}, exhaustion: {}, divergence: {}, levels: {}, state: {}, rule: {}, iceberg: {},
  kinds: ['absorption', 'initiative', 'sweep', 'exhaustion', 'divergence', 'iceberg'], ruleMode: true, ruleCvdBars: 5, icebergMinExecutedFactor: 0, keepSignals: 10_000,
};

/** Everything the signal layer keeps for one instrument. */
export class InstrumentSignals {
  readonly thresholds: Thresholds;
  readonly deltaMismatch: DeltaMismatchAbsorption;
  readonly levelAbsorption: LevelAbsorptionDetector;
  readonly initiative: InitiativeDetector;
  readonly sweep: SweepDetector;
  readonly exhaustion: ExhaustionDetector;
  readonly divergence: DivergenceDetector;
  readonly machine: TradeStateMachine;
  book: OrderBook | null = null;
  iceberg: IcebergDetector | null = null;
  institutional: InstitutionalTracker | null = null;
  bias: Bias | null = null;
  levels: QualifiedLevel[] = [];
  lastRule: RuleSignalJson | null = null;
  lastAbsorption: SignalEvent | null = null;
  private framedKey = '';
  private readonly cvdCloses: number[] = [];
  private iceN = 0;

  /** writes every text of this instrument in its price and instrument units */
  readonly units: UnitText;

  constructor(readonly pipeline: InstrumentPipeline, private readonly o: SignalEngineOptions, private readonly emit: (e: SignalEvent) => void, private readonly emitRule: (r: RuleSignalJson) => void) {
    const id = pipeline.instrument.id;
    const u = (this.units = unitText(pipeline.instrument));
    this.thresholds = new Thresholds(pipeline.instrument, o.thresholds);
    this.deltaMismatch = new DeltaMismatchAbsorption(id, this.thresholds, o.deltaMismatch, u);
    this.levelAbsorption = new LevelAbsorptionDetector(id, this.thresholds, o.levelAbsorption, u);
    this.initiative = new InitiativeDetector(id, this.thresholds, o.initiative, u);
    this.sweep = new SweepDetector(id, this.thresholds, o.sweep, u);
    this.exhaustion = new ExhaustionDetector(id, o.exhaustion, u);
    this.divergence = new DivergenceDetector(id, o.divergence, u);
    this.machine = new TradeStateMachine(id, o.state, u);
    pipeline.onBarClose((cb) => this.onBar(cb));
    pipeline.onTrade((t) => this.onTrade(t));
  }

  private on(kind: SignalKind): boolean { return this.o.kinds.includes(kind); }

  private fire(e: SignalEvent | null, price: number): void {
    if (!e) return;
    if (e.kind === 'absorption') this.lastAbsorption = e;
    this.emit(e);
    this.machine.onSignal(e, price);
  }

  private onTrade(t: Trade): void {
    const price = this.machine.lastPrice;
    if (this.on('sweep')) this.fire(this.sweep.onTrade(t), price);
    this.institutional?.onTrade(t);
    // an unsynced book's levels are not the venue's: icebergs wait for the resync
    if (!this.book || this.book.synced) this.iceberg?.onTrade(t);
    this.machine.onPrice(t.ts, t.price);
    if (this.on('absorption')) this.fire(this.levelAbsorption.onTrade(t), t.price);
  }

  private reframe(): void {
    const sessions = this.pipeline.profiles.sessions;
    const closed = sessions.filter((s) => s.closed);
    const cur = sessions.length && !sessions[sessions.length - 1].closed ? sessions[sessions.length - 1] : null;
    const key = closed.length ? closed[closed.length - 1].key : '';
    const summaries: SessionLevels[] = closed.slice(-2).map((s) => toSessionLevels(s.key, s.profile.summary()));
    if (key !== this.framedKey) { this.framedKey = key; this.levels = qualifiedLevels(summaries, this.o.levels); }
    let current: SessionLevels | null = null;
    if (cur && !cur.profile.empty) {
      const lv = cur.profile.levels();
      current = { key: cur.key, shape: 'none', pocPct: NaN, pocPrice: lv.poc, vahPrice: lv.vah, valPrice: lv.val, lowPrice: cur.profile.lowPrice, highPrice: cur.profile.highPrice };
    }
    const prior = summaries.length ? summaries[summaries.length - 1] : null;
    const earlier = summaries.length > 1 ? summaries[0] : null;
    this.bias = prior ? dailyBias(prior, current, earlier, [], this.units) : null;
    this.machine.setFraming(this.bias, this.levels, prior ? { vah: prior.vahPrice, val: prior.valPrice } : null);
  }

  private onBar(cb: { bar: import('../analytics/footprint.js').FootprintBar; stats: import('../analytics/bar-stats.js').BarStats }): void {
    const price = this.machine.lastPrice;
    if (this.on('sweep')) this.fire(this.sweep.advance(cb.bar.end), price);
    this.reframe();
    if (this.on('absorption')) this.fire(this.deltaMismatch.onBar(cb), price);
    if (this.on('initiative')) this.fire(this.initiative.onBar(cb), price);
    if (this.on('exhaustion')) this.fire(this.exhaustion.onBar(cb), price);
    if (this.on('divergence')) this.fire(this.divergence.onBar(cb), price);
    this.thresholds.onBar(cb.bar.volume, cb.bar.delta);
    this.cvdCloses.push(cb.bar.cvdClose);
    if (this.cvdCloses.length > this.o.ruleCvdBars) this.cvdCloses.shift();
    if (this.o.ruleMode) {
      const inst = this.pipeline.instrument;
      const r = ruleSignal({
        ts: cb.bar.end, symbol: inst.id, price: inst.price.toNumber(cb.bar.close), cvd: this.cvdCloses, lotSize: inst.qty.toNumber(1),
        imbalance: this.book && this.book.synced ? bookImbalance(this.book, 10) : NaN,
        vwap: this.pipeline.sessionVwap.weight > 0 ? inst.price.toNumber(this.pipeline.sessionVwap.value) : NaN,
        absorption: this.lastAbsorption,
      }, this.o.rule);
      r.price = inst.price.toNumber(cb.bar.close);
      this.lastRule = r;
      this.emitRule(r);
    }
  }

  /** A confirmed iceberg from the book layer. */
  onIceberg(ice: Iceberg): void {
    if (!this.on('iceberg')) return;
    if (this.book && !this.book.synced) return;
    if (ice.executed < this.o.icebergMinExecutedFactor * this.thresholds.absorptionMin()) return;
    const ratio = this.institutional?.stats(ice.side, ice.price, ice.confirmedAt)?.ratio;
    this.fire(icebergSignal(this.pipeline.instrument.id, ice, ++this.iceN, ratio, this.units), this.machine.lastPrice);
  }

  /** Attach a book (sweep confirmation, rule-mode imbalance). */
  setBook(book: OrderBook | null): void {
    this.book = book;
    this.sweep.book = book;
  }

  status(): StrategyStatus { return strategyStatus(this.machine); }
}

export class SignalEngine {
  readonly opts: SignalEngineOptions;
  readonly instruments = new Map<string, InstrumentSignals>();
  /** recent events, oldest first (bounded by keepSignals) */
  readonly signals: SignalEvent[] = [];
  private readonly sigL: ((e: SignalEvent) => void)[] = [];
  private readonly trL: ((t: Transition) => void)[] = [];
  private readonly alL: ((a: Alert) => void)[] = [];
  private readonly ruleL: ((r: RuleSignalJson) => void)[] = [];
  private readonly bound = new Map<string, { s: InstrumentSignals; ice: IcebergDetector; inst: InstitutionalTracker }>();

  constructor(opts: Partial<SignalEngineOptions> = {}) {
    this.opts = { ...DEFAULT_SIGNAL_ENGINE, ...opts };
  }

  /**
   * Attach to an analytics engine: every pipeline (existing and future) gets detectors. With `books`
   * (the engine's BookManager) each instrument's synced book feeds sweeps, icebergs, institutional
   * ratio and rule-mode imbalance; the book is never synced twice.
   */
  attach(engine: Engine, o: { books?: BookManager } = {}): this {
    engine.onPipeline((p) => this.attachPipeline(p));
    const books = o.books;
    if (books) {
      books.onBook((id, book) => this.bindBook(id, book));
      books.onLevel((id, side, price, size, prev, ts) => {
        const b = this.bound.get(id);
        if (!b) return;
        if (!b.s.book?.synced) return;
        b.ice.onLevel(side, price, size, prev, ts);
        b.inst.onLevel(side, price, size, prev, ts);
        b.s.sweep.onLevel(side, price, size, prev, ts);
      });
    }
    return this;
  }

  attachPipeline(p: InstrumentPipeline): InstrumentSignals {
    const id = p.instrument.id;
    let s = this.instruments.get(id);
    if (s) return s;
    s = new InstrumentSignals(p, this.opts, (e) => this.emit(e), (r) => { for (const fn of this.ruleL) fn(r); });
    s.machine.onTransition((t) => { for (const fn of this.trL) fn(t); });
    s.machine.onAlert((a) => { for (const fn of this.alL) fn(a); });
    this.instruments.set(id, s);
    return s;
  }

  private bindBook(id: string, book: OrderBook): void {
    const s = this.instruments.get(id);
    if (!s || this.bound.has(id)) return;
    const ice = new IcebergDetector(book, { ...this.opts.iceberg, onDetect: (x) => s.onIceberg(x) });
    const inst = new InstitutionalTracker();
    s.iceberg = ice;
    s.institutional = inst;
    s.setBook(book);
    this.bound.set(id, { s, ice, inst });
  }

  private emit(e: SignalEvent): void {
    this.signals.push(e);
    if (this.signals.length > this.opts.keepSignals) this.signals.shift();
    for (const fn of this.sigL) fn(e);
  }

  onSignal(fn: (e: SignalEvent) => void): void { this.sigL.push(fn); }
  onTransition(fn: (t: Transition) => void): void { this.trL.push(fn); }
  onAlert(fn: (a: Alert) => void): void { this.alL.push(fn); }
  onRule(fn: (r: RuleSignalJson) => void): void { this.ruleL.push(fn); }

  /** Current strategy status of one instrument (undefined when unknown). */
  status(instrument: string): StrategyStatus | undefined { return this.instruments.get(instrument)?.status(); }

  /** Scanner over all instruments, highest priority first. */
  scanner(): StrategyStatus[] { return scan([...this.instruments.values()].map((s) => s.status())); }
}
