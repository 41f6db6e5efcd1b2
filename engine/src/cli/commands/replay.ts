/** `tapeflow replay <files...>`: replay recorded data through the engine and print the figures. */
import { basename } from 'node:path';
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { InstrumentRegistry } from '../../core/instruments.js';
import { Engine } from '../../analytics/engine.js';
import { pipelineReport, type PipelineReport } from '../../analytics/report.js';
import { replayFile } from '../../replay/index.js';
import type { FormatName, ReplayLineError, ReplayStats } from '../../replay/types.js';
import { REPLAY_FORMATS } from '../../replay/index.js';
import { ProgressBar } from '../progress.js';
import { BookManager, type BookReport } from '../../book/index.js';
import { buildRegistry, loadConfig, pipelineOptions, type TapeFlowConfig } from '../../config/index.js';
import type { PipelineOptions } from '../../analytics/pipeline.js';
import type { ReplayOptions } from '../../replay/types.js';
import { feedEvents, loadReplayEvents, type FeedHandle } from '../../../../datafeed-adapter/src/service/serve-replay.js';
import { transport } from './replay-transport.js';
import { startApp } from './start.js';
import { orderByContentTime } from '../../replay/order.js';

/** Warnings for instruments registered from the data: what was inferred and the config entry that fixes it. */
export function registeredWarnings(files: ReplayStats[], registry: { find(id: string): { tickSize: string; lotStep: string; profileRow: string } | undefined }): string[] {
  const out: string[] = [];
  for (const id of new Set(files.flatMap((f) => f.registered))) {
    const i = registry.find(id);
    out.push(`warning: ${id} is not in the instrument registry: tick ${i?.tickSize}, lot ${i?.lotStep} and row ${i?.profileRow} were inferred from the data and its detector thresholds are auto (derived from the data once 10 bars are known; nothing fires before). Add an instruments[] entry with id "${id}" to the config to set them.`);
  }
  return out;
}

const USAGE = `Usage: tapeflow replay <files...> [options]

Replays recorded market data through the engine (the same code as live) and prints, per instrument:
bar count, totals, the session profile's POC/VAH/VAL, final CVD, session VWAP with bands and a
determinism checksum of all bars. Several files are replayed in content-time order (by their first
event), whatever order they are given in (gzip detected automatically). A file that yields no events
is an error (exit 1, with the reason); so is a price span wider than the instrument's rows allow.
Instruments unknown to the registry are registered from the data (inferred tick, lot and row; auto
detector thresholds), with a warning naming the config entry to add.

Options:
  --config PATH       configuration file (default ./tapeflow.config.yaml when present): instruments and
                      analytics options; command-line options override it
  --instrument X      instrument for every event of the files (e.g. BTCUSDT, NAS100, EURUSD)
  --timeframe TF      bar size: 1s…1D, 500T (ticks) or 100V (volume); default 1m
  --align utc|session align intraday time bars to UTC (default) or to the session open
  --format NAME       force the file format (default: detected from content):
                      ${REPLAY_FORMATS.join(', ')}
  --broker-offset MIN MT5 tick exports: broker server time offset from UTC in minutes
  --cvd-reset R       session (default) or never
  --strict            stop at the first malformed line instead of counting and skipping it
  --include-non-market  include Binance @trade prints that are not market trades (X = INSURANCE_FUND,
                      ADL, NA); default: counted, reported and skipped, like the live aggTrade stream
  --json              print one JSON object instead of the table
  --serve             serve the replay like a live feed (UDF, /api/v1, WebSocket, examples) and keep
                      serving after the files end, until Ctrl-C
  --speed N|max       with --serve: N × recorded speed, or max (default max)
  --host HOST         with --serve: listen address (default 127.0.0.1)
  --port N            with --serve: listen port (default 8080; 0 = any free port)
  --help              this text
`;

export interface ReplayResult {
  files: ReplayStats[];
  instruments: PipelineReport[];
  /** order-book statistics per instrument: updates, gaps, crossed states, resyncs */
  books: BookReport[];
  badLines: number;
  checksum: string;
  /** the registry the replay used (with instruments registered from the data) */
  registry: InstrumentRegistry;
}

