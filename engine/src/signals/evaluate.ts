/**
 * Event evaluation (docs/definitions/signals.md §7, docs/evaluation.md). Core code: no Node imports.
 *
 * - Entry: the first trade STRICTLY after the decision time (confirmedAt), at that trade's price.
 * - R = rMult × the mean high−low range of the last `atrBars` bars closed at or before the decision
 *   (at least minRTicks). Triple barrier: +2R target, −1R stop, time barrier horizonMs.
 * - Exits are filled at the price of the trade that breached the barrier (never at the exact barrier,
 *   which may be a price that never traded), so a stop can lose more than 1R.
 * - A timeout says its cause: 'barrier' (a trade after the time barrier exists: marked at the last trade
 *   before it) or 'end-of-data' (the data ended first).
 * - Costs: a round trip pays 2 × (feeBps + slippageBps) of the entry price; in R that is
 *   entry × 2 × (fee + slip) / 10 000 / R. Every figure is given gross and net.
 * - Uncertainty: events are grouped into independent windows (entries within one `blockMs` bucket share
 *   a window); E[R] and the hit rate get a percentile 95 % CI from a block bootstrap that resamples
 *   whole windows.
 * - Matched baseline: for every event `baselineDraws` random entries, same side, same R and exits, at a
 *   uniformly drawn time within ±baselineWindowMs of the event (the same time-of-day window). The
 *   p-value of the difference is a Monte Carlo test: under "the event's timing is no better than
 *   random", the detector's mean is distributed like the mean of one matched draw per event.
 * All draws come from a seeded PRNG: the same inputs give the same report.
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
  /** matched baseline: draws within ± this of the event */
  baselineWindowMs: number;
  /** matched baseline: random entries per event */
  baselineDraws: number;
  /** bootstrap / Monte Carlo resamples */
  resamples: number;
  /** independent-window bucket (default: the time barrier) */
  blockMs: number;
  /** per-side fee and slippage in basis points of price (default: the paper trader's) */
  feeBps: number;
  slippageBps: number;
  /** groups with fewer events than this are reported as "insufficient sample" */
  minSample: number;
}

export const DEFAULT_EVAL: EvalOptions = {
  atrBars: 14, rMult: 1, minRTicks: 1, horizonMs: 30 * 60_000, seed: 42, baselineWindowMs: 30 * 60_000,
  baselineDraws: 50, resamples: 2000, blockMs: 30 * 60_000, feeBps: 4, slippageBps: 1, minSample: 30,
};

/** Decision context carried into the journal: how the detector's thresholds were derived, and the book. */
export interface EventContext { thresholdSource?: string; book?: 'synced' | 'unsynced' | 'none' }

export interface EntryLike extends EventContext { group: string; side: SignalSide; at: number; id?: string }

export type TimeoutCause = 'barrier' | 'end-of-data';

export interface Outcome extends EventContext {
  group: string;
  side: SignalSide;
  id?: string;
  /** decision time */
  decidedAt: number;
  entryTs: number;
  entry: number;
  rTicks: number;
  exitTs: number;
  exit: number;
  result: 'tp' | 'sl' | 'timeout';
  timeout?: TimeoutCause;
  /** gross R (exit at the breaching trade) */
  r: number;
  /** round-trip cost in R */
  costR: number;
  rNet: number;
  mfeR: number;
  maeR: number;
  hit1R: boolean;
  hit2R: boolean;
  /** independent window index (entryTs / blockMs) */
  window: number;
  /** matched baseline: gross R of each draw (in draw order), for re-testing */
  baseline?: number[];
}

export interface Dist { n: number; mean: number; p25: number; p50: number; p75: number; max: number }

export interface Interval { value: number; lo: number; hi: number }

