/**
 * AlertCore: everything of the alert path that does not need the engine — the bounded inbox,
 * DeliveryPolicy, formatting, chart rendering (through an injected function), the SQLite outbox, the
 * TelegramSender and the bot commands. Charts are drawn by the sender when their row is sent, not when
 * the alert is routed. AlertService runs it in a worker thread (worker.ts) fed with
 * captured payloads, or in-thread (tests with a virtual clock, or when the worker cannot start).
 *
 *   payloads ──▶ bounded inbox ──(setImmediate)──▶ DeliveryPolicy (subscriptions, thresholds, cooldown,
 *   mute, quiet hours) ──▶ format (HTML, split / caption; a chart spec) ──▶ OutboundQueue (SQLite)
 *   ──▶ TelegramSender (chart drawn now; rate limits, 429 / 403 / migration, retries) ──▶ Bot API
 */
import { Api, Bot } from 'node-telegram-bot-api';
import type Database from 'better-sqlite3';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { SnapshotRequest } from './chart.js';
import { ALL_SYMBOLS, ChatDirectory, type QuietHours } from './chats.js';
import { BotCommands, type AlertDataSource, type PollerState } from './commands.js';
import { fitCaption, formatAlert, splitHtml } from './format.js';
import { DeliveryPolicy } from './policy.js';
import type { ChartLevel } from '../../../indicators/render/static.js';
import { openAlertDb, OutboundQueue, type ChartSpec, type NewItem } from './queue.js';
import { systemClock, TelegramSender, type Clock, type SenderOptions } from './sender.js';
import { DEFAULT_KINDS, isCritical, type AlertKind, type AlertPayload } from './types.js';

/** The core's options. Everything but `clock`, `log` and `fetch` is plain data (sent to the worker as is). */
export interface AlertCoreOptions {
  /** bot token (from the environment); never logged */
  token: string;
  /** Bot API base URL; default https://api.telegram.org */
  apiRoot?: string;
  /** SQLite file for the outbox, chats, subscriptions and cooldowns (':memory:' for tests) */
  dbPath: string;
  /** chats that receive every symbol (DEFAULT_KINDS) unless they changed their subscriptions */
  chatIds?: number[];
  /** chats allowed to change subscriptions besides `chatIds` (null/undefined/empty = only `chatIds`: a stranger can read, not subscribe) */
  allowChatIds?: number[] | null;
  /** kinds switched on globally (default all) */
  kinds?: AlertKind[];
  cooldownMs?: Partial<Record<AlertKind, number>>;
  /** quiet hours given to the configured chats when they are created */
  quietHours?: QuietHours | null;
  /** kinds that get a chart snapshot (default entry and daily_bias) when charts are on */
  chartKinds?: AlertKind[];
  /** bot commands: long polling (default), webhook (`webhook(secret)`), or off */
  commands?: 'polling' | 'webhook' | 'off';
  /** webhook mode: the route and secret the HTTP server checks, and the public HTTPS URL registered with setWebhook (null: registered by hand) */
  webhook?: { path: string; secret: string; publicUrl: string | null };
  pollTimeoutSec?: number;
  /** events older than this (wall clock) are not alerted; default 15 min; Infinity for replays */
  maxEventAgeMs?: number;
  /** received, not yet routed alerts; beyond it the oldest lowest-priority one is dropped (default 1000) */
  maxInbox?: number;
  /** queued messages; beyond it the lowest-priority oldest one is dropped (default 10 000) */
  maxPending?: number;
  /** per-request client timeout (default 15 s) */
  requestTimeoutMs?: number;
  /** keep delivered rows (dedup history) this long (default 7 days) */
  historyMs?: number;
  /** an undelivered row stays in the outbox this long across outages, then is dropped with its last error (default 24 h) */
  outboxTtlMs?: number;
  sender?: Partial<SenderOptions>;
  clock?: Clock;
  log?: Logger;
  /** injected fetch for the Bot API client */
  fetch?: typeof fetch;
}

