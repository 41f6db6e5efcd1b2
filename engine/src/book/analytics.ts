/**
 * Pure book metrics computed from an OrderBook in O(levels used). See docs/definitions/book.md.
 */
import type { BookSide, OrderBook } from './order-book.js';

/** Spread in ticks (NaN when a side is empty). */
export function spreadTicks(book: OrderBook): number {
  return book.spread();
}

/** Mid price in ticks (NaN when a side is empty). */
export function midTicks(book: OrderBook): number {
  return book.mid();
}

/**
 * Imbalance over the top `n` levels of each side: (B − A) / (B + A) in [-1, 1], where B and A are
 * summed sizes. NaN when both sums are 0.
 */
export function imbalance(book: OrderBook, n = 10): number {
  const b = book.totalSize('bid', n);
  const a = book.totalSize('ask', n);
  const t = b + a;
  return t > 0 ? (b - a) / t : NaN;
}

export type ImbalanceWeighting =
  /** weight 1 for levels 0..K-1 from the touch, 1/2 for K..2K-1, 1/4 … (Bookmap "lower weight for farther levels", K = 10) */
  | { mode: 'block'; blockLevels?: number }
  /** weight 0.5^(i / halfLife), i = levels from the touch (Bookmap Liquidity Tracker exponential mode) */
  | { mode: 'exp'; halfLife?: number };

/** Weight of the level `i` levels from the touch (0 = best). */
export function levelWeight(i: number, w: ImbalanceWeighting = { mode: 'block' }): number {
  if (w.mode === 'block') return Math.pow(0.5, Math.floor(i / (w.blockLevels ?? 10)));
  return Math.pow(0.5, i / (w.halfLife ?? 5));
}

/** Distance-weighted imbalance over the top `n` levels: Σw·bid − Σw·ask over Σw·bid + Σw·ask. */
export function weightedImbalance(book: OrderBook, n = 50, w: ImbalanceWeighting = { mode: 'block' }): number {
  let b = 0;
  let a = 0;
  const nb = Math.min(n, book.bids.count);
  const na = Math.min(n, book.asks.count);
  for (let i = 0; i < Math.max(nb, na); i++) {
    const wi = levelWeight(i, w);
    if (i < nb) b += wi * book.bids.sizeAt(i);
    if (i < na) a += wi * book.asks.sizeAt(i);
  }
  const t = b + a;
  return t > 0 ? (b - a) / t : NaN;
}

export interface BookLevelInfo {
  side: BookSide;
  price: number;
  size: number;
  /** levels from the touch (0 = best) */
  index: number;
  /** size / median */
  ratio: number;
}

export interface WallOptions {
  /** wall: size >= k × median; default 5 */
  k?: number;
  /** levels per side examined (from the touch); default 50 */
  m?: number;
  /** thin level: size <= x × median; default 0.25 */
  thinX?: number;
}

export interface WallReport {
  /** median level size over the top m levels, per side */
  medianBid: number;
  medianAsk: number;
  walls: BookLevelInfo[];
  thin: BookLevelInfo[];
}

const scratch = { buf: new Float64Array(64) };

function medianTop(book: OrderBook, side: BookSide, m: number): number {
  const lv = book.side(side);
  const n = Math.min(m, lv.count);
  if (n === 0) return NaN;
  if (scratch.buf.length < n) scratch.buf = new Float64Array(n * 2);
  const a = scratch.buf.subarray(0, n);
  for (let i = 0; i < n; i++) a[i] = lv.sizeAt(i);
  a.sort();
  return n % 2 ? a[(n - 1) >> 1]! : (a[n / 2 - 1]! + a[n / 2]!) / 2;
}

/**
 * Walls and thin levels within the top `m` levels of each side, relative to that side's median
 * level size over the same `m` levels.
 */
export function findWalls(book: OrderBook, opts: WallOptions = {}): WallReport {
  const k = opts.k ?? 5;
  const m = opts.m ?? 50;
  const x = opts.thinX ?? 0.25;
  const out: WallReport = { medianBid: medianTop(book, 'bid', m), medianAsk: medianTop(book, 'ask', m), walls: [], thin: [] };
  for (const side of ['bid', 'ask'] as const) {
    const med = side === 'bid' ? out.medianBid : out.medianAsk;
    if (!(med > 0)) continue;
    const lv = book.side(side);
    const n = Math.min(m, lv.count);
    for (let i = 0; i < n; i++) {
      const size = lv.sizeAt(i);
      const ratio = size / med;
      if (size >= k * med) out.walls.push({ side, price: lv.priceAt(i), size, index: i, ratio });
      else if (size <= x * med) out.thin.push({ side, price: lv.priceAt(i), size, index: i, ratio });
    }
  }
  return out;
}
