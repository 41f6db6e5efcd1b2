import { describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { BarMemory, closedBarBytes } from '../../engine/src/analytics/pipeline.js';
import { randomTape } from '../helpers/tape.js';

describe('closed bars held in memory are bounded by a byte budget shared by every instrument', () => {
  it('1-tick and coarse instruments share the budget; the newest bars stay; accounting matches the bars held', () => {
    const budget = 400_000;
    const mem = new BarMemory(budget);
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: Infinity, barMemory: mem, footprintRowTicks: 1 });
    const a = randomTape(1, 40_000, { instrument: 'BTCUSDT' });
    const b = randomTape(2, 40_000, { instrument: 'ETHUSDT', price: 30_000 });
    const all = [...a, ...b].sort((x, y) => x.ts - y.ts);
    let peak = 0;
    for (const t of all) { engine.onEvent(t); peak = Math.max(peak, mem.used); }
    engine.finish();
    const ps = [...engine.pipelines.values()];
    const held = ps.reduce((s, p) => s + p.bars.reduce((x, c) => x + closedBarBytes(c.bar), 0), 0);
    expect(mem.used).toBe(held);
    expect(ps.map((p) => p.barBytes)).toEqual(ps.map((p) => p.bars.reduce((x, c) => x + closedBarBytes(c.bar), 0)));
    // over budget by at most one bar at any time
    const biggest = Math.max(...ps.flatMap((p) => p.bars.map((c) => closedBarBytes(c.bar))));
    expect(peak).toBeLessThanOrEqual(budget + 2 * biggest);
    // bars were dropped (the run holds far more than the budget) and the newest are the ones kept
    const closedTotal = Math.floor((all.at(-1)!.ts - all[0].ts) / 60_000);
    expect(ps.reduce((s, p) => s + p.bars.length, 0)).toBeLessThan(closedTotal);
    for (const p of ps) {
      expect(p.bars.length).toBeGreaterThan(10);
      const starts = p.bars.map((c) => c.bar.start);
      expect(starts.at(-1)).toBe(Math.floor(p.lastTs / 60_000) * 60_000);
      for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThan(starts[i - 1]);
    }
  });
});
