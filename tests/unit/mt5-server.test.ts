/**
 * The ten statements of docs mt5-bridge.md §9 against the real TCP bridge server and the simulated EA
 * (127.0.0.1, ephemeral ports, no mocks).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { MarketEvent, Trade } from '../../engine/src/core/events.js';
import { BridgeServer, type BridgeServerOptions } from '../../mt5-bridge/src/server.js';
import { MemoryTickSink, type BridgeTick } from '../../mt5-bridge/src/sink.js';
import { SqliteTickSink } from '../../mt5-bridge/src/sqlite-sink.js';
import { SimulatedEA, type SimEaOptions } from '../../mt5-bridge/src/sim-ea.js';
import { flaggedTape } from '../../mt5-bridge/src/sources.js';
import { computeMac, type ServerMsg } from '../../mt5-bridge/src/protocol.js';

const SECRET = 'test-secret';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig { server: BridgeServer; sink: MemoryTickSink; live: MarketEvent[]; history: MarketEvent[]; port: number; registry: InstrumentRegistry }

async function rig(opts: Partial<BridgeServerOptions> = {}, sink = new MemoryTickSink()): Promise<Rig> {
  const live: MarketEvent[] = [];
  const history: MarketEvent[] = [];
  const registry = opts.registry ?? new InstrumentRegistry();
  const server = new BridgeServer({ secret: SECRET, sink, registry, onEvent: (e) => live.push(e), onHistory: (e) => history.push(e), hbMs: 100, deadMs: 400, timerMs: 20, ackMs: 5, ...opts });
  const port = await server.listen();
  cleanups.push(() => server.close());
  return { server, sink: sink as MemoryTickSink, live, history, port, registry };
}

function ea(port: number, o: Partial<SimEaOptions> = {}): SimulatedEA {
  const e = new SimulatedEA({ port, secret: SECRET, symbols: o.symbols ?? [flaggedTape({ n: 2000, seed: 3 })], heartbeats: false, ...o });
  cleanups.push(() => e.close());
  return e;
}

/** A raw TCP client that collects server lines. */
async function raw(port: number): Promise<{ sock: Socket; msgs: ServerMsg[]; closed: Promise<number> }> {
  const sock = connect({ host: '127.0.0.1', port });
  const msgs: ServerMsg[] = [];
  let buf = '';
  sock.on('data', (b) => { buf += b.toString('utf8'); let i; while ((i = buf.indexOf('\n')) >= 0) { msgs.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); } });
  const t0 = Date.now();
  const closed = new Promise<number>((r) => sock.on('close', () => r(Date.now() - t0)));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  cleanups.push(() => { sock.destroy(); });
  return { sock, msgs, closed };
}

async function until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const trades = (evs: MarketEvent[]): Trade[] => evs.filter((e): e is Trade => e.type === 'trade');
const keyOf = (t: BridgeTick): string => `${t.sym}|${t.ms}|${t.ord}`;

describe('§9.1 handshake gate', () => {
  it('a line before hello → reject HELLO_REQUIRED and close within 100 ms; nothing reaches the engine', async () => {
    const r = await rig();
    const c = await raw(r.port);
    await until(() => c.msgs.length === 1);
    expect(c.msgs[0].t).toBe('challenge');
    const t0 = Date.now();
    c.sock.write('{"t":"ticks","s":1,"sym":"X","ts":[[1,0,"1","2","0","0",6]]}\n');
    const closedAfter = await c.closed;
    expect(c.msgs[1]).toMatchObject({ t: 'reject', code: 'HELLO_REQUIRED' });
    expect(Date.now() - t0).toBeLessThan(100);
    expect(closedAfter).toBeGreaterThan(0);
    expect(r.live).toHaveLength(0);
    expect(r.sink.ticks).toHaveLength(0);
  });

  it('wrong proto major → PROTO; bad MAC → BAD_MAC; no ticks from either', async () => {
    const r = await rig();
    const e1 = ea(r.port, { proto: 2 });
    await expect(e1.start()).rejects.toMatchObject({ code: 'PROTO' });
    const e2 = ea(r.port, { forceMac: 'ab'.repeat(32) });
    await expect(e2.start()).rejects.toMatchObject({ code: 'BAD_MAC' });
    expect(r.server.stats.rejects).toMatchObject({ PROTO: 1, BAD_MAC: 1 });
    expect(r.live).toHaveLength(0);
  });

  it('a client silent for more than helloTimeout after challenge is closed (HELLO_TIMEOUT)', async () => {
    const r = await rig({ helloTimeoutMs: 150 });
    const c = await raw(r.port);
    const dt = await c.closed;
    expect(c.msgs.map((m) => m.t)).toEqual(['challenge', 'reject']);
    expect(c.msgs[1]).toMatchObject({ code: 'HELLO_TIMEOUT' });
    expect(dt).toBeGreaterThanOrEqual(140);
    expect(dt).toBeLessThan(1000);
  });

  it('a valid hello is welcomed; a hand-built hello with the documented MAC works', async () => {
    const r = await rig();
    const c = await raw(r.port);
    await until(() => c.msgs.length === 1);
    const nonce = (c.msgs[0] as { nonce: string }).nonce;
    c.sock.write(JSON.stringify({ t: 'hello', s: 1, proto: 1, sid: 'x1', conn: 1, term: { company: 'C', server: 'S', login_h: 'h' }, utc_off: 7200, syms: ['EURUSD'], mac: computeMac(SECRET, nonce, 'x1', 1, 1) }) + '\n');
    await until(() => c.msgs.length === 2);
    expect(c.msgs[1]).toMatchObject({ t: 'welcome', hb_ms: 100, dead_ms: 400, subs: [{ sym: 'EURUSD', book: false, from: null }] });
  });
});

