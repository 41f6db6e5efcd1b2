/**
 * Big trades: prints with the same timestamp and aggressor side are merged into one market order
 * (ATAS "cumulative trades"), then compared with a threshold that is either absolute (lots) or a
 * rolling percentile of recent merged sizes. Emits after the merged print completes (next print
 * has another ts/side, or flush()).
 */
import type { Side, Trade } from '../core/events.js';

export interface BigTradeOptions {
  /** absolute threshold in lots (used when > 0) */
  minSize: number;
  /** else: percentile (0..1) of the last `window` merged sizes, e.g. 0.99 */
  percentile: number;
  window: number;
  /** merged prints needed before the percentile threshold applies */
  warmup: number;
}

export const DEFAULT_BIG_TRADES: BigTradeOptions = { minSize: 0, percentile: 0.99, window: 2000, warmup: 200 };

export interface BigTrade { ts: number; side: Side; size: number; prints: number; vwapTicks: number; low: number; high: number; threshold: number }

export class BigTradeDetector {
  private readonly o: BigTradeOptions;
  private ts = NaN;
  private side: Side = 'unknown';
  private size = 0;
  private notional = 0;
  private prints = 0;
  private lo = 0;
  private hi = 0;
  /** ring of recent sizes + a sorted copy for the percentile */
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private n = 0;
  private head = 0;

  constructor(opts: Partial<BigTradeOptions>, private readonly emit: (b: BigTrade) => void) {
    this.o = { ...DEFAULT_BIG_TRADES, ...opts };
    this.ring = new Float64Array(this.o.window);
    this.sorted = new Float64Array(this.o.window);
  }

  onTrade(t: Trade): void {
    if (t.ts === this.ts && t.side === this.side) {
      this.size += t.size; this.notional += t.size * t.price; this.prints++;
      if (t.price < this.lo) this.lo = t.price;
      if (t.price > this.hi) this.hi = t.price;
      return;
    }
    this.flush();
    this.ts = t.ts; this.side = t.side; this.size = t.size; this.notional = t.size * t.price; this.prints = 1; this.lo = this.hi = t.price;
  }

  flush(): void {
    if (this.prints === 0) return;
    const thr = this.threshold();
    if (this.size >= thr) this.emit({ ts: this.ts, side: this.side, size: this.size, prints: this.prints, vwapTicks: this.notional / this.size, low: this.lo, high: this.hi, threshold: thr });
    this.remember(this.size);
    this.prints = 0;
  }

  /** current threshold in lots (Infinity during percentile warm-up) */
  threshold(): number {
    if (this.o.minSize > 0) return this.o.minSize;
    if (this.n < this.o.warmup) return Infinity;
    const idx = Math.min(this.n - 1, Math.floor(this.o.percentile * this.n));
    return this.sorted[idx];
  }

  private remember(x: number): void {
    const s = this.sorted;
    if (this.n === this.o.window) {
      const old = this.ring[this.head];
      const i = lowerBound(s, this.n, old);
      s.copyWithin(i, i + 1, this.n);
      this.n--;
    }
    const j = lowerBound(s, this.n, x);
    s.copyWithin(j + 1, j, this.n);
    s[j] = x;
    this.n++;
    this.ring[this.head] = x;
    this.head = (this.head + 1) % this.o.window;
  }
}

function lowerBound(a: Float64Array, n: number, x: number): number {
  let lo = 0, hi = n;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] < x) lo = m + 1; else hi = m; }
  return lo;
}
