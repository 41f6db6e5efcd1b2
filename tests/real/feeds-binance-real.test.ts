/**
 * The Binance live feed against a loopback venue that streams the real USD-M BTCUSDT capture from
 * ../shared/data (hftbacktest raw frames: @trade, @depth@0ms, @bookTicker and the REST snapshot). The
 * venue double answers /fapi/v1/depth with the captured snapshot when its stream reaches it, later
 * resync snapshots from its own book at the current position, and /fapi/v1/historicalTrades from the
 * captured trades. The feed's clock follows the capture's receive times.
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type WebSocket from 'ws';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { BookManager } from '../../engine/src/book/manager.js';
import { BinanceSync } from '../../engine/src/venues/binance/book.js';
import type { BookDelta, BookSnapshot, MarketEvent } from '../../engine/src/core/events.js';
import { FeedManager } from '../../engine/src/feeds/manager.js';
import { FakeVenue, waitFor } from '../../engine/src/feeds/testing.js';
import { FeedContext, parseVenueFrame } from '../../engine/src/replay/index.js';
import { runReplay } from '../../engine/src/cli/commands/replay.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = process.env.TAPEFLOW_DATA ?? path.resolve(ROOT, '../shared/data');
const FILE = path.join(DATA, 'binance/usdm_btcusdt_20240808.gz');

interface Line { recv: number; text: string; obj: Record<string, unknown> }
function load(): Line[] {
  const out: Line[] = [];
  for (const l of gunzipSync(readFileSync(FILE)).toString('utf8').split('\n')) {
    if (!l) continue;
    const sp = l.indexOf(' ');
    const text = l.slice(sp + 1);
    out.push({ recv: Math.floor(Number(l.slice(0, sp)) / 1e6), text, obj: JSON.parse(text) as Record<string, unknown> });
  }
  return out;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

/** A venue double that streams the capture, pausing at the snapshot line until it was requested. */
async function captureVenue(lines: Line[], o: { dropAt?: number; skip?: number }) {
  const v = await FakeVenue.start();
  cleanup.push(() => v.close());
  const snapIdx = lines.findIndex((l) => l.obj.lastUpdateId !== undefined);
  let pos = 0;
  let clock = lines[0]!.recv;
  let snapshotServed = false;
  let waiting: (() => void) | null = null;
  // server-side book at the current position, for resync snapshots
  const reg = new InstrumentRegistry();
  const ctx = new FeedContext(reg);
  ctx.binanceVenue = 'binance-usdm';
  const sbook = new BinanceSync('futures');
  const trades: Record<string, unknown>[] = [];
  for (const l of lines) {
    const d = (l.obj.data ?? l.obj) as Record<string, unknown>;
    if (d.e === 'trade') trades.push({ id: d.t, price: d.p, qty: d.q, quoteQty: '0', time: d.T, isBuyerMaker: d.m, isBestMatch: true });
  }
  const advance = (l: Line): void => {
    const d = (l.obj.data ?? l.obj) as Record<string, unknown>;
    if (d.e === 'depthUpdate' || d.lastUpdateId !== undefined) parseVenueFrame('binance-usdm', l.obj, l.recv, ctx, (ev: MarketEvent) => sbook.onEvent(ev as BookSnapshot | BookDelta));
  };
  v.routes.set('/fapi/v1/depth', async () => {
    if (!snapshotServed) {
      snapshotServed = true;
      clock = lines[snapIdx]!.recv;
      waiting?.();
      return { body: lines[snapIdx]!.obj };
    }
    const inst = reg.get('BTCUSDT');
    const { bids, asks } = sbook.book.toLevels();
    const f = (ls: [number, number][]) => ls.map(([p, q]) => [inst.price.format(p), inst.qty.format(q)]);
    return { body: { lastUpdateId: sbook.lastSeq, E: clock, T: clock, bids: f(bids as [number, number][]), asks: f(asks as [number, number][]) } };
  });
  v.routes.set('/fapi/v1/historicalTrades', (url) => {
    const from = Number(url.searchParams.get('fromId'));
    const lim = Number(url.searchParams.get('limit'));
    return { body: trades.filter((t) => (t.id as number) >= from).slice(0, lim) };
  });
  const pump = async (ws: WebSocket, until: number): Promise<void> => {
    while (pos < until && ws.readyState === 1) {
      const l = lines[pos]!;
      if (pos === snapIdx && !snapshotServed) await new Promise<void>((r) => { waiting = r; });
      pos++;
      advance(l);
      if (l.obj.lastUpdateId !== undefined) continue; // the REST snapshot is not a stream frame
      clock = l.recv;
      ws.send(l.text);
      if (pos % 500 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  v.on('connection', (ws: WebSocket) => {
    void (async () => {
      if (o.dropAt !== undefined && pos < o.dropAt) {
        await pump(ws, o.dropAt);
        // lost while disconnected: advance the venue without sending
        for (let k = 0; k < (o.skip ?? 0) && pos < lines.length; k++) { const l = lines[pos++]!; advance(l); clock = l.recv; }
        ws.terminate();
        return;
      }
      await pump(ws, lines.length);
      v.emit('tick');
      v.emit('done');
    })();
  });
  return { v, now: () => clock, done: () => pos >= lines.length, trades };
}

async function live(lines: Line[], o: { dropAt?: number; skip?: number } = {}) {
  const cv = await captureVenue(lines, o);
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', align: 'utc', cvdReset: 'session' });
  const ids: number[] = [];
  let feeds!: FeedManager;
  const books = new BookManager({ registry, emit: engine.onEvent, onResync: (r) => feeds.onResync(r) });
  engine.observe(books.onEvent);
  engine.observe((ev) => { if (ev.type === 'trade') ids.push(ev.id); });
  // stallMs 0: this venue double sends the whole capture on one socket, so the other route of the
  // /public + /market split would look stalled in capture time
  feeds = FeedManager.fromConfig([{ venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: `${cv.v.wsBase}/stream`, restUrl: cv.v.restUrl, exchangeInfo: false, tradeStream: 'trade', depthSpeed: '0ms', stallMs: 0 }], {
    registry, sink: engine.onEvent, defaults: { backoff: { baseMs: 20, maxMs: 100 }, now: cv.now },
  });
  cleanup.push(() => feeds.stop());
  const t0 = performance.now();
  await feeds.start();
  const feed = feeds.feeds[0]!;
  await waitFor(() => cv.done() && ids.length === cv.trades.length && feed.status().completeness[0]!.openGaps === 0 && books.l2.get('BTCUSDT')!.synced, [feed, cv.v], 60_000, 'whole capture');
  const secs = (performance.now() - t0) / 1000;
  engine.finish();
  return { engine, books, feed, ids, trades: cv.trades, secs };
}

describe('Binance live feed on the real USD-M capture', () => {
  const lines = load();

  it('clean run: same trades, same book and the same bar checksum as a replay of the file', async () => {
    const r = await live(lines);
    const rep = await runReplay([FILE], {});
    expect(r.ids).toHaveLength(21_313);
    expect(r.ids.every((id, i) => i === 0 || id === r.ids[i - 1]! + 1)).toBe(true);
    expect(r.engine.checksum()).toBe(rep.checksum);
    const st = r.feed.status();
    expect([st.counters.gaps, st.counters.malformed, st.counters.resyncs, st.counters.duplicates]).toEqual([0, 0, 0, 0]);
    const bk = rep.books.find((b) => b.instrument === 'BTCUSDT')!;
    const lb = r.books.reports().find((b) => b.instrument === 'BTCUSDT')!;
    expect([lb.bestBid, lb.bestAsk, lb.bidLevels, lb.askLevels]).toEqual([bk.bestBid, bk.bestAsk, bk.bidLevels, bk.askLevels]);
    expect(r.books.l2.get('BTCUSDT')!.stats.gaps).toBe(0);
    console.log(`real USD-M capture through the live feed: ${lines.length} frames in ${r.secs.toFixed(2)} s = ${Math.round(lines.length / r.secs)} frames/s`);
  });

  it('disconnect mid-stream: reconnect, resync from a fresh snapshot, backfill the lost trades — no duplicate, none lost', async () => {
    const r = await live(lines, { dropAt: 40_000, skip: 3_000 });
    const rep = await runReplay([FILE], {});
    expect(r.ids).toEqual(r.trades.map((t) => t.id));
    const st = r.feed.status();
    expect(st.counters.reconnects).toBe(1);
    expect(st.counters.backfilled).toBeGreaterThan(100);
    expect(st.counters.resyncs).toBe(1);
    const c = st.completeness[0]!;
    expect(c.gaps.map((g) => g.kind).sort()).toEqual(['book', 'disconnect', 'trades']);
    expect(c.tradesMissing).toBe(c.tradesRecovered);
    expect(c.tradesMissing).toBe(st.counters.backfilled);
    // same final book as the uninterrupted replay
    const bk = rep.books.find((b) => b.instrument === 'BTCUSDT')!;
    const lb = r.books.reports().find((b) => b.instrument === 'BTCUSDT')!;
    expect([lb.bestBid, lb.bestAsk]).toEqual([bk.bestBid, bk.bestAsk]);
    // bars: same totals (the live run also carries the book Gap event)
    const rp = rep.instruments.find((i) => i.instrument === 'BTCUSDT')!;
    const p = r.engine.pipeline('BTCUSDT').counters;
    const q = r.engine.registry.get('BTCUSDT').qty;
    expect([p.trades, Number(q.format(p.volume)), Number(q.format(p.buyVolume)), Number(q.format(p.sellVolume))]).toEqual([rp.trades, rp.volume, rp.buyVolume, rp.sellVolume]);
  });
});
