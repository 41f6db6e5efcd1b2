/**
 * OKX v5 live feed against a loopback venue speaking OKX's documented frames (trades, books with seqId /
 * prevSeqId and the CRC-32 checksum, bbo-tbt, text ping/pong): trades, a synced and checksum-verified book,
 * a bad checksum → resubscribe → new snapshot, a seqId break → resync, reconnect with dedupe + REST
 * backfill; replay of recorded OKX frames is detected as okx-jsonl through the registry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feedRig } from '../helpers/feed-rig.js';
import { FakeVenue, okx, waitFor } from '../../engine/src/feeds/testing.js';
import { crc32Signed, StringBook } from '../../engine/src/venues/okx/checksum.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { replayFile } from '../../engine/src/replay/index.js';
import type { MarketEvent } from '../../engine/src/core/events.js';
import { BookManager } from '../../engine/src/book/manager.js';
import { FrameRecorder } from '../../engine/src/feeds/recorder.js';
import { runReplay } from '../../engine/src/cli/commands/replay.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const ID = 'BTC-USDT-SWAP';
const INST = `OKX:${ID}`;
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

type L = [string, string];
/** the venue's book, best first, and the checksum OKX would send for it */
class VenueBook {
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  apply(bids: L[], asks: L[]): this {
    for (const [p, q] of bids) if (q === '0') this.bids.delete(p); else this.bids.set(p, q);
    for (const [p, q] of asks) if (q === '0') this.asks.delete(p); else this.asks.set(p, q);
    return this;
  }
  side(m: Map<string, string>, desc: boolean): L[] { return [...m].sort((a, b) => (desc ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0]))); }
  get checksum(): number { return okx.checksum(this.side(this.bids, true), this.side(this.asks, false)); }
}

describe('OKX checksum', () => {
  it('matches the examples of OKX\'s checksum documentation (even and odd level counts)', () => {
    expect(crc32Signed('123456789')).toBe(0xcbf43926 | 0);
    const even = new StringBook();
    even.bids.set('3366.1', '7'); even.bids.set('3366', '6'); even.asks.set('3366.8', '9'); even.asks.set('3368', '8');
    expect(even.checksum()).toBe(-1881014294);
    const odd = new StringBook();
    odd.bids.set('3366.1', '7'); odd.asks.set('3366.8', '9'); odd.asks.set('3368', '8'); odd.asks.set('3372', '8');
    expect(odd.checksum()).toBe(831078360);
    // and the loopback venue's independent implementation agrees
    expect(okx.checksum([['3366.1', '7'], ['3366', '6']], [['3366.8', '9'], ['3368', '8']])).toBe(-1881014294);
  });
});

