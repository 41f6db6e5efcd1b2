/**
 * Scripted market events. Each script is a generator driven by the simulator: it acts on the book
 * through ScriptApi (marketable orders, passive adds, cancels, a refilling level reserve) and
 * yields the delay in ms until its next step. Background flow keeps running (scaled by bgScale).
 * Label semantics per kind are documented in docs/simulator.md.
 */
import { ASK, BID, type BookSide } from './book.js';
import type { Rng } from './prng.js';
import type { FlowParams, GroundTruthLabel, LabelSide, ScriptKind } from './types.js';

export interface ReserveStats {
  /** lots executed at the reserved level while the reserve was active */
  executed: number;
  /** number of refills of the displayed size after executions */
  refills: number;
  /** largest displayed size seen at the level while reserved */
  maxDisplayed: number;
}

/** What a script can do. Prices are grid levels (ticks = grid × levelTicks). */
export interface ScriptApi {
  readonly now: number;
  readonly rng: Rng;
  readonly levelTicks: number;
  readonly flow: FlowParams;
  readonly label: GroundTruthLabel;
  /** multiplier on the background marketable-order intensity (reset to 1 when the script ends) */
  bgScale: number;
  /** cumulative delta (buy − sell lots) of all trades since the simulation start */
  readonly cvd: number;
  /** high / low trade price and CVD high / low since the last resetPhase() (NaN before a trade) */
  readonly phaseHigh: number;
  readonly phaseLow: number;
  readonly phaseCvdHigh: number;
  readonly phaseCvdLow: number;
  resetPhase(): void;
  bestBid(): number;
  bestAsk(): number;
  size(side: BookSide, g: number): number;
  /** size on `side` at prices better than g (bids above / asks below) */
  sizeBetterThan(side: BookSide, g: number): number;
  levels(side: BookSide, max: number): Array<[number, number]>;
  /** marketable order that walks the book; returns the executed lots */
  market(side: LabelSide, qty: number): number;
  /** passive liquidity (ignored if it would cross) */
  add(side: BookSide, g: number, qty: number): void;
  cancel(side: BookSide, g: number, qty: number): void;
  /** make level g on `side` refill its displayed size from a hidden quantity after executions */
  setReserve(side: BookSide, g: number, display: number, hidden: number, jitter: number): void;
  clearReserve(): ReserveStats;
  reserveStats(): ReserveStats;
  /** max / min trade price over [now − lookbackMs, now] (NaN when no trade) */
  recentHigh(lookbackMs: number): number;
  recentLow(lookbackMs: number): number;
  /** expected background traded volume in a bar of barMs at bgScale 1 */
  bgBarVolume(barMs: number): number;
}

export type ScriptGen = Generator<number, void, void>;

export const DEFAULT_SCRIPT_PARAMS: Record<ScriptKind, Record<string, number>> = {
  absorption: { durationMs: 20_000, intervalMs: 250, displayMult: 4, maxLevels: 1, bounceLevels: 6, bounceMs: 8_000, bgScale: 0.5 },
  sweep: { levels: 5, thinMs: 300, thinFrac: 0.6, bgScale: 0.5 },
  iceberg: { durationMs: 45_000, intervalMs: 1_100, displayMult: 0.5, hiddenMult: 400, jitter: 0.2, bgScale: 0.6 },
  exhaustion: { bars: 4, barMs: 60_000, decline: 0.5, legLevels: 16, reversalLevels: 8, volumeMult: 20, bgScale: 0.2 },
  divergence: { barMs: 60_000, push1Levels: 8, pullbackLevels: 5, extraLevels: 2, reversalLevels: 10, volumeMult: 12, bgScale: 0.2 },
  stop_run: { lookbackMs: 120_000, runLevels: 3, burstOrders: 10, burstMs: 600, reversalLevels: 4, pushStepMs: 300, bgScale: 0.3 },
};

/** Bar alignment (ms) a kind's start is rounded up to, or 0. */
export function scriptAlignment(kind: ScriptKind, p: Record<string, number>): number {
  return kind === 'exhaustion' || kind === 'divergence' ? p.barMs : 0;
}

