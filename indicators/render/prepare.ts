/**
 * Normalisation of the datafeed's footprint/profile payloads (REST /api/v1 JSON and stream wire
 * messages) into the renderer model, and the once-per-data-change preparation: dense rows, per-bar
 * POC/value area (when the server did not send them), diagonal imbalances, stacked-imbalance zones
 * extended until a later bar trades into them, unfinished auctions. Definitions follow
 * docs/definitions.md §4 (diagonal, ratio 3, zero policy `imbalance`, stacked ≥ 3 rows).
 */
import type { FootprintBarData, PreparedBar, ProfileData, StackedZone } from './types.js';

export interface PrepareOptions {
  /** imbalance multiplier (dominant ≥ ratio × weak), default 3 */
  imbalanceRatio: number;
  /** dominant side must be at least this (volume units), default 0 */
  imbalanceMinVolume: number;
  /** 'diagonal' (default) or 'horizontal' */
  compare: 'diagonal' | 'horizontal';
  /** rows in a stacked run, default 3 */
  stackedMinRows: number;
  /** value area fraction, default 0.7 */
  valueArea: number;
}

export const DEFAULT_PREPARE: PrepareOptions = { imbalanceRatio: 3, imbalanceMinVolume: 0, compare: 'diagonal', stackedMinRows: 3, valueArea: 0.7 };

const num = (x: unknown, d = 0): number => (typeof x === 'number' && Number.isFinite(x) ? x : d);
const numOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** One bar of `/api/v1/footprint` (`bars[i]`, rows included). */
export function fromApiBar(j: Record<string, any>): FootprintBarData {
  const rows = Array.isArray(j.rows) ? j.rows.map((r: any) => (typeof r.imbalance === 'number' ? { price: num(r.price), bid: num(r.bid), ask: num(r.ask), imbalance: r.imbalance } : { price: num(r.price), bid: num(r.bid), ask: num(r.ask) })) : [];
  return {
    time: num(j.time), open: num(j.open), high: num(j.high), low: num(j.low), close: num(j.close),
    volume: num(j.volume), delta: num(j.delta), rowSize: num(j.rowSize, rows.length > 1 ? rows[1].price - rows[0].price : 1),
    rows, poc: numOrNull(j.poc), vah: numOrNull(j.vah), val: numOrNull(j.val), closed: j.closed !== false,
    cvd: j.cvd ? { open: num(j.cvd.open), high: num(j.cvd.high), low: num(j.cvd.low), close: num(j.cvd.close) } : undefined,
  };
}

/** A stream `footprint` channel item (WireFootprint). */
export function fromWireFootprint(w: { t: number; o: number; h: number; l: number; c: number; v: number; delta: number; rowSize: number; poc: number | null; vah: number | null; val: number | null; rows: ([number, number, number] | [number, number, number, number])[]; closed: boolean }): FootprintBarData {
  return {
    time: w.t, open: w.o, high: w.h, low: w.l, close: w.c, volume: w.v, delta: w.delta, rowSize: w.rowSize,
    rows: w.rows.map((r) => (r.length > 3 ? { price: r[0], bid: r[1], ask: r[2], imbalance: r[3] } : { price: r[0], bid: r[1], ask: r[2] })), poc: w.poc, vah: w.vah, val: w.val, closed: w.closed,
  };
}

/** `/api/v1/profile` JSON. */
export function fromApiProfile(j: Record<string, any>): ProfileData {
  return {
    start: numOrNull(j.start), end: numOrNull(j.end), rowSize: num(j.rowSize, 1),
    rows: Array.isArray(j.rows) ? j.rows.map((r: any) => ({ price: num(r.price), volume: num(r.volume), buy: num(r.buy ?? r.ask), sell: num(r.sell ?? r.bid) })) : [],
    poc: numOrNull(j.poc), vah: numOrNull(j.vah), val: numOrNull(j.val),
    hvn: Array.isArray(j.hvn) ? j.hvn.map((n: any) => ({ low: num(n.low), high: num(n.high), peak: num(n.peak) })) : [],
    lvn: Array.isArray(j.lvn) ? j.lvn.map((n: any) => ({ low: num(n.low), high: num(n.high), peak: num(n.peak) })) : [],
    nakedPocs: Array.isArray(j.nakedPocs) ? j.nakedPocs.filter((n: any) => n.price !== null).map((n: any) => ({ price: num(n.price), time: num(n.time), end: numOrNull(n.end) })) : [],
  };
}

/** Row index on the global grid of a lower-edge price. */
export const rowIndex = (price: number, rowSize: number): number => Math.round(price / rowSize);

