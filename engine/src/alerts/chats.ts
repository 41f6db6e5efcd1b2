/**
 * ChatDirectory: per-chat settings and subscriptions, persisted in the alerts database next to the
 * outbox. A chat is keyed by its Telegram chat id (plus an optional forum topic); it is deactivated on
 * 403 (blocked / kicked) and re-activated by /start; a group → supergroup migration moves it.
 */
import type Database from 'better-sqlite3';
import { ALERT_KINDS, DEFAULT_KINDS, type AlertKind } from './types.js';

export type QuietMode = 'silent' | 'suppress';

/** Quiet hours in a chat's local time (IANA zone); `start` > `end` crosses midnight. */
export interface QuietHours { start: string; end: string; timezone: string; mode: QuietMode }

export interface ChatSettings {
  chatId: number;
  threadId: number | null;
  active: boolean;
  /** minimum rule-mode confidence / bias confidence / warning strength (0–100) */
  minConfidence: number;
  /** minimum trade grade (A+, A, B, C); null = any */
  minGrade: string | null;
  quiet: QuietHours | null;
  /** ms since epoch; non-critical alerts are suppressed before it */
  mutedUntil: number;
  disabledReason: string | null;
}

export interface Subscription { chatId: number; symbol: string; kinds: AlertKind[] }

/** '*' subscribes to every symbol */
export const ALL_SYMBOLS = '*';

interface ChatRow { chat_id: number; thread_id: number | null; active: number; min_confidence: number; min_grade: string | null; quiet: string | null; muted_until: number; disabled_reason: string | null }

const toChat = (r: ChatRow): ChatSettings => ({
  chatId: r.chat_id, threadId: r.thread_id, active: r.active === 1, minConfidence: r.min_confidence, minGrade: r.min_grade,
  quiet: r.quiet ? (JSON.parse(r.quiet) as QuietHours) : null, mutedUntil: r.muted_until, disabledReason: r.disabled_reason,
});

const parseKinds = (s: string): AlertKind[] => s.split(',').filter((k): k is AlertKind => (ALERT_KINDS as readonly string[]).includes(k));

export class ChatDirectory {
  private cache: { chats: Map<number, ChatSettings>; subs: Subscription[] } | null = null;

  constructor(readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS alert_chats (
      chat_id INTEGER PRIMARY KEY, thread_id INTEGER, active INTEGER NOT NULL DEFAULT 1, min_confidence REAL NOT NULL DEFAULT 0,
      min_grade TEXT, quiet TEXT, muted_until INTEGER NOT NULL DEFAULT 0, disabled_reason TEXT);
      CREATE TABLE IF NOT EXISTS alert_subs (chat_id INTEGER NOT NULL, symbol TEXT NOT NULL, kinds TEXT NOT NULL, PRIMARY KEY (chat_id, symbol));`);
  }

  private load(): { chats: Map<number, ChatSettings>; subs: Subscription[] } {
    if (!this.cache) {
      const chats = new Map<number, ChatSettings>();
      for (const r of this.db.prepare('SELECT * FROM alert_chats').all() as ChatRow[]) chats.set(r.chat_id, toChat(r));
      const subs = (this.db.prepare('SELECT * FROM alert_subs ORDER BY chat_id, symbol').all() as { chat_id: number; symbol: string; kinds: string }[])
        .map((r) => ({ chatId: r.chat_id, symbol: r.symbol, kinds: parseKinds(r.kinds) }));
      this.cache = { chats, subs };
    }
    return this.cache;
  }

  private changed(): void { this.cache = null; }

  /** Create the chat when unknown (active); returns its settings. Does not change an existing chat. */
  ensure(chatId: number, defaults: Partial<Omit<ChatSettings, 'chatId'>> = {}): ChatSettings {
    const existing = this.get(chatId);
    if (existing) return existing;
    this.db.prepare('INSERT OR IGNORE INTO alert_chats (chat_id, thread_id, active, min_confidence, min_grade, quiet, muted_until) VALUES (?, ?, 1, ?, ?, ?, 0)')
      .run(chatId, defaults.threadId ?? null, defaults.minConfidence ?? 0, defaults.minGrade ?? null, defaults.quiet ? JSON.stringify(defaults.quiet) : null);
    this.changed();
    return this.get(chatId)!;
  }

  get(chatId: number): ChatSettings | undefined { return this.load().chats.get(chatId); }
  all(): ChatSettings[] { return [...this.load().chats.values()]; }
  subscriptions(chatId?: number): Subscription[] { const s = this.load().subs; return chatId === undefined ? s : s.filter((x) => x.chatId === chatId); }

  /** Add or replace a subscription (kinds default to DEFAULT_KINDS). */
  subscribe(chatId: number, symbol: string, kinds: readonly AlertKind[] = DEFAULT_KINDS): void {
    this.ensure(chatId);
    this.db.prepare('INSERT INTO alert_subs (chat_id, symbol, kinds) VALUES (?, ?, ?) ON CONFLICT (chat_id, symbol) DO UPDATE SET kinds = excluded.kinds').run(chatId, symbol, kinds.join(','));
    this.changed();
  }

  /** Add a subscription only when the chat has none for that symbol (configured default recipients). */
  subscribeIfAbsent(chatId: number, symbol: string, kinds: readonly AlertKind[] = DEFAULT_KINDS): void {
    this.ensure(chatId);
    this.db.prepare('INSERT OR IGNORE INTO alert_subs (chat_id, symbol, kinds) VALUES (?, ?, ?)').run(chatId, symbol, kinds.join(','));
    this.changed();
  }

  /** Remove one symbol's subscription, or all of the chat's when symbol is omitted; returns how many. */
  unsubscribe(chatId: number, symbol?: string): number {
    const r = symbol === undefined ? this.db.prepare('DELETE FROM alert_subs WHERE chat_id = ?').run(chatId) : this.db.prepare('DELETE FROM alert_subs WHERE chat_id = ? AND symbol = ?').run(chatId, symbol);
    this.changed();
    return r.changes;
  }

  update(chatId: number, patch: Partial<Omit<ChatSettings, 'chatId'>>): void {
    this.ensure(chatId);
    const cur = this.get(chatId)!;
    const n = { ...cur, ...patch };
    this.db.prepare('UPDATE alert_chats SET thread_id = ?, active = ?, min_confidence = ?, min_grade = ?, quiet = ?, muted_until = ?, disabled_reason = ? WHERE chat_id = ?')
      .run(n.threadId, n.active ? 1 : 0, n.minConfidence, n.minGrade, n.quiet ? JSON.stringify(n.quiet) : null, n.mutedUntil, n.disabledReason, chatId);
    this.changed();
  }

  disable(chatId: number, reason: string): void { this.update(chatId, { active: false, disabledReason: reason }); }
  enable(chatId: number): void { this.update(chatId, { active: true, disabledReason: null }); }

  /** Group → supergroup: settings and subscriptions move to the new id (the new id wins on conflict). */
  migrate(from: number, to: number): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE OR IGNORE alert_chats SET chat_id = ? WHERE chat_id = ?').run(to, from);
      this.db.prepare('DELETE FROM alert_chats WHERE chat_id = ?').run(from);
      this.db.prepare('UPDATE OR IGNORE alert_subs SET chat_id = ? WHERE chat_id = ?').run(to, from);
      this.db.prepare('DELETE FROM alert_subs WHERE chat_id = ?').run(from);
    })();
    this.changed();
  }
}
