/**
 * `tapeflow start`: load the config, open the store, build the engine (restoring bars, profiles and
 * CVD from the store), and serve the UDF + order-flow API (and examples/) until SIGINT/SIGTERM.
 */
import { pcrAlert } from '../../alerts/pcr-alert.js';
import { SeedPresetRunner } from '../../signals/seed-runner.js';
import type { PcrReport } from '../../signals/pcr.js';
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { loadConfig, buildRegistry, pipelineOptionsFrom, type TapeFlowConfig } from '../../config/index.js';
import { Engine } from '../../analytics/engine.js';
import type { PipelineOptions } from '../../analytics/pipeline.js';
import { Store } from '../../store/store.js';
import { recordEngine, restoreEngine } from '../../store/recorder.js';
import { HistoryService } from '../../../../datafeed-adapter/src/service/history.js';
import { createServer, type DatafeedServer } from '../../../../datafeed-adapter/src/server.js';
import { createStreamServer, type StreamServer } from '../../../../datafeed-adapter/src/ws/server.js';
import { liveTradeBarsSnapshot } from '../../../../datafeed-adapter/src/service/live-trade-bars.js';
import { BookManager } from '../../book/manager.js';
import { SignalEngine } from '../../signals/engine.js';
import { startClock, wireBooks, wireDepthHistory, wireMerged, wireSignals } from '../wire.js';
import { BridgeServer } from '../../../../mt5-bridge/src/server.js';
import { SqliteTickSink } from '../../../../mt5-bridge/src/sqlite-sink.js';
import { parseTimeframe } from '../../analytics/timeframe.js';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { FeedManager } from '../../feeds/manager.js';
import type { FeedOptions } from '../../feeds/types.js';
import { AlertService, footprintChartProvider } from '../../alerts/index.js';
import { createLogger, type Logger } from '../../log.js';
import { wireStatus, type StatusWiring } from '../wire-status.js';
import { SimulatorFallback, FALLBACK_AFTER_MS } from '../fallback.js';

const USAGE = `Usage: tapeflow start [options]

Starts the engine and the datafeed server: UDF endpoints for TradingView (/config, /symbols,
/history, …), the order-flow JSON API under /api/v1, /openapi.json, and examples/ when present.
Bars, session profiles and CVD are restored from the store, so a restart continues where it stopped.

Options:
  --json-signals  also print every rule-mode decision (LONG/SHORT/WAIT, confidence, reasoning) as one JSON line on stdout
  --config FILE   config file (default: $TAPEFLOW_CONFIG, else ./tapeflow.config.yaml, else defaults)
  --host HOST     listen address (default: server.host from the config, 127.0.0.1)
  --port N        listen port (default: server.port from the config, 8080; 0 = any free port)
  --store PATH    SQLite file (default: store.path from the config, ./data/tapeflow.sqlite)
  --no-store      run in memory only
  --role ROLE     run one role of the distributed form (ingest | engine | gateway) against the NATS
                  JetStream cluster of the config's cluster: section (docs/cluster.md); without it,
                  everything runs in this one process with SQLite
  --node ID       cluster node id (default cluster.nodeId, else role-host-pid)
  --files A,B     ingest: replay these files (default cluster.files; none = the config's live feeds)
  --pace N        ingest: publish at N events/s (default: as fast as the stream acknowledges)
  --help          this text

With --role, ingest and engine nodes serve only /health and /metrics on --port (default
cluster.opsPort); a gateway serves everything a one-process start serves, its store (--store, or
memory) rebuilt from the event stream.
`;

/**
 * Pipeline options from the config's analytics section. Closed bars held in memory are bounded by
 * analytics.barMemoryMB for all instruments together (older bars are served from the store), so
 * memory does not grow with uptime however fine the rows are.
 */
// (in config/analytics.ts so the memory bench can build them without loading the server)
export { pipelineOptionsFrom };

