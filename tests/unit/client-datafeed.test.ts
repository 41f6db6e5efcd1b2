/**
 * TapeFlowDatafeed against the real datafeed HTTP server (UDF) + the stream server attached to it,
 * with Node's fetch and the `ws` WebSocket: the Charting Library contract (charting-hosts.md §6).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Engine } from '../../engine/src/analytics/engine.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { OrderBook } from '../../engine/src/book/order-book.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { createStreamServer, type StreamServer, type StreamServerOptions } from '../../datafeed-adapter/src/ws/server.js';
import { TapeFlowDatafeed } from '../../datafeed-adapter/src/client/datafeed.js';
import type { Bar, DOMData, LibrarySymbolInfo, QuoteData, ResolutionString } from '../../datafeed-adapter/src/client/types.js';
import type { WebSocketCtor } from '../../datafeed-adapter/src/client/stream.js';
import { tape, sleep } from '../browser/stream-support.js';

const MIN = 60_000;
let http: DatafeedServer | null = null;
let ws: StreamServer | null = null;
let df: TapeFlowDatafeed | null = null;
afterEach(async () => {
  df?.destroy(); df = null;
  await ws?.close(); ws = null;
  await http?.close(); http = null;
});

async function setup(streamOpts: Partial<StreamServerOptions> = {}, dfOpts: { snapshotBars?: number } = {}): Promise<{ engine: Engine; feed: TapeFlowDatafeed }> {
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 5000 });
  http = await createServer({ engine, port: 0, host: '127.0.0.1', staticDir: false });
  ws = createStreamServer({ engine, server: http.server, ...streamOpts });
  df = new TapeFlowDatafeed({ baseUrl: http.url, WebSocket: WebSocket as unknown as WebSocketCtor, stream_options: { backoffMinMs: 30, backoffMaxMs: 200 }, ...dfOpts });
  return { engine, feed: df };
}

const cb = <T>(): { p: Promise<T>; fn: (x: T) => void; calls: number } => {
  const o = { calls: 0 } as { p: Promise<T>; fn: (x: T) => void; calls: number };
  o.p = new Promise<T>((r) => { o.fn = (x: T) => { o.calls++; r(x); }; });
  return o;
};
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error('condition not met in time'); await sleep(10); }
}
const resolve = async (feed: TapeFlowDatafeed, name: string): Promise<LibrarySymbolInfo> => {
  const r = cb<LibrarySymbolInfo>();
  feed.resolveSymbol(name, r.fn, (e) => { throw new Error(e); });
  return r.p;
};

describe('TapeFlowDatafeed', () => {
  it('onReady, searchSymbols, resolveSymbol (name, ticker, unknown), getServerTime follow the CL contract', async () => {
    const { feed } = await setup();
    let sync = true;
    const ready = cb<Record<string, unknown>>();
    feed.onReady((c) => { expect(sync).toBe(false); ready.fn(c as Record<string, unknown>); });
    sync = false;
    const config = await ready.p;
    expect(config.supported_resolutions).toContain('1');
    expect(config.supports_time).toBe(true);
    const search = cb<unknown[]>();
    feed.searchSymbols('btc', '', '', search.fn, 'symbolSearch');
    const items = (await search.p) as { symbol: string; ticker?: string }[];
    expect(items.some((x) => x.ticker === 'BTCUSDT')).toBe(true);
    const none = cb<unknown[]>();
    feed.searchSymbols('zzzzzz', '', '', none.fn);
    expect(await none.p).toEqual([]);

    const info = await resolve(feed, 'BTCUSDT');
    for (const k of ['name', 'ticker', 'description', 'type', 'session', 'timezone', 'exchange', 'listed_exchange', 'format', 'pricescale', 'minmov'] as const) expect(info[k]).toBeDefined();
    expect(info.minmov / info.pricescale).toBeCloseTo(0.1, 12);
    expect(info.has_intraday).toBe(true);
    expect(Object.keys(info).some((k) => k.includes('-'))).toBe(false);
    const again = await resolve(feed, info.ticker!);
    expect(again.ticker).toBe('BTCUSDT');
    const bad = cb<string>();
    feed.resolveSymbol('NOPE-XYZ', () => { throw new Error('resolved'); }, bad.fn);
    expect(await bad.p).toBe('unknown_symbol');
    const time = cb<number>();
    feed.getServerTime(time.fn);
    const t = await time.p;
    expect(Number.isInteger(t)).toBe(true);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(5);
    expect(ready.calls + search.calls + bad.calls + time.calls).toBe(4);
  });

  it('getBars: ms times, ascending, < to, countBack honoured, noData when nothing exists', async () => {
    const { engine, feed } = await setup();
    const T0 = Date.UTC(2024, 7, 8, 0, 0);
    for (const t of tape(30 * 120, { start: T0, stepMs: 500 })) engine.onEvent(t); // 30 minutes
    const info = await resolve(feed, 'BTCUSDT');
    const r1 = cb<[Bar[], unknown]>();
    const toS = (T0 + 20 * MIN) / 1000;
    feed.getBars(info, '1' as ResolutionString, { from: toS - 5 * 60, to: toS, countBack: 8, firstDataRequest: false }, (b, m) => r1.fn([b, m]), (e) => { throw new Error(e); });
    const [bars] = await r1.p;
    expect(bars.length).toBe(8);
    expect(bars.map((b) => b.time)).toEqual(Array.from({ length: 8 }, (_, i) => T0 + (12 + i) * MIN));
    const p = engine.pipelines.get('BTCUSDT')!;
    expect(bars[0]).toMatchObject({ open: p.bars[12].bar.open / 10, close: p.bars[12].bar.close / 10 });
    const r2 = cb<[Bar[], { noData?: boolean }]>();
    feed.getBars(info, '5' as ResolutionString, { from: T0 / 1000 - 86400 * 3, to: T0 / 1000 - 86400 * 2, countBack: 10, firstDataRequest: false }, (b, m) => r2.fn([b, m as { noData?: boolean }]), (e) => { throw new Error(e); });
    const [empty, meta] = await r2.p;
    expect(empty).toEqual([]);
    expect(meta.noData).toBe(true);
    const r3 = cb<string>();
    feed.getBars(info, '7W' as ResolutionString, { from: 0, to: toS, countBack: 1, firstDataRequest: false }, () => { throw new Error('bars'); }, r3.fn);
    expect(typeof (await r3.p)).toBe('string');
  });

  it('subscribeBars: realtime bars in time order; after a disconnect the missed bars are refilled (snapshot + /history)', async () => {
    const { engine, feed } = await setup({}, { snapshotBars: 2 });
    const T0 = Date.UTC(2024, 7, 8, 0, 0);
    const all = tape(60 * 120, { start: T0, stepMs: 500 }); // 60 minutes
    for (const t of all.slice(0, 10 * 120)) engine.onEvent(t);
    const info = await resolve(feed, 'BTCUSDT');
    const h = cb<Bar[]>();
    feed.getBars(info, '1' as ResolutionString, { from: T0 / 1000, to: (T0 + 60 * MIN) / 1000, countBack: 5, firstDataRequest: true }, h.fn, (e) => { throw new Error(e); });
    const hist = await h.p;
    expect(hist.at(-1)!.time).toBe(T0 + 10 * MIN); // the last trade opened minute 10
    const ticks: Bar[] = [];
    let resets = 0;
    feed.subscribeBars(info, '1' as ResolutionString, (b) => ticks.push(b), 'g1', () => resets++);
    await until(() => feed.stream.state === 'open');
    await sleep(100);
    for (const t of all.slice(10 * 120, 20 * 120)) engine.onEvent(t);
    await until(() => ticks.some((b) => b.time === T0 + 19 * MIN));
    // drop the connection and keep the tape running while the client is away: 15 bars close meanwhile
    for (const c of ws!.conns) c.ws.terminate();
    for (const t of all.slice(20 * 120, 35 * 120)) engine.onEvent(t);
    await until(() => feed.stream.connects === 2);
    for (const t of all.slice(35 * 120)) engine.onEvent(t);
    await until(() => ticks.some((b) => b.time === T0 + 59 * MIN));
    await sleep(300);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i].time).toBeGreaterThanOrEqual(ticks[i - 1].time);
    const times = [...new Set(ticks.map((b) => b.time))];
    expect(times).toEqual(Array.from({ length: 51 }, (_, i) => T0 + (10 + i) * MIN));
    // the last emission per closed minute equals the engine's bar
    const p = engine.pipelines.get('BTCUSDT')!;
    for (const x of p.bars.slice(10)) {
      const last = ticks.filter((b) => b.time === x.bar.start).at(-1)!;
      expect(last).toMatchObject({ open: x.bar.open / 10, high: x.bar.high / 10, low: x.bar.low / 10, close: x.bar.close / 10 });
    }
    expect(feed.timeViolations).toBe(0);
    expect(resets).toBe(0);
    feed.unsubscribeBars('g1');
    const n = ticks.length;
    engine.onEvent({ ...all[all.length - 1], ts: all[all.length - 1].ts + 2 * MIN, id: 1e9 });
    await sleep(400);
    expect(ticks.length).toBe(n);
  });

  it('seconds resolutions are built from the tick channel; quotes and depth stream', async () => {
    const book = new OrderBook();
    const { engine, feed } = await setup({ books: () => book, intervals: { stats: 50, orderbook: 50 } });
    const T0 = Date.UTC(2024, 7, 8, 0, 0);
    const all = tape(600, { start: T0, stepMs: 250 });
    for (const t of all.slice(0, 100)) engine.onEvent(t);
    const info = await resolve(feed, 'BTCUSDT');
    const ticks: Bar[] = [];
    feed.subscribeBars(info, '15S' as ResolutionString, (b) => ticks.push(b), 'g15', () => {});
    const quotes: QuoteData[] = [];
    feed.subscribeQuotes(['BTCUSDT'], [], (q) => quotes.push(...q), 'q1');
    const dom: DOMData[] = [];
    const id = feed.subscribeDepth('BTCUSDT', (d) => dom.push(d));
    expect(typeof id).toBe('string');
    await until(() => feed.stream.state === 'open' && quotes.length > 0 && dom.length > 0);
    await sleep(100);
    for (const t of all.slice(100)) engine.onEvent(t);
    book.applySnapshot({ bids: [[600_000, 5000], [599_990, 2000]], asks: [[600_010, 1000], [600_020, 3000]] });
    engine.onEvent({ type: 'book_snapshot', instrument: 'BTCUSDT', ts: all.at(-1)!.ts, seq: 1, bids: [[600_000, 5000], [599_990, 2000]], asks: [[600_010, 1000], [600_020, 3000]] });
    await until(() => ticks.length > 0 && ticks.at(-1)!.close === all.at(-1)!.price / 10);
    // 15 s buckets, UTC aligned; the final bar holds the trades of its bucket
    for (const b of ticks) expect(b.time % 15_000).toBe(0);
    const lastBucket = Math.floor(all.at(-1)!.ts / 15_000) * 15_000;
    const inBucket = all.filter((t) => t.ts >= lastBucket);
    expect(ticks.at(-1)).toMatchObject({ time: lastBucket, open: inBucket[0].price / 10, high: Math.max(...inBucket.map((t) => t.price)) / 10 });
    await until(() => quotes.some((q) => q.s === 'ok' && (q.v as { lp?: number }).lp === all.at(-1)!.price / 10));
    const q = quotes.at(-1)!;
    expect(q.n).toBe('BTCUSDT');
    expect(q.v).toMatchObject({ lp: all.at(-1)!.price / 10, open_price: all[0].price / 10 });
    await until(() => dom.some((d) => d.bids.length === 2));
    const d = dom.at(-1)!;
    expect(d).toEqual({ snapshot: true, bids: [{ price: 59999, volume: 2 }, { price: 60000, volume: 5 }], asks: [{ price: 60001, volume: 1 }, { price: 60002, volume: 3 }] });
    const gq = cb<QuoteData[]>();
    feed.getQuotes(['BTCUSDT', 'ETHUSDT'], gq.fn, (e) => { throw new Error(e); });
    const got = await gq.p;
    expect(got.map((x) => x.n)).toEqual(['BTCUSDT', 'ETHUSDT']);
    feed.unsubscribeDepth(id);
    feed.unsubscribeQuotes('q1');
    feed.unsubscribeBars('g15');
    await sleep(100);
    expect(ws!.stats().clients[0].subs).toBe(0);
  });
});
