/**
 * Issue 18's defects, each as a scenario of the EA's own source (translated + compiled through the MQL5
 * shim) against the real bridge server over TCP. Each failed before its fix.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BookDelta, BookSnapshot } from '../../engine/src/core/events.js';
import { flaggedTape } from '../../mt5-bridge/src/sources.js';
import type { Mt5Tick } from '../../mt5-bridge/src/sim-ea.js';
import type { ShimBook, ShimSymbol } from '../../mt5-bridge/shim/broker.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { BridgeServer } from '../../mt5-bridge/src/server.js';
import { SqliteTickSink } from '../../mt5-bridge/src/sqlite-sink.js';
import { ShimEA } from '../../mt5-bridge/shim/run.js';
import { SHIM_SECRET, accounting, shimRig, sleep, tapeIds, until, type ShimRig } from '../helpers/shim-ea.js';

import { buildShimEa } from '../../mt5-bridge/shim/build.js';

// one g++ build for the file, outside the scenarios' own time limits (it takes 15-30 s on a loaded box)
beforeAll(() => { buildShimEa(); }, 180_000);
const rigs: ShimRig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) { await r.ea.stop(); await r.server.close(); }
});
const T0 = Date.UTC(2024, 6, 1, 13, 0);

describe('MT5 EA defects, reproduced by the shimmed EA', () => {
  it('1: a 1 ms timer with 20 server lines/s causes no spurious disconnects (ulong race between GetTickCount64 reads)', async () => {
    const tape = flaggedTape({ n: 3000, seed: 11, start: T0, utcOffset: 10800 });
    const r = await shimRig({ hbMs: 50 }, { timerResUs: 1000, broker: { startUtc: tape.ticks[0].utc, speed: 8, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [tape] }, inputs: { InpSymbols: tape.sym, InpTimerMs: 1, InpBackfillDays: 0 } });
    rigs.push(r);
    await sleep(8000);
    expect(r.ea.disconnects()).toEqual([]);
    expect(r.server.stats.connections).toBe(1);
  }, 30_000);

  it('2: a symbol with no ticks at start, then a 12,000-tick burst: nothing old goes out as live, every id once', async () => {
    // history exists only for another symbol; ours has no tick before the EA starts, then a burst inside one timer period
    const burst: Mt5Tick[] = [];
    const startUtc = T0;
    for (let i = 0; i < 12_000; i++) {
      const utc = startUtc + 1500 + Math.floor(i / 1200); // 1,200 ticks per ms over 10 ms (a market open)
      burst.push({ ms: utc + 10_800_000, bid: String(128000 + (i % 7) * 5), ask: String(128005 + (i % 7) * 5), last: '0', vol: '0', flags: 6, utc });
    }
    const quiet: ShimSymbol = { ...flaggedTape({ n: 10, seed: 1, start: T0 - 3_600_000, utcOffset: 10800 }), sym: 'OTHER' };
    const sym: ShimSymbol = { sym: 'BURST', spec: { ...quiet.spec, tape: 'quotes' }, ticks: burst };
    const r = await shimRig({}, { chartSymbol: 'OTHER', broker: { startUtc, speed: 1, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [sym, quiet] }, inputs: { InpSymbols: 'BURST', InpTimerMs: 20, InpBackfillDays: 0 } });
    rigs.push(r);
    await until(() => r.sink.ticks.length >= burst.length, 20_000, 'the burst persisted');
    await sleep(300);
    expect(accounting(tapeIds(burst), r.sink.ticks)).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
  }, 30_000);

  it('2: a 12,000-tick backlog (3 ticks per ms) delivered at once, then a quiet market: every tick is pumped (a full CopyTicks answer ending mid-millisecond is not "caught up")', async () => {
    // the terminal receives 4 s of ticks 4 s late and in one go (its own reconnect to the trade server), then nothing
    const startUtc = T0;
    const burst: Mt5Tick[] = [];
    for (let i = 0; i < 12_000; i++) burst.push({ ms: startUtc + 10_800_000 + 1000 + Math.floor(i / 3), bid: String(128000 + (i % 5) * 5), ask: String(128005 + (i % 5) * 5), last: '0', vol: '0', flags: 6, utc: startUtc + 9000 });
    const sym: ShimSymbol = { ...flaggedTape({ n: 1, seed: 2, start: T0, utcOffset: 10800 }), sym: 'BURST3', ticks: burst };
    sym.spec = { ...sym.spec, tape: 'quotes' };
    const r = await shimRig({}, { broker: { startUtc, speed: 1, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [sym] }, inputs: { InpSymbols: sym.sym, InpTimerMs: 20, InpBackfillDays: 0 } });
    rigs.push(r);
    await until(() => r.sink.ticks.length >= burst.length, 12_000, 'the whole backlog persisted').catch(() => {});
    await sleep(300);
    expect(accounting(tapeIds(burst), r.sink.ticks)).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
  }, 30_000);

  it('4: after a burst of DOM changes and silence, the last book image arrives within 100 ms', async () => {
    const tape = flaggedTape({ n: 50, seed: 4, start: T0, utcOffset: 10800 });
    const books: ShimBook[] = [];
    const first = T0 + 2000;
    for (let i = 0; i < 30; i++) books.push({ utc: first + i, bids: [[String(128000 - i * 5), String(10 + i)]], asks: [[String(128005 + i * 5), String(20 + i)]] });
    const sym: ShimSymbol = { ...tape, ticks: tape.ticks.slice(0, 5), books };
    const r = await shimRig({}, { broker: { startUtc: T0, speed: 1, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [sym] }, inputs: { InpSymbols: sym.sym, InpTimerMs: 20, InpDom: true, InpBackfillDays: 0 } });
    rigs.push(r);
    const bookAt: number[] = [];
    const state = { bids: new Map<number, number>(), asks: new Map<number, number>() };
    let matchedAt = 0;
    const lastBook = books[books.length - 1];
    const check = (): void => {
      if (matchedAt) return;
      const inst = r.registry.find(sym.sym) ?? r.registry.get(sym.sym);
      const bid = inst.price.parse(lastBook.bids[0][0]), ask = inst.price.parse(lastBook.asks[0][0]);
      if (state.bids.size === 1 && state.asks.size === 1 && state.bids.get(bid) === inst.qty.parse(lastBook.bids[0][1]) && state.asks.get(ask) === inst.qty.parse(lastBook.asks[0][1])) matchedAt = Date.now();
    };
    const timer = setInterval(() => {
      for (const ev of r.live.splice(0)) {
        if (ev.type === 'book_snapshot') { const s = ev as BookSnapshot; state.bids = new Map(s.bids); state.asks = new Map(s.asks); bookAt.push(Date.now()); }
        else if (ev.type === 'book_delta') { const d = ev as BookDelta; for (const [p, v] of d.bids) v ? state.bids.set(p, v) : state.bids.delete(p); for (const [p, v] of d.asks) v ? state.asks.set(p, v) : state.asks.delete(p); bookAt.push(Date.now()); }
        check();
      }
    }, 1);
    await sleep(3500);
    clearInterval(timer);
    const lastChangeReal = r.ea.realTimeOf(lastBook.utc);
    expect(matchedAt, 'the final book image never reached the server').toBeGreaterThan(0);
    expect(matchedAt - lastChangeReal).toBeLessThan(100);
  }, 30_000);

  it('3: a 45 s history synchronisation (CopyTicksRange blocks the EA thread for 45 s, real time): the server keeps the peer and the backfill; every tick once', async () => {
    // a quote-only symbol (FX/CFD): tape detection must not scan history for trade ticks
    const src = quotesOnly(flaggedTape({ n: 3000, seed: 3, start: T0, utcOffset: 7200 }));
    const k = 2400;
    const sym: ShimSymbol = { ...src, localFromMs: src.ticks[k - 10].ms }; // older ticks need a sync
    // the shim's GetTickCount64, timers and this block run in real time, like the server's dead-peer
    // timer (5 s) they race: the block is the reference's longest wait, 45 s, and the sync ends with it
    const r = await shimRig({}, { historySyncMs: 45_000, historyWaitCapMs: 45_000, broker: { startUtc: src.ticks[k].utc, speed: 1, offsets: [{ fromUtc: 0, off: 7200 }], symbols: [sym] }, inputs: { InpSymbols: sym.sym, InpTimerMs: 20, InpBackfillDays: 1 } });
    rigs.push(r);
    await until(() => r.sink.ticks.length >= src.ticks.length, 80_000, 'history and live persisted');
    await sleep(300);
    const blocked = r.ea.grep(/\[shim\] slow OnTimer: \d+ ms/).map((l) => Number(/(\d+) ms/.exec(l.text)![1]));
    expect(Math.max(...blocked)).toBeGreaterThanOrEqual(44_900); // the EA thread really stopped for 45 s
    expect(r.server.stats.rejects.DEAD ?? 0).toBe(0);
    expect(r.server.stats.backfillsDiscarded).toBe(0);
    expect(r.server.stats.connections).toBe(1);
    expect(r.ea.disconnects()).toEqual([]);
    expect(r.server.stats.ticksHistory).toBeGreaterThanOrEqual(k);
    expect(accounting(tapeIds(src.ticks), r.sink.ticks)).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
  }, 120_000);

  it('6: a 60,000-tick first-contact backfill leaves no hole before live', async () => {
    const tape = flaggedTape({ n: 62_000, seed: 6, start: T0, utcOffset: 10800 });
    const k = 60_000;
    const r = await shimRig({}, { broker: { startUtc: tape.ticks[k].utc, speed: 1, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [{ ...tape, ticks: tape.ticks.slice(0, k + 200) }] }, inputs: { InpSymbols: tape.sym, InpTimerMs: 20, InpBackfillDays: 1 } });
    rigs.push(r);
    const want = tapeIds(tape.ticks.slice(0, k + 200));
    await until(() => r.sink.ticks.length >= want.length, 40_000, 'history and live persisted').catch(() => {});
    await sleep(500);
    expect(accounting(want, r.sink.ticks)).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
  }, 60_000);

  it('7: a DST switch inside the backfilled history: every tick keeps its exact UTC time', async () => {
    // NY-close broker: GMT+2 in winter, GMT+3 from the US switch (2024-03-10 07:00 UTC)
    const sw = Date.UTC(2024, 2, 10, 7, 0);
    const off = (utc: number): number => (utc >= sw ? 10800 : 7200);
    const tape = flaggedTape({ n: 6000, seed: 7, start: sw - 60_000, utcOffset: off });
    const k = 4000;
    const r = await shimRig({ dst: 'us' }, { broker: { startUtc: tape.ticks[k].utc, speed: 4, offsets: [{ fromUtc: 0, off: 7200 }, { fromUtc: sw, off: 10800 }], symbols: [tape] }, inputs: { InpSymbols: tape.sym, InpTimerMs: 20, InpBackfillDays: 1 } });
    rigs.push(r);
    await until(() => r.sink.ticks.length >= tape.ticks.length, 30_000, 'every tick persisted');
    const utcOf = new Map(tapeIds(tape.ticks).map((id, i) => [id, tape.ticks[i].utc]));
    const wrong = r.sink.ticks.filter((t) => utcOf.get(`${t.ms}:${t.ord}`) !== t.utcMs);
    expect(wrong.length).toBe(0);
    expect(tape.ticks.filter((t) => t.utc < sw).length).toBeGreaterThan(100);
  }, 60_000);

  it('7: the broker offset table survives a server restart: history backfilled by the new server across an earlier offset change keeps its exact UTC', async () => {
    // a broker with no known DST rule (dst: none) changes GMT+2 -> GMT+3 while the first server watches;
    // only its persisted table can place history from before the change after a restart
    const sw = Date.UTC(2024, 9, 20, 12, 0);
    const off = (utc: number): number => (utc >= sw ? 10800 : 7200);
    const quiet = (t: Mt5Tick): boolean => t.utc < sw - 1000 || t.utc >= sw + 3000; // no ticks right at the change
    const a: ShimSymbol = { ...flaggedTape({ n: 1500, seed: 71, start: sw - 10_000, utcOffset: off }) };
    a.ticks = a.ticks.filter(quiet);
    const b: ShimSymbol = { ...flaggedTape({ n: 3000, seed: 72, start: sw - 30_000, utcOffset: off }), sym: 'WDOQ26' };
    b.ticks = b.ticks.filter(quiet);
    const dir = mkdtempSync(join(tmpdir(), 'mt5-restart-'));
    const db = join(dir, 'ticks.sqlite');
    const registry = new InstrumentRegistry();
    const sink1 = new SqliteTickSink(db);
    const s1 = new BridgeServer({ secret: SHIM_SECRET, sink: sink1, registry, dst: 'none', ackMs: 20 });
    const port = await s1.listen();
    const ea = new ShimEA({ broker: { startUtc: sw - 8000, speed: 2, offsets: [{ fromUtc: 0, off: 7200 }, { fromUtc: sw, off: 10800 }], symbols: [a, b] }, inputs: { InpPort: port, InpSecret: SHIM_SECRET, InpSymbols: a.sym, InpTimerMs: 20, InpBackfillDays: 1 } });
    ea.start();
    let s2: BridgeServer | null = null;
    try {
      // the first server sees the change live, then stops
      const aBefore = a.ticks.filter((t) => t.utc < sw + 5000).length;
      await until(() => countSym(sink1, a.sym) >= aBefore, 20_000, 'A past the change persisted');
      const feed = [...s1.feeds.keys()][0];
      expect((await sink1.offsets(feed)).map((r) => r.off)).toEqual([7200, 10800]);
      await s1.close();
      await sink1.close();
      // a new server on the same file and port: the EA reconnects; a new symbol's history spans the change
      const sink2 = new SqliteTickSink(db);
      s2 = new BridgeServer({ secret: SHIM_SECRET, sink: sink2, registry: new InstrumentRegistry(), dst: 'none', ackMs: 20, port });
      await s2.listen();
      await until(() => s2!.connected === 1, 10_000, 'the EA reconnected');
      expect(await s2.subscribe(feed, b.sym)).toBe(true);
      await until(() => countSym(sink2, b.sym) >= b.ticks.length, 30_000, 'B backfilled and live');
      const rows = sink2.db.prepare('SELECT ms, ord, utc_ms AS utc FROM mt5_ticks WHERE sym = ?').all(b.sym) as { ms: number; ord: number; utc: number }[];
      const utcOf = new Map(tapeIds(b.ticks).map((id, i) => [id, b.ticks[i].utc]));
      const wrong = rows.filter((t) => utcOf.get(`${t.ms}:${t.ord}`) !== t.utc);
      expect(rows.length).toBe(b.ticks.length);
      expect(b.ticks.filter((t) => t.utc < sw).length).toBeGreaterThan(1000); // history from before the change
      expect(wrong.length, `${wrong.length} ticks off, e.g. ${JSON.stringify(wrong[0])}`).toBe(0);
      await sink2.close();
    } finally {
      await ea.stop();
      await s2?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('10: sub/unsub: the server adds a symbol to a running EA (history backfilled, then live) and removes it', async () => {
    const a = flaggedTape({ n: 3000, seed: 31, start: T0, utcOffset: 10800 });
    const b = { ...flaggedTape({ n: 3000, seed: 32, start: T0, utcOffset: 10800 }), sym: 'WDOQ26' };
    const k = 1500;
    const r = await shimRig({}, { broker: { startUtc: a.ticks[k].utc, speed: 4, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [a, b] }, inputs: { InpSymbols: a.sym, InpTimerMs: 20, InpBackfillDays: 1 } });
    rigs.push(r);
    await until(() => r.server.connected === 1 && r.sink.ticks.length > 0, 10_000, 'connected and streaming');
    expect(r.sink.ticks.some((t) => t.sym === b.sym)).toBe(false);
    const feed = [...r.server.feeds.keys()][0];
    expect(await r.server.subscribe(feed, b.sym)).toBe(true);
    await until(() => r.sink.ticks.filter((t) => t.sym === b.sym).length > k, 20_000, 'the subscribed symbol backfilled and live');
    const before = r.sink.ticks.filter((t) => t.sym === b.sym).length;
    expect(r.server.unsubscribe(feed, b.sym)).toBe(true);
    await sleep(1500);
    const after = r.sink.ticks.filter((t) => t.sym === b.sym).length;
    expect(after - before).toBeLessThan(200); // what was in flight; then nothing
    await sleep(1000);
    expect(r.sink.ticks.filter((t) => t.sym === b.sym).length).toBe(after);
    const ids = new Set(r.sink.ticks.filter((t) => t.sym === b.sym).map((t) => `${t.ms}:${t.ord}`));
    expect(ids.size).toBe(after);
  }, 60_000);

  it('10: with InpSymbols empty, a Market Watch of 40 quiet symbols is not asked for ticks every timer pass', async () => {
    const active = flaggedTape({ n: 2000, seed: 41, start: T0, utcOffset: 10800 });
    const quiet: ShimSymbol[] = Array.from({ length: 40 }, (_, i) => ({ ...flaggedTape({ n: 3, seed: 50 + i, start: T0 - 7_200_000, utcOffset: 10800 }), sym: `Q${i}` }));
    const r = await shimRig({}, { broker: { startUtc: active.ticks[100].utc, speed: 4, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [active, ...quiet] }, inputs: { InpSymbols: '', InpTimerMs: 20, InpBackfillDays: 0 } });
    rigs.push(r);
    await sleep(4000);
    await r.ea.stop();
    const line = r.ea.grep(/\[shim\] stopped/)[0]?.text ?? '';
    const copyTicks = Number(/CopyTicks (\d+)/.exec(line)?.[1]);
    const timers = Number(/OnTimer (\d+)/.exec(line)?.[1]);
    const onTicks = Number(/OnTick (\d+)/.exec(line)?.[1]);
    expect(timers).toBeGreaterThan(50);
    // before: all 41 symbols on every pass (OnTimer and OnTick), 32,759 calls in one run; now the quiet
    // ones are skipped once caught up: about one call per pass for the active symbol
    expect(copyTicks).toBeLessThan((timers + onTicks) * 2);
    expect(copyTicks).toBeLessThan(41 * (timers + onTicks) / 10);
    expect(r.sink.ticks.filter((t) => t.sym === active.sym).length).toBeGreaterThan(1000);
  }, 30_000);
});

describe('smaller EA defects (10), by the shimmed EA', () => {
  it('10: a read timeout on a healthy connection is not taken for a broken socket when an earlier call left ERR_NETSOCKET_IO_ERROR (ResetLastError before SocketRead)', async () => {
    // GetLastError is the last error of any call until ResetLastError; an idle socket may answer
    // SocketIsReadable with a speculative 1, and the SocketRead that follows times out (-1) without an error of its own
    // a quiet market: 100 ticks in the first ~1.5 s, then only the server's heartbeat (1 s) and acks
    const tape = flaggedTape({ n: 100, seed: 12, start: T0, utcOffset: 10800 });
    const r = await shimRig({}, { staleLastError: 5273, idleReadable: true, broker: { startUtc: tape.ticks[0].utc - 500, speed: 1, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [tape] }, inputs: { InpSymbols: tape.sym, InpTimerMs: 20, InpBackfillDays: 0 } });
    rigs.push(r);
    await sleep(4000);
    expect(r.ea.disconnects()).toEqual([]);
    expect(r.server.stats.connections).toBe(1);
    expect(accounting(tapeIds(tape.ticks), r.sink.ticks)).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
  }, 30_000);

  it('10: no false mt5-resume-hole on a quiet market: a reconnect during 20 s without ticks resumes from the cursor, no hole, no backfill', async () => {
    // 300 ticks, 20 s of silence (past resumeHoleMs), 300 more; the connection is cut during the silence
    // (the EA is connected before the first tick: with no backfill, every tick is live)
    const raw = flaggedTape({ n: 600, seed: 13, start: T0, utcOffset: 10800 });
    const ticks = raw.ticks.map((t, i) => (i < 300 ? t : { ...t, utc: t.utc + 20_000, ms: t.ms + 20_000 }));
    const tape: ShimSymbol = { ...raw, ticks };
    const r = await shimRig({ resumeHoleMs: 5000 }, { broker: { startUtc: ticks[0].utc - 6000, speed: 4, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [tape] }, inputs: { InpSymbols: tape.sym, InpTimerMs: 20, InpBackfillDays: 0 } });
    rigs.push(r);
    await until(() => r.sink.ticks.length >= 300, 10_000, 'the first 300 ticks persisted');
    await sleep(500);
    expect(r.ea.realTimeOf(ticks[300].utc) - Date.now()).toBeGreaterThan(2000); // still quiet
    for (const f of r.server.feeds.values()) f.conn?.socket.destroy();
    await until(() => r.server.stats.connections === 2 && r.server.connected === 1, 10_000, 'reconnected');
    await until(() => r.sink.ticks.length >= 600, 20_000, 'every tick persisted');
    await sleep(300);
    expect(r.server.stats.resumeHoles).toBe(0);
    expect(r.live.filter((ev) => ev.type === 'gap')).toEqual([]);
    expect(r.server.stats.backfillRequests).toBe(0);
    expect(accounting(tapeIds(ticks), r.sink.ticks)).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
  }, 40_000);
});

function countSym(sink: SqliteTickSink, sym: string): number {
  return (sink.db.prepare('SELECT count(*) AS n FROM mt5_ticks WHERE sym = ?').get(sym) as { n: number }).n;
}

function quotesOnly(t: ShimSymbol): ShimSymbol {
  return { ...t, sym: 'EURUSD.q', spec: { ...t.spec, tape: 'quotes', chart: 'SYMBOL_CHART_MODE_BID', side_flags: false }, ticks: t.ticks.map((x) => ({ ...x, last: '0', vol: '0', flags: 6 })) };
}