export async function runReplay(files: string[], o: { config?: TapeFlowConfig; instrument?: string; timeframe?: string; align?: 'utc' | 'session'; format?: FormatName; strict?: boolean; brokerUtcOffsetMinutes?: number; cvdReset?: 'session' | 'never'; includeNonMarket?: boolean; progress?: boolean; onError?: (e: ReplayLineError) => void }): Promise<ReplayResult> {
  const makeRegistry = (): InstrumentRegistry => (o.config ? buildRegistry(o.config) : new InstrumentRegistry());
  const registry = makeRegistry();
  files = await orderByContentTime(files, makeRegistry, { instrument: o.instrument, format: o.format, brokerUtcOffsetMinutes: o.brokerUtcOffsetMinutes, includeNonMarket: o.includeNonMarket });
  if (o.instrument) registry.get(o.instrument); // fail early on an unknown instrument
  const base: Partial<ReturnType<typeof pipelineOptions>> = o.config ? pipelineOptions(o.config.analytics) : {};
  const engine = new Engine(registry, { ...base, timeframe: o.timeframe ?? base.timeframe ?? '1m', align: o.align ?? 'utc', cvdReset: o.cvdReset ?? base.cvdReset ?? 'session' });
  const books = new BookManager({ registry, emit: engine.onEvent });
  engine.observe(books.onEvent);
  const stats: ReplayStats[] = [];
  for (const f of files) {
    const bar = o.progress ? new ProgressBar(basename(f)) : null;
    stats.push(await replayFile(f, engine.onEvent, {
      registry, instrument: o.instrument, format: o.format, strict: o.strict, brokerUtcOffsetMinutes: o.brokerUtcOffsetMinutes, includeNonMarket: o.includeNonMarket,
      onError: o.onError, onProgress: bar ? (d, t) => bar.update(d, t) : undefined,
    }));
    bar?.done();
  }
  engine.finish();
  const instruments = [...engine.pipelines.values()].map(pipelineReport).sort((a, b) => a.instrument.localeCompare(b.instrument));
  return { files: stats, instruments, books: books.reports(), badLines: stats.reduce((s, x) => s + x.badLines, 0), checksum: engine.checksum(), registry };
}

