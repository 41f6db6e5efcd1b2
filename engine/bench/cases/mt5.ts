/**
 * MT5 bridge throughput: the simulated EA streams a generated exchange-flagged tape (B3-like, several
 * ticks per ms, quote and trade ticks) over loopback TCP into the bridge server, which decodes, dedups,
 * converts, labels, publishes to the engine and persists (in-memory sink, then SQLite with
 * synchronous=NORMAL and =FULL), acking after persistence. Sustained ticks/s = ticks / (first send →
 * final ack covering every tick). Zero loss is checked and enforced (rows in the sink = ticks sent =
 * distinct ticks handed to the engine; otherwise the case throws). EA and server share one Node thread here, so
 * the figure is a lower bound for the server alone.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { Engine } from '../../src/analytics/engine.js';
import { BridgeServer } from '../../../mt5-bridge/src/server.js';
import { MemoryTickSink, type TickSink } from '../../../mt5-bridge/src/sink.js';
import { SqliteTickSink } from '../../../mt5-bridge/src/sqlite-sink.js';
import { SimulatedEA, type SimSymbol } from '../../../mt5-bridge/src/sim-ea.js';
import { flaggedTape } from '../../../mt5-bridge/src/sources.js';
import { emit, peakRssMB } from '../harness.js';

async function run(tape: SimSymbol, sink: TickSink, stored: () => number, withEngine: boolean): Promise<{ ticksPerSec: number; seconds: number; persisted: number; published: number; events: number; loss: number }> {
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', keepBars: 10_000 });
  let events = 0;
  const server = new BridgeServer({
    secret: 'bench', sink, registry, ackMs: 50, maxPendingTicks: 500_000,
    onEvent: withEngine ? (ev) => { events++; engine.onEvent(ev); } : () => { events++; },
  });
  const port = await server.listen();
  const ea = new SimulatedEA({ port, secret: 'bench', symbols: [{ ...tape, released: 0 }], heartbeats: false, batchTicks: 1000, passTicks: 50_000 });
  await ea.start();
  ea.release();
  const t0 = process.hrtime.bigint();
  await ea.drain();
  await ea.waitAcked(300_000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await ea.close();
  await server.close();
  // rows actually in the sink (not a server counter), and distinct ticks the engine was handed
  const persisted = stored();
  const published = server.stats.ticksLive;
  const n = tape.ticks.length;
  const loss = Math.max(n - persisted, n - published);
  if (loss !== 0) throw new Error(`mt5 bench: ${n} ticks sent, ${persisted} persisted, ${published} published`);
  return { ticksPerSec: Math.round(n / seconds), seconds: Number(seconds.toFixed(3)), persisted, published, events, loss };
}

export async function benchMt5(n = Number(process.env.MT5_BENCH_TICKS ?? 1_000_000)): Promise<void> {
  const tape = flaggedTape({ n, seed: 1, ambiguous: 0.01, unflagged: 0.01 });
  const ms = new MemoryTickSink();
  const mem = await run(tape, ms, () => ms.ticks.length, true);
  emit({ name: 'mt5', sink: 'memory', engine: true, ticks: n, ...mem, peakRssMB: peakRssMB() });
  const dir = mkdtempSync(join(tmpdir(), 'mt5-bench-'));
  try {
    for (const synchronous of ['NORMAL', 'FULL'] as const) {
      const path = join(dir, `ticks-${synchronous}.sqlite`);
      const sq = new SqliteTickSink(path, { synchronous });
      const lite = await run(tape, sq, () => sq.count(), true);
      await sq.close();
      emit({ name: 'mt5', sink: `sqlite-${synchronous.toLowerCase()}`, engine: true, ticks: n, ...lite, dbMB: Number((statSync(path).size / 2 ** 20).toFixed(1)), peakRssMB: peakRssMB() });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
