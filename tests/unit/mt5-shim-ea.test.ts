/**
 * The EA's own MQL5 source, translated to C++ and compiled with the MQL5 shim (mt5-bridge/shim), run
 * against the real bridge server over TCP on 127.0.0.1. The broker is a recorded tape.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { flaggedTape } from '../../mt5-bridge/src/sources.js';
import { accounting, shimRig, tapeIds, until, type ShimRig } from '../helpers/shim-ea.js';
import { buildShimEa } from '../../mt5-bridge/shim/build.js';

const rigs: ShimRig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) { await r.ea.stop(); await r.server.close(); }
});

describe('the EA source through the MQL5 shim', () => {
  it('compiles, authenticates with its HMAC, backfills history and streams live ticks exactly once', async () => {
    buildShimEa();
    const start = Date.UTC(2024, 6, 1, 13, 0);
    const tape = flaggedTape({ n: 4000, seed: 5, start, utcOffset: 10800 });
    const mid = tape.ticks[2000].utc; // the EA starts here: the first half is history
    const r = await shimRig({}, { broker: { startUtc: mid, speed: 10, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [tape] }, inputs: { InpSymbols: tape.sym, InpTimerMs: 20 } });
    rigs.push(r);
    await until(() => r.sink.ticks.length >= tape.ticks.length, 30_000, 'every tick persisted');
    const acc = accounting(tapeIds(tape.ticks), r.sink.ticks);
    expect(acc).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
    expect(r.ea.disconnects()).toEqual([]);
  }, 60_000);
});
