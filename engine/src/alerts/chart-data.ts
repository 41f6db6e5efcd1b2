/**
 * Chart snapshot data in a compact, structured-clone-able form (what crosses from the engine thread to
 * the alerts worker), and its drawing to PNG through indicators/render/node-png.ts (@napi-rs/canvas).
 * Imports nothing of the engine: the worker bundle stays small.
 */
import { renderFootprintPng } from '../../../indicators/render/node-png.js';
import type { ChartLevel, ChartMarker } from '../../../indicators/render/static.js';
import type { FootprintBarData, ProfileData } from '../../../indicators/render/types.js';

/** One footprint bar, compact: [time, open, high, low, close, volume, delta, rowSize, poc, vah, val, closed, cvdO, cvdH, cvdL, cvdC] + rows as [price, bid, ask]… */
export interface PackedBar { h: Float64Array; rows: Float64Array }

/** Everything a footprint + profile PNG needs; plain data (crosses the worker boundary). */
export interface ChartData {
  title: string;
  width: number;
  height: number;
  theme: 'dark' | 'light';
  bars: PackedBar[];
  profile: ProfileData | null;
  /** the alert's levels (entry / stop / target, the prior session's POC / VAH / VAL) and its marker */
  levels?: ChartLevel[];
  marker?: ChartMarker | null;
}

const nn = (x: number | null | undefined): number => (x === null || x === undefined ? NaN : x);
const orNull = (x: number): number | null => (x === x ? x : null);

export function packBar(b: FootprintBarData): PackedBar {
  const c = b.cvd;
  const h = new Float64Array([b.time, b.open, b.high, b.low, b.close, b.volume, b.delta, b.rowSize, nn(b.poc), nn(b.vah), nn(b.val), b.closed === false ? 0 : 1,
    c ? c.open : NaN, c ? c.high : NaN, c ? c.low : NaN, c ? c.close : NaN]);
  const rows = new Float64Array(b.rows.length * 3);
  for (let i = 0; i < b.rows.length; i++) { const r = b.rows[i]; rows[i * 3] = r.price; rows[i * 3 + 1] = r.bid; rows[i * 3 + 2] = r.ask; }
  return { h, rows };
}

export function unpackBar(p: PackedBar): FootprintBarData {
  const h = p.h;
  const rows: FootprintBarData['rows'] = [];
  for (let i = 0; i + 2 < p.rows.length; i += 3) rows.push({ price: p.rows[i], bid: p.rows[i + 1], ask: p.rows[i + 2] });
  const bar: FootprintBarData = { time: h[0], open: h[1], high: h[2], low: h[3], close: h[4], volume: h[5], delta: h[6], rowSize: h[7], rows, poc: orNull(h[8]), vah: orNull(h[9]), val: orNull(h[10]), closed: h[11] !== 0 };
  if (h[12] === h[12]) bar.cvd = { open: h[12], high: h[13], low: h[14], close: h[15] };
  return bar;
}

/** The ArrayBuffers of a ChartData (to transfer rather than copy them). */
export function chartTransferList(d: ChartData): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const b of d.bars) out.push(b.h.buffer as ArrayBuffer, b.rows.buffer as ArrayBuffer);
  return out;
}

/** Draw a ChartData to PNG (the worker side of a snapshot). */
export function renderChartData(d: ChartData): Uint8Array {
  return renderFootprintPng(d.bars.map(unpackBar), d.profile, { width: d.width, height: d.height, theme: d.theme, title: d.title, levels: d.levels ?? [], marker: d.marker ?? null });
}

