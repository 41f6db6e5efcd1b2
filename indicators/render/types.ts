/**
 * Host-independent data model of the indicator renderers. Prices are in price units (as the
 * /api/v1 JSON and the stream send them), times in Unix ms, volumes in instrument units.
 * Browser-safe: no Node imports.
 */

/** The subset of CanvasRenderingContext2D the renderers use (browser canvas, @napi-rs/canvas). */
export interface Ctx2D {
  fillStyle: string | CanvasGradient | CanvasPattern;
  strokeStyle: string | CanvasGradient | CanvasPattern;
  lineWidth: number;
  font: string;
  textAlign: CanvasTextAlign;
  textBaseline: CanvasTextBaseline;
  globalAlpha: number;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
  measureText(text: string): { width: number };
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  closePath(): void;
  stroke(): void;
  fill(): void;
  save(): void;
  restore(): void;
  setLineDash(segments: number[]): void;
}

/** One footprint row: lower edge price, sell-aggressor (bid) and buy-aggressor (ask) volume. */
export interface FootprintRow {
  price: number; bid: number; ask: number;
  /** the server's imbalance flags for this row (bit 1 = buy/ask, bit 2 = sell/bid), computed exactly on lots with the
   * server's options; when a bar's rows carry them the renderer uses them instead of recomputing */
  imbalance?: number;
}

export interface FootprintBarData {
  /** bar open time, ms */
  time: number;
  open: number; high: number; low: number; close: number;
  volume: number;
  delta: number;
  /** row height in price units */
  rowSize: number;
  /** ascending by price; empty rows may be omitted */
  rows: FootprintRow[];
  /** per-bar POC / value area (row lower edges); computed from rows when absent */
  poc?: number | null;
  vah?: number | null;
  val?: number | null;
  cvd?: { open: number; high: number; low: number; close: number };
  closed?: boolean;
}

export interface StackedZone {
  side: 'buy' | 'sell';
  /** lower edge of the lowest row and upper edge of the highest row */
  low: number;
  high: number;
  /** index (in the prepared series) of the bar that created it */
  from: number;
  /** index of the first later bar that traded into the zone; -1 while untouched (extends to the right edge) */
  to: number;
}

/** A bar with everything the renderer needs, precomputed once per data change (dense rows). */
export interface PreparedBar {
  data: FootprintBarData;
  /** global row index of dense row 0 (price = (row0 + i) × rowSize) */
  row0: number;
  n: number;
  bid: Float64Array;
  ask: Float64Array;
  /** per dense row: bit 1 = buy (ask) imbalance, bit 2 = sell (bid) imbalance */
  imb: Uint8Array;
  /** dense row indices (-1 when the bar is empty) */
  poc: number;
  vah: number;
  val: number;
  /** largest single side of any row, largest row total, largest |row delta| */
  maxCell: number;
  maxRow: number;
  maxDelta: number;
  unfinishedHigh: boolean;
  unfinishedLow: boolean;
}

export interface ProfileRow { price: number; volume: number; buy: number; sell: number }
export interface ProfileNode { low: number; high: number; peak: number }

/** An earlier session's POC not traded since that session (as of the profile request). */
export interface NakedSessionPoc { price: number; time: number; end?: number | null }

export interface ProfileData {
  /** ms; the profile's session (or range) span, used to anchor it */
  start?: number | null;
  end?: number | null;
  rowSize: number;
  rows: ProfileRow[];
  poc: number | null;
  vah: number | null;
  val: number | null;
  hvn?: ProfileNode[];
  lvn?: ProfileNode[];
  /** earlier sessions' POCs never traded again: `time` their session's start, `end` its end (ms) */
  nakedPocs?: NakedSessionPoc[];
}

export type FootprintMode = 'bidask' | 'delta' | 'volume' | 'ladder' | 'profile';
export type ColorBy = 'delta' | 'volume';
