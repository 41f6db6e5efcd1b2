/**
 * Event evaluation (docs/definitions/signals.md §7). Each event enters at its confirmedAt (never
 * firstSeenAt): entry = the first trade at or after confirmedAt. R = rMult × the mean high−low range of
 * the last `atrBars` bars closed at or before confirmedAt (at least minRTicks). Triple barrier: +2R
 * target, −1R stop, time barrier horizonMs. Per group: count, hit rate at 1R (MFE reached +1R before the
 * stop) and 2R (target hit), expectancy in R (+2 / −1 / mark-to-market at the time barrier), MFE/MAE
 * distributions in R, time to outcome. Baseline: for every event, an entry at a seeded-random time within
 * ±baselineWindowMs of it, random side, same R rule and exits.
 */
import { Mulberry32, r2, sideSign, type SignalSide } from './types.js';

export interface PricePath {
  /** trade times (ascending) and prices in ticks */
  ts: number[];
  price: number[];
  /** closed bars: end time and high − low (ticks), ascending by end */
  barEnd: number[];
  barRange: number[];
}

export function newPricePath(): PricePath { return { ts: [], price: [], barEnd: [], barRange: [] }; }

export interface EvalOptions {
  atrBars: number;
  rMult: number;
  minRTicks: number;
  horizonMs: number;
  seed: number;
  baselineWindowMs: number;
}

export const DEFAULT_EVAL: EvalOptions = { atrBars: 14, rMult: 1, minRTicks: 1, horizonMs: 30 * 60_000, seed: 42, baselineWindowMs: 30 * 60_000 };

export interface EntryLike { group: string; side: SignalSide; at: number }

export interface Outcome {
  group: string;
  side: SignalSide;
  entryTs: number;
  entry: number;
  rTicks: number;
  exitTs: number;
  exit: number;
  result: 'tp' | 'sl' | 'timeout';
  r: number;
  mfeR: number;
  maeR: number;
  hit1R: boolean;
  hit2R: boolean;
}

export interface Dist { n: number; mean: number; p25: number; p50: number; p75: number; max: number }

export interface GroupStats {
  group: string;
  count: number;
  /** events that could not be entered (no later trade / no R) */
  skipped: number;
  hitRate1R: number;
  hitRate2R: number;
  expectancyR: number;
  tp: number;
  sl: number;
  timeout: number;
  mfeR: Dist;
  maeR: Dist;
  timeToOutcomeMs: Dist;
}

function lowerBound(a: number[], x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] < x) lo = m + 1; else hi = m; }
  return lo;
}
function upperBound(a: number[], x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] <= x) lo = m + 1; else hi = m; }
  return lo;
}

/** R in ticks at time t from bars closed at or before t; NaN before the first bar. */
export function rAt(path: PricePath, t: number, o: EvalOptions): number {
  const k = upperBound(path.barEnd, t);
  if (k === 0) return NaN;
  const from = Math.max(0, k - o.atrBars);
  let s = 0;
  for (let i = from; i < k; i++) s += path.barRange[i];
  return Math.max(o.minRTicks, (o.rMult * s) / (k - from));
}

/** Simulate one entry; null when it cannot be entered. `rTicks` overrides the ATR rule. */
export function simulate(path: PricePath, e: EntryLike, o: EvalOptions, rTicks?: number): Outcome | null {
  const i0 = lowerBound(path.ts, e.at);
  if (i0 >= path.ts.length) return null;
  const R = rTicks ?? rAt(path, e.at, o);
  if (!(R > 0)) return null;
  const s = sideSign(e.side);
  const entry = path.price[i0], entryTs = path.ts[i0];
  let mfe = 0, mae = 0, hit1 = false;
  const end = entryTs + o.horizonMs;
  let i = i0 + 1;
  for (; i < path.ts.length && path.ts[i] <= end; i++) {
    const move = (s * (path.price[i] - entry)) / R;
    if (move > mfe) mfe = move;
    if (-move > mae) mae = -move;
    if (mae >= 1) return { group: e.group, side: e.side, entryTs, entry, rTicks: R, exitTs: path.ts[i], exit: entry - s * R, result: 'sl', r: -1, mfeR: r2(mfe), maeR: r2(Math.min(mae, 1)), hit1R: hit1, hit2R: false };
    if (mfe >= 1) hit1 = true;
    if (mfe >= 2) return { group: e.group, side: e.side, entryTs, entry, rTicks: R, exitTs: path.ts[i], exit: entry + s * 2 * R, result: 'tp', r: 2, mfeR: r2(Math.min(mfe, 2)), maeR: r2(mae), hit1R: true, hit2R: true };
  }
  const last = Math.min(i, path.ts.length) - 1;
  const exit = path.price[last];
  return { group: e.group, side: e.side, entryTs, entry, rTicks: R, exitTs: path.ts[last], exit, result: 'timeout', r: r2((s * (exit - entry)) / R), mfeR: r2(mfe), maeR: r2(mae), hit1R: hit1, hit2R: false };
}