describe('OKX live feed', () => {
  it('trades, a checksum-verified book, bad checksum → resync, seqId break → resync, reconnect with backfill', async () => {
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    v.routes.set('/api/v5/public/instruments', (url) => ({ body: { code: '0', data: url.searchParams.get('instType') === 'SWAP' ? [{ instId: ID, instType: 'SWAP', tickSz: '0.1', lotSz: '0.01', ctVal: '0.01' }] : [] } }));
    let restTrades: unknown[] = [];
    v.routes.set('/api/v5/market/trades', () => ({ body: { code: '0', data: restTrades } }));
    const r = feedRig([{ venue: 'okx', symbols: [ID], wsUrl: `${v.wsBase}/ws/v5/public`, restUrl: v.restUrl, appPingMs: 50 }], (fn) => cleanup.push(fn));
    const feed = r.feeds.feeds[0]!;
    const subscribed = v.message((m) => m.op === 'subscribe');
    await r.feeds.start();
    const sub = await subscribed;
    expect(sub.args).toEqual([{ channel: 'trades', instId: ID }, { channel: 'books', instId: ID }, { channel: 'bbo-tbt', instId: ID }]);
    const inst = r.registry.get(INST);
    expect([inst.venue, inst.tickSize, inst.lotStep, inst.contractSize]).toEqual(['okx', '0.1', '0.01', 0.01]);

    const vb = new VenueBook().apply([['60000.1', '1.5'], ['60000', '2']], [['60000.2', '1'], ['60000.5', '3']]);
    v.send(okx.book(ID, 'snapshot', 10, -1, vb.side(vb.bids, true), vb.side(vb.asks, false), T0, vb.checksum));
    v.send(okx.book(ID, 'update', 11, 10, [['60000.1', '0']], [['60000.3', '0.5']], T0 + 1, vb.apply([['60000.1', '0']], [['60000.3', '0.5']]).checksum));
    v.send(okx.book(ID, 'update', 11, 11, [], [], T0 + 2, vb.checksum)); // keep-alive
    v.send(okx.trades(ID, [{ tradeId: '100', px: '60000.2', sz: '0.5', side: 'buy', ts: T0 + 3 }, { tradeId: '101', px: '60000.0', sz: '1.25', side: 'sell', ts: T0 + 4 }]));
    v.send(okx.bbo(ID, ['60000.0', '2'], ['60000.2', '1'], T0 + 5, 11));
    await waitFor(() => r.trades.length === 2 && r.books.l2.get(INST)?.lastSeq === 11, [feed, v], 5000, 'trades and book');
    const book = r.books.book(INST)!;
    expect([book.bestBid(), book.bestAsk(), book.asks.get(600003), book.bids.get(600001) ?? 0]).toEqual([600000, 600002, 50, 0]);
    expect(r.books.l2.get(INST)!.synced).toBe(true);
    expect(r.trades.map((t) => [t.id, t.price, t.size, t.side])).toEqual([[100, 600002, 50, 'buy'], [101, 600000, 125, 'sell']]);
    expect(feed.status().state).toBe('open');

    // a wrong checksum: gap, unsubscribe + subscribe books, the new snapshot heals the book
    const resub1 = v.message((m) => m.op === 'subscribe' && JSON.stringify(m.args) === JSON.stringify([{ channel: 'books', instId: ID }]));
    v.send(okx.book(ID, 'update', 12, 11, [['59999.9', '4']], [], T0 + 6, vb.apply([['59999.9', '4']], []).checksum + 1));
    await resub1;
    await waitFor(() => r.books.l2.get(INST)!.synced === false, [feed], 5000, 'unsynced on bad checksum');
    expect(r.gaps.some((g) => /checksum/.test(g.reason))).toBe(true);
    const vb2 = new VenueBook().apply([['60010.0', '1'], ['60009.9', '2']], [['60010.1', '3']]);
    v.send(okx.book(ID, 'snapshot', 20, -1, vb2.side(vb2.bids, true), vb2.side(vb2.asks, false), T0 + 7, vb2.checksum));
    await waitFor(() => r.books.l2.get(INST)!.synced === true && r.books.l2.get(INST)!.lastSeq === 20, [feed], 5000, 'resynced');
    expect([r.books.book(INST)!.bestBid(), r.books.book(INST)!.levelCount('bid'), r.books.book(INST)!.bids.get(599999) ?? 0]).toEqual([600100, 2, 0]);

    // a seqId break: prevSeqId 23 != 20
    const resub2 = v.message((m) => m.op === 'subscribe' && JSON.stringify(m.args) === JSON.stringify([{ channel: 'books', instId: ID }]));
    v.send(okx.book(ID, 'update', 24, 23, [['60010.0', '5']], [], T0 + 8, vb2.apply([['60010.0', '5']], []).checksum));
    await resub2;
    expect(r.gaps.some((g) => /prevSeqId=23 != last seqId=20/.test(g.reason))).toBe(true);
    v.send(okx.book(ID, 'snapshot', 30, -1, vb2.side(vb2.bids, true), vb2.side(vb2.asks, false), T0 + 9, vb2.checksum));
    await waitFor(() => r.books.l2.get(INST)!.lastSeq === 30 && r.books.l2.get(INST)!.synced, [feed], 5000, 'resynced after break');
    expect(r.books.book(INST)!.bids.get(600100)).toBe(500);
    // checksum 0 (the field OKX deprecated) is not checked
    v.send(okx.book(ID, 'update', 31, 30, [['60010.0', '6']], [], T0 + 10, 0));
    await waitFor(() => r.books.l2.get(INST)!.lastSeq === 31, [feed], 5000, 'checksum 0 accepted');
    expect(r.books.l2.get(INST)!.synced).toBe(true);

    // reconnect: 102 and 103 were missed while down; REST (newest first) also repeats 101
    restTrades = [{ instId: ID, tradeId: '103', px: '60010.1', sz: '0.2', side: 'buy', ts: String(T0 + 13) }, { instId: ID, tradeId: '102', px: '60010.0', sz: '0.1', side: 'sell', ts: String(T0 + 12) }, { instId: ID, tradeId: '101', px: '60000.0', sz: '1.25', side: 'sell', ts: String(T0 + 4) }];
    const resub3 = v.message((m) => m.op === 'subscribe' && (m.args as unknown[]).length === 3);
    v.dropAll();
    await resub3;
    v.send(okx.book(ID, 'snapshot', 40, -1, vb2.side(vb2.bids, true), vb2.side(vb2.asks, false), T0 + 14, vb2.checksum));
    v.send(okx.trades(ID, [{ tradeId: '101', px: '60000.0', sz: '1.25', side: 'sell', ts: T0 + 4 }, { tradeId: '104', px: '60010.1', sz: '0.3', side: 'buy', ts: T0 + 15 }]));
    await waitFor(() => r.trades.length === 5 && r.books.l2.get(INST)!.lastSeq === 40, [feed, v], 5000, 'after reconnect');
    expect(r.trades.map((t) => t.id)).toEqual([100, 101, 102, 103, 104]);
    const st = feed.status();
    expect([st.counters.reconnects, st.counters.backfilled, st.counters.duplicates, st.counters.malformed]).toEqual([1, 2, 1, 0]);
    await waitFor(() => v.textPings > 0 && feed.counters.frames > 0, [v, feed], 3000, 'a text ping'); // every appPingMs
    await new Promise((res) => setTimeout(res, 100)); // its text pong arrives: not a malformed frame
    expect(feed.counters.malformed).toBe(0);
    const tg = st.completeness[0]!.gaps.find((g) => g.kind === 'trades')!;
    expect([tg.recovered, tg.complete]).toEqual([2, true]);
  });
});

