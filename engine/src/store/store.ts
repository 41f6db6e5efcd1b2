/**
 * SQLite store (Node only, better-sqlite3): instruments, trades, closed footprint bars, session
 * profiles, signals, the trade journal and data-completeness gaps.
 *
 * Writes never block the engine: put*() only appends to an in-memory queue (O(1)); the queue is
 * committed in ONE transaction per batch, on a timer (`flushIntervalMs`, default 200 ms) or as soon as
 * `maxBatch` operations are waiting (scheduled with setImmediate, never inside the caller).
 * "Acknowledged" means committed: `flush()` commits everything queued so far and resolves after the
 * COMMIT returned. Ops are committed in the order they were queued, so a committed bar implies every
 * trade of that bar is committed too, and one batch is all-or-nothing (no partial bar rows).
 *
 * Journal: WAL (readers never block the writer). synchronous = FULL by default: in WAL mode that is one
 * fsync of the WAL per COMMIT, and because we commit a batch every ~200 ms (not per trade) the cost is a
 * few fsyncs a second, while an acknowledged batch then survives power loss / OS crash, not just a
 * process crash. `synchronous: 'NORMAL'` (fsync only at checkpoints) is offered for slow disks; it is
 * still never corrupt and survives process crashes (SIGKILL), but may lose the last batches on power loss.
 *
 * A failing disk (SQLITE_FULL, I/O errors) never stops the engine and is never silent: the failed batch
 * stays queued and is retried with backoff (200 ms doubling to `retryMaxMs`, a small probe transaction first,
 * then the backlog `maxBatch` ops at a time); the first error is logged,
 * then one summary line a minute, then the recovery. The queue is bounded (`maxQueue` ops): beyond it
 * new trades, bars, profiles, signals and journal rows are not queued, and each instrument's span of
 * what was not stored becomes a STORAGE GAP, written to the gaps table as soon as a commit succeeds
 * again (so it shows as a timescale mark) and listed by `health()` meanwhile. `health()` is `degraded`
 * while commits fail.
 *
 * Retention: trades (and gaps) older than `retentionDays` before the newest stored trade are deleted
 * (checked at most once a minute); bars, profiles, signals and the journal are kept unless
 * `barRetentionDays` is set.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Side, SideSource, Trade } from '../core/events.js';
import { SIDE_SOURCES, SIDE_SOURCE_INDEX } from '../core/events.js';
import type { InstrumentSpec } from '../core/instruments.js';
import type { FootprintBar } from '../analytics/footprint.js';
import type { SessionProfile } from '../analytics/profile/scopes.js';
import type { DevelopingPoint } from '../analytics/profile/developing.js';
import { VolumeProfile } from '../analytics/profile/volume-profile.js';
import { decodeBar, encodeBar, Reader, readGrid, Writer, writeGrid } from './codec.js';
import type { Logger } from '../log.js';

export interface StoreOptions {
  /** database file (directories are created); ':memory:' for tests */
  path: string;
  /** trades/gaps older than this many days (before the newest trade) are deleted; unset = keep */
  retentionDays?: number;
  /** bars/profiles older than this many days are deleted; unset = keep */
  barRetentionDays?: number;
  /** default FULL (see module comment) */
  synchronous?: 'NORMAL' | 'FULL';
  /** commit timer, default 200 ms; 0 disables the timer (commit on size or flush() only) */
  flushIntervalMs?: number;
  /** commit as soon as this many ops are queued (default 20 000) */
  maxBatch?: number;
  /** called when a commit fails (the batch stays queued and is retried) */
  onError?: (e: Error) => void;
  /** most ops kept queued while commits fail (default 200 000); beyond it a storage gap is recorded */
  maxQueue?: number;
  /** longest wait between retries of a failing commit (default 5000 ms) */
  retryMaxMs?: number;
  /** where the first commit error, one line a minute while failing, and the recovery are logged */
  log?: Logger;
  /** clock for the retry backoff, the log throttle and storage-gap times (default Date.now) */
  now?: () => number;
}

/** What a failing store could not keep for one instrument: the span and counts of the ops not stored. */
export interface StorageGap {
  instrument: string;
  /** first and last time (ms) of the ops not stored */
  from: number;
  to: number;
  trades: number;
  /** bars, profiles, signals, journal rows */
  other: number;
  /** when the first op was not stored (local clock) */
  startedAt: number;
  /** written to the gaps table (after the store recovered) */
  persisted: boolean;
}

export interface StoreHealth {
  state: 'ok' | 'degraded';
  /** why it is degraded (no paths, no file names); null when ok */
  reason: string | null;
  /** when the current failure started (null when ok) */
  since: number | null;
  queued: number;
  maxQueue: number;
  /** ops not stored since the store was opened (queue full while failing) */
  droppedOps: number;
  /** storage gaps of this run, newest last (at most 100) */
  storageGaps: StorageGap[];
}

