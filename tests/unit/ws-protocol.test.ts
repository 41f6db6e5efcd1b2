import { describe, expect, it } from 'vitest';
import { streamPerTest, tape, sleep, feed, type Started } from '../browser/stream-support.js';

const rig = streamPerTest();
const client = rig.client;
let s: Started | null = null;

const T0 = Date.UTC(2024, 7, 8, 0, 0);

describe('ws protocol: hello, snapshots, ordered updates', () => {
  it('hello → welcome with channels and limits', async () => {
    s = await rig.start();
    const c = await client(s.url);
    c.send({ v: 1, op: 'hello', id: 1, client: 'test' });
    const w = await c.next((m) => m.op === 'welcome');
    expect(w.ref).toBe(1);
    expect(w.protocol).toBe(1);
    expect(w.authenticated).toBe(true);
    expect(w.authRequired).toBe(false);
    expect(w.channels).toEqual(['tick', 'bar', 'footprint', 'profile', 'delta', 'vwap', 'orderbook', 'signal', 'trade_state', 'bias', 'stats', 'rule', 'pcr', 'feeds']);
    expect(w.limits.maxPayload).toBe(1 << 20);
    c.send({ v: 1, op: 'ping', id: 'p', t: 42 });
    const p = await c.next((m) => m.op === 'pong');
    expect(p.ref).toBe('p');
    expect(p.t).toBe(42);
  });

  it('bar: snapshot first (seq 0), then updates with strictly increasing seq; closed bars equal the engine bars', async () => {
    s = await rig.start();
    const trades = tape(6000, { start: T0, stepMs: 100 }); // 600 s → 10 one-minute bars
    for (const t of trades.slice(0, 2000)) s.engine.onEvent(t);
    const c = await client(s.url);
    const snap = await c.subscribe('bar', 'BTCUSDT', '1m', { limit: 100 });
    expect(snap.op).toBe('snapshot');
    expect(snap.seq).toBe(0);
    expect(snap.tf).toBe('1m');
    const p = s.engine.pipelines.get('BTCUSDT')!;
    expect(snap.d.bars.length).toBe(p.bars.length);
    expect(snap.d.bars.length).toBe(3);
    expect(snap.d.open.closed).toBe(false);
    expect(snap.d.bars[0]).toMatchObject({ t: p.bars[0].bar.start, o: p.bars[0].bar.open / 10, h: p.bars[0].bar.high / 10, closed: true, trades: p.bars[0].bar.trades });

    const f = feed(s.engine, trades.slice(2000), 100, 5);
    await f.done;
    await sleep(400);
    const ups = c.updates(snap.sub);
    const snapIdx = c.msgs.indexOf(snap);
    expect(c.msgs.findIndex((m) => m.sub === snap.sub)).toBe(snapIdx);
    expect(ups.length).toBeGreaterThan(7);
    ups.forEach((u, i) => expect(u.seq).toBe(i + 1));
    const closed = ups.filter((u) => u.d.closed);
    // bars 3..8 closed during the feed (the 10th stays open until the next event)
    expect(closed.map((u) => u.d.t)).toEqual(p.bars.slice(3).map((b) => b.bar.start));
    for (const u of closed) {
      const b = p.bars.find((x) => x.bar.start === u.d.t)!.bar;
      expect(u.d).toMatchObject({ o: b.open / 10, h: b.high / 10, l: b.low / 10, c: b.close / 10, v: b.volume / 1000, trades: b.trades, end: b.end });
    }
    // time never goes backwards, and an open update never follows the close of a later bar
    for (let i = 1; i < ups.length; i++) expect(ups[i].d.t).toBeGreaterThanOrEqual(ups[i - 1].d.t);
    for (let i = 1; i < ups.length; i++) if (ups[i - 1].d.closed) expect(ups[i].d.t).toBeGreaterThan(ups[i - 1].d.t);
  });

  it('derived timeframes (5m, CL "5") aggregate the base bars exactly; footprint rows sum to volume', async () => {
    s = await rig.start();
    const trades = tape(9000, { start: T0, stepMs: 100 }); // 15 minutes
    for (const t of trades.slice(0, 4500)) s.engine.onEvent(t);
    const c = await client(s.url);
    const b5 = await c.subscribe('bar', 'BTCUSDT', '5');
    expect(b5.tf).toBe('5m');
    const fp = await c.subscribe('footprint', 'BTCUSDT', '5m');
    expect(b5.d.bars.length).toBe(1);
    const p = s.engine.pipelines.get('BTCUSDT')!;
    const first5 = p.bars.slice(0, 5).map((x) => x.bar);
    expect(b5.d.bars[0]).toMatchObject({
      t: T0, end: T0 + 300_000, o: first5[0].open / 10, c: first5[4].close / 10,
      h: Math.max(...first5.map((b) => b.high)) / 10, l: Math.min(...first5.map((b) => b.low)) / 10,
      trades: first5.reduce((a, b) => a + b.trades, 0), closed: true,
    });
    expect(b5.d.bars[0].v).toBeCloseTo(first5.reduce((a, b) => a + b.volume, 0) / 1000, 9);
    const fb = fp.d.bars[0];
    const rowsVol = fb.rows.reduce((a: number, r: number[]) => a + r[1] + r[2], 0);
    expect(rowsVol).toBeCloseTo(fb.v, 6);
    expect(fb.rowSize).toBe(5);
    expect(fb.poc).not.toBeNull();
    // open derived bar = the bars 5..7 (closed) + the open one
    expect(b5.d.open.t).toBe(T0 + 300_000);
    const inWin = [...p.bars.slice(5).map((x) => x.bar), p.openBar!];
    expect(b5.d.open.trades).toBe(inWin.reduce((a, b) => a + b.trades, 0));

    for (const t of trades.slice(4500)) s.engine.onEvent(t);
    const closed = await c.next((m) => m.sub === b5.sub && m.op === 'update' && m.d.closed);
    const win = p.bars.slice(5, 10).map((x) => x.bar);
    expect(closed.d).toMatchObject({ t: T0 + 300_000, trades: win.reduce((a, b) => a + b.trades, 0), h: Math.max(...win.map((b) => b.high)) / 10 });
  });

  it('1D bars: one bar per session stamped 00:00 UTC of the session date, aggregated from engine bars', async () => {
    s = await rig.start();
    const trades = tape(6000, { start: T0, stepMs: 30_000 }); // 50 hours
    for (const t of trades) s.engine.onEvent(t);
    const c = await client(s.url);
    const d = await c.subscribe('bar', 'BTCUSDT', 'D');
    expect(d.tf).toBe('1D');
    const p = s.engine.pipelines.get('BTCUSDT')!;
    const byDay = new Map<string, typeof p.bars>();
    for (const x of p.bars) { const k = x.bar.sessionKey; if (!byDay.has(k)) byDay.set(k, []); byDay.get(k)!.push(x); }
    const keys = [...byDay.keys()];
    expect(keys.length).toBe(3);
    expect(d.d.bars.map((b: { t: number }) => b.t)).toEqual(keys.slice(0, 2).map((k) => Date.UTC(+k.slice(0, 4), +k.slice(5, 7) - 1, +k.slice(8, 10))));
    const day1 = byDay.get(keys[1])!.map((x) => x.bar);
    expect(d.d.bars[1]).toMatchObject({ o: day1[0].open / 10, c: day1.at(-1)!.close / 10, trades: day1.reduce((a, b) => a + b.trades, 0), closed: true });
    expect(d.d.open).toMatchObject({ t: Date.UTC(+keys[2].slice(0, 4), +keys[2].slice(5, 7) - 1, +keys[2].slice(8, 10)), closed: false });
  });

  it('tick: snapshot + batches cover every trade once, in order', async () => {
    s = await rig.start();
    const trades = tape(3000, { start: T0, stepMs: 10 });
    for (const t of trades.slice(0, 500)) s.engine.onEvent(t);
    const c = await client(s.url);
    const snap = await c.subscribe('tick', 'BTCUSDT', undefined, { limit: 300 });
    expect(snap.d.trades.length).toBe(300);
    await feed(s.engine, trades.slice(500), 50, 3).done;
    await c.next((m) => m.sub === snap.sub && m.d?.trades?.at(-1)?.[4] === 3000);
    const ids = [...snap.d.trades, ...c.updates(snap.sub).flatMap((u) => u.d.trades)].map((t: number[]) => t[4]);
    expect(ids).toEqual(Array.from({ length: 2800 }, (_, i) => 201 + i));
    const batches = c.updates(snap.sub);
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.length).toBeLessThan(2500 / 50); // batched, not per trade
    const t0 = trades[1000];
    const w = c.updates(snap.sub).flatMap((u) => u.d.trades).find((x: number[]) => x[4] === t0.id);
    expect(w).toEqual([t0.ts, t0.price / 10, t0.size / 1000, t0.side === 'buy' ? 1 : -1, t0.id]);
  });

  it('delta, vwap, profile, stats: snapshots and conflated updates carry engine values', async () => {
    s = await rig.start({ intervals: { profile: 100, stats: 100 } });
    const trades = tape(3000, { start: T0, stepMs: 100 });
    for (const t of trades.slice(0, 1000)) s.engine.onEvent(t);
    const c = await client(s.url);
    const p = s.engine.pipelines.get('BTCUSDT')!;
    const d = await c.subscribe('delta', 'BTCUSDT', '1m');
    expect(d.d.bars[0]).toMatchObject({ t: p.bars[0].bar.start, delta: p.bars[0].bar.delta / 1000, cvdC: p.bars[0].bar.cvdClose / 1000 });
    const v = await c.subscribe('vwap', 'BTCUSDT');
    expect(v.d.vwap).toBeCloseTo(p.sessionVwap.value / 10, 6);
    const pr = await c.subscribe('profile', 'BTCUSDT');
    expect(pr.d.session).toBe('2024-08-08');
    expect(pr.d.volume).toBeCloseTo(p.profiles.current!.profile.totalVolume / 1000, 6);
    const st = await c.subscribe('stats', 'BTCUSDT');
    expect(st.d).toMatchObject({ symbol: 'BTCUSDT', trades: 1000, last: trades[999].price / 10, session: '2024-08-08' });
    for (const t of trades.slice(1000)) s.engine.onEvent(t);
    const vu = await c.next((m) => m.sub === v.sub && m.op === 'update');
    expect(vu.d.vwap).toBeCloseTo(p.sessionVwap.value / 10, 6);
    const su = await c.next((m) => m.sub === st.sub && m.op === 'update');
    expect(su.d.trades).toBe(3000);
    const pu = await c.next((m) => m.sub === pr.sub && m.op === 'update');
    expect(pu.d.rows.reduce((a: number, r: number[]) => a + r[1], 0)).toBeCloseTo(pu.d.volume, 6);
    // a conflated channel sends far fewer updates than trades
    expect(c.updates(v.sub).length).toBeLessThan(5);
  });

  it('placeholder channels accept subscriptions with empty snapshots; publish() delivers; unsubscribe stops', async () => {
    s = await rig.start();
    const c = await client(s.url);
    for (const ch of ['signal', 'trade_state', 'bias', 'orderbook']) {
      const snap = await c.subscribe(ch, 'ETHUSDT');
      expect(snap.op).toBe('snapshot');
      if (ch === 'orderbook') expect(snap.d).toMatchObject({ available: false, bids: [], asks: [] });
      else expect(snap.d).toEqual({ available: false, items: [] });
    }
    const sig = c.msgs.find((m) => m.op === 'snapshot' && m.ch === 'signal')!;
    s.server.publish('signal', 'ETHUSDT', { kind: 'absorption', price: 3000 });
    const u = await c.next((m) => m.sub === sig.sub && m.op === 'update');
    expect(u).toMatchObject({ seq: 1, d: { item: { kind: 'absorption', price: 3000 } } });
    c.send({ v: 1, op: 'unsubscribe', id: 9, sub: sig.sub });
    const un = await c.next((m) => m.op === 'unsubscribed');
    expect(un).toMatchObject({ ref: 9, sub: sig.sub });
    s.server.publish('signal', 'ETHUSDT', { kind: 'second' });
    const again = await c.subscribe('signal', 'ETHUSDT');
    expect(again.d.items.map((x: { kind: string }) => x.kind)).toEqual(['absorption', 'second']);
    expect(c.updates(sig.sub).length).toBe(1);
  });
});
