/**
 * Bybit v5, legacy Bybit v2 and legacy Coinbase captures through their synchronizers.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayFile } from '../../engine/src/replay/index.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { MultiBookSync, createBookSync } from '../../engine/src/book/sync.js';
import '../../engine/src/venues/registry.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = process.env.TAPEFLOW_DATA ?? path.resolve(ROOT, '../shared/data');

async function run(file: string, venue: string) {
  const m = new MultiBookSync(() => createBookSync(venue));
  let crossedAfter = 0;
  await replayFile(path.join(DATA, file), (ev) => {
    if (m.onEvent(ev) && m.get(ev.instrument)!.book.isCrossed()) crossedAfter++;
  }, { registry: new InstrumentRegistry(), strict: true });
  expect(crossedAfter).toBe(0);
  return m;
}

describe('other venues on real captures', () => {
  it('Bybit v5 orderbook.500 XRPUSDT: contiguous u, 500 levels a side, never crossed', async () => {
    const m = await run('bybit/2024-12-01_XRPUSDT_ob500.data.zip', 'bybit');
    const s = m.get('BYBIT:XRPUSDT')!;
    expect(s.stats).toMatchObject({ snapshots: 1, updatesApplied: 49, gaps: 0, duplicates: 0, crossed: 0 });
    expect(s.book.levelCount('bid')).toBe(500);
    expect(s.book.levelCount('ask')).toBe(500);
    expect(s.book.spread()).toBe(1);
  }, 30_000);

  it('legacy Bybit v2 orderBookL2_25 (id-keyed levels): 25 levels a side, never crossed', async () => {
    const m = await run('cryptofeed/BYBIT.ws.26.0.gz', 'bybit-v2');
    expect(m.instruments().sort()).toEqual(['BYBIT:BTCUSD', 'BYBIT:EOSUSD']);
    for (const s of m.all()) {
      expect(s.stats.crossed).toBe(0);
      expect(s.stats.updatesApplied).toBeGreaterThan(500);
      expect(s.book.levelCount('bid')).toBe(25);
      expect(s.book.levelCount('ask')).toBe(25);
    }
  }, 30_000);

  it('legacy Coinbase level2 (unsequenced l2update): 10 products, in-order application, never crossed', async () => {
    const m = await run('cryptofeed/COINBASE.ws.28.0.gz', 'coinbase');
    const all = m.all();
    expect(all).toHaveLength(10);
    expect(all.reduce((a, s) => a + s.stats.updatesApplied, 0)).toBe(9719);
    for (const s of all) expect(s.stats).toMatchObject({ snapshots: 1, gaps: 0, crossed: 0, duplicates: 0 });
  }, 30_000);
});
