/**
 * Per-level liquidity attribution from L2 updates + trades (docs/definitions/book.md §Level flow).
 *
 * A trade of size q at price p consumes liquidity on the resting side (buy aggressor → ask, sell
 * aggressor → bid): consumed += q immediately, and q is remembered as "traded since the last update"
 * T at that level. At the next level update prev → new (Δ = new − prev):
 *     r = Δ + T;   r < 0 → pulled += −r;   r > 0 → added += r
 * so that prev + added − pulled − consumed = new. A trade printed up to `graceMs` after an update
 * that was booked as a pull at its level re-labels min(q, that pull) from pulled to consumed
 * (depth and trade streams are not ordered with respect to each other on most venues).
 * Trades with an unknown side are ignored. Pending T older than `pendingTtlMs` is forgotten.
 */
import type { Trade } from '../core/events.js';
import type { BookSide } from './order-book.js';

export interface LevelFlow {
  side: BookSide;
  price: number;
  added: number;
  pulled: number;
  consumed: number;
}

export interface FlowTotals { added: number; pulled: number; consumed: number }

export interface LevelFlowBar {
  start: number;
  end: number;
  levels: LevelFlow[];
  bid: FlowTotals;
  ask: FlowTotals;
}

export interface LevelFlowOptions {
  /** bar length in ms; when set, bars roll automatically on event time and go to onBar */
  barMs?: number;
  onBar?: (bar: LevelFlowBar) => void;
  /** default 100 ms */
  graceMs?: number;
  /** default 10 000 ms */
  pendingTtlMs?: number;
}

interface LevelState {
  pendingT: number;
  pendingTs: number;
  lastPull: number;
  lastPullTs: number;
  lastPullBar: number;
}

const keyOf = (side: BookSide, price: number): number => (side === 'bid' ? price * 2 : price * 2 + 1);

export class LevelFlowTracker {
  private readonly state = new Map<number, LevelState>();
  private cur = new Map<number, LevelFlow>();
  private barStart = NaN;
  private barIndex = 0;
  private readonly bid: FlowTotals = { added: 0, pulled: 0, consumed: 0 };
  private readonly ask: FlowTotals = { added: 0, pulled: 0, consumed: 0 };
  private readonly graceMs: number;
  private readonly ttl: number;
  private lastPrune = 0;

  constructor(private readonly opts: LevelFlowOptions = {}) {
    this.graceMs = opts.graceMs ?? 100;
    this.ttl = opts.pendingTtlMs ?? 10_000;
  }

  private roll(ts: number): void {
    const bm = this.opts.barMs;
    if (!bm) return;
    const start = Math.floor(ts / bm) * bm;
    if (Number.isNaN(this.barStart)) { this.barStart = start; return; }
    if (start > this.barStart) {
      const bar = this.closeBar(this.barStart + bm);
      this.barStart = start;
      this.opts.onBar?.(bar);
    }
  }

  private st(key: number): LevelState {
    let s = this.state.get(key);
    if (!s) {
      s = { pendingT: 0, pendingTs: 0, lastPull: 0, lastPullTs: -Infinity, lastPullBar: -1 };
      this.state.set(key, s);
    }
    return s;
  }

  private flow(side: BookSide, price: number, key: number): LevelFlow {
    let f = this.cur.get(key);
    if (!f) {
      f = { side, price, added: 0, pulled: 0, consumed: 0 };
      this.cur.set(key, f);
    }
    return f;
  }

  onTrade(t: Trade): void {
    if (t.side === 'unknown') return;
    this.roll(t.ts);
    const side: BookSide = t.side === 'buy' ? 'ask' : 'bid';
    const key = keyOf(side, t.price);
    const s = this.st(key);
    const f = this.flow(side, t.price, key);
    const tot = side === 'bid' ? this.bid : this.ask;
    f.consumed += t.size;
    tot.consumed += t.size;
    let q = t.size;
    if (s.lastPull > 0 && t.ts - s.lastPullTs <= this.graceMs && s.lastPullBar === this.barIndex) {
      const re = Math.min(q, s.lastPull);
      s.lastPull -= re;
      f.pulled -= re;
      tot.pulled -= re;
      q -= re;
    }
    if (q > 0) {
      s.pendingT += q;
      s.pendingTs = t.ts;
    }
    this.maybePrune(t.ts);
  }

  /** A level changed from prevSize to size (0 = removed). */
  onLevel(side: BookSide, price: number, size: number, prevSize: number, ts: number): void {
    this.roll(ts);
    const key = keyOf(side, price);
    const s = this.state.get(key);
    let T = 0;
    if (s) {
      if (s.pendingT > 0 && ts - s.pendingTs <= this.ttl) T = s.pendingT;
      s.pendingT = 0;
      s.lastPull = 0;
    }
    const r = size - prevSize + T;
    if (r === 0) return;
    const f = this.flow(side, price, key);
    const tot = side === 'bid' ? this.bid : this.ask;
    if (r < 0) {
      f.pulled -= r;
      tot.pulled -= r;
      const ss = s ?? this.st(key);
      ss.lastPull = -r;
      ss.lastPullTs = ts;
      ss.lastPullBar = this.barIndex;
    } else {
      f.added += r;
      tot.added += r;
    }
    this.maybePrune(ts);
  }

  /** Current (open) bar's per-level flows. */
  levels(): LevelFlow[] { return [...this.cur.values()]; }
  totals(side: BookSide): FlowTotals { return { ...(side === 'bid' ? this.bid : this.ask) }; }
  flowAt(side: BookSide, price: number): LevelFlow | undefined { return this.cur.get(keyOf(side, price)); }

  /** Close the current bar (manually, or automatically with barMs) and start a new one. */
  closeBar(end = NaN): LevelFlowBar {
    const levels = [...this.cur.values()].sort((a, b) => (a.side === b.side ? b.price - a.price : a.side === 'ask' ? -1 : 1));
    const bar: LevelFlowBar = { start: this.barStart, end, levels, bid: { ...this.bid }, ask: { ...this.ask } };
    this.cur = new Map();
    this.bid.added = this.bid.pulled = this.bid.consumed = 0;
    this.ask.added = this.ask.pulled = this.ask.consumed = 0;
    this.barIndex++;
    return bar;
  }

  private maybePrune(now: number): void {
    if (now - this.lastPrune < this.ttl) return;
    this.lastPrune = now;
    for (const [k, s] of this.state) {
      if (now - s.pendingTs > this.ttl && now - s.lastPullTs > this.ttl) this.state.delete(k);
    }
  }
}
