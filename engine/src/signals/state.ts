/**
 * Per-instrument trade state machine, strategy status and scanner priority
 * (docs/definitions/signals.md §5).
 *
 * NO_TRADE → WATCHING (price within nearTicks of a qualified level with strength >= 50)
 * WATCHING → POSITION_OPEN (an absorption at that level with composite >= entryThreshold)
 * POSITION_OPEN → BREAK_EVEN (first same-direction initiative: SL = entry)
 * BREAK_EVEN/TRAILING → TRAILING (each later same-direction initiative: SL = the bar's extreme, never loosened)
 * any open state → CLOSED (SL or TP touched, or an opposite exhaustion/divergence with strength >= 70)
 * CLOSED → NO_TRADE at the next price update. WATCHING → NO_TRADE when price leaves the level.
 * A sweep is an alert only.
 */
import type { Bias, QualifiedLevel } from './framing.js';
import { biasSide, levelNear } from './framing.js';
import { compositeScore, DEFAULT_ENTRY_THRESHOLD, type CompositeScore } from './scoring.js';
import { r2, sideSign, type SignalEvent, type SignalSide } from './types.js';
import { RAW_UNITS, type UnitText } from './units.js';

export type TradeState = 'NO_TRADE' | 'WATCHING' | 'POSITION_OPEN' | 'BREAK_EVEN' | 'TRAILING' | 'CLOSED';

export interface Position {
  id: string;
  instrument: string;
  side: SignalSide;
  entry: number;
  sl: number;
  tp: number;
  initialSl: number;
  openedAt: number;
  signalId: string;
  score: number;
  grade: string;
  level: { kind: string; price: number; strength: number } | null;
  /** how SL/TP were set */
  stops: 'value-area' | 'percent';
  closedAt?: number;
  exit?: number;
  exitReason?: 'sl' | 'tp' | 'opposite-signal' | 'manual';
  /** (exit − entry) × side / (entry − initialSl) × side */
  r?: number;
  reasoning: string[];
}

export interface Transition {
  instrument: string;
  ts: number;
  from: TradeState;
  to: TradeState;
  reasoning: string[];
  position: Position | null;
}

export interface Alert { instrument: string; ts: number; signal: SignalEvent; reasoning: string[] }

export interface StateMachineOptions {
  entryThreshold: number;
  /** "near a level": |price − level| <= nearTicks */
  nearTicks: number;
  /** hysteresis: WATCHING ends only when price is more than leaveTicks from the watched level (and no other level is near); default 2 × nearTicks */
  leaveTicks?: number;
  minLevelStrength: number;
  /** SL beyond VAL/VAH by this fraction of the value-area range */
  slBufferPct: number;
  /** without bias: SL/TP at ± these fractions of the entry */
  noBiasSlPct: number;
  noBiasTpPct: number;
  /** opposite exhaustion/divergence with strength >= this closes the position */
  closeOnOppositeStrength: number;
  /** enter automatically on a qualifying absorption (false: stop at ENTRY_READY until enter()) */
  autoEnter: boolean;
}

export const DEFAULT_STATE_OPTIONS: StateMachineOptions = {
  entryThreshold: DEFAULT_ENTRY_THRESHOLD, nearTicks: 10, minLevelStrength: 50, slBufferPct: 0.1, noBiasSlPct: 0.003, noBiasTpPct: 0.006,
  closeOnOppositeStrength: 70, autoEnter: true,
};

/**
 * SL/TP. With a directional bias and a value area: long SL = VAL − slBufferPct × (VAH − VAL), TP = VAH;
 * short SL = VAH + buffer, TP = VAL (used only when SL and TP lie on the correct sides of the entry).
 * Otherwise SL/TP = entry × (1 ∓ noBiasSlPct) / entry × (1 ± noBiasTpPct), rounded to ticks.
 */
export function stopsFor(side: SignalSide, entry: number, bias: Bias | null, va: { vah: number; val: number } | null, o: Pick<StateMachineOptions, 'slBufferPct' | 'noBiasSlPct' | 'noBiasTpPct'> = DEFAULT_STATE_OPTIONS): { sl: number; tp: number; stops: 'value-area' | 'percent' } {
  const s = sideSign(side);
  if (bias && biasSide(bias) && va && va.vah > va.val) {
    const buf = Math.round(o.slBufferPct * (va.vah - va.val));
    const sl = side === 'buy' ? va.val - buf : va.vah + buf;
    const tp = side === 'buy' ? va.vah : va.val;
    if (s * (entry - sl) > 0 && s * (tp - entry) > 0) return { sl, tp, stops: 'value-area' };
  }
  const sl = Math.round(entry * (1 - s * o.noBiasSlPct));
  const tp = Math.round(entry * (1 + s * o.noBiasTpPct));
  return { sl, tp, stops: 'percent' };
}

