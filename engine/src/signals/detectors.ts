/**
 * Order-flow event detectors (docs/definitions/signals.md §2). Bar detectors consume closed
 * footprint bars; trade detectors consume classified trades (and optionally the order book).
 * All strengths are clamped to 0–100. Sizes are lots, prices ticks; the reasoning texts write them in
 * price and instrument units through the instrument's UnitText (units.ts). Core code: no Node imports.
 */
import type { Trade } from '../core/events.js';
import type { FootprintBar } from '../analytics/footprint.js';
import type { BarStats } from '../analytics/bar-stats.js';
import { imbalances, type ImbalanceOptions } from '../analytics/imbalance.js';
import type { OrderBook } from '../book/order-book.js';
import type { Iceberg } from '../book/iceberg.js';
import { clamp, r2, sideSign, type SignalEvent, type SignalKind, type SignalSide } from './types.js';
import { RAW_UNITS, type UnitText } from './units.js';

export interface ClosedBarLike { bar: FootprintBar; stats: BarStats }

/** Thresholds in lots (a Thresholds instance or fixed numbers). */
export interface ThresholdSource { absorptionMin(): number; initiativeMin(): number }

export function fixedThresholds(absorptionMin: number, initiativeMin: number): ThresholdSource {
  return { absorptionMin: () => absorptionMin, initiativeMin: () => initiativeMin };
}

class Ids {
  private n = 0;
  constructor(readonly instrument: string, readonly kind: SignalKind, readonly variant = '') {}
  next(): string { return `${this.instrument}:${this.kind}${this.variant ? '/' + this.variant : ''}:${++this.n}`; }
}

function barRange(b: FootprintBar): [number, number] { return [b.low, b.high]; }

// ───────────────────────────── absorption (a): delta / close mismatch ─────────────────────────────

export interface DeltaMismatchOptions {
  /** fire when |delta| >= minDeltaFactor × absorption min volume */
  minDeltaFactor: number;
  /** the bar's body must be at least this many ticks against the delta */
  minBodyTicks: number;
}

/**
 * Absorption, definition (a) "delta-mismatch": a bar whose delta opposes its direction. Positive delta on
 * a down bar (close < open) = passive sellers absorbed the buying → bearish ('sell'); negative delta on
 * an up bar → bullish. strength = |delta| / absorptionMin × 40.
 */
export class DeltaMismatchAbsorption {
  readonly opts: DeltaMismatchOptions;
  private readonly ids: Ids;
  constructor(instrument: string, private readonly th: ThresholdSource, opts: Partial<DeltaMismatchOptions> = {}, private readonly u: UnitText = RAW_UNITS) {
    this.opts = { minDeltaFactor: 0.5, minBodyTicks: 1, ...opts };
    this.ids = new Ids(instrument, 'absorption');
  }

  onBar({ bar }: ClosedBarLike): SignalEvent | null {
    const body = bar.close - bar.open;
    const min = this.th.absorptionMin();
    if (Math.abs(body) < this.opts.minBodyTicks || bar.delta === 0) return null;
    if (Math.sign(body) === Math.sign(bar.delta)) return null;
    const ad = Math.abs(bar.delta);
    if (ad < this.opts.minDeltaFactor * min) return null;
    const side: SignalSide = bar.delta > 0 ? 'sell' : 'buy';
    const strength = clamp((ad / min) * 40);
    const [lo, hi] = barRange(bar);
    return {
      id: this.ids.next(), kind: 'absorption', variant: 'delta-mismatch', instrument: this.ids.instrument, side,
      priceLow: lo, priceHigh: hi, strength: r2(strength), firstSeenAt: bar.start, confirmedAt: bar.end,
      evidence: { delta: bar.delta, open: bar.open, close: bar.close, bodyTicks: body, volume: bar.volume, minVolume: min },
      reasoning: [
        `${bar.delta > 0 ? 'positive' : 'negative'} delta ${this.u.size(bar.delta)} on a ${body < 0 ? 'down' : 'up'} bar (body ${this.u.distance(body)})`,
        `${side === 'sell' ? 'passive sellers absorbed aggressive buying' : 'passive buyers absorbed aggressive selling'}`,
        `strength = |delta| ${this.u.size(ad)} / min ${this.u.size(min)} × 40 = ${r2(strength)}`,
      ],
    };
  }
}

// ───────────────────────────── absorption (b): volume at a level ─────────────────────────────

export interface LevelAbsorptionOptions {
  /** rolling window, ms */
  windowMs: number;
  /** prices are grouped into levels of this many ticks */
  levelTicks: number;
  /** price may trade at most this many ticks beyond the level (in the aggressors' direction) over the window */
  maxDisplacementTicks: number;
  /** a new attempt starts when the previous same-side trade at the level is older than this */
  attemptGapMs: number;
  minAttempts: number;
}

