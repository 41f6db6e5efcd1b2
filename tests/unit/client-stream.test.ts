import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startStream, tape, sleep, type Started } from '../browser/stream-support.js';
import { createStreamServer, type StreamServer } from '../../datafeed-adapter/src/ws/server.js';
import { StreamClient, type StreamState, type WebSocketCtor } from '../../datafeed-adapter/src/client/stream.js';
import type { WireBar } from '../../datafeed-adapter/src/ws/protocol.js';

let s: Started | null = null;
const extra: StreamServer[] = [];
const sc: StreamClient[] = [];
afterEach(async () => {
  for (const c of sc.splice(0)) c.close();
  for (const x of extra.splice(0)) await x.close();
  await s?.server.close();
  s = null;
});
const T0 = Date.UTC(2024, 7, 8, 0, 0);

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error('condition not met in time'); await sleep(10); }
}

describe('StreamClient', () => {
  it('subscribes, receives snapshot then in-order updates, reconnects after a drop and a server restart, resubscribes', async () => {
    s = await startStream();
    const trades = tape(12000, { start: T0, stepMs: 100 }); // 20 minutes
    for (const t of trades.slice(0, 3000)) s.engine.onEvent(t);
    const states: StreamState[] = [];
    const client = new StreamClient({ url: s.url, WebSocket: WebSocket as unknown as WebSocketCtor, backoffMinMs: 50, backoffMaxMs: 400, onState: (st) => states.push(st) });
    sc.push(client);
    const snaps: { resync: boolean; bars: number; open: WireBar | null }[] = [];
    const ups: WireBar[] = [];
    client.subscribe('bar', 'BTCUSDT', {
      onSnapshot: (d, info) => snaps.push({ resync: info.resync, bars: d.bars.length, open: d.open }),
      onUpdate: (d) => ups.push(d),
    }, { tf: '1m', limit: 100 });
    await client.connect();
    await until(() => snaps.length === 1);
    expect(snaps[0]).toMatchObject({ resync: false, bars: 5 });
    for (const t of trades.slice(3000, 4800)) s.engine.onEvent(t);
    await until(() => ups.filter((u) => u.closed).length === 3);

    // 1) the server drops the connection
    for (const c of s.server.conns) c.ws.terminate();
    await until(() => snaps.length === 2);
    expect(snaps[1].resync).toBe(true);
    expect(snaps[1].bars).toBe(8);
    expect(client.connects).toBe(2);
    for (const t of trades.slice(4800, 6600)) s.engine.onEvent(t);
    await until(() => ups.filter((u) => u.closed).length === 6);

    // 2) the server goes away and comes back on the same port (fresh server, same engine)
    const port = s.port;
    await s.server.close();
    await sleep(200);
    expect(states).toContain('reconnecting');
    const again = createStreamServer({ engine: s.engine });
    extra.push(again);
    await again.listen(port, '127.0.0.1');
    await until(() => snaps.length === 3, 8000);
    expect(snaps[2].resync).toBe(true);
    expect(snaps[2].bars).toBe(11);
    for (const t of trades.slice(6600)) s.engine.onEvent(t);
    await until(() => ups.filter((u) => u.closed).length >= 9);
    const closed = ups.filter((u) => u.closed).map((u) => u.t);
    expect(closed).toEqual([...new Set(closed)]);
    expect(client.gaps).toBe(0);
    expect(client.state).toBe('open');
    expect(client.connects).toBe(3);
  });

  it('stops retrying when the server rejects the token; connects with the right one', async () => {
    s = await startStream({ token: 'abc' });
    const bad = new StreamClient({ url: s.url, token: 'nope', WebSocket: WebSocket as unknown as WebSocketCtor, backoffMinMs: 20 });
    sc.push(bad);
    const errs: string[] = [];
    bad.subscribe('stats', 'BTCUSDT', { onSnapshot: () => {}, onUpdate: () => {}, onError: (e) => errs.push(e.code) });
    await until(() => bad.state === 'unauthorized');
    await sleep(200);
    expect(bad.connects).toBe(0);
    expect(s.server.stats().connections).toBe(0);

    const good = new StreamClient({ url: s.url, token: 'abc', WebSocket: WebSocket as unknown as WebSocketCtor });
    sc.push(good);
    let snap: unknown = null;
    good.subscribe('stats', 'BTCUSDT', { onSnapshot: (d) => { snap = d; }, onUpdate: () => {} });
    await until(() => snap !== null);
    expect(snap).toMatchObject({ symbol: 'BTCUSDT', trades: 0 });
  });

  it('reports subscription errors without retry storms, and unsubscribe stops delivery', async () => {
    s = await startStream();
    const c = new StreamClient({ url: s.url, WebSocket: WebSocket as unknown as WebSocketCtor });
    sc.push(c);
    const errs: string[] = [];
    c.subscribe('bar', 'NOT-A-SYMBOL', { onSnapshot: () => {}, onUpdate: () => {}, onError: (e) => errs.push(e.code) });
    let n = 0;
    const sub = c.subscribe('tick', 'BTCUSDT', { onSnapshot: () => {}, onUpdate: () => { n++; } });
    await c.connect();
    await until(() => errs.length === 1);
    expect(errs).toEqual(['bad_symbol']);
    for (const t of tape(100, { start: T0 })) s.engine.onEvent(t);
    await until(() => n > 0);
    sub.unsubscribe();
    await sleep(100);
    const before = n;
    for (const t of tape(100, { start: T0 + 60_000, seed: 3 })) s.engine.onEvent(t);
    await sleep(300);
    expect(n).toBe(before);
    expect(s.server.stats().clients[0].subs).toBe(0);
  });
});
