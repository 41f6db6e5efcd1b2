import { describe, expect, it } from 'vitest';
import { DEFAULT_VALUE_AREA, findPoc, valueArea } from '../../engine/src/analytics/value-area.js';

const va = (v: number[], o?: Parameters<typeof valueArea>[2]) => valueArea(v, v.length, o);

describe('findPoc', () => {
  it('resolves ties by each rule', () => {
    const v = [5, 10, 3, 10, 10, 1]; // max 10 at 1, 3, 4; centre (0+5)/2 = 2.5
    expect(findPoc(v, v.length)).toBe(3);
    expect(findPoc(v, v.length, 'closestToCenter')).toBe(3);
    expect(findPoc(v, v.length, 'lowest')).toBe(1);
    expect(findPoc(v, v.length, 'highest')).toBe(4);
  });
  it('equal distance from the centre takes the lower row', () => {
    expect(findPoc([10, 2, 2, 10], 4)).toBe(0);
    expect(findPoc([1, 10, 0, 10, 1], 5)).toBe(1);
  });
  it('centre is the traded range (first..last row with volume), not the padded array', () => {
    // traded rows 3..5, centre 4 -> row 4; the array centre 2.5 would have picked row 3
    expect(findPoc([0, 0, 0, 10, 10, 1], 6)).toBe(4);
  });
  it('respects length and returns -1 when nothing traded', () => {
    expect(findPoc([1, 2, 3, 100], 3)).toBe(2);
    expect(findPoc([0, 0, 0], 3)).toBe(-1);
    expect(findPoc([], 0)).toBe(-1);
  });
});

