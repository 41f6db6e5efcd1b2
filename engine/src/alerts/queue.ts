/**
 * OutboundQueue: the persistent outbox of Telegram messages, one SQLite table in the alerts database.
 * A row is one Bot API call (a text part or a photo with caption). Rows are unique per (chat, dedup
 * key), so the same alert part is never queued twice for a chat, across restarts too; delivered rows
 * stay (status 'sent') as dedup history until pruned. Per chat, rows go out strictly in id order.
 * Bounded: at most `maxPending` rows wait; beyond that the lowest-priority oldest row is dropped.
 * A photo row holds either the PNG or, usually, only what to draw (`chart`): the sender renders it when
 * the row is sent, so a backlog (a stalled Bot API) costs no drawing and no image bytes on disk.
 */
import Database from 'better-sqlite3';
import type { SnapshotRequest } from './chart.js';

/** What to draw for a photo row at send time: the instrument's footprint + profile up to `at`, with the alert's levels and marker. */
export interface ChartSpec extends Pick<SnapshotRequest, 'at' | 'timeframe' | 'profileSession' | 'levels' | 'marker'> { symbol: string }

export type QueueStatus = 'pending' | 'sending' | 'sent' | 'dropped';

export interface OutboundItem {
  id: number;
  chatId: number;
  threadId: number | null;
  key: string;
  kind: string;
  symbol: string;
  /** 2 critical, 1 normal, 0 low */
  priority: number;
  method: 'message' | 'photo';
  text: string;
  parseMode: 'HTML' | null;
  photo: Buffer | null;
  /** drawn when sent (photo rows without `photo`) */
  chart: ChartSpec | null;
  silent: boolean;
  status: QueueStatus;
  attempts: number;
  dueAt: number;
  createdAt: number;
  /** why the last attempt failed (null before a failure) */
  error: string | null;
}

/** A row to queue: the item's content; thread, parse mode (default HTML), picture and silence optional. */
export interface NewItem extends Pick<OutboundItem, 'chatId' | 'key' | 'kind' | 'symbol' | 'priority' | 'method' | 'text'>,
  Partial<Pick<OutboundItem, 'threadId' | 'parseMode' | 'chart' | 'silent'>> {
  photo?: Uint8Array | null;
}

interface Row {
  id: number; chat_id: number; thread_id: number | null; dedup_key: string; kind: string; symbol: string; priority: number; method: string;
  text: string; parse_mode: string | null; photo: Buffer | null; chart: string | null; silent: number; status: string; attempts: number; due_at: number; created_at: number;
  error: string | null;
}

const toItem = (r: Row): OutboundItem => ({
  id: r.id, chatId: r.chat_id, threadId: r.thread_id, key: r.dedup_key, kind: r.kind, symbol: r.symbol, priority: r.priority, method: r.method === 'photo' ? 'photo' : 'message',
  text: r.text, parseMode: r.parse_mode === 'HTML' ? 'HTML' : null, photo: r.photo, chart: r.chart ? (JSON.parse(r.chart) as ChartSpec) : null, silent: r.silent === 1, status: r.status as QueueStatus, attempts: r.attempts, dueAt: r.due_at, createdAt: r.created_at, error: r.error ?? null,
});

export interface QueueStats { pending: number; sending: number; sent: number; dropped: number; overflowDrops: number; duplicates: number }

export function openAlertDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 2000');
  return db;
}

export class OutboundQueue {
  overflowDrops = 0;
  duplicates = 0;
  private readonly st: {
    insert: Database.Statement; heads: Database.Statement; mark: Database.Statement; ack: Database.Statement; retry: Database.Statement;
    drop: Database.Statement; dropChat: Database.Statement; pendingCount: Database.Statement; victim: Database.Statement; nextDue: Database.Statement;
    byStatus: Database.Statement; has: Database.Statement; recover: Database.Statement; prune: Database.Statement; rewrite: Database.Statement; asText: Database.Statement;
  };
  /** chats that may have open rows (a superset; pruned lazily by heads()) */
  private readonly open = new Set<number>();
  /** rows pending or sending (kept in memory: counted once at open) */
  private openCount = 0;

