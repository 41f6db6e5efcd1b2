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

