/**
 * Allocation-free timestamp parsing for the replay readers. All results are integer milliseconds since
 * the epoch (UTC), floored; sub-millisecond digits are dropped (event order within a millisecond is the
 * file order).
 */
import { BadRow } from './types.js';

/** earliest/latest plausible market-data time (1980-01-01 .. 2200-01-01) */
export const MIN_TS = 315532800000;
export const MAX_TS = 7258118400000;

/**
 * Epoch number in s, ms, µs or ns — unit decided by the number of integer digits
 * (≤11 s, 12–14 ms, 15–17 µs, ≥18 ns), optional fraction (used for seconds). NaN when malformed.
 * Exact for ns values beyond 2^53 because only the leading digits are accumulated.
 */
export function parseEpochMs(s: string, start = 0, end = s.length): number {
  while (start < end && s.charCodeAt(start) === 32) start++;
  while (end > start && s.charCodeAt(end - 1) === 32) end--;
  let dot = end;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) { dot = i; break; }
    if (c < 48 || c > 57) return NaN;
  }
  const n = dot - start;
  if (n === 0) return NaN;
  let keep: number; // integer digits to accumulate
  let mul = 1;
  if (n <= 11) { keep = n; mul = 1000; } else if (n <= 14) keep = n; else if (n <= 17) keep = n - 3; else keep = n - 6;
  let v = 0;
  for (let i = start; i < start + keep; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  if (mul === 1000) {
    v *= 1000;
    let f = 0;
    let k = 0;
    for (let i = dot + 1; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) return NaN;
      if (k < 3) { f = f * 10 + (c - 48); k++; }
    }
    while (k < 3) { f *= 10; k++; }
    v += f;
  } else {
    for (let i = dot + 1; i < end; i++) { const c = s.charCodeAt(i); if (c < 48 || c > 57) return NaN; }
  }
  return v;
}

/** epoch as a JSON number in s/ms/µs/ns (by magnitude) -> ms */
export function epochNumberMs(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  if (x < 1e11) return Math.floor(x * 1000);
  if (x < 1e14) return Math.floor(x);
  if (x < 1e17) return Math.floor(x / 1e3);
  return Math.floor(x / 1e6);
}

function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k);
    if (c < 48 || c > 57) return NaN;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Date.UTC without the 0..99 -> 19xx year mapping */
function utc(y: number, mo: number, d: number, h: number, mi: number, sec: number, ms: number): number {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60) return NaN;
  let t = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  if (y < 100) { const dt = new Date(t); dt.setUTCFullYear(y); t = dt.getTime(); }
  return t;
}

/**
 * ISO-8601-ish date-time: `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|±HH[:MM]]`; also `YYYY.MM.DD` and
 * `YYYYMMDD` dates. No zone = UTC. NaN when malformed.
 */
export function parseIsoMs(s: string, start = 0, end = s.length): number {
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 34)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 34)) end--;
  let i = start;
  const y = digits(s, i, 4);
  i += 4;
  let mo: number, d: number;
  const sep = s.charCodeAt(i);
  if (sep === 45 || sep === 46 || sep === 47) {
    mo = digits(s, i + 1, 2);
    if (s.charCodeAt(i + 3) !== sep) return NaN;
    d = digits(s, i + 4, 2);
    i += 6;
  } else {
    mo = digits(s, i, 2);
    d = digits(s, i + 2, 2);
    i += 4;
  }
  if (!(y >= 0 && mo >= 0 && d >= 0)) return NaN;
  let h = 0, mi = 0, sec = 0, ms = 0;
  if (i < end) {
    const c = s.charCodeAt(i);
    if (c !== 84 && c !== 116 && c !== 32) return NaN;
    i++;
    h = digits(s, i, 2);
    if (s.charCodeAt(i + 2) !== 58) return NaN;
    mi = digits(s, i + 3, 2);
    i += 5;
    if (i < end && s.charCodeAt(i) === 58) {
      sec = digits(s, i + 1, 2);
      i += 3;
      if (i < end && (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44)) {
        i++;
        let k = 0;
        while (i < end) {
          const c2 = s.charCodeAt(i);
          if (c2 < 48 || c2 > 57) break;
          if (k < 3) { ms = ms * 10 + (c2 - 48); k++; }
          i++;
        }
        if (k === 0) return NaN;
        while (k < 3) { ms *= 10; k++; }
      }
    }
    if (!(h >= 0 && mi >= 0 && sec >= 0)) return NaN;
  }
  let off = 0;
  if (i < end) {
    const c = s.charCodeAt(i);
    if (c === 90 || c === 122) i++;
    else if (c === 43 || c === 45) {
      const oh = digits(s, i + 1, 2);
      let om = 0;
      let j = i + 3;
      if (j < end && s.charCodeAt(j) === 58) j++;
      if (j < end) { om = digits(s, j, 2); j += 2; }
      if (!(oh >= 0 && om >= 0)) return NaN;
      off = (c === 45 ? -1 : 1) * (oh * 60 + om);
      i = j;
    } else return NaN;
  }
  if (i !== end) return NaN;
  return utc(y, mo, d, h, mi, sec, ms) - off * 60000;
}

/** Any time cell: an epoch number (s/ms/µs/ns by magnitude) or an ISO-8601 date-time. */
export function parseTimeMs(s: string, start = 0, end = s.length): number {
  const v = parseEpochMs(s, start, end);
  if (v === v) return v;
  return parseIsoMs(s, start, end);
}

/** Throws BadRow when ts is NaN or outside 1980..2200 (e.g. Coinbase's year-0001 placeholder times). */
export function checkTs(ts: number, what = 'timestamp'): number {
  if (!(ts >= MIN_TS && ts <= MAX_TS)) throw new BadRow(ts === ts ? `${what} out of range (${new Date(ts).toISOString()})` : `invalid ${what}`);
  return ts;
}
