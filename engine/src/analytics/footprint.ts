/**
 * A footprint bar: OHLC, volume split by aggressor, intrabar running-delta extremes, exact CVD
 * candle, classification provenance, and per-row bid/ask volume and counts on the global row grid.
 * Mutable while open (updated per trade without allocation); frozen once `closed` is set.
 */
import { RowGrid, COL_ASK_VOL, COL_BID_VOL, type GridArena, type GridView } from './row-grid.js';
import { SealedRows } from './sealed-rows.js';
import { SIDE_SOURCE_INDEX, type Trade } from '../core/events.js';
import { Checksum } from './checksum.js';

export class FootprintBar {
  readonly instrument: string;
  /** bar open time (time bars: aligned start; tick/volume bars: first trade time) */
  readonly start: number;
  /** exclusive end for time bars; last trade time + 1 for tick/volume bars once closed */
  end: number;
  readonly rowTicks: number;
  /** session the bar opened in ('' when outside every session) */
  sessionKey: string;
  firstTs = 0;
  lastTs = 0;
  open = NaN;
  high = -Infinity;
  low = Infinity;
  close = NaN;
  /** all sizes in lots */
  volume = 0;
  trades = 0;
  buyVolume = 0;
  sellVolume = 0;
  unknownVolume = 0;
  buyTrades = 0;
  sellTrades = 0;
  /** delta = buy − sell; running intrabar extremes start at 0 (the bar's opening delta) */
  delta = 0;
  deltaMin = 0;
  deltaMax = 0;
  /** cumulative delta candle, exact from the event stream */
  cvdOpen = 0;
  cvdHigh = 0;
  cvdLow = 0;
  cvdClose = 0;
  /** volume by classification rung: flag, quote, tick, midtick, none (SIDE_SOURCES order) */
  readonly sourceVolume = new Float64Array(5);
  /** the working grid while open; a compact copy (sparse at fine rows) once the bar is sealed */
  rows: RowGrid | SealedRows;
  closed = false;
  /** first/last venue trade id (0 when the feed has none) */
  firstId = 0;
  lastId = 0;

  /** `grid`: an empty grid to reuse (a builder passes the working grid of the bar it just sealed) */
  constructor(instrument: string, start: number, end: number, rowTicks: number, sessionKey: string, cvd: number, grid?: RowGrid) {
    this.instrument = instrument;
    this.start = start;
    this.end = end;
    this.rowTicks = rowTicks;
    this.sessionKey = sessionKey;
    this.rows = grid && grid.empty ? grid : new RowGrid(8);
    this.cvdOpen = this.cvdHigh = this.cvdLow = this.cvdClose = cvd;
  }

  /** Add a classified trade; `cvd` is the cumulative delta after this trade. */
  add(t: Trade, cvd: number): void {
    const p = t.price, s = t.size;
    if (this.trades === 0) { this.open = p; this.firstTs = t.ts; this.firstId = t.id; }
    if (p > this.high) this.high = p;
    if (p < this.low) this.low = p;
    this.close = p;
    this.lastTs = t.ts;
    this.lastId = t.id;
    this.volume += s;
    this.trades++;
    let sign = 0;
    const side = t.side;
    if (side === 'buy') { sign = 1; this.buyVolume += s; this.buyTrades++; this.delta += s; }
    else if (side === 'sell') { sign = -1; this.sellVolume += s; this.sellTrades++; this.delta -= s; }
    else this.unknownVolume += s;
    if (this.delta > this.deltaMax) this.deltaMax = this.delta;
    if (this.delta < this.deltaMin) this.deltaMin = this.delta;
    const src = t.sideSource;
    this.sourceVolume[src === 'flag' ? 0 : SIDE_SOURCE_INDEX[src]] += s;
    this.cvdClose = cvd;
    if (cvd > this.cvdHigh) this.cvdHigh = cvd;
    if (cvd < this.cvdLow) this.cvdLow = cvd;
    (this.rows as RowGrid).add(Math.floor(p / this.rowTicks), s, sign);
  }

  /**
   * Mark the bar closed and swap its working grid (sized with headroom for growth) for a compact
   * copy; returns the working grid, emptied, for the next bar (undefined when already sealed).
   */
  seal(arena?: GridArena): RowGrid | undefined {
    this.closed = true;
    const g = this.rows;
    if (!(g instanceof RowGrid)) return undefined;
    this.rows = SealedRows.from(g, arena);
    g.clear();
    return g;
  }

  /** Add another bar's rows (aggregated bars); a sealed bar never changes. */
  mergeRows(g: GridView): void {
    if (!(this.rows instanceof RowGrid)) throw new Error('a sealed footprint bar cannot take rows');
    this.rows.merge(g);
  }

  /** Row index → price of the row's lower edge, in ticks. */
  rowPrice(row: number): number { return row * this.rowTicks; }

  /** bid (sell-aggressor) and ask (buy-aggressor) volume at a price in ticks */
  bidAt(price: number): number { return this.colAt(COL_BID_VOL, price); }
  askAt(price: number): number { return this.colAt(COL_ASK_VOL, price); }

  private colAt(col: number, price: number): number {
    const g = this.rows, off = Math.floor(price / this.rowTicks) - g.base;
    if (g instanceof SealedRows) { const j = g.find(off); return j < 0 ? 0 : g.valueAt(j, col); }
    return off >= 0 && off < g.length ? g.cols[col][off] : 0;
  }

  /** Deterministic digest of everything the bar holds. */
  digest(h: Checksum): void {
    h.str(this.instrument).num(this.start).num(this.end).num(this.rowTicks).str(this.sessionKey)
      .num(this.firstTs).num(this.lastTs).num(this.open).num(this.high).num(this.low).num(this.close)
      .num(this.volume).num(this.trades).num(this.buyVolume).num(this.sellVolume).num(this.unknownVolume)
      .num(this.delta).num(this.deltaMin).num(this.deltaMax)
      .num(this.cvdOpen).num(this.cvdHigh).num(this.cvdLow).num(this.cvdClose)
      .num(this.firstId).num(this.lastId);
    for (let i = 0; i < 5; i++) h.num(this.sourceVolume[i]);
    const g = this.rows;
    h.num(g.base).num(g.length);
    const cols = g.cols;
    for (let c = 0; c < cols.length; c++) h.nums(cols[c], 0, g.length);
  }
}
