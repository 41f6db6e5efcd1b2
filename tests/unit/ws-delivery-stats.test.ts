import { describe, expect, it } from 'vitest';
import { DelayHistogram, delayStats } from '../../datafeed-adapter/src/ws/delivery-stats.js';

describe('ws delivery stats: send-delay histogram', () => {
  it('percentiles are within one bucket (about 4.4 %) above the exact value, max exact', () => {
    const h = new DelayHistogram();
    const xs: number[] = [];
    for (let i = 1; i <= 1000; i++) { const v = i * 0.37; xs.push(v); h.record(v); }
    expect(h.n).toBe(1000);
    for (const p of [50, 90, 99]) {
      const exact = xs[Math.ceil((p / 100) * xs.length) - 1];
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got).toBeLessThanOrEqual(exact * 1.045);
    }
    expect(h.percentile(100)).toBeCloseTo(370, 6);
    expect(delayStats(h)).toMatchObject({ n: 1000, max: 370 });
  });

  it('empty → nulls; tiny and huge delays land in the end buckets; reset clears', () => {
    const h = new DelayHistogram();
    expect(delayStats(h)).toEqual({ n: 0, p50: null, p99: null, max: null });
    h.record(0); h.record(1e12);
    expect(h.percentile(50)).toBeLessThanOrEqual(0.01);
    expect(h.percentile(100)).toBe(1e12);
    h.reset();
    expect(h.n).toBe(0);
    expect(Number.isNaN(h.percentile(50))).toBe(true);
  });
});
