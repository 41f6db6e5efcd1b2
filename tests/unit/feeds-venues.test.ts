/**
 * Bybit v5 and Coinbase Advanced Trade live feeds against loopback doubles with synthetic frames in the
 * documented formats; three venues × three symbols in one process; record → replay gives the same bars.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Trade } from '../../engine/src/core/events.js';
import type { FeedEntry } from '../../engine/src/feeds/manager.js';
import { feedRig } from '../helpers/feed-rig.js';
import { FrameRecorder } from '../../engine/src/feeds/recorder.js';
import { FakeVenue, binance, bybit, coinbase, waitFor } from '../../engine/src/feeds/testing.js';
import { runReplay } from '../../engine/src/cli/commands/replay.js';

const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function fake(): Promise<FakeVenue> {
  const v = await FakeVenue.start();
  cleanup.push(() => v.close());
  return v;
}

function rig(entries: FeedEntry[], tap?: FrameRecorder) {
  return feedRig(entries, (fn) => cleanup.push(fn), { tap: tap?.tap });
}

describe('Bybit v5 live feed', () => {
  it('snapshot + deltas, gap → resubscribe → fresh snapshot, reconnect snapshot resets, dedupe + recent-trade backfill, ping', async () => {
    const v = await fake();
    const r = rig([{ venue: 'bybit', symbols: ['BTCUSDT'], wsUrl: `${v.wsBase}/v5/public/linear`, restUrl: v.restUrl, depthLimit: 50, appPingMs: 50 }]);
    const feed = r.feeds.feeds[0]!;
    const subscribed = v.message((m) => m.op === 'subscribe');
    await r.feeds.start();
    const sub = await subscribed;
    expect(sub.args).toEqual(['orderbook.50.BTCUSDT', 'publicTrade.BTCUSDT']);
    await v.message((m) => m.op === 'ping', 3000);
    v.send(bybit.book('BTCUSDT', 50, 'snapshot', 10, [['60000.0', '1.000']], [['60000.1', '2.000']], T0));
    v.send(bybit.book('BTCUSDT', 50, 'delta', 11, [['59999.9', '0.500']], [], T0 + 1));
    const tr = (i: number, S: 'Buy' | 'Sell') => ({ i: `uuid-${i}`, T: T0 + i * 100, p: (60000 + i / 10).toFixed(1), v: '0.010', S });
    v.send(bybit.trades('BTCUSDT', T0 + 100, [tr(1, 'Buy'), tr(2, 'Sell')]));
    await waitFor(() => r.trades.length === 2 && r.books.l2.get('BYBIT:BTCUSDT')?.lastSeq === 11, [feed], 5000, 'synced');
    // gap: u 13 after 11
    const resub = v.message((m) => m.op === 'subscribe' && (m.args as string[])[0] === 'orderbook.50.BTCUSDT');
    v.send(bybit.book('BTCUSDT', 50, 'delta', 13, [['59999.0', '1.000']], [], T0 + 2));
    await resub;
    expect(v.received.some((m) => (m as { op?: string }).op === 'unsubscribe')).toBe(true);
    v.send(bybit.book('BTCUSDT', 50, 'snapshot', 20, [['60001.0', '3.000']], [['60001.5', '1.000']], T0 + 3));
    v.send(bybit.book('BTCUSDT', 50, 'delta', 21, [], [['60001.2', '0.400']], T0 + 4));
    await waitFor(() => r.books.l2.get('BYBIT:BTCUSDT')?.lastSeq === 21, [feed], 5000, 'resynced');
    let book = r.books.book('BYBIT:BTCUSDT')!;
    expect([book.bestBid(), book.bestAsk(), book.levelCount('bid')]).toEqual([600010, 600012, 1]);
    expect(r.gaps).toHaveLength(1);
    // recent-trade knows 3..6; 5 and 6 were traded while we were away, 3 and 4 arrive live again
    v.routes.set('/v5/market/recent-trade', (url) => {
      expect(url.searchParams.get('category')).toBe('linear');
      return { body: { retCode: 0, result: { category: 'linear', list: [6, 5, 4, 3, 2].map((i) => { const t = tr(i, i % 2 ? 'Buy' : 'Sell'); return { execId: t.i, symbol: 'BTCUSDT', price: t.p, size: t.v, side: t.S, time: String(t.T), isBlockTrade: false }; }) } } };
    });
    v.send(bybit.trades('BTCUSDT', T0 + 400, [tr(3, 'Buy'), tr(4, 'Sell')]));
    await waitFor(() => r.trades.length === 4, [feed], 5000, '4 trades');
    v.dropAll();
    await v.connection(2);
    await v.message((m) => m.op === 'subscribe');
    v.send(bybit.trades('BTCUSDT', T0 + 700, [tr(6, 'Sell'), tr(7, 'Buy')]));
    v.send(bybit.book('BTCUSDT', 50, 'snapshot', 1, [['59000.0', '1.000']], [['59000.1', '1.000']], T0 + 800));
    await waitFor(() => r.trades.length === 7 && r.books.l2.get('BYBIT:BTCUSDT')?.lastSeq === 1, [feed], 5000, 'after reconnect');
    expect(r.trades.map((t) => t.ts)).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => T0 + i * 100));
    expect(r.trades.map((t) => t.side)).toEqual(['buy', 'sell', 'buy', 'sell', 'buy', 'sell', 'buy']);
    book = r.books.book('BYBIT:BTCUSDT')!;
    expect([book.bestBid(), book.bestAsk()]).toEqual([590000, 590001]);
    expect(r.books.l2.get('BYBIT:BTCUSDT')!.stats.restarts).toBe(1);
    const st = feed.status();
    expect([st.counters.reconnects, st.counters.backfilled, st.counters.duplicates, st.counters.resyncs]).toEqual([1, 2, 1, 1]);
    expect(st.completeness[0]!.gaps.map((g) => g.kind)).toEqual(['book', 'disconnect', 'trades']);
    expect(st.completeness[0]!.gaps.every((g) => g.to !== null)).toBe(true);
  });
});

describe('Coinbase Advanced Trade live feed', () => {
  it('maker side → aggressor, level2 snapshot/updates, heartbeats, sequence_num gap → resubscribe + backfill, duplicates', async () => {
    const v = await fake();
    const r = rig([{ venue: 'coinbase', symbols: ['BTC-USD'], wsUrl: v.wsBase, restUrl: v.restUrl }]);
    const feed = r.feeds.feeds[0]!;
    const l2sub = v.message((m) => m.type === 'subscribe' && m.channel === 'level2');
    await r.feeds.start();
    await l2sub;
    expect(v.received.map((m) => (m as { channel: string }).channel)).toEqual(['heartbeats', 'market_trades', 'level2']);
    const t = (id: number, side: 'BUY' | 'SELL') => ({ trade_id: String(id), product_id: 'BTC-USD', price: (60000 + id / 100).toFixed(2), size: '0.00100000', side, time: iso(T0 + id * 10) });
    let seq = 0;
    v.send(coinbase.heartbeat(seq++, 1, iso(T0)));
    v.send(coinbase.trades(seq++, 'snapshot', [t(3, 'SELL'), t(2, 'BUY'), t(1, 'BUY')]));
    v.send(coinbase.l2(seq++, 'snapshot', 'BTC-USD', iso(T0), [{ side: 'bid', price_level: '60000.00', new_quantity: '1.0' }, { side: 'offer', price_level: '60000.01', new_quantity: '2.0' }]));
    v.send(coinbase.l2(seq++, 'update', 'BTC-USD', iso(T0 + 1), [{ side: 'bid', price_level: '60000.00', new_quantity: '0.5' }]));
    v.send(coinbase.trades(seq++, 'update', [t(3, 'SELL'), t(4, 'SELL')])); // 3 is a duplicate
    await waitFor(() => r.trades.length === 4 && r.books.l2.get('COINBASE:BTC-USD')?.synced === true, [feed], 5000, 'synced');
    expect(r.trades.map((x) => x.id)).toEqual([1, 2, 3, 4]);
    expect(r.trades.map((x) => x.side)).toEqual(['sell', 'sell', 'buy', 'buy']); // maker BUY → aggressor sell
    expect(r.books.book('COINBASE:BTC-USD')!.bestBidSize()).toBe(50_000_000);
    // lose two messages (a trade 5 among them); REST ticker has 4..6
    v.routes.set('/api/v3/brokerage/market/products/BTC-USD/ticker', () => ({ body: { trades: [t(6, 'BUY'), t(5, 'SELL'), t(4, 'SELL')], best_bid: '60000.00', best_ask: '60000.01' } }));
    const resub = v.message((m) => m.type === 'subscribe' && m.channel === 'level2');
    seq += 2;
    v.send(coinbase.l2(seq++, 'update', 'BTC-USD', iso(T0 + 70), [{ side: 'bid', price_level: '59999.00', new_quantity: '9.0' }]));
    v.send(coinbase.trades(seq++, 'update', [t(6, 'BUY'), t(7, 'SELL')]));
    await resub;
    v.send(coinbase.l2(seq++, 'snapshot', 'BTC-USD', iso(T0 + 80), [{ side: 'bid', price_level: '60001.00', new_quantity: '1.5' }, { side: 'offer', price_level: '60001.02', new_quantity: '1.0' }]));
    v.send(coinbase.l2(seq - 1, 'update', 'BTC-USD', iso(T0 + 81), [{ side: 'bid', price_level: '1.00', new_quantity: '1.0' }])); // duplicate sequence_num: dropped
    v.send(coinbase.heartbeat(seq++, 2, iso(T0 + 90)));
    await waitFor(() => r.trades.length === 7 && r.books.l2.get('COINBASE:BTC-USD')!.synced && feed.counters.frames === 10, [feed], 5000, 'recovered');
    expect(r.trades.map((x) => x.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const book = r.books.book('COINBASE:BTC-USD')!;
    expect([book.bestBid(), book.bestAsk(), book.levelCount('bid')]).toEqual([6000100, 6000102, 1]);
    expect(r.gaps).toHaveLength(1); // the sync saw the skipped book sequence
    const st = feed.status();
    expect([st.counters.backfilled, st.counters.resyncs, st.counters.duplicates]).toEqual([2, 1, 3]); // 5 and 6 from REST; dups: 3, the held live 6, one sequence_num
    expect(st.completeness[0]!.gaps.map((g) => [g.kind, g.to !== null])).toEqual([['sequence', true], ['trades', true], ['book', true]]);
  });
});

describe('three venues × three symbols in one process', () => {
  it('delivers every trade of every instrument with synced books', async () => {
    const [vb, vy, vc] = await Promise.all([fake(), fake(), fake()]);
    const BS = ['BTCUSDT', 'ETHUSDT', 'XAUUSDT'];
    const YS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
    const CS = ['BTC-USD', 'ETH-USD', 'SOL-USD'];
    vb.routes.set('/fapi/v1/depth', (url) => ({ body: { ...binance.snapshot(100, [['100.00', '1.000']], [['100.10', '1.000']], T0) as object, symbol: url.searchParams.get('symbol') } }));
    vy.routes.set('/v5/market/instruments-info', () => ({ body: { retCode: 0, result: { list: [{ symbol: 'SOLUSDT', priceFilter: { tickSize: '0.010' }, lotSizeFilter: { qtyStep: '0.1' } }] } } }));
    const r = rig([
      { venue: 'binance-usdm', symbols: BS, wsUrl: `${vb.wsBase}/stream`, restUrl: vb.restUrl, exchangeInfo: false, bookTicker: false },
      { venue: 'bybit', symbols: YS, wsUrl: vy.wsBase, restUrl: vy.restUrl },
      { venue: 'coinbase', symbols: CS, wsUrl: vc.wsBase, restUrl: vc.restUrl },
    ]);
    await r.feeds.start();
    await Promise.all([vb.connection(1), vy.message((m) => m.op === 'subscribe'), vc.message((m) => m.channel === 'level2')]);
    const N = 200;
    let cseq = 0;
    for (const [k, s] of BS.entries()) vb.send(binance.depth(s, 99, 101, 98, [['100.00', '2.000']], [], T0));
    for (const [k, s] of YS.entries()) vy.send(bybit.book(s, 200, 'snapshot', 1, [['100.00', '1.0']], [['100.10', '1.0']], T0));
    for (const s of CS) vc.send(coinbase.l2(cseq++, 'snapshot', s, iso(T0), [{ side: 'bid', price_level: '100.00', new_quantity: '1' }, { side: 'offer', price_level: '100.01', new_quantity: '1' }]));
    for (let i = 1; i <= N; i++) {
      const ts = T0 + i * 50;
      for (const [k, s] of BS.entries()) vb.send(binance.aggTrade(s, i, (100 + k + (i % 10) / 10).toFixed(1), '0.001', ts, i % 2 === 0));
      for (const [k, s] of YS.entries()) vy.send(bybit.trades(s, ts, [{ i: `${s}-${i}`, T: ts, p: (100 + k + (i % 10) / 10).toFixed(1), v: '0.1', S: i % 2 ? 'Buy' : 'Sell' }]));
      vc.send(coinbase.trades(cseq++, 'update', CS.map((s, k) => ({ trade_id: String(i), product_id: s, price: (100 + k + (i % 10) / 10).toFixed(2), size: '0.01', side: i % 2 ? 'BUY' : 'SELL', time: iso(ts) }))));
      if (i % 20 === 0) {
        for (const s of BS) vb.send(binance.depth(s, 101 + i / 20, 101 + i / 20, 100 + i / 20, [['99.90', (i / 1000).toFixed(3)]], [], ts));
        for (const s of YS) vy.send(bybit.book(s, 200, 'delta', 1 + i / 20, [['99.90', (i / 100).toFixed(1)]], [], ts));
        for (const s of CS) vc.send(coinbase.l2(cseq++, 'update', s, iso(ts), [{ side: 'bid', price_level: '99.90', new_quantity: String(i) }]));
      }
    }
    const ids = [...BS, ...YS.map((s) => `BYBIT:${s}`), ...CS.map((s) => `COINBASE:${s}`)];
    const count = (id: string) => r.trades.filter((t) => t.instrument === id).length;
    await waitFor(() => ids.every((id) => count(id) === N && r.books.l2.get(id)?.synced === true && r.books.l2.get(id)!.stats.updatesApplied >= 10), r.feeds.feeds, 10_000, 'all instruments');
    for (const id of ids) {
      const ts = r.trades.filter((t) => t.instrument === id).map((t) => t.ts);
      expect(ts).toEqual(Array.from({ length: N }, (_, i) => T0 + (i + 1) * 50));
      expect(r.books.book(id)!.bestBid()).toBe(r.registry.get(id).price.parse('100.00'));
    }
    expect(r.registry.get('BYBIT:SOLUSDT').tickSize).toBe('0.01');
    expect(r.feeds.status().map((s) => [s.venue, s.state, s.counters.gaps, s.counters.malformed])).toEqual([['binance-usdm', 'open', 0, 0], ['bybit', 'open', 0, 0], ['coinbase', 'open', 0, 0]]);
    expect(r.feeds.completeness().map((c) => c.instrument).sort()).toEqual([...ids].sort());
  });
});

describe('recorder', () => {
  it('record → replay of the recording reproduces the live bars (same checksum), across a reconnect with backfill', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-rec-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const v = await fake();
    v.binanceRouting = true; // depth/bookTicker on /public, trades on /market, as Binance serves USD-M since 2026-04-23
    const all = Array.from({ length: 400 }, (_, i) => ({ a: 1000 + i, p: (60000 + ((i * 37) % 50) / 10).toFixed(1), q: ((i % 7) + 1 / 1000).toFixed(3), T: T0 + i * 700, m: (i * 13) % 5 < 2 }));
    v.routes.set('/fapi/v1/aggTrades', (url) => ({ body: all.filter((t) => t.a >= Number(url.searchParams.get('fromId'))).slice(0, Number(url.searchParams.get('limit'))).map((t) => binance.restAggTrade(t.a, t.p, t.q, t.T, t.m)) }));
    v.routes.set('/fapi/v1/depth', () => ({ body: binance.snapshot(10, [['59990.0', '1.000']], [['60010.0', '1.000']], T0) }));
    const rec = new FrameRecorder({ dir, prefix: 'btc', maxBytes: 20_000 });
    const r = rig([{ venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: `${v.wsBase}/stream`, restUrl: v.restUrl, exchangeInfo: false }], rec);
    const feed = r.feeds.feeds[0]!;
    await r.feeds.start();
    await v.connection(2);
    v.send(binance.depth('BTCUSDT', 9, 11, 8, [['59991.0', '0.500']], [], T0));
    for (const t of all.slice(0, 200)) { v.send(binance.aggTrade('BTCUSDT', t.a, t.p, t.q, t.T, t.m)); if (t.a % 50 === 0) v.send(binance.bookTicker('BTCUSDT', t.a, '59991.0', '0.5', '60010.0', '1.0', t.T)); }
    await waitFor(() => r.trades.length === 200, [feed], 5000, '200 trades');
    v.dropAll();
    await v.connection(4);
    await waitFor(() => v.openPaths().length === 2, [v], 5000, 'both routes back');
    for (const t of all.slice(190)) if (t.a < 1210 || t.a >= 1230) v.send(binance.aggTrade('BTCUSDT', t.a, t.p, t.q, t.T, t.m));
    await waitFor(() => r.trades.length === 400, [feed], 5000, '400 trades');
    await r.feeds.stop();
    await rec.close();
    r.engine.finish();
    expect(rec.files.length).toBeGreaterThan(1); // rotated
    expect(feed.counters.backfilled).toBe(20);
    const replayed = await runReplay(rec.files, {});
    expect(replayed.badLines).toBe(0);
    const inst = replayed.instruments.find((i) => i.instrument === 'BTCUSDT')!;
    expect(inst.trades).toBe(400);
    expect(replayed.checksum).toBe(r.engine.checksum());
  });
});