  constructor(readonly db: Database.Database, readonly maxPending = 10_000) {
    db.exec(`CREATE TABLE IF NOT EXISTS alert_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      chat_id INTEGER NOT NULL, thread_id INTEGER, dedup_key TEXT NOT NULL, kind TEXT NOT NULL, symbol TEXT NOT NULL,
      priority INTEGER NOT NULL, method TEXT NOT NULL, text TEXT NOT NULL, parse_mode TEXT, photo BLOB, silent INTEGER NOT NULL DEFAULT 0,
      status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL, created_at INTEGER NOT NULL,
      done_at INTEGER, message_id INTEGER, error TEXT, chart TEXT,
      UNIQUE (chat_id, dedup_key));
      CREATE INDEX IF NOT EXISTS alert_outbox_status ON alert_outbox (status, priority, id);
      CREATE INDEX IF NOT EXISTS alert_outbox_open ON alert_outbox (chat_id, id) WHERE status IN ('pending','sending');`);
    // outboxes written before charts were drawn at send time lack the column
    if (!(db.prepare('PRAGMA table_info(alert_outbox)').all() as { name: string }[]).some((c) => c.name === 'chart')) db.exec('ALTER TABLE alert_outbox ADD COLUMN chart TEXT');
    this.st = {
      insert: db.prepare(`INSERT OR IGNORE INTO alert_outbox (chat_id, thread_id, dedup_key, kind, symbol, priority, method, text, parse_mode, photo, chart, silent, due_at, created_at)
        VALUES (@chatId, @threadId, @key, @kind, @symbol, @priority, @method, @text, @parseMode, @photo, @chart, @silent, @now, @now)`),
      // the oldest open row of one chat (per-chat FIFO)
      heads: db.prepare(`SELECT * FROM alert_outbox WHERE chat_id = ? AND status IN ('pending','sending') ORDER BY id LIMIT 1`),
      mark: db.prepare(`UPDATE alert_outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ? AND status = 'pending'`),
      ack: db.prepare(`UPDATE alert_outbox SET status = 'sent', done_at = ?, message_id = ?, photo = NULL, error = NULL WHERE id = ? AND status IN ('pending','sending')`),
      retry: db.prepare(`UPDATE alert_outbox SET status = 'pending', due_at = ?, attempts = attempts - ?, error = ? WHERE id = ?`),
      drop: db.prepare(`UPDATE alert_outbox SET status = 'dropped', done_at = ?, photo = NULL, error = ? WHERE id = ? AND status IN ('pending','sending')`),
      dropChat: db.prepare(`UPDATE alert_outbox SET status = 'dropped', done_at = ?, photo = NULL, error = ? WHERE chat_id = ? AND status = 'pending'`),
      pendingCount: db.prepare(`SELECT COUNT(*) AS n FROM alert_outbox WHERE status IN ('pending','sending')`),
      victim: db.prepare(`SELECT id FROM alert_outbox WHERE status = 'pending' AND priority <= ? ORDER BY priority ASC, id ASC LIMIT 1`),
      nextDue: db.prepare(`SELECT MIN(due_at) AS t FROM alert_outbox WHERE status = 'pending'`),
      byStatus: db.prepare(`SELECT status, COUNT(*) AS n FROM alert_outbox GROUP BY status`),
      has: db.prepare(`SELECT 1 FROM alert_outbox WHERE chat_id = ? AND dedup_key = ?`),
      recover: db.prepare(`UPDATE alert_outbox SET status = 'pending' WHERE status = 'sending'`),
      prune: db.prepare(`DELETE FROM alert_outbox WHERE status IN ('sent','dropped') AND done_at < ?`),
      rewrite: db.prepare(`UPDATE alert_outbox SET text = ?, parse_mode = ?, thread_id = ?, due_at = ? WHERE id = ?`),
      asText: db.prepare(`UPDATE alert_outbox SET method = 'message', photo = NULL, chart = NULL, due_at = ? WHERE id = ?`),
    };
    // a row left 'sending' by a crash may or may not have reached Telegram: send it again (at-least-once)
    this.st.recover.run();
    this.recount();
  }

  /** Re-read the open rows from the table (after a transaction that added rows rolled back). */
  resync(): void { this.open.clear(); this.recount(); }

  private recount(): void {
    this.openCount = (this.st.pendingCount.get() as { n: number }).n;
    for (const r of this.db.prepare(`SELECT DISTINCT chat_id FROM alert_outbox WHERE status IN ('pending','sending')`).all() as { chat_id: number }[]) this.open.add(r.chat_id);
  }

