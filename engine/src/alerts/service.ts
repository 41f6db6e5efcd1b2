/**
 * AlertService: turns SignalEngine events into Telegram alerts without ever blocking the engine.
 *
 *   engine thread: SignalEngine / Engine listeners ──(capture a small plain payload)──▶ bounded capture
 *     buffer ──(every ≤ 100 ms, batches of ≤ 256, ≤ 4 unacknowledged)──▶ worker port
 *   alerts worker (worker.ts, SCHED_IDLE): AlertCore = bounded inbox ▶ DeliveryPolicy ▶ format (+ a
 *     chart spec) ▶ OutboundQueue (SQLite) ▶ TelegramSender (draws a chart when its row is sent, from
 *     data the engine thread serialises on request) ▶ Bot API; bot commands ask the engine thread for
 *     live state over the port.
 *
 * The engine thread only builds payloads, posts batches and answers small requests (state for
 * /status, /bias, /signals; the last N footprint bars + profile for a chart). When the worker cannot
 * start (or a clock / fetch is injected, as tests do: functions cannot cross threads) the same AlertCore
 * runs in-thread, with one log line saying so.
 *
 * Alert kinds: ENTRY (transition to POSITION_OPEN), BREAK EVEN, TRAIL UPDATE, EXIT (CLOSED), EXIT WARNING
 * (an opposite exhaustion/divergence below the closing strength while a position is open), DAILY BIAS
 * (first bar of a new session), rule-mode LONG/SHORT (when the call changes to LONG or SHORT) and sweeps
 * (opt-in). Events older than `maxEventAgeMs` (wall clock) are not alerted, so a restore or catch-up
 * replay does not flood chats.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Api } from 'node-telegram-bot-api';
import type { Engine } from '../analytics/engine.js';
import type { TapeFlowConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { SignalEngine } from '../signals/engine.js';
import { AlertCapture, dailyBiasPayload, engineDataSource } from './capture.js';
import { chartTransferList, type ChartSnapshotProvider } from './chart.js';
import type { ChatDirectory } from './chats.js';
import type { AlertDataSource, BotCommands } from './commands.js';
import { AlertCore, pushBounded, type AlertCoreOptions, type AlertCoreStats, type ChartFn } from './core.js';
import type { DeliveryPolicy } from './policy.js';
import type { OutboundQueue, QueueStats } from './queue.js';
import { systemClock, type Clock, type SenderStats, type TelegramSender } from './sender.js';
import type { BackgroundPolicy } from './thread-sched.js';
import type { AlertPayload, DailyBiasAlert } from './types.js';
import type { Problem } from '../status/registry.js';
import { errorText, type CallOp, type ChartReply, type DataOp, type FromWorker, type ToWorker, type WireRequest, type WireResponse, type WorkerInit } from './wire.js';

export { dailyBiasPayload, engineDataSource } from './capture.js';

export interface AlertServiceOptions extends AlertCoreOptions {
  /** chart snapshots for `chartKinds` (default entry and daily_bias) and /chart; null = no charts */
  charts?: ChartSnapshotProvider | null;
  /**
   * where policy, formatting, the outbox, the sender, the commands and chart drawing run: 'worker'
   * (a worker thread; default) or 'inline' (this thread). Default 'inline' when `clock` or `fetch` is
   * given (functions cannot cross to a worker).
   */
  thread?: 'worker' | 'inline';
  /** captured payloads not yet handed to the worker; beyond it the lowest-priority oldest is dropped (default 1000) */
  maxCapture?: number;
  /**
   * captured payloads are handed to the worker at most every `batchMs` (default 100): one message per
   * window rather than one per event-loop turn, so the worker routes in fewer, larger batches (less of
   * its CPU time competing with ingestion; drain / idle / close hand everything over at once)
   */
  batchMs?: number;
  /** payload batches posted to the worker and not acknowledged yet (default 4) */
  maxInFlightBatches?: number;
  /**
   * Linux: how the worker thread yields to the engine's: 'idle' (default: SCHED_IDLE, it runs only on CPU
   * time nothing else wants; falls back to nice `workerNice`), 'nice' (nice `workerNice`), or 'none'
   */
  workerPolicy?: BackgroundPolicy;
  /** nice value for the 'nice' policy and the fallback (default 19) */
  workerNice?: number;
  /** the worker script (default: dist/alerts-worker.js beside the bundle, or worker.ts built from the sources) */
  workerUrl?: URL;
}

