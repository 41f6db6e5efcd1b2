/**
 * Paper trading account (docs/definitions/signals.md §8). Prices in display units (decimal numbers),
 * quantities in instrument units. Deterministic: times come from the caller.
 *   fill price = price ± slippageBps (against the trader); fee = |notional| × feeBps / 10 000 per fill
 *   limits are percentages of equity (balance + open P&L at the last trade prices): an order is refused
 *   when its notional > maxPositionPct % of equity, or total open notional would exceed maxExposurePct %,
 *   or trading is stopped (manually, or by the daily loss limit);
 *   the daily loss limit (realised P&L since the UTC day start, fees included, ≤ −dailyLossPct % of the
 *   equity at the day start) stops trading for the rest of that UTC day and closes every other open
 *   position AT MARKET: the last trade price seen for its instrument (`mark`), never its entry;
 *   a position with a stop / target is closed by `mark` at the price of the trade that breached it.
 */
import { r2, sideSign, type SignalSide } from './types.js';

export interface PaperOptions {
  initialBalance: number;
  /** per-position notional limit, % of equity (seed default 2) */
  maxPositionPct: number;
  /** total open notional limit, % of equity (seed default 10) */
  maxExposurePct: number;
  /** daily realised loss that stops trading, % of the day-start equity (seed default 5) */
  dailyLossPct: number;
  feeBps: number;
  slippageBps: number;
}

export const DEFAULT_PAPER: PaperOptions = { initialBalance: 10_000, maxPositionPct: 2, maxExposurePct: 10, dailyLossPct: 5, feeBps: 4, slippageBps: 1 };

export interface PaperPosition { id: string; instrument: string; side: SignalSide; qty: number; entry: number; openedAt: number; fees: number; riskPerUnit: number; stop: number | null; target: number | null; source: string }
export interface PaperFill { id: string; instrument: string; side: SignalSide; qty: number; entry: number; exit: number; openedAt: number; closedAt: number; pnl: number; fees: number; r: number; reason: string; source: string }

export interface Stat { value: number | null; n: number }

export class PaperAccount {
  readonly o: PaperOptions;
  balance: number;
  readonly open = new Map<string, PaperPosition>();
  readonly fills: PaperFill[] = [];
  stoppedDay = -1;
  /** false after a manual stop: opens are refused until start */
  running = true;
  private day = -1;
  private dayPnl = 0;
  private dayStartEquity: number;
  private n = 0;
  private readonly equity: number[] = [];
  /** last trade price and time per instrument */
  readonly marks = new Map<string, { price: number; ts: number }>();

  constructor(opts: Partial<PaperOptions> = {}) {
    this.o = { ...DEFAULT_PAPER, ...opts };
    this.balance = this.o.initialBalance;
    this.dayStartEquity = this.balance;
    this.equity.push(this.balance);
  }

  /** Back to the initial balance: no positions, fills, marks or stop. */
  reset(): void {
    this.balance = this.o.initialBalance; this.open.clear(); this.fills.length = 0; this.stoppedDay = -1; this.running = true;
    this.day = -1; this.dayPnl = 0; this.dayStartEquity = this.balance; this.n = 0; this.equity.length = 0; this.equity.push(this.balance);
  }

  private roll(ts: number): number {
    const d = Math.floor(ts / 86_400_000);
    if (d !== this.day) { this.day = d; this.dayPnl = 0; this.dayStartEquity = this.equityNow(); }
    return d;
  }

  exposure(): number { let s = 0; for (const p of this.open.values()) s += p.qty * p.entry; return s; }
  /** balance + open P&L at the last marks (entry when none) */
  equityNow(): number {
    let u = 0;
    for (const p of this.open.values()) u += sideSign(p.side) * ((this.marks.get(p.instrument)?.price ?? p.entry) - p.entry) * p.qty;
    return this.balance + u;
  }
  get stopped(): boolean { return this.stoppedDay >= 0 && this.stoppedDay === this.day; }
  limits(): { maxPositionNotional: number; maxTotalExposure: number; dailyLossLimit: number } {
    const e = this.equityNow();
    return { maxPositionNotional: r2((e * this.o.maxPositionPct) / 100), maxTotalExposure: r2((e * this.o.maxExposurePct) / 100), dailyLossLimit: r2((this.dayStartEquity * this.o.dailyLossPct) / 100) };
  }

