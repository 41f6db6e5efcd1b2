/**
 * Every book answer says whether the book is synced (/api/v1/orderbook, the WS `orderbook` channel), and
 * the detectors that need the book (sweep thin-level check, icebergs) do not fire on an unsynced book.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pack, unpack } from 'msgpackr';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { SweepDetector, fixedThresholds } from '../../engine/src/signals/detectors.js';
import { OrderBook } from '../../engine/src/book/order-book.js';
import { trade } from '../../engine/src/signals/testing.js';

let app: StartedApp;
const T = Date.UTC(2024, 0, 2, 10, 0);

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-synced-'));
  writeFileSync(join(dir, 'cfg.yaml'), 'feeds: []\n');
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: null });
});
afterAll(async () => { await app.close(); });

async function wsBook(): Promise<{ synced: boolean; available: boolean }> {
  const ws = new WebSocket(`${app.server.url.replace('http', 'ws')}/ws`);
  const msgs: Record<string, unknown>[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (d) => { msgs.push(unpack(d as Buffer)); if (msgs.some((m) => m.op === 'snapshot')) resolve(); });
    ws.on('open', () => { ws.send(pack({ v: 1, op: 'hello', id: 1 })); ws.send(pack({ v: 1, op: 'subscribe', id: 2, ch: 'orderbook', sym: 'BTCUSDT', depth: 5 })); });
  });
  ws.close();
  return (msgs.find((m) => m.op === 'snapshot') as { d: { synced: boolean; available: boolean } }).d;
}

describe('book answers say whether the book is synced', () => {
  it('a Binance diff before its snapshot: not synced; after the snapshot: synced (HTTP and WS)', async () => {
    app.engine.onEvent({ type: 'book_delta', instrument: 'BTCUSDT', ts: T, firstSeq: 100, seq: 105, prevSeq: 99, bids: [[600000, 1000]], asks: [[600010, 2000]] });
    const before = await (await fetch(`${app.server.url}/api/v1/orderbook?symbol=BTCUSDT&depth=5`)).json() as { synced: boolean; note?: string };
    expect(before.synced).toBe(false);
    expect(before.note).toMatch(/not in sync/);
    expect((await wsBook()).synced).toBe(false);
    app.engine.onEvent({ type: 'book_snapshot', instrument: 'BTCUSDT', ts: T + 1, seq: 102, bids: [[599990, 5000]], asks: [[600020, 4000]] });
    const after = await (await fetch(`${app.server.url}/api/v1/orderbook?symbol=BTCUSDT&depth=5`)).json() as { synced: boolean; bids: { price: number }[] };
    expect(after.synced).toBe(true);
    expect(after.bids.map((b) => b.price)).toContain(60000);
    const w = await wsBook();
    expect(w.available).toBe(true);
    expect(w.synced).toBe(true);
  });
});

describe('book-dependent detectors wait for a synced book', () => {
  const th = fixedThresholds(100, 200);
  const burst = (d: SweepDetector) => {
    for (const p of [100, 101, 102, 103]) d.onTrade(trade(1000, p, 10, 'buy'));
    return d.onTrade(trade(1010, 103, 1, 'sell'));
  };
  const thinBook = (): OrderBook => {
    const b = new OrderBook();
    b.applySnapshot({ bids: [[99, 100]], asks: [[100, 2], [101, 2], [102, 2], [103, 2], ...Array.from({ length: 16 }, (_, i) => [104 + i, 10] as [number, number])] });
    return b;
  };
  it('a sweep through thin levels fires on a synced book and not on the same book unsynced', () => {
    const synced = new SweepDetector('TEST', th);
    synced.book = thinBook();
    expect(burst(synced)?.kind).toBe('sweep');
    const unsynced = new SweepDetector('TEST', th);
    unsynced.book = thinBook();
    unsynced.book.synced = false;
    expect(burst(unsynced)).toBeNull();
    expect(unsynced.unsyncedSkipped).toBe(1);
  });
});
