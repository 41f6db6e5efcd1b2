/**
 * Binance book sync on the real captures in shared/data (hftbacktest raw frames, cryptofeed capture).
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayFile } from '../../engine/src/replay/index.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import type { BookDelta, BookSnapshot, Gap, MarketEvent } from '../../engine/src/core/events.js';
import { MultiBookSync, createBookSync, type BookSync, type ResyncRequest } from '../../engine/src/book/sync.js';
import { BinanceSync } from '../../engine/src/venues/binance/book.js';
import '../../engine/src/venues/registry.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = process.env.TAPEFLOW_DATA ?? path.resolve(ROOT, '../shared/data');

async function replayAll(files: string[], sink: (ev: MarketEvent) => void, registry = new InstrumentRegistry()): Promise<void> {
  for (const f of files) await replayFile(path.join(DATA, f), sink, { registry, strict: true });
}

async function syncFiles(files: string[]): Promise<{ syncs: BookSync[]; gaps: Gap[] }> {
  const registry = new InstrumentRegistry();
  const gaps: Gap[] = [];
  const m = new MultiBookSync((id) => createBookSync(registry.get(id).venue, { onGap: (g) => gaps.push(g) }));
  let crossedAfterEvent = 0;
  await replayAll(files, (ev) => {
    if (m.onEvent(ev) && m.get(ev.instrument)!.book.isCrossed()) crossedAfterEvent++;
  }, registry);
  expect(crossedAfterEvent).toBe(0);
  return { syncs: m.all(), gaps };
}

async function bookEvents(file: string): Promise<(BookSnapshot | BookDelta)[]> {
  const out: (BookSnapshot | BookDelta)[] = [];
  await replayAll([file], (ev) => { if (ev.type === 'book_snapshot' || ev.type === 'book_delta') out.push(ev); });
  return out;
}

describe('Binance captures sync with 0 gaps and 0 crossed books', () => {
  it('USD-M BTCUSDT (diffs buffered before the REST snapshot)', async () => {
    const { syncs, gaps } = await syncFiles(['binance/usdm_btcusdt_20240808.gz']);
    expect(syncs).toHaveLength(1);
    const s = syncs[0]!;
    expect(s.venue).toBe('binance-usdm');
    expect(gaps).toEqual([]);
    expect(s.synced).toBe(true);
    expect(s.stats).toMatchObject({ snapshots: 1, gaps: 0, crossed: 0, duplicates: 0, buffered: 6, staleDropped: 4, updatesApplied: 6547 });
    expect(s.stats.updatesApplied + s.stats.staleDropped).toBe(6551);
    expect(s.book.bestAsk() - s.book.bestBid()).toBe(1);
  }, 60_000);

  it('spot BTCUSDT: the two files join when replayed in order', async () => {
    const { syncs, gaps } = await syncFiles(['binance/spot_btcusdt_20240808.gz', 'binance/spot_btcusdt_20240809.gz']);
    const s = syncs[0]!;
    expect(s.venue).toBe('binance-spot');
    expect(gaps).toEqual([]);
    expect(s.stats).toMatchObject({ snapshots: 1, gaps: 0, crossed: 0, duplicates: 0, staleDropped: 2, updatesApplied: 6493 });
    expect(s.stats.updatesApplied + s.stats.staleDropped).toBe(3451 + 3044);
    expect(s.book.isCrossed()).toBe(false);
  }, 60_000);

  it('spot second file alone cannot sync (no snapshot): every diff stays buffered', async () => {
    const { syncs } = await syncFiles(['binance/spot_btcusdt_20240809.gz']);
    const s = syncs[0] as BinanceSync;
    expect(s.synced).toBe(false);
    expect(s.stats.updatesApplied).toBe(0);
    expect(s.bufferedCount).toBe(3044);
  }, 60_000);

  it('COIN-M BTCUSD_PERP: the two files join when replayed in order', async () => {
    const { syncs, gaps } = await syncFiles(['binance/cm_btcusd_perp_20240808.gz', 'binance/cm_btcusd_perp_20240809.gz']);
    const s = syncs[0]!;
    expect(s.venue).toBe('binance-coinm');
    expect(gaps).toEqual([]);
    expect(s.stats).toMatchObject({ snapshots: 1, gaps: 0, crossed: 0, duplicates: 0, staleDropped: 23, updatesApplied: 44772 });
    expect(s.stats.updatesApplied + s.stats.staleDropped).toBe(26847 + 17948);
  }, 60_000);

  it('cryptofeed USD-M capture (4 perps; REST snapshots in the .http file)', async () => {
    const { syncs, gaps } = await syncFiles(['cryptofeed/BINANCE_FUTURES.ws.1.0.gz', 'cryptofeed/BINANCE_FUTURES.http.0.0.gz']);
    expect(gaps).toEqual([]);
    expect(syncs.map((s) => s.instrument).sort()).toEqual(['AKROUSDT', 'CTKUSDT', 'KEEPUSDT', 'SUSHIUSDT']);
    for (const s of syncs) {
      expect(s.synced).toBe(true);
      expect(s.stats.crossed).toBe(0);
      expect(s.stats.updatesApplied).toBeGreaterThan(100);
    }
    expect(syncs.reduce((a, s) => a + s.stats.updatesApplied + s.stats.staleDropped, 0)).toBe(764);
  }, 60_000);
});

/**
 * Remove one diff from a capture: the synchronizer must emit a Gap and request a resync; the test
 * plays the REST endpoint by answering, `lag` diffs later, with the book a clean sync had at that
 * point (lastUpdateId = that diff's u). After the resync the book must equal the clean sync's book
 * at every later step, and at the end.
 */