export interface AlertServiceStats extends AlertCoreStats {
  /** where the routing runs ('starting' until the worker answered) */
  thread: 'worker' | 'inline' | 'starting';
  /** payloads captured on the engine thread, waiting to be posted, and dropped there (bound reached) */
  captureBuffer: number;
  captureDrops: number;
  /** worker requests answered on the engine thread (live state, chart data) and the time spent there */
  requests: number;
  requestMs: number;
  /** all the time the alert path spent on the engine thread: capturing, posting, worker messages, requests (ms) */
  engineThreadMs: number;
}

/** Parse "1,-100200" → [1, -100200] (bad entries skipped). */
export function parseChatIds(s: string | undefined): number[] {
  return (s ?? '').split(',').map((x) => x.trim()).filter((x) => /^-?\d+$/.test(x)).map(Number);
}

/** The alerts database of a config: alerts.telegram.dbPath, else `alerts.sqlite` next to the store. */
export function alertsDbPath(config: TapeFlowConfig): string {
  return config.alerts.telegram.dbPath ?? join(dirname(config.store.path), 'alerts.sqlite');
}

const EMPTY_CORE: AlertCoreStats = { captured: 0, routed: 0, queuedMessages: 0, stale: 0, inboxDrops: 0, deduplicated: 0, suppressed: {}, chartErrors: 0, inbox: 0, queuePending: 0, queuePendingMax: 0, queueBound: 0, overflowDrops: 0, sent: 0 };

// ───────────────────────────── locating the worker script ─────────────────────────────

let builtFromSources: Promise<URL> | null = null;