describe('§9.2 fragmentation invariance over TCP', () => {
  it('byte-at-a-time writes give the same persisted ticks and engine events as whole writes', async () => {
    const runOnce = async (byteWrites: boolean): Promise<{ ticks: string[]; events: string }> => {
      const r = await rig();
      const e = ea(r.port, { symbols: [flaggedTape({ n: 300, seed: 9 })], byteWrites, batchTicks: 50 });
      await e.start();
      e.release();
      await e.drain();
      e.sendRaw('{"t":"log","s":' + 0 + ',"msg":"x"}\n'); // out-of-order s is answered, not fatal
      await e.waitAcked();
      return { ticks: r.sink.sorted().map(keyOf), events: JSON.stringify(r.live) };
    };
    const a = await runOnce(false);
    const b = await runOnce(true);
    expect(a.ticks).toHaveLength(300);
    expect(b.ticks).toEqual(a.ticks);
    expect(b.events).toEqual(a.events);
  });
});

describe('§9.3 line cap and protocol errors', () => {
  it('an oversized line ends that connection with LINE_TOO_LONG; memory stays bounded; another terminal is unaffected', async () => {
    const r = await rig({ maxLine: 4096 });
    const good = ea(r.port, { terminal: { login: 'good' }, symbols: [flaggedTape({ n: 500, seed: 1 })], batchTicks: 20 });
    const bad = ea(r.port, { terminal: { login: 'bad' } });
    await good.start();
    await bad.start();
    const closed = new Promise<void>((res) => bad.once('close', () => res()));
    let maxBuf = 0;
    const chunk = '{"t":"log","s":2,"msg":"' + 'x'.repeat(1000);
    for (let i = 0; i < 10; i++) { bad.sendRaw(chunk); maxBuf = Math.max(maxBuf, r.server.bufferedBytes()); }
    await closed;
    expect(bad.rejects).toEqual([expect.objectContaining({ code: 'LINE_TOO_LONG' })]);
    expect(maxBuf).toBeLessThanOrEqual(4096 + 1024 + 64);
    expect(r.server.stats.oversized).toBe(1);
    good.release();
    await good.drain();
    await good.waitAcked();
    expect(r.sink.ticks).toHaveLength(500);
  });

  it('malformed JSON, bad UTF-8 and unknown types are counted and answered with err; the connection survives', async () => {
    const r = await rig();
    const e = ea(r.port, { symbols: [flaggedTape({ n: 100, seed: 2 })] });
    await e.start();
    e.sendRaw('{not json\n');
    e.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]));
    e.send({ t: 'telemetry', x: 1 });
    await until(() => e.errs.length === 3);
    expect(e.errs.map((x) => x.code).sort()).toEqual(['BAD_JSON', 'BAD_UTF8', 'UNKNOWN_TYPE']);
    expect(r.server.stats.errors).toMatchObject({ BAD_JSON: 1, BAD_UTF8: 1, UNKNOWN_TYPE: 1 });
    e.release();
    await e.drain();
    await e.waitAcked();
    expect(r.sink.ticks).toHaveLength(100);
  });
});

