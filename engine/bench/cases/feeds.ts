/**
 * Live-feed ingestion: frames/s per venue through the full pipeline (WebSocket on loopback → JSON →
 * dedupe → frame parser → Engine (1m pipeline) + BookManager). Binance USD-M streams the real BTCUSDT
 * capture (trade + depth@0ms + bookTicker, repeated with the snapshot served by REST once); Bybit v5 and
 * Coinbase Advanced Trade stream synthetic frames in the documented formats (no long real captures exist
 * for them in ../shared/data), 1 book update per trade frame.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type WebSocket from 'ws';
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { Engine } from '../../src/analytics/engine.js';
import { BookManager } from '../../src/book/manager.js';
import { FeedManager, type FeedEntry } from '../../src/feeds/manager.js';
import { FakeVenue, binanceRouted, bybit, coinbase, waitFor } from '../../src/feeds/testing.js';
import { dataDir, emit, peakRssMB } from '../harness.js';

/** `route` (Binance USD-M since 2026-04-23): which frames a connection to `path` carries; default all. */
async function run(name: string, entry: (v: FakeVenue) => FeedEntry, frames: string[], setup: (v: FakeVenue) => void, note: string, route?: (path: string, frame: unknown) => boolean): Promise<void> {
  const v = await FakeVenue.start();
  setup(v);
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m' });
  let feeds!: FeedManager;
  const books = new BookManager({ registry, emit: engine.onEvent, onResync: (r) => feeds.onResync(r) });
  engine.observe(books.onEvent);
  feeds = FeedManager.fromConfig([entry(v)], { registry, sink: engine.onEvent });
  let t0 = 0;
  const parsed = route ? frames.map((f) => JSON.parse(f) as unknown) : [];
  v.on('connection', (ws: WebSocket, path: string) => {
    void (async () => {
      if (!t0) t0 = performance.now();
      for (let i = 0; i < frames.length; i++) {
        if (route && !route(path, parsed[i])) continue;
        ws.send(frames[i]!);
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
      }
    })();
  });
  await feeds.start();
  const feed = feeds.feeds[0]!;
  await waitFor(() => feed.counters.frames >= frames.length, [feed], 600_000, `${name} frames`);
  const secs = (performance.now() - t0) / 1000;
  const c = feed.status().counters;
  await feeds.stop();
  await v.close();
  emit({ name: `feeds: ${name} frames ingested through the full pipeline from a loopback replay server`, note, frames: c.frames, events: c.events, trades: c.trades, malformed: c.malformed, gaps: c.gaps, seconds: +secs.toFixed(3), framesPerSec: Math.round(c.frames / secs), eventsPerSec: Math.round(c.events / secs), peakRssMB: peakRssMB() });
}

export async function benchFeeds(repeat = 3): Promise<void> {
  // Binance USD-M: the real capture; later passes shift trade ids and update ids so they stay contiguous
  const raw = gunzipSync(readFileSync(join(dataDir(), 'binance/usdm_btcusdt_20240808.gz'))).toString('utf8').split('\n').filter(Boolean);
  const objs = raw.map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as Record<string, unknown>);
  const snap = objs.find((o) => o.lastUpdateId !== undefined)!;
  const stream = objs.filter((o) => o.lastUpdateId === undefined);
  const data = (o: Record<string, unknown>) => o.data as Record<string, number | string>;
  const trades = stream.filter((o) => data(o).e === 'trade').map((o) => data(o).t as number);
  const tradeSpan = Math.max(...trades) - Math.min(...trades) + 1;
  const binFrames: string[] = [];
  for (let k = 0; k < repeat; k++) {
    for (const o of stream) {
      if (k === 0) { binFrames.push(JSON.stringify(o)); continue; }
      const d = { ...data(o) };
      if (d.e === 'trade') d.t = (d.t as number) + k * tradeSpan;
      if (d.e === 'depthUpdate') continue; // later passes: trades and quotes only (the book chain cannot repeat)
      binFrames.push(JSON.stringify({ stream: o.stream, data: d }));
    }
  }
  await run('binance-usdm (real BTCUSDT capture)', (v) => ({ venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: `${v.wsBase}/stream`, restUrl: v.restUrl, exchangeInfo: false, tradeStream: 'trade', depthSpeed: '0ms' }),
    binFrames, (v) => v.routes.set('/fapi/v1/depth', () => ({ body: snap })), `real capture, ${repeat} passes (depth in the first); depth/bookTicker on /public, trades on /market`, binanceRouted);

  const N = 60_000 * repeat;
  const T0 = Date.UTC(2024, 7, 8);
  const yb: string[] = [JSON.stringify(bybit.book('BTCUSDT', 200, 'snapshot', 1, [['60000.0', '1.000']], [['60000.1', '1.000']], T0))];
  for (let i = 1; i <= N; i++) {
    const ts = T0 + i * 10;
    const p = (60000 + (i % 50) / 10).toFixed(1);
    yb.push(JSON.stringify(bybit.trades('BTCUSDT', ts, [{ i: `e${i}`, T: ts, p, v: '0.010', S: i % 2 ? 'Buy' : 'Sell' }])));
    yb.push(JSON.stringify(bybit.book('BTCUSDT', 200, 'delta', 1 + i, [[(59990 + (i % 90) / 10).toFixed(1), ((i % 7) / 1000).toFixed(3)]], [], ts)));
  }
  await run('bybit linear (synthetic v5 frames)', (v) => ({ venue: 'bybit', symbols: ['BTCUSDT'], wsUrl: v.wsBase, restUrl: v.restUrl }), yb, () => {}, 'synthetic publicTrade + orderbook.200 deltas');

  const iso = (ms: number) => new Date(ms).toISOString();
  const cb: string[] = [JSON.stringify(coinbase.l2(0, 'snapshot', 'BTC-USD', iso(T0), [{ side: 'bid', price_level: '60000.00', new_quantity: '1' }, { side: 'offer', price_level: '60000.01', new_quantity: '1' }]))];
  let seq = 1;
  for (let i = 1; i <= N; i++) {
    const ts = T0 + i * 10;
    cb.push(JSON.stringify(coinbase.trades(seq++, 'update', [{ trade_id: String(i), product_id: 'BTC-USD', price: (60000 + (i % 500) / 100).toFixed(2), size: '0.00100000', side: i % 2 ? 'BUY' : 'SELL', time: iso(ts) }])));
    cb.push(JSON.stringify(coinbase.l2(seq++, 'update', 'BTC-USD', iso(ts), [{ side: 'bid', price_level: (59990 + (i % 900) / 100).toFixed(2), new_quantity: ((i % 7) / 1000).toFixed(3) }])));
  }
  await run('coinbase advanced trade (synthetic frames)', (v) => ({ venue: 'coinbase', symbols: ['BTC-USD'], wsUrl: v.wsBase, restUrl: v.restUrl }), cb, () => {}, 'synthetic market_trades + l2_data updates');
}