  /** Open a position; returns it, or a refusal reason. `stop` sets 1R (and closes at the breaching trade); `target` too. */
  openPosition(ts: number, instrument: string, side: SignalSide, qty: number, price: number, stop?: number, target?: number, source = 'strategy'): PaperPosition | { refused: string } {
    const d = this.roll(ts);
    if (!this.running) return { refused: 'paper trading is stopped (POST /api/v1/paper/start)' };
    if (this.stoppedDay === d) return { refused: 'daily loss limit reached: trading stopped for the day' };
    if (!(qty > 0) || !(price > 0)) return { refused: 'quantity and price must be positive' };
    const fillPx = price * (1 + sideSign(side) * this.o.slippageBps / 10_000);
    const notional = qty * fillPx;
    const lim = this.limits();
    if (notional > lim.maxPositionNotional + 1e-9) return { refused: `position notional ${r2(notional)} > limit ${lim.maxPositionNotional} (${this.o.maxPositionPct} % of equity)` };
    if (this.exposure() + notional > lim.maxTotalExposure + 1e-9) return { refused: `total exposure ${r2(this.exposure() + notional)} > limit ${lim.maxTotalExposure} (${this.o.maxExposurePct} % of equity)` };
    const fee = notional * this.o.feeBps / 10_000;
    this.balance -= fee;
    const p: PaperPosition = { id: `paper:${++this.n}`, instrument, side, qty, entry: fillPx, openedAt: ts, fees: fee, riskPerUnit: stop !== undefined ? Math.abs(fillPx - stop) : NaN, stop: stop ?? null, target: target ?? null, source };
    this.open.set(p.id, p);
    return p;
  }

  closePosition(ts: number, id: string, price: number, reason = 'exit'): PaperFill | null {
    const p = this.open.get(id);
    if (!p) return null;
    const d = this.roll(ts);
    const exitPx = price * (1 - sideSign(p.side) * this.o.slippageBps / 10_000);
    const fee = p.qty * exitPx * this.o.feeBps / 10_000;
    const gross = sideSign(p.side) * (exitPx - p.entry) * p.qty;
    const pnl = gross - fee - p.fees;
    this.balance += gross - fee;
    this.open.delete(id);
    const f: PaperFill = { id, instrument: p.instrument, side: p.side, qty: p.qty, entry: p.entry, exit: exitPx, openedAt: p.openedAt, closedAt: ts, pnl: r2(pnl), fees: r2(fee + p.fees), r: p.riskPerUnit > 0 ? r2(pnl / (p.riskPerUnit * p.qty)) : NaN, reason, source: p.source };
    this.fills.push(f);
    this.equity.push(this.balance);
    this.dayPnl += pnl;
    if (this.stoppedDay !== d && this.dayPnl <= -(this.dayStartEquity * this.o.dailyLossPct) / 100) {
      this.stoppedDay = d;
      // flatten the rest at market: the last trade price of each instrument
      for (const other of [...this.open.keys()]) {
        const q = this.open.get(other)!;
        this.closePosition(ts, other, this.marks.get(q.instrument)?.price ?? q.entry, 'daily loss limit: closed at market');
      }
    }
    return f;
  }

  /** A trade at `price`: the instrument's market price; closes positions whose stop or target it breached, at this price. */
  mark(instrument: string, price: number, ts: number): PaperFill[] {
    this.marks.set(instrument, { price, ts });
    const out: PaperFill[] = [];
    for (const p of [...this.open.values()]) {
      if (p.instrument !== instrument) continue;
      const s = sideSign(p.side);
      const hitStop = p.stop !== null && s * (price - p.stop) <= 0;
      const hitTarget = p.target !== null && s * (price - p.target) >= 0;
      if (hitStop || hitTarget) { const f = this.closePosition(ts, p.id, price, hitStop ? 'stop (breaching trade)' : 'target (breaching trade)'); if (f) out.push(f); }
    }
    return out;
  }

