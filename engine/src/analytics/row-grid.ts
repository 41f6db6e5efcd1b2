/**
 * Dense per-row accumulators on a global row grid (row = floor(priceTicks / rowTicks), keyed by the
 * row's lower edge). Columns are Float64Arrays that grow in both directions, so adding a trade to
 * an existing row allocates nothing. Empty rows inside the range stay in the model (zeros); views
 * decide whether to hide them.
 */

export const COL_BID_VOL = 0; // volume of sell-aggressor trades (hit the bid)
export const COL_ASK_VOL = 1; // volume of buy-aggressor trades (lifted the ask)
export const COL_BID_CNT = 2;
export const COL_ASK_CNT = 3;
export const COL_UNK_VOL = 4; // volume whose side is unknown
export const COL_UNK_CNT = 5;
export const GRID_COLUMNS = 6;

export class RowGrid {
  /** row index of cols[*][0] */
  base = 0;
  /** number of rows in use (from base) */
  length = 0;
  private cap: number;
  cols: Float64Array[];

  constructor(initialCap = 16) {
    this.cap = initialCap;
    this.cols = Array.from({ length: GRID_COLUMNS }, () => new Float64Array(initialCap));
  }

  get empty(): boolean { return this.length === 0; }
  /** lowest and highest row indices in use */
  get lowRow(): number { return this.base; }
  get highRow(): number { return this.base + this.length - 1; }

  /** Offset of `row` in the columns, growing the grid as needed. */
  ensure(row: number): number {
    if (this.length === 0) {
      this.base = row;
      this.length = 1;
      return 0;
    }
    let off = row - this.base;
    if (off >= 0 && off < this.length) return off;
    if (off >= this.length) {
      const need = off + 1;
      if (need > this.cap) this.realloc(need, 0);
      this.length = need;
      return off;
    }
    // grow downwards: shift existing rows up by -off
    const shift = -off;
    const need = this.length + shift;
    this.realloc(Math.max(need, this.cap), shift);
    this.base = row;
    this.length = need;
    off = 0;
    return off;
  }

  private realloc(minCap: number, shift: number): void {
    let cap = this.cap;
    while (cap < minCap) cap *= 2;
    for (let c = 0; c < GRID_COLUMNS; c++) {
      const old = this.cols[c];
      const nu = new Float64Array(cap);
      nu.set(old.subarray(0, this.length), shift);
      this.cols[c] = nu;
    }
    this.cap = cap;
  }

  /** Add volume for one trade; sign: 1 buy (ask), -1 sell (bid), 0 unknown. */
  add(row: number, size: number, sign: number): void {
    const o = this.ensure(row);
    if (sign > 0) { this.cols[COL_ASK_VOL][o] += size; this.cols[COL_ASK_CNT][o] += 1; }
    else if (sign < 0) { this.cols[COL_BID_VOL][o] += size; this.cols[COL_BID_CNT][o] += 1; }
    else { this.cols[COL_UNK_VOL][o] += size; this.cols[COL_UNK_CNT][o] += 1; }
  }

  /** Merge another grid into this one (composite profiles, per-bar → range). */
  merge(other: RowGrid): void {
    if (other.length === 0) return;
    this.ensure(other.lowRow);
    this.ensure(other.highRow);
    const d = other.base - this.base;
    for (let c = 0; c < GRID_COLUMNS; c++) {
      const dst = this.cols[c], src = other.cols[c];
      for (let i = 0; i < other.length; i++) dst[d + i] += src[i];
    }
  }

  /** Total volume of a row offset (bid + ask + unknown). */
  volumeAt(off: number): number {
    return this.cols[COL_BID_VOL][off] + this.cols[COL_ASK_VOL][off] + this.cols[COL_UNK_VOL][off];
  }

  /** Fills `out` (length >= this.length) with total volume per row; returns out. */
  totals(out: Float64Array = new Float64Array(this.length)): Float64Array {
    const b = this.cols[COL_BID_VOL], a = this.cols[COL_ASK_VOL], u = this.cols[COL_UNK_VOL];
    for (let i = 0; i < this.length; i++) out[i] = b[i] + a[i] + u[i];
    return out;
  }

  clone(): RowGrid {
    const g = new RowGrid(Math.max(1, this.length));
    g.base = this.base;
    g.length = this.length;
    for (let c = 0; c < GRID_COLUMNS; c++) g.cols[c].set(this.cols[c].subarray(0, this.length));
    return g;
  }

  clear(): void {
    for (let c = 0; c < GRID_COLUMNS; c++) this.cols[c].fill(0, 0, this.length);
    this.length = 0;
    this.base = 0;
  }
}
