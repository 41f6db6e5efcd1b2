/**
 * BotCommands: the bot's chat commands on node-telegram-bot-api's `Bot` (long polling by default,
 * or a webhook request handler). /start, /help, /subscribe SYMBOL [kinds] [min=N] [grade=G],
 * /unsubscribe [SYMBOL], /status, /bias SYMBOL, /signals SYMBOL [n], /chart SYMBOL [timeframe],
 * /mute [minutes], /quiet HH:MM-HH:MM [timezone] [silent|suppress] | off.
 * Commands that change a chat's subscriptions or settings are refused for chats outside the
 * allow-list (when one is configured); read-only commands answer anyone. Commands addressed to another
 * bot (`/status@OtherBot`) are ignored.
 */
import { Bot, InputFile, ParseError, TelegramApiError, webhookCallback, type Context, type Update } from 'node-telegram-bot-api';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { ALL_SYMBOLS, type ChatDirectory, type QuietHours } from './chats.js';
import { escapeHtml, formatAlert, num, splitHtml, utc } from './format.js';
import { parseHm } from './policy.js';
import type { Clock } from './sender.js';
import { systemClock } from './sender.js';
import { ALERT_KINDS, DEFAULT_KINDS, GRADES, type AlertKind, type DailyBiasAlert } from './types.js';
import { errorText, telegramErrorText } from './wire.js';

type Awaitable<T> = T | Promise<T>;

/** An instrument's trade state for /status, prices already formatted (plain data: crosses a thread boundary). */
export interface StatusView {
  instrument: string;
  label: string;
  state: string;
  /** last price, null before the first trade */
  price: string | null;
  position: { side: 'buy' | 'sell'; entry: string; sl: string; tp: string; grade: string } | null;
  bias: { direction: string; confidence: number } | null;
}

/** A signal event for /signals, prices already formatted. */
export interface SignalView { confirmedAt: number; kind: string; variant: string; side: 'buy' | 'sell'; low: string; high: string; strength: number }

/**
 * What the commands read (implemented over SignalEngine + Engine by `engineDataSource`; in the worker,
 * by requests to the engine's thread). Every method may answer synchronously or with a promise.
 */
export interface AlertDataSource {
  symbols(): Awaitable<string[]>;
  /** canonical instrument id for user input (case-insensitive), null when unknown */
  resolve(symbol: string): Awaitable<string | null>;
  status(symbol: string): Awaitable<StatusView | undefined>;
  bias(symbol: string): Awaitable<DailyBiasAlert | null>;
  /** the last n signal events of an instrument, oldest first */
  signals(symbol: string, n: number): Awaitable<SignalView[]>;
  /** PNG of footprint + profile, null when there is nothing to draw; absent when charts are off */
  chart?(symbol: string, timeframe?: string): Promise<Uint8Array | null>;
}

/** Where bot-command polling is: answers arriving, backing off after an error (with why), or not polling. */
export interface PollerState {
  state: 'polling' | 'retrying' | 'off';
  /** since when (local ms; null when off) */
  since: number | null;
  /** why it is retrying (no token, no paths) */
  reason: string | null;
}

export interface BotCommandsOptions {
  /** chats allowed to change subscriptions; null = anyone */
  allowChatIds: readonly number[] | null;
  clock: Clock;
  log: Logger;
  /** queue length shown by /status */
  pending?: () => number;
  /** the alerts' rate limiter: every reply takes a slot first; a 429 on a reply holds the chat */
  limiter?: { acquire(chatId: number, signal?: AbortSignal): Promise<void>; hold(chatId: number, until: number): void };
  /** getUpdates backoff after an error: first wait and cap (default 1 s doubling to 60 s; retry_after wins) */
  pollBackoffBaseMs?: number;
  pollBackoffMaxMs?: number;
}