/** Bundle worker.ts with esbuild (a devDependency, present wherever the TS sources run) into node_modules/.cache. */
function buildWorkerFromSources(src: string): Promise<URL> {
  builtFromSources ??= (async () => {
    const esbuild = await import('esbuild');
    const out = await esbuild.build({ entryPoints: [src], bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', write: false, logLevel: 'silent' });
    const code = out.outputFiles[0].contents;
    let root = dirname(src);
    while (!existsSync(join(root, 'node_modules')) && dirname(root) !== root) root = dirname(root);
    const dir = join(root, 'node_modules', '.cache', 'tapeflow');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `alerts-worker-${createHash('sha1').update(code).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(file)) {
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file); // atomic: concurrent test files may build the same content
    }
    return pathToFileURL(file);
  })();
  builtFromSources.catch(() => { builtFromSources = null; });
  return builtFromSources;
}

/** dist/alerts-worker.js beside the bundle (dist/cli.js, dist/bench.js), or worker.ts built on the fly from the sources. */
export async function alertsWorkerUrl(): Promise<URL> {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return buildWorkerFromSources(join(dirname(here), 'worker.ts'));
  const built = join(dirname(here), 'alerts-worker.js');
  if (!existsSync(built)) throw new Error(`${built} not found (it is built by scripts/build.mjs)`);
  return pathToFileURL(built);
}

// ───────────────────────────── the service ─────────────────────────────

export class AlertService {
  private readonly o: AlertServiceOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private mode: 'worker' | 'inline' | 'starting' = 'starting';
  private core: AlertCore | null = null;
  private worker: Worker | null = null;
  private readonly booted: Promise<void>;
  private bootError: Error | null = null;
  private readonly buffer: AlertPayload[] = [];
  private scheduled = false;
  private captured = 0;
  private captureDrops = 0;
  private requests = 0;
  private requestMs = 0;
  private engineMs = 0;
  private remote: AlertCoreStats = EMPTY_CORE;
  private seq = 0;
  private inFlight = 0;
  private readonly acked: (() => void)[] = [];
  private nextCall = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private signals: SignalEngine | null = null;
  private engine: Engine | null = null;
  private source: AlertDataSource | null = null;
  private started = false;
  private closed = false;

  constructor(o: AlertServiceOptions) {
    if (!o.token) throw new Error('AlertService: a bot token is required');
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? silentLogger;
    const thread = o.thread ?? (o.clock || o.fetch ? 'inline' : 'worker');
    if (thread === 'worker' && (o.clock || o.fetch)) throw new Error('AlertService: an injected clock or fetch cannot cross to a worker thread; use thread: \'inline\'');
    if (thread === 'inline') {
      this.core = new AlertCore(o, this.inlineChart());
      this.mode = 'inline';
      this.booted = Promise.resolve();
    } else {
      this.booted = this.bootWorker().catch((err: unknown) => { this.bootError = err instanceof Error ? err : new Error(String(err)); });
    }
  }

  /**
   * Build from the config's alerts.telegram section and the environment. Null when disabled. Token and
   * chat ids come from the variables named by tokenEnv / chatIdsEnv; `extra` overrides (tests, the
   * composition root's chart provider and logger).
   */
  static fromConfig(config: TapeFlowConfig, env: Record<string, string | undefined>, extra: Partial<AlertServiceOptions> = {}): AlertService | null {
    const tg = config.alerts.telegram;
    if (!tg.enabled) return null;
    const token = env[tg.tokenEnv];
    if (!token) throw new Error(`alerts.telegram is enabled but environment variable ${tg.tokenEnv} is empty`);
    const chatIds = tg.chatIdsEnv ? parseChatIds(env[tg.chatIdsEnv]) : [];
    let webhook: AlertServiceOptions['webhook'];
    if (tg.commands === 'webhook') {
      const secret = env[tg.webhook.secretEnv];
      if (!secret) throw new Error(`alerts.telegram.commands is webhook but environment variable ${tg.webhook.secretEnv} (the webhook secret) is empty`);
      webhook = { path: tg.webhook.path, secret, publicUrl: tg.webhook.publicUrl ?? null };
    }
    const dbPath = extra.dbPath ?? alertsDbPath(config);
    if (dbPath !== ':memory:') mkdirSync(dirname(isAbsolute(dbPath) ? dbPath : resolve(dbPath)), { recursive: true });
    const { charts, ...rest } = extra;
    return new AlertService({
      apiRoot: tg.apiRoot, allowChatIds: tg.allowChatIds ?? null, chatIds,
      ...(tg.kinds ? { kinds: [...tg.kinds] } : {}),
      ...(tg.cooldownMs ? { cooldownMs: { ...tg.cooldownMs } } : {}),
      ...(tg.quietHours ? { quietHours: { ...tg.quietHours } } : {}),
      ...(tg.commands ? { commands: tg.commands } : {}),
      ...(tg.outboxTtlHours ? { outboxTtlMs: tg.outboxTtlHours * 3_600_000 } : {}),
      ...(webhook ? { webhook } : {}),
      ...rest, dbPath, token,
      charts: tg.charts === false ? null : charts ?? null,
    });
  }

  // ─────────── the in-thread core's parts (tests; throws while the service runs in a worker) ───────────

  private inline(): AlertCore {
    if (this.core) return this.core;
    throw new Error(`AlertService runs in a worker thread (${this.mode}): its queue, chats and sender are not reachable from here; use stats, queueStats() or thread: 'inline'`);
  }
  get db(): Database.Database { return this.inline().db; }
  get queue(): OutboundQueue { return this.inline().queue; }
  get chats(): ChatDirectory { return this.inline().chats; }
  get policy(): DeliveryPolicy { return this.inline().policy; }
  get sender(): TelegramSender { return this.inline().sender; }
  get api(): Api { return this.inline().api; }
  get commands(): BotCommands | null { return this.core?.commands ?? null; }
  /** 'worker' or 'inline' once started ('starting' while the worker boots) */
  get thread(): 'worker' | 'inline' | 'starting' { return this.mode; }

  get stats(): AlertServiceStats {
    const c = this.core ? this.core.stats : this.remote;
    return { ...c, suppressed: { ...c.suppressed }, captured: this.captured, inboxDrops: c.inboxDrops + this.captureDrops, inbox: c.inbox + this.buffer.length, thread: this.mode, captureBuffer: this.buffer.length, captureDrops: this.captureDrops, requests: this.requests, requestMs: +this.requestMs.toFixed(3), engineThreadMs: +this.engineMs.toFixed(3) };
  }

  /**
   * What /health and /metrics say about alerts: a problem when bot-command polling is backing off or the
   * sender stopped (401), and the outbox figures (from the last stats the worker pushed).
   */
  health(): { problem: Problem | null; pending: number; bound: number; sent: number; dropped: number; pollerUp: boolean | null } {
    const c = this.core ? this.core.stats : this.remote;
    const p = c.poller;
    let problem: Problem | null = null;
    if (c.outboxError) problem = { component: 'telegram', reason: `outbox writes failing (${c.outboxError.reason}); ${c.outboxError.waiting} alerts wait in memory`, since: c.outboxError.since };
    else if (c.senderFatal) problem = { component: 'telegram', reason: `sending stopped: ${c.senderFatal}`, since: null };
    else if (p && p.state === 'retrying') problem = { component: 'telegram', reason: `bot-command polling retrying: ${p.reason ?? 'error'}`, since: p.since };
    return { problem, pending: c.queuePending, bound: c.queueBound, sent: c.sent, dropped: c.dropped ?? 0, pollerUp: !p || p.state === 'off' ? null : p.state === 'polling' };
  }

  /** captured payloads not yet handed over (cheap; `stats` has it too) */
  get captureBuffered(): number { return this.buffer.length; }

  /** Outbox and sender counters (a round trip to the worker). */
  async queueStats(): Promise<{ queue: QueueStats; sender: SenderStats }> {
    await this.ready();
    if (this.core) return { queue: this.core.queue.stats(), sender: { ...this.core.sender.stats } };
    return (await this.call({ op: 'stats' })) as { queue: QueueStats; sender: SenderStats };
  }

  // ─────────── engine side ───────────

  /** Subscribe to a SignalEngine (attach it to the Engine first) and, for daily bias, to the Engine's pipelines. */
  attach(signals: SignalEngine, engine?: Engine): this {
    this.signals = signals;
    const cap = new AlertCapture(signals);
    signals.onTransition((t) => this.capture(() => cap.fromTransition(t)));
    signals.onSignal((e) => this.capture(() => cap.fromSignal(e)));
    signals.onAlert((a) => this.capture(() => cap.fromSweep(a)));
    signals.onRule((r) => this.capture(() => cap.fromRule(r)));
    if (engine) {
      this.engine = engine;
      engine.onPipeline((p) => p.onBarClose((cb) => this.capture(() => cap.fromBar(p, cb))));
    }
    return this;
  }

  private capture(build: () => AlertPayload | null): void {
    const t0 = performance.now();
    try {
      const a = build();
      if (a) this.publish(a);
    } catch (err) {
      this.log.error('alert capture failed', { error: errorText(err) });
    }
    this.engineMs += performance.now() - t0;
  }

  /** Queue an alert payload (the engine listeners use this; other producers may too). Never throws, never blocks. */
  publish(a: AlertPayload): void {
    if (this.closed) return;
    this.captured++;
    if (this.core) { this.core.publish(a); return; }
    this.captureDrops += pushBounded(this.buffer, a, this.o.maxCapture ?? 1000);
    if (!this.scheduled) { this.scheduled = true; setTimeout(() => { this.scheduled = false; this.flush(); }, this.o.batchMs ?? 100); }
  }

  /** Hand buffered payloads over: to the in-thread core, or to the worker in batches while it has credit. */
  private flush(): void {
    const t0 = performance.now();
    try { this.handOver(); } finally { this.engineMs += performance.now() - t0; }
  }

  private handOver(): void {
    if (this.core) {
      for (const a of this.buffer.splice(0)) this.core.publish(a);
      return;
    }
    const w = this.worker;
    if (!w) return;
    const max = this.o.maxInFlightBatches ?? 4;
    while (this.buffer.length && this.inFlight < max) {
      const items = this.buffer.splice(0, 256);
      this.inFlight++;
      this.post({ t: 'batch', seq: ++this.seq, items });
    }
  }

  /** Everything captured so far handed over (waits for the worker's acknowledgements). */
  private async flushAll(): Promise<void> {
    await this.ready();
    for (;;) {
      this.flush();
      if (this.core || (!this.buffer.length && !this.inFlight) || !this.worker) return;
      await new Promise<void>((r) => this.acked.push(r));
    }
  }

  /** The DAILY BIAS payload of an instrument now (also used by /bias). */
  biasPayload(sym: string, ts = this.clock.now()): DailyBiasAlert | null {
    return this.signals ? dailyBiasPayload(this.signals, sym, ts) : null;
  }

  // ─────────── lifecycle ───────────

  private async ready(): Promise<void> {
    await this.booted;
    if (this.bootError) throw this.bootError;
  }

  /** Start sending, and the bot commands (long polling unless configured otherwise). */
  async start(data?: AlertDataSource): Promise<void> {
    await this.ready();
    const mode = this.o.commands ?? 'polling';
    this.source = mode === 'off' ? null : data ?? (this.signals ? engineDataSource(this.signals, this.engine, this.o.charts ?? null, this.clock) : null);
    this.started = true;
    if (this.core) await this.core.start(this.source);
    else await this.call({ op: 'start', hasData: this.source !== null, hasCharts: !!this.o.charts || !!this.source?.chart });
    this.flush();
  }

  /** Route, format and queue everything captured so far. */
  async drain(): Promise<void> {
    await this.flushAll();
    if (this.core) await this.core.drain();
    else if (this.worker) await this.call({ op: 'drain' });
  }

  /** Everything captured is queued, and the queue is empty with nothing in flight. */
  async idle(timeoutMs = 10_000): Promise<void> {
    await this.flushAll();
    if (this.core) await this.core.idle(timeoutMs);
    else if (this.worker) await this.call({ op: 'idle', timeoutMs });
  }

  /** Webhook mode with `webhook` set: the route to mount on the HTTP server (path + handler checking the secret); else null. */
  webhookRoute(): { path: string; handle: (request: Request) => Promise<Response> } | null {
    const wh = this.o.webhook;
    return this.o.commands === 'webhook' && wh ? { path: wh.path, handle: this.webhook(wh.secret) } : null;
  }

  /** Webhook mode (commands: 'webhook'): a web-standard request handler to mount behind your HTTPS endpoint. */
  webhook(secretToken: string): (request: Request) => Promise<Response> {
    return async (request) => {
      await this.ready();
      if (this.core) {
        const h = this.core.webhook(secretToken);
        return h ? h(request) : new Response('bot commands are not in webhook mode', { status: 503 });
      }
      const body = request.method === 'GET' || request.method === 'HEAD' ? null : new Uint8Array(await request.arrayBuffer());
      const req: WireRequest = { method: request.method, url: request.url, headers: [...request.headers.entries()], body };
      const r = (await this.call({ op: 'webhook', secret: secretToken, req })) as WireResponse;
      return new Response(r.body.byteLength ? (r.body as Uint8Array<ArrayBuffer>) : null, { status: r.status, headers: r.headers });
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try { await this.flushAll(); } catch { /* the worker never started: nothing to flush */ }
    this.closed = true;
    if (this.core) { await this.core.close(); return; }
    const w = this.worker;
    if (!w) return;
    try { await this.call({ op: 'close' }); } finally {
      this.worker = null;
      await w.terminate();
    }
  }

  // ─────────── worker transport ───────────

  private inlineChart(): ChartFn | null {
    const charts = this.o.charts;
    return charts ? (symbol, req) => charts.snapshot(symbol, req) : null;
  }

  private post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker?.postMessage(m, transfer);
  }

  private call(op: CallOp): Promise<unknown> {
    const w = this.worker;
    if (!w) return Promise.reject(new Error('alerts worker is not running'));
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.post({ t: 'call', id, ...op });
    });
  }

  private async bootWorker(): Promise<void> {
    const { clock: _c, log: _l, fetch: _f, charts, thread: _t, maxCapture: _m, maxInFlightBatches: _i, batchMs: _b, workerPolicy, workerNice, workerUrl, ...options } = this.o;
    const init: WorkerInit = { options, charts: !!charts, logLevel: this.log.level, logFormat: this.log.format, policy: workerPolicy ?? 'idle', nice: workerNice ?? 19 };
    try {
      const url = workerUrl ?? (await alertsWorkerUrl());
      const w = new Worker(url, { workerData: init });
      await new Promise<void>((resolveReady, rejectReady) => {
        let up = false;
        w.on('message', (m: FromWorker) => {
          if (m.t === 'ready') { up = true; resolveReady(); return; }
          if (m.t === 'fatal') { rejectReady(new Error(m.error)); return; }
          this.onMessage(m);
        });
        w.on('error', (err: unknown) => { const e = err instanceof Error ? err : new Error(String(err)); if (!up) rejectReady(e); else this.onWorkerLost(e); });
        w.on('exit', (code) => { if (!up) rejectReady(new Error(`alerts worker exited with code ${code}`)); else if (this.worker === w) this.onWorkerLost(new Error(`alerts worker exited with code ${code}`)); });
      });
      this.worker = w;
      this.mode = 'worker';
      this.log.debug('telegram alerts run in a worker thread', { script: fileURLToPath(url) });
    } catch (err) {
      this.log.warn('telegram alerts: worker thread unavailable, running in-thread (alert work now shares the engine\'s thread)', { error: errorText(err) });
      this.core = new AlertCore(this.o, this.inlineChart());
      this.mode = 'inline';
    }
    this.flush();
  }

  /** The worker died while running: fail its calls and carry on in-thread (the outbox is persistent). */
  private onWorkerLost(err: Error): void {
    if (!this.worker) return;
    this.worker = null;
    this.log.error('telegram alerts worker stopped; continuing in-thread', { error: err.message });
    for (const c of this.calls.values()) c.reject(err);
    this.calls.clear();
    this.inFlight = 0;
    for (const r of this.acked.splice(0)) r();
    if (this.closed) return;
    try {
      this.core = new AlertCore(this.o, this.inlineChart());
      this.mode = 'inline';
      if (this.started) void this.core.start(this.source).catch((e: unknown) => this.log.error('telegram alerts restart failed', { error: errorText(e) }));
      this.flush();
    } catch (e) {
      this.log.error('telegram alerts could not continue in-thread', { error: errorText(e) });
    }
  }

  private onMessage(m: FromWorker): void {
    const t0 = performance.now();
    try { this.handle(m); } finally { this.engineMs += performance.now() - t0; }
  }

  private handle(m: FromWorker): void {
    switch (m.t) {
      case 'ack':
        this.inFlight--;
        this.flush();
        for (const r of this.acked.splice(0)) r();
        return;
      case 'ret': {
        this.remote = m.stats;
        const c = this.calls.get(m.id);
        if (!c) return;
        this.calls.delete(m.id);
        if (m.ok) c.resolve(m.value); else c.reject(new Error(m.error ?? 'alerts worker call failed'));
        return;
      }
      case 'stats': this.remote = m.stats; return;
      case 'log': this.log[m.level](m.msg, m.fields); return;
      case 'req': void this.answer(m); return;
      default: return;
    }
  }

  /** Answer a worker's request for live state or chart data (small, on the engine thread). */
  private async answer(m: { id: number } & DataOp): Promise<void> {
    const id = m.id;
    const t0 = performance.now();
    this.requests++;
    try {
      const src = this.source;
      let value: unknown = null;
      let transfer: ArrayBuffer[] = [];
      switch (m.op) {
        case 'symbols': value = src ? await src.symbols() : []; break;
        case 'resolve': value = src ? await src.resolve(m.symbol) : null; break;
        case 'status': value = src ? await src.status(m.symbol) : undefined; break;
        case 'bias': value = src ? await src.bias(m.symbol) : null; break;
        case 'signals': value = src ? await src.signals(m.symbol, m.n) : []; break;
        case 'chart': {
          const charts = this.o.charts;
          let reply: ChartReply = null;
          if (charts?.data) {
            const d = charts.data(m.symbol, m.req);
            if (d) { reply = { data: d }; transfer = chartTransferList(d); }
          } else if (charts) {
            const png = await charts.snapshot(m.symbol, m.req);
            if (png) reply = { png };
          } else if (src?.chart) {
            const png = await src.chart(m.symbol, m.req.timeframe);
            if (png) reply = { png };
          }
          value = reply;
          break;
        }
      }
      this.post({ t: 'res', id, ok: true, value }, transfer);
    } catch (err) {
      this.post({ t: 'res', id, ok: false, error: errorText(err) });
    } finally {
      this.requestMs += performance.now() - t0;
    }
  }
}