interface Tr { ts: number; price: number; size: number; sign: number; level: number; attempt: boolean }
interface LevelAcc { buy: number; sell: number; buyAttempts: number; sellAttempts: number; lastBuy: number; lastSell: number; firstBuy: number; firstSell: number }

/**
 * Absorption, definition (b) "level": aggressive volume at one level within the rolling window >= the
 * absorption minimum, while price moved at most `maxDisplacementTicks` beyond the level, over at least
 * `minAttempts` separate attempts. Sell aggressors held at a level → passive buyers → 'buy'.
 * strength = vol / min × 30 + attempts × 15. Fires at the confirming trade; then not again for that
 * level and side for one window.
 */
export class LevelAbsorptionDetector {
  readonly opts: LevelAbsorptionOptions;
  private readonly ids: Ids;
  private q: Tr[] = [];
  private head = 0;
  private readonly levels = new Map<number, LevelAcc>();
  private readonly fired = new Map<number, number>();
  // monotonic deques of indices into q for window min / max price
  private minQ: number[] = [];
  private maxQ: number[] = [];

  constructor(instrument: string, private readonly th: ThresholdSource, opts: Partial<LevelAbsorptionOptions> = {}, private readonly u: UnitText = RAW_UNITS) {
    this.opts = { windowMs: 60_000, levelTicks: 1, maxDisplacementTicks: 4, attemptGapMs: 100, minAttempts: 2, ...opts };
    this.ids = new Ids(instrument, 'absorption', 'level');
  }

  private evict(now: number): void {
    const w = this.opts.windowMs;
    while (this.head < this.q.length && this.q[this.head].ts <= now - w) {
      const t = this.q[this.head];
      const a = this.levels.get(t.level)!;
      if (t.sign > 0) { a.buy -= t.size; if (t.attempt) a.buyAttempts--; }
      else if (t.sign < 0) { a.sell -= t.size; if (t.attempt) a.sellAttempts--; }
      if (a.buy <= 0 && a.sell <= 0) this.levels.delete(t.level);
      if (this.minQ[0] === this.head) this.minQ.shift();
      if (this.maxQ[0] === this.head) this.maxQ.shift();
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.q.length) {
      const h = this.head;
      this.q = this.q.slice(h);
      this.minQ = this.minQ.map((i) => i - h);
      this.maxQ = this.maxQ.map((i) => i - h);
      this.head = 0;
    }
  }

  /** first deque entry at or after `since` = the extreme over [since, now] */
  private extreme(dq: number[], since: number): number {
    for (let k = 0; k < dq.length; k++) if (this.q[dq[k]].ts >= since) return this.q[dq[k]].price;
    return this.q[dq[dq.length - 1]].price;
  }

