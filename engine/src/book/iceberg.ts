/**
 * Iceberg detection (docs/definitions/book.md §Icebergs).
 *
 * L2 inference (IcebergDetector): a candidate is opened at a level when a trade prints there
 * (resting side = opposite of the aggressor; unknown sides are inferred from the book touch).
 * Per candidate we track executed volume, the displayed size (reference = size shown before the
 * consumption, displayedMax = largest size shown) and refills. A refill is a level update where the
 * size comes back above what trades left (new > max(0, prev − traded since last update)):
 *   - within `refillWindowMs` (500 ms) of the consuming trade (an exchange reloads an iceberg at once),
 *   - to within ±`refillTolerance` (20 %) of the reference displayed size,
 *   - after trades consumed at least (1 − tolerance) of it or emptied the level,
 *   - and the level held: no trade printed beyond it on its side since the consumption (a bid that
 *     was traded through and later re-quoted is not a refill; the candidate ends).
 *   c_refill = 1 − 0.5^refills
 *   c_exec   = clamp((executed / displayedMax − 1) / 2, 0, 1)   (0 at ≤ 1×, 1 at ≥ 3× the displayed size)
 *   confidence = 1 − (1 − c_refill)(1 − c_exec)
 * Confirmed (onDetect, confirmedAt) when refills >= `minRefills` (3), executed >= `minExecutedRatio` (3)
 * × displayedMax and confidence >= minConfidence (0.7). One detection per level episode: a candidate
 * lives until its level is pulled, traded through, or sees no activity for `expiryMs`; after a
 * detection the same level cannot be reported again for `cooldownMs` (60 s).
 *
 * Exact mode (MboIcebergDetector): with order ids, an order is an iceberg when the same id executes
 * more than the largest size it ever displayed, or is replenished: a modify that keeps the order
 * alive after its displayed slice was fully filled (whatever the new size), or a re-add of the same
 * id after a fill. confidence = 1.
 */
import type { MboEvent, Trade } from '../core/events.js';
import type { BookSide, OrderBook } from './order-book.js';

export interface IcebergEvidence {
  ts: number;
  kind: 'display' | 'trade' | 'refill';
  size: number;
}

export interface Iceberg {
  price: number;
  side: BookSide;
  firstSeenAt: number;
  /** NaN until confirmed */
  confirmedAt: number;
  executed: number;
  displayedMax: number;
  refills: number;
  evidence: IcebergEvidence[];
  confidence: number;
  /** true when detected from order ids (MBO) */
  exact: boolean;
  orderId?: string;
}

export interface IcebergOptions {
  refillTolerance?: number;
  /** max latency (ms) between the consuming trade and the refill; default 500 */
  refillWindowMs?: number;
  minConfidence?: number;
  /** refills required before a detection; default 3 */
  minRefills?: number;
  /** executed volume required, as a multiple of the largest displayed size; default 3 */
  minExecutedRatio?: number;
  /** no new detection at the same level for this long after one; default 60 000 */
  cooldownMs?: number;
  expiryMs?: number;
  /** evidence entries kept per candidate (first ones); default 256 */
  maxEvidence?: number;
  /** live candidates kept (oldest activity dropped first); default 10 000 */
  maxCandidates?: number;
  onDetect?: (ice: Iceberg) => void;
}

export function icebergConfidence(executed: number, displayedMax: number, refills: number): number {
  const cRefill = 1 - Math.pow(0.5, refills);
  const ratio = displayedMax > 0 ? executed / displayedMax : 0;
  const cExec = Math.min(1, Math.max(0, (ratio - 1) / 2));
  return 1 - (1 - cRefill) * (1 - cExec);
}

interface Candidate extends Iceberg {
  ref: number;
  traded: number;
  lastTradeTs: number;
  consumedTs: number;
  lastActivity: number;
}

const keyOf = (side: BookSide, price: number): number => (side === 'bid' ? price * 2 : price * 2 + 1);

function pushEvidence(c: Iceberg, max: number, ts: number, kind: IcebergEvidence['kind'], size: number): void {
  if (c.evidence.length < max) c.evidence.push({ ts, kind, size });
}

export class IcebergDetector {
  private readonly cands = new Map<number, Candidate>();
  /** candidates waiting for a refill after a consumption (checked against trade-throughs) */
  private readonly pending = new Set<Candidate>();
  private readonly lastDetect = new Map<number, number>();
  private readonly tol: number;
  private readonly window: number;
  private readonly minConf: number;
  private readonly minRefills: number;
  private readonly minExec: number;
  private readonly cooldown: number;
  private readonly expiry: number;
  private readonly maxEv: number;
  private readonly maxCands: number;
  private lastPrune = -Infinity;
  /** all confirmed icebergs (bounded by maxCandidates, oldest dropped) */
  readonly detected: Iceberg[] = [];

  constructor(private readonly book: OrderBook, private readonly opts: IcebergOptions = {}) {
    this.tol = opts.refillTolerance ?? 0.2;
    this.window = opts.refillWindowMs ?? 500;
    this.minConf = opts.minConfidence ?? 0.7;
    this.minRefills = opts.minRefills ?? 3;
    this.minExec = opts.minExecutedRatio ?? 3;
    this.cooldown = opts.cooldownMs ?? 60_000;
    this.expiry = opts.expiryMs ?? 30_000;
    this.maxEv = opts.maxEvidence ?? 256;
    this.maxCands = opts.maxCandidates ?? 10_000;
  }