/** Planned length of a scripted event (used for scheduling and the planned label bracket). */
export function nominalDuration(kind: ScriptKind, p: Record<string, number>): number {
  switch (kind) {
    case 'absorption': return p.durationMs + p.bounceMs;
    case 'sweep': return p.thinMs + 200;
    case 'iceberg': return p.durationMs;
    case 'exhaustion': return (p.bars + 1) * p.barMs;
    case 'divergence': return 4 * p.barMs;
    case 'stop_run': return 30_000;
  }
}

const opposite = (s: LabelSide): LabelSide => (s === 'buy' ? 'sell' : 'buy');
/** the book side an aggressor of side s trades against */
const hitSide = (s: LabelSide): BookSide => (s === 'buy' ? ASK : BID);
const touch = (api: ScriptApi, side: BookSide): number => (side === BID ? api.bestBid() : api.bestAsk());

/** Wait until absolute simulated time t. */
function* waitUntil(api: ScriptApi, t: number): ScriptGen {
  if (t > api.now) yield t - api.now;
}

/** Make sure the top of `side` holds more than `qty` so an order of qty does not clear it. */
function topUp(api: ScriptApi, side: BookSide, qty: number): void {
  const g = touch(api, side);
  if (g !== g) return;
  const q = api.size(side, g);
  if (q <= qty) api.add(side, g, qty - q + 1 + api.rng.int(Math.max(1, api.flow.limitSizeMedian)));
}

interface DriveOpts {
  /** aggressive volume of the opposite side, interleaved without moving price back */
  counterVolume?: number;
  /** target step spacing, ms (default 200) */
  stepMs?: number;
  /** a level bigger than pullFactor × per-step volume is thinned (pulled) before it is cleared (default 2) */
  pullFactor?: number;
}

/**
 * Move price `levels` levels in the direction of aggressor `side` over durationMs with about
 * `volume` lots of aggression: move steps clear the touch, churn steps trade against a touch that
 * passive liquidity keeps topped up. Returns when the last step has been taken.
 */
export function* drive(api: ScriptApi, side: LabelSide, levels: number, volume: number, durationMs: number, o: DriveOpts = {}): ScriptGen {
  const n = Math.max(levels + 1, Math.min(300, Math.round(durationMs / (o.stepMs ?? 200))));
  const slot = durationMs / n;
  const t0 = api.now;
  const opp = hitSide(side);
  const own = opp === ASK ? BID : ASK;
  const counter = opposite(side);
  const cVol = o.counterVolume ?? 0;
  let used = 0;
  let cUsed = 0;
  for (let k = 0; k < n; k++) {
    yield* waitUntil(api, t0 + (k + 0.2 + 0.6 * api.rng.float()) * slot);
    const per = Math.max(0, (volume - used) / (n - k));
    const move = Math.floor(((k + 1) * levels) / n) > Math.floor((k * levels) / n);
    const top = touch(api, opp);
    if (top === top) {
      if (move) {
        let q = api.size(opp, top);
        const cap = Math.max(1, Math.round(per * (o.pullFactor ?? 2)));
        if (q > cap) {
          api.cancel(opp, top, q - cap);
          q = cap;
        }
        used += api.market(side, q);
      } else {
        const amt = Math.round(per);
        if (amt >= 1) {
          topUp(api, opp, amt);
          used += api.market(side, amt);
        }
      }
    }
    if (cVol > 0) {
      const c = Math.round((cVol - cUsed) / (n - k));
      if (c >= 1 && touch(api, own) === touch(api, own)) {
        topUp(api, own, c);
        cUsed += api.market(counter, c);
      }
    }
  }
}

/** Clear touch levels on the hit side until a trade prints beyond `target` (above for buys). */
function* pushBeyond(api: ScriptApi, side: LabelSide, target: number, stepMs: number, maxSteps = 400): ScriptGen {
  const opp = hitSide(side);
  const since = Math.floor(api.now);
  for (let i = 0; i < maxSteps; i++) {
    const lb = Math.floor(api.now) - since;
    const beyond = side === 'buy' ? api.recentHigh(lb) > target : api.recentLow(lb) < target;
    if (beyond) return;
    const top = touch(api, opp);
    if (top === top) {
      const past = side === 'buy' ? top > target : top < target;
      const q = api.size(opp, top);
      api.market(side, past ? Math.max(1, Math.min(q, Math.round(api.flow.marketSizeMedian))) : q);
    }
    yield stepMs * (0.7 + 0.6 * api.rng.float());
  }
}