function dist(xs: number[]): Dist {
  if (!xs.length) return { n: 0, mean: 0, p25: 0, p50: 0, p75: 0, max: 0 };
  const a = [...xs].sort((x, y) => x - y);
  const q = (p: number): number => { const k = (a.length - 1) * p; const lo = Math.floor(k); const hi = Math.ceil(k); return a[lo] + (a[hi] - a[lo]) * (k - lo); };
  return { n: a.length, mean: r2(a.reduce((s, x) => s + x, 0) / a.length), p25: r2(q(0.25)), p50: r2(q(0.5)), p75: r2(q(0.75)), max: r2(a[a.length - 1]) };
}

export function groupStats(group: string, outs: Outcome[], skipped = 0): GroupStats {
  const n = outs.length;
  const frac = (f: (o: Outcome) => boolean): number => (n ? r2(outs.filter(f).length / n) : 0);
  return {
    group, count: n, skipped,
    hitRate1R: frac((o) => o.hit1R), hitRate2R: frac((o) => o.hit2R),
    expectancyR: n ? r2(outs.reduce((s, o) => s + o.r, 0) / n) : 0,
    tp: outs.filter((o) => o.result === 'tp').length, sl: outs.filter((o) => o.result === 'sl').length, timeout: outs.filter((o) => o.result === 'timeout').length,
    mfeR: dist(outs.map((o) => o.mfeR)), maeR: dist(outs.map((o) => o.maeR)), timeToOutcomeMs: dist(outs.map((o) => o.exitTs - o.entryTs)),
  };
}

export interface EvaluationReport {
  groups: GroupStats[];
  baseline: GroupStats[];
  outcomes: Outcome[];
  baselineOutcomes: Outcome[];
}

/** Evaluate entries grouped by `group`, each beside its random baseline (same count, seeded). */
export function evaluate(path: PricePath, entries: EntryLike[], opts: Partial<EvalOptions> = {}): EvaluationReport {
  const o = { ...DEFAULT_EVAL, ...opts };
  const rng = new Mulberry32(o.seed);
  const by = new Map<string, { outs: Outcome[]; skipped: number; base: Outcome[]; bskipped: number }>();
  const all: Outcome[] = [];
  const ball: Outcome[] = [];
  const t0 = path.ts.length ? path.ts[0] : 0, t1 = path.ts.length ? path.ts[path.ts.length - 1] : 0;
  for (const e of entries) {
    let g = by.get(e.group);
    if (!g) { g = { outs: [], skipped: 0, base: [], bskipped: 0 }; by.set(e.group, g); }
    const out = simulate(path, e, o);
    if (out) { g.outs.push(out); all.push(out); } else g.skipped++;
    // baseline: random time near the event (always drawn, so the stream of draws does not depend on outcomes)
    const u = rng.next(), v = rng.next();
    const lo = Math.max(t0, e.at - o.baselineWindowMs), hi = Math.min(t1, e.at + o.baselineWindowMs);
    const at = Math.floor(lo + u * Math.max(0, hi - lo));
    const b = simulate(path, { group: e.group, side: v < 0.5 ? 'buy' : 'sell', at }, o);
    if (b) { g.base.push(b); ball.push(b); } else g.bskipped++;
  }
  const keys = [...by.keys()].sort();
  return {
    groups: keys.map((k) => groupStats(k, by.get(k)!.outs, by.get(k)!.skipped)),
    baseline: keys.map((k) => groupStats(k, by.get(k)!.base, by.get(k)!.bskipped)),
    outcomes: all,
    baselineOutcomes: ball,
  };
}
