import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { streamPerTest, tape, sleep, feed, type Started } from '../browser/stream-support.js';
import { encode } from '../../datafeed-adapter/src/ws/frames.js';
import { createLogger } from '../../engine/src/log.js';

const rig = streamPerTest();
const client = rig.client;
let s: Started | null = null;
const T0 = Date.UTC(2024, 7, 8, 0, 0);

describe('ws auth', () => {
  it('rejects subscriptions without a token, rejects a bad token, accepts a good one (hello or ?token=)', async () => {
    s = await rig.start({ token: 'sekrit', authTimeoutMs: 400 });
    const a = await client(s.url);
    a.send({ v: 1, op: 'subscribe', id: 1, ch: 'bar', sym: 'BTCUSDT' });
    const e = await a.next((m) => m.op === 'error');
    expect(e).toMatchObject({ code: 'unauthorized', ref: 1 });
    expect((await a.closed).code).toBe(4001);

    const b = await client(s.url);
    b.send({ v: 1, op: 'hello', id: 2, token: 'wrong' });
    expect(await b.next((m) => m.op === 'error')).toMatchObject({ code: 'unauthorized', ref: 2 });
    expect(await b.closed).toEqual({ code: 4001, reason: 'unauthorized' });

    const c = await client(s.url);
    c.send({ v: 1, op: 'hello', id: 3 });
    expect(await c.next((m) => m.op === 'welcome')).toMatchObject({ authenticated: false, authRequired: true });
    expect(await c.closed).toEqual({ code: 4001, reason: 'authentication timeout' });

    const d = await client(s.url);
    d.send({ v: 1, op: 'hello', id: 4, token: 'sekrit' });
    expect(await d.next((m) => m.op === 'welcome')).toMatchObject({ ref: 4, authenticated: true });
    expect((await d.subscribe('bar', 'BTCUSDT')).op).toBe('snapshot');

    const q = await client(`${s.url}?token=sekrit`);
    expect((await q.subscribe('stats', 'BTCUSDT')).op).toBe('snapshot');
    await sleep(500);
    expect(d.closeCode).toBeNull();
    expect(q.closeCode).toBeNull();
  });
});

describe('ws malformed input', () => {
  it('answers 200 malformed frames with errors, keeps those connections and serves other clients', async () => {
    s = await rig.start();
    const good = await client(s.url);
    const gsnap = await good.subscribe('bar', 'BTCUSDT', '1m');
    const trades = tape(20000, { start: T0, stepMs: 50 });
    const f = feed(s.engine, trades, 200, 10);

    const bad: Uint8Array[] = [];
    const big = new Uint8Array(70 * 1024).fill(0x01);
    const variants: (() => Uint8Array | string)[] = [
      () => Uint8Array.from([0xc1]), // never-used msgpack byte
      () => Uint8Array.from([0x85, 0xa1]), // truncated map
      () => big, // above the 64 KiB soft limit
      () => encode({ v: 1, op: 'explode' }),
      () => encode({ v: 1, op: 'subscribe', ch: 'weather', sym: 'BTCUSDT' }),
      () => encode({ v: 1, op: 'subscribe', ch: 'bar', sym: 'NOPE' }),
      () => encode({ v: 1, op: 'subscribe', ch: 5, sym: [] }),
      () => encode({ v: 1, op: 'subscribe', ch: 'bar', sym: 'BTCUSDT', limit: 'x' }),
      () => encode({ v: 1, op: 'subscribe', ch: 'bar', sym: 'BTCUSDT', tf: '7W' }),
      () => encode({ v: 2, op: 'hello' }),
      () => encode([1, 2, 3]),
      () => encode(12345),
      () => '{"v":1,"op":"hello"}', // text frame
    ];
    for (let i = 0; i < 200; i++) { const x = variants[i % variants.length](); bad.push(typeof x === 'string' ? new TextEncoder().encode(x) : x); }
    const conns = await Promise.all(Array.from({ length: 8 }, () => client(s!.url)));
    for (let k = 0; k < 8; k++) {
      for (let i = k * 25; i < (k + 1) * 25; i++) {
        const v = variants[i % variants.length]();
        conns[k].sendRaw(v, typeof v !== 'string');
      }
      await sleep(30);
    }
    for (const c of conns) await c.next(() => c.msgs.filter((m) => m.op === 'error').length === 25, 5000);
    const errors = conns.flatMap((c) => c.msgs.filter((m) => m.op === 'error'));
    expect(errors.length).toBe(200);
    const codes = new Set(errors.map((e) => e.code));
    expect([...codes].sort()).toEqual(['bad_frame', 'bad_request', 'bad_symbol', 'bad_timeframe', 'bad_version', 'too_large', 'unknown_channel', 'unknown_op'].sort());
    for (const e of errors) { expect(typeof e.message).toBe('string'); expect(e.message.length).toBeGreaterThan(0); expect('ref' in e).toBe(true); }
    // the misbehaving connections are still usable
    for (const c of conns) expect((await c.subscribe('stats', 'BTCUSDT')).op).toBe('snapshot');
    await f.done;
    const ups = good.updates(gsnap.sub);
    expect(ups.filter((u) => u.d.closed).length).toBe(s.engine.pipelines.get('BTCUSDT')!.bars.length);
    ups.forEach((u, i) => expect(u.seq).toBe(i + 1));
    expect(good.closeCode).toBeNull();
  });

  it('closes a connection that keeps misbehaving (4002 after maxStrikes) and one sending above maxPayload (1009)', async () => {
    s = await rig.start({ maxStrikes: 10, maxPayload: 128 * 1024 });
    const other = await client(s.url);
    const c = await client(s.url);
    for (let i = 0; i < 15; i++) c.sendRaw(Uint8Array.from([0xc1]));
    expect(await c.closed).toEqual({ code: 4002, reason: 'too many errors' });
    expect(c.msgs.filter((m) => m.op === 'error').length).toBe(10);
    expect(c.msgs.at(-1)!.strikes).toBe(10);
    const h = await client(s.url);
    h.sendRaw(new Uint8Array(200 * 1024));
    expect((await h.closed).code).toBe(1009);
    expect((await other.subscribe('bar', 'BTCUSDT')).op).toBe('snapshot');
  });
});