/** What a failed getUpdates means: a kind (logged when it changes), a reason for /health, Telegram's retry_after. */
export function pollError(err: unknown): { kind: string; reason: string; retryAfterMs?: number } {
  if (err instanceof TelegramApiError) {
    const d = err.description ?? '';
    if (err.errorCode === 409) return /webhook/i.test(d) ? { kind: 'webhook', reason: '409 Conflict: a webhook is set for this bot' } : { kind: 'conflict', reason: '409 Conflict: another instance polls this bot' };
    if (err.errorCode === 429) return { kind: '429', reason: `429 Too Many Requests${err.retryAfter ? ` (retry after ${err.retryAfter} s)` : ''}`, retryAfterMs: err.retryAfter ? err.retryAfter * 1000 : undefined };
    if (err.errorCode === 401) return { kind: '401', reason: '401 Unauthorized (check the bot token)' };
    return { kind: String(err.errorCode), reason: telegramErrorText(err) };
  }
  if (err instanceof ParseError) {
    const body = (err.responseText ?? '').replace(/\s+/g, ' ').trim().slice(0, 80);
    return { kind: 'not-json', reason: `answer is not JSON${body ? `: "${body}"` : ' (empty body)'}` };
  }
  return { kind: err instanceof Error ? err.name : 'error', reason: telegramErrorText(err) };
}

const KIND_ALIASES: Record<string, AlertKind[]> = {
  all: [...ALERT_KINDS], default: [...DEFAULT_KINDS], entry: ['entry'], entries: ['entry'], be: ['break_even'], breakeven: ['break_even'], break_even: ['break_even'],
  trail: ['trail'], exit: ['exit'], exits: ['exit'], warning: ['exit_warning'], warnings: ['exit_warning'], exit_warning: ['exit_warning'],
  bias: ['daily_bias'], daily_bias: ['daily_bias'], rule: ['rule'], rules: ['rule'], sweep: ['sweep'], sweeps: ['sweep'], pcr: ['pcr'],
  trades: ['entry', 'break_even', 'trail', 'exit', 'exit_warning'],
};

export const HELP = [
  '<b>TapeFlow alerts</b>',
  '/subscribe SYMBOL [kinds] [min=N] [grade=G] — SYMBOL or * for all; kinds: all, entry, be, trail, exit, warning, bias, rule, sweep, trades (default: all but sweep)',
  '/unsubscribe [SYMBOL] — one symbol, or everything',
  '/status — instruments and trade states',
  '/bias SYMBOL — daily bias and qualified levels',
  '/signals SYMBOL [n] — the last n signals (default 5)',
  '/chart SYMBOL [timeframe] — footprint + profile snapshot',
  '/mute [minutes] — silence non-critical alerts (default 60; 0 = unmute)',
  '/quiet HH:MM-HH:MM [timezone] [silent|suppress] — quiet hours (off to clear)',
  'Exits and stop hits are always delivered.',
].join('\n');

export const BOT_COMMANDS = [
  { command: 'subscribe', description: 'subscribe to a symbol' }, { command: 'unsubscribe', description: 'stop alerts' },
  { command: 'status', description: 'instruments and trade states' }, { command: 'bias', description: 'daily bias' },
  { command: 'signals', description: 'recent signals' }, { command: 'chart', description: 'footprint + profile chart' },
  { command: 'mute', description: 'mute for N minutes' }, { command: 'help', description: 'help' },
];

export class BotCommands {
  readonly bot: Bot;
  private username: string | null = null;
  /** polling, or retrying deleteWebhook / setWebhook, in the background */
  private background: Promise<void> | null = null;
  private stopping: AbortController | null = null;
  private readonly allow: Set<number> | null;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** commands answered (by name) */
  readonly handled = new Map<string, number>();
  private poll: PollerState = { state: 'off', since: null, reason: null };

  constructor(bot: Bot, readonly chats: ChatDirectory, readonly data: AlertDataSource, private readonly o: Partial<BotCommandsOptions> = {}) {
    this.bot = bot;
    this.allow = o.allowChatIds ? new Set(o.allowChatIds) : null;
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? silentLogger;
    this.register();
  }

  /** Where polling is (plain data; reported in /health through the alert stats). */
  pollerState(): PollerState { return { ...this.poll }; }

  private setPoll(state: PollerState['state'], reason: string | null): void {
    if (this.poll.state !== state) this.poll = { state, since: state === 'off' ? null : this.clock.now(), reason };
    else this.poll.reason = reason;
  }

  allowed(chatId: number): boolean { return this.allow === null || this.allow.has(chatId); }

