/**
 * UDF /history at the base timeframe, answered from text encoded once per bar. A closed bar never
 * changes, so each instrument keeps its in-memory closed bars' UDF values (t, o, h, l, c, v) as JSON
 * number text in six growing byte columns with per-bar offsets. An uncached answer over N bars is
 * then two binary searches and six slice copies instead of N × 6 number formats and a
 * JSON.stringify — the work is bounded by the bytes returned, not by formatting.
 *
 * The columns follow `pipeline.bars` lazily (synced on each query): bars appended since the last
 * query are encoded, bars dropped from memory are trimmed from the front, and anything else (bars
 * restored in front after a restart) rebuilds them. Only answers the in-memory bars fully decide
 * take this path; everything else (stored bars, other resolutions, caps, empty answers) goes through
 * the general bars.ts walk, which gives the same answer.
 */
import type { ClosedBar } from '../../../engine/src/analytics/pipeline.js';
import type { FootprintBar } from '../../../engine/src/analytics/footprint.js';
import type { Instrument } from '../../../engine/src/core/instruments.js';

const COLS = 6;
const NAMES = ['t', 'o', 'h', 'l', 'c', 'v'];

/** JSON.stringify's text for a number (finite numbers print as String does; others as null). */
function num(x: number): string { return Number.isFinite(x) ? String(x) : 'null'; }

function values(i: Instrument, b: FootprintBar): string[] {
  const px = (x: number): string => num(i.price.toNumber(x));
  return [num(Math.floor(b.start / 1000)), px(b.open), px(b.high), px(b.low), px(b.close), num(i.qty.toNumber(b.volume))];
}

export class UdfColumns {
  private n = 0;
  /** entries before `first` belong to bars no longer in memory */
  private first = 0;
  private starts = new Float64Array(1024);
  /** offs[c][k]: byte offset of entry k in column c; each entry is its text plus ',' */
  private offs: Uint32Array[] = Array.from({ length: COLS }, () => new Uint32Array(1025));
  private bufs: Buffer[] = Array.from({ length: COLS }, () => Buffer.allocUnsafe(16_384));

  constructor(private readonly inst: Instrument) {}

  get size(): number { return this.n - this.first; }

  /** Make the live entries equal `bars` (ascending, closed). */
  sync(bars: readonly ClosedBar[]): void {
    if (bars.length === 0 || this.n === this.first) this.reset();
    if (bars.length === 0) return;
    const lastStart = this.n > this.first ? this.starts[this.n - 1] : NaN;
    let from = 0;
    if (this.n > this.first) {
      const j = findStart(bars, lastStart);
      // the newest entry must still be a bar, and nothing may have appeared before our oldest entry
      if (j < 0 || bars[0].bar.start < this.starts[this.first]) { this.reset(); }
      else from = j + 1;
    }
    for (let k = from; k < bars.length; k++) this.append(bars[k].bar);
    // drop entries of bars no longer in memory
    const f = lowerBound(this.starts, this.first, this.n, bars[0].bar.start);
    this.first = f;
    if (this.first >= 256 && this.first * 2 > this.n) this.trim();
  }

  /** Index range [a, b) of live entries with from <= start < to (ms). */
  range(from: number, to: number): [number, number] {
    return [lowerBound(this.starts, this.first, this.n, from), lowerBound(this.starts, this.first, this.n, to)];
  }

  /** Live entries [first, b) count below index b. */
  liveBefore(b: number): number { return b - this.first; }

  /**
   * The UDF body for entries [a, b) followed by `extra` (the open bar), as bytes. a < b or extra.
   */
  body(a: number, b: number, extra: FootprintBar | null): Buffer {
    const parts: Buffer[] = [];
    const ex = extra ? values(this.inst, extra) : null;
    for (let c = 0; c < COLS; c++) {
      parts.push(Buffer.from(c === 0 ? `{"s":"ok","${NAMES[c]}":[` : `],"${NAMES[c]}":[`, 'latin1'));
      const o = this.offs[c];
      if (b > a) parts.push(this.bufs[c].subarray(o[a], o[b] - (ex ? 0 : 1)));
      if (ex) parts.push(Buffer.from(ex[c], 'latin1'));
    }
    parts.push(Buffer.from(']}', 'latin1'));
    return Buffer.concat(parts);
  }

  /** Absolute index of the first live entry. */
  get firstIndex(): number { return this.first; }

  private append(b: FootprintBar): void {
    if (this.n + 1 >= this.starts.length) this.growIndex();
    const v = values(this.inst, b);
    const n = this.n;
    this.starts[n] = b.start;
    for (let c = 0; c < COLS; c++) {
      const o = this.offs[c], at = o[n], s = v[c];
      const need = at + s.length + 1;
      if (need > this.bufs[c].length) {
        const nb = Buffer.allocUnsafe(Math.max(need, this.bufs[c].length * 2));
        this.bufs[c].copy(nb, 0, 0, at);
        this.bufs[c] = nb;
      }
      const w = this.bufs[c].write(s, at, 'latin1');
      this.bufs[c][at + w] = 0x2c; // ','
      o[n + 1] = at + w + 1;
    }
    this.n = n + 1;
  }

  private growIndex(): void {
    const cap = this.starts.length * 2;
    const s = new Float64Array(cap);
    s.set(this.starts.subarray(0, this.n));
    this.starts = s;
    this.offs = this.offs.map((o) => { const x = new Uint32Array(cap + 1); x.set(o.subarray(0, this.n + 1)); return x; });
  }

  /** Move the live entries to the front of every column. */
  private trim(): void {
    const f = this.first, n = this.n;
    this.starts.copyWithin(0, f, n);
    for (let c = 0; c < COLS; c++) {
      const o = this.offs[c], base = o[f];
      this.bufs[c].copy(this.bufs[c], 0, base, o[n]);
      for (let k = f; k <= n; k++) o[k - f] = o[k] - base;
    }
    this.n = n - f;
    this.first = 0;
  }

  private reset(): void {
    this.n = 0;
    this.first = 0;
    for (const o of this.offs) o[0] = 0;
  }
}

/** First index in [lo, hi) with xs[index] >= x (hi when none). */
function lowerBound(xs: Float64Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (xs[m] < x) lo = m + 1; else hi = m;
  }
  return lo;
}

/** Index of the bar starting at `start` (bars ascending), or −1. */
function findStart(bars: readonly ClosedBar[], start: number): number {
  let lo = 0, hi = bars.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (bars[m].bar.start < start) lo = m + 1; else hi = m;
  }
  return lo < bars.length && bars[lo].bar.start === start ? lo : -1;
}

const perService = new WeakMap<object, Map<string, UdfColumns>>();

/** The columns of one instrument for one service (created on first use). */
export function udfColumns(owner: object, inst: Instrument): UdfColumns {
  let m = perService.get(owner);
  if (!m) { m = new Map(); perService.set(owner, m); }
  let c = m.get(inst.id);
  if (!c) { c = new UdfColumns(inst); m.set(inst.id, c); }
  return c;
}
