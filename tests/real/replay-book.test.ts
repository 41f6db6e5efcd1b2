import { describe, expect, it } from 'vitest';
import { runReplay } from '../../engine/src/cli/commands/replay.js';
import { dataFile } from '../helpers/data.js';

describe('tapeflow replay reports book statistics beside the trade figures', () => {
  it('USD-M capture: synced, 0 gaps, 0 crossed, every diff applied or dropped as stale', async () => {
    const r = await runReplay([dataFile('binance/usdm_btcusdt_20240808.gz')], {});
    const b = r.books.find((x) => x.instrument === 'BTCUSDT')!;
    const s = b.stats as unknown as Record<string, number>;
    expect(b.synced).toBe(true);
    expect([s.gaps, s.crossed, s.resyncs]).toEqual([0, 0, 0]);
    expect(s.updatesApplied + s.staleDropped).toBe(6551);
    expect(b.crossedNow).toBe(false);
    expect(b.bestBid!).toBeLessThan(b.bestAsk!);
  });

  it('CME MBO: trades rebuilt from the L3 book reach the pipeline with aggressor side', async () => {
    const r = await runReplay([dataFile('cme/esh4_20231225_mbo.csv.gz')], {});
    const b = r.books.find((x) => x.kind === 'L3')!;
    const s = b.stats as unknown as Record<string, number>;
    expect(s.dangling).toBe(0);
    expect(s.trades).toBe(2973);
    const i = r.instruments.find((x) => x.instrument === b.instrument)!;
    expect(i.trades).toBe(2973);
    expect(i.sideSources.flag).toBeGreaterThan(99);
    expect(i.tradeIdGaps).toBe(0);
  });
});