describe('valueArea', () => {
  it('defaults', () => {
    expect(DEFAULT_VALUE_AREA).toEqual({ pct: 0.7, algorithm: 'single', pocTie: 'closestToCenter', expandTie: 'higher' });
  });

  // total 100, target 70, POC row 4 (36)
  const P = [2, 8, 8, 12, 36, 2, 32];
  it('single-row greedy', () => {
    // 36 -> +12 (r3) 48 -> +8 (r2) 56 -> +8 (r1) 64 -> tie 2 vs 2 -> higher r5 66 -> +32 (r6) 98
    expect(va(P)).toEqual({ poc: 4, low: 1, high: 6, areaVolume: 98, totalVolume: 100 });
  });
  it('single-row greedy with expandTie lower', () => {
    // ... 64 -> tie -> lower r0 66 -> only up: r5 68 -> r6 100
    expect(va(P, { expandTie: 'lower' })).toEqual({ poc: 4, low: 0, high: 6, areaVolume: 100, totalVolume: 100 });
  });
  it('pair (two-row) lands on 70 % exactly', () => {
    // up pair 2+32 = 34 > down pair 12+8 = 20 -> 36+34 = 70 >= 70 stop
    expect(va(P, { algorithm: 'pair' })).toEqual({ poc: 4, low: 4, high: 6, areaVolume: 70, totalVolume: 100 });
  });
  it('symmetric', () => {
    // [3,5] = 50 -> [2,6] = 90
    expect(va(P, { algorithm: 'symmetric' })).toEqual({ poc: 4, low: 2, high: 6, areaVolume: 90, totalVolume: 100 });
  });

  it('70 % landing exactly stops (0.7*100 is 70.00000000000001 in floating point)', () => {
    // 40 -> +20 up -> 60 -> +10 up = 70 stop; not 80
    const v = [10, 10, 10, 40, 20, 10];
    expect(va(v)).toEqual({ poc: 3, low: 3, high: 5, areaVolume: 70, totalVolume: 100 });
  });

  it('expansion ties each rule', () => {
    const v = [1, 5, 10, 5, 1]; // total 22, pct .5 -> 11
    expect(va(v, { pct: 0.5 })).toMatchObject({ poc: 2, low: 2, high: 3, areaVolume: 15 });
    expect(va(v, { pct: 0.5, expandTie: 'higher' })).toMatchObject({ low: 2, high: 3 });
    expect(va(v, { pct: 0.5, expandTie: 'lower' })).toMatchObject({ poc: 2, low: 1, high: 2, areaVolume: 15 });
    // pair sums tie: up 5+1 = 6, down 1+5 = 6
    expect(va(v, { pct: 0.5, algorithm: 'pair' })).toMatchObject({ low: 2, high: 4, areaVolume: 16 });
    expect(va(v, { pct: 0.5, algorithm: 'pair', expandTie: 'lower' })).toMatchObject({ low: 0, high: 2, areaVolume: 16 });
  });

  it('POC ties feed into the value area', () => {
    const v = [4, 10, 1, 10, 2]; // total 27, target 18.9; centre 2 -> rows 1 and 3 equidistant -> lower
    // closestToCenter -> row 1: 10 -> down 4 = 14 -> edge, up 1 = 15 -> up 10 = 25
    expect(va(v)).toEqual({ poc: 1, low: 0, high: 3, areaVolume: 25, totalVolume: 27 });
    expect(va(v, { pocTie: 'lowest' })).toEqual({ poc: 1, low: 0, high: 3, areaVolume: 25, totalVolume: 27 });
    // highest -> row 3: 10 -> up 2 = 12 -> edge, down 1 = 13 -> down 10 = 23
    expect(va(v, { pocTie: 'highest' })).toEqual({ poc: 3, low: 1, high: 4, areaVolume: 23, totalVolume: 27 });
  });

  it('POC at the top edge expands downwards only', () => {
    expect(va([1, 2, 3, 10])).toEqual({ poc: 3, low: 2, high: 3, areaVolume: 13, totalVolume: 16 });
  });
  it('POC at the bottom edge expands upwards only', () => {
    expect(va([10, 3, 2, 1])).toEqual({ poc: 0, low: 0, high: 1, areaVolume: 13, totalVolume: 16 });
    expect(va([10, 3, 2, 1], { algorithm: 'pair' })).toEqual({ poc: 0, low: 0, high: 2, areaVolume: 15, totalVolume: 16 });
    expect(va([10, 3, 2, 1], { algorithm: 'symmetric' })).toEqual({ poc: 0, low: 0, high: 1, areaVolume: 13, totalVolume: 16 });
  });
  it('pair with a single row left on one side', () => {
    const v = [3, 4, 10, 6]; // total 23, target 16.1; up "pair" = 6 (one row) vs down 4+3 = 7
    expect(va(v, { algorithm: 'pair' })).toEqual({ poc: 2, low: 0, high: 2, areaVolume: 17, totalVolume: 23 });
    // single: 6 > 4 -> 16 < 16.1 -> down 4 -> 20
    expect(va(v)).toEqual({ poc: 2, low: 1, high: 3, areaVolume: 20, totalVolume: 23 });
  });
  it('one row', () => {
    expect(va([7])).toEqual({ poc: 0, low: 0, high: 0, areaVolume: 7, totalVolume: 7 });
    expect(va([7], { pct: 1, algorithm: 'pair' })).toEqual({ poc: 0, low: 0, high: 0, areaVolume: 7, totalVolume: 7 });
  });
  it('zero rows inside the range are walked through', () => {
    // total 21, target 14.7: 0 vs 0 tie -> up, 0 vs 0 -> up, 6 vs 0 -> up = 16
    expect(va([5, 0, 0, 10, 0, 0, 6])).toEqual({ poc: 3, low: 3, high: 6, areaVolume: 16, totalVolume: 21 });
  });
  it('pct 0 and pct 1', () => {
    expect(va([0, 3, 5, 0], { pct: 0 })).toEqual({ poc: 2, low: 2, high: 2, areaVolume: 5, totalVolume: 8 });
    // pct 1 stops once everything is in: trailing zero rows are not added
    expect(va([0, 3, 5, 0], { pct: 1 })).toEqual({ poc: 2, low: 1, high: 2, areaVolume: 8, totalVolume: 8 });
  });
  it('empty and all-zero arrays', () => {
    const none = { poc: -1, low: -1, high: -1, areaVolume: 0, totalVolume: 0 };
    expect(va([])).toEqual(none);
    expect(va([0, 0, 0])).toEqual(none);
  });
  it('uses only the first `length` entries and works on typed arrays', () => {
    const f = Float64Array.from([1, 2, 3, 100]);
    expect(valueArea(f, 3, { pct: 0.5 })).toEqual({ poc: 2, low: 2, high: 2, areaVolume: 3, totalVolume: 6 });
  });
  it('rejects pct outside [0, 1]', () => {
    expect(() => va([1], { pct: 70 })).toThrow(RangeError);
    expect(() => va([1], { pct: NaN })).toThrow(RangeError);
  });
});
