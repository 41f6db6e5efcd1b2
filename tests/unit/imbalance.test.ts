import { describe, expect, it } from 'vitest';
import { RowGrid } from '../../engine/src/analytics/row-grid.js';
import { imbalances, stackedRuns, unfinishedAuction } from '../../engine/src/analytics/imbalance.js';

/** rows: [bid, ask] from the lowest row up, starting at row `base` */
function grid(rows: [number, number][], base = 100): RowGrid {
  const g = new RowGrid();
  rows.forEach(([bid, ask], i) => {
    g.ensure(base + i);
    if (bid) g.add(base + i, bid, -1);
    if (ask) g.add(base + i, ask, 1);
  });
  return g;
}

describe('imbalances', () => {
  // row:      100      101      102      103
  const g = grid([[10, 5], [4, 30], [2, 12], [40, 1]]);

  it('diagonal: buy at the ask row vs bid one row below; sell at the bid row vs ask one row above', () => {
    const f = imbalances(g, { ratio: 3 });
    // buy: row101 ask 30 vs bid(100)=10 -> 3x yes; row102 ask 12 vs bid(101)=4 -> 3x yes; row103 ask 1 vs 2 no
    // row100 ask 5 vs bid below (outside) 0 -> zero policy 'imbalance' -> yes
    expect(Array.from(f.buy)).toEqual([1, 1, 1, 0]);
    // sell: row100 bid 10 vs ask(101)=30 no; row101 bid 4 vs ask(102)=12 no; row102 bid 2 vs ask(103)=1 no (2 < 3);
    // row103 bid 40 vs ask above (outside) 0 -> yes
    expect(Array.from(f.sell)).toEqual([0, 0, 0, 1]);
    expect(f.buyCount).toBe(3);
    expect(f.sellCount).toBe(1);
  });

  it('horizontal compares the same row', () => {
    const f = imbalances(g, { compare: 'horizontal', ratio: 3 });
    expect(Array.from(f.buy)).toEqual([0, 1, 1, 0]); // 30 vs 4, 12 vs 2
    expect(Array.from(f.sell)).toEqual([0, 0, 0, 1]); // 40 vs 1
  });

  it('zero policy: ignore / imbalance / requireMinOther', () => {
    const z = grid([[0, 9], [0, 0], [6, 0]]);
    expect(Array.from(imbalances(z, { compare: 'horizontal', zeroPolicy: 'imbalance' }).buy)).toEqual([1, 0, 0]);
    expect(Array.from(imbalances(z, { compare: 'horizontal', zeroPolicy: 'ignore' }).buy)).toEqual([0, 0, 0]);
    expect(Array.from(imbalances(z, { compare: 'horizontal', zeroPolicy: 'requireMinOther', minOther: 1 }).buy)).toEqual([0, 0, 0]);
    const w = grid([[2, 9]]);
    expect(imbalances(w, { compare: 'horizontal', zeroPolicy: 'requireMinOther', minOther: 3 }).buyCount).toBe(0);
    expect(imbalances(w, { compare: 'horizontal', zeroPolicy: 'requireMinOther', minOther: 2 }).buyCount).toBe(1);
  });

  it('minimum dominant volume filters small imbalances', () => {
    expect(imbalances(g, { ratio: 3, minDominant: 13 }).buyCount).toBe(1); // only 30
  });

  it('metric trades uses counts, not volume', () => {
    const t = new RowGrid();
    t.add(5, 100, 1); // one big buy
    t.add(5, 1, -1); t.add(5, 1, -1); // two small sells
    expect(imbalances(t, { compare: 'horizontal', metric: 'volume' }).buyCount).toBe(1);
    expect(imbalances(t, { compare: 'horizontal', metric: 'trades' }).buyCount).toBe(0);
    expect(imbalances(t, { compare: 'horizontal', metric: 'trades', ratio: 2 }).sellCount).toBe(1);
  });

  it('ratio is a multiplier and the threshold is inclusive', () => {
    const e = grid([[10, 30]]);
    expect(imbalances(e, { compare: 'horizontal', ratio: 3 }).buyCount).toBe(1);
    expect(imbalances(e, { compare: 'horizontal', ratio: 3.01 }).buyCount).toBe(0);
  });
});

describe('stacked runs', () => {
  it('returns every run of >= N rows with start and end rows', () => {
    // buy imbalances at rows 10..13 and 16..18, with 14 broken, 15 empty
    const g = grid([[1, 9], [1, 9], [1, 9], [1, 9], [9, 2], [0, 0], [0, 9], [1, 9], [1, 9]], 10);
    const f = imbalances(g, { ratio: 3 });
    const runs = stackedRuns(f, 3);
    expect(runs).toEqual([
      { side: 'buy', startRow: 10, endRow: 13, rows: 4 },
      { side: 'buy', startRow: 16, endRow: 18, rows: 3 },
    ]);
    expect(stackedRuns(f, 4)).toHaveLength(1);
  });
});

describe('unfinished auction', () => {
  it('flags an extreme where both sides traded', () => {
    expect(unfinishedAuction(grid([[3, 2], [5, 5], [0, 4]]))).toEqual({ high: false, low: true });
    expect(unfinishedAuction(grid([[3, 0], [5, 5], [1, 4]]))).toEqual({ high: true, low: false });
    expect(unfinishedAuction(grid([[3, 2], [1, 4]]), 2, 0)).toEqual({ high: false, low: true });
  });
});
