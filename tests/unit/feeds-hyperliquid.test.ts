/**
 * Hyperliquid live feed against a loopback venue speaking Hyperliquid's documented frames (trades with side
 * B/A = taker, l2Book full snapshots without a sequence, {"method":"ping"} → {"channel":"pong"}): trades, a
 * synced book, reconnect with dedupe and the unrecoverable-trades gap; a `<ns> <json>` capture of Hyperliquid
 * frames is detected as hyperliquid-capture (not binance-capture) and replays.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feedRig } from '../helpers/feed-rig.js';
import { FakeVenue, hyperliquid, waitFor } from '../../engine/src/feeds/testing.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { detectFormat, replayFile } from '../../engine/src/replay/index.js';
import { BookManager } from '../../engine/src/book/manager.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

describe('Hyperliquid live feed', () => {
  it('trades (B = buy, A = sell taker), l2Book snapshots replace the book, pong is not data, reconnect', async () => {
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    const r = feedRig([{ venue: 'hyperliquid', symbols: ['BTC', 'kPEPE'], wsUrl: `${v.wsBase}/ws`, restUrl: v.restUrl, appPingMs: 50 }], (fn) => cleanup.push(fn));
    const feed = r.feeds.feeds[0]!;
    await r.feeds.start();
    await waitFor(() => v.received.filter((m) => (m as { method?: string }).method === 'subscribe').length === 4, [v], 5000, 'subscriptions');
    expect(v.received.filter((m) => (m as { method?: string }).method === 'subscribe').map((m) => (m as { subscription: unknown }).subscription)).toEqual([
      { type: 'trades', coin: 'BTC' }, { type: 'l2Book', coin: 'BTC' }, { type: 'trades', coin: 'kPEPE' }, { type: 'l2Book', coin: 'kPEPE' },
    ]);
    v.send({ channel: 'subscriptionResponse', data: { method: 'subscribe', subscription: { type: 'trades', coin: 'BTC' } } });
    v.send(hyperliquid.l2Book('BTC', T0, [['69996.0', '1.25'], ['69995.0', '0.5']], [['69997.0', '0.38111'], ['69998.0', '2.0']]));
    v.send(hyperliquid.trades('BTC', [{ tid: 1016375172059570, px: '69997.0', sz: '0.38111', side: 'B', time: T0 + 1 }, { tid: 479312521152049, px: '69996.0', sz: '0.1', side: 'A', time: T0 + 2 }]));
    v.send(hyperliquid.trades('kPEPE', [{ tid: 611279506717453, px: '0.009123', sz: '1500', side: 'A', time: T0 + 3 }]));
    await waitFor(() => r.trades.length === 3 && r.books.l2.get('HYPERLIQUID:BTC')?.synced === true, [feed, v], 5000, 'trades and book');
    expect(r.trades.map((t) => [t.instrument, t.side, t.id])).toEqual([['HYPERLIQUID:BTC', 'buy', 1016375172059570], ['HYPERLIQUID:BTC', 'sell', 479312521152049], ['HYPERLIQUID:KPEPE', 'sell', 611279506717453]]);
    expect(r.registry.get('HYPERLIQUID:KPEPE').symbol).toBe('kPEPE');
    const btc = r.registry.get('HYPERLIQUID:BTC');
    expect([btc.tickSize, btc.lotStep]).toEqual(['0.1', '0.00001']);
    expect([r.trades[0]!.price, r.trades[0]!.size]).toEqual([699970, 38111]);
    let book = r.books.book('HYPERLIQUID:BTC')!;
    expect([book.bestBid(), book.bestAsk(), book.levelCount('bid')]).toEqual([699960, 699970, 2]);
    // the next l2Book is a whole new book: 69995.0 is gone
    v.send(hyperliquid.l2Book('BTC', T0 + 10, [['69996.0', '3.0']], [['69997.0', '0.5']]));
    await waitFor(() => r.books.l2.get('HYPERLIQUID:BTC')!.stats.snapshots === 2, [feed], 5000, 'second snapshot');
    book = r.books.book('HYPERLIQUID:BTC')!;
    expect([book.levelCount('bid'), book.bids.get(699960), book.bids.get(699950) ?? 0]).toEqual([1, 300000, 0]);
    await waitFor(() => feed.counters.frames >= 7, [feed], 5000, 'pongs'); // pings every 50 ms are answered
    expect([feed.status().state, feed.counters.malformed, feed.counters.trades]).toEqual(['open', 0, 3]);

    // reconnect: resubscribed, the repeated trade is dropped, the outage is an unrecoverable trades gap
    v.dropAll();
    await waitFor(() => v.received.filter((m) => (m as { method?: string }).method === 'subscribe').length === 8, [v, feed], 5000, 'resubscribed');
    v.send(hyperliquid.l2Book('BTC', T0 + 20, [['70000.0', '1.0']], [['70001.0', '1.0']]));
    v.send(hyperliquid.trades('BTC', [{ tid: 479312521152049, px: '69996.0', sz: '0.1', side: 'A', time: T0 + 2 }, { tid: 5, px: '70001.0', sz: '0.2', side: 'B', time: T0 + 21 }]));
    await waitFor(() => r.trades.length === 4 && r.books.l2.get('HYPERLIQUID:BTC')!.stats.snapshots === 3, [feed, v], 5000, 'after reconnect');
    expect(r.trades[3]!.id).toBe(5);
    const st = feed.status();
    expect([st.counters.reconnects, st.counters.duplicates]).toEqual([1, 1]);
    const c = st.completeness.find((x) => x.instrument === 'HYPERLIQUID:BTC')!;
    const tg = c.gaps.find((g) => g.kind === 'trades')!;
    expect([tg.complete, tg.recovered, tg.to !== null]).toEqual([false, 0, true]);
    expect(tg.reason).toMatch(/cannot be recovered/);
    expect(r.books.book('HYPERLIQUID:BTC')!.bestBid()).toBe(700000);
  });
});

describe('Hyperliquid replay', () => {
  it('a `<ns> <json>` capture of Hyperliquid frames is hyperliquid-capture, not binance-capture, and yields events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-hl-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const frames = [
      { channel: 'subscriptionResponse', data: { method: 'subscribe', subscription: { type: 'l2Book', coin: 'ETH' } } },
      hyperliquid.l2Book('ETH', T0, [['3500.1', '10.0'], ['3500.0', '4.2']], [['3500.2', '1.5']]),
      hyperliquid.trades('ETH', [{ tid: 11, px: '3500.2', sz: '0.5', side: 'B', time: T0 + 1 }, { tid: 12, px: '3500.1', sz: '1.0', side: 'A', time: T0 + 2 }]),
      { channel: 'pong' },
    ];
    const lines = frames.map((f, i) => `${(BigInt(T0 + i) * 1_000_000n).toString()} ${JSON.stringify(f)}`);
    expect(detectFormat(lines, 'capture.gz')).toBe('hyperliquid-capture');
    const file = join(dir, 'hyperliquid_eth.txt');
    writeFileSync(file, lines.join('\n') + '\n');
    const registry = new InstrumentRegistry();
    const books = new BookManager({ registry, emit: () => {} });
    const sides: string[] = [];
    const stats = await replayFile(file, (ev) => { if (ev.type === 'trade') sides.push(ev.side); books.onEvent(ev); }, { registry });
    expect(stats.format).toBe('hyperliquid-capture');
    expect([stats.events, stats.trades, stats.bookEvents, stats.badLines]).toEqual([3, 2, 1, 0]);
    expect(sides).toEqual(['buy', 'sell']);
    expect(books.l2.get('HYPERLIQUID:ETH')!.synced).toBe(true);
    // the same frames as plain JSON lines
    const jf = join(dir, 'hl.jsonl');
    writeFileSync(jf, frames.map((f) => JSON.stringify(f)).join('\n') + '\n');
    const js = await replayFile(jf, () => {}, { registry: new InstrumentRegistry() });
    expect([js.format, js.trades, js.bookEvents]).toEqual(['hyperliquid-jsonl', 2, 1]);
  });
});

describe('Hyperliquid restart', () => {
  it('resume: the downtime since the stored trade is recorded as an unrecoverable trades gap', async () => {
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    const r = feedRig([{ venue: 'hyperliquid', symbols: ['ETH'], wsUrl: v.wsBase, restUrl: v.restUrl, depth: false, resume: (id) => (id === 'HYPERLIQUID:ETH' ? { id: 77, ts: T0 } : undefined) }], (fn) => cleanup.push(fn));
    const feed = r.feeds.feeds[0]!;
    await r.feeds.start();
    await waitFor(() => v.received.some((m) => (m as { method?: string }).method === 'subscribe'), [v], 5000, 'subscribed');
    const g = feed.status().completeness.find((c) => c.instrument === 'HYPERLIQUID:ETH')!.gaps.find((x) => x.kind === 'trades')!;
    expect([g.from, g.complete, g.recovered]).toEqual([T0, false, 0]);
    expect(g.reason).toMatch(/after a restart/);
  });
});
