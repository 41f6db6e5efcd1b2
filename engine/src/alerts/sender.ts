/**
 * TelegramSender: drains the OutboundQueue through node-telegram-bot-api's `Api` (its own retries off:
 * the sender owns retry policy so waits are persisted and clock-driven).
 *  - per-chat FIFO, at most one request in flight per chat, `concurrency` in flight overall;
 *  - rate limits: per chat one message per `perChatIntervalMs` (groups: `groupIntervalMs`), globally at
 *    most `globalPerSec` in any one-second window;
 *  - 429: the row waits `retry_after` seconds (the chat is held that long; the attempt is not counted);
 *  - 403 / "chat not found": the chat is disabled and its pending rows dropped;
 *  - 400 with migrate_to_chat_id: the chat (settings, subscriptions, outbox) moves to the new id and the
 *    row is resent there; "can't parse entities": resent as plain text; "message thread not found":
 *    resent without the topic;
 *  - network errors, timeouts, 5xx and answers that are not JSON: exponential backoff (up to
 *    `backoffMaxMs`) for as long as the row is younger than `ttlMs` (default 24 h), so an outage of hours
 *    loses nothing; an older row is dropped with the last error's text;
 *  - a photo Telegram refuses (400: not enough rights to send photos, PHOTO_INVALID_DIMENSIONS, …) is
 *    sent again as its text alert;
 *  - a photo row that carries only a chart spec is drawn just before it is sent (one drawing shared by
 *    the chats that get the same alert); when there is nothing to draw or drawing fails, its caption
 *    goes out as a text message.
 * The same limits apply to bot-command replies: they take their slot through `acquire()`.
 * Time comes from an injectable Clock, so tests check waits without sleeping.
 */
import { InputFile, TelegramApiError, type Api } from 'node-telegram-bot-api';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { ChatDirectory } from './chats.js';
import { stripHtml } from './format.js';
import type { ChartSpec, OutboundItem, OutboundQueue } from './queue.js';
import { telegramErrorText } from './wire.js';