const ticks = (api: ScriptApi, g: number): number => g * api.levelTicks;

/** absorption: aggression into a defended passive level (refilled), no progress, then a bounce. */
export function* absorption(api: ScriptApi, side: LabelSide, p: Record<string, number>): ScriptGen {
  const passive: BookSide = side === 'buy' ? BID : ASK;
  const aggressor = opposite(side);
  const L = touch(api, passive);
  if (L !== L) return;
  const display = Math.max(2, Math.round(p.displayMult * api.flow.limitSizeMedian));
  const cur = api.size(passive, L);
  if (cur < display) api.add(passive, L, display - cur);
  api.setReserve(passive, L, display, 1e12, 0.1);
  api.bgScale = p.bgScale;
  const t0 = api.now;
  let aggressive = 0;
  while (api.now < t0 + p.durationMs - p.intervalMs) {
    const ahead = api.sizeBetterThan(passive, L);
    const q = ahead + Math.max(1, Math.round(display * (0.4 + 0.8 * api.rng.float())));
    aggressive += api.market(aggressor, q);
    yield p.intervalMs * (0.5 + api.rng.float());
  }
  yield* waitUntil(api, t0 + p.durationMs);
  const rs = api.clearReserve();
  const lb = api.label;
  lb.params.level = ticks(api, L);
  lb.params.display = display;
  lb.params.maxTicks = p.maxLevels * api.levelTicks;
  lb.params.absorbedVolume = rs.executed;
  lb.params.aggressorVolume = aggressive;
  lb.params.refills = rs.refills;
  lb.params.absorbEndTs = Math.floor(api.now);
  lb.params.bounceTicks = p.bounceLevels * api.levelTicks;
  yield* drive(api, side, p.bounceLevels, display * 3, p.bounceMs);
  // make sure the bounce actually reaches its distance from the defended level
  yield* pushBeyond(api, side, side === 'buy' ? L + p.bounceLevels - 1 : L - p.bounceLevels + 1, 200);
}

/** sweep: top levels are thinned, then one marketable order clears >= levels levels. */
export function* sweep(api: ScriptApi, side: LabelSide, p: Record<string, number>): ScriptGen {
  const opp = hitSide(side);
  api.bgScale = p.bgScale;
  const levels = Math.max(3, Math.round(p.levels));
  const top = api.levels(opp, levels);
  for (const [g, q] of top) {
    const cut = Math.floor(q * p.thinFrac);
    if (cut > 0 && q - cut >= 1) api.cancel(opp, g, cut);
    yield (p.thinMs / levels) * (0.5 + api.rng.float());
  }
  yield* waitUntil(api, api.label.startTs + p.thinMs);
  const now = api.levels(opp, levels + 1);
  let qty = 0;
  for (let i = 0; i < Math.min(levels, now.length); i++) qty += now[i][1];
  if (now.length > levels) qty += Math.max(1, Math.floor(now[levels][1] * 0.3));
  const from = now.length ? now[0][0] : NaN;
  api.resetPhase();
  const done = api.market(side, qty);
  const lb = api.label;
  lb.params.levels = Math.min(levels, now.length);
  lb.params.qty = done;
  lb.params.fromPrice = ticks(api, from);
  lb.params.toPrice = ticks(api, side === 'buy' ? api.phaseHigh : api.phaseLow);
  lb.params.sweepTs = Math.floor(api.now);
  yield 1;
}

/** iceberg: small displayed size refilled again and again while aggression trades through it. */
export function* iceberg(api: ScriptApi, side: LabelSide, p: Record<string, number>): ScriptGen {
  const passive: BookSide = side === 'buy' ? BID : ASK;
  const aggressor = opposite(side);
  const P = touch(api, passive);
  if (P !== P) return;
  const display = Math.max(1, Math.round(p.displayMult * api.flow.limitSizeMedian));
  const cur = api.size(passive, P);
  if (cur > display) api.cancel(passive, P, cur - display);
  else if (cur < display) api.add(passive, P, display - cur);
  api.setReserve(passive, P, display, display * p.hiddenMult, p.jitter);
  api.bgScale = p.bgScale;
  const t0 = api.now;
  while (api.now < t0 + p.durationMs - p.intervalMs) {
    const ahead = api.sizeBetterThan(passive, P);
    api.market(aggressor, ahead + Math.max(1, Math.round(display * (1.2 + 1.3 * api.rng.float()))));
    yield p.intervalMs * (0.5 + api.rng.float());
  }
  yield* waitUntil(api, t0 + p.durationMs);
  const rs = api.clearReserve();
  const lb = api.label;
  lb.params.price = ticks(api, P);
  lb.params.display = display;
  lb.params.executed = rs.executed;
  lb.params.refills = rs.refills;
  lb.params.maxDisplayed = rs.maxDisplayed;
}

