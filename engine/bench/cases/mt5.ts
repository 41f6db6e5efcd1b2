/**
 * MT5 bridge throughput: the simulated EA streams a generated exchange-flagged tape (B3-like, several
 * ticks per ms, quote and trade ticks) over loopback TCP into the bridge server, which decodes, dedups,
 * converts, labels, publishes to the engine and persists (in-memory sink, then SQLite), acking after
 * persistence. Sustained ticks/s = ticks / (first send → final ack covering every tick). Zero loss is
 * checked (persisted = sent, every tick published once). EA and server share one Node thread here, so
 * the figure is a lower bound for the server alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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

async function run(tape: SimSymbol, sink: TickSink, withEngine: boolean): Promise<{ ticksPerSec: number; seconds: number; persisted: number; published: number; loss: number }> {
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', keepBars: 10_000 });
  let published = 0;
  const server = new BridgeServer({
    secret: 'bench', sink, registry, ackMs: 50, maxPendingTicks: 500_000,
    onEvent: withEngine ? (ev) => { published++; engine.onEvent(ev); } : () => { published++; },
  });
  const port = await server.listen();
  const ea = new SimulatedEA({ port, secret: 'bench', symbols: [{ ...tape, released: 0 }], heartbeats: false, batchTicks: 1000, passTicks: 50_000 });
  await ea.start();
  ea.release();
  const t0 = process.hrtime.bigint();
  await ea.drain();
  await ea.waitAcked(300_000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const persisted = server.stats.ticksLive;
  await ea.close();
  await server.close();
  const n = tape.ticks.length;
  return { ticksPerSec: Math.round(n / seconds), seconds: Number(seconds.toFixed(3)), persisted, published, loss: n - persisted };
}

export async function benchMt5(n = Number(process.env.MT5_BENCH_TICKS ?? 1_000_000)): Promise<void> {
  const tape = flaggedTape({ n, seed: 1, ambiguous: 0.01, unflagged: 0.01 });
  const mem = await run(tape, new MemoryTickSink(), true);
  emit({ name: 'mt5', sink: 'memory', engine: true, ticks: n, ...mem, peakRssMB: peakRssMB() });
  const dir = mkdtempSync(join(tmpdir(), 'mt5-bench-'));
  try {
    const sq = new SqliteTickSink(join(dir, 'ticks.sqlite'), { synchronous: 'NORMAL' });
    const lite = await run(tape, sq, true);
    await sq.close();
    emit({ name: 'mt5', sink: 'sqlite-normal', engine: true, ticks: n, ...lite, peakRssMB: peakRssMB() });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
