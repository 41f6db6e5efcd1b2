/**
 * SqliteTickSink on real SQLite files in temp dirs: exactly-once by (feed, sym, ms, ord) across every
 * multi-row chunk size and across reopen, the cursor contract (highest (ms, ord), not the last one
 * written; an index seek), all-or-nothing appends, and migration of the earlier one-table layout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteTickSink } from '../../mt5-bridge/src/sqlite-sink.js';
import type { BridgeTick } from '../../mt5-bridge/src/sink.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mt5-sink-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'ticks.sqlite');
}

function open(path: string, synchronous: 'FULL' | 'NORMAL' = 'NORMAL'): SqliteTickSink {
  const s = new SqliteTickSink(path, { synchronous });
  let closed = false;
  const close = s.close.bind(s);
  s.close = async () => { if (!closed) { closed = true; await close(); } };
  cleanups.push(() => s.close());
  return s;
}

const FEED = 'Broker Ltd|Broker-Demo|9f2c';
const OFF = 3 * 3600_000;

/** Tick i of a symbol: 3 per ms; every 4th a flagged trade, the others bid/ask quotes; every 7th has no ask. */
function tick(i: number, sym = 'WINZ24', feed = FEED, live = true): BridgeTick {
  const ms = 1_700_000_000_000 + Math.floor(i / 3);
  const trade = i % 4 === 0;
  return {
    feed, sym, instrument: `B3:${sym}`, ms, ord: i % 3, utcMs: ms - OFF,
    bid: 125_000 + (i % 40), ask: i % 7 === 0 ? NaN : 125_005 + (i % 40), last: trade ? 125_002 : NaN,
    vol: trade ? 1 + (i % 5) : 0, flags: trade ? (i % 8 === 0 ? 32 : 64) | 8 : 6,
    side: trade ? (i % 8 === 0 ? 'buy' : 'sell') : 'unknown', sideSource: trade ? 'flag' : 'none', live,
  };
}

const range = (a: number, b: number, f: (i: number) => BridgeTick = (i) => tick(i)): BridgeTick[] => {
  const out: BridgeTick[] = [];
  for (let i = a; i < b; i++) out.push(f(i));
  return out;
};

interface Row { feed: string; sym: string; ms: number; ord: number; instrument: string; utc_ms: number; bid: number | null; ask: number | null; last: number | null; vol: number; flags: number; side: number; side_source: string; live: number }

const rowOf = (t: BridgeTick): Row => ({
  feed: t.feed, sym: t.sym, ms: t.ms, ord: t.ord, instrument: t.instrument, utc_ms: t.utcMs,
  bid: Number.isNaN(t.bid) ? null : t.bid, ask: Number.isNaN(t.ask) ? null : t.ask, last: Number.isNaN(t.last) ? null : t.last,
  vol: t.vol, flags: t.flags, side: t.side === 'buy' ? 1 : t.side === 'sell' ? -1 : 0, side_source: t.sideSource, live: t.live ? 1 : 0,
});

const rows = (s: SqliteTickSink, sym: string): Row[] =>
  s.db.prepare('SELECT * FROM mt5_ticks WHERE feed = ? AND sym = ? ORDER BY ms, ord').all(FEED, sym) as Row[];

