/**
 * Charting Library / UDF resolution strings (charting-hosts.md §1.12): `xT` ticks, `xS` seconds,
 * `x` minutes (60 = 1 hour), `xD`/`D`, `xW`/`W`, `xM`/`M`. TapeFlow serves:
 *  - ticks: any N in 1…10 000 (N-tick bars from stored/recent trades, anchored at each UTC hour);
 *  - seconds: N in 1…59 dividing 60 (from trades);
 *  - minutes: N in 1…1440 that is a multiple of the engine's base timeframe (from base bars);
 *  - 1D (the instrument's session), 1W, 1M (merged daily bars).
 */
export type Resolution =
  | { kind: 'tick'; n: number; label: string }
  | { kind: 'second'; n: number; ms: number; label: string }
  | { kind: 'minute'; n: number; ms: number; label: string }
  | { kind: 'day' | 'week' | 'month'; n: 1; label: string };

/**
 * What /config and /symbols announce to the Charting Library. Tick charts: only 1T — v29.2 treats any
 * N-tick resolution (10T, 100T) of a datafeed symbol as a misconfiguration and never calls getBars for
 * it (observed in the real library; it builds nothing from 1T either). /history still serves NT bars.
 */
export const SUPPORTED_RESOLUTIONS = ['1T', '1S', '5S', '15S', '30S', '1', '3', '5', '15', '30', '60', '120', '240', '1D', '1W', '1M'];
export const SECONDS_MULTIPLIERS = ['1', '5', '15', '30'];
export const INTRADAY_MULTIPLIERS = ['1', '3', '5', '15', '30', '60', '120', '240'];

/** Parse a resolution; returns an error reason string when invalid. */
export function parseResolution(s: string, baseMs = 60_000): Resolution | string {
  const m = /^(\d{0,5})([TSDWM]?)$/.exec(s);
  if (!m || (m[1] === '' && m[2] === '')) return `"${s}" is not a resolution (use e.g. 1T, 100T, 1S, 1, 5, 60, 1D, 1W, 1M)`;
  const n = m[1] === '' ? 1 : Number(m[1]);
  const u = m[2];
  if (!Number.isInteger(n) || n < 1) return `resolution multiplier must be a positive integer, got "${s}"`;
  switch (u) {
    case 'T':
      if (n > 10_000) return `tick resolution ${n}T is above the maximum 10000T`;
      return { kind: 'tick', n, label: `${n}T` };
    case 'S':
      if (n >= 60 || 60 % n !== 0) return `seconds resolution must divide a minute (1S, 2S, 5S, 10S, 15S, 30S), got "${s}"`;
      return { kind: 'second', n, ms: n * 1000, label: `${n}S` };
    case 'D': case 'W': case 'M':
      if (n !== 1) return `only 1${u} is served, got "${s}"`;
      return { kind: u === 'D' ? 'day' : u === 'W' ? 'week' : 'month', n: 1, label: `1${u}` };
    default: {
      const ms = n * 60_000;
      if (n > 1440) return `minute resolution above 1440 (use 1D), got "${s}"`;
      if (ms % baseMs !== 0) return `minute resolution ${n} is not a multiple of the engine timeframe (${baseMs / 1000}s)`;
      return { kind: 'minute', n, ms, label: String(n) };
    }
  }
}

/** Nominal length of one bar in ms (used for window estimates; D/W/M approximate). */
export function nominalMs(r: Resolution): number {
  switch (r.kind) {
    case 'tick': return 1000;
    case 'second': case 'minute': return r.ms;
    case 'day': return 86_400_000;
    case 'week': return 7 * 86_400_000;
    case 'month': return 31 * 86_400_000;
  }
}
