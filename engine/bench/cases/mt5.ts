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
import { ShimEA } from '../../../mt5-bridge/shim/run.js';
import { buildShimEa } from '../../../mt5-bridge/shim/build.js';

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

/**
 * The same bridge with the EA's own source as the client (MQL5 → C++ through mt5-bridge/shim, a child
 * process over loopback TCP), beside the simulated EA on the same tape: every tick of the tape arrives
 * at the shim's broker within ~1 s (from 3 s after start) and the EA pumps it with its CopyTicks cursor (500 ticks per line,
 * string building in the shim's MQL5 string functions). ticks/s = ticks / (first tick due → every tick
 * persisted). Zero loss is enforced. The simulated EA runs the same tape in this process.
 */
export async function benchMt5Shim(n = Number(process.env.MT5_SHIM_BENCH_TICKS ?? 300_000)): Promise<void> {
  const tape = flaggedTape({ n, seed: 2, ambiguous: 0.01, unflagged: 0.01 });
  const sim = new MemoryTickSink();
  const simRun = await run(tape, sim, () => sim.ticks.length, true);
  emit({ name: 'mt5-client', client: 'simulated-ea', ticks: n, ticksPerSec: simRun.ticksPerSec, seconds: simRun.seconds, loss: simRun.loss });
  const { binary } = buildShimEa();
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', keepBars: 10_000 });
  const sink = new MemoryTickSink();
  const server = new BridgeServer({ secret: 'bench', sink, registry, ackMs: 50, maxPendingTicks: 500_000, onEvent: engine.onEvent });
  const port = await server.listen();
  let connectedAt = 0;
  server.on('connected', () => { connectedAt ||= Date.now(); });
  const span = tape.ticks[tape.ticks.length - 1].utc - tape.ticks[0].utc;
  const speed = Math.max(1, span / 1000);
  const ea = new ShimEA({
    binary, timerResUs: 1000,
    // the first tick comes 3 s (real) after the EA starts (tape load + connect): every tick is live
    broker: { startUtc: tape.ticks[0].utc - speed * 3000, speed, offsets: [{ fromUtc: 0, off: -10800 }], symbols: [tape] },
    inputs: { InpPort: port, InpSecret: 'bench', InpSymbols: tape.sym, InpTimerMs: 10, InpBackfillDays: 0 },
  });
  ea.start();
  let last = -1, lastChange = Date.now();
  while (sink.ticks.length < n) {
    await new Promise((r) => setTimeout(r, 20));
    if (sink.ticks.length !== last) { last = sink.ticks.length; lastChange = Date.now(); }
    else if (Date.now() - lastChange > 15_000) break; // no progress: report instead of hanging
  }
  const firstTickAt = ea.realTimeOf(tape.ticks[0].utc);
  const seconds = (Date.now() - Math.max(connectedAt, firstTickAt)) / 1000;
  const said = ea.lines.slice(-8).map((l) => `${l.ms} ${l.text}`).join('\n');
  await ea.stop();
  await server.close();
  const loss = n - sink.ticks.length;
  if (loss !== 0) throw new Error(`mt5 shim bench: ${n} ticks in the tape, ${sink.ticks.length} persisted; server ${JSON.stringify({ connections: server.stats.connections, rejects: server.stats.rejects, errors: server.stats.errors })}; the EA's last lines:\n${said}`);
  emit({ name: 'mt5-client', client: 'shimmed-ea (EA source via MQL5 shim)', ticks: n, ticksPerSec: Math.round(n / seconds), seconds: Number(seconds.toFixed(3)), loss, ratioToSimulated: Number((n / seconds / simRun.ticksPerSec).toFixed(3)), peakRssMB: peakRssMB() });
}