export interface StartedApp {
  config: TapeFlowConfig;
  server: DatafeedServer;
  stream: StreamServer;
  engine: Engine;
  books: BookManager;
  signals: SignalEngine;
  feeds: FeedManager;
  /** MT5 bridge server and its port (null unless mt5.enabled) */
  mt5: { server: BridgeServer; port: number } | null;
  /** Telegram alerts (null when alerts.telegram.enabled is false) */
  alerts: AlertService | null;
  store: Store | undefined;
  /** the status registry (report problems into it) and the /metrics registry */
  status: StatusWiring;
  /** the first-run simulator fallback (null without live feeds) */
  fallback: SimulatorFallback | null;
  close(): Promise<void>;
}

/**
 * The composition root: build and start everything (used by start, demo --serve, replay --serve and
 * tests). `clock` (live data only) advances every pipeline each second so bars close in quiet markets.
 */
/** Servers that play no file say so at /replay (the page then shows no transport; a 404 would be a console error). */
const NO_REPLAY = { path: '/replay', handle: async (): Promise<globalThis.Response> => new Response(JSON.stringify({ available: false }), { headers: { 'content-type': 'application/json' } }) };

export async function startApp(o: { config?: string; host?: string; port?: number; storePath?: string | null; pipeline?: Partial<PipelineOptions>; clock?: () => number; log?: (s: string) => void; /** connect the config's live feeds (default false: tests and replays never dial out) */ feeds?: boolean; /** serve the simulator when no feed delivers data for afterMs (default with feeds: 10 s; false = never) */ fallback?: { afterMs?: number; backfillMs?: number } | false; /** default: from the config's log section */ logger?: Logger; /** feed tuning applied to every live feed (tests: fast backoff) */ feedDefaults?: Partial<FeedOptions>; /** extra web handlers (replay --serve: the transport at /replay) */ handlers?: { path: string; handle: (request: globalThis.Request) => Promise<globalThis.Response> }[]; /** each rule-mode decision (FlowSight JSON), e.g. one line on stdout with --json-signals */ onRule?: (r: unknown) => void; /** false: no detectors on this engine (a cluster gateway publishes the engine nodes' signals) */ attachSignals?: boolean; /** per-channel WS update intervals (ms) over the defaults */ wsIntervals?: Partial<Record<string, number>> }): Promise<StartedApp> {
  const config = await loadConfig(o.config);
  const registry = buildRegistry(config);
  const engine = new Engine(registry, { ...pipelineOptionsFrom(config), ...o.pipeline });
  const storePath = o.storePath === null ? null : o.storePath ?? config.store.path;
  const logger = o.logger ?? createLogger({ level: config.log.level, format: config.log.format });
  const store = storePath ? Store.open({ path: storePath, retentionDays: config.store.retentionDays, maxQueue: config.store.maxQueuedOps, log: logger.child({ component: 'store' }) }) : undefined;
  // feeds exist before the books so a book gap can ask its feed for a resync
  let feeds: FeedManager | undefined;
  const books = new BookManager({ registry, emit: engine.onEvent, onResync: (r) => feeds?.onResync(r) });
  engine.observe(books.onEvent);
  // after a restart each feed continues from the store's last trade per instrument (REST backfill of the downtime)
  const resume = (id: string): { id: number; ts: number } | undefined => { const t = store?.lastTrades(id, Number.MAX_SAFE_INTEGER, 1)[0]; return t ? { id: t.id, ts: t.ts } : undefined; };
  feeds = FeedManager.fromConfig(o.feeds ? config.feeds : [], { registry, sink: engine.onEvent, log: logger, defaults: { ...o.feedDefaults, resume } });
  const liveFeeds = feeds;
  const service = new HistoryService(engine, store);
  // merged multi-venue instruments join the registry before the store restores their bars
  const spec = parseTimeframe(String(engine.pipelineOptions.timeframe ?? '1m'));
  wireMerged({ engine, registry, service, merged: config.merged, timeframeMs: spec.kind === 'time' ? spec.ms : 60_000 });
  if (store) {
    const recorder = recordEngine(engine, store);
    const restored = restoreEngine(engine, store, { recorder });
    for (const r of restored) o.log?.(`restored ${r.instrument}: ${r.bars} bars, ${r.profiles} profiles, ${r.trades} trades replayed from ${new Date(r.resumeFrom).toISOString()}\n`);
  }
  // signals attach after the restore so restored trades do not fire (and store) their signals again
  // rule mode: FlowSight's LONG/SHORT/WAIT, or the seed preset (ACCUMULATION/DISTRIBUTION/BUY/SELL) with its PCR
  // confirmation from the Kite feeds' options chains; whichever is configured is what /api/v1/rule and `rule` serve
  const rm = config.ruleMode;
  // a cluster gateway attaches no detectors: it publishes the engine nodes' signals (engine/src/cluster/roles.ts)
  const attach = o.attachSignals !== false;
  const signals = new SignalEngine({ ruleMode: rm.preset === 'flowsight' });
  if (attach) signals.attach(engine, { books });
  type PcrFeed = { pcr?: () => unknown; pcrSymbol?: () => string | null; pcrFor?: (instrument: string) => PcrReport | null };
  const seedRule = rm.preset === 'seed' && attach
    ? new SeedPresetRunner(signals, rm.seed, (id) => { for (const f of liveFeeds.feeds) { const r = (f as PcrFeed).pcrFor?.(id); if (r) return r.bias; } return null; })
    : undefined;
  seedRule?.attach(engine);
  const tokenEnv = config.server.authTokenEnv;
  const authToken = tokenEnv ? process.env[tokenEnv] : undefined;
  if (tokenEnv && !authToken) throw new Error(`server.authTokenEnv names ${tokenEnv}, but that environment variable is empty`);
  // attached after the signal engine so the daily bias is current when an alert is built; the outbox is
  // alerts.telegram.dbPath (default alerts.sqlite next to the store); routing, the outbox, sending,
  // commands and chart drawing run in a worker thread. Built before the HTTP server, which mounts the
  // webhook route in webhook mode; started once everything else is up.
  const alerts = AlertService.fromConfig(config, process.env, {
    charts: footprintChartProvider(engine, { service }),
    log: logger.child({ component: 'telegram' }),
  });
  alerts?.attach(signals, engine);
  const hook = alerts?.webhookRoute();
  // /health, /api/v1/system and /metrics: what is wrong (store, feeds, books, Telegram) and the figures
  const status = wireStatus({ engine, service, store, feeds: liveFeeds, books, alerts: alerts ? () => alerts.health() : undefined });
  let server: DatafeedServer;
  try {
    const sc = config.server;
    const jwtSecret = sc.jwt ? process.env[sc.jwt.secretEnv] : undefined;
    if (sc.jwt && !jwtSecret) throw new Error(`server.jwt.secretEnv names ${sc.jwt.secretEnv}, but that environment variable is empty`);
    server = await createServer({
      engine, store, service, host: o.host ?? sc.host, port: o.port ?? sc.port, cors: sc.cors.origins, authToken, handlers: [...(hook ? [hook] : []), ...(o.handlers ?? []), ...(o.handlers?.some((h) => h.path === '/replay') ? [] : [NO_REPLAY])], metrics: status.metrics,
      jwt: sc.jwt && jwtSecret ? { secret: jwtSecret, ttlS: sc.jwt.ttlS, revoked: sc.jwt.revoked } : undefined,
      protect: sc.protect, allowedHosts: sc.allowedHosts, allowNoAuth: sc.allowNoAuth,
      authThrottle: { maxFailures: sc.authThrottle.maxFailures, windowMs: sc.authThrottle.windowS * 1000, lockMs: sc.authThrottle.lockS * 1000 },
      logger,
    });
  } catch (err) {
    await alerts?.close(); // its worker would keep the process alive
    throw err;
  }
  const guard = server.guard;
  const stream = createStreamServer({ engine, server: server.server, feeds: () => service.feeds(), tradeBars: (sym, rule, limit) => liveTradeBarsSnapshot(service, sym, rule, limit), token: guard.streamTokenCheck(), verifyUpgrade: (req) => guard.upgradeAllowed(req), books: (id) => books.book(id), logger: logger.child({ component: 'ws' }), intervals: o.wsIntervals });
  status.late.ws = () => {
    const d = stream.deliveryStats();
    return { clients: stream.conns.size, connections: stream.counters.connections, dropped: stream.counters.dropped, congested: d.congested, conflated: d.conflated, messages: d.messages, sendDelayP99Ms: d.sendDelayMs.p99 };
  };
  wireBooks(service, books);
  wireDepthHistory(service, books, registry);
  const pc = config.paper;
  wireSignals({
    engine, signals, service, stream, store, onRule: o.onRule, seedRule,
    paper: pc.enabled ? { notionalPerTrade: pc.notionalPerTrade, account: { initialBalance: pc.initialBalance, maxPositionPct: pc.maxPositionPct, maxExposurePct: pc.maxExposurePct, dailyLossPct: pc.dailyLossPct, feeBps: pc.feeBps, slippageBps: pc.slippageBps } } : false,
  });
  let mt5: { server: BridgeServer; port: number } | null = null;
  if (config.mt5.enabled) {
    const secret = process.env[config.mt5.secretEnv];
    if (!secret) throw new Error(`mt5.enabled is true but environment variable ${config.mt5.secretEnv} (the EA's shared secret) is empty`);
    const dbPath = config.mt5.dbPath ?? join(dirname(config.store.path), 'mt5-ticks.sqlite');
    let stage = `open its tick database ${dbPath}`;
    try {
      mkdirSync(dirname(dbPath), { recursive: true });
      const sink = new SqliteTickSink(dbPath);
      // backfilled history reaches the engine (hence the store and /history) through onEvent, in time
      // order with live: the bridge holds a symbol's live events until the history before them is in
      const bridge = new BridgeServer({
        host: config.mt5.host, port: config.mt5.port, secret, sink, registry, onEvent: engine.onEvent,
        symbols: { overrides: config.mt5.symbols, suffixes: config.mt5.suffixes, prefixes: config.mt5.prefixes }, dst: config.mt5.dst,
        logger: logger.child({ component: 'mt5' }),
      });
      stage = `listen on ${config.mt5.host}:${config.mt5.port}`;
      mt5 = { server: bridge, port: await bridge.listen() };
    } catch (err) {
      // a configured bridge that cannot start is fatal: never keep serving without it (and close what
      // is open, or the process would stay up with its HTTP server)
      await alerts?.close();
      await stream.close();
      await server.close();
      store?.close();
      throw new Error(`mt5 bridge cannot ${stage}: ${(err as Error).message}`);
    }
    o.log?.(`MT5 bridge listening on ${config.mt5.host}:${mt5.port}\n`);
  }
  const bridgeStats = mt5 ? () => ({ venue: 'mt5', port: mt5!.port, stats: mt5!.server.stats }) : null;
  const fb = o.feeds && o.fallback !== false && liveFeeds.feeds.length
    ? new SimulatorFallback({ feeds: liveFeeds, registry, sink: engine.onEvent, log: logger, configFile: o.config ?? process.env.TAPEFLOW_CONFIG ?? 'tapeflow.config.yaml', afterMs: o.fallback?.afterMs ?? FALLBACK_AFTER_MS, backfillMs: o.fallback?.backfillMs })
    : null;
  service.providers.feeds = () => { const sim = fb?.status() ?? null; return { mode: sim?.mode ?? 'live', simulated: sim, feeds: [...liveFeeds.status(), ...(bridgeStats ? [bridgeStats()] : [])], completeness: liveFeeds.completeness() }; };
  // options-chain PCR of the Kite feeds that have kite.pcr (signals/pcr.ts): each changed report goes out on the
  // `pcr` WS channel under the chain's spot instrument; a PCR bias change becomes a Telegram alert (kind 'pcr', opt-in per chat)
  for (const f of liveFeeds.feeds) {
    let prevBias: string | null = null;
    f.on('pcr', (r: PcrReport) => {
      const a = pcrAlert(r, prevBias); if (r.bias !== null) prevBias = r.bias; if (a) alerts?.publish(a);
      if (r.symbol && registry.find(r.symbol)) stream.publish('pcr', r.symbol, r);
    });
  }
  service.providers.pcr = () => liveFeeds.feeds.flatMap((f) => { const r = (f as PcrFeed).pcr?.(); return r ? [r] : []; });
  service.providers.pcrSymbols = () => liveFeeds.feeds.flatMap((f) => { const s = (f as PcrFeed).pcrSymbol?.(); return s ? [s] : []; });
  if (fb) status.registry.probe('simulator', () => fb.problem());
  await alerts?.start();
  // an MT5 symbol waiting for its backfill is not advanced by the clock (its history is still to come)
  const stopClock = o.clock ? startClock(engine, o.clock, 1000, mt5 ? (id) => mt5!.server.holding(id) : undefined) : () => {};
  // not awaited: offline, exchangeInfo/snapshot retries must not delay serving what we have
  void liveFeeds.start();
  fb?.start();
  return {
    config, server, stream, engine, books, signals, feeds: liveFeeds, mt5, alerts, store, status, fallback: fb,
    close: async () => { fb?.stop(); stopClock(); await liveFeeds.stop(); await mt5?.server.close(); await alerts?.close(); await stream.close(); await server.close(); store?.close(); },
  };
}