/** exhaustion: a trend leg of `bars` bars with volume falling by `decline` and |delta| weakening, then reversal. */
export function* exhaustion(api: ScriptApi, side: LabelSide, p: Record<string, number>): ScriptGen {
  const trend = opposite(side);
  const bars = Math.max(3, Math.round(p.bars));
  api.bgScale = p.bgScale;
  const B = Math.max(api.bgBarVolume(p.barMs) * p.bgScale, 10 * api.flow.marketSizeMedian);
  const v1 = p.volumeMult * B;
  // levels per bar: decreasing shares of legLevels, at least 1 each
  const w = [];
  for (let i = 0; i < bars; i++) w.push(bars - i + 1);
  const wsum = w.reduce((a, b) => a + b, 0);
  const t0 = api.now;
  let prev = NaN;
  let extreme = NaN;
  for (let i = 0; i < bars; i++) {
    const vol = v1 * Math.pow(1 - p.decline, i);
    const counterFrac = 0.04 + (0.32 * i) / (bars - 1);
    const lv = Math.max(1, Math.round((p.legLevels * w[i]) / wsum));
    api.resetPhase();
    yield* drive(api, trend, lv, vol * (1 - counterFrac), p.barMs * 0.85, { counterVolume: vol * counterFrac });
    // every bar of the leg makes a new extreme
    if (prev === prev) yield* pushBeyond(api, trend, prev, 150, 20);
    yield* waitUntil(api, t0 + (i + 1) * p.barMs);
    prev = trend === 'sell' ? api.phaseLow : api.phaseHigh;
    extreme = prev;
  }
  const lb = api.label;
  lb.params.bars = bars;
  lb.params.barMs = p.barMs;
  lb.params.firstBarTs = Math.floor(t0);
  lb.params.legEndTs = Math.floor(api.now);
  lb.params.extreme = ticks(api, extreme);
  lb.params.decline = p.decline;
  lb.params.reversalTicks = p.reversalLevels * api.levelTicks;
  yield* drive(api, side, p.reversalLevels, v1 * 0.4, p.barMs * 0.6);
  yield* pushBeyond(api, side, side === 'buy' ? extreme + p.reversalLevels - 1 : extreme - p.reversalLevels + 1, 200);
}

/** divergence: push, pullback, a second push to a new extreme with weak (net opposite) aggression, reversal. */
export function* divergence(api: ScriptApi, side: LabelSide, p: Record<string, number>): ScriptGen {
  const push = opposite(side); // bearish divergence (side sell) is made of pushes up
  const up = push === 'buy';
  api.bgScale = p.bgScale;
  const B = Math.max(api.bgBarVolume(p.barMs) * p.bgScale, 10 * api.flow.marketSizeMedian);
  const t0 = api.now;
  const cvd0 = api.cvd;
  const lb = api.label;
  // bar 1: strong first push
  api.resetPhase();
  yield* drive(api, push, p.push1Levels, p.volumeMult * B, p.barMs * 0.9, { counterVolume: B });
  yield* waitUntil(api, t0 + p.barMs);
  const first = up ? api.phaseHigh : api.phaseLow;
  const firstCvd = up ? api.phaseCvdHigh : api.phaseCvdLow;
  // bar 2: pullback
  api.resetPhase();
  yield* drive(api, side, p.pullbackLevels, p.volumeMult * 0.5 * B, p.barMs * 0.9);
  yield* waitUntil(api, t0 + 2 * p.barMs);
  // bar 3: second push to a new extreme made by pulled offers / small lifts, with heavier opposite aggression
  api.resetPhase();
  yield* drive(api, push, p.pullbackLevels + p.extraLevels, 0.3 * B, p.barMs * 0.6, { counterVolume: 1.5 * B, pullFactor: 1 });
  yield* pushBeyond(api, push, up ? first + p.extraLevels - 1 : first - p.extraLevels + 1, 300);
  yield* waitUntil(api, t0 + 3 * p.barMs);
  const second = up ? api.phaseHigh : api.phaseLow;
  const secondCvd = up ? api.phaseCvdHigh : api.phaseCvdLow;
  lb.params.barMs = p.barMs;
  lb.params.firstBarTs = Math.floor(t0);
  lb.params.firstExtreme = ticks(api, first);
  lb.params.secondExtreme = ticks(api, second);
  lb.params.cvdAtFirst = firstCvd - cvd0;
  lb.params.cvdAtSecond = secondCvd - cvd0;
  lb.params.secondPushEndTs = Math.floor(api.now);
  lb.params.reversalTicks = p.reversalLevels * api.levelTicks;
  // bar 4: reversal
  yield* drive(api, side, p.reversalLevels, p.volumeMult * 0.6 * B, p.barMs * 0.8);
}

