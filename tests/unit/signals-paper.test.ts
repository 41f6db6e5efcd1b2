import { describe, expect, it } from 'vitest';
import { PaperAccount, PaperTrader } from '../../engine/src/signals/paper.js';

describe('paper trading', () => {
  it('applies fees and slippage; analytics', () => {
    const a = new PaperAccount({ initialBalance: 10_000, feeBps: 10, slippageBps: 0, maxPositionPct: 50, maxExposurePct: 100 });
    const p = a.openPosition(0, 'X', 'buy', 10, 100, 99);
    if ('refused' in p) throw new Error(p.refused);
    expect(p.fees).toBe(1); // 1000 × 10 bps
    const f = a.closePosition(1000, p.id, 102)!;
    expect(f.pnl).toBe(20 - 1 - 1.02);
    expect(f.r).toBe(1.8); // 17.98 / (1 × 10)
    const q = a.openPosition(2000, 'X', 'sell', 10, 100) as { id: string };
    a.closePosition(3000, q.id, 101); // −10 − 1 − 1.01
    const s = a.analytics();
    expect(s).toMatchObject({ trades: 2, winRate: 0.5, balance: 10_000 + 17.98 - 12.01 });
    expect(s.profitFactor).toBe(1.5); // 17.98 / 12.01
    expect(s.maxDrawdown).toBe(12.01);
  });
  it('refuses an order beyond the position limit or the total exposure', () => {
    const a = new PaperAccount({ maxPositionPct: 50, maxExposurePct: 80, slippageBps: 0, feeBps: 0 });
    expect(a.openPosition(0, 'X', 'buy', 60, 100)).toEqual({ refused: 'position notional 6000 > limit 5000 (50 % of equity)' });
    expect('id' in a.openPosition(0, 'X', 'buy', 50, 100)).toBe(true);
    expect(a.openPosition(0, 'Y', 'buy', 40, 100)).toEqual({ refused: 'total exposure 9000 > limit 8000 (80 % of equity)' });
    expect('id' in a.openPosition(0, 'Y', 'buy', 30, 100)).toBe(true);
  });
  it('the daily loss limit stops trading until the next UTC day', () => {
    const a = new PaperAccount({ dailyLossPct: 1, maxPositionPct: 100, maxExposurePct: 1000, feeBps: 0, slippageBps: 0 });
    const day = Date.UTC(2024, 0, 10);
    const p = a.openPosition(day + 1, 'X', 'buy', 10, 100) as { id: string };
    const other = a.openPosition(day + 2, 'Y', 'sell', 1, 50) as { id: string };
    a.closePosition(day + 3, p.id, 89); // −110
    expect(a.stopped).toBe(true);
    expect(a.open.size).toBe(0); // remaining positions flattened
    expect(a.fills.find((f) => f.id === other.id)).toBeDefined();
    expect(a.fills.find((f) => f.id === other.id)!.exit).toBe(50); // no trade of Y seen: its entry is the only price
    expect(a.openPosition(day + 4, 'X', 'buy', 1, 100)).toEqual({ refused: 'daily loss limit reached: trading stopped for the day' });
    expect('id' in a.openPosition(day + 86_400_000, 'X', 'buy', 1, 100)).toBe(true);
  });
});

describe('seed limits and the shutdown at market', () => {
  it('defaults are 2 % per position, 10 % total exposure, 5 % daily loss, of equity', () => {
    const a = new PaperAccount({ feeBps: 0, slippageBps: 0 });
    expect(a.limits()).toEqual({ maxPositionNotional: 200, maxTotalExposure: 1000, dailyLossLimit: 500 });
    expect(a.openPosition(0, 'X', 'buy', 3, 100)).toEqual({ refused: 'position notional 300 > limit 200 (2 % of equity)' });
    for (let i = 0; i < 5; i++) expect('id' in a.openPosition(0, `X${i}`, 'buy', 2, 100)).toBe(true);
    expect(a.openPosition(0, 'Z', 'buy', 1, 100)).toEqual({ refused: 'total exposure 1100 > limit 1000 (10 % of equity)' });
  });
  it('the daily-loss shutdown closes the other positions at their last trade price (ETH −20 % books −900, not −4.05)', () => {
    const a = new PaperAccount({ maxPositionPct: 100, maxExposurePct: 1000, feeBps: 0, slippageBps: 0 });
    const day = Date.UTC(2024, 0, 10);
    const eth = a.openPosition(day + 1, 'ETH', 'buy', 2, 2250) as { id: string };
    const btc = a.openPosition(day + 2, 'BTC', 'buy', 0.1, 50_000) as { id: string };
    a.mark('ETH', 1800, day + 3);
    a.closePosition(day + 4, btc.id, 44_000); // −600 ≤ −5 % of 10 000
    expect(a.stopped).toBe(true);
    const f = a.fills.find((x) => x.id === eth.id)!;
    expect(f.exit).toBe(1800);
    expect(f.pnl).toBe(-900);
    expect(f.reason).toBe('daily loss limit: closed at market');
    expect(a.balance).toBe(10_000 - 600 - 900);
  });
  it('a stop fills at the breaching trade, not at the stop price', () => {
    const a = new PaperAccount({ maxPositionPct: 100, feeBps: 0, slippageBps: 0 });
    const p = a.openPosition(0, 'X', 'buy', 10, 100, 99, 104) as { id: string };
    expect(a.mark('X', 99.5, 1)).toEqual([]);
    const [f] = a.mark('X', 98.7, 2);
    expect(f).toMatchObject({ id: p.id, exit: 98.7, pnl: -13, r: -1.3, reason: 'stop (breaching trade)' });
  });
  it('performance: win rate, profit factor, drawdown, Sharpe and Sortino with their n', () => {
    const a = new PaperAccount({ maxPositionPct: 100, feeBps: 0, slippageBps: 0 });
    for (const [i, exit] of [[0, 102], [1, 99], [2, 103]] as const) { const p = a.openPosition(i, 'X', 'buy', 10, 100) as { id: string }; a.closePosition(i + 0.5, p.id, exit); }
    const perf = a.performance();
    // P&L +20, −10, +30: mean 13.33, sd 20.82, downside deviation sqrt(100 / 3) = 5.77
    expect(perf).toMatchObject({ trades: 3, wins: 2, losses: 1, winRate: { value: 0.67, n: 3 }, profitFactor: { value: 5, n: 3 }, maxDrawdown: 10, sharpe: { value: 0.64, n: 3 }, sortino: { value: 2.31, n: 3 } });
  });
});

