/**
 * The Bybit v5 live feed against a loopback venue that replays real frames from ../shared/data:
 * the public-data archive `orderbook.500.XRPUSDT` (1 snapshot + 49 deltas, contiguous `u`) and the 13
 * tardis-node v5 samples (publicTrade, orderbook.1/50 snapshot/delta). The archive has no trades, so the
 * venue interleaves SYNTHETIC XRPUSDT publicTrade frames in the documented v5 format (UUID ids, one frame
 * per archive delta, priced at the real book's touch).
 *
 * The venue double keeps its own book (BybitSync over the archive frames at the current position): a
 * resubscribe or a reconnect is answered with a fresh snapshot of that book, like Bybit does, and
 * `/v5/market/recent-trade` answers from the trades up to the current position (newest first).
 * The reference is a replay-style run of the same frames through the frame parser + Engine +
 * BookManager (and, for the archive alone, `runReplay` of the zip file itself).
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type WebSocket from 'ws';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { BookManager } from '../../engine/src/book/manager.js';
import { BybitSync } from '../../engine/src/venues/bybit/book.js';
import type { BookDelta, BookSnapshot, Gap, Level, MarketEvent } from '../../engine/src/core/events.js';
import { FeedManager } from '../../engine/src/feeds/manager.js';
import { FakeVenue, waitFor } from '../../engine/src/feeds/testing.js';
import { FeedContext, forEachLine, openInput, parseVenueFrame } from '../../engine/src/replay/index.js';
import { runReplay } from '../../engine/src/cli/commands/replay.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = process.env.TAPEFLOW_DATA ?? path.resolve(ROOT, '../shared/data');
const ARCHIVE = path.join(DATA, 'bybit/2024-12-01_XRPUSDT_ob500.data.zip');
const SAMPLES = path.join(DATA, 'bybit/tardis_node_bybit_v5_samples.jsonl');
const BOOK_TOPIC = 'orderbook.500.XRPUSDT';

type Obj = Record<string, unknown>;
interface TradeRow { instrument: string; ts: number; price: number; size: number; side: string }

async function readJsonLines(file: string): Promise<Obj[]> {
  const inp = await openInput(file);
  const out: Obj[] = [];
  await forEachLine(inp.stream, (l) => { if (l.trim()) out.push(JSON.parse(l) as Obj); });
  return out;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

/** UUID-shaped synthetic trade id (Bybit linear ids are UUIDs). */
const uuid = (n: number): string => `5e1d0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/**
 * The stream the venue plays: archive frames with one synthetic XRPUSDT trade frame after each delta,
 * then (optionally) the real samples. Returns the frames and the synthetic trades in order.
 */
function buildStream(archive: Obj[], samples: Obj[] | null): { frames: Obj[]; xrpTrades: Obj[] } {
  const reg = new InstrumentRegistry();
  const ctx = new FeedContext(reg);
  const sync = new BybitSync();
  const frames: Obj[] = [];
  const xrpTrades: Obj[] = [];
  let n = 0;
  for (const f of archive) {
    frames.push(f);
    parseVenueFrame('bybit', f, NaN, ctx, (ev: MarketEvent) => sync.onEvent(ev as BookSnapshot | BookDelta));
    if (f.type !== 'delta') continue;
    const inst = reg.get('BYBIT:XRPUSDT');
    const ts = f.ts as number;
    const rows = [0, 1].map((j) => {
      const buy = (n + j) % 3 !== 0;
      const px = buy ? sync.book.bestAsk() : sync.book.bestBid();
      return { T: ts + j, s: 'XRPUSDT', S: buy ? 'Buy' : 'Sell', v: String(100 * ((n + j) % 7 + 1)), p: inst.price.format(px), L: 'ZeroPlusTick', i: uuid(++n), BT: false };
    });
    xrpTrades.push(...rows);
    frames.push({ topic: 'publicTrade.XRPUSDT', type: 'snapshot', ts: ts + 2, data: rows });
  }
  if (samples) frames.push(...samples);
  return { frames, xrpTrades };
}

/** Replay-style reference: the same frames through the frame parser, Engine and BookManager. */
function replayFrames(frames: Obj[]) {
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', align: 'utc', cvdReset: 'session' });
  const books = new BookManager({ registry, emit: engine.onEvent });
  engine.observe(books.onEvent);
  const trades: TradeRow[] = [];
  engine.observe((ev) => { if (ev.type === 'trade') trades.push({ instrument: ev.instrument, ts: ev.ts, price: ev.price, size: ev.size, side: ev.side }); });
  const ctx = new FeedContext(registry);
  for (const f of frames) parseVenueFrame('bybit', f, NaN, ctx, engine.onEvent);
  engine.finish();
  return { engine, books, trades };
}

/** Loopback Bybit v5 venue that plays `frames` on demand and answers resubscribes with its own book. */
async function bybitVenue(frames: Obj[]) {
  const v = await FakeVenue.start();
  cleanup.push(() => v.close());
  const reg = new InstrumentRegistry();
  const ctx = new FeedContext(reg);
  const sbook = new BybitSync();
  let lastTs = 0;
  let pos = 0;
  let subscribed = false;
  const snapshotsServed: number[] = [];
  const tradesSoFar: Obj[] = [];
  const advance = (f: Obj): void => {
    if (typeof f.topic !== 'string') return;
    if (f.topic === BOOK_TOPIC) {
      parseVenueFrame('bybit', f, NaN, ctx, (ev: MarketEvent) => sbook.onEvent(ev as BookSnapshot | BookDelta));
      lastTs = f.ts as number;
    } else if (f.topic === 'publicTrade.XRPUSDT') tradesSoFar.push(...(f.data as Obj[]));
  };
  const snapshotFrame = (): Obj => {
    const inst = reg.get('BYBIT:XRPUSDT');
    const { bids, asks } = sbook.book.toLevels();
    const fmt = (ls: Level[]) => ls.map(([p, q]) => [inst.price.format(p), inst.qty.format(q)]);
    return { topic: BOOK_TOPIC, type: 'snapshot', ts: lastTs, data: { s: 'XRPUSDT', b: fmt(bids), a: fmt(asks), u: sbook.lastSeq, seq: 0 }, cts: lastTs };
  };
  let ws: WebSocket | null = null;
  v.on('connection', (s: WebSocket) => { ws = s; subscribed = false; });
  v.on('message', (m: Obj, from: WebSocket) => {
    const args = (m.args ?? []) as string[];
    if (!args.includes(BOOK_TOPIC)) return;
    if (m.op === 'unsubscribe') { subscribed = false; return; }
    if (m.op !== 'subscribe') return;
    subscribed = true;
    // the first subscription gets the archive's own snapshot from the stream; later ones a fresh one
    if (pos > 0) { snapshotsServed.push(sbook.lastSeq); v.send(snapshotFrame(), from); }
  });
  v.routes.set('/v5/market/instruments-info', () => ({ body: { retCode: 0, retMsg: 'OK', result: { category: 'linear', list: [] } } }));
  v.routes.set('/v5/market/recent-trade', (url) => {
    const sym = url.searchParams.get('symbol');
    const limit = Number(url.searchParams.get('limit'));
    const rows = sym === 'XRPUSDT' ? tradesSoFar.slice(-limit).reverse() : [];
    return { body: { retCode: 0, retMsg: 'OK', result: { category: 'linear', list: rows.map((t) => ({ execId: t.i, symbol: sym, price: t.p, size: t.v, side: t.S, time: String(t.T), isBlockTrade: false })) } } };
  });
  let sent = 0;
  return {
    v,
    get pos() { return pos; },
    get sent() { return sent; },
    snapshotsServed,
    /** send frames up to index `until` (exclusive) to the current client; `drop` = indexes lost in transit */
    pumpTo(until: number, drop: Set<number> = new Set()): void {
      while (pos < until) {
        const f = frames[pos]!;
        const i = pos++;
        advance(f);
        if (drop.has(i)) continue;
        if (f.topic === BOOK_TOPIC && !subscribed) continue;
        if (ws && ws.readyState === 1) { ws.send(JSON.stringify(f)); sent++; }
      }
    },
    /** advance the venue without sending (frames published while the client is away) */
    skipTo(until: number): void { while (pos < until) advance(frames[pos++]!); },
    drop(): void { ws?.terminate(); },
  };
}

function live(venue: FakeVenue, symbols: string[]) {
  const registry = new InstrumentRegistry();
  const engine = new Engine(registry, { timeframe: '1m', align: 'utc', cvdReset: 'session' });
  const trades: TradeRow[] = [];
  const gaps: Gap[] = [];
  const tappedIds: string[] = [];
  let feeds!: FeedManager;
  const books = new BookManager({ registry, emit: engine.onEvent, onResync: (r) => feeds.onResync(r) });
  engine.observe(books.onEvent);
  engine.observe((ev) => {
    if (ev.type === 'trade') trades.push({ instrument: ev.instrument, ts: ev.ts, price: ev.price, size: ev.size, side: ev.side });
    else if (ev.type === 'gap') gaps.push(ev);
  });
  // the recorder tap sees every frame the feed ingests, after dedupe (backfill included)
  const tap = (_recv: number, _venue: string, frame: unknown): void => {
    const f = frame as Obj;
    if (f?.topic === 'publicTrade.XRPUSDT') for (const t of f.data as Obj[]) tappedIds.push(String(t.i));
  };
  feeds = FeedManager.fromConfig([{ venue: 'bybit', symbols, wsUrl: `${venue.wsBase}/v5/public/linear`, restUrl: venue.restUrl, depthLimit: 500 }], {
    registry, sink: engine.onEvent, tap, defaults: { backoff: { baseMs: 20, maxMs: 100 } },
  });
  cleanup.push(() => feeds.stop());
  return { registry, engine, books, feeds, trades, gaps, tappedIds, feed: () => feeds.feeds[0]! };
}

function levelsOf(books: BookManager, id: string): { bids: Level[]; asks: Level[] } {
  return books.book(id)!.toLevels();
}

describe('Bybit v5 live feed on real frames (orderbook.500 archive + v5 samples)', async () => {
  const archive = await readJsonLines(ARCHIVE);
  const samples = await readJsonLines(SAMPLES);

  it('the archive is what the README says: 1 snapshot + 49 deltas with contiguous u', () => {
    expect(archive.map((f) => f.type)).toEqual(['snapshot', ...Array(49).fill('delta')]);
    const us = archive.map((f) => (f.data as Obj).u as number);
    expect(us.every((u, i) => i === 0 || u === us[i - 1]! + 1)).toBe(true);
    expect(samples).toHaveLength(13);
  });

  it('clean sync: same book as the replay of the archive, same trades and bar checksum as a replay of the same frames, 0 gaps', async () => {
    const { frames, xrpTrades } = buildStream(archive, samples);
    const ref = replayFrames(frames);
    const file = await runReplay([ARCHIVE], {});
    const sv = await bybitVenue(frames);
    const symbols = ['XRPUSDT', 'BTCUSDT', 'BTCUSD', 'LTCUSDT', 'BTCPERP', 'BTCUSDC'];
    const r = live(sv.v, symbols);
    const sub = sv.v.message((m) => m.op === 'subscribe');
    const sub2 = sv.v.message((m) => m.op === 'subscribe' && (m.args as string[]).includes('publicTrade.BTCUSDC'));
    const t0 = performance.now();
    await r.feeds.start();
    const first = await sub;
    expect(first.args).toEqual(['orderbook.500.XRPUSDT', 'publicTrade.XRPUSDT', 'orderbook.500.BTCUSDT', 'publicTrade.BTCUSDT', 'orderbook.500.BTCUSD', 'publicTrade.BTCUSD', 'orderbook.500.LTCUSDT', 'publicTrade.LTCUSDT', 'orderbook.500.BTCPERP', 'publicTrade.BTCPERP']);
    await sub2;
    sv.pumpTo(frames.length);
    await waitFor(() => r.feed().counters.frames === frames.length, [r.feed()], 20_000, 'every frame');
    const secs = (performance.now() - t0) / 1000;
    r.engine.finish();
    expect(r.trades).toEqual(ref.trades);
    expect(r.trades.filter((t) => t.instrument === 'BYBIT:XRPUSDT')).toHaveLength(xrpTrades.length);
    expect(r.engine.checksum()).toBe(ref.engine.checksum());
    // XRPUSDT: the live book equals the replay of the archive file itself and the reference run
    const liveXrp = levelsOf(r.books, 'BYBIT:XRPUSDT');
    expect(liveXrp).toEqual(levelsOf(ref.books, 'BYBIT:XRPUSDT'));
    expect(liveXrp.bids).toHaveLength(500);
    expect(liveXrp.asks).toHaveLength(500);
    const fb = file.books.find((b) => b.instrument === 'BYBIT:XRPUSDT')!;
    const lb = r.books.reports().find((b) => b.instrument === 'BYBIT:XRPUSDT')!;
    expect([lb.bestBid, lb.bestAsk, lb.bidLevels, lb.askLevels, lb.synced]).toEqual([fb.bestBid, fb.bestAsk, fb.bidLevels, fb.askLevels, true]);
    expect(r.books.l2.get('BYBIT:XRPUSDT')!.stats).toMatchObject({ snapshots: 1, updatesApplied: 49, gaps: 0, crossed: 0 });
    // the samples' books (orderbook.1/50) come out the same as in the reference run
    for (const id of ['BYBIT:BTCUSDT', 'BYBIT:BTCPERP']) expect(levelsOf(r.books, id)).toEqual(levelsOf(ref.books, id));
    const st = r.feed().status();
    expect([st.counters.gaps, st.counters.malformed, st.counters.resyncs, st.counters.duplicates, st.counters.reconnects]).toEqual([0, 0, 0, 0, 0]);
    expect(r.gaps).toHaveLength(0);
    expect(sv.snapshotsServed).toEqual([]);
    console.log(`Bybit real frames through the live feed: ${frames.length} frames (${archive.length} archive, ${samples.length} samples, ${frames.length - archive.length - samples.length} synthetic trade frames) in ${secs.toFixed(3)} s`);
  });

  it('an injected gap (one delta lost): Gap, unsubscribe + resubscribe, fresh snapshot, correct final book, no trade lost', async () => {
    const { frames, xrpTrades } = buildStream(archive, null);
    const ref = replayFrames(frames);
    const sv = await bybitVenue(frames);
    const r = live(sv.v, ['XRPUSDT']);
    const sub = sv.v.message((m) => m.op === 'subscribe');
    await r.feeds.start();
    await sub;
    const lostIdx = frames.findIndex((f) => f.type === 'delta' && (f.data as Obj).u === (archive[20]!.data as Obj).u);
    const lostU = (frames[lostIdx]!.data as Obj).u as number;
    const resub = sv.v.message((m) => m.op === 'subscribe' && (m.args as string[]).includes(BOOK_TOPIC));
    sv.pumpTo(lostIdx + 10, new Set([lostIdx]));
    await resub;
    await waitFor(() => r.books.l2.get('BYBIT:XRPUSDT')!.synced && sv.snapshotsServed.length === 1, [r.feed()], 10_000, 'resynced');
    sv.pumpTo(frames.length);
    const finalU = (archive[archive.length - 1]!.data as Obj).u as number;
    await waitFor(() => r.books.l2.get('BYBIT:XRPUSDT')!.lastSeq === finalU && r.trades.length === xrpTrades.length, [r.feed()], 10_000, 'whole archive');
    expect(sv.v.received.filter((m) => (m as Obj).op === 'unsubscribe').map((m) => (m as Obj).args)).toEqual([[BOOK_TOPIC]]);
    expect(r.gaps).toHaveLength(1);
    expect([r.gaps[0]!.from, r.gaps[0]!.to]).toEqual([lostU, lostU]);
    expect(sv.snapshotsServed[0]).toBeGreaterThan(lostU);
    expect(levelsOf(r.books, 'BYBIT:XRPUSDT')).toEqual(levelsOf(ref.books, 'BYBIT:XRPUSDT'));
    expect(r.trades).toEqual(ref.trades);
    const st = r.feed().status();
    expect([st.counters.gaps, st.counters.resyncs, st.counters.malformed]).toEqual([1, 1, 0]);
    const c = st.completeness[0]!;
    expect(c.gaps.map((g) => [g.kind, g.to !== null])).toEqual([['book', true]]);
    const s = r.books.l2.get('BYBIT:XRPUSDT')!.stats;
    expect([s.snapshots, s.gaps, s.crossed]).toEqual([2, 1, 0]);
  });

  it('disconnect mid-stream: reconnect, fresh snapshot, lost trades backfilled from recent-trade — every trade id once, none lost', async () => {
    const { frames, xrpTrades } = buildStream(archive, null);
    const ref = replayFrames(frames);
    const sv = await bybitVenue(frames);
    const r = live(sv.v, ['XRPUSDT']);
    const sub = sv.v.message((m) => m.op === 'subscribe');
    await r.feeds.start();
    await sub;
    const dropAt = 40, resumeAt = 56; // 16 frames (8 deltas, 8 trade frames = 16 trades) published while away
    sv.pumpTo(dropAt);
    await waitFor(() => r.feed().counters.frames === sv.sent, [r.feed()], 10_000, 'first part delivered');
    expect(r.tappedIds).toHaveLength(38); // 19 trade frames x 2 before the drop
    sv.drop();
    await sv.v.connection(2);
    sv.skipTo(resumeAt);
    await waitFor(() => sv.snapshotsServed.length === 1, [r.feed(), sv.v], 10_000, 'resubscribed after reconnect');
    sv.pumpTo(frames.length);
    const finalU = (archive[archive.length - 1]!.data as Obj).u as number;
    await waitFor(() => r.books.l2.get('BYBIT:XRPUSDT')!.lastSeq === finalU && r.trades.length === xrpTrades.length && r.feed().status().completeness[0]!.openGaps === 0, [r.feed()], 10_000, 'whole archive');
    const allIds = xrpTrades.map((t) => String(t.i));
    expect(r.tappedIds).toEqual(allIds); // in order, each once
    expect(new Set(r.tappedIds).size).toBe(allIds.length);
    expect(r.trades).toEqual(ref.trades);
    expect(levelsOf(r.books, 'BYBIT:XRPUSDT')).toEqual(levelsOf(ref.books, 'BYBIT:XRPUSDT'));
    const st = r.feed().status();
    expect(st.counters.reconnects).toBe(1);
    expect(st.counters.backfilled).toBe(16);
    expect(sv.v.requests.filter((q) => q.startsWith('/v5/market/recent-trade'))).toEqual(['/v5/market/recent-trade?category=linear&symbol=XRPUSDT&limit=1000']);
    const c = st.completeness[0]!;
    expect(c.gaps.map((g) => g.kind)).toEqual(['disconnect', 'trades']);
    expect(c.gaps.every((g) => g.to !== null)).toBe(true);
    expect(c.gaps[1]!.recovered).toBe(16);
    expect(c.gaps[1]!.complete).toBe(true);
    // the reconnect snapshot reset the book: no sequence break reached the engine
    expect(r.gaps).toHaveLength(0);
    expect(r.books.l2.get('BYBIT:XRPUSDT')!.stats.snapshots).toBe(2);
  });
});
