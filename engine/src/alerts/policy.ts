/**
 * DeliveryPolicy: which chats get an alert, and how.
 *  - subscriptions: the chat subscribes to the symbol (or '*') with the alert's kind, and is active;
 *  - thresholds: trade alerts need grade >= the chat's minGrade; rule-mode, daily-bias and sweep alerts
 *    need confidence/strength >= the chat's minConfidence;
 *  - cooldown: per (chat, symbol, kind[, direction]) in event time, persisted (defaults: rule 5 min,
 *    exit warning 5 min, sweep 2 min, trade lifecycle none). Dedup itself is the outbox's (chat, key);
 *  - mute and quiet hours: non-critical alerts are suppressed while muted; inside quiet hours they are
 *    delivered silently (disable_notification) or suppressed, per chat. Exits (stop hits included) bypass
 *    mute, quiet hours and cooldown.
 */
import type Database from 'better-sqlite3';
import { ALL_SYMBOLS, type ChatDirectory, type ChatSettings, type QuietHours } from './chats.js';
import { ALERT_KINDS, gradeRank, isCritical, type AlertKind, type AlertPayload } from './types.js';

export const DEFAULT_COOLDOWN_MS: Record<AlertKind, number> = {
  entry: 0, break_even: 0, trail: 0, exit: 0, exit_warning: 300_000, daily_bias: 0, rule: 300_000, sweep: 120_000, pcr: 300_000,
};

export interface PolicyOptions {
  cooldownMs: Partial<Record<AlertKind, number>>;
  /** kinds switched on globally */
  kinds: readonly AlertKind[];
}

export interface Delivery { chatId: number; threadId: number | null; silent: boolean }
export interface Skip { chatId: number; reason: string }

const fmtCache = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight in `timeZone` (IANA), from the runtime's Intl data. */
export function localMinutes(ts: number, timeZone: string): number {
  let f = fmtCache.get(timeZone);
  if (!f) { f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }); fmtCache.set(timeZone, f); }
  const parts = f.formatToParts(new Date(ts));
  const h = Number(parts.find((p) => p.type === 'hour')?.value ?? 0), m = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return (h % 24) * 60 + m;
}