  onTrade(t: Trade): SignalEvent | null {
    this.evict(t.ts);
    const sign = t.side === 'buy' ? 1 : t.side === 'sell' ? -1 : 0;
    const level = Math.floor(t.price / this.opts.levelTicks) * this.opts.levelTicks;
    let a = this.levels.get(level);
    if (!a) { a = { buy: 0, sell: 0, buyAttempts: 0, sellAttempts: 0, lastBuy: -Infinity, lastSell: -Infinity, firstBuy: t.ts, firstSell: t.ts }; this.levels.set(level, a); }
    let attempt = false;
    if (sign > 0) {
      attempt = t.ts - a.lastBuy > this.opts.attemptGapMs;
      if (a.buy <= 0) a.firstBuy = t.ts;
      a.buy += t.size; a.lastBuy = t.ts; if (attempt) a.buyAttempts++;
    } else if (sign < 0) {
      attempt = t.ts - a.lastSell > this.opts.attemptGapMs;
      if (a.sell <= 0) a.firstSell = t.ts;
      a.sell += t.size; a.lastSell = t.ts; if (attempt) a.sellAttempts++;
    }
    const idx = this.q.length;
    this.q.push({ ts: t.ts, price: t.price, size: t.size, sign, level, attempt });
    while (this.minQ.length && this.q[this.minQ[this.minQ.length - 1]].price >= t.price) this.minQ.pop();
    this.minQ.push(idx);
    while (this.maxQ.length && this.q[this.maxQ[this.maxQ.length - 1]].price <= t.price) this.maxQ.pop();
    this.maxQ.push(idx);
    if (sign === 0) return null;

    const min = this.th.absorptionMin();
    const vol = sign > 0 ? a.buy : a.sell;
    const attempts = sign > 0 ? a.buyAttempts : a.sellAttempts;
    if (vol < min || attempts < this.opts.minAttempts) return null;
    // price extremes since the level's current run of same-side volume began (within the window)
    const since = Math.max(sign > 0 ? a.firstBuy : a.firstSell, t.ts - this.opts.windowMs + 1);
    const lo = this.extreme(this.minQ, since), hi = this.extreme(this.maxQ, since);
    // displacement beyond the level in the aggressors' direction
    const displacement = sign < 0 ? level - lo : hi - (level + this.opts.levelTicks - 1);
    if (displacement > this.opts.maxDisplacementTicks) return null;
    const key = level * 2 + (sign > 0 ? 1 : 0);
    const last = this.fired.get(key);
    if (last !== undefined && t.ts - last < this.opts.windowMs) return null;
    this.fired.set(key, t.ts);
    const side: SignalSide = sign < 0 ? 'buy' : 'sell';
    const strength = clamp((vol / min) * 30 + attempts * 15);
    return {
      id: this.ids.next(), kind: 'absorption', variant: 'level', instrument: this.ids.instrument, side,
      priceLow: level, priceHigh: level + this.opts.levelTicks - 1, strength: r2(strength),
      firstSeenAt: sign > 0 ? a.firstBuy : a.firstSell, confirmedAt: t.ts,
      evidence: { level, aggressiveVolume: vol, minVolume: min, attempts, displacementTicks: Math.max(0, displacement), windowMs: this.opts.windowMs, windowLow: lo, windowHigh: hi },
      reasoning: [
        `${this.u.size(vol)} of aggressive ${sign < 0 ? 'selling' : 'buying'} at ${this.u.price(level)} in ${attempts} attempts within ${this.opts.windowMs / 1000}s`,
        `price moved only ${this.u.distance(Math.max(0, displacement))} beyond the level (max ${this.u.distance(this.opts.maxDisplacementTicks)})`,
        `passive ${side === 'buy' ? 'buyers' : 'sellers'} held the level; strength = ${this.u.size(vol)}/${this.u.size(min)} × 30 + ${attempts} × 15 = ${r2(strength)}`,
      ],
    };
  }
}

// ───────────────────────────── initiative ─────────────────────────────

export interface InitiativeOptions {
  /** bars averaged for the volume condition */
  avgBars: number;
  /** volume >= volumeFactor × average of the previous avgBars bars */
  volumeFactor: number;
  /** minimum prior bars before the volume condition can be evaluated */
  minHistory: number;
  minBodyTicks: number;
  imbalance: Partial<ImbalanceOptions>;
}

/**
 * Initiative: |delta| >= initiative min, volume >= 1.5 × the average of the previous bars, body >= 3
 * ticks, delta sign = bar direction. strength = min(|delta|/min, 3) × 20 + acc × 15 + min(body/minBody, 3) × 5
 * + min(imbalances, 3) × 10, acc = clamp(side-signed delta acceleration / min, 0, 1), imbalances =
 * one-sided imbalance rows in the bar's direction.
 */
export class InitiativeDetector {
  readonly opts: InitiativeOptions;
  private readonly ids: Ids;
  private readonly vols: number[] = [];
  constructor(instrument: string, private readonly th: ThresholdSource, opts: Partial<InitiativeOptions> = {}, private readonly u: UnitText = RAW_UNITS) {
    this.opts = { avgBars: 20, volumeFactor: 1.5, minHistory: 3, minBodyTicks: 3, imbalance: {}, ...opts };
    this.ids = new Ids(instrument, 'initiative');
  }

  onBar({ bar, stats }: ClosedBarLike): SignalEvent | null {
    const prev = this.vols.slice();
    this.vols.push(bar.volume);
    if (this.vols.length > this.opts.avgBars) this.vols.shift();
    if (prev.length < this.opts.minHistory) return null;
    const avg = prev.reduce((s, x) => s + x, 0) / prev.length;
    const min = this.th.initiativeMin();
    const body = bar.close - bar.open;
    if (Math.abs(bar.delta) < min || Math.abs(body) < this.opts.minBodyTicks || Math.sign(body) !== Math.sign(bar.delta)) return null;
    if (bar.volume < this.opts.volumeFactor * avg) return null;
    const side: SignalSide = body > 0 ? 'buy' : 'sell';
    const s = sideSign(side);
    const f = imbalances(bar.rows, this.opts.imbalance);
    const imb = side === 'buy' ? f.buyCount : f.sellCount;
    const accRaw = stats.dynamics.acceleration;
    const acc = accRaw === accRaw ? clamp((s * accRaw) / min, 0, 1) : 0;
    const dTerm = Math.min(Math.abs(bar.delta) / min, 3) * 20;
    const bTerm = Math.min(Math.abs(body) / this.opts.minBodyTicks, 3) * 5;
    const iTerm = Math.min(imb, 3) * 10;
    const strength = clamp(dTerm + acc * 15 + bTerm + iTerm);
    return {
      id: this.ids.next(), kind: 'initiative', variant: 'bar', instrument: this.ids.instrument, side,
      priceLow: bar.low, priceHigh: bar.high, strength: r2(strength), firstSeenAt: bar.start, confirmedAt: bar.end,
      evidence: { delta: bar.delta, minDelta: min, volume: bar.volume, avgVolume: r2(avg), bodyTicks: body, acceleration: accRaw === accRaw ? accRaw : 0, imbalances: imb },
      reasoning: [
        `${side === 'buy' ? 'aggressive buyers' : 'aggressive sellers'} took control: delta ${this.u.size(bar.delta)} (min ${this.u.size(min)}), body ${this.u.distance(body)}`,
        `volume ${this.u.size(bar.volume)} = ${r2(bar.volume / avg)} × the ${prev.length}-bar average`,
        `${imb} one-sided imbalance rows; strength ${r2(dTerm)} + ${r2(acc * 15)} + ${r2(bTerm)} + ${iTerm} = ${r2(strength)}`,
      ],
    };
  }
}