/** POC (max volume; tie: closest to the centre, then lower) and value area by single-row expansion (tie: higher). */
export function valueAreaOf(vol: ArrayLike<number>, n: number, pct: number): { poc: number; val: number; vah: number; total: number } {
  let total = 0, poc = -1, best = -1;
  const mid = (n - 1) / 2;
  for (let i = 0; i < n; i++) {
    const v = vol[i];
    total += v;
    if (v > best || (v === best && Math.abs(i - mid) < Math.abs(poc - mid))) { best = v; poc = i; }
  }
  if (total <= 0) return { poc: -1, val: -1, vah: -1, total: 0 };
  let lo = poc, hi = poc, acc = vol[poc];
  const target = total * pct;
  while (acc < target && (lo > 0 || hi < n - 1)) {
    const up = hi < n - 1 ? vol[hi + 1] : -1;
    const dn = lo > 0 ? vol[lo - 1] : -1;
    if (up >= dn) { hi++; acc += up; } else { lo--; acc += dn; }
  }
  return { poc, val: lo, vah: hi, total };
}

function isImb(dom: number, weak: number, o: PrepareOptions): boolean {
  if (dom <= 0 || dom < o.imbalanceMinVolume) return false;
  return weak === 0 ? true : dom >= o.imbalanceRatio * weak;
}

export function prepareBar(d: FootprintBarData, opts: Partial<PrepareOptions> = {}): PreparedBar {
  const o = { ...DEFAULT_PREPARE, ...opts };
  const rs = d.rowSize > 0 ? d.rowSize : 1;
  let lo = Infinity, hi = -Infinity;
  for (const r of d.rows) { const k = rowIndex(r.price, rs); if (k < lo) lo = k; if (k > hi) hi = k; }
  const n = d.rows.length ? hi - lo + 1 : 0;
  const bid = new Float64Array(n), ask = new Float64Array(n), imb = new Uint8Array(n), tot = new Float64Array(n);
  // the server's flags (exact, on integer lots, with its own options) when every row carries them
  const given = d.rows.length > 0 && d.rows.every((r) => r.imbalance !== undefined);
  for (const r of d.rows) { const k = rowIndex(r.price, rs) - lo; bid[k] += r.bid; ask[k] += r.ask; if (given) imb[k] |= r.imbalance! & 3; }
  let maxCell = 0, maxRow = 0, maxDelta = 0;
  for (let i = 0; i < n; i++) {
    tot[i] = bid[i] + ask[i];
    if (bid[i] > maxCell) maxCell = bid[i];
    if (ask[i] > maxCell) maxCell = ask[i];
    if (tot[i] > maxRow) maxRow = tot[i];
    const dd = Math.abs(ask[i] - bid[i]);
    if (dd > maxDelta) maxDelta = dd;
    const diag = o.compare === 'diagonal';
    const bidBelow = diag ? (i > 0 ? bid[i - 1] : 0) : bid[i];
    const askAbove = diag ? (i + 1 < n ? ask[i + 1] : 0) : ask[i];
    if (given) continue;
    if (isImb(ask[i], bidBelow, o)) imb[i] |= 1;
    if (isImb(bid[i], askAbove, o)) imb[i] |= 2;
  }
  const va = valueAreaOf(tot, n, o.valueArea);
  const dense = (p: number | null | undefined, def: number): number => (p === null || p === undefined || !n ? def : Math.min(n - 1, Math.max(0, rowIndex(p, rs) - lo)));
  return {
    data: d, row0: n ? lo : 0, n, bid, ask, imb,
    poc: dense(d.poc, va.poc), vah: dense(d.vah, va.vah), val: dense(d.val, va.val),
    maxCell, maxRow, maxDelta,
    unfinishedHigh: n > 0 && bid[n - 1] > 0 && ask[n - 1] > 0,
    unfinishedLow: n > 0 && bid[0] > 0 && ask[0] > 0,
  };
}

/** Stacked-imbalance runs of one prepared bar as price zones. */
export function stackedZones(p: PreparedBar, index: number, minRows: number): StackedZone[] {
  const out: StackedZone[] = [];
  const rs = p.data.rowSize;
  for (const [bit, side] of [[1, 'buy'], [2, 'sell']] as const) {
    let s = -1;
    for (let i = 0; i <= p.n; i++) {
      if (i < p.n && p.imb[i] & bit) { if (s < 0) s = i; continue; }
      if (s >= 0 && i - s >= minRows) out.push({ side, low: (p.row0 + s) * rs, high: (p.row0 + i) * rs, from: index, to: -1 });
      s = -1;
    }
  }
  return out;
}

