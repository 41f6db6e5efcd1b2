import { describe, expect, it } from 'vitest';
import { Vwap } from '../../engine/src/analytics/vwap.js';

describe('VWAP', () => {
  it('matches the textbook formulas on a small tape', () => {
    const v = new Vwap();
    const tape: [number, number][] = [[100, 1], [102, 3], [101, 2], [105, 4]];
    tape.forEach(([p, q]) => v.add(p, q));
    const W = 10, mean = (100 + 306 + 202 + 420) / W; // 102.8
    const varc = tape.reduce((s, [p, q]) => s + q * (p - mean) ** 2, 0) / W;
    expect(v.value).toBeCloseTo(mean, 12);
    expect(v.variance).toBeCloseTo(varc, 12);
    expect(v.band(2)).toBeCloseTo(mean + 2 * Math.sqrt(varc), 12);
    expect(v.snapshot().lower[2]).toBeCloseTo(mean - 3 * Math.sqrt(varc), 12);
  });

  it('stays accurate at large prices where Σp²v/Σv − vwap² cancels', () => {
    const v = new Vwap();
    let naiveS = 0, naiveS2 = 0, W = 0;
    for (let i = 0; i < 100000; i++) {
      const p = 1e9 + (i % 2); // two prices one tick apart, equal weights: variance exactly 0.25
      v.add(p, 1);
      naiveS += p; naiveS2 += p * p; W += 1;
    }
    expect(v.variance).toBeCloseTo(0.25, 9);
    const naive = naiveS2 / W - (naiveS / W) ** 2;
    expect(Math.abs(naive - 0.25)).toBeGreaterThan(1e-3); // the naive formula is visibly wrong here
  });

  it('ignores zero-volume prints and resets at a new anchor', () => {
    const v = new Vwap(5);
    v.add(10, 0);
    expect(v.value).toBeNaN();
    v.add(10, 2);
    v.reset(99);
    expect([v.anchor, v.weight]).toEqual([99, 0]);
  });
});