  private register(): void {
    const b = this.bot;
    b.catch((err, ctx) => { this.log.warn('telegram command failed', { chatId: ctx.chatId, error: err instanceof Error ? err.message : String(err) }); });
    // ignore commands addressed to another bot in groups
    b.use(async (ctx, next) => {
      const t = ctx.message?.text;
      const m = t ? /^\/[A-Za-z0-9_]+@(\w+)/.exec(t) : null;
      if (m && this.username && m[1].toLowerCase() !== this.username.toLowerCase()) return;
      await next();
    });
    const cmd = (name: string, fn: (ctx: Context, chatId: number, args: string[]) => Promise<void>): void => {
      b.command(name, async (ctx) => {
        const chatId = ctx.chatId;
        if (chatId === undefined) return;
        this.handled.set(name, (this.handled.get(name) ?? 0) + 1);
        const args = typeof ctx.match === 'string' ? ctx.match.split(/\s+/).filter(Boolean) : [];
        await fn(ctx, chatId, args);
      });
    };
    cmd('start', (ctx, id) => this.start(ctx, id));
    cmd('help', (ctx) => this.reply(ctx, HELP));
    cmd('subscribe', (ctx, id, a) => this.subscribe(ctx, id, a));
    cmd('unsubscribe', (ctx, id, a) => this.unsubscribe(ctx, id, a));
    cmd('status', (ctx, id) => this.status(ctx, id));
    cmd('bias', (ctx, _id, a) => this.bias(ctx, a));
    cmd('signals', (ctx, _id, a) => this.signals(ctx, a));
    cmd('chart', (ctx, _id, a) => this.chart(ctx, a));
    cmd('mute', (ctx, id, a) => this.mute(ctx, id, a));
    cmd('quiet', (ctx, id, a) => this.quiet(ctx, id, a));
  }

  /** Send HTML to the chat (and forum topic) of the update, split at 4096 characters, each part through the rate limiter. */
  async reply(ctx: Context, html: string): Promise<void> {
    const chatId = ctx.chatId!;
    const thread = ctx.message?.is_topic_message ? ctx.message.message_thread_id : undefined;
    for (const part of splitHtml(html)) {
      await this.limited(chatId, () => ctx.api.sendMessage({ chat_id: chatId, text: part, parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...(thread !== undefined ? { message_thread_id: thread } : {}) }));
    }
  }

  /** One reply call: a slot from the shared limiter first; a 429 holds the chat for retry_after and tries again (3 times at most). */
  private async limited<T>(chatId: number, send: () => Promise<T>): Promise<T> {
    const lim = this.o.limiter;
    for (let attempt = 1; ; attempt++) {
      await lim?.acquire(chatId, this.stopping?.signal);
      try {
        return await send();
      } catch (err) {
        if (!(err instanceof TelegramApiError && err.errorCode === 429) || attempt >= 3) throw err;
        const until = this.clock.now() + Math.max(1, err.retryAfter ?? 1) * 1000;
        lim?.hold(chatId, until);
        if (!lim) await this.clock.sleep(until - this.clock.now(), this.stopping?.signal);
      }
    }
  }

  private async denied(ctx: Context, chatId: number): Promise<boolean> {
    if (this.allowed(chatId)) return false;
    await this.reply(ctx, `⛔ This chat (<code>${chatId}</code>) is not allowed to change alert subscriptions.`);
    return true;
  }

  private async sym(arg: string | undefined): Promise<string | null> {
    if (!arg) return null;
    if (arg === ALL_SYMBOLS || arg.toLowerCase() === 'all') return ALL_SYMBOLS;
    return this.data.resolve(arg);
  }

  private async start(ctx: Context, chatId: number): Promise<void> {
    if (!this.allowed(chatId)) { await this.reply(ctx, `👋 TapeFlow alerts. This bot is private: ask its operator to allow chat <code>${chatId}</code>.`); return; }
    const c = this.chats.ensure(chatId);
    if (!c.active) this.chats.enable(chatId);
    const subs = this.chats.subscriptions(chatId);
    await this.reply(ctx, `👋 TapeFlow alerts are on for this chat.\n${subs.length ? `Subscribed: ${subs.map((s) => `<code>${escapeHtml(s.symbol)}</code>`).join(', ')}` : 'No subscriptions yet: /subscribe SYMBOL'}\n\n${HELP}`);
  }