  private end(key: number, c: Candidate): void {
    this.cands.delete(key);
    this.pending.delete(c);
  }

  onTrade(t: Trade): void {
    let side: BookSide;
    if (t.side === 'buy') side = 'ask';
    else if (t.side === 'sell') side = 'bid';
    else if (t.price >= this.book.bestAsk()) side = 'ask';
    else if (t.price <= this.book.bestBid()) side = 'bid';
    else return;
    // a trade beyond a consumed level on its side: the level gave way (traded through)
    if (this.pending.size) {
      for (const p of this.pending) {
        if (p.side !== side) continue;
        if (side === 'bid' ? t.price < p.price : t.price > p.price) this.end(keyOf(p.side, p.price), p);
        else if (t.ts - p.consumedTs > this.window) this.pending.delete(p);
      }
    }
    const key = keyOf(side, t.price);
    let c = this.cands.get(key);
    if (!c) {
      const shown = this.book.sizeAt(side, t.price);
      const disp = shown > 0 ? shown : t.size;
      c = { price: t.price, side, firstSeenAt: t.ts, confirmedAt: NaN, executed: 0, displayedMax: disp, refills: 0, evidence: [], confidence: 0, exact: false, ref: disp, traded: 0, lastTradeTs: t.ts, consumedTs: -Infinity, lastActivity: t.ts };
      pushEvidence(c, this.maxEv, t.ts, 'display', disp);
      if (this.cands.size >= this.maxCands) this.dropOldest();
      this.cands.set(key, c);
    }
    c.executed += t.size;
    c.traded += t.size;
    c.lastTradeTs = t.ts;
    c.lastActivity = t.ts;
    pushEvidence(c, this.maxEv, t.ts, 'trade', t.size);
    this.update(c, t.ts);
    this.maybePrune(t.ts);
  }

  /** Level change (same hook signature as BookSync's onLevel). */
  onLevel(side: BookSide, price: number, size: number, prevSize: number, ts: number): void {
    const key = keyOf(side, price);
    const c = this.cands.get(key);
    if (!c) return;
    const T = c.traded;
    c.traded = 0;
    const expected = Math.max(0, prevSize - T);
    const tol = this.tol;
    if (T > 0 && size <= expected) {
      // consumption (possibly with a pull on top)
      const pulled = expected - size;
      if (pulled > tol * c.ref) { this.end(key, c); return; } // liquidity pulled: the episode ends
      if (T >= (1 - tol) * c.ref || size === 0) { c.consumedTs = ts; this.pending.add(c); }
      c.lastActivity = ts;
      return;
    }
    if (size > expected) {
      const consumed = T >= (1 - tol) * c.ref || ts - c.consumedTs <= this.window;
      const recent = ts - c.lastTradeTs <= this.window;
      const similar = Math.abs(size - c.ref) <= tol * c.ref;
      if (consumed && recent && similar) {
        c.refills++;
        c.consumedTs = -Infinity;
        this.pending.delete(c);
        pushEvidence(c, this.maxEv, ts, 'refill', size);
      } else if (T === 0) {
        if (c.refills > 0 && c.consumedTs > -Infinity && ts - c.consumedTs > this.window) {
          // emptied or consumed, and re-shown too late: not a reload, the episode ends
          this.end(key, c);
          return;
        }
        // an ordinary change of the displayed size, no consumption pending
        if (size > 0 && c.refills === 0) c.ref = size;
        pushEvidence(c, this.maxEv, ts, 'display', size);
      }
      if (size > c.displayedMax) c.displayedMax = size;
      c.lastActivity = ts;
      this.update(c, ts);
      return;
    }
    // decrease without trades: a pull ends the episode
    if (size < prevSize && prevSize - size > tol * c.ref) this.end(key, c);
  }

  private update(c: Candidate, ts: number): void {
    c.confidence = icebergConfidence(c.executed, c.displayedMax, c.refills);
    if (c.confirmedAt !== c.confirmedAt && c.confidence >= this.minConf && c.refills >= this.minRefills && c.executed >= this.minExec * c.displayedMax) {
      const key = keyOf(c.side, c.price);
      const last = this.lastDetect.get(key);
      if (last !== undefined && ts - last < this.cooldown) return;
      this.lastDetect.set(key, ts);
      c.confirmedAt = ts;
      if (this.detected.length >= this.maxCands) this.detected.shift();
      this.detected.push(c);
      this.opts.onDetect?.(c);
    }
  }

  /** Live candidates (confirmed or not). */
  candidates(): Iceberg[] { return [...this.cands.values()]; }

  get(side: BookSide, price: number): Iceberg | undefined { return this.cands.get(keyOf(side, price)); }

  private dropOldest(): void {
    let oldK = NaN;
    let oldT = Infinity;
    for (const [k, c] of this.cands) if (c.lastActivity < oldT) { oldT = c.lastActivity; oldK = k; }
    const c = this.cands.get(oldK);
    if (c) this.end(oldK, c);
  }