async function untilSignal(): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `start --role …`: one role of the distributed form (engine/src/cluster). */
async function runRole(role: string, flags: Map<string, string | true>, port: number | undefined): Promise<number> {
  const { ROLES, startRole } = await import('../../cluster/roles.js');
  if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${role}"`);
  let pace: number | undefined;
  if (flags.has('pace')) { pace = Number(flags.get('pace')); if (!(pace >= 0)) throw new UsageError(`--pace must be a number of events/s >= 0, got "${String(flags.get('pace'))}"`); }
  const files = flags.has('files') ? String(flags.get('files')).split(',').filter(Boolean) : undefined;
  const r = await startRole(role as 'ingest' | 'engine' | 'gateway', {
    config: flags.get('config') as string | undefined, host: flags.get('host') as string | undefined, port,
    node: flags.get('node') as string | undefined, files, pace,
    storePath: flags.has('store') ? (flags.get('store') as string) : null,
    log: (s) => process.stderr.write(s),
  });
  process.stdout.write(`TapeFlow ${role} node ${r.node} on ${r.url}  (/health, /metrics${role === 'gateway' ? ', UDF, /api/v1, /ws' : ''})\n`);
  await untilSignal();
  await r.close();
  return 0;
}

export const startCommand: Command = {
  name: 'start',
  summary: 'start the engine and the datafeed server (UDF + /api/v1) on 127.0.0.1:8080',
  usage: USAGE,
  async run(args) {
    const a = parseArgs(args, { values: ['config', 'host', 'port', 'store', 'role', 'node', 'files', 'pace'], booleans: ['no-store', 'json-signals'] });
    if (a.positional.length) throw new UsageError(`unexpected argument "${a.positional[0]}"`);
    let port: number | undefined;
    const p = a.flags.get('port');
    if (p !== undefined) {
      port = Number(p);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer 0..65535, got "${String(p)}"`);
    }
    if (a.flags.has('no-store') && a.flags.has('store')) throw new UsageError('--store and --no-store exclude each other');
    const role = a.flags.get('role') as string | undefined;
    if (role !== undefined) return runRole(role, a.flags, port);
    for (const k of ['node', 'files', 'pace']) if (a.flags.has(k)) throw new UsageError(`--${k} is a cluster option: use it with --role`);
    const app = await startApp({
      config: a.flags.get('config') as string | undefined, host: a.flags.get('host') as string | undefined, port,
      storePath: a.flags.has('no-store') ? null : (a.flags.get('store') as string | undefined),
      clock: Date.now,
      feeds: true,
      log: (s) => process.stderr.write(s),
      onRule: a.flags.has('json-signals') ? (r) => process.stdout.write(JSON.stringify(r) + '\n') : undefined,
    });
    process.stdout.write(`TapeFlow serving on ${app.server.url}  (UDF at /, API at /api/v1, OpenAPI at /openapi.json, WebSocket at /ws)\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await app.close();
    return 0;
  },
};
