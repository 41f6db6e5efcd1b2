/**
 * Binance routing as the venue serves it today. USD-M: Binance's "Important WebSocket Change Notice — Base
 * URL Split & Migration" (2026-03-06; the combined root retired 2026-04-23) puts depth and bookTicker on
 * `/public` and trades on `/market`. The loopback venue serves each stream ONLY on its documented route and
 * nothing on the retired root. COIN-M and spot docs (checked 2026-12-04) still serve every stream on the root.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEntry } from '../../engine/src/feeds/manager.js';
import { feedRig } from '../helpers/feed-rig.js';
import { binanceRoot, binanceRouteOf, type BinanceFeed } from '../../engine/src/venues/binance/feed.js';
import { FakeVenue, binance, waitFor } from '../../engine/src/feeds/testing.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function venue(routed: boolean): Promise<FakeVenue> {
  const v = await FakeVenue.start();
  v.binanceRouting = routed;
  cleanup.push(() => v.close());
  return v;
}

function rig(entry: FeedEntry) {
  const r = feedRig([{ exchangeInfo: false, ...entry }], (fn) => cleanup.push(fn));
  return { ...r, feed: r.feeds.feeds[0] as BinanceFeed };
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

describe('Binance routes', () => {
  it('derives the root from any legacy wsUrl and routes depth/bookTicker to /public, trades to /market', () => {
    for (const u of ['wss://fstream.binance.com', 'wss://fstream.binance.com/', 'wss://fstream.binance.com/stream', 'wss://fstream.binance.com/ws', 'wss://fstream.binance.com/public/stream', 'wss://fstream.binance.com/market/ws?x=1']) expect(binanceRoot(u)).toBe('wss://fstream.binance.com');
    expect(binanceRoot('wss://stream.binance.com:9443/stream')).toBe('wss://stream.binance.com:9443');
    expect(['btcusdt@depth@100ms', 'btcusdt@depth', 'btcusdt@bookTicker'].map(binanceRouteOf)).toEqual(['public', 'public', 'public']);
    expect(['btcusdt@aggTrade', 'btcusdt@trade', 'btcusdt@markPrice', 'btcusdt@kline_1m'].map(binanceRouteOf)).toEqual(['market', 'market', 'market', 'market']);
  });

  it('USD-M from the venue root: trades from /market, a synced book from /public, never the retired root; reconnects both', async () => {
    const v = await venue(true);
    let snaps = 0;
    v.routes.set('/fapi/v1/depth', () => { snaps++; return { body: snaps === 1 ? binance.snapshot(100, [['60000.0', '1.000']], [['60000.1', '2.000']], T0) : binance.snapshot(300, [['60001.0', '3.000']], [['60001.1', '1.000']], T0 + 5000) }; });
    v.routes.set('/fapi/v1/aggTrades', () => ({ body: [] }));
    const r = rig({ venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: v.wsBase, restUrl: v.restUrl });
    await r.feeds.start();
    await v.connection(2);
    await waitFor(() => v.openPaths().length === 2, [v], 5000, 'two routes');
    expect([...v.connectionUrls].sort()).toEqual(['/market/stream?streams=btcusdt@aggTrade', '/public/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker']);
    v.send(binance.depth('BTCUSDT', 99, 101, 98, [['60000.0', '1.500']], [], T0 + 1));
    v.send(binance.bookTicker('BTCUSDT', 101, '60000.0', '1.500', '60000.1', '2.000', T0 + 1));
    for (let a = 1; a <= 4; a++) v.send(binance.aggTrade('BTCUSDT', a, '60000.1', '0.100', T0 + 10 * a, a === 2));
    await waitFor(() => r.trades.length === 4 && r.books.l2.get('BTCUSDT')?.synced === true, [r.feed, v], 5000, 'trades and a synced book');
    expect(r.trades.map((t) => [t.id, t.price, t.size, t.side])).toEqual([[1, 600001, 100, 'buy'], [2, 600001, 100, 'sell'], [3, 600001, 100, 'buy'], [4, 600001, 100, 'buy']]);
    expect([r.books.book('BTCUSDT')!.bestBid(), r.books.book('BTCUSDT')!.bids.get(600000)]).toEqual([600000, 1500]);
    expect(r.feed.status().state).toBe('open');
    expect(r.feed.status().connections.map((c) => new URL(c.url).pathname).sort()).toEqual(['/market/stream', '/public/stream']);

    // the venue drops both sockets: both routes come back, the book resyncs from a new snapshot, trades continue
    v.dropAll();
    await v.connection(4);
    await waitFor(() => v.openPaths().length === 2, [v], 5000, 'both routes back');
    v.send(binance.depth('BTCUSDT', 290, 305, 280, [['60001.0', '2.500']], [], T0 + 6000)); // pu breaks the chain: resync
    v.send(binance.aggTrade('BTCUSDT', 5, '60001.1', '0.200', T0 + 6000, false));
    await waitFor(() => r.trades.length === 5 && snaps === 2 && r.books.l2.get('BTCUSDT')?.synced === true, [r.feed, v], 5000, 'after reconnect');
    v.send(binance.depth('BTCUSDT', 306, 310, 305, [['60001.0', '4.000']], [], T0 + 6100));
    await waitFor(() => r.books.l2.get('BTCUSDT')!.lastSeq === 310, [r.feed], 5000, 'diff after resync');
    expect(r.books.book('BTCUSDT')!.bids.get(600010)).toBe(4000);
    expect(r.feed.status().counters.reconnects).toBe(2);
    expect(v.connectionUrls.every((u) => u.startsWith('/public/') || u.startsWith('/market/'))).toBe(true);
  });

  it('a root that sends nothing never shows open (a feed forced onto the retired combined root)', async () => {
    const v = await venue(true);
    const r = rig({ venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: v.wsBase, restUrl: v.restUrl, routing: 'root' });
    await r.feeds.start();
    await v.connection(1);
    expect(v.connectionUrls).toEqual(['/stream?streams=btcusdt@aggTrade/btcusdt@depth@100ms/btcusdt@bookTicker']);
    for (let i = 0; i < 20; i++) {
      v.send(binance.aggTrade('BTCUSDT', i + 1, '60000.1', '0.100', T0 + i, false));
      v.send(binance.depth('BTCUSDT', i + 1, i + 1, i, [['60000.0', '1.000']], [], T0 + i));
      await sleep(25);
      expect(r.feed.status().state).not.toBe('open');
    }
    const st = r.feed.status();
    expect(st.state).toBe('connecting');
    expect(st.counters.frames).toBe(0);
    expect(r.trades).toHaveLength(0);
  });

  it('COIN-M serves every stream on its root (docs checked 2026-12-04): trades and a synced book on /stream', async () => {
    const v = await venue(false);
    v.routes.set('/dapi/v1/depth', () => ({ body: binance.snapshot(50, [['60000.0', '10']], [['60000.1', '12']], T0) }));
    const r = rig({ venue: 'binance-coinm', symbols: ['BTCUSD_PERP'], wsUrl: v.wsBase, restUrl: v.restUrl, bookTicker: false });
    await r.feeds.start();
    await v.connection(1);
    expect(v.connectionUrls).toEqual(['/stream?streams=btcusd_perp@aggTrade/btcusd_perp@depth@100ms']);
    v.send(binance.depth('BTCUSD_PERP', 49, 52, 48, [['60000.0', '11']], [], T0 + 1));
    v.send(binance.aggTrade('BTCUSD_PERP', 7, '60000.1', '3', T0 + 2, true));
    await waitFor(() => r.trades.length === 1 && r.books.l2.get('BINANCE_COINM:BTCUSD_PERP')?.synced === true, [r.feed, v], 5000, 'coin-m');
    expect([r.trades[0]!.instrument, r.trades[0]!.side]).toEqual(['BINANCE_COINM:BTCUSD_PERP', 'sell']);
    expect(r.feed.routing).toBe('root');
  });

  it('COIN-M with routing: split derives /public and /market from the same root', async () => {
    const v = await venue(true);
    const r = rig({ venue: 'binance-coinm', symbols: ['BTCUSD_PERP'], wsUrl: `${v.wsBase}/stream`, restUrl: v.restUrl, bookTicker: false, depth: false, routing: 'split' });
    await r.feeds.start();
    await v.connection(1);
    expect(v.connectionUrls).toEqual(['/market/stream?streams=btcusd_perp@aggTrade']);
    v.send(binance.aggTrade('BTCUSD_PERP', 1, '60000.1', '3', T0, false));
    await waitFor(() => r.trades.length === 1, [r.feed], 5000, 'trade');
  });

  it('spot keeps its root (stream.binance.com:9443/stream, unchanged in the spot docs)', async () => {
    const v = await venue(false);
    v.routes.set('/api/v3/depth', () => ({ body: { lastUpdateId: 20, bids: [['2683.80000000', '1.00000000']], asks: [['2683.81000000', '2.00000000']] } }));
    const r = rig({ venue: 'binance-spot', symbols: ['ETHUSDT'], wsUrl: v.wsBase, restUrl: v.restUrl, bookTicker: false });
    await r.feeds.start();
    await v.connection(1);
    expect(v.connectionUrls).toEqual(['/stream?streams=ethusdt@aggTrade/ethusdt@depth@100ms']);
    v.send(binance.depth('ETHUSDT', 19, 22, undefined, [['2683.80000000', '1.50000000']], [], T0));
    v.send(binance.aggTrade('ETHUSDT', 3, '2683.81000000', '0.50000000', T0 + 1, false));
    await waitFor(() => r.trades.length === 1 && r.books.l2.get('BINANCE_SPOT:ETHUSDT')?.synced === true, [r.feed, v], 5000, 'spot');
  });
});