export interface GroupStats {
  group: string;
  count: number;
  /** events that could not be entered (no later trade / no R) */
  skipped: number;
  /** independent windows among the entered events */
  windows: number;
  /** true when count < minSample: the figures are printed but say nothing */
  insufficient: boolean;
  hitRate1R: Interval;
  hitRate2R: number;
  expectancyR: Interval;
  expectancyNetR: Interval;
  meanCostR: number;
  tp: number;
  sl: number;
  timeoutBarrier: number;
  timeoutEndOfData: number;
  mfeR: Dist;
  maeR: Dist;
  timeToOutcomeMs: Dist;
  baseline: { draws: number; mean: number; sd: number; meanNet: number; diff: number; p: number } | null;
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

/** Round-trip cost in R of an entry at `entry` ticks with risk R ticks. */
export function costR(entry: number, R: number, o: Pick<EvalOptions, 'feeBps' | 'slippageBps'>): number {
  return (entry * 2 * (o.feeBps + o.slippageBps)) / 10_000 / R;
}

/** Simulate one entry decided at e.at; null when it cannot be entered. `rTicks` overrides the ATR rule. */
export function simulate(path: PricePath, e: EntryLike, opts: Partial<EvalOptions> = {}, rTicks?: number): Outcome | null {
  const o = { ...DEFAULT_EVAL, ...opts };
  const i0 = upperBound(path.ts, e.at);
  if (i0 >= path.ts.length) return null;
  const R = rTicks ?? rAt(path, e.at, o);
  if (!(R > 0)) return null;
  const s = sideSign(e.side);
  const entry = path.price[i0], entryTs = path.ts[i0];
  const cost = costR(entry, R, o);
  const base = { group: e.group, side: e.side, id: e.id, thresholdSource: e.thresholdSource, book: e.book, decidedAt: e.at, entryTs, entry, rTicks: R, costR: r2(cost), window: Math.floor(entryTs / o.blockMs) };
  let mfe = 0, mae = 0, hit1 = false;
  const end = entryTs + o.horizonMs;
  let i = i0 + 1;
  for (; i < path.ts.length && path.ts[i] <= end; i++) {
    const move = (s * (path.price[i] - entry)) / R;
    if (move > mfe) mfe = move;
    if (-move > mae) mae = -move;
    if (move <= -1) return { ...base, exitTs: path.ts[i], exit: path.price[i], result: 'sl', r: r2(move), rNet: r2(move - cost), mfeR: r2(mfe), maeR: r2(mae), hit1R: hit1, hit2R: false };
    if (move >= 1) hit1 = true;
    if (move >= 2) return { ...base, exitTs: path.ts[i], exit: path.price[i], result: 'tp', r: r2(move), rNet: r2(move - cost), mfeR: r2(mfe), maeR: r2(mae), hit1R: true, hit2R: true };
  }
  const timeout: TimeoutCause = i < path.ts.length ? 'barrier' : 'end-of-data';
  const last = i - 1;
  const exit = path.price[last];
  const r = (s * (exit - entry)) / R;
  return { ...base, exitTs: path.ts[last], exit, result: 'timeout', timeout, r: r2(r), rNet: r2(r - cost), mfeR: r2(mfe), maeR: r2(mae), hit1R: hit1, hit2R: false };
}

function dist(xs: number[]): Dist {
  if (!xs.length) return { n: 0, mean: 0, p25: 0, p50: 0, p75: 0, max: 0 };
  const a = [...xs].sort((x, y) => x - y);
  return { n: a.length, mean: r2(a.reduce((s, x) => s + x, 0) / a.length), p25: r2(quantile(a, 0.25)), p50: r2(quantile(a, 0.5)), p75: r2(quantile(a, 0.75)), max: r2(a[a.length - 1]) };
}

/** Linear-interpolated quantile of an ascending array. */
export function quantile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const k = (sorted.length - 1) * p; const lo = Math.floor(k); const hi = Math.ceil(k);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (k - lo);
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);

/**
 * Block-bootstrap 95 % CI of the mean: resample whole blocks (windows) with replacement, as many as
 * there are, and take the 2.5 % / 97.5 % quantiles of the resampled means (pooled over events).
 */
export function blockBootstrapCI(values: number[], blocks: number[], resamples: number, rng: Mulberry32): Interval {
  const value = mean(values);
  if (!values.length) return { value: NaN, lo: NaN, hi: NaN };
  const by = new Map<number, number[]>();
  values.forEach((v, i) => { let a = by.get(blocks[i]); if (!a) by.set(blocks[i], (a = [])); a.push(v); });
  const groups = [...by.keys()].sort((a, b) => a - b).map((k) => { const a = by.get(k)!; return { sum: a.reduce((s, x) => s + x, 0), n: a.length }; });
  const means: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let s = 0, n = 0;
    for (let j = 0; j < groups.length; j++) { const g = groups[rng.int(groups.length)]; s += g.sum; n += g.n; }
    means.push(s / n);
  }
  means.sort((x, y) => x - y);
  return { value, lo: quantile(means, 0.025), hi: quantile(means, 0.975) };
}

/**
 * Monte Carlo p-value (two-sided) of the detector's mean against its matched baseline: pseudo-detectors
 * take one random draw per event; p = (1 + #{|pseudo − μ| ≥ |observed − μ|}) / (resamples + 1), with μ
 * the mean of all draws.
 */
export function matchedPValue(observed: number[], draws: number[][], resamples: number, rng: Mulberry32): number {
  const rows = draws.map((d, i) => ({ o: observed[i], d })).filter((x) => x.d.length > 0);
  if (!rows.length) return NaN;
  const mu = mean(rows.map((x) => mean(x.d)));
  const obs = Math.abs(mean(rows.map((x) => x.o)) - mu);
  let extreme = 0;
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (const x of rows) s += x.d[rng.int(x.d.length)];
    if (Math.abs(s / rows.length - mu) >= obs - 1e-12) extreme++;
  }
  return (1 + extreme) / (resamples + 1);
}

const round = (i: Interval): Interval => ({ value: r2(i.value), lo: r2(i.lo), hi: r2(i.hi) });