describe('§9.4/§9.5 exactly-once across reconnect, resume cursor', () => {
  it('drop mid-batch, reconnect with conn+1, replay from welcome.from with overlap: every (sym, ms, ord) once, in order', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 5000, seed: 5 });
    const e = ea(r.port, { symbols: [tape], batchTicks: 200 });
    const w1 = await e.start();
    expect(w1.subs[0].from).toBeNull();
    e.release(1500);
    await e.drain();
    await e.waitAcked();
    const acked = e.acked.get(tape.sym)!;
    e.release(1000);
    e.pump(); // these may or may not be persisted before the drop
    e.release(500);
    e.dropMidBatch(tape.sym, 300);
    await until(() => r.server.connected === 0);
    const w2 = await e.reconnect();
    expect(e.conn).toBe(2);
    const from = w2.subs.find((s) => s.sym === tape.sym)!.from!;
    // the resume cursor is the last persisted tick: never before what was acked
    expect(from[0] > acked[0] || (from[0] === acked[0] && from[1] >= acked[1])).toBe(true);
    const persisted = r.sink.sorted(tape.sym);
    const last = persisted[persisted.length - 1];
    expect(from).toEqual([last.ms, last.ord]);
    // replay with deliberate overlap: resume 300 ticks before the cursor
    e.release();
    await e.drain();
    await e.waitAcked();
    const all = r.sink.sorted(tape.sym);
    expect(all).toHaveLength(5000);
    expect(new Set(all.map(keyOf)).size).toBe(5000);
    // engine saw every tick exactly once, in non-decreasing (ms, ord)
    const liveTicks = r.sink.ticks.filter((t) => t.live);
    expect(liveTicks).toHaveLength(5000);
    const engineTrades = trades(r.live);
    const tradeTicks = tape.ticks.filter((t) => (t.flags & 8) !== 0);
    expect(engineTrades).toHaveLength(tradeTicks.length);
    for (let i = 1; i < r.sink.ticks.length; i++) {
      const a = r.sink.ticks[i - 1], b = r.sink.ticks[i];
      expect(b.ms > a.ms || (b.ms === a.ms && b.ord > a.ord)).toBe(true);
    }
  });

  it('overlapping replays from an older cursor are deduplicated (engine and store)', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 1000, seed: 6 });
    const e = ea(r.port, { symbols: [tape] });
    await e.start();
    e.release();
    await e.drain();
    await e.waitAcked();
    // a buggy EA resends everything from the start on a new connection
    await e.reconnect();
    (e as unknown as { syms: Map<string, { cursor: { ms: number; n: number } }> }).syms.get(tape.sym)!.cursor = { ms: 0, n: 0 };
    await e.drain();
    await e.waitAcked();
    expect(r.sink.ticks).toHaveLength(1000);
    expect(r.server.stats.duplicates).toBe(1000);
    expect(r.server.stats.ticksLive).toBe(1000);
  });

  it('the cursor never moves past an unpersisted tick when the server dies between receive and persist (SQLite)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mt5-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ticks.sqlite');
    const tape = flaggedTape({ n: 3000, seed: 8 });
    const s1 = new SqliteTickSink(path, { synchronous: 'NORMAL' });
    const r1 = await rig({}, s1 as unknown as MemoryTickSink);
    const e = ea(r1.port, { symbols: [tape], reconnect: false });
    await e.start();
    e.release(1000);
    await e.drain();
    await e.waitAcked();
    const acked = e.acked.get(tape.sym)!;
    // "kill" the store: appends never complete from here on
    const hang = s1.append.bind(s1);
    s1.append = () => new Promise<void>(() => {});
    e.release(1000);
    await e.drain();
    await until(() => r1.server.stats.ticksLive === 2000);
    e.disconnect();
    await r1.server.close(0); // killed: nothing waits for the hung store
    s1.append = hang;
    expect(await s1.cursor(r1.server.feeds.keys().next().value!, tape.sym)).toEqual({ ms: acked[0], ord: acked[1] });
    await s1.close();
    // a new server over the same database
    const s2 = new SqliteTickSink(path);
    cleanups.push(() => s2.close());
    const r2 = await rig({}, s2 as unknown as MemoryTickSink);
    const e2 = new SimulatedEA({ port: r2.port, secret: SECRET, symbols: [tape], heartbeats: false, sid: e.sid });
    cleanups.push(() => e2.close());
    e2.release(2000);
    const w = await e2.start();
    expect(w.subs[0].from).toEqual(acked);
    e2.release();
    await e2.drain();
    await e2.waitAcked();
    expect(s2.count()).toBe(3000);
  }, 20_000);
});

describe('resume with no persisted cursor', () => {
  it('a drop before anything was persisted replays from where this EA session went live (welcome.from null)', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 1200, seed: 31 });
    const e = ea(r.port, { symbols: [tape] });
    const sink = r.sink;
    sink.delayMs = 300; // nothing is durable yet when the connection drops
    await e.start();
    e.release(700);
    await e.drain();
    await until(() => r.server.stats.ticksLive === 700);
    e.disconnect();
    await until(() => r.server.connected === 0);
    const w = await e.reconnect();
    sink.delayMs = 0;
    expect(w.subs[0].from).toBeNull();
    e.release();
    await e.drain();
    await e.waitAcked();
    expect(sink.sorted(tape.sym)).toHaveLength(1200);
    expect(r.server.stats.ticksLive).toBe(1200); // the engine still saw each tick once
  });
});

