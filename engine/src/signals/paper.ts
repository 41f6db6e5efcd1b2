/**
 * Paper trading account (docs/definitions/signals.md §8). Prices in display units (decimal numbers),
 * quantities in instrument units. Deterministic: times come from the caller.
 *   fill price = price ± slippageBps (against the trader); fee = |notional| × feeBps / 10 000 per fill
 *   an order is refused when its notional > maxPositionNotional, or total open notional would exceed
 *   maxTotalExposure, or trading is stopped; the daily loss limit (realised loss since the UTC day start,
 *   fees included) stops trading for the rest of that UTC day.
 */
import { r2, sideSign, type SignalSide } from './types.js';

export interface PaperOptions {
  initialBalance: number;
  maxPositionNotional: number;
  maxTotalExposure: number;
  dailyLossLimit: number;
  feeBps: number;
  slippageBps: number;
}

export const DEFAULT_PAPER: PaperOptions = { initialBalance: 10_000, maxPositionNotional: 5_000, maxTotalExposure: 10_000, dailyLossLimit: 500, feeBps: 4, slippageBps: 1 };

export interface PaperPosition { id: string; instrument: string; side: SignalSide; qty: number; entry: number; openedAt: number; fees: number; riskPerUnit: number }
export interface PaperFill { id: string; instrument: string; side: SignalSide; qty: number; entry: number; exit: number; openedAt: number; closedAt: number; pnl: number; fees: number; r: number }

export class PaperAccount {
  readonly o: PaperOptions;
  balance: number;
  readonly open = new Map<string, PaperPosition>();
  readonly fills: PaperFill[] = [];
  stoppedDay = -1;
  private day = -1;
  private dayPnl = 0;
  private n = 0;
  private readonly equity: number[] = [];

  constructor(opts: Partial<PaperOptions> = {}) {
    this.o = { ...DEFAULT_PAPER, ...opts };
    this.balance = this.o.initialBalance;
    this.equity.push(this.balance);
  }

  private roll(ts: number): number {
    const d = Math.floor(ts / 86_400_000);
    if (d !== this.day) { this.day = d; this.dayPnl = 0; }
    return d;
  }

  exposure(): number { let s = 0; for (const p of this.open.values()) s += p.qty * p.entry; return s; }
  get stopped(): boolean { return this.stoppedDay >= 0 && this.stoppedDay === this.day; }

  /** Open a position; returns it, or a refusal reason. `stop` (optional) sets 1R for analytics. */
  openPosition(ts: number, instrument: string, side: SignalSide, qty: number, price: number, stop?: number): PaperPosition | { refused: string } {
    const d = this.roll(ts);
    if (this.stoppedDay === d) return { refused: 'daily loss limit reached: trading stopped for the day' };
    if (!(qty > 0) || !(price > 0)) return { refused: 'quantity and price must be positive' };
    const fillPx = price * (1 + sideSign(side) * this.o.slippageBps / 10_000);
    const notional = qty * fillPx;
    if (notional > this.o.maxPositionNotional) return { refused: `position notional ${r2(notional)} > limit ${this.o.maxPositionNotional}` };
    if (this.exposure() + notional > this.o.maxTotalExposure) return { refused: `total exposure ${r2(this.exposure() + notional)} > limit ${this.o.maxTotalExposure}` };
    const fee = notional * this.o.feeBps / 10_000;
    this.balance -= fee;
    const p: PaperPosition = { id: `paper:${++this.n}`, instrument, side, qty, entry: fillPx, openedAt: ts, fees: fee, riskPerUnit: stop !== undefined ? Math.abs(fillPx - stop) : NaN };
    this.open.set(p.id, p);
    return p;
  }