// ───────────────────────────── exhaustion ─────────────────────────────

export interface ExhaustionOptions {
  /** bars in the trend window, including the current one */
  trendBars: number;
  /** current volume <= (1 − minVolumeDecline) × the largest earlier volume in the window */
  minVolumeDecline: number;
  /** rows at the extreme checked for a contrarian imbalance */
  extremeRows: number;
  imbalance: Partial<ImbalanceOptions>;
  cooldownBars: number;
}

/**
 * Exhaustion at the end of a trend: the last `trendBars` bars have strictly rising highs and a higher
 * close (uptrend; mirrored for down), the current bar's volume fell > 30 % below the window's largest
 * earlier volume, and its delta weakened (in the trend direction, below the previous bar's and the
 * window's best). Optional bonus: a contrarian imbalance in the top (bottom) `extremeRows` rows.
 * Side = against the trend. strength = 25 + decline × 50 + weakening × 15 + contrarian × 15.
 */
export class ExhaustionDetector {
  readonly opts: ExhaustionOptions;
  private readonly ids: Ids;
  private readonly hist: FootprintBar[] = [];
  private cool = 0;
  constructor(instrument: string, opts: Partial<ExhaustionOptions> = {}, private readonly u: UnitText = RAW_UNITS) {
    this.opts = { trendBars: 3, minVolumeDecline: 0.3, extremeRows: 2, imbalance: {}, cooldownBars: 2, ...opts };
    this.ids = new Ids(instrument, 'exhaustion');
  }

  onBar({ bar }: ClosedBarLike): SignalEvent | null {
    const h = this.hist;
    h.push(bar);
    if (h.length > this.opts.trendBars) h.shift();
    if (this.cool > 0) { this.cool--; return null; }
    const n = this.opts.trendBars;
    if (h.length < n || h.some((b) => b.sessionKey !== bar.sessionKey)) return null;
    let up = true, down = true;
    for (let i = 1; i < n; i++) {
      if (!(h[i].high > h[i - 1].high)) up = false;
      if (!(h[i].low < h[i - 1].low)) down = false;
    }
    if (up && !(bar.close > h[0].close)) up = false;
    if (down && !(bar.close < h[0].close)) down = false;
    if (!up && !down) return null;
    const s = up ? 1 : -1;
    const earlier = h.slice(0, n - 1);
    const maxVol = Math.max(...earlier.map((b) => b.volume));
    const decline = maxVol > 0 ? 1 - bar.volume / maxVol : 0;
    if (decline <= this.opts.minVolumeDecline) return null;
    const prevD = s * h[n - 2].delta;
    const bestD = Math.max(...earlier.map((b) => s * b.delta));
    const curD = s * bar.delta;
    if (!(curD < prevD && curD < bestD)) return null;
    const weakening = bestD > 0 ? clamp((bestD - curD) / bestD, 0, 1) : 0;
    const f = imbalances(bar.rows, this.opts.imbalance);
    const k = Math.min(this.opts.extremeRows, f.buy.length);
    let contrarian = false;
    for (let i = 0; i < k; i++) {
      if (up && f.sell[f.sell.length - 1 - i]) contrarian = true;
      if (down && f.buy[i]) contrarian = true;
    }
    const strength = clamp(25 + Math.min(decline, 1) * 50 + weakening * 15 + (contrarian ? 15 : 0));
    this.cool = this.opts.cooldownBars;
    const side: SignalSide = up ? 'sell' : 'buy';
    return {
      id: this.ids.next(), kind: 'exhaustion', variant: 'trend', instrument: this.ids.instrument, side,
      priceLow: up ? bar.high - bar.rowTicks : bar.low, priceHigh: up ? bar.high : bar.low + bar.rowTicks,
      strength: r2(strength), firstSeenAt: h[0].start, confirmedAt: bar.end,
      evidence: { trend: up ? 'up' : 'down', volume: bar.volume, maxEarlierVolume: maxVol, volumeDecline: r2(decline), delta: bar.delta, previousDelta: h[n - 2].delta, weakening: r2(weakening), contrarianImbalance: contrarian },
      reasoning: [
        `${up ? 'up' : 'down'}trend over ${n} bars (${up ? 'higher highs' : 'lower lows'})`,
        `volume fell ${r2(decline * 100)} % below the window's largest bar; delta weakened ${this.u.size(h[n - 2].delta)} → ${this.u.size(bar.delta)}`,
        contrarian ? `contrarian ${up ? 'sell' : 'buy'} imbalance at the ${up ? 'high' : 'low'}` : 'no contrarian imbalance at the extreme',
      ],
    };
  }
}

