/**
 * Restarts on the venues without contiguous trade ids: Bybit v5 and Coinbase Advanced Trade feeds given
 * the store's last trade (`resume`) fetch the downtime from their documented recent-trades REST on the
 * first connection (not only after a reconnect), deliver only the trades after the stored one, and close
 * the trades gap as complete when the window covers the downtime.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { feedRig } from '../helpers/feed-rig.js';
import { FakeVenue, waitFor } from '../../engine/src/feeds/testing.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);

describe('restart resume without contiguous ids', () => {
  it('Bybit: recent-trade backfills the trades after the stored one on the first connection', async () => {
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    // newest first, as Bybit answers; u-1..u-5 were stored before the restart (last at T0 + 500)
    v.routes.set('/v5/market/recent-trade', () => ({ body: { retCode: 0, result: { category: 'linear', list: [9, 8, 7, 6, 5, 4, 3, 2, 1].map((i) => ({ execId: `u-${i}`, symbol: 'BTCUSDT', price: (60000 + i / 10).toFixed(1), size: '0.010', side: i % 2 ? 'Buy' : 'Sell', time: String(T0 + i * 100), isBlockTrade: false })) } } }));
    const r = feedRig([{ venue: 'bybit', symbols: ['BTCUSDT'], wsUrl: `${v.wsBase}/v5/public/linear`, restUrl: v.restUrl, depth: false, resume: (id) => (id === 'BYBIT:BTCUSDT' ? { id: 0, ts: T0 + 500 } : undefined) }], (fn) => cleanup.push(fn));
    const feed = r.feeds.feeds[0]!;
    await r.feeds.start();
    await waitFor(() => r.trades.length === 4, [feed, v], 5000, 'backfilled');
    expect(r.trades.map((t) => t.ts - T0)).toEqual([600, 700, 800, 900]);
    const g = feed.status().completeness[0]!.gaps.find((x) => x.kind === 'trades')!;
    expect([g.recovered, g.complete, g.to !== null]).toEqual([4, true, true]);
    expect(v.requests.filter((q) => q.startsWith('/v5/market/recent-trade'))).toHaveLength(1);
  });

  it('Coinbase: the ticker trades after the stored one on the first connection', async () => {
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    v.routes.set('/api/v3/brokerage/market/products/BTC-USD/ticker', () => ({ body: { trades: [6, 5, 4, 3, 2, 1].map((i) => ({ trade_id: String(100 + i), product_id: 'BTC-USD', price: (60000 + i).toFixed(2), size: '0.01', side: i % 2 ? 'BUY' : 'SELL', time: new Date(T0 + i * 1000).toISOString() })) } }));
    const r = feedRig([{ venue: 'coinbase', symbols: ['BTC-USD'], wsUrl: v.wsBase, restUrl: v.restUrl, depth: false, resume: (id) => (id === 'COINBASE:BTC-USD' ? { id: 103, ts: T0 + 3000 } : undefined) }], (fn) => cleanup.push(fn));
    const feed = r.feeds.feeds[0]!;
    await r.feeds.start();
    await waitFor(() => r.trades.length === 3, [feed, v], 5000, 'backfilled');
    expect(r.trades.map((t) => (t.ts - T0) / 1000)).toEqual([4, 5, 6]);
    const g = feed.status().completeness[0]!.gaps.find((x) => x.kind === 'trades')!;
    expect([g.recovered, g.complete]).toEqual([3, true]);
  });
});
