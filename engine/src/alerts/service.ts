/**
 * AlertService: turns SignalEngine events into Telegram alerts without ever blocking the engine.
 *
 *   SignalEngine listeners ──(O(1): capture a payload)──▶ bounded inbox
 *        ──(setImmediate)──▶ DeliveryPolicy (subscriptions, thresholds, cooldown, mute, quiet hours)
 *        ──▶ format (HTML, split / caption) + optional chart snapshot ──▶ OutboundQueue (SQLite)
 *        ──▶ TelegramSender (rate limits, 429 / 403 / migration, retries) ──▶ Bot API
 *
 * Alert kinds: ENTRY (transition to POSITION_OPEN), BREAK EVEN, TRAIL UPDATE, EXIT (CLOSED), EXIT WARNING
 * (an opposite exhaustion/divergence below the closing strength while a position is open), DAILY BIAS
 * (first bar of a new session), rule-mode LONG/SHORT (when the call changes to LONG or SHORT) and sweeps
 * (opt-in). Events older than `maxEventAgeMs` (wall clock) are not alerted, so a restore or catch-up
 * replay does not flood chats.
 */
import { Api, Bot } from 'node-telegram-bot-api';
import type Database from 'better-sqlite3';
import type { Engine } from '../analytics/engine.js';
import type { ClosedBar, InstrumentPipeline } from '../analytics/pipeline.js';
import type { TapeFlowConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { SignalEngine, InstrumentSignals } from '../signals/engine.js';
import { toSessionLevels } from '../signals/framing.js';
import type { RuleSignalJson } from '../signals/rule-mode.js';
import type { Alert, Transition } from '../signals/state.js';
import type { SignalEvent } from '../signals/types.js';
import type { ChartSnapshotProvider } from './chart.js';
import { ALL_SYMBOLS, ChatDirectory, type QuietHours } from './chats.js';
import { BotCommands, type AlertDataSource } from './commands.js';
import { fitCaption, formatAlert, splitHtml } from './format.js';
import { DeliveryPolicy } from './policy.js';
import { openAlertDb, OutboundQueue, type NewItem } from './queue.js';
import { systemClock, TelegramSender, type Clock, type SenderOptions } from './sender.js';
import { DEFAULT_KINDS, isCritical, type AlertKind, type AlertPayload, type DailyBiasAlert } from './types.js';

export interface AlertServiceOptions {
  /** bot token (from the environment); never logged */
  token: string;
  /** Bot API base URL; default https://api.telegram.org */
  apiRoot?: string;
  /** SQLite file for the outbox, chats, subscriptions and cooldowns (':memory:' for tests) */
  dbPath: string;
  /** chats that receive every symbol (DEFAULT_KINDS) unless they changed their subscriptions */
  chatIds?: number[];
  /** chats allowed to change subscriptions (null/undefined = anyone; chatIds are always allowed) */
  allowChatIds?: number[] | null;
  /** kinds switched on globally (default all) */
  kinds?: AlertKind[];
  cooldownMs?: Partial<Record<AlertKind, number>>;
  /** quiet hours given to the configured chats when they are created */
  quietHours?: QuietHours | null;
  /** chart snapshots attached to these kinds (default entry and daily_bias) when a provider is set */
  charts?: ChartSnapshotProvider | null;
  chartKinds?: AlertKind[];
  /** bot commands: long polling (default), webhook (use `commands.webhook(secret)`), or off */
  commands?: 'polling' | 'webhook' | 'off';
  pollTimeoutSec?: number;
  /** events older than this (wall clock) are not alerted; default 15 min; Infinity for replays */
  maxEventAgeMs?: number;
  /** captured, not yet routed alerts; beyond it the oldest non-critical one is dropped (default 1000) */
  maxInbox?: number;
  /** queued messages; beyond it the lowest-priority oldest one is dropped (default 10 000) */
  maxPending?: number;
  /** per-request client timeout (default 15 s) */
  requestTimeoutMs?: number;
  /** keep delivered rows (dedup history) this long (default 7 days) */
  historyMs?: number;
  sender?: Partial<SenderOptions>;
  clock?: Clock;
  log?: Logger;
  /** injected fetch for the Bot API client */
  fetch?: typeof fetch;
}

export interface AlertServiceStats {
  captured: number;
  routed: number;
  queuedMessages: number;
  stale: number;
  inboxDrops: number;
  deduplicated: number;
  suppressed: Record<string, number>;
  chartErrors: number;
  inbox: number;
}

const priorityOf = (a: AlertPayload): number => (isCritical(a) ? 2 : a.kind === 'sweep' ? 0 : 1);

/** Parse "1,-100200" → [1, -100200] (bad entries skipped). */
export function parseChatIds(s: string | undefined): number[] {
  return (s ?? '').split(',').map((x) => x.trim()).filter((x) => /^-?\d+$/.test(x)).map(Number);
}

export class AlertService {
  readonly db: Database.Database;
  readonly queue: OutboundQueue;
  readonly chats: ChatDirectory;
  readonly policy: DeliveryPolicy;
  readonly sender: TelegramSender;
  readonly api: Api;
  commands: BotCommands | null = null;
  readonly stats: AlertServiceStats = { captured: 0, routed: 0, queuedMessages: 0, stale: 0, inboxDrops: 0, deduplicated: 0, suppressed: {}, chartErrors: 0, inbox: 0 };
  private readonly o: AlertServiceOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly inbox: AlertPayload[] = [];
  private scheduled = false;
  private draining: Promise<void> | null = null;
  private signals: SignalEngine | null = null;
  private engine: Engine | null = null;
  private readonly lastRule = new Map<string, string>();
  private readonly lastSession = new Map<string, string>();
  private closed = false;

  constructor(o: AlertServiceOptions) {
    if (!o.token) throw new Error('AlertService: a bot token is required');
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? silentLogger;
    this.db = openAlertDb(o.dbPath);
    this.queue = new OutboundQueue(this.db, o.maxPending ?? 10_000);
    this.chats = new ChatDirectory(this.db);
    this.policy = new DeliveryPolicy(this.chats, this.db, { cooldownMs: o.cooldownMs, kinds: o.kinds });
    this.api = new Api(o.token, { apiRoot: o.apiRoot, maxRetries: 0, timeoutMs: o.requestTimeoutMs ?? 15_000, ...(o.fetch ? { fetch: o.fetch } : {}) });
    this.sender = new TelegramSender(this.api, this.queue, this.chats, { ...o.sender, clock: this.clock, log: this.log });
    for (const id of o.chatIds ?? []) {
      this.chats.ensure(id, { quiet: o.quietHours ?? null });
      if (!this.chats.subscriptions(id).length) this.chats.subscribeIfAbsent(id, ALL_SYMBOLS, DEFAULT_KINDS);
    }
    this.queue.prune(this.clock.now() - (o.historyMs ?? 7 * 86_400_000));
  }

  /**
   * Build from the config's alerts.telegram section and the environment. Null when disabled. Token and
   * chat ids come from the variables named by tokenEnv / chatIdsEnv.
   */
  static fromConfig(config: TapeFlowConfig, env: Record<string, string | undefined>, extra: Partial<AlertServiceOptions> & { dbPath: string }): AlertService | null {
    const tg = config.alerts.telegram;
    if (!tg.enabled) return null;
    const token = env[tg.tokenEnv];
    if (!token) throw new Error(`alerts.telegram is enabled but environment variable ${tg.tokenEnv} is empty`);
    const chatIds = tg.chatIdsEnv ? parseChatIds(env[tg.chatIdsEnv]) : [];
    return new AlertService({ apiRoot: tg.apiRoot, allowChatIds: tg.allowChatIds ?? null, chatIds, ...extra, token });
  }

  /** Subscribe to a SignalEngine (attach it to the Engine first) and, for daily bias, to the Engine's pipelines. */
  attach(signals: SignalEngine, engine?: Engine): this {
    this.signals = signals;
    signals.onTransition((t) => this.capture(() => this.fromTransition(t)));
    signals.onSignal((e) => this.capture(() => this.fromSignal(e)));
    signals.onAlert((a) => this.capture(() => this.fromSweep(a)));
    signals.onRule((r) => this.capture(() => this.fromRule(r)));
    if (engine) {
      this.engine = engine;
      engine.onPipeline((p) => p.onBarClose((cb) => this.capture(() => this.fromBar(p, cb))));
    }
    return this;
  }

  /** Start sending, and the bot commands (long polling unless configured otherwise). */
  async start(data?: AlertDataSource): Promise<void> {
    this.sender.start();
    const mode = this.o.commands ?? 'polling';
    if (mode !== 'off') {
      const source = data ?? (this.signals ? engineDataSource(this.signals, this.engine, this.o.charts ?? null, this.clock) : null);
      if (source) {
        const bot = new Bot(this.o.token, { apiRoot: this.o.apiRoot, timeoutMs: this.o.requestTimeoutMs ?? 15_000, ...(this.o.fetch ? { fetch: this.o.fetch } : {}) });
        const allow = this.o.allowChatIds ? [...this.o.allowChatIds, ...(this.o.chatIds ?? [])] : null;
        this.commands = new BotCommands(bot, this.chats, source, { allowChatIds: allow, clock: this.clock, log: this.log, pending: () => this.queue.pendingCount() });
        if (mode === 'polling') await this.commands.startPolling(this.o.pollTimeoutSec ?? 30);
        else await this.commands.init();
      }
    }
    this.sender.kick();
  }

  /** Queue an alert payload (the engine listeners use this; other producers may too). Never throws. */
  publish(a: AlertPayload): void {
    if (this.closed) return;
    this.stats.captured++;
    if (this.clock.now() - a.ts > (this.o.maxEventAgeMs ?? 15 * 60_000)) { this.stats.stale++; return; }
    const max = this.o.maxInbox ?? 1000;
    if (this.inbox.length >= max) {
      const i = this.inbox.findIndex((x) => !isCritical(x));
      if (i < 0 && !isCritical(a)) { this.stats.inboxDrops++; return; }
      this.inbox.splice(i < 0 ? 0 : i, 1);
      this.stats.inboxDrops++;
    }
    this.inbox.push(a);
    this.stats.inbox = this.inbox.length;
    if (!this.scheduled) { this.scheduled = true; setImmediate(() => { this.scheduled = false; void this.drain(); }); }
  }

  private capture(build: () => AlertPayload | null): void {
    try {
      const a = build();
      if (a) this.publish(a);
    } catch (err) {
      this.log.error('alert capture failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Route, format and queue everything captured so far (serialised: one drain at a time). */
  drain(): Promise<void> {
    if (!this.draining) {
      const p: Promise<void> = this.drainLoop().finally(() => { if (this.draining === p) this.draining = null; });
      this.draining = p;
    }
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    while (this.inbox.length && !this.closed) {
      // route a batch (charts rendered as needed), then queue it in one transaction
      const batch = this.inbox.splice(0, 256);
      this.stats.inbox = this.inbox.length;
      const items: NewItem[] = [];
      const seen = new Set<string>();
      for (const a of batch) {
        try { items.push(...(await this.route(a, seen))); } catch (err) { this.log.error('alert routing failed', { kind: a.kind, symbol: a.symbol, error: err instanceof Error ? err.message : String(err) }); }
      }
      if (this.closed) return;
      const now = this.clock.now();
      this.db.transaction(() => {
        this.stats.queuedMessages += this.queue.enqueue(items, now).length;
        this.policy.flush();
      })();
      if (items.length) this.sender.kick();
    }
  }

  /** Policy, dedup, formatting and the optional chart of one alert: the outbox rows to add. */
  private async route(a: AlertPayload, seen: Set<string>): Promise<NewItem[]> {
    this.stats.routed++;
    const now = this.clock.now();
    const { deliveries, skipped } = this.policy.route(a, now);
    for (const s of skipped) this.stats.suppressed[s.reason] = (this.stats.suppressed[s.reason] ?? 0) + 1;
    const fresh = deliveries.filter((d) => {
      const k = `${d.chatId}|${a.key}`;
      if (seen.has(k) || this.queue.has(d.chatId, `${a.key}#0`)) return false;
      seen.add(k);
      return true;
    });
    this.stats.deduplicated += deliveries.length - fresh.length;
    if (!fresh.length) return [];
    const html = formatAlert(a);
    let photo: Uint8Array | null = null;
    const charts = this.o.charts;
    if (charts && (this.o.chartKinds ?? ['entry', 'daily_bias']).includes(a.kind)) {
      try { photo = await charts.snapshot(a.symbol, { at: a.ts }); } catch (err) { this.stats.chartErrors++; this.log.warn('alert chart snapshot failed', { symbol: a.symbol, error: err instanceof Error ? err.message : String(err) }); }
    }
    const items: NewItem[] = [];
    for (const d of fresh) {
      const base = { chatId: d.chatId, threadId: d.threadId, kind: a.kind, symbol: a.symbol, priority: priorityOf(a), silent: d.silent, parseMode: 'HTML' as const };
      let n = 0;
      if (photo) {
        const { caption, rest } = fitCaption(html);
        items.push({ ...base, key: `${a.key}#${n++}`, method: 'photo', text: caption, photo });
        if (rest) for (const part of splitHtml(rest)) items.push({ ...base, key: `${a.key}#${n++}`, method: 'message', text: part });
      } else for (const part of splitHtml(html)) items.push({ ...base, key: `${a.key}#${n++}`, method: 'message', text: part });
      this.policy.commit(a, d.chatId);
    }
    return items;
  }

  /** Everything captured is queued, and the queue is empty with nothing in flight. */
  async idle(timeoutMs = 10_000): Promise<void> {
    await this.drain();
    await this.sender.idle(timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    await this.commands?.stop();
    await this.sender.stop();
    this.db.close();
  }

  // ───────────────────────────── payload capture (runs inside engine callbacks: keep it cheap) ─────────────────────────────

  private inst(symbol: string): InstrumentSignals | undefined { return this.signals?.instruments.get(symbol); }

  private px(symbol: string, ticks: number): string {
    const s = this.inst(symbol);
    return s ? s.pipeline.instrument.price.format(ticks) : String(ticks);
  }

  private units(symbol: string, lots: number): number {
    const s = this.inst(symbol);
    return s ? s.pipeline.instrument.qty.toNumber(lots) : lots;
  }

  private findSignal(id: string): SignalEvent | null {
    const list = this.signals?.signals ?? [];
    for (let i = list.length - 1, k = 0; i >= 0 && k < 5000; i--, k++) if (list[i].id === id) return list[i];
    return null;
  }

  private avgVolume(p: InstrumentPipeline, n = 20): number | null {
    const bars = p.bars;
    const k = Math.min(n, bars.length);
    if (!k) return null;
    let s = 0;
    for (let i = bars.length - k; i < bars.length; i++) s += bars[i].bar.volume;
    return s / k;
  }

  private fromTransition(t: Transition): AlertPayload | null {
    const p = t.position;
    if (!p) return null;
    const sym = t.instrument;
    const base = { symbol: sym, ts: t.ts, side: p.side, grade: p.grade };
    const open = `${sym}:${p.side}:${p.openedAt}`;
    switch (t.to) {
      case 'POSITION_OPEN': {
        const s = this.inst(sym);
        const ev = this.findSignal(p.signalId);
        const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
        const open0 = s?.pipeline.openBar;
        const deltaLots = num(ev?.evidence.delta) ?? (open0 ? open0.delta : null);
        const volLots = num(ev?.evidence.volume) ?? num(ev?.evidence.aggressiveVolume) ?? (open0 ? open0.volume : null);
        const avg = s ? this.avgVolume(s.pipeline) : null;
        const bias = s?.bias ?? null;
        const risk = Math.abs(p.entry - p.sl);
        return {
          ...base, kind: 'entry', key: `entry:${open}`, score: p.score, pattern: ev ? `${ev.kind}/${ev.variant}` : p.signalId,
          delta: deltaLots === null ? null : this.units(sym, deltaLots), volume: volLots === null ? null : this.units(sym, volLots), avgVolume: avg === null ? null : this.units(sym, avg),
          bias: bias ? { direction: bias.direction, confidence: bias.confidence, shape: bias.shape } : null,
          entry: this.px(sym, p.entry), sl: this.px(sym, p.sl), tp: this.px(sym, p.tp), rr: risk > 0 ? Math.abs(p.tp - p.entry) / risk : 0,
          level: p.level ? { kind: p.level.kind, price: this.px(sym, p.level.price), strength: p.level.strength } : null,
          reasoning: t.reasoning,
        };
      }
      case 'BREAK_EVEN':
        return { ...base, kind: 'break_even', key: `be:${open}`, entry: this.px(sym, p.entry), sl: this.px(sym, p.sl), tp: this.px(sym, p.tp), reasoning: t.reasoning };
      case 'TRAILING':
        return { ...base, kind: 'trail', key: `trail:${open}:${t.ts}:${p.sl}`, entry: this.px(sym, p.entry), sl: this.px(sym, p.sl), tp: this.px(sym, p.tp), reasoning: t.reasoning };
      case 'CLOSED': {
        const exit = p.exit ?? NaN;
        return {
          ...base, kind: 'exit', key: `exit:${open}`, entry: this.px(sym, p.entry), exit: this.px(sym, exit), reason: p.exitReason ?? 'manual',
          pnlTicks: (p.side === 'buy' ? 1 : -1) * (exit - p.entry), r: p.r ?? 0, durationMs: (p.closedAt ?? t.ts) - p.openedAt, summary: t.reasoning,
        };
      }
      default: return null;
    }
  }

  private fromSignal(e: SignalEvent): AlertPayload | null {
    if (e.kind !== 'exhaustion' && e.kind !== 'divergence') return null;
    const s = this.inst(e.instrument);
    const p = s?.machine.position;
    if (!s || !p || e.side === p.side) return null;
    const close = s.machine.opts.closeOnOppositeStrength;
    if (e.strength >= close) return null; // the EXIT alert follows
    return {
      kind: 'exit_warning', symbol: e.instrument, ts: e.confirmedAt, key: `warn:${e.instrument}:${p.side}:${p.openedAt}:${e.kind}:${e.confirmedAt}`,
      side: p.side, grade: p.grade, signalKind: e.kind, strength: e.strength, closeThreshold: close, price: this.px(e.instrument, s.machine.lastPrice), entry: this.px(e.instrument, p.entry),
      reasoning: e.reasoning,
    };
  }

  private fromSweep(a: Alert): AlertPayload | null {
    const e = a.signal;
    return {
      kind: 'sweep', symbol: a.instrument, ts: a.ts, key: `sweep:${a.instrument}:${e.side}:${e.confirmedAt}`, side: e.side,
      low: this.px(a.instrument, e.priceLow), high: this.px(a.instrument, e.priceHigh), strength: e.strength, reasoning: e.reasoning,
    };
  }

  private fromRule(r: RuleSignalJson): AlertPayload | null {
    const prev = this.lastRule.get(r.symbol);
    this.lastRule.set(r.symbol, r.signal);
    if (r.signal === 'WAIT' || r.signal === prev) return null;
    const ts = Date.parse(r.timestamp);
    const s = this.inst(r.symbol);
    const dec = s ? s.pipeline.instrument.price.decimals : 8;
    return {
      kind: 'rule', symbol: r.symbol, ts, key: `rule:${r.symbol}:${r.signal}:${ts}`, signal: r.signal, confidence: r.confidence, level: r.confidence_level,
      price: Number(r.price.toFixed(dec)).toString(), cvd: this.units(r.symbol, r.metrics.cvd), imbalance: r.metrics.imbalance, vwap: r.metrics.vwap, absorption: r.metrics.absorption,
      sessionActive: r.session_active, session: s?.pipeline.openBar?.sessionKey ?? s?.pipeline.profiles.current?.key ?? '', reasoning: r.reasoning,
    };
  }

  private fromBar(p: InstrumentPipeline, cb: ClosedBar): AlertPayload | null {
    const sym = p.instrument.id;
    const closed = p.profiles.sessions.filter((x) => x.closed);
    if (!closed.length) return null;
    const prior = closed[closed.length - 1].key;
    if (this.lastSession.get(sym) === prior) return null;
    this.lastSession.set(sym, prior);
    const b = this.biasPayload(sym, cb.bar.end);
    return b;
  }

  /** The DAILY BIAS payload of an instrument now (also used by /bias). */
  biasPayload(sym: string, ts = this.clock.now()): DailyBiasAlert | null {
    return this.signals ? dailyBiasPayload(this.signals, sym, ts) : null;
  }
}

/** DAILY BIAS payload of an instrument from the SignalEngine's framing (null before a completed session). */
export function dailyBiasPayload(signals: SignalEngine, sym: string, ts: number): DailyBiasAlert | null {
  const s = signals.instruments.get(sym);
  if (!s || !s.bias) return null;
  const sessions = s.pipeline.profiles.sessions;
  const closed = sessions.filter((x) => x.closed);
  if (!closed.length) return null;
  const prior = closed[closed.length - 1];
  // the developing session: open in the profiles, else (first bar after the close) the session at `ts` or the next one
  const cur = sessions.length && !sessions[sessions.length - 1].closed ? sessions[sessions.length - 1].key : s.pipeline.instrument.calendar.sessionFrom(ts).key;
  const lv = toSessionLevels(prior.key, prior.profile.summary());
  const px = (x: number): string => s.pipeline.instrument.price.format(x);
  const ok = (x: number): string | null => (x === x ? px(x) : null);
  return {
    kind: 'daily_bias', symbol: sym, ts, key: `bias:${sym}:${prior.key}:${cur}`, session: cur || prior.key, priorSession: prior.key,
    shape: s.bias.shape, direction: s.bias.direction, confidence: s.bias.confidence, acceptance: s.bias.acceptance, warning: s.bias.warning,
    poc: ok(lv.pocPrice), vah: ok(lv.vahPrice), val: ok(lv.valPrice), lvns: (lv.lvn ?? []).map((n) => px(n.peakPrice)),
    levels: s.levels.map((l) => ({ kind: l.kind, price: px(l.price), strength: l.strength, merged: l.merged, confluence: l.confluence })),
    reasoning: s.bias.reasoning,
  };
}

/** The bot commands' view of a SignalEngine (+ Engine for charts). */
export function engineDataSource(signals: SignalEngine, engine: Engine | null, charts: ChartSnapshotProvider | null, clock: Clock = systemClock): AlertDataSource {
  const ids = (): string[] => [...signals.instruments.keys()].sort();
  const fmt = (sym: string, t: number): string => signals.instruments.get(sym)?.pipeline.instrument.price.format(t) ?? String(t);
  const src: AlertDataSource = {
    symbols: ids,
    resolve: (s) => { const u = s.trim().toUpperCase(); return ids().find((x) => x.toUpperCase() === u) ?? null; },
    status: (s) => signals.status(s),
    price: fmt,
    bias: (s) => dailyBiasPayload(signals, s, clock.now()),
    signals: (s, n) => { const out: SignalEvent[] = []; for (let i = signals.signals.length - 1; i >= 0 && out.length < n; i--) if (signals.signals[i].instrument === s) out.push(signals.signals[i]); return out.reverse(); },
  };
  if (charts) src.chart = (s, tf) => charts.snapshot(s, tf ? { timeframe: tf } : {});
  return src;
}
