import { describe, expect, it } from 'vitest';
import { GRID_COLUMNS, RowGrid, type GridView } from '../../engine/src/analytics/row-grid.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { InstrumentPipeline } from '../../engine/src/analytics/pipeline.js';
import { valueArea } from '../../engine/src/analytics/value-area.js';
import { newTrade, type Trade } from '../../engine/src/core/events.js';
import { rng } from '../helpers/tape.js';

/** The grid as a plain map row → 6 columns (the batch reference). */
function reference(adds: [number, number, number][]): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const [row, size, sign] of adds) {
    const r = m.get(row) ?? new Array(GRID_COLUMNS).fill(0);
    if (sign > 0) { r[1] += size; r[3] += 1; } else if (sign < 0) { r[0] += size; r[2] += 1; } else { r[4] += size; r[5] += 1; }
    m.set(row, r);
  }
  return m;
}

function expectSame(g: GridView, ref: Map<number, number[]>): void {
  const rows = [...ref.keys()];
  expect(g.base).toBe(Math.min(...rows));
  expect(g.length).toBe(Math.max(...rows) - Math.min(...rows) + 1);
  const cols = g.cols;
  for (let i = 0; i < g.length; i++) {
    const want = ref.get(g.base + i) ?? new Array(GRID_COLUMNS).fill(0);
    for (let c = 0; c < GRID_COLUMNS; c++) if (cols[c][i] !== want[c]) throw new Error(`row ${g.base + i} col ${c}: ${cols[c][i]} != ${want[c]}`);
  }
}

/** Random walk with trends both ways and jumps (new lows as often as new highs). */
function walk(seed: number, n: number): [number, number, number][] {
  const r = rng(seed);
  let p = 100_000, drift = 0;
  const out: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    if (i % 500 === 0) drift = (r() - 0.5) * 6;
    p += Math.round(drift + (r() - 0.5) * 10);
    if (r() < 0.002) p += Math.round((r() - 0.5) * 4000); // gaps far outside the range, up or down
    out.push([p, 1 + Math.floor(r() * 50), Math.floor(r() * 3) - 1]);
  }
  return out;
}

describe('RowGrid: incremental equals batch on tapes that rise and fall', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}`, () => {
      const adds = walk(seed, 20_000);
      const g = new RowGrid(4);
      adds.forEach(([row, size, sign], i) => {
        g.add(row, size, sign);
        if (i % 4999 === 0) expectSame(g, reference(adds.slice(0, i + 1)));
      });
      expectSame(g, reference(adds));
      // headroom stays amortised: capacity at most 4x the used range (doubling with re-centring)
      expect(g.capacity).toBeLessThanOrEqual(Math.max(16, 4 * g.length));
    });
  }

  it('a falling tape keeps its rows (mirror of a rising one)', () => {
    const up = new RowGrid(2), down = new RowGrid(2);
    for (let i = 0; i < 5000; i++) { up.add(i, i + 1, 1); down.add(-i, i + 1, 1); }
    expect([up.base, up.length, down.base, down.length]).toEqual([0, 5000, -4999, 5000]);
    for (let i = 0; i < 5000; i++) expect(down.cols[1][i]).toBe(up.cols[1][4999 - i]);
  });

  it('merge, clone, compact and clear-then-reuse agree with the reference', () => {
    const a = walk(5, 3000), b = walk(6, 3000).map(([r, s, g]) => [r - 2500, s, g] as [number, number, number]);
    const ga = new RowGrid(), gb = new RowGrid();
    for (const [r, s, g] of a) ga.add(r, s, g);
    for (const [r, s, g] of b) gb.add(r, s, g);
    const m = ga.clone();
    m.merge(gb);
    expectSame(m, reference([...a, ...b]));
    expectSame(ga, reference(a)); // clone is independent
    m.compact();
    expect(m.capacity).toBe(m.length);
    expectSame(m, reference([...a, ...b]));
    m.add(m.base - 3, 7, -1);
    expectSame(m, reference([...a, ...b, [m.base, 7, -1]]));
    ga.clear();
    expect(ga.empty).toBe(true);
    for (const [r, s, g] of b) ga.add(r, s, g);
    expectSame(ga, reference(b)); // nothing left over from before the clear
    const t = new Float64Array(ga.length);
    ga.totals(t);
    for (let i = 0; i < ga.length; i++) expect(t[i]).toBe(ga.volumeAt(i));
  });
});

describe('pipeline at 1-tick rows: bars and session profile equal a batch recomputation (rise and fall)', () => {
  const reg = new InstrumentRegistry();
  for (const seed of [11, 12]) {
    it(`seed ${seed}`, () => {
      const r = rng(seed);
      const tape: Trade[] = [];
      let ts = Date.UTC(2024, 7, 8, 23, 30), p = 600_000, drift = 0; // crosses midnight: two sessions
      for (let i = 0; i < 30_000; i++) {
        if (i % 2000 === 0) drift = (r() - 0.5) * 8;
        ts += Math.floor(r() * 300);
        p += Math.round(drift + (r() - 0.5) * 12);
        const t = newTrade('BTCUSDT');
        t.ts = ts; t.id = i + 1; t.price = p; t.size = 1 + Math.floor(r() * 300); t.side = r() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag';
        tape.push(t);
      }
      const pl = new InstrumentPipeline(reg.get('BTCUSDT'), { timeframe: '1m', footprintRowTicks: 1, profileRowTicks: 1 });
      for (const t of tape) pl.onEvent({ ...t });
      pl.finish();
      const byBar = new Map<number, [number, number, number][]>();
      for (const t of tape) {
        const k = Math.floor(t.ts / 60_000) * 60_000;
        if (!byBar.has(k)) byBar.set(k, []);
        byBar.get(k)!.push([t.price, t.size, t.side === 'buy' ? 1 : -1]);
      }
      expect(pl.bars.map((b) => b.bar.start)).toEqual([...byBar.keys()]);
      for (const { bar } of pl.bars) expectSame(bar.rows, reference(byBar.get(bar.start)!));
      // session profiles (UTC days) and their developing levels at every bar close
      const days = new Map<string, [number, number, number][]>();
      for (const t of tape) {
        const d = new Date(t.ts).toISOString().slice(0, 10);
        if (!days.has(d)) days.set(d, []);
        days.get(d)!.push([t.price, t.size, t.side === 'buy' ? 1 : -1]);
      }
      expect(pl.profiles.sessions.map((s) => s.key)).toEqual([...days.keys()]);
      for (const s of pl.profiles.sessions) {
        expectSame(s.profile.grid, reference(days.get(s.key)!));
        const last = s.developing.at(-1)!;
        const g = s.profile.grid, tot = g.totals();
        const va = valueArea(tot, g.length);
        expect([last.poc, last.vah, last.val]).toEqual([g.base + va.poc, g.base + va.high, g.base + va.low]);
      }
    });
  }
});