  private async subscribe(ctx: Context, chatId: number, args: string[]): Promise<void> {
    if (await this.denied(ctx, chatId)) return;
    const symbol = await this.sym(args[0]);
    if (!symbol) { await this.reply(ctx, args[0] ? `Unknown symbol <code>${escapeHtml(args[0])}</code>. Known: ${(await this.data.symbols()).map((s) => `<code>${escapeHtml(s)}</code>`).join(', ') || 'none yet'}` : 'Usage: /subscribe SYMBOL [kinds] [min=N] [grade=G]'); return; }
    const kinds = new Set<AlertKind>();
    const patch: { minConfidence?: number; minGrade?: string | null } = {};
    for (const raw of args.slice(1).flatMap((a) => a.split(','))) {
      const a = raw.trim().toLowerCase();
      if (!a) continue;
      const kv = /^(min|grade)=(.+)$/.exec(a);
      if (kv && kv[1] === 'min') {
        const n = Number(kv[2]);
        if (!(n >= 0 && n <= 100)) { await this.reply(ctx, `min must be 0–100, got <code>${escapeHtml(kv[2])}</code>`); return; }
        patch.minConfidence = n;
      } else if (kv && kv[1] === 'grade') {
        const g = kv[2].toUpperCase();
        if (g === 'ANY') patch.minGrade = null;
        else if ((GRADES as readonly string[]).includes(g)) patch.minGrade = g;
        else { await this.reply(ctx, `grade must be one of ${GRADES.join(', ')} or any`); return; }
      } else if (KIND_ALIASES[a]) for (const k of KIND_ALIASES[a]) kinds.add(k);
      else { await this.reply(ctx, `Unknown alert kind <code>${escapeHtml(raw)}</code>. Kinds: ${Object.keys(KIND_ALIASES).join(', ')}`); return; }
    }
    const list = kinds.size ? ALERT_KINDS.filter((k) => kinds.has(k)) : [...DEFAULT_KINDS];
    this.chats.ensure(chatId);
    if (!this.chats.get(chatId)!.active) this.chats.enable(chatId);
    this.chats.subscribe(chatId, symbol, list);
    if (Object.keys(patch).length) this.chats.update(chatId, patch);
    const c = this.chats.get(chatId)!;
    await this.reply(ctx, `✅ Subscribed to <code>${escapeHtml(symbol === ALL_SYMBOLS ? 'all symbols' : symbol)}</code>: ${list.join(', ')}\nmin confidence ${num(c.minConfidence)} · min grade ${escapeHtml(c.minGrade ?? 'any')}`);
  }

  private async unsubscribe(ctx: Context, chatId: number, args: string[]): Promise<void> {
    if (await this.denied(ctx, chatId)) return;
    const symbol = args[0] ? (await this.sym(args[0])) ?? args[0] : undefined;
    const n = this.chats.unsubscribe(chatId, symbol === undefined ? undefined : symbol);
    await this.reply(ctx, n ? `🔕 Unsubscribed from ${symbol === undefined ? 'everything' : `<code>${escapeHtml(symbol)}</code>`} (${n} subscription${n === 1 ? '' : 's'})` : 'Nothing to unsubscribe.');
  }

  private statusLine(s: StatusView): string {
    const p = s.position;
    let line = `<code>${escapeHtml(s.instrument)}</code> ${escapeHtml(s.label)} · ${escapeHtml(s.state)} · price ${escapeHtml(s.price ?? 'n/a')}`;
    if (p) line += `\n  ${p.side === 'buy' ? 'LONG' : 'SHORT'} @ <code>${escapeHtml(p.entry)}</code> SL <code>${escapeHtml(p.sl)}</code> TP <code>${escapeHtml(p.tp)}</code> grade ${escapeHtml(p.grade)}`;
    if (s.bias) line += `\n  bias ${escapeHtml(s.bias.direction)} ${num(s.bias.confidence)}`;
    return line;
  }