  closePosition(ts: number, id: string, price: number): PaperFill | null {
    const p = this.open.get(id);
    if (!p) return null;
    const d = this.roll(ts);
    const exitPx = price * (1 - sideSign(p.side) * this.o.slippageBps / 10_000);
    const fee = p.qty * exitPx * this.o.feeBps / 10_000;
    const gross = sideSign(p.side) * (exitPx - p.entry) * p.qty;
    const pnl = gross - fee - p.fees;
    this.balance += gross - fee;
    this.open.delete(id);
    const f: PaperFill = { id, instrument: p.instrument, side: p.side, qty: p.qty, entry: p.entry, exit: exitPx, openedAt: p.openedAt, closedAt: ts, pnl: r2(pnl), fees: r2(fee + p.fees), r: p.riskPerUnit > 0 ? r2(pnl / (p.riskPerUnit * p.qty)) : NaN };
    this.fills.push(f);
    this.equity.push(this.balance);
    this.dayPnl += pnl;
    if (this.dayPnl <= -this.o.dailyLossLimit) {
      this.stoppedDay = d;
      for (const other of [...this.open.keys()]) this.closePosition(ts, other, this.open.get(other)!.entry);
    }
    return f;
  }

  analytics(): { trades: number; winRate: number; profitFactor: number; averageR: number; maxDrawdown: number; sharpe: number; balance: number } {
    const pnls = this.fills.map((f) => f.pnl);
    const wins = pnls.filter((x) => x > 0), losses = pnls.filter((x) => x < 0);
    const gw = wins.reduce((s, x) => s + x, 0), gl = -losses.reduce((s, x) => s + x, 0);
    let peak = -Infinity, mdd = 0;
    for (const e of this.equity) { peak = Math.max(peak, e); mdd = Math.max(mdd, peak - e); }
    const mean = pnls.length ? pnls.reduce((s, x) => s + x, 0) / pnls.length : 0;
    const sd = pnls.length > 1 ? Math.sqrt(pnls.reduce((s, x) => s + (x - mean) ** 2, 0) / (pnls.length - 1)) : 0;
    const rs = this.fills.map((f) => f.r).filter((x) => x === x);
    return {
      trades: pnls.length, winRate: pnls.length ? r2(wins.length / pnls.length) : 0, profitFactor: gl > 0 ? r2(gw / gl) : gw > 0 ? Infinity : 0,
      averageR: rs.length ? r2(rs.reduce((s, x) => s + x, 0) / rs.length) : 0, maxDrawdown: r2(mdd), sharpe: sd > 0 ? r2(mean / sd) : 0, balance: r2(this.balance),
    };
  }
}

// ───────────────────────────── PaperTrader: follows the state machine ─────────────────────────────

/** Minimal view of a state-machine transition (signals/state.ts Transition). */
export interface TransitionLike {
  instrument: string;
  ts: number;
  from: string;
  to: string;
  position: { id: string; side: SignalSide; entry: number; initialSl: number; exit?: number } | null;
}

export interface PaperTraderOptions {
  account: Partial<PaperOptions>;
  /** notional (display units) of each entry: qty = notionalPerTrade / entry price */
  notionalPerTrade: number;
  /** recent fills / refusals kept for snapshots */
  keep: number;
}

export const DEFAULT_PAPER_TRADER: PaperTraderOptions = { account: {}, notionalPerTrade: 1_000, keep: 100 };

export interface PaperEvent {
  kind: 'open' | 'close' | 'refused';
  instrument: string;
  ts: number;
  /** the state machine's position id */
  tradeId: string;
  position?: PaperPosition;
  fill?: PaperFill;
  reason?: string;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * Paper trading driven by the SignalEngine's transitions: an entry (→ POSITION_OPEN from a non-open
 * state) opens a position of `notionalPerTrade` at the entry price (refused beyond the account limits
 * or once the daily loss limit stopped trading); → CLOSED closes it at the position's exit. Prices
 * come in ticks and are converted by `toPrice`. Deterministic: times are the transitions' timestamps.
 */
