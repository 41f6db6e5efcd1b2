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
  get stopped(): boolean { return this.stoppedDay === this.day; }

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