/** A stored trade: the classified core Trade (ticks, lots) and the cumulative delta after it. */
export type StoredTrade = Omit<Trade, 'type'> & { cvd: number };

export interface StoredProfile {
  instrument: string;
  key: string;
  start: number;
  end: number;
  closed: boolean;
  profile: VolumeProfile;
  developing: DevelopingPoint[];
}

export interface StoredRecord { seq: number; instrument: string; ts: number; kind: string; data: unknown }
export interface StoredGap { seq: number; instrument: string; ts: number; from: number; to: number; reason: string }

export interface StoreStats {
  path: string;
  queued: number;
  commits: number;
  committedOps: number;
  lastCommitMs: number;
  lastCommitAt: number;
  errors: number;
  lastError: string | null;
  synchronous: string;
  /** the bound of the queue and the ops not stored because it was full */
  maxQueue: number;
  droppedOps: number;
  /** ops in the last transaction that failed (a failing store is retried with a small probe first) */
  lastFailedOps: number;
}

type Op =
  | { k: 'inst'; key: number; id: string; spec: string }
  | { k: 'trade'; inst: number; ts: number; id: number; price: number; size: number; side: number; cvd: number }
  | { k: 'bar'; inst: number; tf: string; start: number; end: number; data: Buffer }
  | { k: 'profile'; inst: number; key: string; start: number; end: number; closed: number; data: Buffer }
  | { k: 'signal' | 'journal'; inst: number; ts: number; kind: string; data: string }
  | { k: 'gap'; inst: number; ts: number; from: number; to: number; reason: string }
  | { k: 'state'; key: string; v: string };

/** gap and instrument rows may still be queued this far past maxQueue (they are few and carry the outage itself) */
const ESSENTIAL_RESERVE = 10_000;
const LOG_EVERY_MS = 60_000;
/** ops in the small transaction that tests a failing store before the backlog is retried */
const PROBE_OPS = 256;

