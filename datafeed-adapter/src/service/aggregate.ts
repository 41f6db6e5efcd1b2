/**
 * Higher-resolution bars from base bars, and bars from trades.
 *
 * Merge rule (mergeBars), for consecutive bars b1…bk of one bucket, in time order:
 *   open = b1.open, close = bk.close, high/low = max/min, volume and all buy/sell/unknown volumes,
 *   trade counts, sourceVolume and delta are sums; footprint rows are added cell by cell on the
 *   global row grid (same rowTicks); the running intrabar delta extremes are exact:
 *   deltaMin = min_j (D_{j-1} + bj.deltaMin) and deltaMax likewise, with D_{j-1} the summed delta of
 *   b1…b(j-1) (and 0 for the opening delta); CVD candle: open = b1.cvdOpen, close = bk.cvdClose,
 *   high/low = max/min of the bars' CVD highs/lows; firstTs/firstId from b1, lastTs/lastId from bk.
 * The merged bar starts at the bucket time and ends at the next bucket time.
 *
 * Buckets: intraday resolutions are UTC-aligned (floor(start / ms) × ms). 1D = the instrument's
 * session (the base bar's sessionKey), stamped 00:00 UTC of the session's date; base bars outside
 * every session are not part of any daily bar. 1W/1M group the daily buckets by ISO week / calendar
 * month and are stamped at 00:00 UTC of the first weekday of that week/month on which the session
 * calendar trades.
 */
import { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import { RowGrid } from '../../../engine/src/analytics/row-grid.js';
import type { SessionCalendar } from '../../../engine/src/core/sessions.js';
import type { Resolution } from './resolution.js';

const DAY = 86_400_000;

/** Bucket time (ms) of a base bar at a resolution; NaN when the bar belongs to no bucket. */
export function bucketOf(r: Resolution, bar: { start: number; sessionKey: string }, cal: SessionCalendar): number {
  switch (r.kind) {
    case 'second': case 'minute': return Math.floor(bar.start / r.ms) * r.ms;
    case 'day': return dayStamp(bar.sessionKey);
    case 'week': { const d = dayStamp(bar.sessionKey); return Number.isNaN(d) ? NaN : weekStamp(d, cal); }
    case 'month': { const d = dayStamp(bar.sessionKey); return Number.isNaN(d) ? NaN : monthStamp(d, cal); }
    default: return NaN;
  }
}

export function dayStamp(key: string): number {
  if (key.length !== 10) return NaN;
  return Date.UTC(+key.slice(0, 4), +key.slice(5, 7) - 1, +key.slice(8, 10));
}

function civil(ts: number): [number, number, number] {
  const d = new Date(ts);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

export function weekStamp(day: number, cal: SessionCalendar): number {
  const wd = new Date(day).getUTCDay(); // 0 = Sunday
  const monday = day - ((wd + 6) % 7) * DAY;
  for (let k = 0; k < 7; k++) {
    const [y, m, d] = civil(monday + k * DAY);
    if (cal.tradesOn(y, m, d)) return monday + k * DAY;
  }
  return monday;
}

export function monthStamp(day: number, cal: SessionCalendar): number {
  const [y, m] = civil(day);
  const first = Date.UTC(y, m - 1, 1);
  for (let k = 0; k < 31; k++) {
    const [yy, mm, dd] = civil(first + k * DAY);
    if (mm !== m) break;
    if (cal.tradesOn(yy, mm, dd)) return first + k * DAY;
  }
  return first;
}

/** The rows of every merged bar built without rows (never written: mergeBars skips rows then). */
const NO_ROWS = new RowGrid(1);

/** Merge consecutive bars (same instrument and rowTicks) into one bar [start, end). */
export function mergeBars(bars: readonly FootprintBar[], start: number, end: number, withRows = true): FootprintBar {
  const b0 = bars[0];
  // without rows (UDF bars) the merged bar shares one empty grid: no row storage per bucket
  const m = new FootprintBar(b0.instrument, start, end, b0.rowTicks, b0.sessionKey, b0.cvdOpen, withRows ? undefined : NO_ROWS);
  m.open = b0.open; m.firstTs = b0.firstTs; m.firstId = b0.firstId;
  let d = 0, dmin = 0, dmax = 0;
  for (const b of bars) {
    if (b.high > m.high) m.high = b.high;
    if (b.low < m.low) m.low = b.low;
    m.volume += b.volume; m.trades += b.trades;
    m.buyVolume += b.buyVolume; m.sellVolume += b.sellVolume; m.unknownVolume += b.unknownVolume;
    m.buyTrades += b.buyTrades; m.sellTrades += b.sellTrades;
    if (d + b.deltaMin < dmin) dmin = d + b.deltaMin;
    if (d + b.deltaMax > dmax) dmax = d + b.deltaMax;
    d += b.delta;
    if (b.cvdHigh > m.cvdHigh) m.cvdHigh = b.cvdHigh;
    if (b.cvdLow < m.cvdLow) m.cvdLow = b.cvdLow;
    for (let i = 0; i < 5; i++) m.sourceVolume[i] += b.sourceVolume[i];
    if (withRows) m.mergeRows(b.rows);
  }
  const last = bars[bars.length - 1];
  m.close = last.close; m.lastTs = last.lastTs; m.lastId = last.lastId; m.cvdClose = last.cvdClose;
  m.delta = d; m.deltaMin = dmin; m.deltaMax = dmax;
  m.closed = bars.every((b) => b.closed);
  return m;
}

/**
 * Group ascending base bars into buckets; returns merged bars ascending by bucket time. A bucket of
 * one bar with `passThrough` returns the bar itself (no copy).
 */
export function groupBars(bars: readonly FootprintBar[], r: Resolution, cal: SessionCalendar, withRows: boolean, nextBucket: (t: number) => number): FootprintBar[] {
  const out: FootprintBar[] = [];
  let cur: FootprintBar[] = [];
  let curT = NaN;
  const emit = (): void => {
    if (cur.length === 0) return;
    out.push(mergeBars(cur, curT, nextBucket(curT), withRows));
    cur = [];
  };
  for (const b of bars) {
    const t = bucketOf(r, b, cal);
    if (Number.isNaN(t)) continue;
    if (t !== curT) { emit(); curT = t; }
    cur.push(b);
  }
  emit();
  return out;
}

/** End of the bucket starting at t (exclusive). */
export function bucketEnd(r: Resolution, t: number, cal: SessionCalendar): number {
  switch (r.kind) {
    case 'second': case 'minute': return t + r.ms;
    case 'day': return t + DAY;
    case 'week': return t - ((new Date(t).getUTCDay() + 6) % 7) * DAY + 7 * DAY;
    case 'month': { const [y, m] = civil(t); return Date.UTC(y, m, 1); }
    default: return t + 1;
  }
}