/** stop run: push beyond a recent extreme, a burst of same-side orders (stops), then a quick reversal. */
export function* stopRun(api: ScriptApi, side: LabelSide, p: Record<string, number>): ScriptGen {
  const run = opposite(side); // side sell = run up through buy stops, then down
  const up = run === 'buy';
  const opp = hitSide(run);
  api.bgScale = p.bgScale;
  const lb = api.label;
  let H = up ? api.recentHigh(p.lookbackMs) : api.recentLow(p.lookbackMs);
  if (H !== H) H = up ? api.bestAsk() : api.bestBid();
  if (H !== H) return;
  lb.params.priorExtreme = ticks(api, H);
  lb.params.lookbackMs = p.lookbackMs;
  // push to the extreme (clearing the touch level by level)
  yield* pushBeyond(api, run, up ? H - 1 : H + 1, p.pushStepMs);
  // stops: a burst of same-side marketable orders that clears runLevels levels beyond H
  // what is left up to H, plus runLevels levels beyond it: the burst clears everything up to gT
  const runLv = Math.max(1, Math.round(p.runLevels));
  const beyondH = api.levels(opp, 64).filter(([g]) => (up ? g > H : g < H));
  const gT = beyondH.length ? beyondH[Math.min(runLv, beyondH.length) - 1][0] : up ? H + runLv : H - runLv;
  const k = Math.max(3, Math.round(p.burstOrders));
  lb.params.burstStartTs = Math.floor(api.now);
  api.resetPhase();
  let burst = 0;
  for (let i = 0; i < k; i++) {
    let need = 0;
    for (const [g, q] of api.levels(opp, 64)) {
      if (up ? g > gT : g < gT) break;
      need += q;
    }
    const q = i === k - 1 ? need : Math.ceil(need / (k - i));
    burst += api.market(run, Math.max(1, q));
    if (i < k - 1) yield (p.burstMs / k) * (0.5 + api.rng.float());
  }
  const runExtreme = up ? api.phaseHigh : api.phaseLow;
  lb.params.burstEndTs = Math.floor(api.now);
  lb.params.burstVolume = burst;
  lb.params.runExtreme = ticks(api, runExtreme);
  yield 200 + 200 * api.rng.float();
  // quick reversal back through the prior extreme
  const dist = Math.abs(runExtreme - H) + p.reversalLevels;
  yield* drive(api, side, dist, burst, 2_500, { stepMs: 100 });
  yield* pushBeyond(api, side, up ? H - p.reversalLevels + 1 : H + p.reversalLevels - 1, 150);
  lb.params.reversalTicks = p.reversalLevels * api.levelTicks;
  lb.params.reversalTs = Math.floor(api.now);
}

export function createScript(kind: ScriptKind, api: ScriptApi, side: LabelSide, p: Record<string, number>): ScriptGen {
  switch (kind) {
    case 'absorption': return absorption(api, side, p);
    case 'sweep': return sweep(api, side, p);
    case 'iceberg': return iceberg(api, side, p);
    case 'exhaustion': return exhaustion(api, side, p);
    case 'divergence': return divergence(api, side, p);
    case 'stop_run': return stopRun(api, side, p);
  }
}