describe('§7.7.4 resume point older than the EA\'s replay window', () => {
  it('the EA starts live; the server backfills the hole between its cursor and the first live tick: none lost, none twice', async () => {
    const r = await rig({ resumeHoleMs: 2000 });
    const tape = flaggedTape({ n: 3000, seed: 41 });
    const e = ea(r.port, { symbols: [tape], replayWindowMs: 5000, batchTicks: 200 });
    const gaps: { kind: string; from_ms?: number; to_ms?: number }[] = [];
    r.server.on('gap', (g) => gaps.push(g));
    let exceeded = 0;
    e.on('replay_window_exceeded', () => exceeded++);
    await e.start();
    e.release(1000);
    await e.drain();
    await e.waitAcked();
    const cursor = e.acked.get(tape.sym)!;
    expect(cursor[0]).toBe(tape.ticks[999].ms);
    // offline while ~1000 ticks happen (well over 5 s of broker time)
    e.disconnect();
    await until(() => r.server.connected === 0);
    e.release(1000);
    expect(tape.ticks[1999].ms - cursor[0]).toBeGreaterThan(5000);
    const w = await e.reconnect();
    expect(w.subs[0].from).toEqual(cursor);
    expect(exceeded).toBe(1);
    e.release();
    const bf = e.waitFor('bf_req');
    e.pump();
    await bf;
    const req = e.bfReqs[0];
    expect(req.sym).toBe(tape.sym);
    expect(req.from_ms).toBe(cursor[0]);
    expect(req.to_ms).toBeGreaterThanOrEqual(tape.ticks[1999].ms);
    expect(gaps).toEqual([expect.objectContaining({ kind: 'resume', from_ms: cursor[0], to_ms: req.to_ms })]);
    expect(r.server.stats.resumeHoles).toBe(1);
    expect(r.live.some((ev) => ev.type === 'gap' && ev.reason === 'mt5-resume-hole')).toBe(true);
    await e.drain();
    await e.waitAcked();
    await until(() => r.server.stats.ticksHistory > 0);
    const all = r.sink.sorted(tape.sym);
    expect(all).toHaveLength(3000);
    expect(new Set(all.map(keyOf)).size).toBe(3000);
    // the hole came back as history (stored, never on the live stream)
    const hole = new Set(tape.ticks.slice(1000, 2000).map((t) => t.ms)); // the EA went live after tick 1999's ms
    const hist = all.filter((t) => !t.live);
    expect(hist.length).toBeGreaterThanOrEqual(900);
    for (const t of hist) expect(hole.has(t.ms) || t.ms === cursor[0] || t.ms === req.to_ms).toBe(true);
  });

  it('a resume inside the window replays from the cursor and requests nothing', async () => {
    const r = await rig({ resumeHoleMs: 2000 });
    const tape = flaggedTape({ n: 1200, seed: 42 });
    const e = ea(r.port, { symbols: [tape], replayWindowMs: 3_600_000 });
    await e.start();
    e.release(600);
    await e.drain();
    await e.waitAcked();
    e.disconnect();
    await until(() => r.server.connected === 0);
    e.release(300);
    await e.reconnect();
    e.release();
    await e.drain();
    await e.waitAcked();
    expect(r.server.stats.resumeHoles).toBe(0);
    expect(e.bfReqs).toHaveLength(0);
    expect(r.sink.sorted(tape.sym)).toHaveLength(1200);
    expect(r.server.stats.ticksLive).toBe(1200);
  });
});