describe('PaperTrader follows the state machine', () => {
  const pos = (id: string, side: 'buy' | 'sell', entry: number, sl: number, exit?: number) => ({ id, side, entry, initialSl: sl, exit });
  it('opens on entry, ignores break-even/trailing, closes at the exit on CLOSED; prices converted from ticks', () => {
    const tr = new PaperTrader({ notionalPerTrade: 1_000, account: { maxPositionPct: 100, feeBps: 0, slippageBps: 0 } }, (_i, t) => t / 10);
    const p = pos('X:trade:1', 'buy', 1000, 990);
    expect(tr.onTransition({ instrument: 'X', ts: 1, from: 'WATCHING', to: 'POSITION_OPEN', position: p })).toMatchObject({ kind: 'open', position: { qty: 10, entry: 100, riskPerUnit: 1 } });
    expect(tr.onTransition({ instrument: 'X', ts: 2, from: 'POSITION_OPEN', to: 'BREAK_EVEN', position: p })).toBeNull();
    expect(tr.account.open.size).toBe(1);
    const e = tr.onTransition({ instrument: 'X', ts: 3, from: 'BREAK_EVEN', to: 'CLOSED', position: { ...p, exit: 1020 } })!;
    expect(e.kind).toBe('close');
    expect(e.fill).toMatchObject({ pnl: 20, r: 2, entry: 100, exit: 102 });
    const snap = tr.snapshot('X') as { account: { balance: number; exposure: number }; open: unknown[]; fills: unknown[]; analytics: { trades: number; winRate: number; profitFactor: number | null; averageR: number } };
    expect(snap.account).toMatchObject({ balance: 10_020, exposure: 0 });
    expect(snap.open).toHaveLength(0);
    expect(snap.analytics).toMatchObject({ trades: 1, winRate: 1, profitFactor: null, averageR: 2 }); // no losses: infinite PF → null in JSON
    expect(tr.onTransition({ instrument: 'X', ts: 4, from: 'CLOSED', to: 'CLOSED', position: p })).toBeNull(); // unknown/closed twice
  });
  it('an entry beyond the total exposure is refused; the daily loss limit stops later entries', () => {
    const tr = new PaperTrader({ notionalPerTrade: 4_000, account: { maxPositionPct: 50, maxExposurePct: 60, dailyLossPct: 1, feeBps: 0, slippageBps: 0 } });
    const day = Date.UTC(2024, 0, 10);
    const events: string[] = [];
    tr.onEvent((e) => events.push(e.kind));
    tr.onTransition({ instrument: 'A', ts: day + 1, from: 'WATCHING', to: 'POSITION_OPEN', position: pos('A:1', 'buy', 100, 99) });
    const r = tr.onTransition({ instrument: 'B', ts: day + 2, from: 'WATCHING', to: 'POSITION_OPEN', position: pos('B:1', 'sell', 50, 51) })!;
    expect(r).toMatchObject({ kind: 'refused', reason: 'total exposure 8000 > limit 6000 (60 % of equity)' });
    expect(tr.account.open.size).toBe(1);
    // the refused trade's exit is ignored
    expect(tr.onTransition({ instrument: 'B', ts: day + 3, from: 'POSITION_OPEN', to: 'CLOSED', position: pos('B:1', 'sell', 50, 51, 49) })).toBeNull();
    // A loses 40 × 3 = 120 > 100: trading stops for the day
    tr.onTransition({ instrument: 'A', ts: day + 4, from: 'POSITION_OPEN', to: 'CLOSED', position: pos('A:1', 'buy', 100, 99, 97) });
    expect(tr.account.stopped).toBe(true);
    expect(tr.onTransition({ instrument: 'A', ts: day + 5, from: 'WATCHING', to: 'POSITION_OPEN', position: pos('A:2', 'buy', 100, 99) })).toMatchObject({ kind: 'refused', reason: 'daily loss limit reached: trading stopped for the day' });
    expect(events).toEqual(['open', 'refused', 'close', 'refused']);
    const snap = tr.snapshot() as { account: { stopped: boolean; stoppedDay: string; balance: number }; refusals: unknown[]; analytics: { maxDrawdown: number } };
    expect(snap.account).toMatchObject({ stopped: true, stoppedDay: '2024-01-10', balance: 9_880 });
    expect(snap.refusals).toHaveLength(2);
    expect(snap.analytics.maxDrawdown).toBe(120);
    // next UTC day: trading again
    expect(tr.onTransition({ instrument: 'A', ts: day + 86_400_000, from: 'WATCHING', to: 'POSITION_OPEN', position: pos('A:3', 'buy', 100, 99) })!.kind).toBe('open');
  });
});
