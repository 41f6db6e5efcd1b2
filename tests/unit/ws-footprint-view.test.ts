/**
 * Per-subscription footprint view on the stream: a client's row size (rows merged on the server) and
 * imbalance options reach every snapshot and live update of that subscription only; other clients keep
 * the configured view; bad values are refused with a clear error.
 */
import { describe, expect, it } from 'vitest';
import { streamPerTest, tape, sleep, feed, type Started } from '../browser/stream-support.js';

const rig = streamPerTest();
const client = rig.client;
let s: Started | null = null;
const T0 = Date.UTC(2024, 7, 8, 0, 0);
type Row = [number, number, number, number];

/** rows of `rs` merged into rows of `rs × k` (global rows r → floor(r / k)), as [price, bid, ask] */
function merged(rows: Row[], rs: number, k: number): [number, number, number][] {
  const m = new Map<number, [number, number, number]>();
  for (const [p, b, a] of rows) {
    const r = Math.floor(Math.round(p / rs) / k);
    const x = m.get(r) ?? [Number((r * k * rs).toFixed(8)), 0, 0];
    x[1] += b; x[2] += a;
    m.set(r, x);
  }
  return [...m.values()].sort((a, b) => a[0] - b[0]).map(([p, b, a]) => [p, Number(b.toFixed(6)), Number(a.toFixed(6))]);
}
const flags = (bars: { rows: Row[] }[]): number => bars.reduce((n, b) => n + b.rows.filter((r) => r[3] !== 0).length, 0);

describe('footprint subscription view (row size, imbalance settings) applied by the server', () => {
  it('merges rows to the client row size and flags imbalances with its ratio, in the snapshot and live', async () => {
    // 1-tick rows (0.1) so a minute spans many rows
    s = await rig.start({}, { timeframe: '1m', keepBars: 5000, footprintRowTicks: 1 });
    const trades = tape(6000, { start: T0, stepMs: 100 });
    for (const t of trades.slice(0, 3000)) s.engine.onEvent(t);
    const plainC = await client(s.url), viewC = await client(s.url);
    const plain = await plainC.subscribe('footprint', 'BTCUSDT', '1m', { limit: 10 });
    const rs = plain.d.bars[0].rowSize as number;
    const view = await viewC.subscribe('footprint', 'BTCUSDT', '1m', { limit: 10, rowSize: rs * 5, imbalanceRatio: 1.5 });
    expect(view.op).toBe('snapshot');
    expect(view.d.bars.length).toBe(plain.d.bars.length);
    expect(view.d.bars.length).toBeGreaterThan(3);
    for (let i = 0; i < plain.d.bars.length; i++) {
      const a = plain.d.bars[i], b = view.d.bars[i];
      expect(b.rowSize).toBeCloseTo(rs * 5, 9);
      expect(b.rows.map((r: Row) => [r[0], Number(r[1].toFixed(6)), Number(r[2].toFixed(6))])).toEqual(merged(a.rows, rs, 5));
      expect(b.rows.length).toBeLessThan(a.rows.length);
      expect(b.v).toBe(a.v);
    }
    // a lower ratio flags more cells than the configured one, on the same (merged) rows
    const same = await plainC.subscribe('footprint', 'BTCUSDT', '1m', { limit: 10, rowSize: rs * 5 });
    expect(flags(view.d.bars)).toBeGreaterThan(flags(same.d.bars));
    // live updates carry the view too
    await feed(s.engine, trades.slice(3000), 100, 5).done;
    await sleep(400);
    const ups = viewC.updates(view.sub).filter((u) => u.d.closed);
    const pups = plainC.updates(plain.sub).filter((u) => u.d.closed);
    expect(ups.length).toBeGreaterThan(2);
    for (const u of ups) {
      const p = pups.find((x) => x.d.t === u.d.t)!;
      expect(u.d.rows.map((r: Row) => [r[0], Number(r[1].toFixed(6)), Number(r[2].toFixed(6))])).toEqual(merged(p.d.rows, rs, 5));
    }
    // the plain subscription kept the engine's row
    for (const u of pups) expect(u.d.rowSize).toBe(rs);
  });

  it('refuses a row size that is not a whole multiple of the footprint row, and bad imbalance values', async () => {
    s = await rig.start();
    for (const t of tape(100, { start: T0 })) s.engine.onEvent(t);
    const c = await client(s.url);
    const rs = (await c.subscribe('footprint', 'BTCUSDT', '1m')).d.open.rowSize as number;
    const e1 = await c.subscribe('footprint', 'BTCUSDT', '1m', { rowSize: rs * 1.5 });
    expect(e1.op).toBe('error');
    expect(e1.message).toMatch(/rowSize must be a whole multiple of the footprint row/);
    const e2 = await c.subscribe('footprint', 'BTCUSDT', '1m', { imbalanceRatio: 0.5 });
    expect(e2.message).toMatch(/imbalanceRatio must be in 1\.\.100/);
    const e3 = await c.subscribe('footprint', 'BTCUSDT', '1m', { imbalanceCompare: 'up' });
    expect(e3.message).toMatch(/imbalanceCompare/);
  });
});