export class TradeStateMachine {
  readonly opts: StateMachineOptions;
  state: TradeState = 'NO_TRADE';
  position: Position | null = null;
  readonly closed: Position[] = [];
  bias: Bias | null = null;
  levels: QualifiedLevel[] = [];
  valueArea: { vah: number; val: number } | null = null;
  watchLevel: QualifiedLevel | null = null;
  lastPrice = NaN;
  lastTs = 0;
  /** last entry decision (absorption at the watched level) */
  lastDecision: { ts: number; score: CompositeScore; signal: SignalEvent; entered: boolean } | null = null;
  /** pending entry when autoEnter is false */
  pending: { signal: SignalEvent; score: CompositeScore } | null = null;
  offline = false;
  private n = 0;
  private initiatives = 0;
  private readonly listeners: ((t: Transition) => void)[] = [];
  private readonly alertListeners: ((a: Alert) => void)[] = [];

  /** `units` writes the transition texts in price and instrument units (ticks and lots without an instrument) */
  constructor(readonly instrument: string, opts: Partial<StateMachineOptions> = {}, readonly units: UnitText = RAW_UNITS) {
    this.opts = { ...DEFAULT_STATE_OPTIONS, ...opts };
  }

  onTransition(fn: (t: Transition) => void): void { this.listeners.push(fn); }
  onAlert(fn: (a: Alert) => void): void { this.alertListeners.push(fn); }

  setFraming(bias: Bias | null, levels: QualifiedLevel[], valueArea: { vah: number; val: number } | null): void {
    this.bias = bias;
    this.levels = levels;
    this.valueArea = valueArea;
  }

  private go(to: TradeState, ts: number, reasoning: string[]): void {
    const from = this.state;
    this.state = to;
    const t: Transition = { instrument: this.instrument, ts, from, to, reasoning, position: this.position ? { ...this.position } : null };
    for (const fn of this.listeners) fn(t);
  }

  /** Price update (a trade, or a bar with its high/low). */
  onPrice(ts: number, price: number, high = price, low = price): void {
    this.lastPrice = price;
    this.lastTs = ts;
    if (this.state === 'CLOSED') { this.position = null; this.go('NO_TRADE', ts, ['ready for the next setup']); }
    const p = this.position;
    if (p) {
      const long = p.side === 'buy';
      const slHit = long ? low <= p.sl : high >= p.sl;
      const tpHit = long ? high >= p.tp : low <= p.tp;
      // both in one update: the stop is assumed first (conservative)
      // a trade update fills at the breaching trade's price (a gap through the stop costs more);
      // a bar update (high/low) cannot know that trade and fills at the barrier
      const trade = high === low;
      if (slHit) this.close(ts, trade ? price : p.sl, 'sl', [`stop ${this.units.price(p.sl)} breached (${trade ? `trade ${this.units.price(price)}` : `${long ? 'low' : 'high'} ${this.units.price(long ? low : high)}`})`]);
      else if (tpHit) this.close(ts, trade ? price : p.tp, 'tp', [`target ${this.units.price(p.tp)} reached${trade ? ` (trade ${this.units.price(price)})` : ''}`]);
      return;
    }
    const lvl = levelNear(this.levels, price, this.opts.nearTicks, this.opts.minLevelStrength);
    if (this.state === 'NO_TRADE' && lvl) {
      this.watchLevel = lvl;
      this.lastDecision = null;
      this.go('WATCHING', ts, [`price ${this.units.price(price)} near ${lvl.kind} ${this.units.price(lvl.price)} (strength ${lvl.strength})`]);
    } else if (this.state === 'WATCHING') {
      const w0 = this.watchLevel;
      const leave = this.opts.leaveTicks ?? 2 * this.opts.nearTicks;
      if (!lvl && w0 && Math.abs(price - w0.price) <= leave) return; // hysteresis: still around the watched level
      if (!lvl) { const w = this.watchLevel; this.watchLevel = null; this.pending = null; this.lastDecision = null; this.go('NO_TRADE', ts, [`price ${this.units.price(price)} left ${w?.kind} ${w ? this.units.price(w.price) : ''}`]); }
      else this.watchLevel = lvl;
    }
  }