/** Counters of the routing side (plain data). */
export interface AlertCoreStats {
  /** payloads received by the core */
  captured: number;
  routed: number;
  queuedMessages: number;
  stale: number;
  inboxDrops: number;
  deduplicated: number;
  suppressed: Record<string, number>;
  chartErrors: number;
  /** payloads waiting in the core's inbox */
  inbox: number;
  /** outbox rows pending or being sent, the most seen, and the bound */
  queuePending: number;
  queuePendingMax: number;
  queueBound: number;
  overflowDrops: number;
  /** messages delivered since start, and rows dropped (outbox full, expired, refused) */
  sent: number;
  dropped?: number;
  /** bot-command polling: 'polling' (answers arrive), 'retrying' (backing off after errors), 'off' (webhook or no commands) */
  poller?: PollerState;
  /** the sender stopped because Telegram refused the bot token (401) */
  senderFatal?: string | null;
  /** the outbox cannot be written (full disk): why, since when, routed rows waiting in memory */
  outboxError?: { reason: string; since: number; waiting: number } | null;
  /** the alerts worker thread (absent in-thread): how it yields to the engine, its CPU time and run-queue wait (ms, Linux) */
  worker?: { policy: string; cpuMs: number | null; waitMs: number | null };
}

/** Draws the chart of an alert or a /chart command; null when there is nothing to draw. */
export type ChartFn = (symbol: string, req: SnapshotRequest) => Promise<Uint8Array | null>;

/**
 * The chart of an alert: bars up to its time; ENTRY with entry / SL / TP and a marker; DAILY BIAS with the
 * prior session's profile (its POC / VAH / VAL lines are the profile's own).
 */
export function chartSpecOf(a: AlertPayload): ChartSpec {
  const spec: ChartSpec = { symbol: a.symbol, at: a.ts };
  const level = (price: string | null, label: string, role: ChartLevel['role']): ChartLevel[] => (price !== null && Number.isFinite(Number(price)) ? [{ price: Number(price), label: `${label} ${price}`, role }] : []);
  if (a.kind === 'entry') {
    spec.levels = [...level(a.entry, 'ENTRY', 'entry'), ...level(a.sl, 'SL', 'sl'), ...level(a.tp, 'TP', 'tp')];
    spec.marker = { time: a.ts, side: a.side === 'sell' ? 'sell' : 'buy' };
  } else if (a.kind === 'daily_bias') spec.profileSession = a.priorSession;
  return spec;
}

export const priorityOf = (a: AlertPayload): number => (isCritical(a) ? 2 : a.kind === 'sweep' ? 0 : 1);

/**
 * Insert `a` into a bounded list: when full, the oldest entry of the lowest priority present is dropped
 * (exits only when nothing else is left), or `a` itself when it ranks below everything queued. Returns
 * the number of payloads dropped (0 or 1).
 */
export function pushBounded(list: AlertPayload[], a: AlertPayload, max: number): number {
  if (list.length < max) { list.push(a); return 0; }
  const pa = priorityOf(a);
  let victim = -1, vp = 3;
  for (let i = 0; i < list.length && vp > 0; i++) { const p = priorityOf(list[i]); if (p < vp) { vp = p; victim = i; } }
  if (victim < 0 || vp > pa) return 1; // everything queued is more urgent: drop the newcomer
  list.splice(victim, 1);
  list.push(a);
  return 1;
}

/**
 * The Bot API fetch with every error answer turned into Telegram's envelope with a code and a
 * description: an answer that is not JSON (a proxy's HTML 502) or an envelope without error_code /
 * description would otherwise surface as "undefined: undefined". Successful answers pass untouched.
 */
