/**
 * A closed bar's rows, read-only and compact. At 1-tick rows most of a bar's price range holds no
 * trade, so the rows are kept sparse (the offsets of the rows that traded, then their values), or
 * dense when that is smaller (coarse rows, where nearly every row trades); the two unknown-side
 * columns are left out when they are all zero (every venue that flags the aggressor). One Float64Array
 * per bar (carved from a GridArena when given); values are exact copies.
 *
 * Readers use the same view as a RowGrid (`base`, `length`, `cols`, `totals`, `volumeAt`): `cols`
 * builds the six dense columns on demand and keeps them only while few are built (a byte-bounded
 * cache across all sealed rows), so a query that reads many held bars does not re-inflate them all.
 */
import { GRID_COLUMNS, COL_ASK_VOL, COL_UNK_VOL, type GridArena, type GridView, type RowGrid } from './row-grid.js';

export type { GridView };

/** Bytes of built dense columns kept across all sealed rows before the oldest are forgotten. */
const VIEW_CACHE_BYTES = 8 << 20;
const viewCache: SealedRows[] = [];
let viewCacheBytes = 0;

export class SealedRows implements GridView {
  readonly base: number;
  readonly length: number;
  /** rows stored: the rows with a non-zero column when sparse, `length` when dense */
  readonly count: number;
  /** columns stored: 4 (bid/ask volume and count) or 6 (with the unknown side) */
  readonly ncols: number;
  readonly sparse: boolean;
  /** sparse: `count` row offsets, then `ncols` columns of `count` values; dense: `ncols` columns of `length` */
  private readonly data: Float64Array;
  private views: Float64Array[] | null = null;

  private constructor(base: number, length: number, count: number, ncols: number, sparse: boolean, data: Float64Array) {
    this.base = base; this.length = length; this.count = count; this.ncols = ncols; this.sparse = sparse; this.data = data;
  }

  /** An exact compact copy of a working grid's rows (the grid is not changed). */
  static from(g: RowGrid, arena?: GridArena): SealedRows {
    const n = g.length;
    if (n === 0) return new SealedRows(0, 0, 0, 4, false, EMPTY);
    return SealedRows.fromBacking(g.base, n, g.backing, g.backingOffset, g.capacity, arena);
  }

  /** reads the backing columns directly (once per bar close: keep it cheap) */
  private static fromBacking(base: number, n: number, b: Float64Array, lo: number, cap: number, arena?: GridArena): SealedRows {
    const o1 = cap + lo, o2 = 2 * cap + lo, o3 = 3 * cap + lo, o4 = 4 * cap + lo, o5 = 5 * cap + lo;
    let k = 0, unk = false;
    for (let i = 0; i < n; i++) {
      if (b[o4 + i] !== 0 || b[o5 + i] !== 0) { unk = true; k++; }
      else if (b[lo + i] !== 0 || b[o1 + i] !== 0 || b[o2 + i] !== 0 || b[o3 + i] !== 0) k++;
    }
    const nc = unk ? GRID_COLUMNS : 4;
    const sparse = k * (nc + 1) < n * nc;
    const size = sparse ? k * (nc + 1) : n * nc;
    const data = arena ? arena.take(size) : new Float64Array(size);
    if (sparse) {
      let j = 0;
      for (let i = 0; i < n; i++) {
        const v0 = b[lo + i], v1 = b[o1 + i], v2 = b[o2 + i], v3 = b[o3 + i];
        const v4 = unk ? b[o4 + i] : 0, v5 = unk ? b[o5 + i] : 0;
        if (v0 === 0 && v1 === 0 && v2 === 0 && v3 === 0 && v4 === 0 && v5 === 0) continue;
        data[j] = i;
        data[k + j] = v0; data[2 * k + j] = v1; data[3 * k + j] = v2; data[4 * k + j] = v3;
        if (unk) { data[5 * k + j] = v4; data[6 * k + j] = v5; }
        j++;
      }
    } else {
      for (let c = 0; c < nc; c++) data.set(b.subarray(c * cap + lo, c * cap + lo + n), c * n);
    }
    return new SealedRows(base, n, sparse ? k : n, nc, sparse, data);
  }