  /** A detector event at its confirmedAt; `price` = the last price at that time. */
  onSignal(ev: SignalEvent, price = this.lastPrice): void {
    const ts = ev.confirmedAt;
    if (ev.kind === 'sweep') {
      const a: Alert = { instrument: this.instrument, ts, signal: ev, reasoning: [`ALERT: ${ev.side} sweep ${this.units.price(ev.priceLow)}–${this.units.price(ev.priceHigh)} (strength ${ev.strength}); alert only, no state change`] };
      for (const fn of this.alertListeners) fn(a);
      return;
    }
    const p = this.position;
    if (p) {
      if (ev.kind === 'initiative' && ev.side === p.side) {
        this.initiatives++;
        if (this.state === 'POSITION_OPEN') {
          p.sl = p.entry;
          this.go('BREAK_EVEN', ts, [`same-direction initiative ${ev.id} (strength ${ev.strength}): stop to break-even ${this.units.price(p.entry)}`]);
        } else {
          const ext = p.side === 'buy' ? ev.priceLow : ev.priceHigh;
          const better = sideSign(p.side) * (ext - p.sl) > 0 ? ext : p.sl;
          p.sl = better;
          this.go('TRAILING', ts, [`initiative ${ev.id}: stop trailed to the bar ${p.side === 'buy' ? 'low' : 'high'} ${this.units.price(ext)}${better !== ext ? ` (kept ${this.units.price(better)})` : ''}`]);
        }
      } else if ((ev.kind === 'exhaustion' || ev.kind === 'divergence') && ev.side !== p.side && ev.strength >= this.opts.closeOnOppositeStrength) {
        this.close(ts, price, 'opposite-signal', [`opposite ${ev.kind} ${ev.id} with strength ${ev.strength} >= ${this.opts.closeOnOppositeStrength}`]);
      }
      return;
    }
    if (this.state !== 'WATCHING' || ev.kind !== 'absorption' || !this.watchLevel) return;
    const lvl = this.watchLevel;
    const tol = this.opts.nearTicks;
    if (ev.priceHigh < lvl.price - tol || ev.priceLow > lvl.price + tol) return;
    const score = compositeScore(ev, lvl.strength, this.bias);
    const ok = score.score >= this.opts.entryThreshold;
    this.lastDecision = { ts, score, signal: ev, entered: ok && this.opts.autoEnter };
    if (!ok) return;
    if (!this.opts.autoEnter) { this.pending = { signal: ev, score }; return; }
    this.open(ev, score, price, ts);
  }

  /** Take a pending entry (autoEnter false). */
  enter(price = this.lastPrice, ts = this.lastTs): boolean {
    if (!this.pending || this.position) return false;
    const { signal, score } = this.pending;
    this.pending = null;
    this.open(signal, score, price, ts);
    return true;
  }

  private open(ev: SignalEvent, score: CompositeScore, price: number, ts: number): void {
    const lvl = this.watchLevel;
    const st = stopsFor(ev.side, price, this.bias, this.valueArea, this.opts);
    this.initiatives = 0;
    this.position = {
      id: `${this.instrument}:trade:${++this.n}`, instrument: this.instrument, side: ev.side, entry: price, sl: st.sl, tp: st.tp, initialSl: st.sl,
      openedAt: ts, signalId: ev.id, score: score.score, grade: score.grade, level: lvl ? { kind: lvl.kind, price: lvl.price, strength: lvl.strength } : null,
      stops: st.stops, reasoning: [...ev.reasoning, ...score.reasoning],
    };
    this.go('POSITION_OPEN', ts, [
      `${ev.side === 'buy' ? 'LONG' : 'SHORT'} at ${this.units.price(price)}: absorption ${ev.id} at ${lvl ? `${lvl.kind} ${this.units.price(lvl.price)}` : 'no level'}`,
      ...score.reasoning,
      `SL ${this.units.price(st.sl)} / TP ${this.units.price(st.tp)} (${st.stops === 'value-area' ? 'value-area stops with bias' : `±${this.opts.noBiasSlPct * 100} % / ±${this.opts.noBiasTpPct * 100} % without bias`})`,
    ]);
  }

  private close(ts: number, exit: number, reason: NonNullable<Position['exitReason']>, why: string[]): void {
    const p = this.position!;
    p.closedAt = ts;
    p.exit = exit;
    p.exitReason = reason;
    const risk = sideSign(p.side) * (p.entry - p.initialSl);
    p.r = risk > 0 ? r2((sideSign(p.side) * (exit - p.entry)) / risk) : 0;
    this.closed.push({ ...p });
    this.watchLevel = null;
    this.go('CLOSED', ts, [...why, `closed at ${this.units.price(exit)}: ${p.r} R`]);
  }