const SIDE_CODE: Record<Side, number> = { sell: 0, unknown: 1, buy: 2 };
const SIDE_OF: Side[] = ['sell', 'unknown', 'buy'];
const DAY = 86_400_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS instruments (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, spec TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trades (inst INTEGER NOT NULL, ts INTEGER NOT NULL, id INTEGER NOT NULL, price INTEGER NOT NULL, size NUMERIC NOT NULL, side INTEGER NOT NULL, cvd NUMERIC NOT NULL);
CREATE INDEX IF NOT EXISTS trades_inst_ts ON trades (inst, ts);
CREATE TABLE IF NOT EXISTS bars (inst INTEGER NOT NULL, tf TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (inst, tf, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS profiles (inst INTEGER NOT NULL, key TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, closed INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (inst, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signals (seq INTEGER PRIMARY KEY, inst INTEGER NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS signals_inst_ts ON signals (inst, ts);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, inst INTEGER NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_inst_ts ON journal (inst, ts);
CREATE TABLE IF NOT EXISTS gaps (seq INTEGER PRIMARY KEY, inst INTEGER NOT NULL, ts INTEGER NOT NULL, from_ts NUMERIC NOT NULL, to_ts NUMERIC NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS gaps_inst_ts ON gaps (inst, ts);
`;

/** Profile blob: grid, then buy/sell/unknown volume, then the developing points (ts, poc, vah, val). */
export function encodeProfile(p: VolumeProfile, developing: readonly DevelopingPoint[]): Buffer {
  const w = new Writer(64 + p.rowCount * 8);
  w.u8(1).num(p.rowTicks);
  writeGrid(w, p.grid);
  w.num(p.buyVolume).num(p.sellVolume).num(p.unknownVolume).uvar(developing.length);
  for (const d of developing) w.num(d.ts).num(d.poc).num(d.vah).num(d.val);
  return w.bytes();
}

export function decodeProfile(blob: Uint8Array): { profile: VolumeProfile; developing: DevelopingPoint[] } {
  const r = new Reader(blob);
  if (r.u8() !== 1) throw new Error('unknown profile blob version');
  const p = new VolumeProfile(r.num(), 1);
  readGrid(r, p.grid);
  p.buyVolume = r.num(); p.sellVolume = r.num(); p.unknownVolume = r.num();
  const n = r.uvar();
  const developing: DevelopingPoint[] = [];
  for (let i = 0; i < n; i++) developing.push({ ts: r.num(), poc: r.num(), vah: r.num(), val: r.num() });
  if (!r.done) throw new Error('trailing bytes in profile blob');
  return { profile: p, developing };
}

export class Store {
  readonly db: Database.Database;
  readonly opts: Required<Pick<StoreOptions, 'path' | 'synchronous' | 'flushIntervalMs' | 'maxBatch' | 'maxQueue' | 'retryMaxMs'>> & StoreOptions;
  private queue: Op[] = [];
  private readonly keys = new Map<string, number>();
  private readonly ids = new Map<number, string>();
  private nextKey = 1;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;
  private maxTradeTs = 0;
  private lastPrune = 0;
  private readonly st: StoreStats;
  private readonly stmt: Record<string, Database.Statement>;
  private readonly commitTx: (ops: Op[]) => void;
  private readonly now: () => number;
  /** failing since (null: the last commit succeeded) */
  private failingSince: number | null = null;
  private failCode = '';
  private retryAt = 0;
  private retryWait = 0;
  private lastLogAt = 0;
  private errorsSinceLog = 0;
  private droppedOps = 0;
  /** open storage gaps by instrument key, and the recent ones (open and persisted) */
  private readonly openGaps = new Map<number, StorageGap>();
  private readonly gapLog: StorageGap[] = [];
  private readonly pageStmts = new Map<string, Database.Statement>();

  constructor(opts: StoreOptions) {
    // `??`, not a spread: an option passed as undefined (an unset config key) keeps its default
    this.opts = { ...opts, synchronous: opts.synchronous ?? 'FULL', flushIntervalMs: opts.flushIntervalMs ?? 200, maxBatch: opts.maxBatch ?? 20_000, maxQueue: opts.maxQueue ?? 200_000, retryMaxMs: opts.retryMaxMs ?? 5000 };
    this.now = opts.now ?? Date.now;
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${this.opts.synchronous}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.db.prepare(`INSERT OR IGNORE INTO meta (k, v) VALUES ('schema', '1')`).run();
    for (const row of this.db.prepare('SELECT key, id FROM instruments').all() as { key: number; id: string }[]) {
      this.keys.set(row.id, row.key); this.ids.set(row.key, row.id);
      if (row.key >= this.nextKey) this.nextKey = row.key + 1;
    }
    const mx = this.db.prepare('SELECT MAX(ts) AS m FROM trades').get() as { m: number | null };
    this.maxTradeTs = mx.m ?? 0;
    this.st = { path: opts.path, queued: 0, commits: 0, committedOps: 0, lastCommitMs: 0, lastCommitAt: 0, errors: 0, lastError: null, synchronous: this.opts.synchronous, maxQueue: this.opts.maxQueue, droppedOps: 0, lastFailedOps: 0 };
    const d = this.db;
    this.stmt = {
      inst: d.prepare('INSERT INTO instruments (key, id, spec) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET spec = excluded.spec'),
      trade: d.prepare('INSERT INTO trades (inst, ts, id, price, size, side, cvd) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      bar: d.prepare('INSERT OR REPLACE INTO bars (inst, tf, start, end, data) VALUES (?, ?, ?, ?, ?)'),
      profile: d.prepare('INSERT OR REPLACE INTO profiles (inst, key, start, end, closed, data) VALUES (?, ?, ?, ?, ?, ?)'),
      signal: d.prepare('INSERT INTO signals (inst, ts, kind, data) VALUES (?, ?, ?, ?)'),
      journal: d.prepare('INSERT INTO journal (inst, ts, kind, data) VALUES (?, ?, ?, ?)'),
      gap: d.prepare('INSERT INTO gaps (inst, ts, from_ts, to_ts, reason) VALUES (?, ?, ?, ?, ?)'),
      state: d.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)'),
    };
    this.commitTx = d.transaction((ops: Op[]) => {
      const s = this.stmt;
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i];
        switch (o.k) {
          case 'trade': s.trade.run(o.inst, o.ts, o.id, o.price, o.size, o.side, o.cvd); break;
          case 'bar': s.bar.run(o.inst, o.tf, o.start, o.end, o.data); break;
          case 'inst': s.inst.run(o.key, o.id, o.spec); break;
          case 'profile': s.profile.run(o.inst, o.key, o.start, o.end, o.closed, o.data); break;
          case 'signal': s.signal.run(o.inst, o.ts, o.kind, o.data); break;
          case 'journal': s.journal.run(o.inst, o.ts, o.kind, o.data); break;
          case 'gap': s.gap.run(o.inst, o.ts, o.from, o.to, o.reason); break;
          case 'state': s.state.run(o.key, o.v); break;
        }
      }
    });
    if (this.opts.flushIntervalMs > 0) {
      this.timer = setInterval(() => this.commit(), this.opts.flushIntervalMs);
      this.timer.unref();
    }
  }

  static open(opts: StoreOptions | string): Store { return new Store(typeof opts === 'string' ? { path: opts } : opts); }

  // ---------------------------------------------------------------- writes (queued)

  /** Integer key of an instrument id, registering it (queued) on first sight. */
  instrumentKey(id: string, spec?: InstrumentSpec): number {
    let k = this.keys.get(id);
    if (k === undefined) {
      k = this.nextKey++;
      this.keys.set(id, k); this.ids.set(k, id);
      this.push({ k: 'inst', key: k, id, spec: JSON.stringify(spec ? specJson(spec) : { id }) });
    }
    return k;
  }

  putInstrument(spec: InstrumentSpec): void {
    const had = this.keys.has(spec.id);
    const k = this.instrumentKey(spec.id, spec);
    if (had) this.push({ k: 'inst', key: k, id: spec.id, spec: JSON.stringify(specJson(spec)) });
  }

  /** A classified trade and the cumulative delta after it. */
  putTrade(t: Trade, cvd: number): void {
    if (t.ts > this.maxTradeTs) this.maxTradeTs = t.ts;
    this.push({ k: 'trade', inst: this.instrumentKey(t.instrument), ts: t.ts, id: t.id, price: t.price, size: t.size, side: SIDE_CODE[t.side] + 3 * SIDE_SOURCE_INDEX[t.sideSource], cvd });
  }

  /** A closed bar (encoded now: the bar object is not retained). Re-putting the same start replaces it. */
  putBar(timeframe: string, bar: FootprintBar): void {
    this.push({ k: 'bar', inst: this.instrumentKey(bar.instrument), tf: timeframe, start: bar.start, end: bar.end, data: encodeBar(bar) });
  }

  putProfile(instrument: string, s: SessionProfile): void {
    this.push({ k: 'profile', inst: this.instrumentKey(instrument), key: s.key, start: s.start, end: s.end, closed: s.closed ? 1 : 0, data: encodeProfile(s.profile, s.developing) });
  }

  putSignal(instrument: string, ts: number, kind: string, data: unknown): void {
    this.push({ k: 'signal', inst: this.instrumentKey(instrument), ts, kind, data: JSON.stringify(data ?? null) });
  }

  putJournal(instrument: string, ts: number, kind: string, data: unknown): void {
    this.push({ k: 'journal', inst: this.instrumentKey(instrument), ts, kind, data: JSON.stringify(data ?? null) });
  }

  putGap(instrument: string, ts: number, from: number, to: number, reason: string): void {
    this.push({ k: 'gap', inst: this.instrumentKey(instrument), ts, from: Number.isFinite(from) ? from : -1, to: Number.isFinite(to) ? to : -1, reason });
  }

  /**
   * A pipeline state snapshot (JSON) for fast restarts, replaced on every put. Queued in order with the
   * trades: when it is committed, every trade it covers is committed too.
   */
  putState(instrument: string, timeframe: string, data: unknown): void {
    this.push({ k: 'state', key: `state:${instrument}:${timeframe}`, v: JSON.stringify(data) });
  }

  /** The last committed state snapshot of an instrument's pipeline, undefined when none. */
  state(instrument: string, timeframe: string): unknown {
    const r = this.db.prepare('SELECT v FROM meta WHERE k = ?').get(`state:${instrument}:${timeframe}`) as { v: string } | undefined;
    return r ? JSON.parse(r.v) as unknown : undefined;
  }

  private push(op: Op): void {
    if (this.closed) throw new Error('store is closed');
    let n = this.queue.length;
    // a healthy store that is merely behind (a synchronous burst that never yielded to the commit timer)
    // commits now; only a failing store turns a full queue into a storage gap
    if (n >= this.opts.maxQueue && this.failingSince === null) { this.commitNow(); n = this.queue.length; }
    if (n >= this.opts.maxQueue && (n >= this.opts.maxQueue + ESSENTIAL_RESERVE || (op.k !== 'inst' && op.k !== 'gap'))) { this.notStored(op); return; }
    this.queue.push(op);
    if (this.queue.length >= this.opts.maxBatch && this.immediate === null) {
      this.immediate = setImmediate(() => { this.immediate = null; this.commit(); });
    }
  }

  /** An op the full queue cannot take: extend its instrument's storage gap. */
  private notStored(op: Op): void {
    this.droppedOps++;
    // a dropped state snapshot leaves the previous one, which is older and still consistent
    if (op.k === 'inst' || op.k === 'state') return;
    let from: number, to: number;
    switch (op.k) {
      case 'trade': from = to = op.ts; break;
      case 'bar': from = op.start; to = op.end; break;
      case 'profile': from = to = Math.max(op.start, Math.min(op.end, this.maxTradeTs || op.start)); break;
      case 'gap': from = to = op.ts; break;
      default: from = to = op.ts;
    }
    let g = this.openGaps.get(op.inst);
    if (!g) {
      g = { instrument: this.ids.get(op.inst) ?? String(op.inst), from, to, trades: 0, other: 0, startedAt: this.now(), persisted: false };
      this.openGaps.set(op.inst, g);
      this.gapLog.push(g);
      if (this.gapLog.length > 100) this.gapLog.shift();
    }
    if (from < g.from) g.from = from;
    if (to > g.to) g.to = to;
    if (op.k === 'trade') g.trades++; else g.other++;
  }

  /**
   * The timer's commit: at most `maxBatch` ops in one transaction (the rest follows on the next turn of
   * the event loop), so no commit holds the loop for long. A failing store is retried with backoff,
   * and first with a small probe transaction: a commit of 200 000 ops that fails on a full disk holds the
   * event loop for about a second, the probe for a moment. Returns the number of ops committed.
   */
  commit(): number {
    let n = 0;
    if (this.failingSince !== null) {
      if (this.now() < this.retryAt) return 0;
      n = this.commitNow(PROBE_OPS);
      if (this.failingSince !== null && n === 0) return 0; // still failing (the probe counted as a retry)
    }
    n += this.commitNow(this.opts.maxBatch);
    if (this.queue.length && this.immediate === null && !this.closed && (this.failingSince === null || this.now() >= this.retryAt)) {
      this.immediate = setImmediate(() => { this.immediate = null; this.commit(); });
    }
    return n;
  }

  /** Commit the first `limit` queued ops (all by default) in one transaction. */
  private commitNow(limit = Infinity): number {
    if (this.queue.length === 0) { this.maybePrune(); return 0; }
    let ops: Op[];
    if (this.queue.length <= limit) { ops = this.queue; this.queue = []; } else { ops = this.queue.slice(0, limit); this.queue = this.queue.slice(limit); }
    const t0 = performance.now();
    try {
      this.commitTx(ops);
    } catch (e) {
      this.queue = ops.concat(this.queue);
      this.st.lastFailedOps = ops.length;
      this.failed(e as Error);
      return 0;
    }
    this.st.commits++;
    this.st.committedOps += ops.length;
    this.st.lastCommitMs = performance.now() - t0;
    this.st.lastCommitAt = Date.now();
    // recovered once the backlog is caught up (a probe that fits in the last free pages is not a recovery)
    if (this.failingSince !== null && this.queue.length < this.opts.maxBatch) this.recovered();
    this.maybePrune();
    return ops.length;
  }

  private failed(e: Error): void {
    const now = this.now();
    this.st.errors++;
    this.st.lastError = e.message;
    const code = (e as { code?: unknown }).code;
    this.failCode = typeof code === 'string' ? code : 'error';
    this.retryWait = this.failingSince === null ? 200 : Math.min(this.opts.retryMaxMs, this.retryWait * 2);
    this.retryAt = now + this.retryWait;
    this.errorsSinceLog++;
    if (this.failingSince === null) {
      this.failingSince = now;
      this.lastLogAt = now;
      this.errorsSinceLog = 0;
      this.opts.log?.error('store writes failing; the batch stays queued and is retried', { code: this.failCode, error: e.message, queued: this.queue.length, maxQueue: this.opts.maxQueue });
    } else if (now - this.lastLogAt >= LOG_EVERY_MS) {
      this.lastLogAt = now;
      this.opts.log?.warn('store writes still failing', { code: this.failCode, error: e.message, failingForS: Math.round((now - this.failingSince) / 1000), failedCommits: this.errorsSinceLog, queued: this.queue.length, notStored: this.droppedOps, storageGaps: this.openGaps.size });
      this.errorsSinceLog = 0;
    }
    this.opts.onError?.(e);
  }

  /** A commit succeeded after failures: write the storage gaps (committed with the next batch) and say so. */
  private recovered(): void {
    const since = this.failingSince!;
    this.failingSince = null;
    this.retryWait = 0;
    const gaps = [...this.openGaps.values()];
    this.openGaps.clear();
    for (const g of gaps) {
      // pushed straight onto the queue (the bound is for data, not for the record of what was lost)
      this.queue.push({ k: 'gap', inst: this.keys.get(g.instrument) ?? this.instrumentKey(g.instrument), ts: g.from, from: g.from, to: g.to, reason: `storage: ${g.trades} trades and ${g.other} bars/profiles/signals not stored (store writes failing: ${this.failCode})` });
      g.persisted = true;
    }
    this.opts.log?.info('store writes recovered', { failedForS: Math.round((this.now() - since) / 1000), storageGaps: gaps.map((g) => ({ instrument: g.instrument, from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString(), trades: g.trades, other: g.other })) });
    if (gaps.length) this.commitNow();
  }

  /** Whether commits succeed, and what a failure cost (see the module comment). */
  health(): StoreHealth {
    const failing = this.failingSince !== null;
    const lost = [...this.openGaps.values()].reduce((n, g) => n + g.trades, 0);
    return {
      state: failing ? 'degraded' : 'ok',
      reason: failing ? `store writes failing (${this.failCode}); ${this.queue.length} ops queued of at most ${this.opts.maxQueue}${lost ? `; queue full, ${lost} trades not stored (storage gap)` : ''}` : null,
      since: this.failingSince,
      queued: this.queue.length,
      maxQueue: this.opts.maxQueue,
      droppedOps: this.droppedOps,
      storageGaps: this.gapLog.map((g) => ({ ...g })),
    };
  }

  /** Commit everything queued so far; resolves once it is committed ("acknowledged"). */
  async flush(): Promise<number> {
    const n = this.commitNow();
    if (this.queue.length > 0) throw new Error(`store commit failed: ${this.st.lastError}`);
    return n;
  }

  get queued(): number { return this.queue.length; }

  stats(): StoreStats { return { ...this.st, queued: this.queue.length, droppedOps: this.droppedOps }; }

  private maybePrune(): void {
    const now = Date.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    try { this.prune(); } catch (e) { this.opts.log?.warn('store retention prune failed', { error: (e as Error).message }); }
  }

  /** Apply the retention rules now (relative to the newest stored trade). */
  prune(): { trades: number; bars: number } {
    let trades = 0, bars = 0;
    const ref = this.maxTradeTs || Date.now();
    if (this.opts.retentionDays !== undefined) {
      const cut = ref - this.opts.retentionDays * DAY;
      trades = this.db.prepare('DELETE FROM trades WHERE ts < ?').run(cut).changes;
      this.db.prepare('DELETE FROM gaps WHERE ts < ?').run(cut);
    }
    if (this.opts.barRetentionDays !== undefined) {
      const cut = ref - this.opts.barRetentionDays * DAY;
      bars = this.db.prepare('DELETE FROM bars WHERE start < ?').run(cut).changes;
      this.db.prepare('DELETE FROM profiles WHERE end < ?').run(cut);
    }
    return { trades, bars };
  }

  // ---------------------------------------------------------------- reads (synchronous, committed data)

  /** Integer key of a stored instrument; re-reads the table on a miss (another connection may have added it). */
  private key(id: string): number | undefined {
    const k = this.keys.get(id);
    if (k !== undefined || this.closed) return k;
    const row = this.db.prepare('SELECT key FROM instruments WHERE id = ?').get(id) as { key: number } | undefined;
    if (!row) return undefined;
    this.keys.set(id, row.key); this.ids.set(row.key, id);
    if (row.key >= this.nextKey) this.nextKey = row.key + 1;
    return row.key;
  }

  instruments(): { id: string; spec: unknown }[] {
    return (this.db.prepare('SELECT id, spec FROM instruments ORDER BY key').all() as { id: string; spec: string }[]).map((r) => ({ id: r.id, spec: JSON.parse(r.spec) }));
  }

  private tradeRows(rows: unknown[][], id: string): StoredTrade[] {
    return rows.map((r) => {
      const code = r[4] as number;
      return { instrument: id, ts: r[0] as number, id: r[1] as number, price: r[2] as number, size: r[3] as number, side: SIDE_OF[code % 3], sideSource: SIDE_SOURCES[Math.floor(code / 3)] ?? 'none', cvd: r[5] as number };
    });
  }

  /** Trades with from <= ts < to, oldest first, at most `limit`. */
  trades(instrument: string, from: number, to: number, limit = 1_000_000): StoredTrade[] {
    const k = this.key(instrument);
    if (k === undefined) return [];
    const rows = this.db.prepare('SELECT ts, id, price, size, side, cvd FROM trades WHERE inst = ? AND ts >= ? AND ts < ? ORDER BY ts, rowid LIMIT ?').raw().all(k, from, to, limit) as unknown[][];
    return this.tradeRows(rows, instrument);
  }

  /**
   * One page of a keyset scan over trades with from <= ts < to, in (ts, rowid) order (descending when
   * `desc`), strictly after the `after` cursor [ts, rowid] of the previous page. Paged reads keep each
   * synchronous SQLite call short and need no open cursor between pages (writes go on meanwhile).
   */
  tradePage(instrument: string, from: number, to: number, after: readonly [number, number] | null, limit: number, desc = false): { trades: StoredTrade[]; cursor: [number, number] | null } {
    const k = this.key(instrument);
    if (k === undefined) return { trades: [], cursor: null };
    const lo = desc ? from : after ? after[0] : from;
    const hi = desc && after ? after[0] + 1 : to;
    const key = `${desc ? 'd' : 'a'}${after ? 'c' : ''}`;
    let st = this.pageStmts.get(key);
    if (!st) {
      const cur = after ? (desc ? 'AND (ts < @ct OR rowid < @cr)' : 'AND (ts > @ct OR rowid > @cr)') : '';
      st = this.db.prepare(`SELECT ts, id, price, size, side, cvd, rowid FROM trades WHERE inst = @k AND ts >= @lo AND ts < @hi ${cur} ORDER BY ts ${desc ? 'DESC' : ''}, rowid ${desc ? 'DESC' : ''} LIMIT @n`).raw();
      this.pageStmts.set(key, st);
    }
    const params: Record<string, number> = { k, lo, hi: Math.min(hi, to), n: limit };
    if (after) { params.ct = after[0]; params.cr = after[1]; }
    const rows = st.all(params) as unknown[][];
    const last = rows[rows.length - 1];
    return { trades: this.tradeRows(rows, instrument), cursor: last ? [last[0] as number, last[6] as number] : null };
  }

  /** The last `n` trades with ts < before, oldest first. */
  lastTrades(instrument: string, before: number, n: number): StoredTrade[] {
    const k = this.key(instrument);
    if (k === undefined) return [];
    const rows = this.db.prepare('SELECT ts, id, price, size, side, cvd FROM trades WHERE inst = ? AND ts < ? ORDER BY ts DESC, rowid DESC LIMIT ?').raw().all(k, before, n) as unknown[][];
    return this.tradeRows(rows.reverse(), instrument);
  }

  tradeCount(instrument?: string): number {
    if (instrument === undefined) return (this.db.prepare('SELECT COUNT(*) AS n FROM trades').get() as { n: number }).n;
    const k = this.key(instrument);
    return k === undefined ? 0 : (this.db.prepare('SELECT COUNT(*) AS n FROM trades WHERE inst = ?').get(k) as { n: number }).n;
  }

  /** Trades of an instrument with from <= ts < to (an index-only count: no rows reach JavaScript). */
  tradeCountBetween(instrument: string, from: number, to: number): number {
    const k = this.key(instrument);
    if (k === undefined || from >= to) return 0;
    return (this.db.prepare('SELECT COUNT(*) AS n FROM trades WHERE inst = ? AND ts >= ? AND ts < ?').get(k, from, to) as { n: number }).n;
  }

  /**
   * Like tradePage, but only trades of at least `minSize` lots come back: the page (`limit` rows of
   * the range) is delimited in SQLite and filtered there, so skipped trades never reach JavaScript.
   * `cursor` is the page's last row (kept or not); null when the range is exhausted.
   */
  tradePageMin(instrument: string, from: number, to: number, after: readonly [number, number] | null, limit: number, desc: boolean, minSize: number): { trades: StoredTrade[]; cursor: [number, number] | null } {
    const k = this.key(instrument);
    if (k === undefined) return { trades: [], cursor: null };
    const lo = desc ? from : after ? after[0] : from;
    const hi = Math.min(desc && after ? after[0] + 1 : to, to);
    const cur = after ? (desc ? 'AND (ts < @ct OR rowid < @cr)' : 'AND (ts > @ct OR rowid > @cr)') : '';
    const order = `ORDER BY ts ${desc ? 'DESC' : ''}, rowid ${desc ? 'DESC' : ''}`;
    const key = `m${desc ? 'd' : 'a'}${after ? 'c' : ''}`;
    let end = this.pageStmts.get(`${key}e`);
    let page = this.pageStmts.get(`${key}p`);
    let rest = this.pageStmts.get(`${key}r`);
    if (!end || !page || !rest) {
      const base = `FROM trades WHERE inst = @k AND ts >= @lo AND ts < @hi ${cur}`;
      const upTo = desc ? '(ts > @et OR (ts = @et AND rowid >= @er))' : '(ts < @et OR (ts = @et AND rowid <= @er))';
      end = this.db.prepare(`SELECT ts, rowid ${base} ${order} LIMIT 1 OFFSET @n`).raw();
      page = this.db.prepare(`SELECT ts, id, price, size, side, cvd ${base} AND ${upTo} AND size >= @min ${order}`).raw();
      rest = this.db.prepare(`SELECT ts, id, price, size, side, cvd ${base} AND size >= @min ${order}`).raw();
      this.pageStmts.set(`${key}e`, end); this.pageStmts.set(`${key}p`, page); this.pageStmts.set(`${key}r`, rest);
    }
    const params: Record<string, number> = { k, lo, hi };
    if (after) { params.ct = after[0]; params.cr = after[1]; }
    const e = end.get({ ...params, n: limit - 1 }) as [number, number] | undefined;
    if (!e) return { trades: this.tradeRows(rest.all({ ...params, min: minSize }) as unknown[][], instrument), cursor: null };
    return { trades: this.tradeRows(page.all({ ...params, min: minSize, et: e[0], er: e[1] }) as unknown[][], instrument), cursor: [e[0], e[1]] };
  }

  /** Earliest and latest stored trade time of an instrument (null when none). */
  tradeSpan(instrument: string): { first: number; last: number } | null {
    const k = this.key(instrument);
    if (k === undefined) return null;
    const r = this.db.prepare('SELECT MIN(ts) AS a, MAX(ts) AS b FROM trades WHERE inst = ?').get(k) as { a: number | null; b: number | null };
    return r.a === null || r.b === null ? null : { first: r.a, last: r.b };
  }

  /** Bars of a timeframe with from <= start < to, oldest first. */
  bars(instrument: string, timeframe: string, from: number, to: number, limit = 1_000_000): FootprintBar[] {
    const k = this.key(instrument);
    if (k === undefined) return [];
    const rows = this.db.prepare('SELECT data FROM bars WHERE inst = ? AND tf = ? AND start >= ? AND start < ? ORDER BY start LIMIT ?').raw().all(k, timeframe, from, to, limit) as [Buffer][];
    return rows.map((r) => decodeBar(instrument, r[0]));
  }

  /** The last `n` bars with start < before, oldest first. */
  lastBars(instrument: string, timeframe: string, before: number, n: number): FootprintBar[] {
    const k = this.key(instrument);
    if (k === undefined) return [];
    const rows = this.db.prepare('SELECT data FROM bars WHERE inst = ? AND tf = ? AND start < ? ORDER BY start DESC LIMIT ?').raw().all(k, timeframe, before, n) as [Buffer][];
    return rows.reverse().map((r) => decodeBar(instrument, r[0]));
  }

  /** Earliest stored bar start (null when none). */
  firstBarStart(instrument: string, timeframe: string): number | null {
    const k = this.key(instrument);
    if (k === undefined) return null;
    const r = this.db.prepare('SELECT MIN(start) AS m FROM bars WHERE inst = ? AND tf = ?').get(k, timeframe) as { m: number | null };
    return r.m;
  }

  barCount(instrument: string, timeframe: string): number {
    const k = this.key(instrument);
    return k === undefined ? 0 : (this.db.prepare('SELECT COUNT(*) AS n FROM bars WHERE inst = ? AND tf = ?').get(k, timeframe) as { n: number }).n;
  }

  /** Stored session profiles, oldest first (optionally only sessions starting at/after `fromStart`). */
  profiles(instrument: string, fromStart = -Infinity): StoredProfile[] {
    const k = this.key(instrument);
    if (k === undefined) return [];
    const rows = this.db.prepare('SELECT key, start, end, closed, data FROM profiles WHERE inst = ? AND start >= ? ORDER BY start').all(k, Number.isFinite(fromStart) ? fromStart : -1e15) as { key: string; start: number; end: number; closed: number; data: Buffer }[];
    return rows.map((r) => ({ instrument, key: r.key, start: r.start, end: r.end, closed: r.closed === 1, ...decodeProfile(r.data) }));
  }

  private records(table: 'signals' | 'journal', instrument: string | undefined, from: number, to: number, limit: number): StoredRecord[] {
    const k = instrument === undefined ? undefined : this.key(instrument);
    if (instrument !== undefined && k === undefined) return [];
    const sql = `SELECT seq, inst, ts, kind, data FROM ${table} WHERE ${k === undefined ? '' : 'inst = @k AND '}ts >= @from AND ts < @to ORDER BY ts, seq LIMIT @limit`;
    const rows = this.db.prepare(sql).all({ k, from, to, limit }) as { seq: number; inst: number; ts: number; kind: string; data: string }[];
    return rows.map((r) => ({ seq: r.seq, instrument: this.ids.get(r.inst) ?? String(r.inst), ts: r.ts, kind: r.kind, data: JSON.parse(r.data) }));
  }

  signals(instrument?: string, from = 0, to = 8.64e15, limit = 10_000): StoredRecord[] { return this.records('signals', instrument, from, to, limit); }
  journal(instrument?: string, from = 0, to = 8.64e15, limit = 10_000): StoredRecord[] { return this.records('journal', instrument, from, to, limit); }

  gaps(instrument?: string, from = 0, to = 8.64e15, limit = 10_000): StoredGap[] {
    const k = instrument === undefined ? undefined : this.key(instrument);
    if (instrument !== undefined && k === undefined) return [];
    const sql = `SELECT seq, inst, ts, from_ts, to_ts, reason FROM gaps WHERE ${k === undefined ? '' : 'inst = @k AND '}ts >= @from AND ts < @to ORDER BY ts, seq LIMIT @limit`;
    const rows = this.db.prepare(sql).all({ k, from, to, limit }) as { seq: number; inst: number; ts: number; from_ts: number; to_ts: number; reason: string }[];
    return rows.map((r) => ({ seq: r.seq, instrument: this.ids.get(r.inst) ?? String(r.inst), ts: r.ts, from: r.from_ts, to: r.to_ts, reason: r.reason }));
  }

  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  }

  /** Commit what is queued, stop the timer and close the database. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.commitNow();
    if (this.queue.length) this.opts.log?.error('store closed with writes failing: queued ops not stored', { queued: this.queue.length, code: this.failCode });
    this.closed = true;
    this.db.close();
  }
}

function specJson(s: InstrumentSpec): Record<string, unknown> {
  return { id: s.id, symbol: s.symbol, venue: s.venue, assetClass: s.assetClass, description: s.description, tickSize: s.tickSize, lotStep: s.lotStep, profileRow: s.profileRow, footprintRow: s.footprintRow, contractSize: s.contractSize, session: s.session, flow: s.flow };
}