  /**
   * Queue rows (in one transaction, in order). Returns the ids of the rows actually added: a row whose
   * (chat, key) exists already is skipped (dedup), and when the queue is full the lowest-priority oldest
   * pending row is dropped to make room (or the new row itself when everything waiting is more urgent).
   */
  enqueue(items: NewItem[], now: number): number[] {
    const ids: number[] = [];
    this.db.transaction(() => {
      for (const it of items) {
        const r = this.st.insert.run({
          chatId: it.chatId, threadId: it.threadId ?? null, key: it.key, kind: it.kind, symbol: it.symbol, priority: it.priority, method: it.method,
          text: it.text, parseMode: it.parseMode === undefined ? 'HTML' : it.parseMode, photo: it.photo ? Buffer.from(it.photo.buffer, it.photo.byteOffset, it.photo.byteLength) : null,
          chart: it.chart ? JSON.stringify(it.chart) : null, silent: it.silent ? 1 : 0, now,
        });
        if (!r.changes) { this.duplicates++; continue; } // (chat, key) queued before: dedup
        const id = Number(r.lastInsertRowid);
        this.openCount++;
        this.open.add(it.chatId);
        if (this.openCount > this.maxPending) {
          // full: the lowest-priority oldest pending row goes, which is the new row itself when everything else is more urgent
          this.overflowDrops++;
          const v = this.st.victim.get(it.priority) as { id: number } | undefined;
          this.st.drop.run(now, 'queue full', v?.id ?? id);
          this.openCount--;
          if (!v || v.id === id) continue;
        }
        ids.push(id);
      }
    })();
    return ids;
  }

  /** True when this chat already has (or had) this key queued. */
  has(chatId: number, key: string): boolean { return !!this.st.has.get(chatId, key); }

  /** Heads of the per-chat queues (pending, not in flight), most urgent first; `skip` excludes chats (those in flight). */
  heads(skip: (chatId: number) => boolean = () => false): OutboundItem[] {
    const out: OutboundItem[] = [];
    for (const chat of this.open) {
      if (skip(chat)) continue;
      const r = this.st.heads.get(chat) as Row | undefined;
      if (!r) { this.open.delete(chat); continue; }
      if (r.status === 'pending') out.push(toItem(r));
    }
    return out.sort((a, b) => b.priority - a.priority || a.id - b.id);
  }

  /** Claim a row for sending; false when it is no longer pending. */
  claim(id: number): boolean { return this.st.mark.run(id).changes === 1; }

  ack(id: number, now: number, messageId: number | null): void { if (this.st.ack.run(now, messageId, id).changes) this.openCount--; }

  /** Back to pending, due at `dueAt`; `refund` gives the attempt back (429 waits are not failures). */
  retry(id: number, dueAt: number, error: string, refund = false): void { this.st.retry.run(dueAt, refund ? 1 : 0, error, id); }

  drop(id: number, now: number, error: string): void { if (this.st.drop.run(now, error, id).changes) this.openCount--; }

  dropChat(chatId: number, now: number, error: string): number { const n = this.st.dropChat.run(now, error, chatId).changes; this.openCount -= n; return n; }

  /** Change a row's text / parse mode / thread (plain-text fallback, deleted topic) and make it due. */
  rewrite(id: number, text: string, parseMode: 'HTML' | null, threadId: number | null, dueAt: number): void { this.st.rewrite.run(text, parseMode, threadId, dueAt, id); }

  /** A photo row Telegram refused becomes a text message (its caption) and is due at `dueAt`. */
  asText(id: number, dueAt: number): void { this.st.asText.run(dueAt, id); }

  /** Move every row of a chat to its new id (group → supergroup migration); dedup history included. */
  migrateChat(from: number, to: number): void {
    this.db.transaction(() => {
      this.db.prepare(`UPDATE OR IGNORE alert_outbox SET chat_id = ? WHERE chat_id = ?`).run(to, from);
      this.db.prepare(`DELETE FROM alert_outbox WHERE chat_id = ?`).run(from);
    })();
    this.open.delete(from);
    this.recount();
  }

  /** Earliest due time of a pending row (null when nothing waits). */
  nextDue(): number | null { return (this.st.nextDue.get() as { t: number | null }).t; }

  /** rows waiting or in flight */
  pendingCount(): number { return this.openCount; }

  /** Forget delivered/dropped rows finished before `before` (their dedup protection ends). */
  prune(before: number): number { return this.st.prune.run(before).changes; }

  stats(): QueueStats {
    const s: QueueStats = { pending: 0, sending: 0, sent: 0, dropped: 0, overflowDrops: this.overflowDrops, duplicates: this.duplicates };
    for (const r of this.st.byStatus.all() as { status: QueueStatus; n: number }[]) s[r.status] = r.n;
    return s;
  }

  /** All rows of a chat (tests, /status). */
  rows(chatId?: number): OutboundItem[] {
    const rows = chatId === undefined ? this.db.prepare('SELECT * FROM alert_outbox ORDER BY id').all() : this.db.prepare('SELECT * FROM alert_outbox WHERE chat_id = ? ORDER BY id').all(chatId);
    return (rows as Row[]).map(toItem);
  }
}