describe('ws heartbeat and backpressure', () => {
  it('terminates a client that stops answering pings', async () => {
    s = await rig.start({ heartbeatMs: 150 });
    const dead = new WebSocket(s.url, { autoPong: false });
    await new Promise((r) => dead.once('open', r));
    const closed = new Promise<number>((r) => dead.once('close', (code) => r(code)));
    const live = await client(s.url);
    expect(await closed).toBe(1006);
    expect(s.server.stats().counters.heartbeatTimeouts).toBe(1);
    await sleep(400);
    expect(live.closeCode).toBeNull();
    expect(s.server.stats().connections).toBe(1);
  });

  it('a client that stops reading is conflated, stays bounded and is dropped; a fast client keeps flowing', async () => {
    const limits = { highWaterBytes: 64 << 10, maxBufferedBytes: 1 << 20, maxQueueBytes: 512 << 10, stallTimeoutMs: 3000, heartbeatMs: 60_000 };
    const lines: string[] = [];
    s = await rig.start({ ...limits, logger: createLogger({ level: 'warn', format: 'json', write: (l) => lines.push(l) }) });
    const fast = await client(s.url);
    const slow = await client(s.url);
    const subs: Record<string, number> = {};
    for (const c of [fast, slow]) for (const [ch, tf] of [['tick', undefined], ['footprint', '1m'], ['bar', '1m'], ['vwap', undefined]] as const) {
      const snap = await c.subscribe(ch, 'BTCUSDT', tf);
      if (c === fast) subs[ch] = snap.sub;
    }
    const slowId = s.server.stats().clients.find((x) => x.subs === 4 && x.id === Math.max(...s!.server.stats().clients.map((y) => y.id)))!.id;
    slow.ws.pause();
    const trades = tape(400_000, { start: T0, stepMs: 5 });
    const f = feed(s.engine, trades, 1000, 5);
    let maxQueue = 0, maxBuffered = 0, droppedAt = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 20_000) {
      const st = s.server.stats();
      const me = st.clients.find((x) => x.id === slowId);
      if (!me) { droppedAt = performance.now(); break; }
      maxQueue = Math.max(maxQueue, me.queueBytes);
      maxBuffered = Math.max(maxBuffered, me.bufferedAmount);
      await sleep(20);
    }
    expect(droppedAt).toBeGreaterThan(0);
    expect(s.server.stats().counters.dropped).toBe(1);
    const drop = JSON.parse(lines.find((l) => l.includes('slow consumer'))!);
    expect(drop.conn).toBe(slowId);
    expect(drop.why).toMatch(/congested for|queue|send buffer/);
    expect(maxBuffered).toBeGreaterThan(limits.highWaterBytes); // it really was congested
    if (process.env.TAPEFLOW_TEST_VERBOSE) console.log({ drop: drop.why, maxQueue, maxBuffered, ms: droppedAt - t0, fastMsgs: fast.msgs.length });
    expect(maxBuffered).toBeLessThanOrEqual(limits.maxBufferedBytes);
    expect(maxQueue).toBeLessThanOrEqual(limits.maxQueueBytes + (256 << 10));
    // the fast client received updates all along: no gap above 1 s while the slow one was congested
    const win = fast.times.filter((t) => t >= t0 && t <= droppedAt);
    expect(win.length).toBeGreaterThan(20);
    let gap = 0;
    for (let i = 1; i < win.length; i++) gap = Math.max(gap, win[i] - win[i - 1]);
    expect(gap).toBeLessThan(1000);
    f.stop();
    await f.done;
    await sleep(300);
    // fast client got every closed footprint bar, in order, seq contiguous
    const fp = fast.updates(subs.footprint);
    fp.forEach((u, i) => expect(u.seq).toBe(i + 1));
    const closedT = fp.filter((u) => u.d.closed).map((u) => u.d.t);
    const bars = s.engine.pipelines.get('BTCUSDT')!.bars.map((b) => b.bar.start);
    expect(closedT).toEqual(bars);
    expect(fast.closeCode).toBeNull();
    slow.ws.resume();
    const sc = await slow.closed;
    expect([4008, 1006]).toContain(sc.code);
  }, 60_000);
});
