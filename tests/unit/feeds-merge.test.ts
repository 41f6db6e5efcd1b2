/**
 * MergedInstrument: one BTC grid across Binance USD-M, Bybit and Coinbase (and COIN-M contracts), with
 * per-venue contributions in every footprint cell; fed live from three loopback venues.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import type { MarketEvent, Trade } from '../../engine/src/core/events.js';
import { SESSION_TEMPLATES } from '../../engine/src/core/sessions.js';
import { MergedInstrument, mergeSourceOf } from '../../engine/src/feeds/merge.js';
import { FeedManager } from '../../engine/src/feeds/manager.js';
import { FakeVenue, binance, bybit, coinbase, waitFor } from '../../engine/src/feeds/testing.js';

const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

function trade(instrument: string, ts: number, price: number, size: number, side: Trade['side']): Trade {
  return { type: 'trade', instrument, ts, id: 0, price, size, side, sideSource: 'flag' };
}

describe('MergedInstrument (pure)', () => {
  const reg = new InstrumentRegistry();
  const ids = ['BTCUSDT', 'BYBIT:BTCUSDT', 'COINBASE:BTC-USD', 'BINANCE_COINM:BTCUSD_PERP'];
  const m = new MergedInstrument({ id: 'BTC-AGG', rowTicks: 50, timeframeMs: 60_000 }, ids.map((id) => mergeSourceOf(reg.get(id))));

  it('picks the coarsest tick and the finest linear lot, converts prices exactly and sizes to base units', () => {
    expect([m.tickSize, m.sizeStep]).toEqual(['0.1', '0.00000001']);
    expect(m.price('BTCUSDT', 600001)).toBe(600001); // 60000.1
    expect(m.price('COINBASE:BTC-USD', 6000005)).toBe(600001); // 60000.05 → 60000.1 (ties away from zero)
    expect(m.price('COINBASE:BTC-USD', 6000004)).toBe(600000);
    expect(m.size('BTCUSDT', 25, 600000)).toBe(2_500_000); // 0.025 BTC
    expect(m.size('COINBASE:BTC-USD', 123, 6000000)).toBe(123);
    // COIN-M: 6 contracts × 100 USD / 60000 USD = 0.01 BTC
    expect(m.size('BINANCE_COINM:BTCUSD_PERP', 6, 600000)).toBe(1_000_000);
  });

  it('keeps per-venue contributions per cell that sum to the cell totals; selectable per venue', () => {
    m.toTrade(trade('BTCUSDT', T0 + 1, 600001, 25, 'buy'));
    m.toTrade(trade('BYBIT:BTCUSDT', T0 + 2, 600004, 10, 'sell'));
    m.toTrade(trade('COINBASE:BTC-USD', T0 + 3, 6000049, 5_000_000, 'buy'));
    m.toTrade(trade('BINANCE_COINM:BTCUSD_PERP', T0 + 4, 600000, 6, 'sell')); // 600 USD at 60000 = 0.01 BTC
    expect(m.toTrade(trade('ETHUSDT', T0, 1, 1, 'buy'))).toBeNull();
    const cells = m.cells(T0);
    expect(cells.map((c) => c.row)).toEqual([12000]);
    const c = cells[0]!;
    expect([c.buy, c.sell, c.trades]).toEqual([2_500_000 + 5_000_000, 1_000_000 + 1_000_000, 4]);
    expect(c.venues).toEqual({
      'binance-usdm': { buy: 2_500_000, sell: 0, unknown: 0, trades: 1 },
      bybit: { buy: 0, sell: 1_000_000, unknown: 0, trades: 1 },
      coinbase: { buy: 5_000_000, sell: 0, unknown: 0, trades: 1 },
      'binance-coinm': { buy: 0, sell: 1_000_000, unknown: 0, trades: 1 },
    });
    expect(m.venueCells('bybit').map((x) => x.contribution.sell)).toEqual([1_000_000]);
    const spec = m.instrumentSpec({ session: SESSION_TEMPLATES.crypto_24x7, thresholds: { absorptionMinVolume: 1, initiativeMinDelta: 1 }, assetClass: 'crypto' });
    expect([spec.tickSize, spec.lotStep, spec.footprintRow]).toEqual(['0.1', '0.00000001', '5']);
  });
});

describe('multi-venue footprint from three live loopback venues', () => {
  it('cell totals equal the sum of the venues\' contributions and match each venue\'s own trades', async () => {
    const vs = await Promise.all([FakeVenue.start(), FakeVenue.start(), FakeVenue.start()]);
    for (const v of vs) cleanup.push(() => v.close());
    const [vb, vy, vc] = vs as [FakeVenue, FakeVenue, FakeVenue];
    const registry = new InstrumentRegistry();
    const sources = ['BTCUSDT', 'BYBIT:BTCUSDT', 'COINBASE:BTC-USD'].map((id) => mergeSourceOf(registry.get(id)));
    const merged = new MergedInstrument({ id: 'BTC-AGG', rowTicks: 50, timeframeMs: 60_000 }, sources);
    registry.add(merged.instrumentSpec({ session: SESSION_TEMPLATES.crypto_24x7, thresholds: { absorptionMinVolume: 1, initiativeMinDelta: 1 }, assetClass: 'crypto' }));
    const engine = new Engine(registry, { timeframe: '1m' });
    const perVenue = new Map<string, Trade[]>();
    const sink = (ev: MarketEvent): void => {
      engine.onEvent(ev);
      if (ev.type !== 'trade') return;
      const list = perVenue.get(ev.instrument) ?? [];
      list.push({ ...ev });
      perVenue.set(ev.instrument, list);
      const mt = merged.toTrade(ev);
      if (mt) engine.onEvent(mt);
    };
    const feeds = FeedManager.fromConfig([
      { venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: `${vb.wsBase}/stream`, restUrl: vb.restUrl, exchangeInfo: false, depth: false, bookTicker: false },
      { venue: 'bybit', symbols: ['BTCUSDT'], wsUrl: vy.wsBase, restUrl: vy.restUrl, depth: false },
      { venue: 'coinbase', symbols: ['BTC-USD'], wsUrl: vc.wsBase, restUrl: vc.restUrl, depth: false },
    ], { registry, sink });
    cleanup.push(() => feeds.stop());
    await feeds.start();
    await Promise.all([vb.connection(1), vy.message((m) => m.op === 'subscribe'), vc.message((m) => m.channel === 'market_trades')]);
    const N = 300;
    for (let i = 0; i < N; i++) {
      const ts = T0 + i * 400; // 2 minutes
      const base = 60000 + ((i * 7919) % 400) / 10;
      vb.send(binance.aggTrade('BTCUSDT', i + 1, base.toFixed(1), ((i % 5) + 1 / 1000).toFixed(3), ts, i % 3 === 0));
      vy.send(bybit.trades('BTCUSDT', ts, [{ i: `y${i}`, T: ts, p: (base + 0.1).toFixed(1), v: '0.004', S: i % 2 ? 'Buy' : 'Sell' }]));
      vc.send(coinbase.trades(i, 'update', [{ trade_id: String(i + 1), product_id: 'BTC-USD', price: (base + 0.03).toFixed(2), size: (0.0001 * ((i % 9) + 1)).toFixed(8), side: i % 4 ? 'SELL' : 'BUY', time: new Date(ts).toISOString() }]));
    }
    await waitFor(() => ['BTCUSDT', 'BYBIT:BTCUSDT', 'COINBASE:BTC-USD'].every((id) => (perVenue.get(id)?.length ?? 0) === N), feeds.feeds, 10_000, 'all trades');
    const cells = merged.cells();
    expect(new Set(cells.map((c) => c.barStart)).size).toBe(2);
    // 1) every cell: totals = sum of contributions
    for (const c of cells) {
      const vals = Object.values(c.venues);
      expect(vals.reduce((s, v) => s + v.buy, 0)).toBe(c.buy);
      expect(vals.reduce((s, v) => s + v.sell, 0)).toBe(c.sell);
      expect(vals.reduce((s, v) => s + v.trades, 0)).toBe(c.trades);
    }
    // 2) contributions equal an independent aggregation of each venue's own trades
    const expected = new Map<string, number>();
    for (const [id, list] of perVenue) {
      const src = sources.find((s) => s.instrument === id)!;
      const inst = registry.get(id);
      for (const t of list) {
        const px = Math.round(inst.price.toNumber(t.price) * 10); // merged 0.1 ticks, half up for positives
        const sz = Math.round(inst.qty.toNumber(t.size) * 1e8);
        const key = `${Math.floor(t.ts / 60_000) * 60_000}|${Math.floor(px / 50)}|${src.venue}|${t.side}`;
        expected.set(key, (expected.get(key) ?? 0) + sz);
      }
    }
    const got = new Map<string, number>();
    for (const c of cells) for (const [venue, v] of Object.entries(c.venues)) {
      if (v.buy) got.set(`${c.barStart}|${c.row}|${venue}|buy`, v.buy);
      if (v.sell) got.set(`${c.barStart}|${c.row}|${venue}|sell`, v.sell);
    }
    expect(got).toEqual(expected);
    // 3) the merged instrument's pipeline saw exactly the merged volume
    const total = cells.reduce((s, c) => s + c.buy + c.sell + c.unknown, 0);
    expect(engine.pipeline('BTC-AGG').counters.volume).toBe(total);
    expect(engine.pipeline('BTC-AGG').counters.trades).toBe(3 * N);
  });
});
