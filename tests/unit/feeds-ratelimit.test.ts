/**
 * REST rate limiting of the live feeds against a loopback venue: HTTP 429 with Retry-After (seconds and
 * HTTP-date), Binance 418, the next request waiting at least that long (measured on the venue side), the
 * feed recovering afterwards, and the rolling-minute request budget under a burst of resyncs (on an
 * injected clock that the test moves forward).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEntry } from '../../engine/src/feeds/manager.js';
import { feedRig } from '../helpers/feed-rig.js';
import { RestClient, RestError, retryAfterMs } from '../../engine/src/feeds/util.js';
import { newCounters } from '../../engine/src/feeds/types.js';
import { FakeVenue, binance, coinbase, waitFor } from '../../engine/src/feeds/testing.js';

const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function fake(): Promise<FakeVenue> {
  const v = await FakeVenue.start();
  cleanup.push(() => v.close());
  return v;
}

/** venue-side arrival times (performance.now) of requests to `path` */
function stamp(v: FakeVenue, path: string): number[] {
  const at: number[] = [];
  v.on('request', (u: URL) => { if (u.pathname === path) at.push(performance.now()); });
  return at;
}

function rig(entries: FeedEntry[], now?: () => number) {
  const r = feedRig(entries, (fn) => cleanup.push(fn), { now });
  return { ...r, feed: () => r.feeds.feeds[0]! };
}

const snap = (sym: string) => ({ body: { ...(binance.snapshot(100, [['100.00', '1.000']], [['100.10', '1.000']], T0) as object), symbol: sym } });