describe('§9.6 sequence gaps', () => {
  it('a lost ticks line → gap event and a bf_req for the window; the backfill restores storage without entering the live stream', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 3000, seed: 11 });
    const e = ea(r.port, { symbols: [tape], batchTicks: 100, passTicks: 100 });
    const gaps: unknown[] = [];
    r.server.on('gap', (g) => gaps.push(g));
    await e.start();
    e.release(1000);
    await e.drain();
    e.release(100);
    e.loseNextTicksLine();
    e.pump(); // the line carrying ticks 1000..1099 is lost, its s is consumed
    e.release();
    const bf = e.waitFor('bf_req');
    e.pump();
    await bf;
    expect(gaps).toEqual([expect.objectContaining({ kind: 'seq', expected: expect.any(Number), got: expect.any(Number) })]);
    const req = e.bfReqs[0];
    expect(req.sym).toBe(tape.sym);
    expect(req.from_ms).toBe(tape.ticks[999].ms);
    expect(req.to_ms).toBe(tape.ticks[1100].ms);
    await e.drain();
    await e.waitAcked();
    await until(() => r.server.stats.ticksHistory > 0);
    const all = r.sink.sorted(tape.sym);
    expect(all).toHaveLength(3000);
    const lost = new Set(tape.ticks.slice(1000, 1100).map((t) => t.ms));
    // the lost ticks are in storage as history, and were never published live
    const hist = all.filter((t) => !t.live);
    expect(hist.length).toBeGreaterThanOrEqual(100);
    for (const t of hist) expect(lost.has(t.ms) || t.ms === tape.ticks[999].ms || t.ms === tape.ticks[1100].ms).toBe(true);
    expect(r.server.stats.ticksLive).toBe(2900);
    expect(r.live.some((ev) => ev.type === 'gap' && ev.reason === 'mt5-seq-gap')).toBe(true);
  });

  it('a skipped book sequence starts a new snapshot generation, never diffing across the gap', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 10, seed: 1 });
    const e = ea(r.port, { symbols: [tape] });
    await e.start();
    const ms = tape.ticks[0].ms;
    e.sendBook(tape.sym, [['128000', '10'], ['127995', '4']], [['128005', '7']], ms);
    e.sendBook(tape.sym, [['128000', '12'], ['127995', '4']], [['128005', '7'], ['128010', '3']], ms + 20);
    e.sendBook(tape.sym, [['128000', '12']], [['128005', '7'], ['128010', '3']], ms + 40, 1); // bs jumps by 2
    e.sendBook(tape.sym, [['128000', '12']], [['128005', '7'], ['128010', '3']], ms + 60); // unchanged: suppressed
    await until(() => r.server.stats.books === 4);
    const book = r.live.filter((x) => x.type === 'book_snapshot' || x.type === 'book_delta' || x.type === 'gap');
    expect(book.map((x) => x.type)).toEqual(['book_snapshot', 'book_delta', 'gap', 'book_snapshot']);
    const inst = r.registry.get('WINQ26');
    const d = book[1] as { bids: [number, number][]; asks: [number, number][] };
    expect(d.bids).toEqual([[inst.price.parse('128000'), 12]]);
    expect(d.asks).toEqual([[inst.price.parse('128010'), 3]]);
    expect((book[3] as { seq: number }).seq).toBe(4);
    expect(r.server.stats.bookGaps).toBe(1);
  });
});

describe('§9.7 heartbeat liveness', () => {
  it('a half-open client is declared dead within dead_ms + one timer tick; state released; reconnect accepted', async () => {
    const r = await rig({ deadMs: 300, timerMs: 20 });
    const e = ea(r.port, { heartbeats: true });
    await e.start();
    await e.waitFor('hb', () => true, 2000); // server heartbeats flow
    const disc = new Promise<{ reason: string; at: number }>((res) => r.server.once('disconnected', (d) => res({ ...d, at: Date.now() })));
    e.goHalfOpen();
    const silentSince = e.lastWriteAt;
    const d = await disc;
    expect(d.reason).toMatch(/^DEAD/);
    // dead_ms after the last byte, plus at most one timer tick (and scheduling slack)
    expect(d.at - silentSince).toBeGreaterThanOrEqual(300);
    expect(d.at - silentSince).toBeLessThanOrEqual(300 + 20 + 30);
    expect(r.server.connected).toBe(0);
    const [feed] = r.server.feeds.values();
    expect(feed.conn).toBeNull();
    const w = await e.reconnect();
    expect(w.t).toBe('welcome');
    expect(r.server.connected).toBe(1);
  });
});

