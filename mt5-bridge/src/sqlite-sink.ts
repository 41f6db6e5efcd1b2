/**
 * SQLite-backed TickSink (better-sqlite3).
 *
 * Layout (all keys are integers):
 * - `mt5_series (id, feed, sym, instrument)`: one row per (feed, broker symbol); `id` is the series id.
 * - `mt5_tick (sid, ms, ord, …) WITHOUT ROWID`, primary key (sid, ms, ord): the tick rows are the
 *   b-tree itself (no second index), and the key compares three integers instead of two long strings.
 *   `ON CONFLICT (sid, ms, ord) DO NOTHING` on that key is the exactly-once merge of reconnect replays
 *   and overlapping backfills (unlike `INSERT OR IGNORE` it does not also swallow a NOT NULL violation,
 *   which would drop a tick silently and still ack it: such an append fails whole instead).
 *   `cursor()` is one descending seek on the key.
 * - `mt5_ticks`: a view with the original wide columns (feed, sym, …, utc_ms, side_source text).
 *   A database written by the earlier one-table layout is migrated on open.
 *
 * Writes: one transaction per `append` (resolves after the commit); rows are bound through multi-row
 * `INSERT … VALUES (…),(…)… ON CONFLICT DO NOTHING` statements prepared once for chunks of 256, 32, 4 and 1 rows,
 * staged into one reused flat parameter array (no per-tick arrays or objects on the write path).
 *
 * Durability: WAL always. `synchronous=FULL` (default) fsyncs the WAL at every commit, so an acked
 * tick survives power loss. `NORMAL` survives a crash of the process (the commit is in the OS before
 * `append` resolves) but the last commits before a power loss / OS crash may be rolled back; the
 * database stays consistent, `cursor()` then reports the older position and the EA replays from it.
 */
import Database from 'better-sqlite3';
import { SIDE_SOURCES, SIDE_SOURCE_INDEX, type SideSource } from '../../engine/src/core/events.js';
import type { BridgeTick, TickCursor, TickSink } from './sink.js';

export interface SqliteTickSinkOptions {
  synchronous?: 'FULL' | 'NORMAL';
}

const SIDE: Record<string, number> = { buy: 1, sell: -1, unknown: 0 };
/** columns bound per row: sid, ms, ord, utc_off_ms, bid, ask, last, vol, flags, side, side_source, live */
const COLS = 12;
/** multi-row statement sizes, largest first; the last must be 1 */
const CHUNKS = [256, 32, 4, 1] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS mt5_series (
  id INTEGER PRIMARY KEY, feed TEXT NOT NULL, sym TEXT NOT NULL, instrument TEXT NOT NULL,
  UNIQUE (feed, sym));