describe('Retry-After parsing', () => {
  it('takes delay-seconds and HTTP-dates; null when absent or garbage', () => {
    const now = Date.UTC(2024, 0, 1, 0, 0, 0);
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs(' 1.5 ', now)).toBe(1500);
    expect(retryAfterMs(new Date(now + 7000).toUTCString(), now)).toBe(7000);
    expect(retryAfterMs(new Date(now - 7000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs('-4', now)).toBeNull();
  });
});

describe('REST 429 / 418', () => {
  it('Binance depth snapshot answered 429 Retry-After: 1 → the retry waits ≥ 1 s, then the book syncs', async () => {
    const v = await fake();
    const at = stamp(v, '/fapi/v1/depth');
    let n = 0;
    v.routes.set('/fapi/v1/depth', (url) => (++n === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: { code: -1003, msg: 'Too many requests' } } : snap(url.searchParams.get('symbol')!)));
    const r = rig([{ venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: `${v.wsBase}/stream`, restUrl: v.restUrl, exchangeInfo: false, bookTicker: false }]);
    await r.feeds.start();
    await v.connection(1);
    v.send(binance.depth('BTCUSDT', 99, 101, 98, [['100.00', '2.000']], [], T0));
    await waitFor(() => r.books.l2.get('BTCUSDT')?.synced === true, [r.feed(), v], 5000, 'synced after the 429');
    expect(at).toHaveLength(2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(1000);
    expect(r.books.book('BTCUSDT')!.bestBidSize()).toBe(2000);
    const c = r.feed().status().counters;
    expect([c.restRequests, c.rateLimited, c.restFailures]).toEqual([2, 1, 1]);
    console.log(`429 Retry-After: 1 → next request after ${(at[1]! - at[0]!).toFixed(0)} ms`);
  });

  it('Binance 418 (IP ban) with Retry-After blocks every request to that base, not only the one that got it', async () => {
    const v = await fake();
    const at = stamp(v, '/fapi/v1/depth');
    const bodies: string[] = [];
    let n = 0;
    v.routes.set('/fapi/v1/depth', (url) => {
      const sym = url.searchParams.get('symbol')!;
      bodies.push(sym);
      return ++n === 1 ? { status: 418, headers: { 'retry-after': '1' }, body: { code: -1003, msg: 'Way too many requests; IP banned' } } : snap(sym);
    });
    const r = rig([{ venue: 'binance-usdm', symbols: ['BTCUSDT', 'ETHUSDT'], wsUrl: `${v.wsBase}/stream`, restUrl: v.restUrl, exchangeInfo: false, bookTicker: false }]);
    await r.feeds.start();
    await v.connection(1);
    v.send(binance.depth('BTCUSDT', 99, 101, 98, [['100.00', '2.000']], [], T0));
    const tick = setInterval(() => v.emit('tick'), 5);
    cleanup.push(() => clearInterval(tick));
    await waitFor(() => r.feed().counters.rateLimited === 1, [r.feed(), v], 5000, 'the 418');
    const banned = performance.now();
    v.send(binance.depth('ETHUSDT', 99, 101, 98, [['100.00', '3.000']], [], T0)); // ETHUSDT's first snapshot: must wait too
    await waitFor(() => r.books.l2.get('BTCUSDT')?.synced === true && r.books.l2.get('ETHUSDT')?.synced === true, [r.feed(), v], 5000, 'both synced');
    expect(bodies[0]).toBe('BTCUSDT');
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(1000);
    expect(at[2]! - at[0]!).toBeGreaterThanOrEqual(1000);
    expect(Math.min(at[1]!, at[2]!) - banned).toBeGreaterThan(800); // nothing went out while banned
    expect(r.feed().status().counters.rateLimited).toBe(1);
  });

  it('Coinbase ticker backfill answered 429 with an HTTP-date Retry-After: waits, then recovers the missing trades', async () => {
    const v = await fake();
    const path = '/api/v3/brokerage/market/products/BTC-USD/ticker';
    const at = stamp(v, path);
    const t = (id: number) => ({ trade_id: String(id), product_id: 'BTC-USD', price: (60000 + id).toFixed(2), size: '0.01000000', side: (id % 2 ? 'BUY' : 'SELL') as 'BUY' | 'SELL', time: iso(T0 + id * 10) });
    let n = 0;
    v.routes.set(path, () => (++n === 1
      ? { status: 429, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() }, body: { error: 'rate limited' } }
      : { body: { trades: [t(4), t(3), t(2)] } }));
    const r = rig([{ venue: 'coinbase', symbols: ['BTC-USD'], wsUrl: v.wsBase, restUrl: v.restUrl, depth: false }]);
    await r.feeds.start();
    await v.message((m) => m.channel === 'market_trades');
    v.send(coinbase.trades(0, 'update', [t(1), t(2)]));
    await waitFor(() => r.trades.length === 2, [r.feed()], 5000, '2 trades');
    v.send(coinbase.trades(3, 'update', [t(5)])); // sequence_num 1..2 lost → backfill
    await waitFor(() => r.trades.length === 5, [r.feed(), v], 6000, 'backfilled');
    expect(r.trades.map((x) => x.id)).toEqual([1, 2, 3, 4, 5]);
    expect(at).toHaveLength(2);
    // the HTTP-date has 1 s resolution: at least 1 s, at most ~2 s
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(1000);
    expect(at[1]! - at[0]!).toBeLessThan(2600);
    const c = r.feed().status().counters;
    expect([c.rateLimited, c.backfilled]).toEqual([1, 2]);
  });

  it('RestClient: a 429 without Retry-After blocks for 60 s and says so', async () => {
    const v = await fake();
    v.routes.set('/x', () => ({ status: 429, body: { error: 'slow down' } }));
    const counters = newCounters();
    const rc = new RestClient(v.restUrl, { weightPerMinute: 100, timeoutMs: 2000, counters });
    const err = await rc.getJson('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestError);
    expect([(err as RestError).status, (err as RestError).retryAfterMs]).toEqual([429, 60_000]);
    expect(rc.waitFor(1)).toBeGreaterThan(59_000);
  });
});

describe('request budget under a burst of resyncs', () => {
  it('never exceeds the rolling-minute weight budget; waiting requests go out when the window frees', async () => {
    const v = await fake();
    let offset = 0;
    const now = (): number => Date.now() + offset;
    const sent: { t: number; sym: string }[] = [];
    v.routes.set('/fapi/v1/depth', (url) => { sent.push({ t: now(), sym: url.searchParams.get('symbol')! }); return snap(url.searchParams.get('symbol')!); });
    const SYMS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'];
    // depth limit 1000 weighs 20 on USD-M: a budget of 40 allows two snapshots a minute
    const r = rig([{ venue: 'binance-usdm', symbols: SYMS, wsUrl: `${v.wsBase}/stream`, restUrl: v.restUrl, exchangeInfo: false, bookTicker: false, restWeightPerMinute: 40 }], now);
    const feed = r.feed();
    await r.feeds.start();
    await v.connection(1);
    for (const s of SYMS) v.send(binance.depth(s, 99, 101, 98, [['100.00', '2.000']], [], T0));
    await waitFor(() => sent.length === 2, [feed, v], 5000, 'two snapshots');
    // a burst of resync requests for every symbol (e.g. a flapping connection), 10 each
    for (let k = 0; k < 10; k++) for (const s of SYMS) feed.onResync({ venue: 'binance-usdm', instrument: s, ts: T0, reason: 'burst' });
    await new Promise((res) => setTimeout(res, 700));
    expect(sent).toHaveLength(2); // the budget is spent: nothing else goes out within the minute
    expect(feed.status().counters.restRequests).toBe(2);
    // one minute later (injected clock) the next two fit
    offset += 60_001;
    await waitFor(() => sent.length === 4, [feed, v], 3000, 'two more after a minute');
    await new Promise((res) => setTimeout(res, 400));
    expect(sent).toHaveLength(4);
    offset += 60_001;
    await waitFor(() => sent.length === 6 && SYMS.every((s) => r.books.l2.get(s)?.synced === true), [feed, v], 3000, 'the rest of the burst');
    expect(sent.filter((x) => x.t >= sent[2]!.t + 60_000)).toHaveLength(2); // one window apart
    offset += 60_001;
    await new Promise((res) => setTimeout(res, 600));
    // the burst was coalesced (one snapshot per symbol in flight at a time): SOL/XRP's resyncs arrived while
    // their first snapshot was still waiting for budget, BTC/ETH's after theirs → 4 initial + 2 resyncs
    expect(sent.slice(0, 2).map((x) => x.sym)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(sent.map((x) => x.sym).sort()).toEqual(['BTCUSDT', 'BTCUSDT', 'ETHUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT']);
    // every rolling minute of the injected clock carries at most 40 weight = 2 snapshots
    for (const a of sent) expect(sent.filter((b) => b.t >= a.t && b.t < a.t + 60_000).length).toBeLessThanOrEqual(2);
    expect(feed.status().counters.restRequests).toBe(6);
  });

  it('Binance X-MBX-USED-WEIGHT-1M from the server shrinks the budget the client thinks it has', async () => {
    const v = await fake();
    let offset = 0;
    const now = (): number => Date.now() + offset;
    const sent: string[] = [];
    v.routes.set('/fapi/v1/depth', (url) => { sent.push(url.searchParams.get('symbol')!); return { ...snap(url.searchParams.get('symbol')!), headers: { 'x-mbx-used-weight-1m': '2390' } }; });
    const r = rig([{ venue: 'binance-usdm', symbols: ['BTCUSDT', 'ETHUSDT'], wsUrl: `${v.wsBase}/stream`, restUrl: v.restUrl, exchangeInfo: false, bookTicker: false }], now);
    await r.feeds.start();
    await v.connection(1);
    v.send(binance.depth('BTCUSDT', 99, 101, 98, [], [], T0));
    await waitFor(() => r.books.l2.get('BTCUSDT')?.synced === true, [r.feed(), v], 5000, 'first');
    v.send(binance.depth('ETHUSDT', 99, 101, 98, [], [], T0));
    await new Promise((res) => setTimeout(res, 600));
    expect(sent).toEqual(['BTCUSDT']); // 2390 + 20 > 2400: waits
    offset += 60_001;
    await waitFor(() => r.books.l2.get('ETHUSDT')?.synced === true, [r.feed(), v], 3000, 'second after the window');
    expect(sent).toEqual(['BTCUSDT', 'ETHUSDT']);
  });
});