  private async status(ctx: Context, chatId: number): Promise<void> {
    const c = this.chats.get(chatId);
    const subs = this.chats.subscriptions(chatId);
    const all = await this.data.symbols();
    const wanted = subs.some((s) => s.symbol === ALL_SYMBOLS) || !subs.length ? all : subs.map((s) => s.symbol).filter((s) => all.includes(s));
    const lines = ['<b>TapeFlow status</b>'];
    for (const sym of wanted) { const s = await this.data.status(sym); if (s) lines.push(this.statusLine(s)); }
    if (lines.length === 1) lines.push('no instruments yet');
    const now = this.clock.now();
    lines.push('', `Subscriptions: ${subs.length ? subs.map((s) => `<code>${escapeHtml(s.symbol)}</code> (${s.kinds.join(', ')})`).join('; ') : 'none'}`);
    if (c) {
      lines.push(`Alerts ${c.active ? 'on' : `off (${escapeHtml(c.disabledReason ?? 'disabled')})`}${c.mutedUntil > now ? ` · muted until ${utc(c.mutedUntil)}` : ''}${c.quiet ? ` · quiet ${escapeHtml(c.quiet.start)}–${escapeHtml(c.quiet.end)} ${escapeHtml(c.quiet.timezone)} (${c.quiet.mode})` : ''}`);
    }
    if (this.o.pending) lines.push(`Outbound queue: ${this.o.pending()}`);
    await this.reply(ctx, lines.join('\n'));
  }

  private async needSymbol(ctx: Context, arg: string | undefined, usage: string): Promise<string | null> {
    const s = arg ? await this.data.resolve(arg) : null;
    if (!s) await this.reply(ctx, arg ? `Unknown symbol <code>${escapeHtml(arg)}</code>` : `Usage: ${usage}`);
    return s;
  }

  private async bias(ctx: Context, args: string[]): Promise<void> {
    const s = await this.needSymbol(ctx, args[0], '/bias SYMBOL');
    if (!s) return;
    const b = await this.data.bias(s);
    await this.reply(ctx, b ? formatAlert(b) : `No bias for <code>${escapeHtml(s)}</code> yet (needs a completed prior session).`);
  }

  private async signals(ctx: Context, args: string[]): Promise<void> {
    const s = await this.needSymbol(ctx, args[0], '/signals SYMBOL [n]');
    if (!s) return;
    const n = Math.max(1, Math.min(50, Math.floor(Number(args[1] ?? 5)) || 5));
    const evs = await this.data.signals(s, n);
    if (!evs.length) { await this.reply(ctx, `No signals for <code>${escapeHtml(s)}</code> yet.`); return; }
    const lines = [`<b>Last ${evs.length} signals</b> <code>${escapeHtml(s)}</code>`];
    for (const e of evs) {
      const range = e.low === e.high ? e.low : `${e.low}–${e.high}`;
      lines.push(`${e.side === 'buy' ? '🟢' : '🔴'} ${utc(e.confirmedAt).slice(11, 19)} ${escapeHtml(e.kind)}/${escapeHtml(e.variant)} ${e.side} <code>${escapeHtml(range)}</code> strength <b>${num(e.strength)}</b>`);
    }
    await this.reply(ctx, lines.join('\n'));
  }

  private async chart(ctx: Context, args: string[]): Promise<void> {
    const s = await this.needSymbol(ctx, args[0], '/chart SYMBOL [timeframe]');
    if (!s) return;
    if (!this.data.chart) { await this.reply(ctx, 'Charts are not enabled.'); return; }
    let png: Uint8Array | null;
    try { png = await this.data.chart(s, args[1]); } catch (err) { await this.reply(ctx, `Cannot draw <code>${escapeHtml(s)}</code>${args[1] ? ` ${escapeHtml(args[1])}` : ''}: ${escapeHtml(err instanceof Error ? err.message : String(err))}`); return; }
    if (!png) { await this.reply(ctx, `No bars for <code>${escapeHtml(s)}</code> yet.`); return; }
    const thread = ctx.message?.is_topic_message ? ctx.message.message_thread_id : undefined;
    await this.limited(ctx.chatId!, () => ctx.api.sendPhoto({
      chat_id: ctx.chatId!, photo: new InputFile(png, { filename: 'chart.png', contentType: 'image/png' }), parse_mode: 'HTML',
      caption: `<code>${escapeHtml(s)}</code>${args[1] ? ` ${escapeHtml(args[1])}` : ''} footprint + profile · ${utc(this.clock.now())}`,
      ...(thread !== undefined ? { message_thread_id: thread } : {}),
    }));
  }