describe('OKX replay', () => {
  it('recorded OKX frames are detected as okx-jsonl and replay trades and a synced book', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-okx-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const vb = new VenueBook().apply([['3.972', '100'], ['3.971', '50']], [['3.973', '20']]);
    const frames = [
      { event: 'subscribe', arg: { channel: 'books', instId: 'CRV-USDT' } },
      okx.book('CRV-USDT', 'snapshot', 5, -1, vb.side(vb.bids, true), vb.side(vb.asks, false), T0, vb.checksum),
      okx.trades('CRV-USDT', [{ tradeId: '21300150', px: '3.973', sz: '13.491146', side: 'buy', ts: T0 + 1 }]),
      okx.book('CRV-USDT', 'update', 6, 5, [['3.972', '90']], [], T0 + 2, vb.apply([['3.972', '90']], []).checksum),
      okx.book('CRV-USDT', 'update', 7, 6, [['3.971', '0']], [], T0 + 3, 12345), // bad checksum: the replayed book breaks
    ];
    const file = join(dir, 'okx-crv.jsonl');
    writeFileSync(file, frames.map((f) => JSON.stringify(f)).join('\n') + '\n');
    const registry = new InstrumentRegistry();
    const books = new BookManager({ registry, emit: () => {} });
    const evs: MarketEvent[] = [];
    const stats = await replayFile(file, (ev) => { evs.push(ev.type === 'trade' ? { ...ev } : ev); books.onEvent(ev); }, { registry });
    expect(stats.format).toBe('okx-jsonl');
    expect([stats.trades, stats.bookEvents, stats.badLines]).toEqual([1, 3, 0]);
    expect(stats.instruments).toEqual(['OKX:CRV-USDT']);
    const t = evs.find((e) => e.type === 'trade')!;
    expect(t.type === 'trade' && [t.side, t.id]).toEqual(['buy', 21300150]);
    const s = books.l2.get('OKX:CRV-USDT')!;
    expect([s.stats.snapshots, s.stats.updatesApplied, s.stats.gaps, s.synced]).toEqual([1, 1, 1, false]);
  });
});