export function withErrorEnvelope(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const r = await inner(input, init);
    if (r.ok) return r;
    const text = await r.text();
    type Envelope = { ok?: unknown; error_code?: unknown; description?: unknown; parameters?: unknown };
    let j: Envelope | null = null;
    try { const v: unknown = JSON.parse(text); if (v && typeof v === 'object') j = v as Envelope; } catch { /* not JSON */ }
    const headers = { 'content-type': 'application/json' };
    if (j && j.ok === false && typeof j.error_code === 'number' && typeof j.description === 'string' && j.description) return new Response(text, { status: r.status, statusText: r.statusText, headers });
    const snippet = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120);
    const description = typeof j?.description === 'string' && j.description ? j.description : `HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ''}${snippet && !j ? `: ${snippet}` : ''}`;
    const body = { ok: false, error_code: typeof j?.error_code === 'number' ? j.error_code : r.status, description, ...(j?.parameters ? { parameters: j.parameters } : {}) };
    return new Response(JSON.stringify(body), { status: r.status, statusText: r.statusText, headers });
  };
}

export class AlertCore {
  readonly db: Database.Database;
  readonly queue: OutboundQueue;
  readonly chats: ChatDirectory;
  readonly policy: DeliveryPolicy;
  readonly sender: TelegramSender;
  readonly api: Api;
  commands: BotCommands | null = null;
  private readonly st = { captured: 0, routed: 0, queuedMessages: 0, stale: 0, inboxDrops: 0, deduplicated: 0, suppressed: {} as Record<string, number>, queuePendingMax: 0, outboxLost: 0 };
  private readonly o: AlertCoreOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly inbox: AlertPayload[] = [];
  /** routed rows the outbox could not take yet (a failing disk), and since when it fails */
  private readonly unqueued: NewItem[] = [];
  private outboxError: { reason: string; since: number; loggedAt: number } | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** the Bot API fetch: the injected one (tests) or the global one, with every error answer made readable */
  private readonly fetch: typeof fetch;
  private scheduled = false;
  private draining: Promise<void> | null = null;
  private closed = false;
  /** called after each routed batch (the worker reports its stats from here) */
  onBatch: (() => void) | null = null;

  constructor(o: AlertCoreOptions, private readonly chart: ChartFn | null = null) {
    if (!o.token) throw new Error('AlertService: a bot token is required');
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? silentLogger;
    const inner = o.fetch;
    this.fetch = withErrorEnvelope(inner ?? ((input, init) => globalThis.fetch(input, init)));
    this.db = openAlertDb(o.dbPath);
    this.queue = new OutboundQueue(this.db, o.maxPending ?? 10_000);
    this.chats = new ChatDirectory(this.db);
    this.policy = new DeliveryPolicy(this.chats, this.db, { cooldownMs: o.cooldownMs, kinds: o.kinds });
    this.api = new Api(o.token, { apiRoot: o.apiRoot, maxRetries: 0, timeoutMs: o.requestTimeoutMs ?? 15_000, fetch: this.fetch });
    const draw = chart;
    this.sender = new TelegramSender(this.api, this.queue, this.chats, {
      ...(o.outboxTtlMs ? { ttlMs: o.outboxTtlMs } : {}), ...o.sender, clock: this.clock, log: this.log,
      chart: draw ? ({ symbol, ...req }) => draw(symbol, req) : null,
    });
    for (const id of o.chatIds ?? []) {
      this.chats.ensure(id, { quiet: o.quietHours ?? null });
      if (!this.chats.subscriptions(id).length) this.chats.subscribeIfAbsent(id, ALL_SYMBOLS, DEFAULT_KINDS);
    }
    this.queue.prune(this.clock.now() - (o.historyMs ?? 7 * 86_400_000));
    this.st.queuePendingMax = this.queue.pendingCount();
  }

  get stats(): AlertCoreStats {
    const pending = this.queue.pendingCount();
    return {
      captured: this.st.captured, routed: this.st.routed, queuedMessages: this.st.queuedMessages, stale: this.st.stale, inboxDrops: this.st.inboxDrops,
      deduplicated: this.st.deduplicated, suppressed: { ...this.st.suppressed }, chartErrors: this.sender.stats.chartErrors, inbox: this.inbox.length,
      queuePending: pending, queuePendingMax: Math.max(this.st.queuePendingMax, pending), queueBound: this.queue.maxPending, overflowDrops: this.queue.overflowDrops, sent: this.sender.stats.sent,
      dropped: this.sender.stats.dropped + this.queue.overflowDrops + this.st.outboxLost,
      outboxError: this.outboxError ? { reason: this.outboxError.reason, since: this.outboxError.since, waiting: this.unqueued.length } : null, poller: this.commands?.pollerState() ?? { state: 'off', since: null, reason: null }, senderFatal: this.sender.fatalError,
    };
  }