CREATE TABLE IF NOT EXISTS mt5_tick (
  sid INTEGER NOT NULL, ms INTEGER NOT NULL, ord INTEGER NOT NULL,
  utc_off_ms INTEGER NOT NULL, bid INTEGER, ask INTEGER, last INTEGER, vol INTEGER NOT NULL,
  flags INTEGER NOT NULL, side INTEGER NOT NULL, side_source INTEGER NOT NULL, live INTEGER NOT NULL,
  PRIMARY KEY (sid, ms, ord)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mt5_offset (
  feed TEXT NOT NULL, at_ms INTEGER NOT NULL, off_s INTEGER NOT NULL, PRIMARY KEY (feed, at_ms));`;

const sideSourceSql = (col: string): string =>
  `CASE ${col} ${SIDE_SOURCES.map((s) => `WHEN ${SIDE_SOURCE_INDEX[s]} THEN '${s}'`).join(' ')} END`;
const sideSourceCodeSql = (col: string): string =>
  `CASE ${col} ${SIDE_SOURCES.map((s) => `WHEN '${s}' THEN ${SIDE_SOURCE_INDEX[s]}`).join(' ')} ELSE ${SIDE_SOURCE_INDEX.none} END`;

const VIEW = `CREATE VIEW IF NOT EXISTS mt5_ticks AS
  SELECT s.feed AS feed, s.sym AS sym, t.ms AS ms, t.ord AS ord, s.instrument AS instrument,
    t.ms - t.utc_off_ms AS utc_ms, t.bid AS bid, t.ask AS ask, t.last AS last, t.vol AS vol, t.flags AS flags,
    t.side AS side, ${sideSourceSql('t.side_source')} AS side_source, t.live AS live
  FROM mt5_tick t JOIN mt5_series s ON s.id = t.sid`;

interface Series { id: number; instrument: string }

export class SqliteTickSink implements TickSink {
  readonly db: Database.Database;
  private readonly inserts: { rows: number; stmt: Database.Statement; params: unknown[] }[];
  private readonly last: Database.Statement;
  private readonly seriesGet: Database.Statement;
  private readonly seriesAdd: Database.Statement;
  private readonly seriesInst: Database.Statement;
  private readonly countAll: Database.Statement;
  private readonly countOne: Database.Statement;
  private readonly series = new Map<string, Series>();
  private readonly tx: (ticks: readonly BridgeTick[], sids: Int32Array) => void;
  private sids = new Int32Array(1024);

  constructor(path: string, opts: SqliteTickSinkOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.db.transaction(() => {
      this.db.exec(SCHEMA);
      const legacy = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mt5_ticks'`).get();
      if (legacy) this.migrateLegacy();
      this.db.exec(VIEW);
    })();
    const row = '(' + new Array(COLS).fill('?').join(',') + ')';
    this.inserts = CHUNKS.map((rows) => ({
      rows,
      stmt: this.db.prepare('INSERT INTO mt5_tick VALUES ' + new Array(rows).fill(row).join(',') + ' ON CONFLICT (sid, ms, ord) DO NOTHING'),
      params: new Array<unknown>(rows * COLS).fill(null),
    }));
    this.last = this.db.prepare(`SELECT t.ms AS ms, t.ord AS ord FROM mt5_tick t
      WHERE t.sid = (SELECT id FROM mt5_series WHERE feed = ? AND sym = ?) ORDER BY t.ms DESC, t.ord DESC LIMIT 1`);
    this.seriesGet = this.db.prepare('SELECT id, instrument FROM mt5_series WHERE feed = ? AND sym = ?');
    this.seriesAdd = this.db.prepare('INSERT INTO mt5_series (feed, sym, instrument) VALUES (?, ?, ?) RETURNING id');
    this.seriesInst = this.db.prepare('UPDATE mt5_series SET instrument = ? WHERE id = ?');
    this.countAll = this.db.prepare('SELECT COUNT(*) AS n FROM mt5_tick');
    this.countOne = this.db.prepare('SELECT COUNT(*) AS n FROM mt5_tick WHERE sid = (SELECT id FROM mt5_series WHERE feed = ? AND sym = ?)');
    this.tx = this.db.transaction((ticks: readonly BridgeTick[], sids: Int32Array) => this.write(ticks, sids));
  }

  /** One-table layout of earlier versions → series + integer-keyed ticks (inside the open transaction). */
  private migrateLegacy(): void {
    this.db.exec(`INSERT OR IGNORE INTO mt5_series (feed, sym, instrument)
      SELECT feed, sym, MAX(instrument) FROM mt5_ticks GROUP BY feed, sym`);
    this.db.exec(`INSERT OR IGNORE INTO mt5_tick
      SELECT s.id, o.ms, o.ord, o.ms - o.utc_ms, o.bid, o.ask, o.last, o.vol, o.flags, o.side, ${sideSourceCodeSql('o.side_source')}, o.live
      FROM mt5_ticks o JOIN mt5_series s ON s.feed = o.feed AND s.sym = o.sym`);
    this.db.exec('DROP TABLE mt5_ticks');
  }

  /** Series id of (feed, sym), created on first sight (outside the tick transaction, so a failed append never leaves a cached id that was rolled back). */
  private seriesOf(t: BridgeTick): number {
    const key = t.feed + '\u0000' + t.sym;
    let s = this.series.get(key);
    if (!s) {
      const r = this.seriesGet.get(t.feed, t.sym) as { id: number; instrument: string } | undefined;
      s = r ?? { id: (this.seriesAdd.get(t.feed, t.sym, t.instrument) as { id: number }).id, instrument: t.instrument };
      this.series.set(key, s);
    }
    if (s.instrument !== t.instrument) {
      this.seriesInst.run(t.instrument, s.id);
      s.instrument = t.instrument;
    }
    return s.id;
  }

  private write(ticks: readonly BridgeTick[], sids: Int32Array): void {
    const n = ticks.length;
    let i = 0;
    for (const ins of this.inserts) {
      const { rows, stmt, params: p } = ins;
      while (n - i >= rows) {
        let j = 0;
        for (let r = 0; r < rows; r++, i++) {
          const t = ticks[i];
          p[j++] = sids[i];
          p[j++] = t.ms;
          p[j++] = t.ord;
          p[j++] = t.ms - t.utcMs;
          p[j++] = t.bid === t.bid ? t.bid : null;
          p[j++] = t.ask === t.ask ? t.ask : null;
          p[j++] = t.last === t.last ? t.last : null;
          p[j++] = t.vol;
          p[j++] = t.flags;
          p[j++] = SIDE[t.side] ?? 0;
          p[j++] = SIDE_SOURCE_INDEX[t.sideSource as SideSource] ?? SIDE_SOURCE_INDEX.none;
          p[j++] = t.live ? 1 : 0;
        }
        stmt.run(p);
      }
    }
  }

  async append(ticks: readonly BridgeTick[]): Promise<void> {
    const n = ticks.length;
    if (!n) return;
    if (this.sids.length < n) this.sids = new Int32Array(Math.max(n, this.sids.length * 2));
    const sids = this.sids;
    let lastFeed = '', lastSym = '', sid = -1;
    for (let i = 0; i < n; i++) {
      const t = ticks[i];
      if (sid < 0 || t.sym !== lastSym || t.feed !== lastFeed) { sid = this.seriesOf(t); lastFeed = t.feed; lastSym = t.sym; }
      sids[i] = sid;
    }
    this.tx(ticks, sids);
  }

  async cursor(feed: string, sym: string): Promise<TickCursor | null> {
    const r = this.last.get(feed, sym) as { ms: number; ord: number } | undefined;
    return r ? { ms: r.ms, ord: r.ord } : null;
  }

  /** Observed broker offsets of a feed (persisted so a later backfill converts history exactly). */
  async offsets(feed: string): Promise<{ at: number; off: number }[]> {
    return (this.db.prepare('SELECT at_ms AS at, off_s AS off FROM mt5_offset WHERE feed = ? ORDER BY at_ms').all(feed) as { at: number; off: number }[]);
  }

  async saveOffset(feed: string, at: number, off: number): Promise<void> {
    this.db.prepare('INSERT INTO mt5_offset (feed, at_ms, off_s) VALUES (?, ?, ?) ON CONFLICT (feed, at_ms) DO UPDATE SET off_s = excluded.off_s').run(feed, at, off);
  }

  count(feed?: string, sym?: string): number {
    const r = feed === undefined ? this.countAll.get() : this.countOne.get(feed, sym);
    return (r as { n: number }).n;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
