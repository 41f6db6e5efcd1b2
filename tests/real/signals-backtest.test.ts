import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backtestTable, runBacktest } from '../../engine/src/cli/commands/backtest.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const data = process.env.TAPEFLOW_DATA ?? path.resolve(root, '../shared/data');
const files = ['usdm_btcusdt_20240808.gz', 'spot_btcusdt_20240808.gz', 'spot_btcusdt_20240809.gz', 'cm_btcusd_perp_20240808.gz', 'cm_btcusd_perp_20240809.gz'].map((f) => path.join(data, 'binance', f));

describe.runIf(files.every(existsSync))('tapeflow backtest over the Binance captures', () => {
  it('prints the report end to end; two runs give identical reports', async () => {
    const a = await runBacktest(files);
    const b = await runBacktest(files);
    const table = backtestTable(a.report);
    console.log(table);
    expect(JSON.stringify(b.report)).toBe(JSON.stringify(a.report));
    expect(backtestTable(b.report)).toBe(table);
    expect(a.report.files.map((f) => f.format)).toEqual(Array(5).fill('binance-capture'));
    expect(a.report.instruments.map((i) => i.instrument)).toEqual(['BINANCE_COINM:BTCUSD_PERP', 'BINANCE_SPOT:BTCUSDT', 'BTCUSDT']);
    expect(a.report.instruments.find((i) => i.instrument === 'BTCUSDT')!.trades).toBe(21_313);
    expect(table).toContain('Per detector');
    const byId = new Map(a.signals.map((s) => [s.id, s]));
    expect(byId.size).toBe(a.signals.length);
    for (const s of a.signals) expect(s.confirmedAt).toBeGreaterThanOrEqual(s.firstSeenAt);
    // every signal entered strictly after its decision (no look-ahead): the detector's own confirmedAt
    const detOutcomes = a.outcomes.filter((o) => o.id !== undefined);
    expect(detOutcomes.length).toBeGreaterThan(0);
    for (const o of a.outcomes) expect(o.entryTs).toBeGreaterThan(o.decidedAt);
    for (const o of detOutcomes) expect(o.decidedAt).toBe(byId.get(o.id!)!.confirmedAt);
    // timeouts say their cause, and the short captures end before some 30-minute barriers
    const groups = [...a.report.detectors, ...a.report.signalTypes];
    for (const g of groups) expect(g.tp + g.sl + g.timeoutBarrier + g.timeoutEndOfData).toBe(g.count);
    const timeouts = a.outcomes.filter((o) => o.result === 'timeout');
    for (const o of timeouts) {
      if (o.timeout === 'end-of-data') expect(o.exitTs - o.entryTs).toBeLessThanOrEqual(a.report.evaluation.horizonMs);
      else expect(o.timeout).toBe('barrier');
    }
    expect(timeouts.filter((o) => o.timeout === 'end-of-data').length).toBeGreaterThan(0);
    // every outcome says how its thresholds were derived and the state of the book, and carries its draws
    for (const o of a.outcomes) {
      expect(['registry', 'auto']).toContain(o.thresholdSource);
      expect(['synced', 'unsynced', 'none']).toContain(o.book);
      expect(o.baseline!.length).toBeGreaterThan(0);
    }
    expect(table).toContain('Multiple testing');
  }, 300_000);
});
