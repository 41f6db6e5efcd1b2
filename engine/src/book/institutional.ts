/**
 * Institutional ratio per level (docs/definitions/book.md §Institutional ratio).
 *
 * For a level (side, price) observed from its first appearance:
 *   area      = ∫ displayedSize dt over the time the level existed (lots·ms)
 *   lifetime  = time the level existed with size > 0 (ms)
 *   avgShown  = area / lifetime
 *   turnover  = traded / avgShown          (how many times the average displayed size traded)
 *   ratio     = turnover / (lifetime / 60 000) = traded · 60 000 / area
 * i.e. displayed-size turnovers per minute of existence. To keep flickering levels from exploding,
 * lifetime is floored at `minLifetimeMs` (default 1 000 ms): ratio = traded·60 000 / max(area, avgShown·minLifetimeMs).
 * Traded volume: trades at that price against that side (buy aggressor → ask, sell → bid).
 * Levels gone (size 0) for more than `ttlMs` (default 5 min) are forgotten.
 */
import type { Trade } from '../core/events.js';
import type { BookSide } from './order-book.js';

export interface LevelLiquidityStats {
  side: BookSide;
  price: number;
  traded: number;
  /** lots·ms */
  area: number;
  lifetimeMs: number;
  avgDisplayed: number;
  turnover: number;
  /** turnovers per minute of existence */
  ratio: number;
}

interface Track {
  side: BookSide;
  price: number;
  size: number;
  since: number;
  area: number;
  lifetime: number;
  traded: number;
  lastTs: number;
}

export interface InstitutionalOptions {
  minLifetimeMs?: number;
  ttlMs?: number;
  /** levels tracked at most (least recently active dropped); default 50 000 */
  maxLevels?: number;
}

const keyOf = (side: BookSide, price: number): number => (side === 'bid' ? price * 2 : price * 2 + 1);

export class InstitutionalTracker {
  private readonly levels = new Map<number, Track>();
  private readonly minLife: number;
  private readonly ttl: number;
  private readonly maxLevels: number;
  private lastPrune = -Infinity;

  constructor(opts: InstitutionalOptions = {}) {
    this.minLife = opts.minLifetimeMs ?? 1_000;
    this.ttl = opts.ttlMs ?? 300_000;
    this.maxLevels = opts.maxLevels ?? 50_000;
  }

  private advance(t: Track, ts: number): void {
    if (t.size > 0 && ts > t.since) {
      t.area += t.size * (ts - t.since);
      t.lifetime += ts - t.since;
    }
    t.since = ts;
  }

  onLevel(side: BookSide, price: number, size: number, _prevSize: number, ts: number): void {
    const key = keyOf(side, price);
    let t = this.levels.get(key);
    if (!t) {
      if (!(size > 0)) return;
      if (this.levels.size >= this.maxLevels) this.prune(ts, true);
      t = { side, price, size: 0, since: ts, area: 0, lifetime: 0, traded: 0, lastTs: ts };
      this.levels.set(key, t);
    }
    this.advance(t, ts);
    t.size = size > 0 ? size : 0;
    t.lastTs = ts;
    if (ts - this.lastPrune > this.ttl) this.prune(ts, false);
  }

  onTrade(tr: Trade): void {
    if (tr.side === 'unknown') return;
    const t = this.levels.get(keyOf(tr.side === 'buy' ? 'ask' : 'bid', tr.price));
    if (!t) return;
    t.traded += tr.size;
    t.lastTs = tr.ts;
  }

  /** Stats of a level as of `now` (its running area is integrated up to now). */
  stats(side: BookSide, price: number, now: number): LevelLiquidityStats | undefined {
    const t = this.levels.get(keyOf(side, price));
    return t ? this.compute(t, now) : undefined;
  }

  /** Levels sorted by ratio, highest first. */
  top(n: number, now: number): LevelLiquidityStats[] {
    const out: LevelLiquidityStats[] = [];
    for (const t of this.levels.values()) if (t.traded > 0) out.push(this.compute(t, now));
    out.sort((a, b) => b.ratio - a.ratio);
    return out.slice(0, n);
  }

  private compute(t: Track, now: number): LevelLiquidityStats {
    const extra = t.size > 0 && now > t.since ? now - t.since : 0;
    const area = t.area + t.size * extra;
    const lifetime = t.lifetime + extra;
    const avg = lifetime > 0 ? area / lifetime : t.size;
    const turnover = avg > 0 ? t.traded / avg : t.traded > 0 ? Infinity : 0;
    const denom = Math.max(area, avg * this.minLife);
    const ratio = denom > 0 ? (t.traded * 60_000) / denom : t.traded > 0 ? Infinity : 0;
    return { side: t.side, price: t.price, traded: t.traded, area, lifetimeMs: lifetime, avgDisplayed: avg, turnover, ratio };
  }

  get size(): number { return this.levels.size; }

  private prune(now: number, force: boolean): void {
    this.lastPrune = now;
    let oldestK = NaN;
    let oldestT = Infinity;
    for (const [k, t] of this.levels) {
      if (t.size === 0 && now - t.lastTs > this.ttl) this.levels.delete(k);
      else if (t.lastTs < oldestT) { oldestT = t.lastTs; oldestK = k; }
    }
    if (force && this.levels.size >= this.maxLevels) this.levels.delete(oldestK);
  }
}
