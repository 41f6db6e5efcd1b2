/**
 * SQLite-backed TickSink (better-sqlite3): one `mt5_ticks` table keyed by (feed, sym, ms, ord) with
 * INSERT OR IGNORE, so replays after a reconnect and overlapping backfills are merged exactly once.
 * A batch is one transaction; `append` resolves after the commit. WAL + synchronous=FULL by default
 * (durable across power loss); NORMAL survives a process crash and is faster.
 * The project store (engine/src/store) can replace this once it exposes an equivalent append.
 */
import Database from 'better-sqlite3';
import type { BridgeTick, TickCursor, TickSink } from './sink.js';

export interface SqliteTickSinkOptions {
  synchronous?: 'FULL' | 'NORMAL';
}

const SIDE: Record<string, number> = { buy: 1, sell: -1, unknown: 0 };

export class SqliteTickSink implements TickSink {
  readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly last: Database.Statement;
  private readonly tx: (ticks: readonly BridgeTick[]) => void;

  constructor(path: string, opts: SqliteTickSinkOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS mt5_ticks (
      feed TEXT NOT NULL, sym TEXT NOT NULL, ms INTEGER NOT NULL, ord INTEGER NOT NULL,
      instrument TEXT NOT NULL, utc_ms INTEGER NOT NULL,
      bid INTEGER, ask INTEGER, last INTEGER, vol INTEGER NOT NULL, flags INTEGER NOT NULL,
      side INTEGER NOT NULL, side_source TEXT NOT NULL, live INTEGER NOT NULL,
      PRIMARY KEY (feed, sym, ms, ord)) WITHOUT ROWID`);
    this.insert = this.db.prepare('INSERT OR IGNORE INTO mt5_ticks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)');
    this.last = this.db.prepare('SELECT ms, ord FROM mt5_ticks WHERE feed = ? AND sym = ? ORDER BY ms DESC, ord DESC LIMIT 1');
    const n = (x: number): number | null => (x === x ? x : null);
    this.tx = this.db.transaction((ticks: readonly BridgeTick[]) => {
      for (const t of ticks) {
        this.insert.run(t.feed, t.sym, t.ms, t.ord, t.instrument, t.utcMs, n(t.bid), n(t.ask), n(t.last), t.vol, t.flags, SIDE[t.side] ?? 0, t.sideSource, t.live ? 1 : 0);
      }
    });
  }

  async append(ticks: readonly BridgeTick[]): Promise<void> {
    if (ticks.length) this.tx(ticks);
  }

  async cursor(feed: string, sym: string): Promise<TickCursor | null> {
    const r = this.last.get(feed, sym) as { ms: number; ord: number } | undefined;
    return r ? { ms: r.ms, ord: r.ord } : null;
  }

  count(feed?: string, sym?: string): number {
    const r = feed === undefined
      ? this.db.prepare('SELECT COUNT(*) AS n FROM mt5_ticks').get()
      : this.db.prepare('SELECT COUNT(*) AS n FROM mt5_ticks WHERE feed = ? AND sym = ?').get(feed, sym);
    return (r as { n: number }).n;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