export function groupStats(group: string, outs: Outcome[], skipped = 0, opts: Partial<EvalOptions> = {}): GroupStats {
  const o = { ...DEFAULT_EVAL, ...opts };
  // one PRNG stream per group, seeded from the seed and the group name: group order does not matter
  let h = o.seed >>> 0;
  for (let i = 0; i < group.length; i++) h = Math.imul(h ^ group.charCodeAt(i), 0x01000193) >>> 0;
  const rng = new Mulberry32(h);
  const n = outs.length;
  const blocks = outs.map((x) => x.window);
  const withDraws = outs.filter((x) => x.baseline && x.baseline.length);
  let baseline: GroupStats['baseline'] = null;
  if (withDraws.length) {
    const all = withDraws.flatMap((x) => x.baseline!);
    const bm = mean(all);
    const sd = Math.sqrt(all.reduce((s, x) => s + (x - bm) ** 2, 0) / Math.max(1, all.length - 1));
    const costMean = mean(withDraws.map((x) => x.costR));
    baseline = {
      draws: all.length, mean: r2(bm), sd: r2(sd), meanNet: r2(bm - costMean),
      diff: r2(mean(withDraws.map((x) => x.r)) - mean(withDraws.map((x) => mean(x.baseline!)))),
      p: Math.round(matchedPValue(withDraws.map((x) => x.r), withDraws.map((x) => x.baseline!), o.resamples, rng) * 1000) / 1000,
    };
  }
  return {
    group, count: n, skipped, windows: new Set(blocks).size, insufficient: n < o.minSample,
    hitRate1R: round(blockBootstrapCI(outs.map((x) => (x.hit1R ? 1 : 0)), blocks, o.resamples, rng)),
    hitRate2R: n ? r2(outs.filter((x) => x.hit2R).length / n) : NaN,
    expectancyR: round(blockBootstrapCI(outs.map((x) => x.r), blocks, o.resamples, rng)),
    expectancyNetR: round(blockBootstrapCI(outs.map((x) => x.rNet), blocks, o.resamples, rng)),
    meanCostR: r2(mean(outs.map((x) => x.costR))),
    tp: outs.filter((x) => x.result === 'tp').length, sl: outs.filter((x) => x.result === 'sl').length,
    timeoutBarrier: outs.filter((x) => x.timeout === 'barrier').length, timeoutEndOfData: outs.filter((x) => x.timeout === 'end-of-data').length,
    mfeR: dist(outs.map((x) => x.mfeR)), maeR: dist(outs.map((x) => x.maeR)), timeToOutcomeMs: dist(outs.map((x) => x.exitTs - x.entryTs)),
    baseline,
  };
}

export interface EvaluationReport {
  groups: GroupStats[];
  outcomes: Outcome[];
  /** events not entered, per group */
  skipped: Record<string, number>;
}

/** Matched baseline draws of one event: gross R of `baselineDraws` same-side entries near it, same R. */
export function baselineDraws(path: PricePath, e: EntryLike, R: number, o: EvalOptions, rng: Mulberry32): number[] {
  const t0 = path.ts.length ? path.ts[0] : 0, t1 = path.ts.length ? path.ts[path.ts.length - 1] : 0;
  const lo = Math.max(t0, e.at - o.baselineWindowMs), hi = Math.min(t1, e.at + o.baselineWindowMs);
  const out: number[] = [];
  for (let k = 0; k < o.baselineDraws; k++) {
    // always draw, so the stream does not depend on outcomes
    const at = Math.floor(lo + rng.next() * Math.max(0, hi - lo));
    const b = simulate(path, { group: e.group, side: e.side, at }, o, R);
    if (b) out.push(b.r);
  }
  return out;
}

/** Evaluate entries (each with its matched baseline draws), grouped by `group`. */
export function evaluate(path: PricePath, entries: EntryLike[], opts: Partial<EvalOptions> = {}): EvaluationReport {
  const o = { ...DEFAULT_EVAL, ...opts };
  const rng = new Mulberry32(o.seed);
  const by = new Map<string, Outcome[]>();
  const skipped: Record<string, number> = {};
  const all: Outcome[] = [];
  for (const e of entries) {
    if (!by.has(e.group)) by.set(e.group, []);
    const out = simulate(path, e, o);
    if (!out) { skipped[e.group] = (skipped[e.group] ?? 0) + 1; continue; }
    out.baseline = baselineDraws(path, e, out.rTicks, o, rng);
    by.get(e.group)!.push(out); all.push(out);
  }
  const keys = [...by.keys()].sort();
  return { groups: keys.map((k) => groupStats(k, by.get(k)!, skipped[k] ?? 0, o)), outcomes: all, skipped };
}

/** The multiple-testing note printed under every report. */
export function multipleTestingNote(groups: GroupStats[]): string {
  const tested = groups.filter((g) => g.baseline && Number.isFinite(g.baseline.p));
  const m = tested.length;
  if (!m) return 'No group had a baseline to test against.';
  const alpha = 0.05 / m;
  const pass = tested.filter((g) => g.baseline!.p < alpha && !g.insufficient).map((g) => g.group);
  return `Multiple testing: ${m} groups were tested; at a family-wise 5 % (Bonferroni) a group needs p < ${r2(alpha * 1000) / 1000}. ` +
    (pass.length ? `Passing (with a sufficient sample): ${pass.join(', ')}.` : 'None passes.') +
    ' A p < 0.05 alone is expected by chance in about 1 of 20 groups.';
}