  private async mute(ctx: Context, chatId: number, args: string[]): Promise<void> {
    if (await this.denied(ctx, chatId)) return;
    const a = (args[0] ?? '60').toLowerCase();
    const minutes = a === 'off' ? 0 : Number(a);
    if (!(minutes >= 0 && minutes <= 7 * 24 * 60)) { await this.reply(ctx, 'Usage: /mute [minutes] (0 or off = unmute, at most 10080)'); return; }
    const until = minutes ? this.clock.now() + minutes * 60_000 : 0;
    this.chats.update(chatId, { mutedUntil: until });
    await this.reply(ctx, minutes ? `🔇 Muted for ${num(minutes)} min (until ${utc(until)}). Exits are still delivered.` : '🔔 Unmuted.');
  }

  private async quiet(ctx: Context, chatId: number, args: string[]): Promise<void> {
    if (await this.denied(ctx, chatId)) return;
    if (!args.length || args[0].toLowerCase() === 'off') { this.chats.update(chatId, { quiet: null }); await this.reply(ctx, 'Quiet hours off.'); return; }
    const m = /^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$/.exec(args[0]);
    const tz = args[1] && !/^(silent|suppress)$/i.test(args[1]) ? args[1] : 'UTC';
    const mode = (args.find((x) => /^(silent|suppress)$/i.test(x))?.toLowerCase() ?? 'silent') as QuietHours['mode'];
    try {
      if (!m) throw new Error('bad range');
      parseHm(m[1]); parseHm(m[2]);
      new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    } catch {
      await this.reply(ctx, 'Usage: /quiet HH:MM-HH:MM [timezone] [silent|suppress] (or off)');
      return;
    }
    this.chats.update(chatId, { quiet: { start: m[1], end: m[2], timezone: tz, mode } });
    await this.reply(ctx, `🌙 Quiet hours ${escapeHtml(m[1])}–${escapeHtml(m[2])} ${escapeHtml(tz)}: ${mode === 'silent' ? 'alerts arrive silently' : 'alerts are suppressed'}. Exits are always delivered.`);
  }

  /**
   * Long polling: deleteWebhook (polling and webhooks exclude each other), learn the bot's username, poll.
   * Telegram unreachable at start is not fatal: the first attempt is awaited, then it keeps trying in the
   * background (1 s doubling to 60 s) and polls once it got through. Polling itself never stops by itself
   * (see `updates`): only stop() ends it.
   */
  async startPolling(timeoutSec = 30): Promise<void> {
    if (this.background) return;
    this.stopping = new AbortController();
    const signal = this.stopping.signal;
    const first = await this.attempt('deleteWebhook', () => this.bot.api.deleteWebhook({}));
    if (first) await this.init();
    else this.setPoll('retrying', 'deleteWebhook failed; Telegram unreachable');
    this.background = (async () => {
      if (!first) {
        if (!(await this.retry('deleteWebhook', () => this.bot.api.deleteWebhook({})))) return;
        await this.init();
      }
      if (signal.aborted) return;
      // no await between the check above and this call: stop() cannot slip in before the pump exists
      await this.bot.startPolling(this.updates(timeoutSec, signal));
    })().catch((err: unknown) => {
      // only a throwing error boundary gets here (bot.catch logs instead): say so, it is a bug
      this.setPoll('retrying', 'polling loop failed');
      this.log.error('telegram polling stopped', { error: errorText(err) });
    });
  }

