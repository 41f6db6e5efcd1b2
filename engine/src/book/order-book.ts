/**
 * L2 order book keyed by integer tick prices.
 *
 * Each side is a pair of parallel Float64Arrays (keys, sizes) sorted so that the touch is the LAST
 * element: key = price for bids (ascending), key = -price for asks (ascending key = descending
 * price). Consequences:
 *  - best bid/ask and their sizes are O(1) reads of the last element;
 *  - finding a level is a binary search, O(log n); updating an existing level is O(log n) and
 *    allocation-free;
 *  - inserting/removing a level shifts only the levels between it and the touch (copyWithin), so
 *    the common case (changes near the touch) is cheap, and popping the touch is O(1);
 *  - arrays grow by doubling, so there is no allocation in steady state.
 * Memory is bounded by `maxLevels` per side: when a side exceeds it (plus a small slack) the
 * levels farthest from the touch are dropped (counted in `trimmed`).
 *
 * No Node-specific imports: this runs in browsers too.
 */
import type { Level } from '../core/events.js';

export type BookSide = 'bid' | 'ask';

export interface OrderBookOptions {
  /** maximum levels kept per side (farthest levels are dropped beyond it); default 100 000 */
  maxLevels?: number;
  /** initial capacity per side; default 256 */
  initialCapacity?: number;
}

/** One side of the book. Exported for the analytics; use OrderBook's API in application code. */
export class BookLevels {
  keys: Float64Array;
  sizes: Float64Array;
  count = 0;
  trimmed = 0;
  private readonly sign: number;

  constructor(readonly isBid: boolean, cap: number, private readonly maxLevels: number) {
    this.keys = new Float64Array(cap);
    this.sizes = new Float64Array(cap);
    this.sign = isBid ? 1 : -1;
  }

  /** index of key, or -(insertionPoint + 1) */
  private search(key: number): number {
    const keys = this.keys;
    const n = this.count;
    // fast path: the touch
    if (n > 0) {
      const top = keys[n - 1]!;
      if (key === top) return n - 1;
      if (key > top) return -(n + 1);
    }
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return mid;
    }
    return -(lo + 1);
  }

  /** Set the size at a price (size <= 0 removes). Returns the previous size (0 when absent). */
  set(price: number, size: number): number {
    const key = this.sign * price;
    const i = this.search(key);
    if (i >= 0) {
      const prev = this.sizes[i]!;
      if (size > 0) {
        this.sizes[i] = size;
      } else {
        const n = this.count;
        if (i < n - 1) {
          this.keys.copyWithin(i, i + 1, n);
          this.sizes.copyWithin(i, i + 1, n);
        }
        this.count = n - 1;
      }
      return prev;
    }
    if (size <= 0) return 0;
    const ip = -i - 1;
    const n = this.count;
    if (n === this.keys.length) this.grow(n * 2);
    if (ip < n) {
      this.keys.copyWithin(ip + 1, ip, n);
      this.sizes.copyWithin(ip + 1, ip, n);
    }
    this.keys[ip] = key;
    this.sizes[ip] = size;
    this.count = n + 1;
    if (this.count > this.maxLevels + Math.max(8, this.maxLevels >> 4)) this.trim();
    return 0;
  }

  get(price: number): number {
    const i = this.search(this.sign * price);
    return i >= 0 ? this.sizes[i]! : 0;
  }

  /** distance from the touch (0 = best) of a price, or -1 when absent */
  depthIndex(price: number): number {
    const i = this.search(this.sign * price);
    return i >= 0 ? this.count - 1 - i : -1;
  }

  /** price of the i-th level from the touch (0 = best); NaN when out of range */
  priceAt(i: number): number {
    return i >= 0 && i < this.count ? this.sign * this.keys[this.count - 1 - i]! : NaN;
  }

  /** size of the i-th level from the touch; 0 when out of range */
  sizeAt(i: number): number {
    return i >= 0 && i < this.count ? this.sizes[this.count - 1 - i]! : 0;
  }

  /** remove the touch level; O(1) */
  pop(): void {
    if (this.count > 0) this.count--;
  }

  clear(): void {
    this.count = 0;
  }

  /** Bulk load (snapshot). Levels may come in any order; size <= 0 entries are skipped, a repeated price keeps the last size. */
  load(levels: readonly Level[]): void {
    const n = levels.length;
    if (n > this.keys.length) this.grow(n);
    const sign = this.sign;
    // sort keys ascending; snapshots are usually sorted best-first (descending key) or ascending
    let asc = true;
    let desc = true;
    for (let i = 1; i < n; i++) {
      const a = sign * levels[i - 1]![0];
      const b = sign * levels[i]![0];
      if (b <= a) asc = false;
      if (b >= a) desc = false;
    }
    let order: readonly Level[] = levels;
    if (!asc && !desc) {
      order = [...levels].sort((x, y) => sign * x[0] - sign * y[0]);
      asc = true;
    }
    let c = 0;
    for (let j = 0; j < n; j++) {
      const lv = order[asc ? j : n - 1 - j]!;
      if (!(lv[1] > 0)) continue;
      const key = sign * lv[0];
      if (c > 0 && this.keys[c - 1] === key) {
        this.sizes[c - 1] = lv[1];
        continue;
      }
      this.keys[c] = key;
      this.sizes[c] = lv[1];
      c++;
    }
    this.count = c;
    if (c > this.maxLevels) this.trim();
  }

  private grow(min: number): void {
    let cap = Math.max(16, this.keys.length);
    while (cap < min) cap *= 2;
    const k = new Float64Array(cap);
    const s = new Float64Array(cap);
    k.set(this.keys.subarray(0, this.count));
    s.set(this.sizes.subarray(0, this.count));
    this.keys = k;
    this.sizes = s;
  }

  private trim(): void {
    const drop = this.count - this.maxLevels;
    if (drop <= 0) return;
    this.keys.copyWithin(0, drop, this.count);
    this.sizes.copyWithin(0, drop, this.count);
    this.count -= drop;
    this.trimmed += drop;
  }
}