export class PaperTrader {
  readonly o: PaperTraderOptions;
  readonly account: PaperAccount;
  /** state-machine position id → paper position id */
  private readonly byTrade = new Map<string, string>();
  readonly refusals: PaperEvent[] = [];
  private readonly listeners: ((e: PaperEvent) => void)[] = [];

  constructor(opts: Partial<PaperTraderOptions> = {}, private readonly toPrice: (instrument: string, ticks: number) => number = (_i, t) => t) {
    this.o = { ...DEFAULT_PAPER_TRADER, ...opts };
    this.account = new PaperAccount(this.o.account);
  }

  onEvent(fn: (e: PaperEvent) => void): void { this.listeners.push(fn); }

  private out(e: PaperEvent): PaperEvent {
    if (e.kind === 'refused') { this.refusals.push(e); if (this.refusals.length > this.o.keep) this.refusals.shift(); }
    for (const fn of this.listeners) fn(e);
    return e;
  }

  /** Feed a transition; returns what the account did (or null). */
  onTransition(t: TransitionLike): PaperEvent | null {
    const p = t.position;
    if (!p) return null;
    if (t.to === 'POSITION_OPEN' && !this.byTrade.has(p.id) && t.from !== 'POSITION_OPEN') {
      const px = this.toPrice(t.instrument, p.entry);
      const qty = px > 0 ? this.o.notionalPerTrade / px : 0;
      const stop = this.toPrice(t.instrument, p.initialSl);
      const r = this.account.openPosition(t.ts, t.instrument, p.side, qty, px, stop === stop ? stop : undefined);
      if ('refused' in r) return this.out({ kind: 'refused', instrument: t.instrument, ts: t.ts, tradeId: p.id, reason: r.refused });
      this.byTrade.set(p.id, r.id);
      return this.out({ kind: 'open', instrument: t.instrument, ts: t.ts, tradeId: p.id, position: { ...r } });
    }
    if (t.to === 'CLOSED') {
      const id = this.byTrade.get(p.id);
      if (id === undefined) return null;
      this.byTrade.delete(p.id);
      const f = this.account.closePosition(t.ts, id, this.toPrice(t.instrument, p.exit ?? p.entry));
      // a daily-loss stop flattens the others: forget their mapping
      for (const [k, v] of this.byTrade) if (!this.account.open.has(v)) this.byTrade.delete(k);
      return f ? this.out({ kind: 'close', instrument: t.instrument, ts: t.ts, tradeId: p.id, fill: f }) : null;
    }
    return null;
  }

  /** JSON-safe state: account, limits, open positions, recent fills and refusals, analytics. */
  snapshot(instrument?: string): Record<string, unknown> {
    const a = this.account;
    const an = a.analytics();
    const open = [...a.open.values()].filter((p) => !instrument || p.instrument === instrument);
    const fills = a.fills.filter((f) => !instrument || f.instrument === instrument).slice(-this.o.keep);
    return {
      account: { initialBalance: a.o.initialBalance, balance: r2(a.balance), exposure: r2(a.exposure()), stopped: a.stopped, stoppedDay: a.stoppedDay >= 0 ? new Date(a.stoppedDay * 86_400_000).toISOString().slice(0, 10) : null },
      limits: { maxPositionNotional: a.o.maxPositionNotional, maxTotalExposure: a.o.maxTotalExposure, dailyLossLimit: a.o.dailyLossLimit, feeBps: a.o.feeBps, slippageBps: a.o.slippageBps, notionalPerTrade: this.o.notionalPerTrade },
      open: open.map((p) => ({ ...p, riskPerUnit: finite(p.riskPerUnit) })),
      fills: fills.map((f) => ({ ...f, r: finite(f.r) })),
      refusals: this.refusals.filter((e) => !instrument || e.instrument === instrument).map((e) => ({ ts: e.ts, instrument: e.instrument, tradeId: e.tradeId, reason: e.reason })),
      analytics: { ...an, profitFactor: finite(an.profitFactor) },
    };
  }
}