describe('SqliteTickSink exactly-once', () => {
  it('batches of every size around the 256/32/4/1 chunk boundaries, with overlaps and in-batch repeats, store each tick once with its values', async () => {
    const s = open(tmp());
    const sizes = [1, 2, 3, 4, 5, 31, 32, 33, 255, 256, 257, 289, 300, 513, 1000];
    let at = 0;
    for (const n of sizes) {
      // every batch re-sends the last 7 ticks of the previous one and repeats its own first tick at the end
      const from = Math.max(0, at - 7);
      const b = range(from, at + n);
      b.push(tick(at));
      await s.append(b);
      at += n;
    }
    expect(s.count()).toBe(at);
    expect(s.count(FEED, 'WINZ24')).toBe(at);
    const got = rows(s, 'WINZ24');
    expect(got).toHaveLength(at);
    expect(got).toEqual(range(0, at).map(rowOf));
    expect(await s.cursor(FEED, 'WINZ24')).toEqual({ ms: tick(at - 1).ms, ord: tick(at - 1).ord });
  });

  it('interleaved symbols and feeds in one batch are keyed apart; reopening keeps rows and cursors, and replays are ignored', async () => {
    const path = tmp();
    const s1 = open(path, 'FULL');
    const other = 'Other Broker|Live-2|77aa';
    const mixed: BridgeTick[] = [];
    for (let i = 0; i < 600; i++) {
      mixed.push(tick(i, 'WINZ24'));
      if (i % 2 === 0) mixed.push(tick(i, 'WDOF25'));
      if (i % 3 === 0) mixed.push(tick(i, 'WINZ24', other));
    }
    await s1.append(mixed);
    expect(s1.count(FEED, 'WINZ24')).toBe(600);
    expect(s1.count(FEED, 'WDOF25')).toBe(300);
    expect(s1.count(other, 'WINZ24')).toBe(200);
    expect(s1.count()).toBe(1100);
    expect(await s1.cursor(other, 'WINZ24')).toEqual({ ms: tick(597).ms, ord: tick(597).ord });
    await s1.close();

    const s2 = open(path);
    expect(s2.count()).toBe(1100);
    expect(await s2.cursor(FEED, 'WINZ24')).toEqual({ ms: tick(599).ms, ord: tick(599).ord });
    expect(await s2.cursor(FEED, 'WDOF25')).toEqual({ ms: tick(598).ms, ord: tick(598).ord });
    expect(await s2.cursor(FEED, 'NOPE')).toBeNull();
    expect(await s2.cursor('no feed', 'WINZ24')).toBeNull();
    // a reconnect replay of everything plus 50 new ticks
    await s2.append([...mixed, ...range(600, 650)]);
    expect(s2.count()).toBe(1150);
    expect(rows(s2, 'WINZ24')).toEqual(range(0, 650).map(rowOf));
    expect(rows(s2, 'WDOF25')).toEqual(range(0, 600, (i) => tick(i, 'WDOF25')).filter((_, i) => i % 2 === 0).map(rowOf));
  });
});

describe('SqliteTickSink cursor', () => {
  it('is the highest (ms, ord) held, not the last appended; a backfill older than the live edge does not move it', async () => {
    const s = open(tmp());
    await s.append(range(3000, 3300));
    const live = { ms: tick(3299).ms, ord: tick(3299).ord };
    expect(await s.cursor(FEED, 'WINZ24')).toEqual(live);
    await s.append(range(0, 3000, (i) => tick(i, 'WINZ24', FEED, false)));
    expect(await s.cursor(FEED, 'WINZ24')).toEqual(live);
    expect(s.count()).toBe(3300);
    // ordinal beats an earlier write within the same millisecond; ord above 4095 is a plain integer
    const edge = tick(3299);
    await s.append([{ ...edge, ord: 5000 }, { ...edge, ord: 4 }]);
    expect(await s.cursor(FEED, 'WINZ24')).toEqual({ ms: edge.ms, ord: 5000 });
    const hist = rows(s, 'WINZ24');
    expect(hist.filter((r) => r.live === 0)).toHaveLength(3000);
  });

  it('is answered by a seek on the primary key, not a table scan', () => {
    const s = open(tmp());
    const plan = s.db.prepare(`EXPLAIN QUERY PLAN SELECT t.ms, t.ord FROM mt5_tick t
      WHERE t.sid = (SELECT id FROM mt5_series WHERE feed = ? AND sym = ?) ORDER BY t.ms DESC, t.ord DESC LIMIT 1`).all(FEED, 'WINZ24') as { detail: string }[];
    const details = plan.map((p) => p.detail);
    expect(details.some((d) => /SEARCH t USING PRIMARY KEY \(sid=\?\)/.test(d))).toBe(true);
    expect(details.some((d) => /SCAN t\b/.test(d))).toBe(false);
    expect(details.some((d) => /USE TEMP B-TREE/.test(d))).toBe(false);
  });
});

