import { describe, expect, it } from 'vitest';
import { PaperAccount, PaperTrader } from '../../engine/src/signals/paper.js';

describe('paper trading', () => {
  it('applies fees and slippage; analytics', () => {
    const a = new PaperAccount({ initialBalance: 10_000, feeBps: 10, slippageBps: 0, maxPositionNotional: 5_000, maxTotalExposure: 10_000 });
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
    const a = new PaperAccount({ maxPositionNotional: 5_000, maxTotalExposure: 8_000, slippageBps: 0 });
    expect(a.openPosition(0, 'X', 'buy', 60, 100)).toEqual({ refused: 'position notional 6000 > limit 5000' });
    expect('id' in a.openPosition(0, 'X', 'buy', 50, 100)).toBe(true);
    expect(a.openPosition(0, 'Y', 'buy', 40, 100)).toEqual({ refused: 'total exposure 9000 > limit 8000' });
    expect('id' in a.openPosition(0, 'Y', 'buy', 30, 100)).toBe(true);
  });
  it('the daily loss limit stops trading until the next UTC day', () => {
    const a = new PaperAccount({ dailyLossLimit: 100, feeBps: 0, slippageBps: 0 });
    const day = Date.UTC(2024, 0, 10);
    const p = a.openPosition(day + 1, 'X', 'buy', 10, 100) as { id: string };
    const other = a.openPosition(day + 2, 'Y', 'sell', 1, 50) as { id: string };
    a.closePosition(day + 3, p.id, 89); // −110
    expect(a.stopped).toBe(true);
    expect(a.open.size).toBe(0); // remaining positions flattened
    expect(a.fills.find((f) => f.id === other.id)).toBeDefined();
    expect(a.openPosition(day + 4, 'X', 'buy', 1, 100)).toEqual({ refused: 'daily loss limit reached: trading stopped for the day' });
    expect('id' in a.openPosition(day + 86_400_000, 'X', 'buy', 1, 100)).toBe(true);
  });
});

describe('PaperTrader follows the state machine', () => {
  const pos = (id: string, side: 'buy' | 'sell', entry: number, sl: number, exit?: number) => ({ id, side, entry, initialSl: sl, exit });
  it('opens on entry, ignores break-even/trailing, closes at the exit on CLOSED; prices converted from ticks', () => {
    const tr = new PaperTrader({ notionalPerTrade: 1_000, account: { feeBps: 0, slippageBps: 0 } }, (_i, t) => t / 10);
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
    const tr = new PaperTrader({ notionalPerTrade: 4_000, account: { maxPositionNotional: 5_000, maxTotalExposure: 6_000, dailyLossLimit: 100, feeBps: 0, slippageBps: 0 } });
    const day = Date.UTC(2024, 0, 10);
    const events: string[] = [];
    tr.onEvent((e) => events.push(e.kind));
    tr.onTransition({ instrument: 'A', ts: day + 1, from: 'WATCHING', to: 'POSITION_OPEN', position: pos('A:1', 'buy', 100, 99) });
    const r = tr.onTransition({ instrument: 'B', ts: day + 2, from: 'WATCHING', to: 'POSITION_OPEN', position: pos('B:1', 'sell', 50, 51) })!;
    expect(r).toMatchObject({ kind: 'refused', reason: 'total exposure 8000 > limit 6000' });
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
