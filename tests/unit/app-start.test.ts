import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { randomTape } from '../helpers/tape.js';
import type { BookSnapshot } from '../../engine/src/core/events.js';

let app: StartedApp;
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-app-'));

beforeAll(async () => {
  writeFileSync(join(dir, 'cfg.yaml'), 'feeds: []\n');
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: join(dir, 'store.sqlite') });
  const tape = randomTape(3, 4000, { start: Date.UTC(2024, 0, 2, 10, 0), price: 600000 });
  const snap: BookSnapshot = { type: 'book_snapshot', instrument: 'BTCUSDT', ts: Date.UTC(2024, 0, 2, 10, 0) - 1, seq: 100, bids: [[599990, 5000], [599980, 7000]], asks: [[600010, 4000], [600020, 9000]] };
  app.engine.onEvent(snap);
  for (const t of tape) app.engine.onEvent({ ...t });
});

afterAll(async () => { await app.close(); });

describe('startApp: the composition root', () => {
  it('serves UDF history from the engine', async () => {
    const r = await (await fetch(`${app.server.url}/history?symbol=BTCUSDT&resolution=1&from=${Date.UTC(2024, 0, 2, 9) / 1000}&to=${Date.UTC(2024, 0, 2, 12) / 1000}`)).json() as { s: string; t: number[]; v: number[] };
    expect(r.s).toBe('ok');
    expect(r.t.length).toBe(app.engine.pipeline('BTCUSDT').bars.length + 1); // closed bars + the open one
  });

  it('wires the order book into /api/v1/orderbook', async () => {
    const r = await (await fetch(`${app.server.url}/api/v1/orderbook?symbol=BTCUSDT&depth=2`)).json() as { available: boolean; bids: { price: number }[]; asks: { price: number }[] };
    expect(r.available).toBe(true);
    expect(r.bids.map((x) => x.price)).toEqual([59998, 59999]);
    expect(r.asks.map((x) => x.price)).toEqual([60001, 60002]);
  });

  it('serves the depth history (heatmap snapshots) from the synced book', async () => {
    const from = Date.UTC(2024, 0, 2, 10, 0), to = from + 120_000;
    const r = await (await fetch(`${app.server.url}/api/v1/orderbook/history?symbol=BTCUSDT&from=${from}&to=${to}&limit=60`)).json() as { available: boolean; snapshots: { ts: number; bids: [number, number][]; asks: [number, number][] }[] };
    expect(r.available).toBe(true);
    expect(r.snapshots.length).toBe(60); // the snapshot's levels are open runs covering every column
    expect(r.snapshots[0].ts).toBe(from);
    expect(r.snapshots[1].ts - r.snapshots[0].ts).toBe(2000);
    expect(r.snapshots[0].bids.map(([p]) => p).sort()).toEqual([59998, 59999]);
    expect(r.snapshots[0].asks).toContainEqual([60001, 4]);
  });

  it('wires the signal engine into the strategy, scanner and trade-state routes', async () => {
    const s = await (await fetch(`${app.server.url}/api/v1/scanner`)).json() as { available: boolean; rows: { instrument: string }[] };
    expect(s.available).toBe(true);
    expect(s.rows.map((r) => r.instrument)).toContain('BTCUSDT');
    const t = await (await fetch(`${app.server.url}/api/v1/trade-state?symbol=BTCUSDT`)).json() as { available: boolean };
    expect(t.available).toBe(true);
  });

  it('serves the msgpack WebSocket on /ws of the same port', async () => {
    const ws = new WebSocket(`${app.server.url.replace('http', 'ws')}/ws`);
    const msgs: Record<string, unknown>[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (d) => { msgs.push(unpack(d as Buffer)); if (msgs.some((m) => m.op === 'snapshot')) resolve(); });
      ws.on('open', () => { ws.send(pack({ v: 1, op: 'hello', id: 1 })); ws.send(pack({ v: 1, op: 'subscribe', id: 2, ch: 'bar', sym: 'BTCUSDT' })); });
    });
    ws.close();
    expect(msgs[0].op).toBe('welcome');
    const snap = msgs.find((m) => m.op === 'snapshot') as { d: { bars: unknown[] } };
    expect(snap.d.bars.length).toBe(app.engine.pipeline('BTCUSDT').bars.length);
  });
});

