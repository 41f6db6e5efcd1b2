/**
 * Issue 19 §1: the backtest's statistics, on hand-computed cases — fills strictly after the decision,
 * exits at the breaching trade, timeouts by cause, costs, the block bootstrap, the matched baseline and
 * its p-value — and the baseline of a random detector on the simulator (no significant difference).
 */
import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../../engine/src/signals/types.js';
import { blockBootstrapCI, costR, evaluate, groupStats, matchedPValue, multipleTestingNote, newPricePath, simulate, type PricePath } from '../../engine/src/signals/evaluate.js';
import { MarketSimulator } from '../../engine/src/sim/index.js';

/** a path from [ts, price] pairs, with one closed bar of range `range` ending at 0 (so R = range) */
function pathOf(pts: [number, number][], range = 10): PricePath {
  const p = newPricePath();
  for (const [t, x] of pts) { p.ts.push(t); p.price.push(x); }
  p.barEnd.push(0); p.barRange.push(range);
  return p;
}
const O = { horizonMs: 1_000, feeBps: 0, slippageBps: 0, blockMs: 1_000 };

describe('simulate: fills and exits', () => {
  it('enters at the first trade strictly after the decision, not at a trade at the decision time', () => {
    const p = pathOf([[100, 1000], [100, 1001], [150, 1003], [200, 1004]]);
    const o = simulate(p, { group: 'g', side: 'buy', at: 100 }, O)!;
    expect(o.entryTs).toBe(150);
    expect(o.entry).toBe(1003);
    expect(o.entryTs).toBeGreaterThan(o.decidedAt);
  });
  it('fills a stop at the breaching trade (a gap through the stop loses more than 1R)', () => {
    const p = pathOf([[10, 1000], [20, 995], [30, 985], [40, 1100]]);
    const o = simulate(p, { group: 'g', side: 'buy', at: 0 }, O)!;
    expect(o.result).toBe('sl');
    expect(o.exit).toBe(985);
    expect(o.r).toBe(-1.5);
  });
  it('fills a target at the breaching trade, for a sell', () => {
    const p = pathOf([[10, 1000], [20, 990], [30, 977]]);
    const o = simulate(p, { group: 'g', side: 'sell', at: 0 }, O)!;
    expect(o.result).toBe('tp');
    expect(o.exit).toBe(977);
    expect(o.r).toBe(2.3);
  });
  it('splits timeouts by cause: the time barrier vs the end of the data', () => {
    const barrier = simulate(pathOf([[10, 1000], [500, 1004], [1_010, 1005], [2_000, 1050]]), { group: 'g', side: 'buy', at: 0 }, O)!;
    expect(barrier.result).toBe('timeout');
    expect(barrier.timeout).toBe('barrier');
    expect(barrier.exit).toBe(1005); // last trade at or before entry + horizon (1010)
    expect(barrier.r).toBe(0.5);
    const eod = simulate(pathOf([[10, 1000], [500, 1004]]), { group: 'g', side: 'buy', at: 0 }, O)!;
    expect(eod.timeout).toBe('end-of-data');
    expect(eod.r).toBe(0.4);
  });
  it('cannot enter when no trade follows the decision', () => {
    expect(simulate(pathOf([[10, 1000]]), { group: 'g', side: 'buy', at: 10 }, O)).toBeNull();
  });
});

describe('costs', () => {
  it('a round trip costs 2 × (fee + slippage) bps of the entry price, in R', () => {
    // entry 10 000 ticks, 4 + 1 bps per side = 10 bps = 10 ticks; R = 20 ticks → 0.5 R
    expect(costR(10_000, 20, { feeBps: 4, slippageBps: 1 })).toBe(0.5);
  });
  it('turns a zero-edge detector negative by exactly the cost', () => {
    // flat market: every entry times out at 0 R gross
    const pts: [number, number][] = [];
    for (let t = 1; t <= 20_000; t += 10) pts.push([t, 10_000]);
    const p = pathOf(pts, 20);
    const entries = Array.from({ length: 12 }, (_, i) => ({ group: 'flat', side: (i % 2 ? 'buy' : 'sell') as 'buy' | 'sell', at: i * 1_500 }));
    const rep = evaluate(p, entries, { horizonMs: 1_000, blockMs: 1_000, feeBps: 4, slippageBps: 1, baselineDraws: 5, resamples: 200 });
    const g = rep.groups[0]!;
    expect(g.count).toBe(12);
    expect(g.expectancyR.value).toBe(0);
    expect(g.meanCostR).toBe(0.5);
    expect(g.expectancyNetR.value).toBe(-0.5);
    expect(g.expectancyNetR.lo).toBe(-0.5);
    expect(g.expectancyNetR.hi).toBe(-0.5);
    for (const o of rep.outcomes) expect(o.rNet).toBe(o.r - 0.5);
  });
});

