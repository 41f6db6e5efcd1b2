// The CVD / Δ axes' numbers (indicators/lightweight-charts/axis-labels.ts): compact, no trailing zeros.
import { describe, expect, it } from 'vitest';
import { compactNumber } from '../../indicators/lightweight-charts/axis-labels.js';

describe('compactNumber', () => {
  it('writes the CVD / Δ axis numbers with K / M / B and at most two decimals', () => {
    expect([-227.47, 200, -0.5, 0, -0.001, 999.99, 999.996, 457_220, -2_120_000, 1_234_567_890].map((v) => compactNumber(v)))
      .toEqual(['-227.47', '200', '-0.5', '0', '0', '999.99', '1K', '457.22K', '-2.12M', '1.23B']);
    expect(compactNumber(1234.5678, 3)).toBe('1.235K');
  });
});