  /** Close manually (e.g. end of a backtest). */
  closeAt(ts: number, price: number): void {
    if (this.position) this.close(ts, price, 'manual', ['closed manually']);
  }
}

// ───────────────────────────── strategy status and scanner ─────────────────────────────

export type StatusLabel = 'NO_DATA' | 'NO_LEVELS' | 'WAITING_FOR_PRICE' | 'WATCHING' | 'AT_LEVEL_SCANNING' | 'ENTRY_READY' | 'IN_TRADE' | 'BREAK_EVEN' | 'TRAILING' | 'OFFLINE' | 'IDLE';

export const STATUS_PRIORITY: Record<StatusLabel, number> = {
  IN_TRADE: 100, TRAILING: 95, BREAK_EVEN: 90, ENTRY_READY: 85, AT_LEVEL_SCANNING: 70, WATCHING: 60, WAITING_FOR_PRICE: 40, NO_LEVELS: 20, NO_DATA: 10, OFFLINE: 5, IDLE: 0,
};

export const STEP_NAMES = ['framing', 'levels', 'price_at_level', 'absorption_scan', 'entry_decision', 'management'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface StrategyStatus {
  instrument: string;
  label: StatusLabel;
  state: TradeState;
  steps: { name: StepName; done: boolean; detail: string }[];
  completedSteps: number;
  /** scanner priority = base(label) + 3 × completed steps */
  priority: number;
  price: number;
  bias: Bias | null;
  position: Position | null;
  reasoning: string[];
}

export function strategyStatus(m: TradeStateMachine): StrategyStatus {
  const u = m.units;
  const hasData = m.lastPrice === m.lastPrice;
  const inTrade = m.position !== null && m.state !== 'CLOSED';
  const atLevel = m.state === 'WATCHING' || inTrade;
  const scanned = inTrade || (m.state === 'WATCHING' && m.lastDecision !== null);
  const decided = inTrade || m.pending !== null;
  const managed = m.state === 'BREAK_EVEN' || m.state === 'TRAILING';
  const steps: StrategyStatus['steps'] = [
    { name: 'framing', done: m.bias !== null && m.bias.shape !== 'none', detail: m.bias ? `${m.bias.direction} ${m.bias.confidence}${m.bias.warning ? ' WARNING' : ''}` : 'no prior session' },
    { name: 'levels', done: m.levels.length > 0, detail: `${m.levels.length} qualified levels` },
    { name: 'price_at_level', done: atLevel, detail: m.watchLevel ? `${m.watchLevel.kind} ${u.price(m.watchLevel.price)}` : hasData ? `price ${u.price(m.lastPrice)}` : 'no price' },
    { name: 'absorption_scan', done: scanned, detail: m.lastDecision ? `last absorption composite ${m.lastDecision.score.score}` : 'none' },
    { name: 'entry_decision', done: decided, detail: m.position ? `${m.position.side} @ ${u.price(m.position.entry)}` : m.pending ? 'entry ready' : 'no entry' },
    { name: 'management', done: managed, detail: m.position ? `SL ${u.price(m.position.sl)} TP ${u.price(m.position.tp)}` : '-' },
  ];
  let label: StatusLabel;
  if (m.offline) label = 'OFFLINE';
  else if (!hasData) label = 'NO_DATA';
  else if (m.state === 'POSITION_OPEN') label = 'IN_TRADE';
  else if (m.state === 'BREAK_EVEN') label = 'BREAK_EVEN';
  else if (m.state === 'TRAILING') label = 'TRAILING';
  else if (m.state === 'CLOSED') label = 'IDLE';
  else if (m.levels.length === 0) label = 'NO_LEVELS';
  else if (m.pending) label = 'ENTRY_READY';
  else if (m.state === 'WATCHING') label = scanned ? 'AT_LEVEL_SCANNING' : 'WATCHING';
  else label = 'WAITING_FOR_PRICE';
  const completed = steps.filter((s) => s.done).length;
  const reasoning = steps.map((s) => `${s.done ? '✔' : '·'} ${s.name}: ${s.detail}`);
  return { instrument: m.instrument, label, state: m.state, steps, completedSteps: completed, priority: STATUS_PRIORITY[label] + 3 * completed, price: m.lastPrice, bias: m.bias, position: m.position ? { ...m.position } : null, reasoning };
}

/** Scanner: statuses by priority (highest first), ties by instrument id. */
export function scan(statuses: StrategyStatus[]): StrategyStatus[] {
  return [...statuses].sort((a, b) => b.priority - a.priority || a.instrument.localeCompare(b.instrument));
}