  /**
   * The update source: getUpdates in a loop that only stop() ends. Every failure (409 Conflict, a body
   * that is not JSON, 5xx, network errors, 429, even 401) backs off (retry_after, else 1 s doubling to
   * `pollBackoffMaxMs`) and polls again without advancing the offset. A conflict with another poller is
   * logged once per episode as "another instance polls this bot"; other errors are logged when their
   * kind changes, and the recovery once.
   */
  private async *updates(timeoutSec: number, signal: AbortSignal): AsyncGenerator<Update> {
    let offset: number | undefined;
    let wait = 0;
    let logged = '';
    const maxWait = this.o.pollBackoffMaxMs ?? 60_000;
    this.setPoll('polling', null);
    while (!signal.aborted) {
      let batch: Update[];
      try {
        batch = await this.bot.api.getUpdates({ offset, timeout: timeoutSec }, signal);
      } catch (err) {
        if (signal.aborted) return;
        const why = pollError(err);
        wait = why.retryAfterMs ?? Math.min(maxWait, wait ? wait * 2 : (this.o.pollBackoffBaseMs ?? 1000));
        this.setPoll('retrying', why.reason);
        if (why.kind !== logged) {
          logged = why.kind;
          if (why.kind === 'conflict') this.log.warn('telegram getUpdates: 409 Conflict: another instance polls this bot; backing off and polling again', { retryInMs: wait });
          else if (why.kind === 'webhook') this.log.warn('telegram getUpdates: 409 Conflict: a webhook is set for this bot; deleting it and polling again', { retryInMs: wait });
          else this.log.warn(`telegram getUpdates failed (${why.reason}); backing off and polling again`, { retryInMs: wait });
        }
        if (why.kind === 'webhook') await this.bot.api.deleteWebhook({}, signal).catch(() => undefined);
        await this.clock.sleep(wait, signal);
        continue;
      }
      if (this.poll.state !== 'polling') {
        if (logged) this.log.info('telegram polling resumed');
        this.setPoll('polling', null);
      }
      wait = 0;
      logged = '';
      for (const u of batch) {
        offset = u.update_id + 1;
        yield u;
      }
    }
  }

  /** One call; false (logged) when it failed. */
  private async attempt(what: string, call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (err) {
      if (err instanceof TelegramApiError && err.errorCode === 401) this.log.error(`telegram ${what}: 401 Unauthorized (check the bot token); will retry in the background`);
      else this.log.warn(`telegram ${what} failed; will retry in the background`, { error: errorText(err) });
      return false;
    }
  }

  /** Retry `call` with backoff (1 s doubling to 60 s, real time) until it succeeds (true) or stop() (false). */
  private async retry(what: string, call: () => Promise<unknown>): Promise<boolean> {
    const signal = this.stopping?.signal;
    for (let wait = 1000; ; wait = Math.min(60_000, wait * 2)) {
      await new Promise<void>((resolve) => {
        if (signal?.aborted) { resolve(); return; }
        const t = setTimeout(done, wait);
        function done(): void { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); }
        signal?.addEventListener('abort', done, { once: true });
      });
      if (signal?.aborted) return false;
      try {
        await call();
        this.log.info(`telegram ${what} succeeded after retrying`);
        return true;
      } catch (err) {
        this.log.warn(`telegram ${what} failed; retrying`, { retryInMs: Math.min(60_000, wait * 2), error: errorText(err) });
      }
    }
  }

  /** getMe (username for @-addressed commands) and the command menu; failures are logged, not fatal. */
  async init(): Promise<void> {
    try { this.username = (await this.bot.api.getMe()).username ?? null; } catch (err) { this.log.warn('telegram getMe failed', { error: err instanceof Error ? err.message : String(err) }); }
    try { await this.bot.api.setMyCommands({ commands: BOT_COMMANDS }); } catch { /* optional */ }
  }

  /**
   * Webhook mode: tell Telegram where to POST updates (messages only) and the secret to send with them.
   * The first attempt is awaited (true when it got through); after a failure it keeps trying in the background.
   */
  async registerWebhook(url: string, secret: string): Promise<boolean> {
    if (this.background) return false;
    this.stopping = new AbortController();
    const set = (): Promise<unknown> => this.bot.api.setWebhook({ url, secret_token: secret, allowed_updates: ['message'] });
    if (await this.attempt('setWebhook', set)) { this.log.info('telegram webhook registered', { url }); return true; }
    this.background = this.retry('setWebhook', set).then((ok) => { if (ok) this.log.info('telegram webhook registered', { url }); });
    return false;
  }

  /** Webhook mode: a web-standard (Request) => Response handler; mount it behind your HTTPS endpoint. */
  webhook(secretToken: string): (request: Request) => Promise<Response> {
    return webhookCallback(this.bot, { secretToken });
  }

  async stop(): Promise<void> {
    this.stopping?.abort();
    this.setPoll('off', null);
    if (!this.background) return;
    this.bot.stop();
    await this.background;
    this.background = null;
  }
}