  /** Start sending, and the bot commands (long polling unless configured otherwise) over `data`. */
  async start(data: AlertDataSource | null): Promise<void> {
    this.sender.start();
    const mode = this.o.commands ?? 'polling';
    if (mode !== 'off' && data) {
      // the client retries a call a few times; after that the poll loop (commands.ts) backs off and polls again, never ending
      const bot = new Bot(this.o.token, { apiRoot: this.o.apiRoot, timeoutMs: this.o.requestTimeoutMs ?? 15_000, fetch: this.fetch });
      // changing subscriptions needs an allow-listed chat: allowChatIds plus the configured chats, never anyone
      const allow = [...(this.o.allowChatIds ?? []), ...(this.o.chatIds ?? [])];
      this.commands = new BotCommands(bot, this.chats, data, {
        allowChatIds: allow, clock: this.clock, log: this.log, pending: () => this.queue.pendingCount(),
        // replies share the alerts' rate limits (per chat and 30 msg/s)
        limiter: { acquire: (chatId, signal) => this.sender.acquire(chatId, signal), hold: (chatId, until) => this.sender.holdChat(chatId, until) },
      });
      if (mode === 'polling') await this.commands.startPolling(this.o.pollTimeoutSec ?? 30);
      else {
        await this.commands.init();
        const wh = this.o.webhook;
        if (wh?.publicUrl) await this.commands.registerWebhook(wh.publicUrl, wh.secret);
      }
    }
    this.sender.kick();
  }

  /** Queue an alert payload for routing. Never throws. */
  publish(a: AlertPayload): void {
    if (this.closed) return;
    this.st.captured++;
    if (this.clock.now() - a.ts > (this.o.maxEventAgeMs ?? 15 * 60_000)) { this.st.stale++; return; }
    this.st.inboxDrops += pushBounded(this.inbox, a, this.o.maxInbox ?? 1000);
    if (!this.scheduled) { this.scheduled = true; setImmediate(() => { this.scheduled = false; void this.drain(); }); }
  }