// ───────────────────────────── divergence ─────────────────────────────

export interface DivergenceOptions {
  lookbackBars: number;
  /** fire when the new CVD peak (from the window's CVD trough) is < maxRatio × the prior one */
  maxRatio: number;
  cooldownBars: number;
}

/**
 * CVD divergence: the bar makes a new high over the previous `lookbackBars` bars of the same session,
 * and its CVD peak measured from the window's CVD trough, (cvdHigh − base), is < 80 % of the prior
 * high bar's (cvdHigh − base) → 'sell' (mirrored for lows with base = the window's CVD high).
 * strength = 30 + (1 − ratio) × 40 + 10 when the bar is also a new session extreme.
 */
export class DivergenceDetector {
  readonly opts: DivergenceOptions;
  private readonly ids: Ids;
  private readonly hist: FootprintBar[] = [];
  private sessHigh = -Infinity;
  private sessLow = Infinity;
  private sess = '';
  private cool = 0;
  constructor(instrument: string, opts: Partial<DivergenceOptions> = {}, private readonly u: UnitText = RAW_UNITS) {
    this.opts = { lookbackBars: 10, maxRatio: 0.8, cooldownBars: 2, ...opts };
    this.ids = new Ids(instrument, 'divergence');
  }

  onBar({ bar }: ClosedBarLike): SignalEvent | null {
    if (bar.sessionKey !== this.sess) { this.sess = bar.sessionKey; this.hist.length = 0; this.sessHigh = -Infinity; this.sessLow = Infinity; }
    const prior = this.hist.slice();
    const newSessHigh = prior.length > 0 && bar.high > this.sessHigh;
    const newSessLow = prior.length > 0 && bar.low < this.sessLow;
    this.hist.push(bar);
    if (this.hist.length > this.opts.lookbackBars + 1) this.hist.shift();
    this.sessHigh = Math.max(this.sessHigh, bar.high);
    this.sessLow = Math.min(this.sessLow, bar.low);
    if (this.cool > 0) { this.cool--; return null; }
    if (prior.length < 2) return null;
    let hiBar = prior[0], loBar = prior[0];
    for (const b of prior) { if (b.high > hiBar.high) hiBar = b; if (b.low < loBar.low) loBar = b; }
    const all = [...prior, bar];
    for (const up of [true, false]) {
      if (up && !(bar.high > hiBar.high)) continue;
      if (!up && !(bar.low < loBar.low)) continue;
      const base = up ? Math.min(...all.map((b) => b.cvdLow)) : Math.max(...all.map((b) => b.cvdHigh));
      const p1 = up ? hiBar.cvdHigh - base : base - loBar.cvdLow;
      const p2 = up ? bar.cvdHigh - base : base - bar.cvdLow;
      if (!(p1 > 0)) continue;
      const ratio = p2 / p1;
      if (!(ratio < this.opts.maxRatio)) continue;
      const newExtreme = up ? newSessHigh : newSessLow;
      const strength = clamp(30 + (1 - clamp(ratio, 0, 1)) * 40 + (newExtreme ? 10 : 0));
      this.cool = this.opts.cooldownBars;
      const side: SignalSide = up ? 'sell' : 'buy';
      const ref = up ? hiBar : loBar;
      return {
        id: this.ids.next(), kind: 'divergence', variant: 'cvd', instrument: this.ids.instrument, side,
        priceLow: up ? ref.high : bar.low, priceHigh: up ? bar.high : ref.low, strength: r2(strength),
        firstSeenAt: ref.start, confirmedAt: bar.end,
        evidence: { direction: up ? 'high' : 'low', priorExtreme: up ? ref.high : ref.low, newExtreme: up ? bar.high : bar.low, priorCvdPeak: p1, cvdPeak: p2, cvdBase: base, ratio: r2(ratio), newSessionExtreme: newExtreme },
        reasoning: [
          `new ${up ? 'high' : 'low'} ${this.u.price(up ? bar.high : bar.low)} beyond ${this.u.price(up ? ref.high : ref.low)} (${this.opts.lookbackBars}-bar lookback)`,
          `CVD ${up ? 'peak' : 'trough'} only ${r2(ratio * 100)} % of the prior one (${this.u.size(p2)} vs ${this.u.size(p1)} from ${this.u.size(base)})`,
          `strength = 30 + (1 − ${r2(ratio)}) × 40${newExtreme ? ' + 10 (new session extreme)' : ''} = ${r2(strength)}`,
        ],
      };
    }
    return null;
  }
}

