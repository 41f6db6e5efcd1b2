/**
 * Aggressor-side classification ladder for feeds without (reliable) aggressor flags:
 *   flag → quote rule (Lee–Ready: vs prevailing bid/ask; at the mid → tick rule) → tick rule
 *   → mid-price tick rule for quote-only feeds (each quote update = one unit of tick volume).
 * The rung used is written to trade.sideSource so every number downstream can say how it was derived.
 */
import type { Quote, Side, Trade } from './events.js';

export interface ClassifierOptions {
  /** trust venue flags when present (default true) */
  useFlags: boolean;
  /** use the prevailing quote when one is known (default true) */
  useQuotes: boolean;
  /** a quote older than this (ms) is not "prevailing"; 0 = any age (default 0) */
  maxQuoteAgeMs: number;
}

export const DEFAULT_CLASSIFIER: ClassifierOptions = { useFlags: true, useQuotes: true, maxQuoteAgeMs: 0 };

export class SideClassifier {
  private readonly opts: ClassifierOptions;
  private bid = NaN;
  private ask = NaN;
  private quoteTs = -Infinity;
  private lastPrice = NaN;
  /** sign carried by the tick rule through zero ticks: 1 buy, -1 sell, 0 none */
  private lastSign = 0;
  private lastMid2 = NaN;
  private lastMidSign = 0;

  constructor(opts: Partial<ClassifierOptions> = {}) {
    this.opts = { ...DEFAULT_CLASSIFIER, ...opts };
  }

  /** Record the prevailing quote (prices in ticks). */
  onQuote(q: Quote): void {
    this.bid = q.bid;
    this.ask = q.ask;
    this.quoteTs = q.ts;
  }

  /**
   * Classify in place. A trade arriving with side buy/sell and sideSource 'flag' keeps it
   * (unless flags are disabled); otherwise the ladder decides.
   */
  classify(t: Trade): void {
    const p = t.price;
    // tick rule state advances on every trade, whatever rung wins, so it stays a pure function of the tape
    let tickSign = this.lastSign;
    if (p > this.lastPrice) tickSign = 1;
    else if (p < this.lastPrice) tickSign = -1;
    this.lastPrice = p;
    this.lastSign = tickSign;

    if (t.sideSource === 'flag' && t.side !== 'unknown' && this.opts.useFlags) return;

    if (this.opts.useQuotes && this.bid === this.bid && this.ask === this.ask && this.ask >= this.bid
      && (this.opts.maxQuoteAgeMs === 0 || t.ts - this.quoteTs <= this.opts.maxQuoteAgeMs)) {
      const mid2 = this.bid + this.ask; // 2 x mid, stays an integer
      const p2 = 2 * p;
      if (p2 > mid2) { t.side = 'buy'; t.sideSource = 'quote'; return; }
      if (p2 < mid2) { t.side = 'sell'; t.sideSource = 'quote'; return; }
      // at the mid: fall through to the tick rule (Lee–Ready)
    }
    if (tickSign !== 0) {
      t.side = tickSign > 0 ? 'buy' : 'sell';
      t.sideSource = 'tick';
    } else {
      t.side = 'unknown';
      t.sideSource = 'none';
    }
  }

  /**
   * Quote-only feeds (MT5 forex/CFD): turn a quote update into one unit of tick volume classified by
   * the mid-price tick rule. Fills `out` and returns true when the mid changed or carried a sign;
   * the price is the bid (MT5 charts are bid-based), or the ask if there is no bid.
   */
  quoteActivity(q: Quote, unitLots: number, out: Trade): boolean {
    this.onQuote(q);
    const bid = q.bid, ask = q.ask;
    const hasBid = bid === bid, hasAsk = ask === ask;
    if (!hasBid && !hasAsk) return false;
    const mid2 = hasBid && hasAsk ? bid + ask : hasBid ? 2 * bid : 2 * ask;
    let sign = this.lastMidSign;
    if (mid2 > this.lastMid2) sign = 1;
    else if (mid2 < this.lastMid2) sign = -1;
    this.lastMid2 = mid2;
    this.lastMidSign = sign;
    out.instrument = q.instrument;
    out.ts = q.ts;
    out.id = 0;
    out.price = hasBid ? bid : ask;
    out.size = unitLots;
    out.side = sign > 0 ? 'buy' : sign < 0 ? 'sell' : 'unknown';
    out.sideSource = sign !== 0 ? 'midtick' : 'none';
    return true;
  }
}

export function sideSign(s: Side): number {
  return s === 'buy' ? 1 : s === 'sell' ? -1 : 0;
}