export function parseHm(s: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59) throw new Error(`bad time "${s}", expected HH:MM`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** True when `ts` falls inside the quiet window [start, end) (crossing midnight when start > end). */
export function inQuietHours(ts: number, q: QuietHours | null): boolean {
  if (!q) return false;
  const s = parseHm(q.start), e = parseHm(q.end);
  if (s === e) return false;
  const t = localMinutes(ts, q.timezone);
  return s < e ? t >= s && t < e : t >= s || t < e;
}

export function cooldownKey(a: AlertPayload): string {
  return a.kind === 'rule' ? `rule:${a.symbol}:${a.signal}` : `${a.kind}:${a.symbol}`;
}

function passesThreshold(a: AlertPayload, c: ChatSettings): boolean {
  switch (a.kind) {
    case 'entry': case 'break_even': case 'trail': case 'exit': case 'exit_warning':
      return c.minGrade === null || gradeRank(a.grade) <= gradeRank(c.minGrade);
    case 'rule': case 'daily_bias': return a.confidence >= c.minConfidence;
    case 'sweep': return a.strength >= c.minConfidence;
    case 'pcr': return true;
  }
}

export class DeliveryPolicy {
  readonly opts: PolicyOptions;
  private readonly getCd: Database.Statement;
  private readonly setCd: Database.Statement;
  /** cooldown starts by `${chatId}|${key}` (read-through cache; written by flush) */
  private readonly cd = new Map<string, number>();
  private readonly dirty = new Set<string>();

  constructor(readonly chats: ChatDirectory, db: Database.Database, opts: Partial<PolicyOptions> = {}) {
    this.opts = { cooldownMs: { ...DEFAULT_COOLDOWN_MS, ...opts.cooldownMs }, kinds: opts.kinds ?? ALERT_KINDS };
    db.exec('CREATE TABLE IF NOT EXISTS alert_cooldowns (chat_id INTEGER NOT NULL, ckey TEXT NOT NULL, last_ts INTEGER NOT NULL, PRIMARY KEY (chat_id, ckey))');
    this.getCd = db.prepare('SELECT last_ts FROM alert_cooldowns WHERE chat_id = ? AND ckey = ?');
    this.setCd = db.prepare('INSERT INTO alert_cooldowns (chat_id, ckey, last_ts) VALUES (?, ?, ?) ON CONFLICT (chat_id, ckey) DO UPDATE SET last_ts = excluded.last_ts');
  }

  /**
   * Route one alert at wall-clock `now` (mute and quiet hours are wall-clock; cooldowns use the event
   * time, so a replay decides the same way). Does not record anything: call `commit` for the deliveries
   * actually queued.
   */
  route(a: AlertPayload, now: number): { deliveries: Delivery[]; skipped: Skip[] } {
    const deliveries: Delivery[] = [], skipped: Skip[] = [];
    if (!this.opts.kinds.includes(a.kind)) return { deliveries, skipped };
    const critical = isCritical(a);
    const subs = this.chats.subscriptions();
    const byChat = new Map<number, Set<AlertKind>>();
    for (const s of subs) {
      if (s.symbol !== ALL_SYMBOLS && s.symbol !== a.symbol) continue;
      let k = byChat.get(s.chatId);
      if (!k) { k = new Set(); byChat.set(s.chatId, k); }
      for (const x of s.kinds) k.add(x);
    }
    for (const [chatId, kinds] of byChat) {
      const c = this.chats.get(chatId);
      if (!c || !c.active) { skipped.push({ chatId, reason: 'inactive' }); continue; }
      if (!kinds.has(a.kind)) { skipped.push({ chatId, reason: 'kind' }); continue; }
      if (!passesThreshold(a, c)) { skipped.push({ chatId, reason: 'threshold' }); continue; }
      let silent = false;
      if (!critical) {
        if (c.mutedUntil > now) { skipped.push({ chatId, reason: 'muted' }); continue; }
        const cd = this.opts.cooldownMs[a.kind] ?? 0;
        if (cd > 0) {
          const last = this.lastCooldown(chatId, cooldownKey(a));
          if (last !== undefined && a.ts - last < cd && a.ts >= last) { skipped.push({ chatId, reason: 'cooldown' }); continue; }
        }
        if (inQuietHours(now, c.quiet)) {
          if (c.quiet!.mode === 'suppress') { skipped.push({ chatId, reason: 'quiet' }); continue; }
          silent = true;
        }
      }
      deliveries.push({ chatId, threadId: c.threadId, silent });
    }
    return { deliveries, skipped };
  }

  private lastCooldown(chatId: number, key: string): number | undefined {
    const k = `${chatId}|${key}`;
    let v = this.cd.get(k);
    if (v === undefined) {
      v = (this.getCd.get(chatId, key) as { last_ts: number } | undefined)?.last_ts;
      if (v !== undefined) this.cd.set(k, v);
    }
    return v;
  }

  /** Record the cooldown start for a chat that was sent this alert (in memory now; `flush` persists it). */
  commit(a: AlertPayload, chatId: number): void {
    if ((this.opts.cooldownMs[a.kind] ?? 0) <= 0) return;
    const k = `${chatId}|${cooldownKey(a)}`;
    this.cd.set(k, a.ts);
    this.dirty.add(k);
    if (this.cd.size > 50_000) { for (const key of this.cd.keys()) { if (!this.dirty.has(key)) this.cd.delete(key); if (this.cd.size <= 25_000) break; } }
  }

  /** Persist committed cooldowns (call inside the transaction that queues the messages). */
  flush(): void {
    for (const k of this.dirty) {
      const i = k.indexOf('|');
      this.setCd.run(Number(k.slice(0, i)), k.slice(i + 1), this.cd.get(k)!);
    }
    this.dirty.clear();
  }
}