// ───────────────────────────── sweep ─────────────────────────────

export interface SweepOptions {
  /** consecutive same-side trades at most this far apart form one burst */
  burstGapMs: number;
  /** prices are grouped into levels of this many ticks */
  levelTicks: number;
  minLevels: number;
  /** low volume per level: (burst volume / levels) <= maxVolPerLevelFactor × absorption min */
  maxVolPerLevelFactor: number;
  /** a swept level is thin when its displayed size before the sweep <= thinFactor × the side's median (top `medianLevels`, read when the burst starts) */
  thinFactor: number;
  medianLevels: number;
  /** with a book, at least this fraction of swept levels must be thin (or thinned) */
  minThinFraction: number;
  /** the burst's total volume must be >= minVolumeFactor × absorption min (0 = off) */
  minVolumeFactor: number;
  /** a level also counts as thin when >= minPullFraction of its size was pulled (reduced without trades) within this many ms before it was hit (needs onLevel) */
  thinnedWithinMs: number;
  minPullFraction: number;
  /** with a book, the burst's volume must be >= minMedianMultiple × the side's median level size (it took out real liquidity, not crumbs) */
  minMedianMultiple: number;
  /** after a sweep, further same-side bursts within this many ms of its last trade are merged into it (not emitted) */
  cooldownMs: number;
}

interface Burst { sign: number; first: Trade; firstTs: number; lastTs: number; firstPrice: number; lastPrice: number; volume: number; levels: number; lastLevel: number; median: number; shown: number;
  /** per level hit, in order: 0 = not thin, 1 = small, 2 = pulled, 3 = both; empty without a book */
  flags: number[];
  /** a book was attached but not in sync at some level of the burst */
  unsynced?: boolean }
interface Pull { ts: number; ref: number; pulled: number; traded: number }

/**
 * Sweep: a burst of same-side aggressive trades (each within burstGapMs of the previous, prices
 * monotonic in the aggressors' direction) through >= minLevels distinct levels with low volume per
 * level. With a book attached, the swept levels must have been thin just before the sweep: a level is
 * thin when the size it displayed when first hit was <= thinFactor × the side's median level size (read
 * at the burst's first trade, before the sweep's own update), or when >= minPullFraction of its size
 * was pulled (reduced without trades) within thinnedWithinMs before the hit; >= minThinFraction of the
 * swept levels must be thin. Evaluated when the burst ends (next trade that breaks it, or flush). Same-side
 * bursts within cooldownMs of an emitted sweep are merged into it (not emitted again). A burst during which
 * the attached book was not in sync (before its snapshot, after a break) is not evaluated (counted in
 * `unsyncedSkipped`): without the thin-level check it would over-report.
 * strength = min(levels, 5) × 12 + efficiency × 20 + min(displacement ticks / levelTicks, 10) + confirmation × 10,
 * efficiency = clamp(1 − volPerLevel / maxVolPerLevel), confirmation = thin fraction (0 without a book).
 */
export class SweepDetector {
  readonly opts: SweepOptions;
  private readonly ids: Ids;
  private b: Burst | null = null;
  private readonly lastSweep = { buy: -Infinity, sell: -Infinity };
  book: OrderBook | null = null;
  /** bursts not evaluated because the attached book was not in sync */
  unsyncedSkipped = 0;
  constructor(instrument: string, private readonly th: ThresholdSource, opts: Partial<SweepOptions> = {}, private readonly u: UnitText = RAW_UNITS) {
    this.opts = { burstGapMs: 50, levelTicks: 1, minLevels: 4, maxVolPerLevelFactor: 0.5, thinFactor: 0.25, medianLevels: 20, minThinFraction: 0.8, thinnedWithinMs: 500, minPullFraction: 0.3, minVolumeFactor: 0, minMedianMultiple: 3, cooldownMs: 2_000, ...opts };
    this.ids = new Ids(instrument, 'sweep');
  }