async function gapAndResync(file: string, venue: string, removeAt: number, lag: number) {
  const events = await bookEvents(file);
  const firstDelta = events.findIndex((e) => e.type === 'book_snapshot') + 1;
  const removeIdx = firstDelta + removeAt;
  const answerIdx = removeIdx + lag;
  const removed = events[removeIdx] as BookDelta;

  // reference: clean sync, remembering the book at answerIdx
  const ref = createBookSync(venue);
  let restSnapshot: BookSnapshot | undefined;
  const refBooks = new Map<number, string>();
  events.forEach((ev, i) => {
    ref.onEvent(ev);
    if (i === answerIdx) {
      const lv = ref.book.toLevels();
      restSnapshot = { type: 'book_snapshot', instrument: ev.instrument, ts: ev.ts, seq: (ev as BookDelta).seq, bids: lv.bids, asks: lv.asks };
    }
    if (i > answerIdx && i % 97 === 0) refBooks.set(i, JSON.stringify(ref.book.depth('bid', 20)) + JSON.stringify(ref.book.depth('ask', 20)));
  });
  expect(ref.stats.gaps).toBe(0);

  const gaps: Gap[] = [];
  const requests: ResyncRequest[] = [];
  const s = createBookSync(venue, { onGap: (g) => gaps.push(g), onResync: (r) => requests.push(r) });
  let compared = 0;
  events.forEach((ev, i) => {
    if (i === removeIdx) return;
    s.onEvent(ev);
    if (i === answerIdx) {
      expect(requests).toHaveLength(1);
      s.onEvent(restSnapshot!);
    }
    const want = refBooks.get(i);
    if (want !== undefined) {
      expect(JSON.stringify(s.book.depth('bid', 20)) + JSON.stringify(s.book.depth('ask', 20))).toBe(want);
      compared++;
    }
  });
  expect(compared).toBeGreaterThan(10);
  expect(gaps).toHaveLength(1);
  return { s, ref, gaps, requests, removed };
}

describe('a removed diff produces a Gap and a correct resync', () => {
  it('USD-M: pu chain break', async () => {
    const { s, ref, gaps, requests, removed } = await gapAndResync('binance/usdm_btcusdt_20240808.gz', 'binance-usdm', 1000, 40);
    expect(gaps[0]).toMatchObject({ type: 'gap', instrument: 'BTCUSDT', from: removed.prevSeq + 1, to: removed.seq });
    expect(requests[0]!.venue).toBe('binance-usdm');
    expect(s.stats).toMatchObject({ gaps: 1, resyncRequests: 1, resyncs: 1, snapshots: 2, crossed: 0 });
    expect(s.synced).toBe(true);
    expect(s.book.equals(ref.book)).toBe(true);
    expect(s.lastSeq).toBe(ref.lastSeq);
  }, 60_000);

  it('spot: U != previous u + 1', async () => {
    const { s, ref, gaps, removed } = await gapAndResync('binance/spot_btcusdt_20240808.gz', 'binance-spot', 500, 25);
    expect(gaps[0]).toMatchObject({ instrument: 'BINANCE_SPOT:BTCUSDT', from: removed.firstSeq, to: removed.seq });
    expect(s.stats).toMatchObject({ gaps: 1, resyncs: 1, crossed: 0 });
    expect(s.book.equals(ref.book)).toBe(true);
  }, 60_000);
});
