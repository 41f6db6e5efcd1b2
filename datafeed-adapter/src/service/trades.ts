/**
 * Per-instrument ring of recent classified trades (structure of arrays, no per-trade allocation),
 * with the CVD after each trade. Serves time & sales, tick and seconds bars and VWAP series for
 * recent history; older trades come from the store.
 */
import type { Side, SideSource, Trade } from '../../../engine/src/core/events.js';
import { SIDE_SOURCES, SIDE_SOURCE_INDEX } from '../../../engine/src/core/events.js';

/** A recent trade of one instrument: the classified core Trade and the CVD after it. */
export type TradeRec = Omit<Trade, 'type' | 'instrument'> & { cvd: number };

const SIDES: Side[] = ['sell', 'unknown', 'buy'];

export class TradeRing {
  readonly cap: number;
  private readonly ts: Float64Array;
  private readonly id: Float64Array;
  private readonly price: Float64Array;
  private readonly size: Float64Array;
  private readonly cvd: Float64Array;
  private readonly code: Uint8Array;
  private head = 0; // next write slot
  length = 0;
  /** every trade with ts >= completeFrom that the ring has seen is still in it (NaN before the first) */
  completeFrom = NaN;
  total = 0;

  constructor(cap = 200_000) {
    this.cap = cap;
    this.ts = new Float64Array(cap); this.id = new Float64Array(cap); this.price = new Float64Array(cap);
    this.size = new Float64Array(cap); this.cvd = new Float64Array(cap); this.code = new Uint8Array(cap);
  }

  push(ts: number, id: number, price: number, size: number, side: Side, src: SideSource, cvd: number): void {
    if (this.length === 0 && Number.isNaN(this.completeFrom)) this.completeFrom = ts;
    const h = this.head;
    if (this.length === this.cap) {
      const evicted = this.ts[h];
      if (evicted + 1 > this.completeFrom) this.completeFrom = evicted + 1;
    } else this.length++;
    this.ts[h] = ts; this.id[h] = id; this.price[h] = price; this.size[h] = size; this.cvd[h] = cvd;
    this.code[h] = (side === 'sell' ? 0 : side === 'buy' ? 2 : 1) + 3 * SIDE_SOURCE_INDEX[src];
    this.head = (h + 1) % this.cap;
    this.total++;
  }

  private slot(i: number): number { return (this.head - this.length + i + this.cap) % this.cap; }

  at(i: number): TradeRec {
    const s = this.slot(i);
    const c = this.code[s];
    return { ts: this.ts[s], id: this.id[s], price: this.price[s], size: this.size[s], side: SIDES[c % 3], sideSource: SIDE_SOURCES[Math.floor(c / 3)], cvd: this.cvd[s] };
  }

  tsAt(i: number): number { return this.ts[this.slot(i)]; }

  sizeAt(i: number): number { return this.size[this.slot(i)]; }

  /** first index with ts >= t (ts are non-decreasing in arrival order only per instrument clock; we search linearly from a binary guess) */
  lowerBound(t: number): number {
    let lo = 0, hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tsAt(mid) < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** trades with from <= ts < to, oldest first (at most limit, the oldest ones unless fromEnd) */
  range(from: number, to: number, limit = Infinity, fromEnd = false): TradeRec[] {
    const a = this.lowerBound(from), b = this.lowerBound(to);
    let lo = a, hi = b;
    if (hi - lo > limit) { if (fromEnd) lo = hi - limit; else hi = lo + limit; }
    const out: TradeRec[] = [];
    for (let i = lo; i < hi; i++) out.push(this.at(i));
    return out;
  }

  /**
   * Absolute position of the oldest trade held (positions count every trade ever pushed, so a scan
   * that yields between pages can resume where it was even after new trades evicted old ones).
   */
  get firstPos(): number { return this.total - this.length; }

  /** The trade at absolute position `pos` (firstPos <= pos < total). */
  atPos(pos: number): TradeRec { return this.at(pos - this.firstPos); }

  get lastTs(): number { return this.length ? this.tsAt(this.length - 1) : NaN; }
}
