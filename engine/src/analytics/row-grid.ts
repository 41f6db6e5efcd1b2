/**
 * Dense per-row accumulators on a global row grid (row = floor(priceTicks / rowTicks), keyed by the
 * row's lower edge). Columns are Float64Arrays with free rows on both sides of the used range, so a
 * new high or a new low moves an offset instead of copying: the backing columns are reallocated
 * (doubling, data re-centred) only when one side runs out, which keeps growth amortised O(1) per row
 * in falling markets as in rising ones. Empty rows inside the range stay in the model (zeros);
 * views decide whether to hide them.
 *
 * Invariant: every backing entry outside the used range is 0, so extending the range never has to
 * clear anything.
 */

export const COL_BID_VOL = 0; // volume of sell-aggressor trades (hit the bid)
export const COL_ASK_VOL = 1; // volume of buy-aggressor trades (lifted the ask)
export const COL_BID_CNT = 2;
export const COL_ASK_CNT = 3;
export const COL_UNK_VOL = 4; // volume whose side is unknown
export const COL_UNK_CNT = 5;
export const GRID_COLUMNS = 6;

export class RowGrid {
  /** row index of cols[*][0] (the lowest row in use) */
  base = 0;
  /** number of rows in use (from base) */
  length = 0;
  /** backing index of row `base` */
  private lo = 0;
  private cap: number;
  // backing columns, one field each so the per-trade path has no array-of-arrays lookup
  private bidVol: Float64Array;
  private askVol: Float64Array;
  private bidCnt: Float64Array;
  private askCnt: Float64Array;
  private unkVol: Float64Array;
  private unkCnt: Float64Array;
  /** views starting at row `base`, rebuilt lazily after the range moves down or reallocates */
  private views: Float64Array[] | null = null;

  constructor(initialCap = 16) {
    this.cap = Math.max(1, initialCap);
    this.bidVol = new Float64Array(this.cap);
    this.askVol = new Float64Array(this.cap);
    this.bidCnt = new Float64Array(this.cap);
    this.askCnt = new Float64Array(this.cap);
    this.unkVol = new Float64Array(this.cap);
    this.unkCnt = new Float64Array(this.cap);
  }

  /**
   * Columns indexed by row offset (0 = `base`, valid below `length`), in COL_* order. Writes go to
   * the grid. The array is rebuilt when the range moves down or grows: do not keep it across adds.
   */
  get cols(): Float64Array[] {
    let v = this.views;
    if (v === null) {
      const lo = this.lo;
      v = [this.bidVol.subarray(lo), this.askVol.subarray(lo), this.bidCnt.subarray(lo), this.askCnt.subarray(lo), this.unkVol.subarray(lo), this.unkCnt.subarray(lo)];
      this.views = v;
    }
    return v;
  }

  get empty(): boolean { return this.length === 0; }
  /** lowest and highest row indices in use */
  get lowRow(): number { return this.base; }
  get highRow(): number { return this.base + this.length - 1; }
  /** rows allocated (used + free headroom) */
  get capacity(): number { return this.cap; }

  /** Offset of `row` in the columns, growing the grid as needed. */
  ensure(row: number): number {
    const off = row - this.base;
    if (off >= 0 && off < this.length) return off;
    if (this.length === 0) {
      this.base = row;
      this.length = 1;
      this.lo = (this.cap - 1) >> 1;
      this.views = null;
      return 0;
    }
    if (off >= this.length) {
      const need = off + 1;
      if (this.lo + need > this.cap) this.relayout(this.base, need);
      this.length = need;
      return off;
    }
    // new low: use the free rows below when there are enough, else re-centre in larger columns
    const shift = -off;
    if (shift <= this.lo) {
      this.lo -= shift;
      this.views = null;
    } else {
      this.relayout(row, this.length + shift);
    }
    this.base = row;
    this.length += shift;
    return 0;
  }