export interface PreparedSeries {
  bars: PreparedBar[];
  zones: StackedZone[];
  /** largest |bar delta| and bar volume over the series (for the under-bar colouring) */
  maxBarVolume: number;
  maxBarDelta: number;
}

/**
 * Prepare a whole series (O(bars × rows) plus zone tracking). Zones start at the bar after the one
 * that created them and end at the first later bar whose [low, high + rowSize) overlaps them.
 */
export function prepareSeries(bars: readonly FootprintBarData[], opts: Partial<PrepareOptions> = {}): PreparedSeries {
  const o = { ...DEFAULT_PREPARE, ...opts };
  const out: PreparedBar[] = new Array(bars.length);
  const zones: StackedZone[] = [];
  let open: StackedZone[] = [];
  let maxBarVolume = 0, maxBarDelta = 0;
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i];
    const p = prepareBar(b, o);
    out[i] = p;
    if (b.volume > maxBarVolume) maxBarVolume = b.volume;
    if (Math.abs(b.delta) > maxBarDelta) maxBarDelta = Math.abs(b.delta);
    if (open.length && p.n) {
      const lo = b.low, hi = b.high + b.rowSize * 0.5;
      open = open.filter((z) => { if (hi > z.low && lo < z.high) { z.to = i; return false; } return true; });
    }
    for (const z of stackedZones(p, i, o.stackedMinRows)) { zones.push(z); open.push(z); }
  }
  return { bars: out, zones, maxBarVolume, maxBarDelta };
}

export function profileFromBars(bars: readonly PreparedBar[], from = 0, to = bars.length, valueArea = 0.7): ProfileData | null {
  // the newest bar's row size; rows span only the bars on that grid (the only ones summed below): a range
  // mixing row sizes (bars of another size before a live bar) spanned both grids' row indexes, up to ~10^6 rows
  let rs = 0, lo = Infinity, hi = -Infinity;
  for (let i = Math.min(to, bars.length) - 1; i >= Math.max(0, from); i--) if (bars[i].n) { rs = bars[i].data.rowSize; break; }
  for (let i = Math.max(0, from); i < Math.min(to, bars.length); i++) {
    const b = bars[i];
    if (!b.n || b.data.rowSize !== rs) continue;
    if (b.row0 < lo) lo = b.row0;
    if (b.row0 + b.n - 1 > hi) hi = b.row0 + b.n - 1;
  }
  if (!rs || hi < lo) return null;
  const n = hi - lo + 1;
  const buy = new Float64Array(n), sell = new Float64Array(n), vol = new Float64Array(n);
  for (let i = Math.max(0, from); i < Math.min(to, bars.length); i++) {
    const b = bars[i];
    if (!b.n || b.data.rowSize !== rs) continue;
    const d = b.row0 - lo;
    for (let k = 0; k < b.n; k++) { buy[d + k] += b.ask[k]; sell[d + k] += b.bid[k]; vol[d + k] += b.ask[k] + b.bid[k]; }
  }
  const va = valueAreaOf(vol, n, valueArea);
  const rows = [];
  for (let k = 0; k < n; k++) if (vol[k] > 0) rows.push({ price: (lo + k) * rs, volume: vol[k], buy: buy[k], sell: sell[k] });
  return {
    start: bars[Math.max(0, from)]?.data.time ?? null, end: bars[Math.min(to, bars.length) - 1]?.data.time ?? null,
    rowSize: rs, rows, poc: (lo + va.poc) * rs, vah: (lo + va.vah) * rs, val: (lo + va.val) * rs,
    hvn: [], lvn: [],
  };
}

/** Coarser rows: merge k consecutive grid rows (k ≥ 1) into one of k × rowSize (POC/VA recomputed). */
export function mergeRows(b: FootprintBarData, k: number): FootprintBarData {
  if (!(k > 1)) return b;
  const rs = b.rowSize * k;
  const m = new Map<number, { price: number; bid: number; ask: number }>();
  for (const r of b.rows) {
    const idx = Math.floor(rowIndex(r.price, b.rowSize) / k);
    let x = m.get(idx);
    if (!x) { x = { price: idx * rs, bid: 0, ask: 0 }; m.set(idx, x); }
    x.bid += r.bid; x.ask += r.ask;
  }
  return { ...b, rowSize: rs, rows: [...m.values()].sort((a, c) => a.price - c.price), poc: null, vah: null, val: null };
}
