/**
 * A client's row size: a footprint bar re-gridded to k × its row size (global row r → floor(r / k),
 * so every client with the same k sees the same row edges, multiples of k × rowTicks). Volumes and
 * counts are summed exactly; every other field is copied. Used per request (/api/v1/footprint
 * rowSize) and per stream subscription (footprint `rowSize`), never by the engine's own bars.
 */
import { FootprintBar } from './footprint.js';
import { GRID_COLUMNS, type RowGrid } from './row-grid.js';
import { SealedRows } from './sealed-rows.js';

/** k = the client's row size ÷ the bar's row size (a whole number ≥ 1); k = 1 returns `b` itself. */
export function coarsenBar(b: FootprintBar, k: number): FootprintBar {
  if (!(k > 1)) return b;
  const c = new FootprintBar(b.instrument, b.start, b.end, b.rowTicks * k, b.sessionKey, b.cvdOpen);
  c.firstTs = b.firstTs; c.lastTs = b.lastTs; c.firstId = b.firstId; c.lastId = b.lastId;
  c.open = b.open; c.high = b.high; c.low = b.low; c.close = b.close;
  c.volume = b.volume; c.trades = b.trades; c.buyVolume = b.buyVolume; c.sellVolume = b.sellVolume; c.unknownVolume = b.unknownVolume;
  c.buyTrades = b.buyTrades; c.sellTrades = b.sellTrades;
  c.delta = b.delta; c.deltaMin = b.deltaMin; c.deltaMax = b.deltaMax;
  c.cvdHigh = b.cvdHigh; c.cvdLow = b.cvdLow; c.cvdClose = b.cvdClose;
  c.sourceVolume.set(b.sourceVolume);
  c.closed = b.closed;
  const src = b.rows;
  if (src.length > 0) {
    const dst = c.rows as RowGrid; // a new bar's working grid
    dst.ensure(Math.floor(src.lowRow / k));
    dst.ensure(Math.floor(src.highRow / k));
    const d = dst.cols;
    if (src instanceof SealedRows) {
      // a held bar's compact rows: only the rows that traded
      for (let j = 0; j < src.count; j++) {
        const o = Math.floor((src.base + src.offsetAt(j)) / k) - dst.base;
        for (let col = 0; col < src.ncols; col++) d[col][o] += src.valueAt(j, col);
      }
    } else {
      const s = src.cols;
      for (let i = 0; i < src.length; i++) {
        const o = Math.floor((src.base + i) / k) - dst.base;
        for (let col = 0; col < GRID_COLUMNS; col++) d[col][o] += s[col][i];
      }
    }
  }
  return c;
}
