/**
 * Real data: the EA's own source (MQL5 → C++ through mt5-bridge/shim) on the forex quote files of
 * ../shared/data/forex (TAPEFLOW_DATA), against the real bridge server over TCP. The shim's broker holds
 * the first part of each file as terminal history (a first-contact backfill of InpBackfillDays = 1) and
 * replays the rest live on an accelerated clock. Every tick of the backfill window and of the live part
 * is stored exactly once with its true UTC time; no hole is left before live (the AUDUSD day holds more
 * than the EA's 50 000-tick backfill cap).
 */
import { describe, expect, it } from 'vitest';
import { dataFile } from '../helpers/data.js';
import { forexSymbol } from '../../mt5-bridge/src/sources.js';
import { accounting, shimRig, tapeIds, until } from '../helpers/shim-ea.js';

const FILES: [string, number, number][] = [
  // file, ticks held as history, broker clock speed
  ['forex/truefx_usdjpy_ticks_1000.csv', 600, 60],
  ['forex/histdata_eurusd_ticks_9500.csv', 6000, 600],
  ['forex/truefx_audusd_20200130_31_ticks.csv.gz', 90_000, 600],
];

describe('the shimmed EA on the real forex quote files', () => {
  for (const [f, k, speed] of FILES) {
    it(f, async () => {
      const src = await forexSymbol(dataFile(f), { utcOffset: 7200 });
      expect(src.ticks.length).toBeGreaterThan(k);
      let bfFrom = NaN;
      const r = await shimRig({}, { broker: { startUtc: src.ticks[k].utc, speed, offsets: [{ fromUtc: 0, off: 7200 }], symbols: [src] }, inputs: { InpSymbols: src.sym, InpTimerMs: 20, InpBackfillDays: 1 } });
      r.server.on('bf_req', (e: { reason: string; from_ms: number }) => { if (e.reason === 'initial' && !(bfFrom <= e.from_ms)) bfFrom = e.from_ms; });
      try {
        const ids = tapeIds(src.ticks);
        await until(() => Number.isFinite(bfFrom), 20_000, 'the first-contact backfill request');
        const want = ids.filter((_, i) => src.ticks[i].ms >= bfFrom);
        await until(() => r.sink.ticks.length >= want.length, 120_000, 'every tick of the window and of the live part');
        await new Promise((res) => setTimeout(res, 300));
        expect(accounting(want, r.sink.ticks)).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
        const utc = new Map(ids.map((id, i) => [id, src.ticks[i].utc]));
        expect(r.sink.ticks.filter((t) => utc.get(`${t.ms}:${t.ord}`) !== t.utcMs)).toHaveLength(0);
        expect(r.ea.disconnects()).toEqual([]);
      } finally {
        await r.ea.stop();
        await r.server.close();
      }
    }, 180_000);
  }
});