describe('§9.8 backfill isolation', () => {
  it('initial backfill of bf_days: history persisted as history, and handed to the engine in time order before the live ticks held meanwhile', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 4000, seed: 12 });
    tape.released = 2000; // already happened before the EA connected: history
    const e = ea(r.port, { symbols: [tape], bfDays: 1, chunkTicks: 300, passTicks: 100, batchTicks: 100 });
    const w = await e.start();
    expect(w.subs[0].from).toBeNull();
    e.release(100);
    const bf = e.waitFor('bf_req');
    e.pump();
    await bf;
    expect(e.bfReqs[0].to_ms).toBe(tape.ticks[2000].ms);
    // interleave: release live ticks while the backfill is served one chunk per pass
    for (let i = 0; i < 30; i++) { e.release(50); e.pump(); }
    e.release();
    await e.drain();
    await e.waitAcked();
    await until(() => r.server.stats.ticksHistory >= 2000);
    const all = r.sink.sorted(tape.sym);
    expect(all).toHaveLength(4000);
    expect(all.slice(0, 2000).every((t) => !t.live)).toBe(true);
    expect(all.slice(2000).every((t) => t.live)).toBe(true);
    // issue 18: the engine gets the history too, in time order: its live ticks were held until the
    // backfill was persisted, then history first, then the held live ticks, each once
    const histTrades = trades(r.history);
    expect(histTrades.length).toBeGreaterThan(0);
    expect(r.server.stats.ticksLive).toBe(2000);
    const engineTs = trades(r.live).map((t) => t.ts);
    expect(engineTs).toEqual([...engineTs].sort((a, b) => a - b));
    const tapeTradeTs = tape.ticks.filter((t) => t.flags & 8).map((t) => t.ms - 7_200_000); // the EA announces 7200
    expect(engineTs).toEqual(tapeTradeTs);
    expect(r.server.stats.historyToEngine).toBe(2000);
  });

  it('a backfill cut off before bf_end is discarded whole and re-requested on the next connection; one bf_req per symbol', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 3000, seed: 13 });
    tape.released = 2000;
    const e = ea(r.port, { symbols: [tape], bfDays: 1, chunkTicks: 200 });
    await e.start();
    e.release(10);
    const bf = e.waitFor('bf_req');
    e.pump();
    await bf;
    e.pump(); e.pump(); // bf_begin + 3 chunks sent, no bf_end
    await until(() => r.server.stats.linesIn >= 6);
    e.disconnect();
    await until(() => r.server.stats.backfillsDiscarded === 1);
    expect(r.sink.ticks.filter((t) => !t.live)).toHaveLength(0);
    const bf2 = new Promise<void>((res) => e.once('bf_req', () => res()));
    await e.reconnect();
    await bf2;
    expect(e.bfReqs).toHaveLength(2);
    expect(e.bfReqs[1].from_ms).toBe(e.bfReqs[0].from_ms);
    expect(e.bfReqs[1].id).not.toBe(e.bfReqs[0].id);
    e.release();
    await e.drain();
    await e.waitAcked();
    await until(() => r.server.stats.ticksHistory >= 2000);
    expect(r.sink.ticks).toHaveLength(3000);
    expect(r.server.stats.backfillRequests).toBe(2);
  });
});

describe('§9.9 time normalisation', () => {
  it('utc = time_msc − utc_off: a DST change announced by heartbeat applies from then on', async () => {
    const r = await rig();
    const switchUtc = Date.UTC(2024, 2, 31, 1, 0); // EU spring forward: broker GMT+2 → GMT+3
    const dst = (utc: number): number => (utc < switchUtc ? 7200 : 10800);
    const tape = flaggedTape({ n: 2000, seed: 14, start: switchUtc - 20_000, utcOffset: dst });
    const e = ea(r.port, { symbols: [tape], utcOffset: dst });
    const offs: unknown[] = [];
    r.server.on('offset', (o) => offs.push(o));
    await e.start();
    e.release();
    await e.drain();
    await e.waitAcked();
    expect(offs).toEqual([expect.objectContaining({ from: 7200, to: 10800 })]);
    const byKey = new Map(r.sink.ticks.map((t) => [`${t.ms}|${t.ord}`, t.utcMs]));
    let i = 0, ms = -1, ord = 0, before = 0, after = 0;
    for (const t of tape.ticks) {
      if (t.ms !== ms) { ms = t.ms; ord = 0; } else ord++;
      expect(byKey.get(`${t.ms}|${ord}`), `tick ${i}`).toBe(t.utc);
      if (t.utc < switchUtc) before++; else after++;
      i++;
    }
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(0);
  });

  it('offsets off the 900 s grid are rounded (default) or rejected (configured)', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 50, seed: 15 });
    const e = ea(r.port, { symbols: [tape], utcOffset: 7200 + 37 });
    await e.start();
    e.release();
    await e.drain();
    await e.waitAcked();
    expect(r.sink.ticks[0].utcMs).toBe(tape.ticks[0].ms - 7200_000);
    const r2 = await rig({ offsetPolicy: 'reject' });
    const e2 = ea(r2.port, { symbols: [tape], utcOffset: 7200 + 37 });
    await expect(e2.start()).rejects.toMatchObject({ code: 'BAD_OFFSET' });
  });
});

