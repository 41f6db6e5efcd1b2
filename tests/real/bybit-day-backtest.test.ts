/**
 * Issue 19 §2: a whole real day (Bybit BTCUSD inverse perpetual, 2019-10-01, 93,598 trades, newest
 * first in the file) replays forward and is evaluated; docs/evaluation.md quotes this run.
 */
import { describe, expect, it } from 'vitest';
import { backtestTable, runBacktest } from '../../engine/src/cli/commands/backtest.js';
import { dataFile } from '../helpers/data.js';

describe('tapeflow backtest of a whole Bybit day', () => {
  it('replays forward, reports every trade-only detector with CIs, baseline and timeouts by cause; no book', async () => {
    const { report, outcomes } = await runBacktest([dataFile('bybit/BTCUSD2019-10-01.csv.gz')]);
    console.log(backtestTable(report));
    expect(report.files[0]).toMatchObject({ format: 'bybit-archive', trades: 93_598, badLines: 0 });
    expect(report.instruments).toHaveLength(1);
    expect(report.instruments[0]).toMatchObject({ instrument: 'BYBIT:BTCUSD', trades: 93_598, bars: 1440, thresholdSource: 'registry', book: 'none' });
    // no book in a trade archive: no iceberg can fire, and the report says so
    expect(report.instruments[0]!.signals['iceberg:refill'] ?? 0).toBe(0);
    expect(report.notes.join(' ')).toContain('No instrument had a synced order book');
    const groups = report.detectors.map((g) => g.group);
    for (const g of ['absorption:delta-mismatch', 'absorption:level', 'exhaustion:trend', 'initiative:bar', 'sweep:burst']) expect(groups).toContain(g);
    for (const g of report.detectors) {
      expect(g.tp + g.sl + g.timeoutBarrier + g.timeoutEndOfData).toBe(g.count);
      expect(g.windows).toBeLessThanOrEqual(48); // 30-minute windows of one day
      expect(g.baseline!.draws).toBeGreaterThan(0);
      expect(g.expectancyNetR.value).toBeCloseTo(g.expectancyR.value - g.meanCostR, 1);
    }
    // a day-long file: most timeouts hit the barrier… and the last events of the day run out of data
    const eod = outcomes.filter((o) => o.timeout === 'end-of-data');
    expect(eod.length).toBeGreaterThan(0);
    for (const o of eod) expect(o.entryTs).toBeGreaterThan(Date.UTC(2019, 9, 1, 23, 29));
    for (const o of outcomes) { expect(o.entryTs).toBeGreaterThan(o.decidedAt); expect(o.book).toBe('none'); }
  }, 120_000);
});
