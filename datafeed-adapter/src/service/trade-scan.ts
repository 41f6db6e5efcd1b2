/**
 * Paged trade scans for queries: the store's trades before the in-memory ring's complete range, then
 * the ring (or the reverse, newest first). A page is at most PAGE trades and the scan yields after
 * each page, so no scan holds the event loop; the budget caps how many trades one answer may read.
 * Nothing is materialized beyond the current page: the caller's `visit` folds each trade into its
 * answer and returns false to stop early.
 */
import type { HistoryService } from './history.js';
import type { TradeRec } from './trades.js';
import type { Work } from './work.js';

export const PAGE = 1000;

/** How many trades one answer may read; `truncated` is set when the cap ended the scan. */
export interface ScanBudget { scanned: number; readonly max: number; truncated: boolean }

export function budget(max: number): ScanBudget { return { scanned: 0, max, truncated: false }; }

type Visit = (t: TradeRec) => boolean | void;

/** One page from the store: every trade, or (minSize > 0) only those of at least minSize lots, filtered in SQLite. */
function page(s: HistoryService, id: string, from: number, to: number, cursor: [number, number] | null, n: number, desc: boolean, minSize: number): { trades: TradeRec[]; cursor: [number, number] | null; full: boolean } {
  if (minSize > 0) { const p = s.store!.tradePageMin(id, from, to, cursor, n, desc, minSize); return { ...p, full: p.cursor !== null }; }
  const p = s.store!.tradePage(id, from, to, cursor, n, desc);
  return { ...p, full: p.trades.length === n && p.cursor !== null };
}

/** Trades with from <= ts < to, oldest first (minSize > 0: only trades of at least that many lots). */
export function* scanForward(s: HistoryService, id: string, from: number, to: number, b: ScanBudget, visit: Visit, minSize = 0): Work<void> {
  const ring = s.ring(id);
  let lo = from;
  // the ring's complete range only grows (eviction), so re-read the store up to the current split
  for (;;) {
    const split = ring && !Number.isNaN(ring.completeFrom) ? ring.completeFrom : Infinity;
    const hi = Math.min(to, split);
    if (s.store && lo < hi) {
      let cursor: [number, number] | null = null;
      for (;;) {
        const n = Math.min(PAGE, b.max - b.scanned);
        if (n <= 0) { b.truncated = true; return; }
        const pg = page(s, id, lo, hi, cursor, n, false, minSize);
        b.scanned += pg.full ? n : pg.trades.length;
        for (const t of pg.trades) if (visit(t) === false) return;
        if (!pg.full) break;
        cursor = pg.cursor;
        yield;
      }
      lo = hi;
    }
    if (!ring || to <= split) return;
    const now = !Number.isNaN(ring.completeFrom) ? ring.completeFrom : Infinity;
    if (now > split) continue; // evicted while we read the store: those trades are in the store now
    break;
  }
  if (!ring) return;
  let pos = ring.firstPos + ring.lowerBound(lo);
  for (;;) {
    if (pos < ring.firstPos) pos = ring.firstPos; // evicted under a slow scan: resume at the oldest held
    let k = 0;
    while (pos < ring.total && k < PAGE) {
      if (ring.tsAt(pos - ring.firstPos) >= to) return;
      if (b.scanned >= b.max) { b.truncated = true; return; }
      b.scanned++; k++; pos++;
      if (minSize > 0 && ring.sizeAt(pos - 1 - ring.firstPos) < minSize) continue;
      if (visit(ring.atPos(pos - 1)) === false) return;
    }
    if (pos >= ring.total) return;
    yield;
  }
}

/** Trades with from <= ts < to, newest first (minSize > 0: only trades of at least that many lots). */
export function* scanBackward(s: HistoryService, id: string, from: number, to: number, b: ScanBudget, visit: Visit, minSize = 0): Work<void> {
  const ring = s.ring(id);
  const split = ring && !Number.isNaN(ring.completeFrom) ? ring.completeFrom : Infinity;
  let storeHi = Math.min(to, split);
  if (ring && to > split) {
    const lo = Math.max(from, split);
    let pos = ring.firstPos + ring.lowerBound(to) - 1;
    let lastTs = to;
    for (;;) {
      let k = 0;
      if (pos < ring.firstPos) {
        // evicted while we yielded: the rest of the range is older than what the ring holds now
        storeHi = Math.min(storeHi, lastTs);
        break;
      }
      while (pos >= ring.firstPos && k < PAGE) {
        const ts = ring.tsAt(pos - ring.firstPos);
        if (ts < lo) { pos = -1; break; }
        if (b.scanned >= b.max) { b.truncated = true; return; }
        b.scanned++; k++; pos--;
        lastTs = ts;
        if (minSize > 0 && ring.sizeAt(pos + 1 - ring.firstPos) < minSize) continue;
        if (visit(ring.atPos(pos + 1)) === false) return;
      }
      if (pos < 0 || pos < ring.firstPos) break;
      yield;
    }
  }
  if (!s.store || from >= storeHi) return;
  let cursor: [number, number] | null = null;
  for (;;) {
    const n = Math.min(PAGE, b.max - b.scanned);
    if (n <= 0) { b.truncated = true; return; }
    const pg = page(s, id, from, storeHi, cursor, n, true, minSize);
    b.scanned += pg.full ? n : pg.trades.length;
    for (const t of pg.trades) if (visit(t) === false) return;
    if (!pg.full) return;
    cursor = pg.cursor;
    yield;
  }
}

/** Time of the latest trade with ts < before (ring, else store); undefined when there is none. */
export function prevTradeTs(s: HistoryService, id: string, before: number): number | undefined {
  const ring = s.ring(id);
  if (ring && ring.length && !Number.isNaN(ring.completeFrom) && before > ring.completeFrom) {
    const k = ring.lowerBound(before) - 1;
    if (k >= 0 && ring.tsAt(k) >= ring.completeFrom) return ring.tsAt(k);
  }
  const hi = ring && !Number.isNaN(ring.completeFrom) ? Math.min(before, ring.completeFrom) : before;
  return s.store?.lastTrades(id, hi, 1)[0]?.ts;
}

/** How many trades scanForward would visit in [from, to) (index counts, no rows read). */
export function countTrades(s: HistoryService, id: string, from: number, to: number): number {
  const ring = s.ring(id);
  const split = ring && !Number.isNaN(ring.completeFrom) ? ring.completeFrom : Infinity;
  let n = 0;
  if (s.store && from < Math.min(to, split)) n += s.store.tradeCountBetween(id, from, Math.min(to, split));
  if (ring && to > split) n += ring.lowerBound(to) - ring.lowerBound(Math.max(from, split));
  return n;
}