  get empty(): boolean { return this.length === 0; }
  get lowRow(): number { return this.base; }
  get highRow(): number { return this.base + this.length - 1; }
  /** bytes of row data held (the estimate a memory budget counts) */
  get bytes(): number { return this.data.length * 8; }

  /** Offset (from base) of stored row j. */
  offsetAt(j: number): number { return this.sparse ? this.data[j] : j; }
  /** Column c (COL_*) of stored row j (0 for an unknown-side column not stored). */
  valueAt(j: number, c: number): number {
    if (c >= this.ncols) return 0;
    return this.sparse ? this.data[this.count + c * this.count + j] : this.data[c * this.length + j];
  }

  /** Dense columns (built on demand, kept while the shared cache has room). Do not write to them. */
  get cols(): Float64Array[] {
    const v = this.views;
    if (v !== null) return v;
    const n = this.length, buf = new Float64Array(GRID_COLUMNS * n);
    const views: Float64Array[] = new Array(GRID_COLUMNS);
    for (let c = 0; c < GRID_COLUMNS; c++) views[c] = buf.subarray(c * n, (c + 1) * n);
    const k = this.count, nc = this.ncols, d = this.data;
    if (this.sparse) {
      for (let c = 0; c < nc; c++) { const col = views[c], o = k + c * k; for (let j = 0; j < k; j++) col[d[j]] = d[o + j]; }
    } else {
      buf.set(d.subarray(0, nc * n), 0);
    }
    this.views = views;
    viewCache.push(this);
    viewCacheBytes += buf.byteLength;
    while (viewCacheBytes > VIEW_CACHE_BYTES && viewCache.length > 1) viewCache[0].dropViews();
    return views;
  }

  /** Forget the built dense columns. */
  dropViews(): void {
    if (this.views === null) return;
    this.views = null;
    const i = viewCache.indexOf(this);
    if (i >= 0) viewCache.splice(i, 1);
    viewCacheBytes -= GRID_COLUMNS * this.length * 8;
  }

  /** Total volume (bid + ask + unknown) per row into `out` (length >= this.length); returns out. */
  totals(out: Float64Array = new Float64Array(this.length)): Float64Array {
    const n = this.length, k = this.count, d = this.data, unk = this.ncols > COL_UNK_VOL;
    if (this.sparse) {
      out.fill(0, 0, n);
      for (let j = 0; j < k; j++) out[d[j]] = d[k + j] + d[k + k * COL_ASK_VOL + j] + (unk ? d[k + k * COL_UNK_VOL + j] : 0);
    } else {
      for (let i = 0; i < n; i++) out[i] = d[i] + d[n * COL_ASK_VOL + i] + (unk ? d[n * COL_UNK_VOL + i] : 0);
    }
    return out;
  }

  /** Total volume of a row offset. */
  volumeAt(off: number): number {
    const j = this.find(off);
    if (j < 0) return 0;
    return this.valueAt(j, 0) + this.valueAt(j, COL_ASK_VOL) + this.valueAt(j, COL_UNK_VOL);
  }

  /** Stored row index of a row offset, or -1 when that row holds nothing. */
  find(off: number): number {
    if (off < 0 || off >= this.length) return -1;
    if (!this.sparse) return off;
    const d = this.data;
    let lo = 0, hi = this.count - 1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1, v = d[m];
      if (v === off) return m;
      if (v < off) lo = m + 1; else hi = m - 1;
    }
    return -1;
  }

  /** Add these rows into a working grid (composites, aggregated bars) without building dense columns. */
  addInto(g: RowGrid): void {
    if (this.length === 0) return;
    g.ensure(this.base);
    g.ensure(this.base + this.length - 1);
    const cols = g.cols, off = this.base - g.base;
    for (let j = 0; j < this.count; j++) {
      const i = off + this.offsetAt(j);
      for (let c = 0; c < this.ncols; c++) cols[c][i] += this.valueAt(j, c);
    }
  }
}

const EMPTY = new Float64Array(0);
