import { describe, expect, it } from 'vitest';
import { classifyShape, findNodes, pocPercent, smooth } from '../../engine/src/analytics/profile/nodes.js';
import { VolumeProfile } from '../../engine/src/analytics/profile/volume-profile.js';

function profileOf(vol: number[], rowTicks = 1, baseRow = 0): VolumeProfile {
  const p = new VolumeProfile(rowTicks);
  vol.forEach((v, i) => { if (v > 0) p.add((baseRow + i) * rowTicks, v, 1); });
  return p;
}

describe('smooth', () => {
  it('triangular 1 2 3 2 1 with edge renormalisation', () => {
    expect(Array.from(smooth([0, 0, 9, 0, 0], 5))).toEqual([1.5, 2.25, 3, 2.25, 1.5]);
    expect(Array.from(smooth([5, 5, 5], 3))).toEqual([5, 5, 5]);
    expect(Array.from(smooth([1, 7, 2], 3, 0))).toEqual([1, 7, 2]);
  });
});

describe('HVN / LVN', () => {
  it('raw (radius 0) bimodal profile: prominence and half-prominence ranges', () => {
    const v = [1, 2, 8, 3, 1, 2, 10, 4, 1];
    const { hvn, lvn } = findNodes(v, v.length, { smoothRadius: 0 });
    // peak 8 at row 2: bases 1 and 1 -> prominence 7, range rows >= 4.5 -> [2,2]
    // peak 10 at row 6: prominence 9, rows >= 5.5 -> [6,6]
    expect(hvn.map((n) => [n.low, n.high, n.peak, n.volume, n.prominence])).toEqual([[2, 2, 2, 8, 7], [6, 6, 6, 10, 9]]);
    // valley 1 at row 4: min(8, 10) - 1 = 7; rows <= 4.5 -> [3,5], volume 3+1+2
    expect(lvn.map((n) => [n.low, n.high, n.peak, n.volume, n.prominence])).toEqual([[3, 5, 4, 6, 7]]);
  });

  it('prominence threshold is k % of the raw POC volume', () => {
    const v = [1, 2, 8, 3, 1, 2, 10, 4, 1];
    // 75 % of 10 = 7.5: the 8-peak (7) and the valley (7) drop out, the 10-peak (9) stays
    const { hvn, lvn } = findNodes(v, v.length, { smoothRadius: 0, prominencePct: 0.75 });
    expect(hvn.map((n) => n.peak)).toEqual([6]);
    expect(lvn).toEqual([]);
  });

  it('default 5-row smoothing on a constructed bimodal profile, in prices', () => {
    // smoothed: 28/6 6 58/9 48/9 28/9 12/9 12/9 28/9 48/9 58/9 6 28/6
    const p = profileOf([2, 6, 10, 6, 2, 0, 0, 2, 6, 10, 6, 2], 1, 1000);
    const s = p.summary();
    // each peak 58/9, prominence 58/9 - 28/6 = 16/9, keep rows >= 58/9 - 8/9 = 50/9 (the 6 beside it)
    expect(s.hvn).toEqual([
      { lowPrice: 1001, highPrice: 1002, peakPrice: 1002, volume: 16 },
      { lowPrice: 1009, highPrice: 1010, peakPrice: 1009, volume: 16 },
    ]);
    // valley run rows 5-6 (12/9), reported at the lower middle; prominence 46/9, rows <= 35/9 -> 4..7
    expect(s.lvn).toEqual([{ lowPrice: 1004, highPrice: 1007, peakPrice: 1005, volume: 4 }]);
    expect(s.shape).toBe('double');
    // POC tie rows 2 and 9, centre 5.5, equal distance -> lower
    expect(s.pocPrice).toBe(1002);
  });

  it('empty and flat profiles have no nodes', () => {
    expect(findNodes([], 0)).toEqual({ hvn: [], lvn: [] });
    expect(findNodes([0, 0], 2)).toEqual({ hvn: [], lvn: [] });
    expect(findNodes([4, 4, 4, 4], 4)).toEqual({ hvn: [], lvn: [] });
  });
});

describe('shape', () => {
  it('pocPct uses the row centre over the outer row edges', () => {
    expect(pocPercent(0, 1)).toBe(50);
    expect(pocPercent(6, 10)).toBe(65);
    expect(pocPercent(9, 10)).toBe(95);
    expect(pocPercent(-1, 0)).toBeNaN();
  });
  it('P, b, D', () => {
    const P = profileOf([1, 1, 2, 3, 5, 10, 4]).summary(); // POC row 5: 5.5/7
    expect(P.shape).toBe('P');
    expect(P.pocPct).toBeCloseTo((5.5 / 7) * 100, 12);
    expect(profileOf([4, 10, 5, 3, 2, 1, 1]).summary().shape).toBe('b');
    expect(profileOf([1, 3, 6, 10, 6, 3, 1]).summary()).toMatchObject({ shape: 'D', pocPct: 50 });
  });
  it('boundaries 65 and 35 are D (strict inequalities)', () => {
    expect(profileOf([1, 1, 1, 2, 3, 4, 9, 5, 2, 1]).summary()).toMatchObject({ shape: 'D', pocPct: 65 });
    expect(profileOf([1, 2, 5, 9, 4, 3, 2, 1, 1, 1]).summary()).toMatchObject({ shape: 'D', pocPct: 35 });
  });
  it('two HVNs with a shallow valley are not a double distribution', () => {
    // raw peaks 10 and 10, valley 6 >= 0.5 * 10; POC tie -> lower row 2 -> 2.5/9 = 27.8 % -> b
    const v = [2, 6, 10, 7, 6, 7, 10, 6, 2];
    const s = profileOf(v).summary({ nodes: { smoothRadius: 0 } });
    expect(s.hvn.length).toBe(2);
    expect(s.lvn).toEqual([{ lowPrice: 3, highPrice: 5, peakPrice: 4, volume: 20 }]);
    expect(s.shape).toBe('b');
    // a stricter ratio (valley < 0.7 x smaller peak) makes it double
    expect(profileOf(v).summary({ nodes: { smoothRadius: 0 }, shape: { doubleValleyRatio: 0.7 } }).shape).toBe('double');
  });
  it('double takes precedence and empty is none', () => {
    const { hvn } = findNodes([1, 2, 8, 3, 1, 2, 10, 4, 1], 9, { smoothRadius: 0 });
    expect(classifyShape(6, 9, [1, 2, 8, 3, 1, 2, 10, 4, 1], hvn)).toBe('double');
    expect(new VolumeProfile(1).summary()).toMatchObject({ shape: 'none', pocPrice: NaN, hvn: [], lvn: [], totalVolume: 0 });
  });
});
