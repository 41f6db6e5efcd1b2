/**
 * Compact binary encoding of closed footprint bars and row grids (session profiles) for the store.
 *
 * Every number is written as a tagged varint ("tv"):
 *   - an integer |v| < 2^50 is written as the unsigned LEB128 varint of  zigzag(v) × 2  (even), so
 *     0 → 1 byte, ±63 → 1 byte, a millisecond timestamp → 7 bytes;
 *   - anything else (fractions, NaN, ±Infinity, huge values) is the varint 1 followed by the 8-byte
 *     little-endian IEEE-754 double.
 * Arithmetic (not bitwise) varint maths keeps values above 2^32 exact.
 *
 * Bar layout (versions 1 and 2 differ only in the grid):
 *   u8 version
 *   tv × 30: start, end−start, rowTicks, firstTs−start, lastTs−start, open, high−open, low−open,
 *            close−open, volume, trades, buyVolume, sellVolume, unknownVolume, buyTrades, sellTrades,
 *            delta, deltaMin, deltaMax, cvdOpen, cvdHigh−cvdOpen, cvdLow−cvdOpen, cvdClose−cvdOpen,
 *            firstId, lastId−firstId, sourceVolume[0..4]
 *   (differences keep most header numbers to 1–3 bytes; a non-finite base falls back to the raw value
 *   via the tagged-double path, since x − NaN is NaN and decodes back to NaN)
 *   tv sessionKey byte length, then the UTF-8 bytes
 *   grid (version 1, dense; still the layout of session-profile grids): tv base, tv length, then
 *         GRID_COLUMNS columns (bid vol, ask vol, bid cnt, ask cnt, unknown vol, unknown cnt) of
 *         `length` tvs each (column-major: zeros compress to 1 byte).
 *   grid (version 2, sparse): tv base, uvar length, uvar k = rows with any non-zero column, k row
 *         offsets as uvar gaps (the first from 0, then each minus the previous minus 1), then the
 *         GRID_COLUMNS columns of k tvs each. At 1-tick rows most rows of a bar's range are empty
 *         (a spot BTC bar spans thousands of 0.01 rows): they cost nothing instead of 6 bytes.
 * A decoder checks the version and that the buffer ends exactly where the layout says (a partial or
 * trailing-garbage blob is rejected with an error, never half-read).
 */
import { FootprintBar } from '../analytics/footprint.js';
import { GRID_COLUMNS, RowGrid, type GridView } from '../analytics/row-grid.js';

const TWO50 = 2 ** 50;
/** bars are written as version 2 (sparse rows); version 1 blobs (dense rows) are still read */
const BAR_VERSION = 2;

export class Writer {
  private buf: Buffer;
  pos = 0;
  constructor(cap = 256) { this.buf = Buffer.allocUnsafe(cap); }

  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const nb = Buffer.allocUnsafe(cap);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  u8(v: number): this { this.need(1); this.buf[this.pos++] = v; return this; }

  /** unsigned varint of a non-negative integer (arithmetic, exact up to 2^53) */
  uvar(v: number): this {
    this.need(8);
    while (v >= 128) { this.buf[this.pos++] = (v % 128) | 128; v = Math.floor(v / 128); }
    this.buf[this.pos++] = v;
    return this;
  }

  /** tagged number (see module comment) */
  num(v: number): this {
    if (Number.isInteger(v) && v < TWO50 && v > -TWO50) {
      const z = v >= 0 ? v * 2 : -v * 2 - 1;
      return this.uvar(z * 2);
    }
    this.uvar(1);
    this.need(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.uvar(b.length);
    this.need(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }

  bytes(): Buffer { return Buffer.from(this.buf.subarray(0, this.pos)); }
}

export class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get done(): boolean { return this.pos === this.buf.length; }

  u8(): number {
    if (this.pos >= this.buf.length) throw new Error('truncated blob');
    return this.buf[this.pos++];
  }

  uvar(): number {
    let v = 0, mul = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
      if (mul > 2 ** 56) throw new Error('varint too long');
    }
  }

  num(): number {
    const u = this.uvar();
    if (u === 1) {
      if (this.pos + 8 > this.buf.length) throw new Error('truncated blob');
      const v = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 8).readDoubleLE(0);
      this.pos += 8;
      return v;
    }
    const z = u / 2;
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  str(): string {
    const n = this.uvar();
    if (this.pos + n > this.buf.length) throw new Error('truncated blob');
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).toString('utf8');
    this.pos += n;
    return s;
  }
}

export function writeGrid(w: Writer, g: GridView): void {
  w.num(g.base).uvar(g.length);
  for (let c = 0; c < GRID_COLUMNS; c++) {
    const col = g.cols[c];
    for (let i = 0; i < g.length; i++) w.num(col[i]);
  }
}