  private maybePrune(now: number): void {
    if (now - this.lastPrune < this.expiry) return;
    this.lastPrune = now;
    for (const [k, c] of this.cands) if (now - c.lastActivity > this.expiry) this.end(k, c);
    for (const [k, t] of this.lastDetect) if (now - t > this.cooldown) this.lastDetect.delete(k);
  }
}

interface OrderTrack {
  ice: Iceberg;
  size: number;
  lastDisplay: number;
  filledSinceDisplay: number;
  removedAt: number;
}

/**
 * Exact iceberg detection from MBO events (feed every event, in order, e.g. next to MboBook.apply).
 */
export class MboIcebergDetector {
  private readonly orders = new Map<string, OrderTrack>();
  private readonly expiry: number;
  private readonly maxEv: number;
  private lastPrune = -Infinity;
  readonly detected: Iceberg[] = [];

  constructor(private readonly opts: IcebergOptions = {}) {
    this.expiry = opts.expiryMs ?? 30_000;
    this.maxEv = opts.maxEvidence ?? 256;
  }

  onEvent(ev: MboEvent): void {
    switch (ev.action) {
      case 'A': {
        const side: BookSide | null = ev.side === 'buy' ? 'bid' : ev.side === 'sell' ? 'ask' : null;
        if (!side) return;
        const o = this.orders.get(ev.orderId);
        if (o && o.ice.price === ev.price && o.ice.side === side && o.ice.executed > 0) {
          o.removedAt = NaN;
          this.display(o, ev, true);
        } else {
          this.orders.set(ev.orderId, {
            ice: { price: ev.price, side, firstSeenAt: ev.ts, confirmedAt: NaN, executed: 0, displayedMax: ev.size, refills: 0, evidence: [{ ts: ev.ts, kind: 'display', size: ev.size }], confidence: 0, exact: true, orderId: ev.orderId },
            size: ev.size, lastDisplay: ev.size, filledSinceDisplay: 0, removedAt: NaN,
          });
        }
        break;
      }
      case 'M': {
        const o = this.orders.get(ev.orderId);
        if (!o) return;
        if (ev.price !== o.ice.price) {
          // moved: a new display at another price; history restarts
          o.ice.price = ev.price;
          o.ice.executed = 0;
          o.ice.displayedMax = ev.size;
          o.ice.refills = 0;
          o.size = o.lastDisplay = ev.size;
          o.filledSinceDisplay = 0;
          return;
        }
        // the displayed slice was fully executed and the order is still there: replenished
        // (the venue may re-show the same size, so no size increase is required)
        const depleted = o.filledSinceDisplay > 0 && o.filledSinceDisplay >= o.lastDisplay;
        if (depleted && ev.size > 0) this.display(o, ev, true);
        else if (ev.size > o.size) this.display(o, ev, false);
        else o.size = ev.size;
        break;
      }
      case 'F': {
        const o = this.orders.get(ev.orderId);
        if (!o) return;
        o.ice.executed += ev.size;
        o.filledSinceDisplay += ev.size;
        if (o.ice.evidence.length < this.maxEv) o.ice.evidence.push({ ts: ev.ts, kind: 'trade', size: ev.size });
        this.check(o, ev.ts);
        break;
      }
      case 'C': {
        const o = this.orders.get(ev.orderId);
        if (!o) return;
        if (o.ice.executed > 0) o.removedAt = ev.ts;
        else this.orders.delete(ev.orderId);
        break;
      }
      case 'R':
        this.orders.clear();
        break;
      default:
        break;
    }
    this.maybePrune(ev.ts);
  }

  private display(o: OrderTrack, ev: MboEvent, refill: boolean): void {
    if (refill) {
      o.ice.refills++;
      if (o.ice.evidence.length < this.maxEv) o.ice.evidence.push({ ts: ev.ts, kind: 'refill', size: ev.size });
    } else if (o.ice.evidence.length < this.maxEv) o.ice.evidence.push({ ts: ev.ts, kind: 'display', size: ev.size });
    o.size = ev.size;
    o.lastDisplay = ev.size;
    o.filledSinceDisplay = 0;
    if (ev.size > o.ice.displayedMax) o.ice.displayedMax = ev.size;
    this.check(o, ev.ts);
  }

  private check(o: OrderTrack, ts: number): void {
    const ice = o.ice;
    if (ice.confirmedAt === ice.confirmedAt) return;
    if (ice.executed > ice.displayedMax || ice.refills > 0) {
      ice.confidence = 1;
      ice.confirmedAt = ts;
      this.detected.push(ice);
      if (this.detected.length > 100_000) this.detected.shift();
      this.opts.onDetect?.(ice);
    }
  }

  get(orderId: string): Iceberg | undefined { return this.orders.get(orderId)?.ice; }

  private maybePrune(now: number): void {
    if (now - this.lastPrune < this.expiry) return;
    this.lastPrune = now;
    for (const [k, o] of this.orders) if (now - o.removedAt > this.expiry) this.orders.delete(k);
  }
}
