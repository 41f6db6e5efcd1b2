/** The seed's ACCUMULATION / DISTRIBUTION / BUY / SELL preset: calls, confidence components, minimum confidence and daily cap. */
import { describe, expect, it } from 'vitest';
import { SeedSignalGate, seedSignal, type SeedInputs } from '../../engine/src/signals/seed-preset.js';

const T = Date.UTC(2026, 11, 4, 4, 0);
const base: SeedInputs = { ts: T, symbol: 'KITE:NSE:RELIANCE', price: 1412.5, flow: 0, move: 0, institutionalRatio: 0, imbalance: NaN, volumeSurge: NaN, pcrBias: null };

describe('seed signal preset', () => {
  it('ACCUMULATION: visible selling absorbed at a stable price with a high institutional ratio; components add up', () => {
    const s = seedSignal({ ...base, flow: -0.3, move: 0.0005, institutionalRatio: 6, imbalance: 0.25, volumeSurge: 1.5, pcrBias: 'strong bullish' });
    expect([s.call, s.side]).toEqual(['ACCUMULATION', 'buy']);
    expect(s.components).toEqual({ baseType: 4, pcrConfirmation: 2, orderImbalance: 0.75, institutionalStrength: 1.5, volumeSurge: 0.5 });
    expect(s.confidence).toBe(8.75);
    expect(s.reasoning.at(-1)).toBe('ACCUMULATION: base 4 + PCR 2 + imbalance 0.75 + institutional 1.5 + volume surge 0.5');
    // the mirror, with an opposing PCR
    const d = seedSignal({ ...base, flow: 0.3, move: -0.0005, institutionalRatio: 3, imbalance: -0.5, volumeSurge: 3, pcrBias: 'bullish' });
    expect([d.call, d.side, d.components.pcrConfirmation, d.components.orderImbalance, d.components.institutionalStrength, d.confidence]).toEqual(['DISTRIBUTION', 'sell', -1, 1.5, 0.75, 6.25]);
    // price moving: no accumulation
    expect(seedSignal({ ...base, flow: -0.3, move: 0.002, institutionalRatio: 6 }).call).toBe('NONE');
  });

  it('BUY / SELL need strong flow AND PCR confirmation', () => {
    expect(seedSignal({ ...base, flow: 0.5, move: 0.01, pcrBias: 'bullish' }).call).toBe('BUY');
    expect(seedSignal({ ...base, flow: 0.5, move: 0.01, pcrBias: 'neutral' }).call).toBe('NONE');
    expect(seedSignal({ ...base, flow: 0.5, move: 0.01, pcrBias: null }).call).toBe('NONE');
    const s = seedSignal({ ...base, flow: -0.5, move: -0.01, pcrBias: 'strong bearish', imbalance: -0.6 });
    expect([s.call, s.confidence]).toEqual(['SELL', 7.5]);
  });

  it('minimum confidence 7 and a daily cap per IST day', () => {
    const g = new SeedSignalGate({ minConfidence: 7, maxDailySignals: 2 });
    const strong = seedSignal({ ...base, flow: -0.5, move: -0.01, pcrBias: 'strong bearish', imbalance: -0.6 });
    const weak = seedSignal({ ...base, flow: -0.5, move: -0.01, pcrBias: 'bearish' });
    expect(g.admit(weak)).toBe('confidence 5 below 7');
    expect([g.admit(strong), g.admit({ ...strong, ts: T + 60_000 }), g.admit({ ...strong, ts: T + 120_000 })]).toEqual([true, true, 'daily cap of 2 reached']);
    expect(g.admit({ ...strong, ts: Date.UTC(2026, 11, 4, 19, 0) })).toBe(true); // 00:30 IST: a new day
  });
});