describe('§9.10 aggressor labelling', () => {
  it('32 → buy, 64 → sell, 96/none → unknown (ladder); high bits ignored; nothing relabelled', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 3000, seed: 16, ambiguous: 0.05, unflagged: 0.05, highBits: true });
    const e = ea(r.port, { symbols: [tape] });
    await e.start();
    e.release();
    await e.drain();
    await e.waitAcked();
    const stored = r.sink.ticks.filter((t) => (t.flags & 8) !== 0);
    let amb = 0;
    for (const t of stored) {
      const f = t.flags & 96;
      expect(t.flags & 1024).toBe(1024);
      if (f === 32) expect([t.side, t.sideSource]).toEqual(['buy', 'flag']);
      else if (f === 64) expect([t.side, t.sideSource]).toEqual(['sell', 'flag']);
      else { expect([t.side, t.sideSource]).toEqual(['unknown', 'none']); if (f === 96) amb++; }
    }
    expect(amb).toBeGreaterThan(50);
    expect(r.server.stats.ambiguousFlags).toBe(amb);
    // engine events mirror the labels
    const tr = trades(r.live);
    expect(tr.filter((t) => t.sideSource === 'flag')).toHaveLength(stored.filter((t) => t.sideSource === 'flag').length);
    expect(r.server.listenerCount('warning')).toBe(0);
  });

  it('quotes-tape symbols never carry side_source flag; > 98 % BUY raises flag_pathology', async () => {
    const r = await rig({ pathologyMinSample: 500 });
    const warnings: { code: string; sym: string; share: number }[] = [];
    r.server.on('warning', (w) => warnings.push(w));
    const quotesTape = flaggedTape({ n: 500, seed: 17, sym: 'CFDX' });
    quotesTape.spec = { ...quotesTape.spec, tape: 'quotes', side_flags: false };
    const buyAll = flaggedTape({ n: 3000, seed: 18, sym: 'WDON26', buyShare: 1, ambiguous: 0, unflagged: 0 });
    const balanced = flaggedTape({ n: 3000, seed: 19, sym: 'INDQ26' });
    const e = ea(r.port, { symbols: [quotesTape, buyAll, balanced] });
    await e.start();
    e.release();
    await e.drain();
    await e.waitAcked();
    const q = r.sink.ticks.filter((t) => t.sym === 'CFDX');
    expect(q.length).toBe(500);
    expect(q.every((t) => t.sideSource !== 'flag')).toBe(true);
    expect(trades(r.live).filter((t) => t.instrument === 'CFDX').every((t) => t.sideSource !== 'flag')).toBe(true);
    expect(warnings).toEqual([expect.objectContaining({ code: 'flag_pathology', sym: 'WDON26' })]);
    expect(warnings[0].share).toBe(1);
    // still labelled by flag, never relabelled by inference
    expect(trades(r.live).filter((t) => t.instrument === 'WDON26').every((t) => t.side === 'buy' && t.sideSource === 'flag')).toBe(true);
  });
});

describe('several terminals', () => {
  it('two terminals stream at once into separate feeds; a second session of the same terminal is DUP_SESSION', async () => {
    const r = await rig();
    const a = ea(r.port, { terminal: { company: 'A', login: '1' }, symbols: [flaggedTape({ n: 1500, seed: 20 })] });
    const b = ea(r.port, { terminal: { company: 'B', login: '2' }, symbols: [flaggedTape({ n: 1200, seed: 21 })] });
    await Promise.all([a.start(), b.start()]);
    const dup = ea(r.port, { terminal: { company: 'A', login: '1' } });
    await expect(dup.start()).rejects.toMatchObject({ code: 'DUP_SESSION' });
    a.release(); b.release();
    await Promise.all([a.drain(), b.drain()]);
    await Promise.all([a.waitAcked(), b.waitAcked()]);
    expect(r.server.feeds.size).toBe(2);
    const byFeed = new Map<string, number>();
    for (const t of r.sink.ticks) byFeed.set(t.feed, (byFeed.get(t.feed) ?? 0) + 1);
    expect([...byFeed.values()].sort()).toEqual([1200, 1500]);
  });

  it('a store failure drops the connection; the EA resends from the durable cursor; storage ends exactly-once', async () => {
    const r = await rig();
    const tape = flaggedTape({ n: 2000, seed: 22 });
    const e = ea(r.port, { symbols: [tape] });
    await e.start();
    e.release(1000);
    await e.drain();
    await e.waitAcked();
    r.sink.failNext = true;
    e.release(500);
    const closed = new Promise<void>((res) => e.once('close', () => res()));
    await e.drain();
    await closed;
    expect(r.server.stats.sinkErrors).toBe(1);
    await e.reconnect();
    e.release();
    await e.drain();
    await e.waitAcked();
    expect(r.sink.sorted().map(keyOf)).toHaveLength(2000);
    expect(r.server.stats.ticksLive).toBe(2000);
  });
});