export interface Clock {
  now(): number;
  /** resolve after `ms` (or as soon as `signal` aborts) */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise<void>((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const t = setTimeout(done, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    function done(): void { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  }),
};

export interface SenderOptions {
  perChatIntervalMs: number;
  /** chats with a negative id (groups, channels) */
  groupIntervalMs: number;
  globalPerSec: number;
  concurrency: number;
  /** transient failures a row may have before it is dropped (default unlimited: `ttlMs` bounds it) */
  maxAttempts: number;
  /** a row not delivered within this long (ms since it was queued) is dropped (default 24 h) */
  ttlMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** graceful stop waits this long (real time) for requests in flight before aborting them */
  stopTimeoutMs: number;
}

export const DEFAULT_SENDER: SenderOptions = {
  perChatIntervalMs: 1000, groupIntervalMs: 3000, globalPerSec: 30, concurrency: 4, maxAttempts: Infinity, ttlMs: 86_400_000, backoffBaseMs: 1000, backoffMaxMs: 60_000, stopTimeoutMs: 5000,
};

/** One send attempt, as the sender saw it (times from the injected clock). */
export interface AttemptRecord { id: number; chatId: number; key: string; at: number; outcome: string }

export interface SenderStats {
  sent: number; retried429: number; transientErrors: number; dropped: number; disabledChats: number; migrations: number; plainTextFallbacks: number;
  /** refused photos resent as their text alert; rows dropped because they outlived `ttlMs` */
  photoFallbacks: number; expired: number;
  /** command replies sent through the limiter, and how long they waited for their slot in total (ms) */
  replies: number; replyWaitMs: number;
  /** charts drawn at send time, and photo rows sent as text because there was nothing to draw or drawing failed */
  chartsDrawn: number; chartErrors: number;
}

/** Draws a chart spec to PNG (null when there is nothing to draw). */
export type ChartRenderer = (spec: ChartSpec) => Promise<Uint8Array | null>;

export class TelegramSender {
  readonly opts: SenderOptions;
  readonly stats: SenderStats = { sent: 0, retried429: 0, transientErrors: 0, dropped: 0, disabledChats: 0, migrations: 0, plainTextFallbacks: 0, photoFallbacks: 0, expired: 0, replies: 0, replyWaitMs: 0, chartsDrawn: 0, chartErrors: 0 };
  /** the last `keepAttempts` attempts */
  readonly attempts: AttemptRecord[] = [];
  keepAttempts = 1000;
  private readonly clock: Clock;
  private readonly log: Logger;
  private running = false;
  private loopDone: Promise<void> | null = null;
  private readonly inflight = new Map<number, { promise: Promise<void>; abort: AbortController }>();
  private claimFailing = false;
  /** rows whose outbox update failed (left 'sending'): the message id when it was delivered, undefined when not */
  private readonly stuck = new Map<number, number | null | undefined>();
  private readonly chatNext = new Map<number, number>();
  /** send times within the last second (global limit) */
  private readonly window: number[] = [];
  private wakeFn: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private fatal: string | null = null;
  private readonly render: ChartRenderer | null;
  /** the last few drawings by spec (the chats of one alert share one) */
  private readonly drawn = new Map<string, Promise<Uint8Array | null>>();

  constructor(private readonly api: Api, readonly queue: OutboundQueue, readonly chats: ChatDirectory, o: Partial<SenderOptions> & { clock?: Clock; log?: Logger; chart?: ChartRenderer | null } = {}) {
    const { clock, log, chart, ...rest } = o;
    this.opts = { ...DEFAULT_SENDER, ...rest };
    this.clock = clock ?? systemClock;
    this.log = log ?? silentLogger;
    this.render = chart ?? null;
  }

  /** The PNG of a row: stored, or drawn now from its chart spec; null = send the caption as text. */
  private async photoOf(item: OutboundItem): Promise<Uint8Array | null> {
    if (item.photo) return item.photo;
    if (!item.chart || !this.render) return null;
    const key = JSON.stringify(item.chart);
    let p = this.drawn.get(key);
    if (!p) {
      p = this.render(item.chart).then((png) => { if (png) this.stats.chartsDrawn++; return png; });
      this.drawn.set(key, p);
      if (this.drawn.size > 8) this.drawn.delete(this.drawn.keys().next().value!);
    }
    try {
      return await p;
    } catch (err) {
      this.drawn.delete(key); // a later row of the same alert may try again
      this.log.warn('alert chart snapshot failed; sending the text alone', { symbol: item.chart.symbol, error: err instanceof Error ? err.message : String(err) });
      return null;
    }
  }

  get isRunning(): boolean { return this.running; }
  get inFlight(): number { return this.inflight.size; }
  /** set when Telegram answered 401 (bad token): sending stopped */
  get fatalError(): string | null { return this.fatal; }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop().catch((err: unknown) => { this.log.error('telegram sender loop failed', { err: String(err) }); this.running = false; });
  }

  /** New rows were queued. */
  kick(): void { this.wake(); }

  private wake(): void { const w = this.wakeFn; this.wakeFn = null; w?.(); }

  /** Stop claiming rows; wait for requests in flight (up to stopTimeoutMs, then abort them: they stay queued). */
  async stop(): Promise<void> {
    if (!this.running && !this.inflight.size) return;
    this.running = false;
    this.wake();
    await this.loopDone;
    const all = Promise.all([...this.inflight.values()].map((x) => x.promise));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), this.opts.stopTimeoutMs); })]);
    clearTimeout(timer);
    if (timedOut) {
      for (const x of this.inflight.values()) x.abort.abort();
      await all;
    }
  }

  /** Resolves when nothing is queued and nothing is in flight (or after timeoutMs, rejecting). */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.pendingCount() > 0 || this.inflight.size > 0) {
      if (Date.now() > deadline) throw new Error(`telegram sender not idle after ${timeoutMs} ms (${this.queue.pendingCount()} queued, ${this.inflight.size} in flight)`);
      await new Promise<void>((r) => { const t = setTimeout(r, 20); this.idleWaiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  private interval(chatId: number): number { return chatId < 0 ? this.opts.groupIntervalMs : this.opts.perChatIntervalMs; }

  /** ms until the global limit allows a send (0 = allowed now, and counted): at most globalPerSec in any 1 s window. */
  private takeGlobal(now: number): number {
    const rate = Math.floor(this.opts.globalPerSec);
    if (!(rate > 0)) return 0;
    const w = this.window;
    while (w.length && w[0] <= now - 1000) w.shift();
    if (w.length < rate) { w.push(now); return 0; }
    return w[0] + 1000 - now;
  }

  /**
   * Take a send slot for a message that does not go through the outbox (a bot-command reply): waits
   * (on the injected clock) until the chat's interval and the global per-second limit allow it, then
   * counts it against both, so replies and alerts share the same 30 msg/s.
   */
  async acquire(chatId: number, signal?: AbortSignal): Promise<void> {
    const t0 = this.clock.now();
    for (;;) {
      if (signal?.aborted) return;
      const now = this.clock.now();
      const chat = (this.chatNext.get(chatId) ?? -Infinity) - now;
      const wait = chat > 0 ? chat : this.takeGlobal(now);
      if (wait <= 0) {
        this.chatNext.set(chatId, now + this.interval(chatId));
        this.stats.replies++;
        this.stats.replyWaitMs += now - t0;
        return;
      }
      await this.clock.sleep(wait, signal);
    }
  }

  /** Telegram asked this chat to wait (a 429 on a reply): alerts and replies hold off until then. */
  holdChat(chatId: number, until: number): void {
    this.chatNext.set(chatId, Math.max(this.chatNext.get(chatId) ?? 0, until));
    this.wake();
  }

  /** Rows left 'sending' because the outbox could not be updated: recorded as sent (delivered) or back to pending, when it can. */
  private unstick(now: number): boolean {
    for (const [id, messageId] of this.stuck) {
      try {
        if (messageId === undefined) this.queue.retry(id, now, 'outbox update failed', true); else this.queue.ack(id, now, messageId);
        this.stuck.delete(id);
      } catch { return false; }
    }
    return true;
  }

  /** rows waiting for the outbox to take writes again */
  get stuckRows(): number { return this.stuck.size; }

  private async loop(): Promise<void> {
    while (this.running) {
      const now = this.clock.now();
      let nextWake = Infinity;
      if (this.stuck.size && !this.unstick(now)) nextWake = now + 1000;
      if (this.inflight.size < this.opts.concurrency) {
        for (const item of this.queue.heads((c) => this.inflight.has(c))) {
          if (this.inflight.size >= this.opts.concurrency) break;
          if (this.inflight.has(item.chatId)) continue;
          const t = Math.max(item.dueAt, this.chatNext.get(item.chatId) ?? -Infinity);
          if (t > now) { nextWake = Math.min(nextWake, t); continue; }
          if (now - item.createdAt > this.opts.ttlMs) {
            try { this.expire(item, now); } catch { nextWake = Math.min(nextWake, now + 1000); break; } // the outbox takes no writes: later
            continue;
          }
          const g = this.takeGlobal(now);
          if (g > 0) { nextWake = Math.min(nextWake, now + g); break; }
          let claimed: boolean;
          try { claimed = this.queue.claim(item.id); } catch (err) {
            // the outbox takes no writes (a full disk): nothing can be claimed; try again in a second
            if (!this.claimFailing) this.log.error('telegram outbox writes failing; sending waits', { error: err instanceof Error ? err.message : String(err) });
            this.claimFailing = true;
            nextWake = Math.min(nextWake, now + 1000);
            break;
          }
          this.claimFailing = false;
          if (!claimed) continue;
          this.launch(item, now);
        }
      }
      if (!this.running) break;
      const woke = new Promise<void>((r) => { this.wakeFn = r; });
      const ac = new AbortController();
      const waits: Promise<void>[] = [woke];
      if (nextWake !== Infinity) waits.push(this.clock.sleep(Math.max(0, nextWake - now), ac.signal));
      await Promise.race(waits);
      ac.abort();
      this.wakeFn = null;
    }
  }

  private launch(item: OutboundItem, now: number): void {
    const abort = new AbortController();
    this.chatNext.set(item.chatId, now + this.interval(item.chatId));
    // the outbox itself failing (a full disk under ack/retry) must not end the process: log it and put the
    // row back to pending once the outbox takes writes again (at-least-once, as after a crash)
    const promise = this.send(item, abort.signal, now).catch((err: unknown) => {
      if (!this.stuck.has(item.id)) this.stuck.set(item.id, undefined);
      this.log.error('telegram outbox update failed; the row is sent again once the outbox takes writes', { chatId: item.chatId, key: item.key, error: err instanceof Error ? err.message : String(err) });
    }).finally(() => {
      this.inflight.delete(item.chatId);
      this.wake();
      for (const w of this.idleWaiters.splice(0)) w();
    });
    this.inflight.set(item.chatId, { promise, abort });
  }

  private record(item: OutboundItem, outcome: string, at: number): void {
    this.attempts.push({ id: item.id, chatId: item.chatId, key: item.key, at, outcome });
    if (this.attempts.length > this.keepAttempts) this.attempts.shift();
  }

  private async send(item: OutboundItem, signal: AbortSignal, startedAt: number): Promise<void> {
    const base = {
      chat_id: item.chatId,
      ...(item.threadId !== null ? { message_thread_id: item.threadId } : {}),
      ...(item.parseMode ? { parse_mode: item.parseMode } : {}),
      ...(item.silent ? { disable_notification: true } : {}),
    };
    let messageId: number | null;
    try {
      const photo = item.method === 'photo' ? await this.photoOf(item) : null;
      if (item.method === 'photo' && !photo) this.stats.chartErrors++;
      const res = photo
        ? await this.api.sendPhoto({ ...base, caption: item.text, photo: new InputFile(new Uint8Array(photo), { filename: 'chart.png', contentType: 'image/png' }) }, signal)
        : await this.api.sendMessage({ ...base, text: item.text, link_preview_options: { is_disabled: true } }, signal);
      messageId = res.message_id ?? null;
    } catch (err) {
      this.onError(item, err, signal.aborted, startedAt);
      return;
    }
    this.stats.sent++;
    this.record(item, 'sent', startedAt);
    // delivered: a failing outbox here must not send it again, only record it later
    try { this.queue.ack(item.id, this.clock.now(), messageId); } catch (err) { this.stuck.set(item.id, messageId); throw err; }
  }

  /** A row older than ttlMs: dropped with the last error it met. */
  private expire(item: OutboundItem, now: number): void {
    if (!this.queue.claim(item.id)) return;
    const hours = +(this.opts.ttlMs / 3_600_000).toFixed(2);
    const why = `not delivered within ${hours} h${item.error ? ` (last error: ${item.error})` : ''}`;
    this.stats.expired++;
    this.dropRow(item, why, now);
    this.log.error('telegram alert dropped: outlived the outbox time', { chatId: item.chatId, key: item.key, attempts: item.attempts, reason: why });
  }

  private dropRow(item: OutboundItem, why: string, at: number): void {
    this.queue.drop(item.id, this.clock.now(), why);
    this.stats.dropped++;
    this.record(item, `dropped: ${why}`, at);
  }

  private onError(item: OutboundItem, err: unknown, aborted: boolean, at: number): void {
    const now = this.clock.now();
    if (aborted) { this.queue.retry(item.id, now, 'aborted at stop', true); this.record(item, 'aborted', at); return; }
    if (err instanceof TelegramApiError) {
      const d = err.description ?? '';
      if (err.errorCode === 429) {
        const until = now + Math.max(1, err.retryAfter ?? 1) * 1000;
        this.chatNext.set(item.chatId, Math.max(this.chatNext.get(item.chatId) ?? 0, until));
        this.queue.retry(item.id, until, `429 retry_after ${err.retryAfter}`, true);
        this.stats.retried429++;
        this.record(item, `429 retry_after=${err.retryAfter}`, at);
        this.log.warn('telegram 429: waiting retry_after', { chatId: item.chatId, retryAfter: err.retryAfter });
        return;
      }
      const to = err.migrateToChatId;
      if (to !== undefined && to !== item.chatId) {
        this.chats.migrate(item.chatId, to);
        this.queue.migrateChat(item.chatId, to);
        this.queue.retry(item.id, now, `migrated to ${to}`, true);
        this.chatNext.delete(to);
        this.stats.migrations++;
        this.record(item, `migrated to ${to}`, at);
        this.log.info('telegram chat migrated to a supergroup', { from: item.chatId, to });
        return;
      }
      if (item.method === 'photo' && ((err.errorCode === 400 && !/can't parse entities|thread not found|chat not found/i.test(d)) || /rights to send photos/i.test(d))) {
        // not enough rights to send photos, PHOTO_INVALID_DIMENSIONS, IMAGE_PROCESS_FAILED …: the alert still goes out, as text
        this.queue.asText(item.id, now);
        this.queue.retry(item.id, now, telegramErrorText(err), true);
        this.stats.photoFallbacks++;
        this.record(item, `photo refused (${d}): sent as text`, at);
        this.log.warn('telegram refused the chart photo; sending the alert as text', { chatId: item.chatId, key: item.key, reason: d });
        return;
      }
      if (err.errorCode === 403 || /chat not found/i.test(d)) {
        this.chats.disable(item.chatId, d);
        this.dropRow(item, d, at);
        this.queue.dropChat(item.chatId, now, `chat disabled: ${d}`);
        this.stats.disabledChats++;
        this.log.warn('telegram chat disabled', { chatId: item.chatId, reason: d });
        return;
      }
      if (err.errorCode === 400 && /can't parse entities/i.test(d) && item.parseMode) {
        this.queue.rewrite(item.id, stripHtml(item.text), null, item.threadId, now);
        this.queue.retry(item.id, now, d, true);
        this.stats.plainTextFallbacks++;
        this.record(item, 'plain-text fallback', at);
        this.log.error('telegram rejected HTML; resending as plain text', { chatId: item.chatId, key: item.key, reason: d });
        return;
      }
      if (err.errorCode === 400 && /thread not found/i.test(d) && item.threadId !== null) {
        this.queue.rewrite(item.id, item.text, item.parseMode, null, now);
        this.queue.retry(item.id, now, d, true);
        this.chats.update(item.chatId, { threadId: null });
        this.record(item, 'topic gone: resent to the chat', at);
        return;
      }
      if (err.errorCode === 401) {
        this.fatal = 'unauthorized (check the bot token)';
        this.queue.retry(item.id, now + this.opts.backoffMaxMs, d, true);
        this.record(item, '401', at);
        this.log.error('telegram 401 Unauthorized: sender stopped (check the bot token)');
        this.running = false;
        this.wake();
        return;
      }
      if (typeof err.errorCode === 'number' && err.errorCode < 500) { this.dropRow(item, telegramErrorText(err), at); this.log.error('telegram refused a message', { chatId: item.chatId, key: item.key, code: err.errorCode, reason: telegramErrorText(err) }); return; }
    }
    // transient: network error, timeout, 5xx, an answer that is not JSON, an error without a code
    const attempts = item.attempts + 1;
    this.stats.transientErrors++;
    const why = telegramErrorText(err);
    if (attempts >= this.opts.maxAttempts) { this.dropRow(item, `gave up after ${attempts} attempts: ${why}`, at); return; }
    if (now - item.createdAt > this.opts.ttlMs) { this.stats.expired++; this.dropRow(item, `not delivered within ${+(this.opts.ttlMs / 3_600_000).toFixed(2)} h (last error: ${why})`, at); this.log.error('telegram alert dropped: outlived the outbox time', { chatId: item.chatId, key: item.key, attempts, error: why }); return; }
    const wait = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (attempts - 1));
    this.queue.retry(item.id, now + wait, why);
    this.record(item, `transient: ${why}`, at);
    this.log.warn('telegram send failed; will retry', { chatId: item.chatId, attempt: attempts, retryInMs: wait, error: why });
  }
}
