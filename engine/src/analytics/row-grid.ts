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

/** The read view a RowGrid and a SealedRows (sealed-rows.ts) share (what bar readers may use). */
export interface GridView {
  readonly base: number;
  readonly length: number;
  readonly empty: boolean;
  readonly lowRow: number;
  readonly highRow: number;
  /** dense columns indexed by row offset (0 = base), COL_* order: read-only for a SealedRows (sealed-rows.ts) */
  readonly cols: Float64Array[];
  totals(out?: Float64Array): Float64Array;
  volumeAt(off: number): number;
  dropViews(): void;
}


export class RowGrid implements GridView {
  /** row index of cols[*][0] (the lowest row in use) */
  base = 0;
  /** number of rows in use (from base) */
  length = 0;
  /** backing index of row `base` within each column */
  private lo = 0;
  private cap: number;
  /**
   * All six columns in one allocation, column c at [c·cap, (c+1)·cap): one allocation per grid
   * (a closed bar's copy is one typed array, not six) and one field load per trade.
   */
  private buf: Float64Array;
  /** views starting at row `base`, rebuilt lazily after the range moves down or reallocates */
  private views: Float64Array[] | null = null;

  /** `backing`: zeroed storage of at least initialCap × GRID_COLUMNS values to use instead of a new array */
  constructor(initialCap = 16, backing?: Float64Array) {
    this.cap = Math.max(1, initialCap);
    this.buf = backing ?? new Float64Array(this.cap * GRID_COLUMNS);
  }

  /**
   * Columns indexed by row offset (0 = `base`, valid below `length`), in COL_* order. Writes go to
   * the grid. The array is rebuilt when the range moves down or grows: do not keep it across adds.
   */
  get cols(): Float64Array[] {
    let v = this.views;
    if (v === null) {
      v = new Array(GRID_COLUMNS);
      for (let c = 0; c < GRID_COLUMNS; c++) v[c] = this.buf.subarray(c * this.cap + this.lo, (c + 1) * this.cap);
      this.views = v;
    }
    return v;
  }

  /** Forget the cached column views (rebuilt by the next `cols`): a held closed bar need not carry them. */
  dropViews(): void { this.views = null; }

  get empty(): boolean { return this.length === 0; }
  /** lowest and highest row indices in use */
  get lowRow(): number { return this.base; }
  get highRow(): number { return this.base + this.length - 1; }
  /** rows allocated (used + free headroom) */
  get capacity(): number { return this.cap; }
  /** the backing columns (column c, row offset i at c·capacity + backingOffset + i): for sealing without views */
  get backing(): Float64Array { return this.buf; }
  get backingOffset(): number { return this.lo; }

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
    this.move(cap, ((cap - newLength) >> 1) + (this.base - newBase));
    this.lo = (cap - newLength) >> 1;
  }

  /** Copy the used rows into fresh columns of `cap` rows, row `base` landing at index `at`. */
  private move(cap: number, at: number): void {
    const old = this.buf, oc = this.cap, lo = this.lo, n = this.length;
    const nu = new Float64Array(cap * GRID_COLUMNS);
    for (let c = 0; c < GRID_COLUMNS; c++) nu.set(old.subarray(c * oc + lo, c * oc + lo + n), c * cap + at);
    this.buf = nu;
    this.cap = cap;
    this.views = null;
  }

  /** Add volume for one trade; sign: 1 buy (ask), -1 sell (bid), 0 unknown. */
  add(row: number, size: number, sign: number): void {
    let o = row - this.base;
    if (o < 0 || o >= this.length) o = this.ensure(row);
    const k = this.lo + o, cap = this.cap, b = this.buf;
    if (sign > 0) { b[cap * COL_ASK_VOL + k] += size; b[cap * COL_ASK_CNT + k] += 1; }
    else if (sign < 0) { b[k] += size; b[cap * COL_BID_CNT + k] += 1; }
    else { b[cap * COL_UNK_VOL + k] += size; b[cap * COL_UNK_CNT + k] += 1; }
  }

  /** Merge another grid into this one (composite profiles, per-bar → range). */
  merge(other: GridView): void {
    if (other.length === 0) return;
    // sealed (compact) rows add themselves without building dense columns
    const sealed = other as GridView & { addInto?: (g: RowGrid) => void };
    if (sealed.addInto !== undefined) { sealed.addInto(this); return; }
    this.ensure(other.lowRow);
    this.ensure(other.highRow);
    const d = this.lo + other.base - this.base;
    const src = other.cols, n = other.length, b = this.buf, cap = this.cap;
    for (let c = 0; c < GRID_COLUMNS; c++) {
      const s = src[c], o = c * cap + d;
      for (let i = 0; i < n; i++) b[o + i] += s[i];
    }
  }

  /** Total volume of a row offset (bid + ask + unknown). */
  volumeAt(off: number): number {
    const k = this.lo + off, cap = this.cap, b = this.buf;
    return b[k] + b[cap * COL_ASK_VOL + k] + b[cap * COL_UNK_VOL + k];
  }

  /** Fills `out` (length >= this.length) with total volume per row; returns out. */
  totals(out: Float64Array = new Float64Array(this.length)): Float64Array {
    const b = this.buf, lo = this.lo, a = this.cap * COL_ASK_VOL + lo, u = this.cap * COL_UNK_VOL + lo;
    for (let i = 0; i < this.length; i++) out[i] = b[lo + i] + b[a + i] + b[u + i];
    return out;
  }

  /** Drop the free rows (a closed bar no longer grows): columns shrink to exactly `length`. */
  compact(): void {
    const cap = Math.max(1, this.length);
    if (this.cap === cap) return;
    this.move(cap, 0);
    this.lo = 0;
  }

  /** An exact-size copy (no free rows), its storage taken from `arena` when given. */
  clone(arena?: GridArena): RowGrid {
    const n0 = Math.max(1, this.length);
    const g = new RowGrid(n0, arena?.take(n0 * GRID_COLUMNS));
    if (this.length === 0) return g;
    g.base = this.base;
    g.length = this.length;
    const cap = this.cap, lo = this.lo, n = this.length, gc = g.cap;
    for (let c = 0; c < GRID_COLUMNS; c++) g.buf.set(this.buf.subarray(c * cap + lo, c * cap + lo + n), c * gc);
    return g;
  }

  clear(): void {
    const cap = this.cap, lo = this.lo, n = this.length;
    for (let c = 0; c < GRID_COLUMNS; c++) this.buf.fill(0, c * cap + lo, c * cap + lo + n);
    this.length = 0;
    this.base = 0;
  }
}

/**
 * Storage for sealed (closed) grids, carved from slabs: one small view per bar instead of one
 * allocation each. A slab is freed by the GC once no bar in it is referenced; bars are dropped
 * oldest first, so slabs drain in order, and an instrument holds at most about one slab beyond its
 * bars (keep slabs small: 30 instruments × one slab is what memory carries beyond the budget). A
 * request over a quarter of a slab gets its own array.
 */
export class GridArena {
  private slab = new Float64Array(0);
  private used = 0;

  constructor(private readonly slabValues = 131_072) {}

  /** `n` zeroed values. */
  take(n: number): Float64Array {
    if (n * 4 > this.slabValues) return new Float64Array(n);
    if (this.used + n > this.slab.length) {
      this.slab = new Float64Array(Math.max(this.slabValues, n));
      this.used = 0;
    }
    const v = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return v;
  }
}
