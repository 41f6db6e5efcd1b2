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
    // the session profiles are counted with the bars (as they were at the last bar close: the end here)
    expect(ps.map((p) => p.profileBytes)).toEqual(ps.map((p) => p.profiles.bytes));
    expect(ps.every((p) => p.profileBytes > 0)).toBe(true);
    expect(mem.used).toBe(held + ps.reduce((s, p) => s + p.profileBytes, 0));
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

  it('when one bar is left, old closed session profiles go (the current and prior stay); memory stops growing with days', () => {
    const mem = new BarMemory(300_000);
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: Infinity, barMemory: mem, footprintRowTicks: 1, profileRowTicks: 1 });
    // 6 UTC days, one trade every 13 s over a wide 1-tick range (rising and falling): each day's profile is tens of KB
    const tape = randomTape(4, 40_000).map((t, k) => ({ ...t, ts: Date.UTC(2024, 7, 1) + k * 13_000, price: 6_000_000 + Math.round(Math.sin(k / 700) * 6000) + (k % 11) * 29 }));
    const usedByDay: number[] = [];
    let day = -1;
    for (const t of tape) {
      const d = Math.floor(t.ts / 86_400_000);
      if (d !== day) { if (day >= 0) usedByDay.push(mem.used); day = d; }
      engine.onEvent(t);
    }
    engine.finish();
    const p = engine.pipelines.get('BTCUSDT')!;
    expect(p.profiles.sessions.length).toBe(2);
    expect(p.profiles.sessions.map((s) => s.key)).toEqual(['2024-08-06', '2024-08-07']);
    expect(p.bars.length).toBe(1);
    expect(mem.used).toBe(p.barBytes + p.profileBytes);
    // bounded: from the third day on, what is held is the budget plus at most one session's growth
    for (const u of usedByDay.slice(2)) expect(u).toBeLessThan(300_000 + 2 * Math.max(...p.profiles.sessions.map((s) => s.profile.grid.capacity * 48 + s.developing.length * 100)));
  });
});