describe('block bootstrap', () => {
  it('one block: the interval collapses to the mean', () => {
    const i = blockBootstrapCI([1, 2, 3], [7, 7, 7], 500, new Mulberry32(1));
    expect(i).toEqual({ value: 2, lo: 2, hi: 2 });
  });
  it('two blocks {0,0} and {2,2}: resampled means are 0, 1, 2 with probability ¼, ½, ¼ → CI [0, 2]', () => {
    const rng = new Mulberry32(3);
    const i = blockBootstrapCI([0, 0, 2, 2], [1, 1, 2, 2], 4000, rng);
    expect(i.value).toBe(1);
    expect(i.lo).toBe(0);
    expect(i.hi).toBe(2);
  });
  it('resamples whole windows: a clustered sample gets a wider interval than the same values treated as independent', () => {
    const v = [...Array(10).fill(2), ...Array(10).fill(-1)];
    const clustered = blockBootstrapCI(v, [...Array(10).fill(0), ...Array(10).fill(1)], 4000, new Mulberry32(5));
    const indep = blockBootstrapCI(v, v.map((_, i) => i), 4000, new Mulberry32(5));
    expect(clustered.value).toBe(0.5);
    expect(clustered.lo).toBe(-1);
    expect(clustered.hi).toBe(2);
    expect(indep.hi - indep.lo).toBeLessThan(2);
  });
});

describe('matched baseline p-value', () => {
  it('draws that never reach the observed mean: p = 1 / (resamples + 1)', () => {
    expect(matchedPValue([1], [[0, 0, 0, 0]], 999, new Mulberry32(1))).toBe(0.001);
  });
  it('observed equal to every draw: p = 1', () => {
    expect(matchedPValue([0, 0], [[0, 0], [0, 0]], 99, new Mulberry32(1))).toBe(1);
  });
  it('two events with draws {+1, −1}: pseudo means −1, 0, +1 with ¼, ½, ¼; observed +1 → p ≈ ½', () => {
    const p = matchedPValue([1, 1], [[1, -1], [1, -1]], 4000, new Mulberry32(9));
    expect(p).toBeGreaterThan(0.47);
    expect(p).toBeLessThan(0.53);
  });
  it('groupStats reports the draws, their mean and sd and the difference', () => {
    const base = { group: 'g', side: 'buy' as const, decidedAt: 0, entryTs: 1, entry: 100, rTicks: 1, exitTs: 2, exit: 100, result: 'timeout' as const, costR: 0, mfeR: 0, maeR: 0, hit1R: false, hit2R: false };
    const g = groupStats('g', [
      { ...base, r: 2, rNet: 2, window: 0, baseline: [0, 1] },
      { ...base, r: 0, rNet: 0, window: 1, baseline: [1, 2] },
    ], 0, { resamples: 200, minSample: 3 });
    expect(g.baseline!.draws).toBe(4);
    expect(g.baseline!.mean).toBe(1);
    expect(g.baseline!.sd).toBe(0.82); // sample sd of 0,1,1,2 = sqrt(2/3)
    expect(g.baseline!.diff).toBe(0);
    expect(g.insufficient).toBe(true);
    expect(g.windows).toBe(2);
    expect(multipleTestingNote([g])).toContain('1 groups were tested');
  });
});

describe('a random detector on the simulator', () => {
  it('shows no significant difference from its matched baseline (p > 0.05 in ≥ 90 % of 50 seeds)', () => {
    let pass = 0;
    const ps: number[] = [];
    for (let seed = 1; seed <= 50; seed++) {
      const startTs = Date.UTC(2024, 0, 10, 1, 0);
      const durationMs = 2 * 3_600_000;
      const sim = new MarketSimulator({ seed, instrument: 'SIM', startTs, startPrice: 100_000, levelTicks: 1, durationMs, scenario: [] });
      const path = newPricePath();
      let barEnd = startTs + 60_000, hi = -Infinity, lo = Infinity;
      sim.run((ev) => {
        if (ev.type !== 'trade') return;
        while (ev.ts >= barEnd) { if (hi >= lo) { path.barEnd.push(barEnd); path.barRange.push(hi - lo); } hi = -Infinity; lo = Infinity; barEnd += 60_000; }
        path.ts.push(ev.ts); path.price.push(ev.price);
        if (ev.price > hi) hi = ev.price; if (ev.price < lo) lo = ev.price;
      });
      // the random detector: one event in each 10-minute window after the first 20 minutes, random time and side
      const rng = new Mulberry32(seed * 7919);
      const entries = [];
      for (let t = startTs + 20 * 60_000; t < startTs + durationMs - 15 * 60_000; t += 10 * 60_000) entries.push({ group: 'random', side: (rng.next() < 0.5 ? 'buy' : 'sell') as 'buy' | 'sell', at: Math.floor(t + rng.next() * 10 * 60_000) });
      const rep = evaluate(path, entries, { seed, horizonMs: 5 * 60_000, blockMs: 10 * 60_000, baselineWindowMs: 10 * 60_000, baselineDraws: 20, resamples: 300, feeBps: 0, slippageBps: 0 });
      const p = rep.groups[0]!.baseline!.p;
      ps.push(p);
      if (p > 0.05) pass++;
    }
    expect(ps.every((p) => p > 0 && p <= 1)).toBe(true);
    expect(pass, `p-values: ${ps.join(', ')}`).toBeGreaterThanOrEqual(45);
  }, 120_000);
});
