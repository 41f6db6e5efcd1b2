/** `tapeflow mt5-sim`: the simulated MT5 EA, speaking the bridge protocol over real TCP. */
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { InstrumentRegistry } from '../../core/instruments.js';
import { Engine } from '../../analytics/engine.js';
import { pipelineReport } from '../../analytics/report.js';
import { BridgeServer } from '../../../../mt5-bridge/src/server.js';
import { MemoryTickSink } from '../../../../mt5-bridge/src/sink.js';
import { SimulatedEA, type SimSymbol } from '../../../../mt5-bridge/src/sim-ea.js';
import { flaggedTape, forexSymbol, simulatorSymbol } from '../../../../mt5-bridge/src/sources.js';

const USAGE = `Usage: tapeflow mt5-sim [options]

Runs the simulated MetaTrader 5 EA: it dials the TapeFlow MT5 bridge, authenticates (HMAC-SHA256),
streams a tick source with the EA's CopyTicks cursor logic, answers backfill requests, sends
heartbeats and reconnects with jittered backoff. With --serve it also starts a local bridge server and
engine and prints what the engine built.

Options:
  --host H              bridge host (default 127.0.0.1)
  --port P              bridge port (required unless --serve)
  --secret S            shared secret (default: $TAPEFLOW_MT5_SECRET)
  --source SRC          tape[:N]            generated exchange-flagged tape, N ticks (default 100000)
                        forex:<file>        a forex quote file (TrueFX, HistData, plain CSV)
                        sim[:MINUTES]       the market simulator (default 5 minutes)
  --symbol NAME         broker symbol name to announce (default per source)
  --utc-offset S        broker UTC offset in seconds (default 7200; the tape source uses -10800)
  --rate N              release N ticks per second (default: everything at once)
  --serve               start a local bridge + engine on a free port and report
  --byte-writes         fault: write every byte separately
  --bad-mac             fault: send a wrong MAC (expect reject BAD_MAC)
  --gap-every N         fault: lose one ticks line every N passes (server must backfill)
  --drop-after N        fault: drop the connection mid-batch after N ticks, then reconnect
  --json                print the summary as JSON
  --help                this text
`;

async function loadSource(src: string, symbol: string | undefined, off: number | undefined): Promise<SimSymbol> {
  const [kind, ...rest] = src.split(':');
  const arg = rest.join(':');
  if (kind === 'tape') return flaggedTape({ n: arg ? Number(arg) : 100_000, sym: symbol, utcOffset: off });
  if (kind === 'forex') {
    if (!arg) throw new UsageError('--source forex:<file> needs a file');
    return forexSymbol(arg, { sym: symbol, utcOffset: off });
  }
  if (kind === 'sim') return simulatorSymbol({ durationMs: (arg ? Number(arg) : 5) * 60_000, sym: symbol, utcOffset: off });
  throw new UsageError(`unknown source "${src}"`);
}

