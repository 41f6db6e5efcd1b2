/**
 * Depth history as run-length encoded "order runs" (flowsurface style): per price and side a run
 * {price, side, startTs, endTs, size} of (nearly) constant displayed size. A level update extends the
 * open run when |new − run.size| < coalesce × run.size (default 15 %; run.size becomes the running
 * mean of the coalesced sizes and run.maxSize their maximum), otherwise it closes the run at the
 * update time and opens a new one; size 0 closes it.
 *
 * Bounded memory: closed runs ending before now − windowMs are pruned, as are runs (open or closed)
 * farther than rangeTicks from the mid given by setMid(); updates outside ±rangeTicks of the mid
 * are not recorded; at most maxRuns closed runs are kept (oldest dropped).
 */
import type { BookSide, OrderBook } from './order-book.js';

export interface OrderRun {
  price: number;
  side: BookSide;
  startTs: number;
  /** end time; for an open run, the time of its last update (use `open`) */
  endTs: number;
  size: number;
  maxSize: number;
  open: boolean;
}

export interface DepthHistoryOptions {
  /** keep closed runs that ended within this window; default 1 h */
  windowMs?: number;
  /** keep runs within ±rangeTicks of the mid; default Infinity */
  rangeTicks?: number;
  /** relative size change below which updates coalesce into the open run; default 0.15 */
  coalesce?: number;
  /** maximum closed runs kept; default 500 000 */
  maxRuns?: number;
  /** prune at most once per this interval of event time; default 1 000 ms */
  pruneEveryMs?: number;
}

interface OpenRun extends OrderRun { n: number }

const keyOf = (side: BookSide, price: number): number => (side === 'bid' ? price * 2 : price * 2 + 1);

export class DepthHistory {
  private readonly openRuns = new Map<number, OpenRun>();
  private closed: OrderRun[] = [];
  private head = 0;
  private mid = NaN;
  private now = -Infinity;
  private lastPrune = -Infinity;
  private readonly windowMs: number;
  private readonly range: number;
  private readonly coalesce: number;
  private readonly maxRuns: number;
  private readonly pruneEvery: number;

  constructor(opts: DepthHistoryOptions = {}) {
    this.windowMs = opts.windowMs ?? 3_600_000;
    this.range = opts.rangeTicks ?? Infinity;
    this.coalesce = opts.coalesce ?? 0.15;
    this.maxRuns = opts.maxRuns ?? 500_000;
    this.pruneEvery = opts.pruneEveryMs ?? 1_000;
  }

  /** Current mid in ticks, for the ±rangeTicks bound. */
  setMid(mid: number): void { this.mid = mid; }

  private inRange(price: number): boolean {
    return !(Math.abs(price - this.mid) > this.range);
  }

  onLevel(side: BookSide, price: number, size: number, ts: number): void {
    if (ts > this.now) this.now = ts;
    const key = keyOf(side, price);
    const run = this.openRuns.get(key);
    if (run) {
      if (size > 0 && Math.abs(size - run.size) < this.coalesce * run.size) {
        run.size = (run.size * run.n + size) / (run.n + 1);
        run.n++;
        if (size > run.maxSize) run.maxSize = size;
        run.endTs = ts;
        return;
      }
      this.close(key, run, ts);
    }
    if (size > 0 && this.inRange(price)) {
      this.openRuns.set(key, { price, side, startTs: ts, endTs: ts, size, maxSize: size, open: true, n: 1 });
    }
    if (ts - this.lastPrune >= this.pruneEvery) this.prune(ts);
  }

  /** A snapshot replaced the book: close every open run and open runs for the new levels in range. */
  onSnapshot(book: OrderBook, ts: number): void {
    for (const [k, r] of this.openRuns) this.close(k, r, ts);
    for (const side of ['bid', 'ask'] as const) {
      const lv = book.side(side);
      for (let i = 0; i < lv.count; i++) {
        const p = lv.priceAt(i);
        if (!this.inRange(p)) break;
        this.onLevel(side, p, lv.sizeAt(i), ts);
      }
    }
  }

  private close(key: number, run: OpenRun, ts: number): void {
    this.openRuns.delete(key);
    this.closed.push({ price: run.price, side: run.side, startTs: run.startTs, endTs: ts, size: run.size, maxSize: run.maxSize, open: false });
    if (this.closed.length - this.head > this.maxRuns) this.head++;
  }

  /** Drop runs that ended before now − windowMs and runs outside ±rangeTicks of the mid. */
  prune(now = this.now): void {
    this.lastPrune = now;
    const cutoff = now - this.windowMs;
    const c = this.closed;
    let h = this.head;
    while (h < c.length && c[h]!.endTs < cutoff) h++;
    if (Number.isFinite(this.range) && !Number.isNaN(this.mid)) {
      for (const [k, r] of this.openRuns) if (!this.inRange(r.price)) this.close(k, r, now);
      let w = h;
      for (let i = h; i < c.length; i++) if (this.inRange(c[i]!.price)) c[w++] = c[i]!;
      c.length = w;
    }
    if (h > 1024 && h * 2 > c.length) {
      this.closed = c.slice(h);
      h = 0;
    }
    this.head = h;
  }

  /** Runs overlapping [from, to): closed runs first (by end time), then open runs (endTs = now). */
  runs(from = -Infinity, to = Infinity): OrderRun[] {
    const out: OrderRun[] = [];
    const c = this.closed;
    for (let i = this.head; i < c.length; i++) {
      const r = c[i]!;
      if (r.endTs > from && r.startTs < to) out.push(r);
    }
    for (const r of this.openRuns.values()) {
      if (r.startTs < to) out.push({ price: r.price, side: r.side, startTs: r.startTs, endTs: Math.max(r.endTs, this.now), size: r.size, maxSize: r.maxSize, open: true });
    }
    return out;
  }

  /** Runs of one bar [start, end), each clipped to the bar. */
  bar(start: number, end: number): OrderRun[] {
    return this.runs(start, end).map((r) => ({ ...r, startTs: Math.max(r.startTs, start), endTs: Math.min(r.endTs, end) }));
  }

  get openRunCount(): number { return this.openRuns.size; }
  get closedRunCount(): number { return this.closed.length - this.head; }
}
