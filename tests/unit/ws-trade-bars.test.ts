/**
 * N-tick and volume bars live over /ws (issue 17): after a snapshot taken mid-stream, the stream's
 * closed 37T / 0.5V bars (snapshot + live closes, across a UTC hour where the count restarts) equal
 * /api/v1/footprint agg=tick|volume for the same window bar for bar, on the real HTTP + WS servers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/src/analytics/engine.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { createStreamServer, type StreamServer } from '../../datafeed-adapter/src/ws/server.js';
import { liveTradeBarsSnapshot } from '../../datafeed-adapter/src/service/live-trade-bars.js';
import { tape, TestClient, sleep, feed, type Msg } from '../browser/stream-support.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 7, 8, 0, 50);
let http: DatafeedServer | null = null;
let ws: StreamServer | null = null;
let client: TestClient | null = null;
afterEach(async () => {
  client?.close(); client = null;
  await ws?.close(); ws = null;
  await http?.close(); http = null;
});

async function setup(withSource = true): Promise<Engine> {
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 5000 });
  http = await createServer({ engine, port: 0, host: '127.0.0.1', staticDir: false });
  const svc = http.service;
  ws = createStreamServer({ engine, server: http.server, ...(withSource ? { tradeBars: (sym, rule, limit) => liveTradeBarsSnapshot(svc, sym, rule, limit) } : {}) });
  return engine;
}

type Row = [number, number, number, number, number, number, number, number];
const wsRow = (b: Msg): Row => [b.t, b.end, b.o, b.h, b.l, b.c, b.v, b.trades];
const restRow = (b: Msg): Row => [b.time, b.end, b.open, b.high, b.low, b.close, b.volume, b.trades];

async function rest(q: string): Promise<Msg[]> {
  const r = await fetch(`${http!.url}/api/v1/footprint?symbol=BTCUSDT&${q}&from=${T0}&to=${T0 + 2 * HOUR}&rows=false`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { bars: Msg[] }).bars;
}

describe('ws: tick and volume bars live', () => {
  it('37T and 0.5V (bar + footprint): snapshot + live closes equal the REST grouping bar for bar, across the hourly restart', async () => {
    const engine = await setup();
    // 00:50:00.7 … 01:11 UTC, one trade every 0.7 s: the snapshot is taken at ~00:57, the hour turns live
    const trades = tape(1800, { start: T0, stepMs: 700 });
    for (const t of trades.slice(0, 600)) engine.onEvent(t);
    client = await TestClient.open(`ws://127.0.0.1:${http!.port}/ws`);
    const subs = { tick: await client.subscribe('bar', 'BTCUSDT', '37T'), fp: await client.subscribe('footprint', 'BTCUSDT', '37T'), vol: await client.subscribe('bar', 'BTCUSDT', '0.5V') };
    for (const s of Object.values(subs)) expect(s.op, JSON.stringify(s)).toBe('snapshot');
    expect(subs.tick.tf).toBe('37T');
    expect(subs.vol.tf).toBe('0.5V');
    expect(subs.tick.d.bars.length).toBe(Math.floor(600 / 37));
    expect(subs.tick.d.open.trades).toBe(600 % 37);
    await feed(engine, trades.slice(600), 60, 5).done;
    await sleep(300);
    const closedOf = (s: Msg): Row[] => [...s.d.bars.map(wsRow), ...client!.updates(s.sub).filter((u) => u.d.closed).map((u) => wsRow(u.d))];
    const restTick = (await rest('agg=tick&size=37')).filter((b) => b.closed).map(restRow);
    const liveTick = closedOf(subs.tick);
    // the hour restart happened inside the live part: a short bar closed at 01:00
    const hourCut = restTick.findIndex((r) => r[0] >= T0 + 10 * 60_000) - 1;
    expect(restTick[hourCut][7]).toBeLessThan(37);
    expect(restTick.length).toBeGreaterThan(45);
    expect(liveTick).toEqual(restTick);
    // footprint channel: same bars, and the rows sum to each bar's volume
    expect(closedOf(subs.fp)).toEqual(restTick);
    for (const u of client.updates(subs.fp.sub).filter((x) => x.d.closed)) {
      const sum = u.d.rows.reduce((a: number, r: number[]) => a + r[1] + r[2], 0);
      expect(sum).toBeCloseTo(u.d.v, 6);
    }
    const restVol = (await rest('agg=volume&size=0.5')).map(restRow);
    const liveVol = closedOf(subs.vol);
    expect(liveVol.length).toBeGreaterThan(30);
    // REST's last volume bar may still be filling; every bar the stream closed is REST's bar for bar
    expect(liveVol).toEqual(restVol.slice(0, liveVol.length));
    expect(restVol.length - liveVol.length).toBeLessThanOrEqual(1);
    // live updates of the open bar kept coming
    expect(client.updates(subs.tick.sub).filter((u) => !u.d.closed).length).toBeGreaterThan(0);
  });

  it('refuses tick/volume timeframes it cannot serve with a clear error', async () => {
    await setup();
    client = await TestClient.open(`ws://127.0.0.1:${http!.port}/ws`);
    const bad = await client.subscribe('bar', 'BTCUSDT', '0.0005V');
    expect(bad.op).toBe('error');
    expect(bad.message ?? bad.msg ?? JSON.stringify(bad)).toMatch(/lot step 0.001/);
    const big = await client.subscribe('bar', 'BTCUSDT', '20000T');
    expect(big.op).toBe('error');
  });
});
