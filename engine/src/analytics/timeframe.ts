/**
 * Bar specifications: time bars (1s … 1D, aligned to UTC or to the session open), tick-count bars
 * and volume bars. Parsed from strings such as "1m", "15s", "4h", "1D", "500T" (ticks), "100V" (volume).
 */
export type BarSpec =
  | { kind: 'time'; ms: number; align: 'utc' | 'session'; label: string }
  | { kind: 'tick'; count: number; label: string }
  | { kind: 'volume'; /** in instrument size units (converted to lots by the builder) */ volume: number; label: string };

const UNIT_MS: Record<string, number> = { s: 1000, S: 1000, m: 60_000, h: 3_600_000, H: 3_600_000, d: 86_400_000, D: 86_400_000 };

export function parseTimeframe(s: string, align: 'utc' | 'session' = 'utc'): BarSpec {
  const m = /^(\d+(?:\.\d+)?)([sSmhHdDTV])$/.exec(s.trim());
  if (!m) throw new Error(`invalid timeframe "${s}": use e.g. 1s, 30s, 1m, 5m, 1h, 4h, 1D, 500T (ticks) or 100V (volume)`);
  const n = Number(m[1]);
  const u = m[2];
  if (u === 'T') {
    if (!Number.isInteger(n) || n < 1) throw new Error(`invalid tick bar size "${s}"`);
    return { kind: 'tick', count: n, label: s };
  }
  if (u === 'V') {
    if (!(n > 0)) throw new Error(`invalid volume bar size "${s}"`);
    return { kind: 'volume', volume: n, label: s };
  }
  if (!Number.isInteger(n) || n < 1) throw new Error(`invalid timeframe "${s}"`);
  const ms = n * UNIT_MS[u];
  if (ms > 86_400_000) throw new Error(`timeframe "${s}" is longer than 1D`);
  if (86_400_000 % ms !== 0) throw new Error(`timeframe "${s}" does not divide a day`);
  return { kind: 'time', ms, align: u === 'd' || u === 'D' ? 'session' : align, label: s };
}
