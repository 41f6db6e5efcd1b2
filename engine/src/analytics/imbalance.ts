/**
 * Footprint imbalances, stacked-imbalance runs and unfinished auctions as pure functions of a
 * bar's row grid. Every option products disagree on is explicit (see docs/definitions.md):
 *  - compare 'diagonal': buy imbalance at row r compares Ask(r) with Bid(r−1); sell imbalance at
 *    row r compares Bid(r) with Ask(r+1). The flag sits on the dominant cell's row.
 *    'horizontal': Ask(r) vs Bid(r) on the same row.
 *  - ratio is a multiplier: dominant >= ratio × weak (3 = "300 %").
 *  - rows outside the bar count as zero, so zeroPolicy applies at the bar's edges.
 */
import { type GridView, COL_ASK_CNT, COL_ASK_VOL, COL_BID_CNT, COL_BID_VOL } from './row-grid.js';

export type ZeroPolicy = 'ignore' | 'imbalance' | 'requireMinOther';

export interface ImbalanceOptions {
  compare: 'diagonal' | 'horizontal';
  /** multiplier; dominant >= ratio × weak */
  ratio: number;
  /** dominant side must be >= this (in the metric's raw units: lots or trade counts) */
  minDominant: number;
  /** weak side == 0: 'ignore' = never an imbalance, 'imbalance' = an imbalance when dominant >= minDominant,
   *  'requireMinOther' = the weak side must be >= minOther for any imbalance (so zero never counts) */
  zeroPolicy: ZeroPolicy;
  minOther: number;
  metric: 'volume' | 'trades';
}

export const DEFAULT_IMBALANCE: ImbalanceOptions = {
  compare: 'diagonal', ratio: 3, minDominant: 0, zeroPolicy: 'imbalance', minOther: 0, metric: 'volume',
};

export interface ImbalanceFlags {
  /** global row index of offset 0 */
  base: number;
  /** 1 where the row carries a buy (ask-side) imbalance */
  buy: Uint8Array;
  /** 1 where the row carries a sell (bid-side) imbalance */
  sell: Uint8Array;
  buyCount: number;
  sellCount: number;
}

function isImbalance(dom: number, weak: number, o: ImbalanceOptions): boolean {
  if (dom <= 0 || dom < o.minDominant) return false;
  if (o.zeroPolicy === 'requireMinOther') return weak >= o.minOther && weak > 0 && dom >= o.ratio * weak;
  if (weak === 0) return o.zeroPolicy === 'imbalance';
  return dom >= o.ratio * weak;
}

/**
 * `scratch`: reusable flag storage (grown as needed; the flags returned are views of it and are
 * overwritten by the next call with the same scratch) for callers that use them immediately.
 */
export function imbalances(g: GridView, opts: Partial<ImbalanceOptions> = {}, scratch?: { buy: Uint8Array; sell: Uint8Array }): ImbalanceFlags {
  const o = { ...DEFAULT_IMBALANCE, ...opts };
  if (!(o.ratio > 0)) throw new Error('imbalance ratio must be > 0');
  const n = g.length;
  const bid = g.cols[o.metric === 'volume' ? COL_BID_VOL : COL_BID_CNT];
  const ask = g.cols[o.metric === 'volume' ? COL_ASK_VOL : COL_ASK_CNT];
  let buy: Uint8Array, sell: Uint8Array;
  if (scratch) {
    if (scratch.buy.length < n) { scratch.buy = new Uint8Array(n * 2); scratch.sell = new Uint8Array(n * 2); }
    buy = scratch.buy.subarray(0, n).fill(0);
    sell = scratch.sell.subarray(0, n).fill(0);
  } else {
    buy = new Uint8Array(n);
    sell = new Uint8Array(n);
  }
  let buyCount = 0, sellCount = 0;
  const diag = o.compare === 'diagonal';
  for (let i = 0; i < n; i++) {
    const bidBelow = diag ? (i > 0 ? bid[i - 1] : 0) : bid[i];
    const askAbove = diag ? (i + 1 < n ? ask[i + 1] : 0) : ask[i];
    if (isImbalance(ask[i], bidBelow, o)) { buy[i] = 1; buyCount++; }
    if (isImbalance(bid[i], askAbove, o)) { sell[i] = 1; sellCount++; }
  }
  return { base: g.base, buy, sell, buyCount, sellCount };
}

export interface StackedRun {
  side: 'buy' | 'sell';
  /** global row indices, inclusive */
  startRow: number;
  endRow: number;
  rows: number;
}

/** Every run of >= minRows consecutive same-side imbalanced rows (an unflagged row, empty or not, breaks a run). */
export function stackedRuns(f: ImbalanceFlags, minRows = 3): StackedRun[] {
  const out: StackedRun[] = [];
  for (const side of ['buy', 'sell'] as const) {
    const a = side === 'buy' ? f.buy : f.sell;
    let s = -1;
    for (let i = 0; i <= a.length; i++) {
      if (i < a.length && a[i]) { if (s < 0) s = i; continue; }
      if (s >= 0 && i - s >= minRows) out.push({ side, startRow: f.base + s, endRow: f.base + i - 1, rows: i - s });
      s = -1;
    }
  }
  return out;
}

export interface UnfinishedAuction { high: boolean; low: boolean }

/**
 * An extreme is unfinished when both sides traded there: bid > minBid and ask > minAsk at the bar's
 * high row (and likewise at the low row). Defaults 0 (both sides > 0, as Quantower/ClusterDelta).
 */
export function unfinishedAuction(g: GridView, minBid = 0, minAsk = 0): UnfinishedAuction {
  if (g.length === 0) return { high: false, low: false };
  const b = g.cols[COL_BID_VOL], a = g.cols[COL_ASK_VOL];
  const hi = g.length - 1;
  return { high: b[hi] > minBid && a[hi] > minAsk, low: b[0] > minBid && a[0] > minAsk };
}