export function readGrid(r: Reader, into: RowGrid = new RowGrid(8)): RowGrid {
  const base = r.num();
  const length = r.uvar();
  if (length > 10_000_000) throw new Error('grid too long');
  into.clear();
  if (length > 0) {
    into.ensure(base);
    into.ensure(base + length - 1);
    for (let c = 0; c < GRID_COLUMNS; c++) {
      const col = into.cols[c];
      for (let i = 0; i < length; i++) col[i] = r.num();
    }
  }
  return into;
}

/** Sparse grid (bar layout version 2): only rows with a non-zero column. */
export function writeSparseGrid(w: Writer, g: GridView): void {
  const n = g.length, cols = g.cols;
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < GRID_COLUMNS; c++) if (cols[c][i] !== 0) { rows.push(i); break; }
  }
  w.num(g.base).uvar(n).uvar(rows.length);
  let prev = -1;
  for (const i of rows) { w.uvar(i - prev - 1); prev = i; }
  for (let c = 0; c < GRID_COLUMNS; c++) { const col = cols[c]; for (const i of rows) w.num(col[i]); }
}

export function readSparseGrid(r: Reader, into: RowGrid = new RowGrid(8)): RowGrid {
  const base = r.num();
  const length = r.uvar();
  const k = r.uvar();
  if (length > 10_000_000 || k > length) throw new Error('grid too long');
  into.clear();
  if (length > 0) {
    const rows = new Int32Array(k);
    let prev = -1;
    for (let j = 0; j < k; j++) { prev += r.uvar() + 1; if (prev >= length) throw new Error('sparse row outside the grid'); rows[j] = prev; }
    into.ensure(base);
    into.ensure(base + length - 1);
    for (let c = 0; c < GRID_COLUMNS; c++) {
      const col = into.cols[c];
      for (let j = 0; j < k; j++) col[rows[j]] = r.num();
    }
  }
  return into;
}

export function encodeBar(b: FootprintBar): Buffer {
  const w = new Writer(128 + b.rows.length * 8);
  w.u8(BAR_VERSION);
  w.num(b.start).num(b.end - b.start).num(b.rowTicks).num(b.firstTs - b.start).num(b.lastTs - b.start)
    .num(b.open).num(b.high - b.open).num(b.low - b.open).num(b.close - b.open)
    .num(b.volume).num(b.trades).num(b.buyVolume).num(b.sellVolume).num(b.unknownVolume)
    .num(b.buyTrades).num(b.sellTrades).num(b.delta).num(b.deltaMin).num(b.deltaMax)
    .num(b.cvdOpen).num(b.cvdHigh - b.cvdOpen).num(b.cvdLow - b.cvdOpen).num(b.cvdClose - b.cvdOpen).num(b.firstId).num(b.lastId - b.firstId);
  for (let i = 0; i < 5; i++) w.num(b.sourceVolume[i]);
  w.str(b.sessionKey);
  writeSparseGrid(w, b.rows);
  return w.bytes();
}

/** Decode a bar written by encodeBar; the result is a closed FootprintBar. Throws on a malformed blob. */
export function decodeBar(instrument: string, blob: Uint8Array): FootprintBar {
  const r = new Reader(blob);
  const v = r.u8();
  if (v !== 1 && v !== 2) throw new Error(`unknown bar blob version ${v}`);
  const start = r.num(), end = start + r.num(), rowTicks = r.num();
  const f = [] as number[];
  for (let i = 0; i < 22; i++) f.push(r.num());
  f[0] += start; f[1] += start; // firstTs, lastTs
  f[3] += f[2]; f[4] += f[2]; f[5] += f[2]; // high, low, close (open = f[2])
  f[17] += f[16]; f[18] += f[16]; f[19] += f[16]; // cvd high/low/close (cvdOpen = f[16])
  f[21] += f[20]; // lastId
  const src = [r.num(), r.num(), r.num(), r.num(), r.num()];
  const key = r.str();
  const b = new FootprintBar(instrument, start, end, rowTicks, key, 0);
  [b.firstTs, b.lastTs, b.open, b.high, b.low, b.close, b.volume, b.trades, b.buyVolume, b.sellVolume, b.unknownVolume,
    b.buyTrades, b.sellTrades, b.delta, b.deltaMin, b.deltaMax, b.cvdOpen, b.cvdHigh, b.cvdLow, b.cvdClose, b.firstId, b.lastId] = f;
  for (let i = 0; i < 5; i++) b.sourceVolume[i] = src[i];
  const g = b.rows as RowGrid; // a new bar's empty working grid
  if (v === 1) readGrid(r, g); else readSparseGrid(r, g);
  g.compact(); // a closed bar never grows: no free rows (pipelines holding it seal it compact)
  if (!r.done) throw new Error('trailing bytes in bar blob');
  b.closed = true;
  return b;
}