function table(r: ReplayResult): string {
  const out: string[] = [];
  for (const f of r.files) {
    out.push(`${f.file}: ${f.format}, ${f.lines} lines, ${f.events} events (${f.trades} trades, ${f.quotes} quotes, ${f.bookEvents} book), ${f.badLines} bad lines, ${f.offGrid} off-grid prices/sizes`);
    const nm = Object.entries(f.nonMarket);
    if (f.outOfOrder > 0) out.push(`  WARNING: ${f.outOfOrder} trades out of time order (more than 1 s older than a trade already read): bars built from this file are not reliable`);
    if (nm.length) out.push(`  non-market prints ${f.nonMarketIncluded ? 'INCLUDED' : 'excluded'}: ${nm.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  for (const i of r.instruments) {
    out.push('', `${i.instrument}  [${i.flow}]  ${i.timeframe} bars: ${i.bars}   ${i.firstTs ?? '-'} → ${i.lastTs ?? '-'}`);
    out.push(`  trades ${i.trades}  volume ${i.volume}  buy ${i.buyVolume}  sell ${i.sellVolume}  unknown ${i.unknownVolume}  delta ${i.delta}`);
    out.push(`  side classified by: ${Object.entries(i.sideSources).map(([k, v]) => `${k} ${v}%`).join(', ') || '-'}   trade-id gaps: ${i.tradeIdGaps}`);
    if (i.lateTrades > 0) out.push(`  WARNING: ${i.lateTrades} late trades (older than a bar already closed, put into the next bar): the input is not in time order`);
    if (i.sessionProfile) out.push(`  session ${i.sessionProfile.session} profile: POC ${i.sessionProfile.poc}  VAH ${i.sessionProfile.vah}  VAL ${i.sessionProfile.val}  volume ${i.sessionProfile.volume}`);
    out.push(`  CVD ${i.cvd}`);
    if (i.vwap) out.push(`  VWAP ${i.vwap.vwap}  σ ${i.vwap.stdev}  bands +1/2/3σ ${i.vwap.upper.join(' / ')}  −1/2/3σ ${i.vwap.lower.join(' / ')}`);
    out.push(`  checksum ${i.checksum}`);
  }
  for (const b of r.books) {
    const s = b.stats as unknown as Record<string, number>;
    const fig = b.kind === 'L2'
      ? `snapshots ${s.snapshots}  updates ${s.updatesApplied}  level updates ${s.levelUpdates}  gaps ${s.gaps}  resyncs ${s.resyncs}  crossed ${s.crossed}  stale dropped ${s.staleDropped}  duplicates ${s.duplicates}`
      : `events ${s.events}  adds ${s.adds}  cancels ${s.cancels}  modifies ${s.modifies}  clears ${s.clears}  trades ${s.trades}  dangling ${s.dangling}  crossed states ${s.crossedStates}`;
    out.push('', `${b.instrument} book [${b.kind}${b.synced ? ', synced' : ', NOT synced'}]  ${b.bidLevels} bid / ${b.askLevels} ask levels  best ${b.bestBid ?? '-'} / ${b.bestAsk ?? '-'} (ticks)`, `  ${fig}`);
  }
  out.push('', `checksum (all instruments): ${r.checksum}`);
  return out.join('\n') + '\n';
}

/** `replay --serve`: the composition root's server, fed by the files at the given speed. */
async function serve(files: string[], o: { config?: string; speed?: string; host?: string; port?: string; timeframe?: string; align: 'utc' | 'session'; cvdReset?: 'session' | 'never'; replay: Partial<ReplayOptions> }): Promise<number> {
  const speed = o.speed === undefined || o.speed === 'max' ? 'max' : Number(o.speed);
  if (speed !== 'max' && !(speed > 0)) throw new UsageError('--speed must be a positive number or max');
  const port = o.port === undefined ? undefined : Number(o.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError('--port must be an integer 0..65535');
  const pipeline: Partial<PipelineOptions> = { align: o.align };
  if (o.timeframe) pipeline.timeframe = o.timeframe;
  if (o.cvdReset) pipeline.cvdReset = o.cvdReset;
  let feed: FeedHandle | null = null;
  const handlers = [{ path: '/replay', handle: (r: Request) => transport(r, () => feed, (ts) => (rewinding = rewinding.then(() => rewind(ts), () => rewind(ts)))) }];
  const start = (port: number | undefined, host: string | undefined): ReturnType<typeof startApp> => startApp({ config: o.config, host, port, storePath: null, pipeline, log: (s) => process.stderr.write(s), handlers });
  const app = await start(port, o.host);
  const base = app.config;
  files = await orderByContentTime(files, () => buildRegistry(base), o.replay);
  const { events, stats } = await loadReplayEvents(files, app.engine.registry, o.replay);
  for (const w of registeredWarnings(stats, app.engine.registry)) process.stderr.write(w + '\n');
  for (const f of stats) process.stdout.write(`${f.file}: ${f.format}, ${f.events} events, ${f.badLines} bad lines\n`);
  process.stdout.write(`TapeFlow replay serving on ${app.server.url} at ${speed === 'max' ? 'max speed' : `${speed}x`}\n`);
  const announce = (f: FeedHandle, a: { engine: { checksum(): string } }): void => {
    void f.done.then((d) => { if (f === feed && d.events === f.status().total) process.stdout.write(`replay finished: ${d.events} events fed; checksum ${a.engine.checksum()}; still serving (Ctrl-C to stop)\n`); });
  };
  feed = feedEvents(events, app.engine.onEvent, speed);
  announce(feed, app);
  const replayStatus = (): unknown => ({ files: stats.map((f) => f.file), ...feed!.status() });
  app.server.service.providers.replay = replayStatus;
  /*
   * Seek backwards: the engine is one deterministic pass, so a fresh app (engine, books, signals,
   * trade states, paper, stream) is fed from the files' start up to ts, paused or playing as before.
   * The user's port stays open: its requests and WebSocket upgrades are handed to the fresh app's
   * handlers (clients see their stream close with 1001 and resubscribe); the old app is closed.
   */
  const front = app.server.server;
  let current = app;
  let target = app.server.server;
  let rewinding: Promise<unknown> = Promise.resolve();
  const rewind = async (ts: number): Promise<FeedHandle> => {
    const st = feed!.status();
    feed!.stop();
    const next = await start(0, '127.0.0.1');
    const fresh = await loadReplayEvents(files, next.engine.registry, o.replay);
    const f = feedEvents(fresh.events, next.engine.onEvent, st.speed, undefined, { paused: true });
    next.server.service.providers.replay = replayStatus;
    f.seek(ts);
    const old = current;
    target = next.server.server;
    current = next;
    feed = f;
    announce(f, next);
    if (old === app) {
      const closing = app.stream.close();
      front.removeAllListeners('request');
      front.on('request', (q, r) => target.emit('request', q, r));
      front.on('upgrade', (q, sock, head) => target.emit('upgrade', q, sock, head));
      await closing;
      await app.alerts?.close();
    } else await old.close();
    if (st.playing) f.play();
    process.stdout.write(`replay rewound to ${new Date(ts).toISOString()}: ${f.status().fed} events fed again from the start\n`);
    return f;
  };
  await new Promise<void>((resolve) => {
    const fn = (): void => { process.off('SIGINT', fn); process.off('SIGTERM', fn); resolve(); };
    process.on('SIGINT', fn);
    process.on('SIGTERM', fn);
  });
  feed.stop();
  if (current !== app) await current.close();
  await app.close();
  return 0;
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay recorded files through the engine and print bars, profile, CVD, VWAP, checksum',
  usage: USAGE,
  async run(args) {
    const a = parseArgs(args, { values: ['config', 'instrument', 'timeframe', 'align', 'format', 'broker-offset', 'cvd-reset', 'speed', 'host', 'port'], booleans: ['json', 'strict', 'serve', 'include-non-market'] });
    const includeNonMarket = a.flags.has('include-non-market');
    if (a.positional.length === 0) throw new UsageError('no files given');
    const fmt = a.flags.get('format') as string | undefined;
    if (fmt && !REPLAY_FORMATS.includes(fmt)) throw new UsageError(`unknown format "${fmt}"`);
    const align = (a.flags.get('align') as string | undefined) ?? 'utc';
    if (align !== 'utc' && align !== 'session') throw new UsageError('--align must be utc or session');
    const reset = a.flags.get('cvd-reset') as string | undefined;
    if (reset !== undefined && reset !== 'session' && reset !== 'never') throw new UsageError('--cvd-reset must be session or never');
    const off = a.flags.get('broker-offset');
    const json = a.flags.has('json');
    if (a.flags.has('serve')) {
      return serve(a.positional, {
        config: a.flags.get('config') as string | undefined, speed: a.flags.get('speed') as string | undefined,
        host: a.flags.get('host') as string | undefined, port: a.flags.get('port') as string | undefined,
        timeframe: a.flags.get('timeframe') as string | undefined, align, cvdReset: reset as 'session' | 'never' | undefined,
        replay: { instrument: a.flags.get('instrument') as string | undefined, format: fmt as FormatName | undefined, strict: a.flags.has('strict'), brokerUtcOffsetMinutes: off === undefined ? undefined : Number(off), includeNonMarket },
      });
    }
    for (const k of ['speed', 'host', 'port']) if (a.flags.has(k)) throw new UsageError(`--${k} needs --serve`);
    const config = await loadConfig(a.flags.get('config') as string | undefined);
    const r = await runReplay(a.positional, {
      config,
      instrument: a.flags.get('instrument') as string | undefined,
      timeframe: a.flags.get('timeframe') as string | undefined,
      align, format: fmt as FormatName | undefined, strict: a.flags.has('strict'), cvdReset: reset as 'session' | 'never' | undefined,
      brokerUtcOffsetMinutes: off === undefined ? undefined : Number(off), includeNonMarket,
      progress: true,
      onError: (e) => process.stderr.write(`warning: ${e.message}\n`),
    });
    for (const w of registeredWarnings(r.files, r.registry)) process.stderr.write(w + '\n');
    process.stdout.write(json ? JSON.stringify({ ...r, registry: undefined }, null, 2) + '\n' : table(r));
    return 0;
  },
};
