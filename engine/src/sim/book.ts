/**
 * The simulator's own aggregated limit order book: per-level queue sizes (lots) on a dense window
 * of price levels ("grid" units; the simulator maps grid → ticks with `levelTicks`). Best bid/ask
 * are tracked incrementally; the window is re-centred when the touch drifts towards an edge.
 * No individual orders: scenarios that need order-like behaviour (icebergs, a defended level) use
 * a level reserve in the simulator.
 */

export const BID = 0;
export const ASK = 1;
export type BookSide = typeof BID | typeof ASK;

export class LevelBook {
  readonly width: number;
  /** grid price of index 0 */
  base: number;
  private readonly bid: Float64Array;
  private readonly ask: Float64Array;
  /** index of the best bid, -1 when the bid side is empty */
  private bb = -1;
  /** index of the best ask, `width` when the ask side is empty */
  private ba: number;

  constructor(centre: number, width = 8192) {
    this.width = width;
    this.base = centre - (width >> 1);
    this.bid = new Float64Array(width);
    this.ask = new Float64Array(width);
    this.ba = width;
  }

  /** Best bid grid price, NaN when empty. */
  bestBid(): number {
    return this.bb < 0 ? NaN : this.base + this.bb;
  }

  /** Best ask grid price, NaN when empty. */
  bestAsk(): number {
    return this.ba >= this.width ? NaN : this.base + this.ba;
  }

  bestBidSize(): number {
    return this.bb < 0 ? 0 : this.bid[this.bb];
  }

  bestAskSize(): number {
    return this.ba >= this.width ? 0 : this.ask[this.ba];
  }

  inWindow(g: number): boolean {
    const i = g - this.base;
    return i >= 0 && i < this.width;
  }

  size(side: BookSide, g: number): number {
    const i = g - this.base;
    if (i < 0 || i >= this.width) return 0;
    return side === BID ? this.bid[i] : this.ask[i];
  }

  /** Add resting size. The caller guarantees the price does not cross the opposite side. */
  add(side: BookSide, g: number, q: number): void {
    const i = g - this.base;
    if (i < 0 || i >= this.width || q <= 0) return;
    if (side === BID) {
      this.bid[i] += q;
      if (i > this.bb) this.bb = i;
    } else {
      this.ask[i] += q;
      if (i < this.ba) this.ba = i;
    }
  }

  /** Remove up to q lots; returns the amount removed. */
  remove(side: BookSide, g: number, q: number): number {
    const i = g - this.base;
    if (i < 0 || i >= this.width || q <= 0) return 0;
    const arr = side === BID ? this.bid : this.ask;
    const cur = arr[i];
    const r = q >= cur ? cur : q;
    const left = cur - r;
    arr[i] = left;
    if (left === 0 && r > 0) {
      if (side === BID) {
        if (i === this.bb) this.bb = this.scanBidDown(i - 1);
      } else if (i === this.ba) this.ba = this.scanAskUp(i + 1);
    }
    return r;
  }

  /** Next non-empty bid level strictly below grid price g (NaN when none). */
  nextBidBelow(g: number): number {
    const i = this.scanBidDown(Math.min(g - this.base - 1, this.width - 1));
    return i < 0 ? NaN : this.base + i;
  }

  /** Next non-empty ask level strictly above grid price g (NaN when none). */
  nextAskAbove(g: number): number {
    const i = this.scanAskUp(Math.max(g - this.base + 1, 0));
    return i >= this.width ? NaN : this.base + i;
  }

  private scanBidDown(from: number): number {
    const a = this.bid;
    let i = from;
    while (i >= 0 && a[i] === 0) i--;
    return i;
  }

  private scanAskUp(from: number): number {
    const a = this.ask;
    const w = this.width;
    let i = from;
    while (i < w && a[i] === 0) i++;
    return i;
  }

  /** Levels from the touch outwards as [gridPrice, size] pairs (at most `max`). */
  levels(side: BookSide, max = Infinity): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (side === BID) {
      for (let i = this.bb; i >= 0 && out.length < max; i--) if (this.bid[i] > 0) out.push([this.base + i, this.bid[i]]);
    } else {
      for (let i = this.ba; i < this.width && out.length < max; i++) if (this.ask[i] > 0) out.push([this.base + i, this.ask[i]]);
    }
    return out;
  }

  /** Total size at bid prices strictly above g (or ask prices strictly below g). */
  sizeBetterThan(side: BookSide, g: number): number {
    let s = 0;
    if (side === BID) {
      for (let i = this.bb; i >= 0 && this.base + i > g; i--) s += this.bid[i];
    } else {
      for (let i = this.ba; i < this.width && this.base + i < g; i++) s += this.ask[i];
    }
    return s;
  }

  /** True when the touch has drifted into the outer quarter of the window. */
  needsRecentre(): boolean {
    const q = this.width >> 2;
    return (this.bb >= 0 && (this.bb < q || this.bb >= this.width - q)) || (this.ba < this.width && (this.ba < q || this.ba >= this.width - q));
  }

  /**
   * Shift the window so the touch sits in the middle; levels that fall outside are dropped and
   * reported through `onDrop(side, gridPrice)` so the caller can publish their removal.
   */
  recentre(onDrop: (side: BookSide, g: number) => void): void {
    const bb = this.bb >= 0 ? this.bb : this.ba - 1;
    const ba = this.ba < this.width ? this.ba : this.bb + 1;
    const mid = (bb + ba) >> 1;
    const shift = mid - (this.width >> 1);
    if (shift === 0) return;
    const w = this.width;
    for (const side of [BID, ASK] as const) {
      const arr = side === BID ? this.bid : this.ask;
      for (let i = 0; i < w; i++) {
        const j = i - shift;
        if (arr[i] > 0 && (j < 0 || j >= w)) onDrop(side, this.base + i);
      }
      if (shift > 0) {
        arr.copyWithin(0, shift);
        arr.fill(0, w - shift);
      } else {
        arr.copyWithin(-shift, 0, w + shift);
        arr.fill(0, 0, -shift);
      }
    }
    this.base += shift;
    this.bb = this.scanBidDown(w - 1);
    this.ba = this.scanAskUp(0);
  }
}
