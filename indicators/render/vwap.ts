/** Session VWAP and σ from footprint rows (host-independent). */
import type { FootprintBarData } from './types.js';

export interface VwapPoint { time: number; vwap: number; sd: number }

/**
 * Session VWAP and volume-weighted σ from footprint rows (row mid price × row volume), reset when
 * the UTC day changes (or when `sessionOf` changes). Row granularity: exact to half a row.
 */
export function vwapFromBars(bars: readonly FootprintBarData[], sessionOf: (ms: number) => string = (ms) => new Date(ms).toISOString().slice(0, 10)): VwapPoint[] {
  const out: VwapPoint[] = [];
  let key = '', w = 0, pv = 0, p2v = 0;
  for (const b of bars) {
    const k = sessionOf(b.time);
    if (k !== key) { key = k; w = 0; pv = 0; p2v = 0; }
    for (const r of b.rows) { const v = r.bid + r.ask; const p = r.price + b.rowSize / 2; w += v; pv += p * v; p2v += p * p * v; }
    if (w > 0) { const m = pv / w; out.push({ time: b.time, vwap: m, sd: Math.sqrt(Math.max(0, p2v / w - m * m)) }); }
  }
  return out;
}


interface VwapSums { key: string; w: number; pv: number; p2v: number }

/**
 * The same session VWAP kept bar by bar for live use: `add` appends or replaces the newest bar in
 * O(its rows) (re-running `vwapFromBars` on every update is O(session bars)). `points` equals
 * `vwapFromBars` of the bars added so far.
 */
export class VwapRun {
  points: VwapPoint[] = [];
  private before: VwapSums = { key: '', w: 0, pv: 0, p2v: 0 };
  private after: VwapSums = { key: '', w: 0, pv: 0, p2v: 0 };
  private last = -Infinity;
  constructor(private readonly sessionOf: (ms: number) => string = (ms) => new Date(ms).toISOString().slice(0, 10)) {}

  reset(bars: readonly FootprintBarData[]): void {
    this.points = [];
    this.before = this.after = { key: '', w: 0, pv: 0, p2v: 0 };
    this.last = -Infinity;
    for (const b of bars) this.add(b);
  }

  /** Append (later time) or replace (same time) the newest bar; its point, or null (older bar / no volume yet). */
  add(b: FootprintBarData): VwapPoint | null {
    if (b.time < this.last) return null;
    if (b.time === this.last) { if (this.points.length && this.points[this.points.length - 1].time === b.time) this.points.pop(); }
    else { this.before = this.after; this.last = b.time; }
    const k = this.sessionOf(b.time);
    const s = k === this.before.key ? { ...this.before } : { key: k, w: 0, pv: 0, p2v: 0 };
    for (const r of b.rows) { const v = r.bid + r.ask; const p = r.price + b.rowSize / 2; s.w += v; s.pv += p * v; s.p2v += p * p * v; }
    this.after = s;
    if (!(s.w > 0)) return null;
    const m = s.pv / s.w;
    const pt = { time: b.time, vwap: m, sd: Math.sqrt(Math.max(0, s.p2v / s.w - m * m)) };
    this.points.push(pt);
    return pt;
  }

  /** Points with time in [fromMs, toMs]. */
  between(fromMs: number, toMs: number): VwapPoint[] {
    const p = this.points;
    let lo = 0, hi = p.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (p[m].time < fromMs) lo = m + 1; else hi = m; }
    let e = lo;
    while (e < p.length && p[e].time <= toMs) e++;
    return p.slice(lo, e);
  }
}
