/**
 * End to end: simulated EA → bridge (TCP) → engine → datafeed server `/history` and
 * `/api/v1/footprint`, for a known exchange-flagged tape whose 1-minute bars are computed here
 * independently of the engine (from the raw MT5 ticks and the broker UTC offset).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { BridgeServer } from '../../mt5-bridge/src/server.js';
import { MemoryTickSink } from '../../mt5-bridge/src/sink.js';
import { SimulatedEA } from '../../mt5-bridge/src/sim-ea.js';
import { flaggedTape } from '../../mt5-bridge/src/sources.js';

const SECRET = 'e2e';
const OFFSET = -10800; // B3 server time: UTC−3
const START = Date.UTC(2024, 6, 1, 13, 0);

interface Bar { t: number; o: number; h: number; l: number; c: number; v: number; buy: number; sell: number }

let bridge: BridgeServer;
let http: DatafeedServer;
let ea: SimulatedEA;
let engine: Engine;
const tape = flaggedTape({ n: 20_000, seed: 42, start: START, utcOffset: OFFSET, ambiguous: 0, unflagged: 0, sym: 'WINQ26' });

beforeAll(async () => {
  engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
  bridge = new BridgeServer({ secret: SECRET, sink: new MemoryTickSink(), registry: engine.registry, onEvent: engine.onEvent, ackMs: 5 });
  const port = await bridge.listen();
  http = await createServer({ engine, port: 0, staticDir: false });
  ea = new SimulatedEA({ port, secret: SECRET, symbols: [tape], utcOffset: OFFSET, heartbeats: false, byteWrites: false, batchTicks: 250 });
  await ea.start();
  ea.release();
  await ea.drain();
  await ea.waitAcked();
  engine.finish();
});

afterAll(async () => {
  await ea?.close();
  await http?.close();
  await bridge?.close();
});

function expectedBars(): Bar[] {
  const bars = new Map<number, Bar>();
  for (const t of tape.ticks) {
    if ((t.flags & 8) === 0) continue;
    const utc = t.ms - OFFSET * 1000;
    const start = Math.floor(utc / 60_000) * 60_000;
    const p = Number(t.last), v = Number(t.vol);
    let b = bars.get(start);
    if (!b) { b = { t: start / 1000, o: p, h: p, l: p, c: p, v: 0, buy: 0, sell: 0 }; bars.set(start, b); }
    b.h = Math.max(b.h, p); b.l = Math.min(b.l, p); b.c = p; b.v += v;
    if ((t.flags & 96) === 32) b.buy += v; else b.sell += v;
  }
  return [...bars.values()].sort((a, b) => a.t - b.t);
}

async function get(path: string): Promise<Record<string, unknown>> {
  const r = await fetch(http.url + path);
  expect(r.status).toBe(200);
  return (await r.json()) as Record<string, unknown>;
}

describe('mt5 bridge end to end', () => {
  const exp = expectedBars();

  it('the engine built the expected 1m bars from the bridged tape', () => {
    const p = engine.pipelines.get('WINQ26')!;
    expect(p).toBeDefined();
    expect(exp.length).toBeGreaterThan(3);
    expect(p.bars.map((b) => b.bar.start / 1000)).toEqual(exp.map((b) => b.t));
    const inst = engine.registry.get('WINQ26');
    expect(p.bars.map((b) => [inst.price.toNumber(b.bar.open), inst.price.toNumber(b.bar.close), b.bar.volume, b.bar.buyVolume, b.bar.sellVolume]))
      .toEqual(exp.map((b) => [b.o, b.c, b.v, b.buy, b.sell]));
  });

  it('/history returns the expected OHLCV', async () => {
    const from = Math.floor(START / 1000) - 60, to = exp[exp.length - 1].t + 120;
    const h = await get(`/history?symbol=WINQ26&resolution=1&from=${from}&to=${to}`);
    expect(h.s).toBe('ok');
    expect(h.t).toEqual(exp.map((b) => b.t));
    expect(h.o).toEqual(exp.map((b) => b.o));
    expect(h.h).toEqual(exp.map((b) => b.h));
    expect(h.l).toEqual(exp.map((b) => b.l));
    expect(h.c).toEqual(exp.map((b) => b.c));
    expect(h.v).toEqual(exp.map((b) => b.v));
  });

  it('/api/v1/footprint returns the expected buy/sell split, measured by flag', async () => {
    const from = START - 60_000, to = exp[exp.length - 1].t * 1000 + 120_000;
    const f = await get(`/api/v1/footprint?symbol=WINQ26&resolution=1&from=${from}&to=${to}`);
    const bars = f.bars as { time: number; buyVolume: number; sellVolume: number; unknownVolume: number; delta: number; rows: { price: number; ask: number; bid: number }[] }[];
    expect(bars.map((b) => b.time)).toEqual(exp.map((b) => b.t * 1000));
    expect(bars.map((b) => [b.buyVolume, b.sellVolume, b.unknownVolume, b.delta])).toEqual(exp.map((b) => [b.buy, b.sell, 0, b.buy - b.sell]));
    // rows sum to the bar volume
    for (let k = 0; k < bars.length; k++) expect(bars[k].rows.reduce((s, r) => s + r.ask + r.bid, 0)).toBe(exp[k].v);
  });
});
