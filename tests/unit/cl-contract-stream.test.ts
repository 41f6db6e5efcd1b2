/**
 * Charting Library contract, item 1 (realtime): what the library does with one datafeed — the main
 * series, a study whose derived ticker streams the main series' own key (VWAP → bar/BTCUSDT/1m), CVD and
 * Bar Delta on one `delta` key, a second chart — against the real HTTP + stream servers. Every listener
 * must keep receiving updates, on one socket per page.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Engine } from '../../engine/src/analytics/engine.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { createStreamServer, type StreamServer } from '../../datafeed-adapter/src/ws/server.js';
import { TapeFlowDatafeed } from '../../datafeed-adapter/src/client/datafeed.js';
import type { Bar, LibrarySymbolInfo, ResolutionString } from '../../datafeed-adapter/src/client/types.js';
import type { WebSocketCtor } from '../../datafeed-adapter/src/client/stream.js';
import { withDerivedTickers } from '../../indicators/charting-library/derived.js';
import { startStream, tape, TestClient, sleep, feed, type Started } from '../browser/stream-support.js';

const T0 = Date.UTC(2024, 7, 8, 0, 0);
let s: Started | null = null;
let http: DatafeedServer | null = null;
let ws: StreamServer | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await s?.server.close(); s = null;
  await ws?.close(); ws = null;
  await http?.close(); http = null;
});

describe('CL contract 1: the stream multiplexes subscriptions to one key', () => {
  it('two subscriptions to bar/BTCUSDT/1m on one connection both get their snapshot and every update', async () => {
    s = await startStream();
    const trades = tape(3000, { start: T0, stepMs: 100 });
    for (const t of trades.slice(0, 600)) s.engine.onEvent(t);
    const c = await TestClient.open(s.url);
    cleanups.push(() => c.close());
    const a = await c.subscribe('bar', 'BTCUSDT', '1m');
    const b = await c.subscribe('bar', 'BTCUSDT', '1');
    expect(a.op).toBe('snapshot');
    expect(b.op).toBe('snapshot');
    expect(b.sub).not.toBe(a.sub);
    expect(b.d.open.t).toBe(a.d.open.t);
    await feed(s.engine, trades.slice(600, 2400), 50, 5).done;
    await sleep(400);
    const ua = c.updates(a.sub), ub = c.updates(b.sub);
    expect(ua.length).toBeGreaterThan(3);
    expect(ub.length).toBeGreaterThan(2);
    ua.forEach((u, i) => expect(u.seq).toBe(i + 1));
    ub.forEach((u, i) => expect(u.seq).toBe(i + 1));
    // closed bars are never conflated: both subscriptions received the same closed bars
    const closed = (us: typeof ua) => us.filter((u) => u.d.closed).map((u) => u.d);
    expect(closed(ua).length).toBeGreaterThan(1);
    expect(closed(ub)).toEqual(closed(ua));
    // ending one leaves the other streaming
    c.send({ v: 1, op: 'unsubscribe', id: 'u', sub: a.sub });
    await c.next((m) => m.op === 'unsubscribed' && m.ref === 'u');
    const nb = c.updates(b.sub).length;
    await feed(s.engine, trades.slice(2400, 3000), 50, 5).done;
    await sleep(400);
    expect(c.updates(b.sub).length).toBeGreaterThan(nb);
    expect(c.updates(a.sub).length).toBe(ua.length);
    // unsubscribe by key ends every subscription of the connection to it
    const a2 = await c.subscribe('bar', 'BTCUSDT', '1m');
    c.send({ v: 1, op: 'unsubscribe', id: 'k', ch: 'bar', sym: 'BTCUSDT', tf: '1m' });
    await sleep(200);
    const ended = c.msgs.filter((m) => m.op === 'unsubscribed' && m.ref === 'k').map((m) => m.sub).sort();
    expect(ended).toEqual([b.sub, a2.sub].sort());
    expect(s.server.stats().clients[0].subs).toBe(0);
  });
});

async function setup(): Promise<Engine> {
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 5000 });
  http = await createServer({ engine, port: 0, host: '127.0.0.1', staticDir: false });
  ws = createStreamServer({ engine, server: http.server });
  return engine;
}
const mkFeed = () => {
  const df = new TapeFlowDatafeed({ baseUrl: http!.url, WebSocket: WebSocket as unknown as WebSocketCtor });
  cleanups.push(() => df.destroy());
  return df;
};
const resolveP = (df: { resolveSymbol: TapeFlowDatafeed['resolveSymbol'] }, name: string): Promise<LibrarySymbolInfo> =>
  new Promise((ok, bad) => df.resolveSymbol(name, ok, bad));

describe('CL contract 1: main series, studies and charts on one datafeed all get realtime', () => {
  it('main series + VWAP (same bar key) + CVD + Bar Delta (same delta key) + a second chart: every listener ticks, one socket', async () => {
    const engine = await setup();
    const trades = tape(4000, { start: T0, stepMs: 100 });
    for (const t of trades.slice(0, 900)) engine.onEvent(t);
    const df = withDerivedTickers(mkFeed(), { apiBase: http!.url });
    const df2 = mkFeed(); // a second chart on the same page
    const R = '1' as ResolutionString;
    const ticks: Record<string, Bar[]> = {};
    const listen = async (d: typeof df | typeof df2, name: string, guid: string): Promise<void> => {
      const info = await resolveP(d, name);
      ticks[guid] = [];
      d.subscribeBars(info, R, (b) => ticks[guid].push(b), guid, () => {});
    };
    await listen(df, 'BTCUSDT', 'main');
    await listen(df, 'BTCUSDT#VWAP', 'vwap');
    await listen(df, 'BTCUSDT#CVD', 'cvd');
    await listen(df, 'BTCUSDT#DELTA', 'delta');
    await listen(df2, 'BTCUSDT', 'chart2');
    await sleep(300);
    await feed(engine, trades.slice(900, 3000), 30, 10).done;
    await sleep(600);
    for (const g of ['main', 'vwap', 'cvd', 'delta', 'chart2']) expect(ticks[g].length, g).toBeGreaterThan(3);
    // the main series' last bar is the engine's open bar
    const p = engine.pipelines.get('BTCUSDT')!;
    const last = ticks.main[ticks.main.length - 1];
    expect(last.time).toBe(p.openBar!.start);
    expect(ticks.chart2[ticks.chart2.length - 1]).toEqual(last);
    // one socket for the page: both datafeeds share the StreamClient
    expect(df2.stream).toBe((df as unknown as TapeFlowDatafeed).stream);
    expect(ws!.stats().connections).toBe(1);
    expect(ws!.stats().clients[0].subs).toBeGreaterThanOrEqual(6);
  });
});