describe('OKX record → replay', () => {
  it('a recording of the live OKX feed replays to the same bars (same checksum)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-okx-rec-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    const rec = new FrameRecorder({ dir, prefix: 'okx' });
    const r = feedRig([{ venue: 'okx', symbols: ['ETH-USDT'], wsUrl: v.wsBase, restUrl: v.restUrl }], (fn) => cleanup.push(fn), { tap: rec.tap });
    const feed = r.feeds.feeds[0]!;
    const subscribed = v.message((m) => m.op === 'subscribe');
    await r.feeds.start();
    await subscribed;
    const vb = new VenueBook().apply([['3500.10', '2.5']], [['3500.20', '1.25']]);
    v.send(okx.book('ETH-USDT', 'snapshot', 1, -1, vb.side(vb.bids, true), vb.side(vb.asks, false), T0, vb.checksum));
    for (let i = 0; i < 120; i++) {
      v.send(okx.trades('ETH-USDT', [{ tradeId: String(9000 + i), px: (3500 + (i % 13) / 10).toFixed(2), sz: ((i % 5) + 1).toFixed(4), side: i % 3 ? 'buy' : 'sell', ts: T0 + i * 1500 }]));
      if (i % 10 === 0) v.send(okx.book('ETH-USDT', 'update', 2 + i, i === 0 ? 1 : 2 + i - 10, [['3500.10', (2 + i / 100).toFixed(2)]], [], T0 + i * 1500, vb.apply([['3500.10', (2 + i / 100).toFixed(2)]], []).checksum));
    }
    await waitFor(() => r.trades.length === 120, [feed], 5000, '120 trades');
    await r.feeds.stop();
    await rec.close();
    r.engine.finish();
    expect(r.books.l2.get('OKX:ETH-USDT')!.stats.gaps).toBe(0);
    const replayed = await runReplay(rec.files, {});
    expect(replayed.badLines).toBe(0);
    expect(replayed.instruments.find((i) => i.instrument === 'OKX:ETH-USDT')!.trades).toBe(120);
    expect(replayed.checksum).toBe(r.engine.checksum());
  });
});

describe('OKX restart', () => {
  it('resume: the first connection backfills the trades after the stored one from /api/v5/market/trades', async () => {
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    v.routes.set('/api/v5/market/trades', () => ({ body: { code: '0', data: [9, 8, 7, 6, 5, 4].map((i) => ({ instId: 'BTC-USDT', tradeId: String(700 + i), px: (60000 + i / 10).toFixed(1), sz: '0.01', side: i % 2 ? 'buy' : 'sell', ts: String(T0 + i * 100) })) } }));
    const r = feedRig([{ venue: 'okx', symbols: ['BTC-USDT'], wsUrl: v.wsBase, restUrl: v.restUrl, depth: false, bookTicker: false, resume: (id) => (id === 'OKX:BTC-USDT' ? { id: 706, ts: T0 + 600 } : undefined) }], (fn) => cleanup.push(fn));
    const feed = r.feeds.feeds[0]!;
    await r.feeds.start();
    await waitFor(() => r.trades.length === 3, [feed, v], 5000, 'backfilled');
    expect(r.trades.map((t) => t.id)).toEqual([707, 708, 709]);
    const g = feed.status().completeness[0]!.gaps.find((x) => x.kind === 'trades')!;
    expect([g.recovered, g.complete]).toEqual([3, true]);
  });
});
