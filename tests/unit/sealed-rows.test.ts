import { describe, expect, it } from 'vitest';
import { GRID_COLUMNS, GridArena, RowGrid } from '../../engine/src/analytics/row-grid.js';
import { SealedRows } from '../../engine/src/analytics/sealed-rows.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { encodeBar, decodeBar } from '../../engine/src/store/codec.js';
import { Checksum } from '../../engine/src/analytics/checksum.js';
import { coarsenBar } from '../../engine/src/analytics/coarse-rows.js';
import { rng, randomTape } from '../helpers/tape.js';

/** A working grid with `n` random adds over `span` rows (rising and falling), unknown side when `unknown`. */
function randomGrid(seed: number, n: number, span: number, unknown: boolean): RowGrid {
  const r = rng(seed), g = new RowGrid(4);
  for (let i = 0; i < n; i++) {
    const row = 1000 + Math.floor((r() - 0.5) * span);
    const u = r();
    g.add(row, 1 + Math.floor(r() * 90), unknown && u < 0.2 ? 0 : u < 0.6 ? 1 : -1);
  }
  return g;
}

function dense(g: { length: number; cols: Float64Array[] }): number[][] {
  const out: number[][] = [];
  for (let c = 0; c < GRID_COLUMNS; c++) out.push(Array.from(g.cols[c].subarray(0, g.length)));
  return out;
}

describe('sealed (compact) rows of a closed bar', () => {
  for (const [label, n, span, unknown] of [['sparse, flagged', 40, 3000, false], ['sparse, with unknown side', 60, 2000, true], ['dense, coarse', 400, 12, false], ['dense, with unknown side', 300, 9, true]] as const) {
    it(`${label}: every read equals the working grid's`, () => {
      const g = randomGrid(n + span, n, span, unknown);
      const s = SealedRows.from(g, new GridArena(64));
      expect([s.base, s.length]).toEqual([g.base, g.length]);
      expect(s.sparse).toBe(span > 100);
      expect(s.ncols).toBe(unknown ? 6 : 4);
      expect(dense(s)).toEqual(dense(g));
      expect(Array.from(s.totals())).toEqual(Array.from(g.totals()));
      for (let i = -2; i < g.length + 2; i++) expect(s.volumeAt(i)).toBe(i >= 0 && i < g.length ? g.volumeAt(i) : 0);
      // merging sealed rows (without dense columns) equals merging the working grid
      const a = randomGrid(7, 50, 400, true), b = randomGrid(7, 50, 400, true);
      a.merge(g); b.merge(s);
      expect(dense(b)).toEqual(dense(a));
      expect([b.base, b.length]).toEqual([a.base, a.length]);
    });
  }

  it('sparse storage holds the traded rows, not the range: bytes ≤ 40 per traded row when no side is unknown', () => {
    const g = randomGrid(3, 200, 20_000, false);
    let traded = 0;
    for (let i = 0; i < g.length; i++) if (g.volumeAt(i) > 0) traded++;
    const s = SealedRows.from(g);
    expect(g.length).toBeGreaterThan(traded * 20);
    expect(s.count).toBe(traded);
    expect(s.bytes).toBe(traded * 5 * 8);
    expect(s.bytes).toBeLessThan(g.length * GRID_COLUMNS * 8 / 20);
  });

  it('built dense columns are forgotten past the shared cache bound and rebuilt equal', () => {
    const grids = Array.from({ length: 12 }, (_, k) => randomGrid(100 + k, 300, 40_000, k % 2 === 0));
    const sealed = grids.map((g) => SealedRows.from(g));
    // 12 × ~40 000 rows × 48 bytes is over the cache: early views are dropped as later ones are built
    const first = sealed[0].cols;
    for (const s of sealed) void s.cols;
    expect(sealed[0].cols).not.toBe(first);
    const bytes = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (let k = 0; k < sealed.length; k++) {
      for (let c = 0; c < GRID_COLUMNS; c++) expect(bytes(sealed[k].cols[c]).equals(bytes(grids[k].cols[c].subarray(0, grids[k].length)))).toBe(true);
    }
  });

  it('1-tick bars held by a pipeline are sealed compact; stats, checksum and store blobs are those of the dense rows', () => {
    const reg = new InstrumentRegistry();
    const tape = randomTape(9, 20_000).map((t, k) => ({ ...t, price: 6_000_000 + Math.round(Math.sin(k / 50) * 4000) + (k % 5) * 17 }));
    const e = new Engine(reg, { timeframe: '1m', footprintRowTicks: 1, profileRowTicks: 1 });
    const seen: string[] = [];
    e.onPipeline((p) => p.onBarClose(({ bar }) => { seen.push(encodeBar(bar).toString('hex')); }));
    for (const t of tape) e.onEvent({ ...t });
    e.finish();
    const p = e.pipelines.get('BTCUSDT')!;
    let traded = 0, span = 0, bytes = 0;
    for (const [k, { bar }] of p.bars.entries()) {
      expect(bar.rows).toBeInstanceOf(SealedRows);
      const s = bar.rows as SealedRows;
      expect(s.sparse).toBe(true);
      // the blob written while the bar closed (from the dense working grid) equals one written from the sealed rows
      expect(encodeBar(bar).toString('hex')).toBe(seen[k]);
      const back = decodeBar('BTCUSDT', encodeBar(bar));
      const h1 = new Checksum(), h2 = new Checksum();
      back.digest(h1); bar.digest(h2);
      expect(h1.hex()).toBe(h2.hex());
      span += s.length; traded += s.count; bytes += s.bytes;
    }
    expect(span).toBeGreaterThan(traded * 3);
    expect(bytes).toBe(traded * 40);
    // a client's coarser rows (k × the row) from the sealed rows equal those from the dense rows
    for (const { bar } of p.bars.slice(0, 5)) {
      const copy = decodeBar('BTCUSDT', encodeBar(bar));
      for (const k of [3, 10]) expect(dense(coarsenBar(bar, k).rows)).toEqual(dense(coarsenBar(copy, k).rows));
    }
    // the pipeline's checksum is that of a run whose bars stay dense: replay through decoded (dense) bars
    const h = new Checksum();
    for (const { bar } of p.bars) decodeBar('BTCUSDT', encodeBar(bar)).digest(h);
    expect(h.hex()).toBe(p.checksum());
  });
});