describe('reply backpressure', () => {
  /** A hand-driven EA past the handshake (its own terminal identity). */
  async function readyRaw(port: number, company: string): Promise<Awaited<ReturnType<typeof raw>>> {
    const c = await raw(port);
    await until(() => c.msgs.length === 1);
    const nonce = (c.msgs[0] as { nonce: string }).nonce;
    c.sock.write(JSON.stringify({ t: 'hello', s: 0, proto: 1, sid: `sid-${company}`, conn: 1, term: { company, server: 'S', login_h: 'h' }, utc_off: 0, syms: [], mac: computeMac(SECRET, nonce, `sid-${company}`, 1, 1) }) + '\n');
    await until(() => c.msgs.length === 2);
    expect(c.msgs[1].t).toBe('welcome');
    return c;
  }

  /** `n` lines of an unknown ~1 KiB type: each is answered with an err of about the same size. */
  const junk = (n: number, from: number): string => {
    const pad = 'u'.repeat(1000);
    let out = '';
    for (let i = 0; i < n; i++) out += `{"t":"${pad}","s":${from + i}}\n`;
    return out;
  };

  it('an EA that sends without reading: its input pauses until drain, unsent reply bytes stay bounded, another terminal streams on, and nothing is lost once it reads', async () => {
    const r = await rig({ hbMs: 60_000, deadMs: 60_000, replyStallMs: 60_000 });
    const c = await readyRaw(r.port, 'Stalled');
    c.sock.pause(); // stops reading from here on; keeps writing
    const LINES = 40_000; // ≈ 40 MB in, ≈ 40 MB of err replies if every one were buffered
    const input = junk(LINES, 1);
    c.sock.write(input);
    await until(() => r.server.stats.replyStalls >= 1, 10_000);

    // another terminal streams a full tape while the first is stalled
    const other = ea(r.port, { terminal: { company: 'Other', login: '2' }, symbols: [flaggedTape({ n: 3000, seed: 40 })] });
    await other.start();
    other.release();
    let peakNow = 0;
    const sampler = setInterval(() => { peakNow = Math.max(peakNow, r.server.replyBytesBuffered()); }, 2);
    await other.drain();
    await other.waitAcked();
    const linesA = r.server.stats.linesIn;
    await new Promise((res) => setTimeout(res, 300));
    clearInterval(sampler);
    const otherFeed = [...r.server.feeds.keys()].find((k) => k.startsWith('Other|'))!;
    expect(r.sink.ticks.filter((t) => t.feed === otherFeed)).toHaveLength(3000);

    // the stalled connection: input paused (the server read nothing more while our data waited in our own buffer)
    expect(c.sock.writableLength).toBeGreaterThan(0);
    expect(r.server.stats.linesIn).toBe(linesA);
    expect(r.server.stats.linesIn).toBeLessThan(LINES);
    expect(r.server.stats.repliesDropped).toBeGreaterThan(0);
    // bounded: highWaterMark (16 KiB) plus a reply or two, never the megabytes of errs owed
    expect(r.server.stats.replyBufferedPeak).toBeLessThan(64 * 1024);
    expect(peakNow).toBeLessThan(64 * 1024);
    expect(r.server.stats.slowReaders).toBe(0);

    // the EA reads again: the server drains, resumes its input and processes every line once
    c.sock.resume();
    await until(() => (r.server.stats.errors.UNKNOWN_TYPE ?? 0) === LINES, 30_000);
    await until(() => c.msgs.filter((m) => m.t === 'err').length + r.server.stats.repliesDropped === LINES, 10_000);
    expect(r.server.stats.replyBufferedPeak).toBeLessThan(64 * 1024);
    expect(r.server.connected).toBe(2);
    expect(c.sock.destroyed).toBe(false);
  }, 60_000);

  it('an EA that never reads is dropped after replyStallMs (or past maxReplyBytes); its buffered replies are released', async () => {
    for (const opts of [{ replyStallMs: 200 }, { maxReplyBytes: 8 * 1024 }]) {
      const r = await rig({ hbMs: 60_000, deadMs: 60_000, replyStallMs: 60_000, ...opts });
      const dropped = new Promise<{ why: string }>((res) => r.server.once('slow_reader', res));
      const c = await readyRaw(r.port, 'Deaf');
      c.sock.on('error', () => {}); // the server resets it while our write is pending
      c.sock.pause();
      c.sock.write(junk(20_000, 1));
      const { why } = await dropped;
      expect(why).toMatch('replyStallMs' in opts ? /undrained for \d+ ms/ : /reply bytes unsent \(max 8192\)/);
      expect(r.server.stats.slowReaders).toBe(1);
      await until(() => r.server.connected === 0);
      expect(r.server.replyBytesBuffered()).toBe(0);
      expect(r.server.stats.replyBufferedPeak).toBeLessThan(64 * 1024);
    }
  }, 30_000);
});