  private median(side: 'bid' | 'ask'): number {
    const bk = this.book;
    if (!bk) return NaN;
    const n = Math.min(this.opts.medianLevels, bk.levelCount(side));
    if (!n) return NaN;
    const a: number[] = [];
    for (let i = 0; i < n; i++) a.push(bk.sizeAtIndex(side, i));
    a.sort((x, y) => x - y);
    return n % 2 ? a[(n - 1) >> 1] : (a[n / 2 - 1] + a[n / 2]) / 2;
  }

  private readonly pulls = new Map<number, Pull>();

  /** Book level hook (BookSync onLevel): records pulls (reductions not explained by trades at the level). */
  onLevel(side: 'bid' | 'ask', price: number, size: number, prevSize: number, ts: number): void {
    const k = side === 'bid' ? price * 2 : price * 2 + 1;
    let p = this.pulls.get(k);
    const traded = p ? p.traded : 0;
    if (p) p.traded = 0;
    const pulled = prevSize - traded - size;
    if (pulled > 0) {
      if (!p) { p = { ts, ref: prevSize, pulled: 0, traded: 0 }; this.pulls.set(k, p); }
      if (ts - p.ts > this.opts.thinnedWithinMs || p.pulled === 0) { p.ref = prevSize; p.pulled = 0; }
      p.pulled += pulled;
      p.ts = ts;
    }
    if (this.pulls.size > 4096) for (const [kk, q] of this.pulls) if (ts - q.ts > this.opts.thinnedWithinMs) this.pulls.delete(kk);
  }

  private touch(bst: Burst, price: number, ts: number): void {
    if (this.book && !this.book.synced) bst.unsynced = true;
    if (!this.book || !this.book.synced || !(bst.median > 0)) return;
    const side = bst.sign > 0 ? 'ask' : 'bid';
    const size = this.book.sizeAt(side, price);
    bst.shown += size;
    const p = this.pulls.get(side === 'bid' ? price * 2 : price * 2 + 1);
    const small = size <= this.opts.thinFactor * bst.median;
    const pulled = p !== undefined && ts - p.ts <= this.opts.thinnedWithinMs && ts >= p.ts && p.ref > 0 && p.pulled >= this.opts.minPullFraction * p.ref;
    bst.flags.push((small ? 1 : 0) | (pulled ? 2 : 0));
  }

  private traded(sign: number, price: number, size: number): void {
    const k = sign > 0 ? price * 2 + 1 : price * 2;
    const p = this.pulls.get(k);
    if (p) p.traded += size;
    else this.pulls.set(k, { ts: -Infinity, ref: 0, pulled: 0, traded: size });
  }

  /** Feed a trade; returns a sweep that the trade completed (ended), if any. */
  onTrade(t: Trade): SignalEvent | null {
    const sign = t.side === 'buy' ? 1 : t.side === 'sell' ? -1 : 0;
    if (sign !== 0) this.traded(sign, t.price, t.size);
    const lt = this.opts.levelTicks;
    const level = Math.floor(t.price / lt);
    const cur = this.b;
    if (cur && sign === cur.sign && t.ts - cur.lastTs <= this.opts.burstGapMs && sign * (t.price - cur.lastPrice) >= 0) {
      cur.lastTs = t.ts; cur.lastPrice = t.price; cur.volume += t.size;
      if (level !== cur.lastLevel) { cur.levels++; cur.lastLevel = level; this.touch(cur, t.price, t.ts); }
      return null;
    }
    const out = this.flush(t.ts);
    if (sign !== 0) {
      const nb: Burst = { sign, first: { ...t }, firstTs: t.ts, lastTs: t.ts, firstPrice: t.price, lastPrice: t.price, volume: t.size, levels: 1, lastLevel: level, flags: [], median: this.median(sign > 0 ? 'ask' : 'bid'), shown: 0 };
      this.touch(nb, t.price, t.ts);
      this.b = nb;
    }
    return out;
  }

  /** Clock tick without a trade: ends the burst once `ts` is past its gap. */
  advance(ts: number): SignalEvent | null {
    return this.b && ts - this.b.lastTs > this.opts.burstGapMs ? this.flush(ts) : null;
  }

