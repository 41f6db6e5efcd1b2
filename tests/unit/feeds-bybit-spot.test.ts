/**
 * Bybit v5 spot (`bybit-spot`) against a loopback double with synthetic frames in the documented format:
 * `/v5/public/spot`, publicTrade with 19-digit numeric ids, orderbook.50 snapshot/delta, gap → resubscribe,
 * reconnect → recent-trade backfill (category=spot, limit 60). Instruments are BYBIT_SPOT:<S>, also when
 * instruments-info cannot be reached.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEntry } from '../../engine/src/feeds/manager.js';
import { feedRig } from '../helpers/feed-rig.js';
import { FakeVenue, bybit, waitFor } from '../../engine/src/feeds/testing.js';

const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

function rig(entries: FeedEntry[]) {
  const r = feedRig(entries, (fn) => cleanup.push(fn));
  return { ...r, feed: () => r.feeds.feeds[0]! };
}

const id19 = (n: number): string => String(2290000000050703000n + BigInt(n));
const tr = (n: number, S: 'Buy' | 'Sell') => ({ i: id19(n), T: T0 + n * 100, p: (60000 + n / 100).toFixed(2), v: '0.001234', S });

async function spotRun(withInfo: boolean) {
  const v = await FakeVenue.start();
  cleanup.push(() => v.close());
  if (withInfo) {
    v.routes.set('/v5/market/instruments-info', (url) => {
      expect(url.searchParams.get('category')).toBe('spot');
      return { body: { retCode: 0, result: { category: 'spot', list: [{ symbol: 'BTCUSDT', priceFilter: { tickSize: '0.01' }, lotSizeFilter: { basePrecision: '0.000001' } }] } } };
    });
  }
  const r = rig([{ venue: 'bybit-spot', symbols: ['BTCUSDT'], wsUrl: `${v.wsBase}/v5/public/spot`, restUrl: v.restUrl, depthLimit: 50 }]);
  const sub = v.message((m) => m.op === 'subscribe');
  await r.feeds.start();
  expect((await sub).args).toEqual(['orderbook.50.BTCUSDT', 'publicTrade.BTCUSDT']);
  expect(v.connectionUrls[0]).toBe('/v5/public/spot');
  return { v, r };
}

describe('Bybit v5 spot live feed', () => {
  for (const withInfo of [true, false]) {
    it(`BYBIT_SPOT instrument${withInfo ? '' : ' (instruments-info unreachable)'}: book snapshot/delta, gap → resubscribe, reconnect → spot recent-trade backfill, dedupe`, async () => {
      const { v, r } = await spotRun(withInfo);
      const feed = r.feed();
      const ID = 'BYBIT_SPOT:BTCUSDT';
      expect(feed.instruments()).toEqual([ID]);
      v.send(bybit.book('BTCUSDT', 50, 'snapshot', 100, [['60000.00', '1.000000'], ['59999.50', '0.500000']], [['60000.01', '2.000000']], T0));
      v.send(bybit.book('BTCUSDT', 50, 'delta', 101, [['59999.90', '0.250000']], [['60000.01', '0']], T0 + 1));
      v.send(bybit.book('BTCUSDT', 50, 'delta', 102, [], [['60000.05', '0.700000']], T0 + 2));
      v.send(bybit.trades('BTCUSDT', T0 + 100, [tr(1, 'Buy'), tr(2, 'Sell')]));
      await waitFor(() => r.trades.length === 2 && r.books.l2.get(ID)?.lastSeq === 102, [feed], 5000, 'synced');
      expect(r.registry.get(ID).venue).toBe('bybit');
      expect(r.books.l2.has('BYBIT:BTCUSDT')).toBe(false); // nothing leaked onto the linear instrument of the default registry
      expect(r.registry.get(ID).tickSize).toBe('0.01');
      let book = r.books.book(ID)!;
      const px = r.registry.get(ID).price;
      expect([px.format(book.bestBid()), px.format(book.bestAsk()), book.levelCount('bid')]).toEqual(['60000.00', '60000.05', 3]);
      expect(r.trades.map((t) => [t.instrument, t.side, t.id])).toEqual([[ID, 'buy', 0], [ID, 'sell', 0]]); // 19-digit ids do not fit a JS number
      // gap: u 104 after 102 → Gap, unsubscribe + resubscribe, fresh snapshot
      const resub = v.message((m) => m.op === 'subscribe' && (m.args as string[])[0] === 'orderbook.50.BTCUSDT', 3000);
      v.send(bybit.book('BTCUSDT', 50, 'delta', 104, [['59000.00', '1.000000']], [], T0 + 3));
      await resub;
      expect(v.received.filter((m) => (m as { op?: string }).op === 'unsubscribe').map((m) => (m as { args: string[] }).args)).toEqual([['orderbook.50.BTCUSDT']]);
      v.send(bybit.book('BTCUSDT', 50, 'snapshot', 200, [['60001.00', '3.000000']], [['60001.50', '1.000000']], T0 + 4));
      v.send(bybit.book('BTCUSDT', 50, 'delta', 201, [], [['60001.20', '0.400000']], T0 + 5));
      await waitFor(() => r.books.l2.get(ID)?.lastSeq === 201, [feed], 5000, 'resynced');
      book = r.books.book(ID)!;
      expect([px.format(book.bestBid()), px.format(book.bestAsk()), book.levelCount('bid')]).toEqual(['60001.00', '60001.20', 1]);
      expect(r.gaps.map((g) => [g.instrument, g.from, g.to])).toEqual([[ID, 103, 103]]);
      // reconnect: trades 3, 4 traded while away; recent-trade (spot: newest first, ≤ 60) knows 1..4
      v.routes.set('/v5/market/recent-trade', (url) => {
        expect([url.searchParams.get('category'), url.searchParams.get('limit')]).toEqual(['spot', '60']);
        return { body: { retCode: 0, result: { category: 'spot', list: [4, 3, 2, 1].map((n) => { const t = tr(n, n % 2 ? 'Buy' : 'Sell'); return { execId: t.i, symbol: 'BTCUSDT', price: t.p, size: t.v, side: t.S, time: String(t.T), isBlockTrade: false }; }) } } };
      });
      v.dropAll();
      await v.connection(2);
      await v.message((m) => m.op === 'subscribe');
      v.send(bybit.trades('BTCUSDT', T0 + 500, [tr(4, 'Sell'), tr(5, 'Buy')])); // 4 again: duplicate of the backfill
      v.send(bybit.book('BTCUSDT', 50, 'snapshot', 300, [['59000.00', '1.000000']], [['59000.10', '1.000000']], T0 + 600));
      await waitFor(() => r.trades.length === 5 && r.books.l2.get(ID)?.lastSeq === 300 && feed.status().completeness[0]!.openGaps === 0, [feed], 5000, 'after reconnect');
      expect(r.trades.map((t) => t.ts)).toEqual([1, 2, 3, 4, 5].map((n) => T0 + n * 100));
      expect(r.trades.map((t) => t.side)).toEqual(['buy', 'sell', 'buy', 'sell', 'buy']);
      expect(r.trades.every((t) => t.instrument === ID)).toBe(true);
      const st = feed.status();
      expect([st.counters.reconnects, st.counters.backfilled, st.counters.duplicates, st.counters.resyncs, st.counters.malformed]).toEqual([1, 2, 1, 1, 0]);
      expect(st.completeness.map((c) => c.instrument)).toEqual([ID]);
      expect(st.completeness[0]!.gaps.map((g) => g.kind)).toEqual(['book', 'disconnect', 'trades']);
    });
  }
});