export class OrderBook {
  readonly bids: BookLevels;
  readonly asks: BookLevels;
  /**
   * false while the venue synchronizer that owns this book is out of sync (before its first snapshot,
   * after a sequence break until the resync): the levels are then not the venue's book. A book nobody
   * synchronizes (tests, MBO replays) is synced.
   */
  synced = true;

  constructor(opts: OrderBookOptions = {}) {
    const max = opts.maxLevels ?? 100_000;
    const cap = opts.initialCapacity ?? 256;
    this.bids = new BookLevels(true, cap, max);
    this.asks = new BookLevels(false, cap, max);
  }

  side(side: BookSide): BookLevels {
    return side === 'bid' ? this.bids : this.asks;
  }

  /** Replace the whole book with a snapshot's levels. */
  applySnapshot(snap: { bids: readonly Level[]; asks: readonly Level[] }): void {
    this.bids.load(snap.bids);
    this.asks.load(snap.asks);
  }

  /** Set one level (size <= 0 removes). Returns the previous size at that price (0 when absent). O(log n). */
  applyLevel(side: BookSide, price: number, size: number): number {
    return (side === 'bid' ? this.bids : this.asks).set(price, size);
  }

  /** Best bid price in ticks, NaN when the side is empty. O(1). */
  bestBid(): number { return this.bids.priceAt(0); }
  bestAsk(): number { return this.asks.priceAt(0); }
  bestBidSize(): number { return this.bids.sizeAt(0); }
  bestAskSize(): number { return this.asks.sizeAt(0); }

  sizeAt(side: BookSide, price: number): number {
    return this.side(side).get(price);
  }

  levelCount(side: BookSide): number {
    return this.side(side).count;
  }

  /** price / size of the i-th level from the touch (0 = best) */
  priceAt(side: BookSide, i: number): number { return this.side(side).priceAt(i); }
  sizeAtIndex(side: BookSide, i: number): number { return this.side(side).sizeAt(i); }

  /** Distance from the touch of a price level (0 = best), -1 when absent. */
  depthIndex(side: BookSide, price: number): number { return this.side(side).depthIndex(price); }

  /**
   * Top `n` levels of a side, best first. Pass `out` to reuse its Level tuples (no allocation once
   * it is large enough); the array is truncated to the number of levels written. O(n).
   */
  depth(side: BookSide, n: number, out: Level[] = []): Level[] {
    const s = this.side(side);
    const m = Math.min(n, s.count);
    for (let i = 0; i < m; i++) {
      const p = s.priceAt(i);
      const z = s.sizeAt(i);
      const lv = out[i];
      if (lv) { lv[0] = p; lv[1] = z; } else out[i] = [p, z];
    }
    out.length = m;
    return out;
  }

  /** Sum of sizes over the top `n` levels of a side. O(n). */
  totalSize(side: BookSide, n = Infinity): number {
    const s = this.side(side);
    const m = Math.min(n, s.count);
    let t = 0;
    for (let i = 0; i < m; i++) t += s.sizeAt(i);
    return t;
  }

  /** Crossed OR locked: best bid >= best ask (both sides present). */
  isCrossed(): boolean {
    return this.bids.count > 0 && this.asks.count > 0 && this.bids.priceAt(0) >= this.asks.priceAt(0);
  }

  /** Spread in ticks (NaN when a side is empty). */
  spread(): number { return this.bestAsk() - this.bestBid(); }

  /** Mid price in ticks (may be x.5; NaN when a side is empty). */
  mid(): number { return (this.bestAsk() + this.bestBid()) / 2; }

  /** Remove the touch level of a side. O(1). */
  removeBest(side: BookSide): void { this.side(side).pop(); }

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  get empty(): boolean { return this.bids.count === 0 && this.asks.count === 0; }

  /** Levels dropped because a side exceeded maxLevels. */
  get trimmed(): number { return this.bids.trimmed + this.asks.trimmed; }

  /** Full copy of the levels, best first (allocates; for tests, snapshots and resync). */
  toLevels(): { bids: Level[]; asks: Level[] } {
    return { bids: this.depth('bid', Infinity), asks: this.depth('ask', Infinity) };
  }

  /** True when both books hold exactly the same levels. */
  equals(other: OrderBook): boolean {
    for (const side of ['bid', 'ask'] as const) {
      const a = this.side(side);
      const b = other.side(side);
      if (a.count !== b.count) return false;
      for (let i = 0; i < a.count; i++) {
        if (a.priceAt(i) !== b.priceAt(i) || a.sizeAt(i) !== b.sizeAt(i)) return false;
      }
    }
    return true;
  }
}