describe('startApp with live feeds and no network', () => {
  it('keeps serving, reports the feed in backoff and keeps retrying', async () => {
    const cfg = join(dir, 'offline.yaml');
    // port 9 on loopback: nothing listens, connections are refused at once
    writeFileSync(cfg, 'feeds:\n  - venue: binance-usdm\n    symbols: [BTCUSDT]\n    wsUrl: ws://127.0.0.1:9/stream\n    restUrl: http://127.0.0.1:9\n');
    const a = await startApp({ config: cfg, port: 0, storePath: null, feeds: true });
    try {
      let f: { available: boolean; feeds: { state: string; connections: { attempts: number; lastError: string }[] }[] } | null = null;
      for (let i = 0; i < 100; i++) {
        f = await (await fetch(`${a.server.url}/api/v1/feeds`)).json() as typeof f;
        if (f!.feeds[0]?.connections[0]?.attempts >= 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(f!.available).toBe(true);
      expect(f!.feeds[0].state).toMatch(/backoff|connecting/);
      expect(f!.feeds[0].connections[0].attempts).toBeGreaterThanOrEqual(2);
      expect(f!.feeds[0].connections[0].lastError).toMatch(/ECONNREFUSED/);
      const t = await fetch(`${a.server.url}/time`);
      expect(t.status).toBe(200);
    } finally {
      await a.close();
    }
  });
});

describe('startApp with Telegram alerts enabled', () => {
  it('starts the bot against the configured Bot API root and answers a command', async () => {
    const { startBotApiServer } = await import('../helpers/bot-api-server.js');
    const bot = await startBotApiServer();
    const cfg = join(dir, 'tg.yaml');
    writeFileSync(cfg, `store:\n  path: ${join(dir, 'tg', 'store.sqlite')}\nalerts:\n  telegram:\n    enabled: true\n    tokenEnv: TAPEFLOW_TEST_TG_TOKEN\n    apiRoot: ${bot.url}\n    allowChatIds: [42]\n`);
    process.env.TAPEFLOW_TEST_TG_TOKEN = '123:secret-test-token';
    const a = await startApp({ config: cfg, port: 0, storePath: null });
    try {
      expect(a.alerts).not.toBeNull();
      bot.sendText(42, '/status');
      await bot.waitFor(() => bot.calls.some((c) => c.method === 'sendMessage' && c.fields.chat_id === '42'), 10_000, 'reply to /status');
      const reply = bot.calls.find((c) => c.method === 'sendMessage' && c.fields.chat_id === '42')!;
      expect(reply.token).toBe('123:secret-test-token');
      expect(reply.fields.text.length).toBeGreaterThan(0);
    } finally {
      await a.close();
      await bot.close();
      delete process.env.TAPEFLOW_TEST_TG_TOKEN;
    }
  });
});

describe('startApp: paper, merged instruments and the MT5 bridge from the config', () => {
  it('applies paper settings, serves a merged multi-venue instrument and accepts an MT5 terminal', async () => {
    const { SimulatedEA } = await import('../../mt5-bridge/src/sim-ea.js');
    const { flaggedTape } = await import('../../mt5-bridge/src/sources.js');
    const cfg = join(dir, 'more.yaml');
    writeFileSync(cfg, [
      `store:\n  path: ${join(dir, 'more', 'store.sqlite')}`,
      'paper:\n  initialBalance: 2500',
      'merged:\n  - id: BTC-AGG\n    sources: [BTCUSDT, BYBIT:BTCUSDT]\n    row: 5',
      'mt5:\n  enabled: true\n  port: 0\n  secretEnv: TAPEFLOW_TEST_MT5_SECRET',
    ].join('\n') + '\n');
    process.env.TAPEFLOW_TEST_MT5_SECRET = 's3';
    const a = await startApp({ config: cfg, port: 0, storePath: null });
    try {
      const paper = await (await fetch(`${a.server.url}/api/v1/paper`)).json() as { account: { balance: number } };
      expect(paper.account.balance).toBe(2500);

      const m0 = Date.UTC(2024, 0, 2, 10, 0);
      const bin = randomTape(21, 300, { instrument: 'BTCUSDT', start: m0, price: 600000 });
      const byb = randomTape(22, 300, { instrument: 'BYBIT:BTCUSDT', start: m0, price: 600000 });
      for (const t of [...bin, ...byb].sort((x, y) => x.ts - y.ts)) a.engine.onEvent({ ...t });
      const agg = a.engine.pipeline('BTC-AGG');
      expect(Number(agg.instrument.footprintRow)).toBe(5); // `row: 5` in price units = 50 merged ticks of 0.1
      const total = [...bin, ...byb].reduce((s, t) => s + t.size, 0);
      expect(agg.counters.volume).toBe(total); // same lot step on both venues: sizes carry over exactly
      const r = await (await fetch(`${a.server.url}/api/v1/merged?symbol=BTC-AGG&from=${m0}&to=${m0 + 3_600_000}`)).json() as { merged: boolean; cells: { buy: number; sell: number; venues: Record<string, { buy: number; sell: number }> }[] };
      expect(r.merged).toBe(true);
      expect(Object.keys(r.cells[0].venues).length).toBeGreaterThan(0);
      for (const c of r.cells) {
        const vb = Object.values(c.venues).reduce((s, v) => s + v.buy, 0);
        const vs = Object.values(c.venues).reduce((s, v) => s + v.sell, 0);
        expect(vb).toBeCloseTo(c.buy, 9);
        expect(vs).toBeCloseTo(c.sell, 9);
      }
      const only = await (await fetch(`${a.server.url}/api/v1/merged?symbol=BTC-AGG&from=${m0}&to=${m0 + 3_600_000}&venue=bybit`)).json() as { cells: { venues: Record<string, unknown> }[] };
      expect(only.cells.every((c) => Object.keys(c.venues).join() === 'bybit')).toBe(true);

      const port = a.mt5?.port;
      expect(port).toBeGreaterThan(0);
      const tape = flaggedTape({ n: 500, seed: 5, start: Date.UTC(2024, 6, 1, 13, 0), utcOffset: 0, ambiguous: 0, unflagged: 0, sym: 'XAUUSD' });
      const ea = new SimulatedEA({ port: port!, secret: 's3', symbols: [tape], utcOffset: 0, heartbeats: false, byteWrites: false, batchTicks: 100 });
      await ea.start(); ea.release(); await ea.drain(); await ea.waitAcked();
      await ea.close();
      // XAUUSD is a quote-only CFD in the registry: quotes before its first real trade count as
      // quote-activity units (documented); real trades are the rest
      const c = a.engine.pipelines.get('XAUUSD')!.counters;
      expect(c.trades - c.quoteActivityUnits).toBe(tape.ticks.filter((t) => (t.flags & 8) !== 0).length);
      const f = await (await fetch(`${a.server.url}/api/v1/feeds`)).json() as { feeds: { venue: string; port?: number }[] };
      expect(f.feeds.find((x) => x.venue === 'mt5')?.port).toBe(port);
    } finally {
      await a.close();
      delete process.env.TAPEFLOW_TEST_MT5_SECRET;
    }
  });
});