  /** End the current burst (at time `ts`, >= its last trade) and evaluate it. */
  flush(ts: number): SignalEvent | null {
    const b = this.b;
    if (!b) return null;
    this.b = null;
    if (b.levels < this.opts.minLevels) return null;
    // a book is attached but was not in sync during the burst: the thin-level check cannot be made, and a
    // sweep without it is what an unsynced continuation file over-reports; wait for the synced book
    if (b.unsynced) { this.unsyncedSkipped++; return null; }
    const maxVpl = this.opts.maxVolPerLevelFactor * this.th.absorptionMin();
    const vpl = b.volume / b.levels;
    if (vpl > maxVpl || b.volume < this.opts.minVolumeFactor * this.th.absorptionMin()) return null;
    // thin-book confirmation over the levels the sweep consumed (all but the last one hit, where it stopped)
    const consumed = b.flags.length > 1 ? b.flags.slice(0, -1) : b.flags;
    const hasBook = consumed.length > 0;
    let thin = 0, small = 0, pulled = 0;
    for (const f of consumed) { if (f) thin++; if (f & 1) small++; if (f & 2) pulled++; }
    const conf = hasBook ? thin / consumed.length : 0;
    if (hasBook && conf < this.opts.minThinFraction) return null;
    if (hasBook && b.median > 0 && b.volume < this.opts.minMedianMultiple * b.median) return null;
    const side: SignalSide = b.sign > 0 ? 'buy' : 'sell';
    const merged = b.firstTs - this.lastSweep[side] <= this.opts.cooldownMs;
    this.lastSweep[side] = b.lastTs;
    if (merged) return null;
    const eff = clamp(1 - vpl / maxVpl, 0, 1);
    const disp = Math.abs(b.lastPrice - b.firstPrice);
    const dTerm = Math.min(disp / this.opts.levelTicks, 10);
    const strength = clamp(Math.min(b.levels, 5) * 12 + eff * 20 + dTerm + conf * 10);
    const confirmedAt = Math.min(ts, b.lastTs + this.opts.burstGapMs);
    return {
      id: this.ids.next(), kind: 'sweep', variant: 'burst', instrument: this.ids.instrument, side,
      priceLow: Math.min(b.firstPrice, b.lastPrice), priceHigh: Math.max(b.firstPrice, b.lastPrice), strength: r2(strength),
      firstSeenAt: b.firstTs, confirmedAt: Math.max(confirmedAt, b.lastTs),
      evidence: { levels: b.levels, volume: b.volume, volumePerLevel: r2(vpl), maxVolumePerLevel: r2(maxVpl), displacementTicks: disp, durationMs: b.lastTs - b.firstTs, thinLevels: thin, smallLevels: small, pulledLevels: pulled, consumedLevels: consumed.length, shownBefore: b.shown, bookMedian: b.median === b.median ? b.median : -1, confirmation: r2(conf) },
      reasoning: [
        `aggressive ${side === 'buy' ? 'buying' : 'selling'} swept ${b.levels} levels (${this.u.price(b.firstPrice)} → ${this.u.price(b.lastPrice)}) in ${b.lastTs - b.firstTs} ms`,
        `${this.u.size(vpl)} per level (max ${this.u.size(maxVpl)})`,
        hasBook ? `${thin}/${consumed.length} consumed levels were thin just before (${small} small vs median ${b.median === b.median ? this.u.size(b.median) : '–'}, ${pulled} pulled within ${this.opts.thinnedWithinMs} ms)` : 'no book: thin-book confirmation unavailable',
      ],
    };
  }
}

// ───────────────────────────── iceberg (from the book issue) ─────────────────────────────

/**
 * Wrap a confirmed book iceberg (IcebergDetector / MboIcebergDetector) as a signal: a bid iceberg =
 * passive buyer → 'buy'. strength = confidence × 100; optional institutional ratio as evidence.
 */
export function icebergSignal(instrument: string, ice: Iceberg, seq: number, institutionalRatio?: number, u: UnitText = RAW_UNITS): SignalEvent {
  const side: SignalSide = ice.side === 'bid' ? 'buy' : 'sell';
  const strength = clamp(ice.confidence * 100);
  const ev: SignalEvent = {
    id: `${instrument}:iceberg:${seq}`, kind: 'iceberg', variant: ice.exact ? 'mbo' : 'l2', instrument, side,
    priceLow: ice.price, priceHigh: ice.price, strength: r2(strength), firstSeenAt: ice.firstSeenAt, confirmedAt: ice.confirmedAt,
    evidence: { executed: ice.executed, displayedMax: ice.displayedMax, refills: ice.refills, confidence: r2(ice.confidence), exact: ice.exact },
    reasoning: [
      `${ice.side} iceberg at ${u.price(ice.price)}: ${u.size(ice.executed)} executed vs ${u.size(ice.displayedMax)} displayed, ${ice.refills} refills`,
      `hidden ${side === 'buy' ? 'buyer' : 'seller'}; strength = confidence ${r2(ice.confidence)} × 100`,
    ],
  };
  if (institutionalRatio !== undefined && institutionalRatio === institutionalRatio) ev.evidence.institutionalRatio = r2(institutionalRatio);
  return ev;
}
