/**
 * Binance live feed against a loopback WebSocket + REST double, synthetic frames in Binance's documented
 * formats, served on the routed entry points (/public depth, /market trades): clean sync, injected gap → resync, disconnect → reconnect with dedupe + aggTrades backfill,
 * malformed frames, slow/timed-out REST snapshot, exchangeInfo discovery, planned reconnect, no network.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEntry } from '../../engine/src/feeds/manager.js';
import { feedRig } from '../helpers/feed-rig.js';
import type { BinanceFeed } from '../../engine/src/venues/binance/feed.js';
import { FakeVenue, binance, freePort, waitFor } from '../../engine/src/feeds/testing.js';
import { createLogger } from '../../engine/src/log.js';

const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

function rig(venue: FakeVenue, entry: Partial<FeedEntry> = {}, logLines?: string[]) {
  const log = logLines ? createLogger({ level: 'debug', write: (l) => logLines.push(l) }) : undefined;
  const r = feedRig([{ venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: `${venue.wsBase}/stream`, restUrl: venue.restUrl, exchangeInfo: false, bookTicker: false, ...entry }], (fn) => cleanup.push(fn), { log });
  return { ...r, feed: r.feeds.feeds[0] as BinanceFeed };
}

/** A loopback Binance USD-M venue routed like the real one since 2026-04-23 (FakeVenue.binanceRouting). */
async function fake(): Promise<FakeVenue> {
  const v = await FakeVenue.start();
  v.binanceRouting = true;
  cleanup.push(() => v.close());
  return v;
}

