/**
 * `tapeflow demo`: the seeded market simulator in real time through the engine for several
 * instruments (BTCUSDT, ETHUSDT, NAS100 quote-only, EURUSD quote-only), optionally served like a
 * live feed (`--serve`: UDF, API, WebSocket, examples). Offline: needs no network.
 */
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { createDemoSimulators, DEMO_INSTRUMENTS, runRealtime, type RealtimeHandle, type MarketSimulator } from '../../sim/index.js';
import type { EventSink } from '../../sim/types.js';
import type { InstrumentRegistry } from '../../core/instruments.js';
import { BookManager } from '../../book/index.js';
import { Engine } from '../../analytics/engine.js';
import { buildRegistry, loadConfig } from '../../config/index.js';
import { pipelineOptionsFrom, startApp } from './start.js';

const USAGE = `Usage: tapeflow demo [options]

Runs the market simulator in real time through the engine for several instruments, with scripted
order-flow events (absorption, sweep, iceberg, exhaustion, divergence, stop run). Deterministic for a
given --seed. Starts with a backfilled simulated session (--backfill) so the chart has history, and
the first scripted event after start happens within 30 s. Prints a status line every 10 s and the process memory (RSS) at start and end.

Options:
  --serve          serve it like a live feed: UDF + /api/v1 + WebSocket + examples on --host/--port
  --host HOST      listen address with --serve (default 127.0.0.1)
  --port N         listen port with --serve (default 8080; 0 = any free port)
  --seconds N      stop after N seconds (default: run until Ctrl-C)
  --speed X        simulated seconds per wall-clock second (default 1)
  --seed N         simulator seed (default 1)
  --backfill MIN   simulated history served at start, in minutes (default 120; 0 = none)
  --config FILE    config file (instruments, analytics options)
  --help           this text
`;

/**
 * The demo's instruments are simulated: their venue becomes `simulator`, so their books follow the
 * simulator's sequencing (snapshot then in-order deltas) rather than a real venue's rules, and a store
 * would never record them as live data.
 */
export function markSimulated(registry: InstrumentRegistry): void {
  for (const d of DEMO_INSTRUMENTS) {
    const inst = registry.find(d.id);
    if (!inst || inst.venue === 'simulator') continue;
    const { price: _p, qty: _q, profileRowTicks: _r, footprintRowTicks: _f, calendar: _c, ...spec } = inst;
    registry.add({ ...spec, venue: 'simulator', description: `${spec.description} (simulated)` });
  }
}

const mb = (): number => Math.round(process.memoryUsage().rss / 1048576);

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the market simulator in real time through the engine (offline demo; --serve to serve it)',
  usage: USAGE,
  async run(args) {
    const a = parseArgs(args, { values: ['host', 'port', 'seconds', 'speed', 'seed', 'config', 'backfill'], booleans: ['serve'] });
    if (a.positional.length) throw new UsageError(`unexpected argument "${a.positional[0]}"`);
    const num = (k: string, d: number, ok: (x: number) => boolean): number => {
      const v = a.flags.get(k);
      if (v === undefined) return d;
      const n = Number(v);
      if (!ok(n)) throw new UsageError(`--${k}: invalid value "${String(v)}"`);
      return n;
    };
    const seconds = num('seconds', Infinity, (n) => n > 0);
    const speed = num('speed', 1, (n) => n > 0 && n <= 1000);
    const seed = num('seed', 1, Number.isInteger);
    const port = num('port', 8080, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
    const configPath = a.flags.get('config') as string | undefined;
    const backfillMs = num('backfill', 120, (n) => n >= 0 && n <= 7 * 24 * 60) * 60_000;

    const startTs = Date.now();
    const clock = (): number => startTs + (Date.now() - startTs) * speed;
    let engine: Engine;
    let close = async (): Promise<void> => {};
    if (a.flags.has('serve')) {
      const app = await startApp({ config: configPath, host: a.flags.get('host') as string | undefined, port, storePath: null, clock, log: (s) => process.stderr.write(s) });
      engine = app.engine;
      close = app.close;
      // the feed status (/api/v1/feeds, the feeds WS channel, the page) says the data is simulated, not live
      app.server.service.providers.feeds = () => ({ mode: 'simulated', simulated: { banner: null, reason: 'tapeflow demo: the seeded market simulator (no venue connected)', instruments: [] }, feeds: [], completeness: [] });
      process.stdout.write(`TapeFlow demo serving on ${app.server.url}\n`);
    } else {
      const config = await loadConfig(configPath);
      engine = new Engine(buildRegistry(config), pipelineOptionsFrom(config));
      const books = new BookManager({ registry: engine.registry, emit: engine.onEvent });
      engine.observe(books.onEvent);
    }

    markSimulated(engine.registry);
    const sims = createDemoSimulators(engine.registry, startTs - backfillMs, seed, { durationMs: backfillMs + 7 * 24 * 3_600_000, liveFrom: startTs });
    // the backfilled session, so the chart opens on history, not on one bar; built in 10-s slices of
    // simulated time that yield to the event loop, so the server answers (with what is built) meanwhile
    await backfill(sims, startTs - backfillMs, startTs, engine.onEvent);
    const rss0 = mb();
    process.stdout.write(`demo: ${sims.map((s) => s.instrument).join(', ')} at ${speed}x, seed ${seed}, ${backfillMs / 60_000} min backfilled; RSS at start ${rss0} MB\n`);
    const handles: RealtimeHandle[] = sims.map((s) => runRealtime(s, engine.onEvent, { speed }));

    const status = (): void => {
      const parts = [...engine.pipelines.values()].map((p) => {
        const last = p.openBar?.close ?? p.bars.at(-1)?.bar.close;
        return `${p.instrument.id} ${p.bars.length} bars ${p.counters.trades} trades last ${last === undefined ? '-' : p.instrument.price.format(last)} CVD ${p.instrument.qty.format(p.cvd.value)}`;
      });
      const labels = sims.reduce((n, s) => n + s.completedLabels().length, 0);
      process.stdout.write(`[${new Date().toISOString()}] ${parts.join(' | ')} | scripted events ${labels} | RSS ${mb()} MB\n`);
    };
    const timer = setInterval(status, 10_000);

    await new Promise<void>((resolve) => {
      const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      if (Number.isFinite(seconds)) setTimeout(stop, seconds * 1000);
    });
    clearInterval(timer);
    for (const h of handles) h.stop();
    status();
    process.stdout.write(`demo: RSS at start ${rss0} MB, at end ${mb()} MB\n`);
    await close();
    return 0;
  },
};

const BACKFILL_SLICE_MS = 10_000;

async function backfill(sims: MarketSimulator[], from: number, to: number, sink: EventSink): Promise<void> {
  for (let t = from; t < to; ) {
    t = Math.min(to, t + BACKFILL_SLICE_MS);
    for (const s of sims) s.step(t, sink);
    if (t < to) await new Promise<void>((r) => setImmediate(r));
  }
}