  /** Reallocate so rows [newBase, newBase + newLength) fit with free rows on both sides. */
  private relayout(newBase: number, newLength: number): void {
    let cap = this.cap;
    while (cap < newLength * 2) cap *= 2;
    const lo = (cap - newLength) >> 1;
    const at = lo + (this.base - newBase);
    const from = this.lo, to = this.lo + this.length;
    this.bidVol = moved(this.bidVol, cap, from, to, at);
    this.askVol = moved(this.askVol, cap, from, to, at);
    this.bidCnt = moved(this.bidCnt, cap, from, to, at);
    this.askCnt = moved(this.askCnt, cap, from, to, at);
    this.unkVol = moved(this.unkVol, cap, from, to, at);
    this.unkCnt = moved(this.unkCnt, cap, from, to, at);
    this.cap = cap;
    this.lo = lo;
    this.views = null;
  }

  /** Add volume for one trade; sign: 1 buy (ask), -1 sell (bid), 0 unknown. */
  add(row: number, size: number, sign: number): void {
    let o = row - this.base;
    if (o < 0 || o >= this.length) o = this.ensure(row);
    const k = this.lo + o;
    if (sign > 0) { this.askVol[k] += size; this.askCnt[k] += 1; }
    else if (sign < 0) { this.bidVol[k] += size; this.bidCnt[k] += 1; }
    else { this.unkVol[k] += size; this.unkCnt[k] += 1; }
  }

  /** Merge another grid into this one (composite profiles, per-bar → range). */
  merge(other: RowGrid): void {
    if (other.length === 0) return;
    this.ensure(other.lowRow);
    this.ensure(other.highRow);
    const d = this.lo + other.base - this.base;
    const src = other.cols, n = other.length;
    const dst = [this.bidVol, this.askVol, this.bidCnt, this.askCnt, this.unkVol, this.unkCnt];
    for (let c = 0; c < GRID_COLUMNS; c++) {
      const a = dst[c], b = src[c];
      for (let i = 0; i < n; i++) a[d + i] += b[i];
    }
  }

  /** Total volume of a row offset (bid + ask + unknown). */
  volumeAt(off: number): number {
    const k = this.lo + off;
    return this.bidVol[k] + this.askVol[k] + this.unkVol[k];
  }

  /** Fills `out` (length >= this.length) with total volume per row; returns out. */
  totals(out: Float64Array = new Float64Array(this.length)): Float64Array {
    const b = this.bidVol, a = this.askVol, u = this.unkVol, lo = this.lo;
    for (let i = 0; i < this.length; i++) out[i] = b[lo + i] + a[lo + i] + u[lo + i];
    return out;
  }

  /** Drop the free rows (a closed bar no longer grows): columns shrink to exactly `length`. */
  compact(): void {
    if (this.cap === Math.max(1, this.length)) return;
    const cap = Math.max(1, this.length), from = this.lo, to = this.lo + this.length;
    this.bidVol = moved(this.bidVol, cap, from, to, 0);
    this.askVol = moved(this.askVol, cap, from, to, 0);
    this.bidCnt = moved(this.bidCnt, cap, from, to, 0);
    this.askCnt = moved(this.askCnt, cap, from, to, 0);
    this.unkVol = moved(this.unkVol, cap, from, to, 0);
    this.unkCnt = moved(this.unkCnt, cap, from, to, 0);
    this.cap = cap;
    this.lo = 0;
    this.views = null;
  }

  clone(): RowGrid {
    const g = new RowGrid(Math.max(1, this.length));
    if (this.length === 0) return g;
    g.base = this.base;
    g.length = this.length;
    g.lo = 0;
    const src = this.cols, dst = g.cols;
    for (let c = 0; c < GRID_COLUMNS; c++) dst[c].set(src[c].subarray(0, this.length));
    return g;
  }

  clear(): void {
    const lo = this.lo, hi = this.lo + this.length;
    this.bidVol.fill(0, lo, hi); this.askVol.fill(0, lo, hi); this.bidCnt.fill(0, lo, hi);
    this.askCnt.fill(0, lo, hi); this.unkVol.fill(0, lo, hi); this.unkCnt.fill(0, lo, hi);
    this.length = 0;
    this.base = 0;
  }
}

/** A zeroed column of `cap` holding old[from, to) at index `at`. */
function moved(old: Float64Array, cap: number, from: number, to: number, at: number): Float64Array {
  const nu = new Float64Array(cap);
  nu.set(old.subarray(from, to), at);
  return nu;
}