  /** Route, format and queue everything received so far (serialised: one drain at a time). */
  drain(): Promise<void> {
    if (!this.draining) {
      const p: Promise<void> = this.drainLoop().finally(() => { if (this.draining === p) this.draining = null; });
      this.draining = p;
    }
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    while ((this.inbox.length || this.unqueued.length) && !this.closed) {
      // route a batch, then queue it in one transaction; yield between batches (in-thread, the engine shares this loop)
      const batch = this.inbox.splice(0, 256);
      const items: NewItem[] = [];
      const seen = new Set<string>();
      for (const a of batch) {
        try { items.push(...this.route(a, seen)); } catch (err) { this.log.error('alert routing failed', { kind: a.kind, symbol: a.symbol, error: err instanceof Error ? err.message : String(err) }); }
      }
      if (this.closed) return;
      const now = this.clock.now();
      const all = this.unqueued.length ? this.unqueued.splice(0).concat(items) : items;
      try {
        let added = 0;
        this.db.transaction(() => {
          added = this.queue.enqueue(all, now).length;
          this.policy.flush();
        })();
        this.st.queuedMessages += added;
        if (this.outboxError) { this.log.info('telegram outbox writes recovered', { failedForS: Math.round((this.clock.now() - this.outboxError.since) / 1000) }); this.outboxError = null; }
      } catch (err) {
        this.outboxFailed(all, err);
        return;
      }
      this.st.queuePendingMax = Math.max(this.st.queuePendingMax, this.queue.pendingCount());
      if (all.length) this.sender.kick();
      this.onBatch?.();
      if (this.inbox.length) await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * The outbox could not be written (a full disk, I/O errors): the routed rows wait in memory (bounded:
   * the oldest beyond `maxInbox` × 4 go first, counted as overflow) and are written on the next drain,
   * retried every second; logged first, then once a minute; shown in /health meanwhile.
   */
  private outboxFailed(rows: NewItem[], err: unknown): void {
    const now = this.clock.now();
    const reason = err instanceof Error ? ((err as { code?: string }).code ?? err.message) : String(err);
    const max = (this.o.maxInbox ?? 1000) * 4;
    this.queue.resync(); // the rolled-back rows were counted as open
    this.unqueued.push(...rows);
    if (this.unqueued.length > max) this.st.outboxLost += this.unqueued.splice(0, this.unqueued.length - max).length;
    if (!this.outboxError) {
      this.outboxError = { reason, since: now, loggedAt: now };
      this.log.error('telegram outbox writes failing; alerts wait in memory and are retried', { error: err instanceof Error ? err.message : String(err), waiting: this.unqueued.length });
    } else if (now - this.outboxError.loggedAt >= 60_000) {
      this.outboxError.loggedAt = now;
      this.log.warn('telegram outbox writes still failing', { error: reason, waiting: this.unqueued.length, lost: this.st.outboxLost });
    }
    if (!this.retryTimer && !this.closed) {
      this.retryTimer = setTimeout(() => { this.retryTimer = null; void this.drain(); }, 1000);
      this.retryTimer.unref?.();
    }
  }

  /** Policy, dedup, formatting and the optional chart spec of one alert: the outbox rows to add. */
  private route(a: AlertPayload, seen: Set<string>): NewItem[] {
    this.st.routed++;
    const now = this.clock.now();
    const { deliveries, skipped } = this.policy.route(a, now);
    for (const s of skipped) this.st.suppressed[s.reason] = (this.st.suppressed[s.reason] ?? 0) + 1;
    const fresh = deliveries.filter((d) => {
      const k = `${d.chatId}|${a.key}`;
      if (seen.has(k) || this.queue.has(d.chatId, `${a.key}#0`)) return false;
      seen.add(k);
      return true;
    });
    this.st.deduplicated += deliveries.length - fresh.length;
    if (!fresh.length) return [];
    const html = formatAlert(a);
    // drawn by the sender when the row goes out (the footprint up to the alert's time, its levels and marker)
    const chart = this.chart && (this.o.chartKinds ?? ['entry', 'daily_bias']).includes(a.kind) ? chartSpecOf(a) : null;
    const items: NewItem[] = [];
    for (const d of fresh) {
      const base = { chatId: d.chatId, threadId: d.threadId, kind: a.kind, symbol: a.symbol, priority: priorityOf(a), silent: d.silent, parseMode: 'HTML' as const };
      let n = 0;
      if (chart) {
        const { caption, rest } = fitCaption(html);
        items.push({ ...base, key: `${a.key}#${n++}`, method: 'photo', text: caption, chart });
        if (rest) for (const part of splitHtml(rest)) items.push({ ...base, key: `${a.key}#${n++}`, method: 'message', text: part });
      } else for (const part of splitHtml(html)) items.push({ ...base, key: `${a.key}#${n++}`, method: 'message', text: part });
      this.policy.commit(a, d.chatId);
    }
    return items;
  }

  /** Everything received is queued, and the queue is empty with nothing in flight. */
  async idle(timeoutMs = 10_000): Promise<void> {
    await this.drain();
    await this.sender.idle(timeoutMs);
  }

  /** Webhook mode: a web-standard request handler (null unless commands are 'webhook' and started). */
  webhook(secretToken: string): ((request: Request) => Promise<Response>) | null {
    return this.commands ? this.commands.webhook(secretToken) : null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.unqueued.length) this.log.error('telegram alerts closed with outbox writes failing: routed alerts not queued', { count: this.unqueued.length });
    await this.commands?.stop();
    await this.sender.stop();
    this.db.close();
  }
}
