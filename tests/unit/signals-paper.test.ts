import { describe, expect, it } from 'vitest';
import { PaperAccount } from '../../engine/src/signals/paper.js';

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
