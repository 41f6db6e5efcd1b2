/**
 * Real data: the forex quote files of ../shared/data/forex (set TAPEFLOW_DATA) replayed by the simulated
 * EA through the bridge over TCP, with byte-level fragmentation and a mid-batch drop: every quote arrives
 * exactly once with its true UTC time, labelled as quote activity (never as flagged order flow).
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { BridgeServer } from '../../mt5-bridge/src/server.js';
import { MemoryTickSink } from '../../mt5-bridge/src/sink.js';
import { SimulatedEA } from '../../mt5-bridge/src/sim-ea.js';
import { forexSymbol } from '../../mt5-bridge/src/sources.js';

const DATA = process.env.TAPEFLOW_DATA ?? join(process.cwd(), '../shared/data');
const FILES = ['forex/truefx_usdjpy_ticks_1000.csv', 'forex/histdata_eurusd_ticks_9500.csv', 'forex/truefx_audusd_20200130_31_ticks.csv.gz'];

describe('mt5 bridge on the real forex quote files', () => {
  for (const f of FILES) {
    it(f, async () => {
      const path = join(DATA, f);
      expect(existsSync(path), `missing ${path} (set TAPEFLOW_DATA)`).toBe(true);
      const src = await forexSymbol(path, { utcOffset: 7200 });
      expect(src.ticks.length).toBeGreaterThan(500);
      const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
      const sink = new MemoryTickSink();
      const server = new BridgeServer({ secret: 'real', sink, registry: engine.registry, onEvent: engine.onEvent, ackMs: 5 });
      const port = await server.listen();
      const ea = new SimulatedEA({ port, secret: 'real', symbols: [src], utcOffset: 7200, heartbeats: false, byteWrites: src.ticks.length < 2000, batchTicks: 200 });
      try {
        await ea.start();
        ea.release(Math.floor(src.ticks.length / 2));
        await ea.drain();
        ea.release(300);
        ea.dropMidBatch(src.sym, 500);
        await ea.reconnect();
        ea.release();
        await ea.drain();
        await ea.waitAcked(60_000);
      } finally {
        await ea.close();
        await server.close();
      }
      const stored = sink.sorted(src.sym);
      expect(stored).toHaveLength(src.ticks.length);
      // same order, same UTC time as the file (broker ms − 2 h)
      for (let i = 0; i < stored.length; i++) expect(stored[i].utcMs).toBe(src.ticks[i].utc);
      expect(stored.every((t) => t.sideSource === 'none' && t.live)).toBe(true);
      engine.finish();
      const p = [...engine.pipelines.values()][0];
      expect(p.counters.quotes).toBe(src.ticks.length);
      expect(p.counters.sourceVolume[0]).toBe(0); // nothing measured by flag on a quote feed
      expect(server.stats.ticksLive).toBe(src.ticks.length);
    }, 60_000);
  }
});