export const mt5SimCommand: Command = {
  name: 'mt5-sim',
  summary: 'simulated MT5 EA: stream a tick source to the MT5 bridge over TCP (with fault injection)',
  usage: USAGE,
  async run(args) {
    const a = parseArgs(args, { values: ['host', 'port', 'secret', 'source', 'symbol', 'utc-offset', 'rate', 'gap-every', 'drop-after'], booleans: ['serve', 'byte-writes', 'bad-mac', 'json'] });
    const num = (k: string): number | undefined => { const v = a.flags.get(k); if (v === undefined) return undefined; const n = Number(v); if (!Number.isFinite(n)) throw new UsageError(`--${k} must be a number`); return n; };
    const serve = a.flags.has('serve');
    const secret = (a.flags.get('secret') as string | undefined) ?? process.env.TAPEFLOW_MT5_SECRET ?? (serve ? 'mt5-sim' : undefined);
    if (!secret) throw new UsageError('no secret: pass --secret or set TAPEFLOW_MT5_SECRET');
    let port = num('port');
    if (!serve && port === undefined) throw new UsageError('--port is required (or use --serve)');
    const source = await loadSource((a.flags.get('source') as string | undefined) ?? 'tape', a.flags.get('symbol') as string | undefined, num('utc-offset'));

    let server: BridgeServer | null = null;
    let engine: Engine | null = null;
    if (serve) {
      engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
      server = new BridgeServer({ secret, sink: new MemoryTickSink(), registry: engine.registry, onEvent: engine.onEvent });
      port = await server.listen();
    }
    const ea = new SimulatedEA({
      host: (a.flags.get('host') as string | undefined) ?? '127.0.0.1', port: port!, secret, symbols: [source],
      utcOffset: num('utc-offset') ?? (source.spec.tape === 'trades' && (a.flags.get('source') ?? 'tape').toString().startsWith('tape') ? -10800 : 7200),
      reconnect: true, heartbeats: true, byteWrites: a.flags.has('byte-writes'), forceMac: a.flags.has('bad-mac') ? '0'.repeat(64) : undefined,
    });
    const t0 = Date.now();
    try {
      await ea.start();
    } catch (e) {
      process.stderr.write(`mt5-sim: ${(e as Error).message}\n`);
      ea.disconnect(); // no reconnect loop from the CLI after a refused handshake
      await server?.close();
      return 2;
    }
    const rate = num('rate');
    const gapEvery = num('gap-every');
    const dropAfter = num('drop-after');
    let passes = 0, dropped = false;
    // without --rate, faults that act per pass still need passes: release 100 ticks per pass then
    const step = rate ? Math.max(1, Math.round(rate / 10)) : gapEvery || dropAfter !== undefined ? 100 : Infinity;
    while (ea.released(source.sym) < source.ticks.length) {
      ea.release(step);
      if (dropAfter !== undefined && !dropped && ea.released(source.sym) >= dropAfter) {
        dropped = true;
        ea.dropMidBatch(source.sym);
        await ea.reconnect();
      }
      if (gapEvery && ++passes % gapEvery === 0) ea.loseNextTicksLine();
      await ea.drain();
      if (rate) await new Promise((r) => setTimeout(r, 100));
    }
    // the server's bf_req for a lost line can arrive after the last pass: keep serving until all is acked
    const deadline = Date.now() + 120_000;
    for (;;) {
      await ea.drain();
      try { await ea.waitAcked(250); break; } catch (e) { if (Date.now() > deadline) throw e; }
    }
    const seconds = (Date.now() - t0) / 1000;
    const summary: Record<string, unknown> = {
      symbol: source.sym, ticks: source.ticks.length, ticksSent: ea.ticksSent, lines: ea.linesSent, reconnects: ea.reconnects,
      backfillRequests: ea.bfReqs.length, acked: Object.fromEntries(ea.acked), seconds, ticksPerSec: Math.round(ea.ticksSent / seconds),
    };
    await ea.close();
    if (server && engine) {
      await server.close();
      engine.finish();
      summary.server = server.stats;
      summary.instruments = [...engine.pipelines.values()].map(pipelineReport);
    }
    if (a.flags.has('json')) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else {
      process.stdout.write(`${source.sym}: ${summary.ticksSent} ticks sent in ${seconds.toFixed(2)} s (${summary.ticksPerSec} ticks/s), ${ea.reconnects} reconnects, ${ea.bfReqs.length} backfill requests\n`);
      if (server) {
        const s = server.stats;
        process.stdout.write(`bridge: ${s.ticksLive} live, ${s.ticksHistory} backfilled, ${s.duplicates} duplicates dropped, ${s.seqGaps} seq gaps, ${s.ambiguousFlags} ambiguous flags, ${s.acks} acks\n`);
        for (const p of (summary.instruments as ReturnType<typeof pipelineReport>[])) process.stdout.write(`engine ${p.instrument}: ${p.bars} bars, volume ${p.volume}, delta ${p.delta}, CVD ${p.cvd}\n`);
      }
    }
    return 0;
  },
};