describe('Binance USD-M live feed', () => {
  it('syncs the book from the REST snapshot (stale diffs dropped, pu/u chain) and delivers trades', async () => {
    const v = await fake();
    let depthCalls = 0;
    v.routes.set('/fapi/v1/depth', (url) => {
      depthCalls++;
      expect(url.searchParams.get('symbol')).toBe('BTCUSDT');
      return { body: binance.snapshot(100, [['60000.0', '1.000'], ['59999.9', '2.000']], [['60000.1', '1.500'], ['60000.2', '3.000']], T0) };
    });
    const r = rig(v);
    await r.feeds.start();
    await v.connection(2);
    expect([...v.connectionUrls].sort()).toEqual(['/market/stream?streams=btcusdt@aggTrade', '/public/stream?streams=btcusdt@depth@100ms']);
    v.send(binance.depth('BTCUSDT', 90, 95, 89, [['59999.9', '9.000']], [], T0 + 1)); // stale: u < lastUpdateId
    v.send(binance.depth('BTCUSDT', 96, 102, 95, [['60000.0', '1.250']], [['60000.1', '0']], T0 + 2)); // U <= 100 <= u
    await waitFor(() => r.books.l2.get('BTCUSDT')?.synced === true, [r.feed, v], 5000, 'sync');
    v.send(binance.depth('BTCUSDT', 103, 105, 102, [], [['60000.3', '0.700']], T0 + 3));
    for (let a = 1; a <= 5; a++) v.send(binance.aggTrade('BTCUSDT', a, '60000.1', '0.010', T0 + 10 + a, a % 2 === 0));
    await waitFor(() => r.trades.length === 5 && r.books.l2.get('BTCUSDT')!.lastSeq === 105, [r.feed], 5000, 'trades');
    const book = r.books.book('BTCUSDT')!;
    expect(book.bestBid()).toBe(600000);
    expect(book.bestAsk()).toBe(600002);
    expect(book.levelCount('ask')).toBe(2); // 60000.1 removed, 60000.3 added
    expect(r.books.l2.get('BTCUSDT')!.stats.staleDropped).toBe(1);
    expect(r.trades.map((t) => t.id)).toEqual([1, 2, 3, 4, 5]);
    expect(r.trades.map((t) => t.side)).toEqual(['buy', 'sell', 'buy', 'sell', 'buy']);
    expect(r.trades[0]!.price).toBe(600001);
    expect(r.trades[0]!.size).toBe(10);
    expect(depthCalls).toBe(1);
    const st = r.feed.status();
    expect(st.state).toBe('open');
    expect(st.counters.gaps).toBe(0);
    expect(st.counters.malformed).toBe(0);
    expect(st.completeness[0]!.instrument).toBe('BTCUSDT');
    expect(st.completeness[0]!.gaps).toEqual([]);
  });

  it('an injected gap emits a Gap, refetches the snapshot and ends with the correct book', async () => {
    const v = await fake();
    let depthCalls = 0;
    v.routes.set('/fapi/v1/depth', () => {
      depthCalls++;
      return depthCalls === 1
        ? { body: binance.snapshot(100, [['100.0', '1.000']], [['100.1', '1.000']], T0) }
        : { body: binance.snapshot(210, [['101.0', '4.000'], ['100.9', '1.000']], [['101.1', '2.000']], T0 + 50) };
    });
    const r = rig(v);
    await r.feeds.start();
    await v.connection(2);
    v.send(binance.depth('BTCUSDT', 99, 101, 98, [['100.0', '2.000']], [], T0 + 1));
    await waitFor(() => r.books.l2.get('BTCUSDT')?.synced === true, [r.feed, v], 5000, 'sync');
    v.send(binance.depth('BTCUSDT', 150, 160, 140, [['99.0', '5.000']], [], T0 + 2)); // pu 140 != 101: gap
    await waitFor(() => depthCalls === 2 && r.books.l2.get('BTCUSDT')!.synced, [r.feed, v], 5000, 'resync');
    v.send(binance.depth('BTCUSDT', 200, 212, 199, [['100.9', '0']], [['101.2', '1.000']], T0 + 60)); // covers 210
    v.send(binance.depth('BTCUSDT', 213, 215, 212, [['101.0', '3.500']], [], T0 + 61));
    await waitFor(() => r.books.l2.get('BTCUSDT')!.lastSeq === 215, [r.feed], 5000, 'applied');
    const book = r.books.book('BTCUSDT')!;
    expect([book.bestBid(), book.bestBidSize(), book.bestAsk()]).toEqual([1010, 3500, 1011]);
    expect(book.levelCount('bid')).toBe(1);
    expect(book.levelCount('ask')).toBe(2);
    expect(r.gaps).toHaveLength(1);
    expect(r.gaps[0]!.reason).toContain('pu=140');
    const st = r.feed.status();
    expect(st.counters.resyncs).toBe(1);
    const g = st.completeness[0]!.gaps;
    expect(g).toHaveLength(1);
    expect(g[0]!.kind).toBe('book');
    expect(g[0]!.to).not.toBeNull();
    expect(g[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('disconnect mid-stream: reconnects, drops replayed duplicates and backfills the lost ids', async () => {
    const v = await fake();
    v.routes.set('/fapi/v1/depth', () => ({ body: binance.snapshot(1, [['100.0', '1.000']], [['100.1', '1.000']], T0) }));
    const all = Array.from({ length: 30 }, (_, i) => ({ a: i + 1, p: (100 + (i % 7) / 10).toFixed(1), q: '0.00' + ((i % 9) + 1), T: T0 + i * 1000, m: i % 3 === 0 }));
    v.routes.set('/fapi/v1/aggTrades', (url) => {
      const from = Number(url.searchParams.get('fromId'));
      const limit = Number(url.searchParams.get('limit'));
      return { body: all.filter((t) => t.a >= from).slice(0, limit).map((t) => binance.restAggTrade(t.a, t.p, t.q, t.T, t.m)) };
    });
    const r = rig(v, { depth: false });
    await r.feeds.start();
    const first = await v.connection(1);
    for (const t of all.slice(0, 12)) v.send(binance.aggTrade('BTCUSDT', t.a, t.p, t.q, t.T, t.m), first);
    await waitFor(() => r.trades.length === 12, [r.feed], 5000, '12 trades');
    v.dropAll();
    const second = await v.connection(2);
    // the venue resends 10..12 (duplicates), 13..17 were lost while down
    for (const t of all.slice(9)) if (t.a < 13 || t.a > 17) v.send(binance.aggTrade('BTCUSDT', t.a, t.p, t.q, t.T, t.m), second);
    await waitFor(() => r.trades.length === 30, [r.feed], 5000, '30 trades');
    expect(r.trades.map((t) => t.id)).toEqual(all.map((t) => t.a));
    expect(r.trades.map((t) => t.ts)).toEqual(all.map((t) => t.T));
    const st = r.feed.status();
    expect(st.counters.reconnects).toBe(1);
    expect(st.counters.duplicates).toBe(3);
    expect(st.counters.backfilled).toBe(5);
    expect(v.requests.some((q) => q.startsWith('/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=13&limit=5'))).toBe(true);
    const kinds = st.completeness[0]!.gaps.map((g) => [g.kind, g.to !== null]);
    expect(kinds).toEqual([['disconnect', true], ['trades', true]]);
    const tg = st.completeness[0]!.gaps[1]!;
    expect([tg.missing, tg.recovered, tg.complete]).toEqual([5, 5, true]);
    expect(st.completeness[0]!.tradesMissing).toBe(5);
    expect(st.completeness[0]!.tradesRecovered).toBe(5);
  });

  it('counts and skips malformed frames', async () => {
    const v = await fake();
    const r = rig(v, { depth: false });
    await r.feeds.start();
    const c = await v.connection(1);
    v.send(binance.aggTrade('BTCUSDT', 1, '100.0', '0.001', T0, false), c);
    v.send('{not json', c);
    v.send('[1,2,3]', c);
    v.send({ stream: 'btcusdt@aggTrade', data: { e: 'aggTrade', s: 'BTCUSDT', a: 2, p: 'abc', q: '0.001', T: T0 + 1, m: true } }, c);
    v.send({ stream: 'btcusdt@depth@100ms', data: { e: 'depthUpdate', s: 'BTCUSDT', b: [], a: [] } }, c);
    v.send(binance.aggTrade('BTCUSDT', 3, '100.1', '0.002', T0 + 2, true), c);
    await waitFor(() => r.trades.length === 2 && r.feed.counters.malformed === 4, [r.feed], 5000, 'malformed counted');
    expect(r.trades.map((t) => t.id)).toEqual([1, 3]);
    expect(r.feed.status().counters.frames).toBe(6);
  });

  it('handles a slow REST snapshot (diffs buffered meanwhile) and a timed-out one (retried)', async () => {
    const v = await fake();
    let calls = 0;
    v.routes.set('/fapi/v1/depth', () => {
      calls++;
      // the first answer comes after the client's 300 ms timeout (aborted, retried); the retry answers in 250 ms
      return { body: binance.snapshot(105, [['100.0', '1.000']], [['100.5', '1.000']], T0), delayMs: calls === 1 ? 700 : 250 };
    });
    const r = rig(v, { restTimeoutMs: 300 } as Partial<FeedEntry>);
    await r.feeds.start();
    await v.connection(2);
    const levels: [string, string][] = [];
    for (let u = 101; u <= 140; u++) {
      const px = (99 + (u % 10) / 10).toFixed(1);
      levels.push([px, (u / 100).toFixed(3)]);
      v.send(binance.depth('BTCUSDT', u, u, u - 1, [[px, (u / 100).toFixed(3)]], [], T0 + u));
    }
    await waitFor(() => r.books.l2.get('BTCUSDT')?.synced === true && r.books.l2.get('BTCUSDT')!.lastSeq === 140, [r.feed, v], 8000, 'sync after slow snapshot');
    expect(calls).toBe(2);
    expect(r.feed.counters.restFailures).toBe(1);
    const book = r.books.book('BTCUSDT')!;
    // expected: snapshot bid 100.0 + diffs u=105..140 (u <= 105 dropped except the one covering 105)
    const exp = new Map<number, number>([[1000, 1000]]);
    for (let u = 105; u <= 140; u++) exp.set(990 + (u % 10), u * 10);
    expect(book.levelCount('bid')).toBe(exp.size);
    for (const [p, q] of exp) expect(book.bids.get(p)).toBe(q);
    expect(r.books.l2.get('BTCUSDT')!.stats.buffered).toBeGreaterThan(0);
  });

  it('exchangeInfo: registers unknown symbols with their tick size and discovers the gold/silver perpetuals', async () => {
    const v = await fake();
    v.routes.set('/fapi/v1/exchangeInfo', () => ({
      body: binance.exchangeInfo([
        { symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', tick: '0.10', step: '0.001' },
        { symbol: 'XAUUSDT', base: 'XAU', quote: 'USDT', tick: '0.01', step: '0.001' },
        { symbol: 'XAGUSDT', base: 'XAG', quote: 'USDT', tick: '0.001', step: '0.01' },
        { symbol: 'XAUUSDT_250328', base: 'XAU', quote: 'USDT', tick: '0.01', step: '0.001', contractType: 'CURRENT_QUARTER' },
        { symbol: 'SOLUSDT', base: 'SOL', quote: 'USDT', tick: '0.0100', step: '1' },
      ]),
    }));
    const r = rig(v, { symbols: ['BTCUSDT', 'SOLUSDT', '@metals'], exchangeInfo: true, depth: false });
    await r.feeds.start();
    await v.connection(1);
    expect(r.feed.symbols).toEqual(['BTCUSDT', 'SOLUSDT', 'XAGUSDT', 'XAUUSDT']);
    expect(v.connectionUrls[0]).toBe('/market/stream?streams=btcusdt@aggTrade/solusdt@aggTrade/xagusdt@aggTrade/xauusdt@aggTrade');
    const sol = r.registry.get('SOLUSDT');
    expect([sol.venue, sol.tickSize, sol.lotStep]).toEqual(['binance-usdm', '0.01', '1']);
    v.send(binance.aggTrade('SOLUSDT', 7, '150.23', '3', T0, false));
    await waitFor(() => r.trades.length === 1, [r.feed], 5000, 'SOL trade');
    expect([r.trades[0]!.instrument, r.trades[0]!.price, r.trades[0]!.size]).toEqual(['SOLUSDT', 15023, 3]);
  });

  it('renews a connection at the maximum age without backoff and splits symbols over connections', async () => {
    const v = await fake();
    const r = rig(v, { symbols: ['BTCUSDT', 'ETHUSDT', 'XAUUSDT'], depth: false, perConnection: 2, maxConnectionMs: 300 } as Partial<FeedEntry>);
    await r.feeds.start();
    await v.connection(5, 5000); // 3 connections… at least two renewed
    expect(new Set(v.connectionUrls)).toEqual(new Set(['/market/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade', '/market/stream?streams=xauusdt@aggTrade']));
    await waitFor(() => r.feed.counters.reconnects >= 2, [r.feed], 5000, 'planned reconnects');
    expect(r.feed.status().connections).toHaveLength(2);
  });

  it('without network: says so, keeps retrying with backoff, then connects when the venue appears', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const dummy = await fake();
    const r = rig(dummy, { wsUrl: `ws://127.0.0.1:${port}/stream`, restUrl: `http://127.0.0.1:${port}`, depth: false }, lines);
    await r.feeds.start();
    await waitFor(() => r.feed.status().connections[0]!.attempts >= 3, [r.feed], 5000, 'retries');
    const st = r.feed.status();
    expect(st.state).toBe('backoff');
    expect(st.connections[0]!.lastError).toContain('ECONNREFUSED');
    expect(lines.some((l) => l.includes('no connection to ws://127.0.0.1') && l.includes('retrying in') && l.includes('still serving'))).toBe(true);
    const v = await FakeVenue.start(port);
    cleanup.push(() => v.close());
    await v.connection(1, 5000);
    v.send(binance.aggTrade('BTCUSDT', 1, '100.0', '0.001', T0, false));
    await waitFor(() => r.trades.length === 1, [r.feed], 5000, 'trade');
    expect(r.feed.status().state).toBe('open');
  });
});