  /** Performance: every ratio with the n it rests on (Sharpe / Sortino per trade, not annualised). */
  performance(): { trades: number; wins: number; losses: number; winRate: Stat; profitFactor: Stat; averageR: Stat; maxDrawdown: number; maxDrawdownPct: number; sharpe: Stat; sortino: Stat; netPnl: number; balance: number; equity: number } {
    const pnls = this.fills.map((f) => f.pnl);
    const wins = pnls.filter((x) => x > 0), losses = pnls.filter((x) => x < 0);
    const gw = wins.reduce((s, x) => s + x, 0), gl = -losses.reduce((s, x) => s + x, 0);
    let peak = -Infinity, mdd = 0, mddPct = 0;
    for (const e of this.equity) { peak = Math.max(peak, e); mdd = Math.max(mdd, peak - e); if (peak > 0) mddPct = Math.max(mddPct, (peak - e) / peak); }
    const n = pnls.length;
    const mean = n ? pnls.reduce((s, x) => s + x, 0) / n : 0;
    const sd = n > 1 ? Math.sqrt(pnls.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
    // downside deviation: root mean square of the negative P&Ls over all trades (target 0)
    const dd = n > 1 ? Math.sqrt(pnls.reduce((s, x) => s + Math.min(0, x) ** 2, 0) / n) : 0;
    const rs = this.fills.map((f) => f.r).filter((x) => x === x);
    return {
      trades: n, wins: wins.length, losses: losses.length,
      winRate: { value: n ? r2(wins.length / n) : null, n },
      profitFactor: { value: gl > 0 ? r2(gw / gl) : null, n },
      averageR: { value: rs.length ? r2(rs.reduce((s, x) => s + x, 0) / rs.length) : null, n: rs.length },
      maxDrawdown: r2(mdd), maxDrawdownPct: r2(mddPct * 100),
      sharpe: { value: sd > 0 ? r2(mean / sd) : null, n },
      sortino: { value: dd > 0 ? r2(mean / dd) : null, n },
      netPnl: r2(this.balance - this.o.initialBalance), balance: r2(this.balance), equity: r2(this.equityNow()),
    };
  }

  /** Compatibility view of `performance` (GET /api/v1/paper). */
  analytics(): { trades: number; winRate: number; profitFactor: number; averageR: number; maxDrawdown: number; sharpe: number; sortino: number; balance: number } {
    const p = this.performance();
    return { trades: p.trades, winRate: p.winRate.value ?? 0, profitFactor: p.profitFactor.value ?? (p.wins > 0 ? Infinity : 0), averageR: p.averageR.value ?? 0, maxDrawdown: p.maxDrawdown, sharpe: p.sharpe.value ?? 0, sortino: p.sortino.value ?? 0, balance: p.balance };
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
  /** notional (display units) of each entry, capped at the per-position limit: qty = notional / entry price */
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
      const qty = px > 0 ? Math.min(this.o.notionalPerTrade, this.account.limits().maxPositionNotional / (1 + this.account.o.slippageBps / 10_000)) / px : 0;
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
      const f = this.account.closePosition(t.ts, id, this.toPrice(t.instrument, p.exit ?? p.entry), 'strategy exit');
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
      account: { initialBalance: a.o.initialBalance, balance: r2(a.balance), equity: r2(a.equityNow()), exposure: r2(a.exposure()), running: a.running, stopped: a.stopped, stoppedDay: a.stoppedDay >= 0 ? new Date(a.stoppedDay * 86_400_000).toISOString().slice(0, 10) : null },
      limits: { ...a.limits(), maxPositionPct: a.o.maxPositionPct, maxExposurePct: a.o.maxExposurePct, dailyLossPct: a.o.dailyLossPct, feeBps: a.o.feeBps, slippageBps: a.o.slippageBps, notionalPerTrade: this.o.notionalPerTrade },
      open: open.map((p) => ({ ...p, riskPerUnit: finite(p.riskPerUnit) })),
      fills: fills.map((f) => ({ ...f, r: finite(f.r) })),
      refusals: this.refusals.filter((e) => !instrument || e.instrument === instrument).map((e) => ({ ts: e.ts, instrument: e.instrument, tradeId: e.tradeId, reason: e.reason })),
      analytics: { ...an, profitFactor: finite(an.profitFactor) },
    };
  }

  /** A trade of the instrument (market price): stops/targets of open positions fill at it. */
  mark(instrument: string, price: number, ts: number): PaperEvent[] {
    return this.account.mark(instrument, price, ts).map((f) => this.out({ kind: 'close', instrument, ts, tradeId: f.id, fill: f }));
  }

  /**
   * A manual order (POST /api/v1/paper/trade): open `side` at the instrument's last trade price with an
   * optional stop/target, or close position `close` at market. Refusals say why.
   */
  manual(o: { instrument: string; ts: number; side?: SignalSide; qty?: number; notional?: number; stop?: number; target?: number; close?: string; source?: string }): PaperEvent {
    const m = this.account.marks.get(o.instrument);
    if (o.close !== undefined) {
      const p = this.account.open.get(o.close);
      if (!p) return this.out({ kind: 'refused', instrument: o.instrument, ts: o.ts, tradeId: o.close, reason: `no open position ${o.close}` });
      const px = this.account.marks.get(p.instrument)?.price ?? p.entry;
      const f = this.account.closePosition(o.ts, o.close, px, 'manual close at market')!;
      return this.out({ kind: 'close', instrument: p.instrument, ts: o.ts, tradeId: o.close, fill: f });
    }
    if (!m) return this.out({ kind: 'refused', instrument: o.instrument, ts: o.ts, tradeId: 'manual', reason: `no trade of ${o.instrument} seen yet: no market price` });
    const qty = o.qty ?? (o.notional !== undefined ? o.notional / m.price : NaN);
    const r = this.account.openPosition(o.ts, o.instrument, o.side ?? 'buy', qty, m.price, o.stop, o.target, o.source ?? 'manual');
    if ('refused' in r) return this.out({ kind: 'refused', instrument: o.instrument, ts: o.ts, tradeId: 'manual', reason: r.refused });
    return this.out({ kind: 'open', instrument: o.instrument, ts: o.ts, tradeId: r.id, position: { ...r } });
  }

  reset(): void { this.account.reset(); this.byTrade.clear(); this.refusals.length = 0; }
}