describe('SqliteTickSink atomicity', () => {
  it('an append that fails part-way stores nothing of that batch; a symbol first seen in it still works afterwards', async () => {
    const s = open(tmp());
    await s.append(range(0, 100));
    const bad = [...range(100, 400), ...range(0, 30, (i) => tick(i, 'NEWSYM'))];
    bad[290] = { ...bad[290], vol: NaN }; // vol is NOT NULL: the second multi-row insert of the batch fails
    await expect(s.append(bad)).rejects.toThrow(/NOT NULL/);
    expect(s.count()).toBe(100);
    expect(await s.cursor(FEED, 'WINZ24')).toEqual({ ms: tick(99).ms, ord: tick(99).ord });
    expect(await s.cursor(FEED, 'NEWSYM')).toBeNull();
    await s.append([...range(100, 400), ...range(0, 30, (i) => tick(i, 'NEWSYM'))]);
    expect(s.count(FEED, 'WINZ24')).toBe(400);
    expect(s.count(FEED, 'NEWSYM')).toBe(30);
    expect(rows(s, 'NEWSYM')).toEqual(range(0, 30, (i) => tick(i, 'NEWSYM')).map(rowOf));
  });
});

describe('SqliteTickSink migration', () => {
  it('a database of the earlier one-table layout is migrated on open: same rows through mt5_ticks, cursor kept, replays still ignored', async () => {
    const path = tmp();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`CREATE TABLE mt5_ticks (
      feed TEXT NOT NULL, sym TEXT NOT NULL, ms INTEGER NOT NULL, ord INTEGER NOT NULL,
      instrument TEXT NOT NULL, utc_ms INTEGER NOT NULL,
      bid INTEGER, ask INTEGER, last INTEGER, vol INTEGER NOT NULL, flags INTEGER NOT NULL,
      side INTEGER NOT NULL, side_source TEXT NOT NULL, live INTEGER NOT NULL,
      PRIMARY KEY (feed, sym, ms, ord)) WITHOUT ROWID`);
    const ins = old.prepare('INSERT OR IGNORE INTO mt5_ticks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)');
    const n = (x: number): number | null => (Number.isNaN(x) ? null : x);
    const legacy = [...range(0, 500), ...range(0, 120, (i) => tick(i, 'WDOF25'))];
    old.transaction(() => {
      for (const t of legacy) ins.run(t.feed, t.sym, t.ms, t.ord, t.instrument, t.utcMs, n(t.bid), n(t.ask), n(t.last), t.vol, t.flags, t.side === 'buy' ? 1 : t.side === 'sell' ? -1 : 0, t.sideSource, t.live ? 1 : 0);
    })();
    old.close();

    const s = open(path);
    const kinds = s.db.prepare(`SELECT name, type FROM sqlite_master WHERE name IN ('mt5_ticks', 'mt5_tick', 'mt5_series') ORDER BY name`).all();
    expect(kinds).toEqual([{ name: 'mt5_series', type: 'table' }, { name: 'mt5_tick', type: 'table' }, { name: 'mt5_ticks', type: 'view' }]);
    expect(s.count()).toBe(620);
    expect(rows(s, 'WINZ24')).toEqual(range(0, 500).map(rowOf));
    expect(rows(s, 'WDOF25')).toEqual(range(0, 120, (i) => tick(i, 'WDOF25')).map(rowOf));
    expect(await s.cursor(FEED, 'WINZ24')).toEqual({ ms: tick(499).ms, ord: tick(499).ord });
    await s.append(range(400, 600));
    expect(s.count(FEED, 'WINZ24')).toBe(600);
    await s.close();
    // opening again is a no-op for the schema
    const s2 = open(path);
    expect(s2.count()).toBe(720);
  });
});
