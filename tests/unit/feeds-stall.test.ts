/**
 * Stalls: a connection that stays open and answers pings but carries no data for the stall interval
 * becomes a gap, then a reconnect; the feed is flagged stalled while it lasts; the recorded gap spans
 * the real stall (from the last data frame to the first one after it), and it reaches the engine as a
 * Gap event (which the store persists and /timescale_marks shows).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { feedRig } from '../helpers/feed-rig.js';
import { FakeVenue, binance, bybit, coinbase, waitFor } from '../../engine/src/feeds/testing.js';
import { feedProblems } from '../../engine/src/cli/wire-status.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stall detection', () => {
  it('flags the stall while it lasts, reconnects, and records a gap as long as the stall', async () => {
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    const r = feedRig([{ venue: 'binance-usdm', symbols: ['BTCUSDT'], wsUrl: v.wsBase, restUrl: v.restUrl, exchangeInfo: false, bookTicker: false, depth: false, stallMs: 400, pingIntervalMs: 100 }], (fn) => cleanup.push(fn));
    const feed = r.feeds.feeds[0]!;
    await r.feeds.start();
    await v.connection(1);
    let a = 1;
    const send = () => v.send(binance.aggTrade('BTCUSDT', a++, '60000.0', '0.010', Date.now(), a % 2 === 0));
    for (let i = 0; i < 5; i++) { send(); await sleep(20); }
    await waitFor(() => r.trades.length === 5, [feed], 5000, 'trades');
    const lastData = Date.now();
    // the venue keeps the socket open and answers pings (ws does), but sends nothing
    await waitFor(() => feed.status().stalled !== null, [feed, v], 5000, 'stall flagged');
    const st = feed.status();
    expect(st.stalled!.since).toBeGreaterThanOrEqual(lastData - 100);
    expect(feedProblems([st]).map((p) => p.reason).join(' ')).toMatch(/binance-usdm stalled: no data since/);
    await waitFor(() => v.connectionUrls.length >= 2, [feed, v], 5000, 'reconnect after the stall');
    await sleep(1500 - (Date.now() - lastData));
    expect(feed.status().stalled).not.toBeNull(); // still flagged: reconnected but still no data
    // the venue streams again (on whichever connection is up)
    const pump = setInterval(send, 20);
    cleanup.push(async () => clearInterval(pump));
    await waitFor(() => feed.status().stalled === null, [feed, v], 5000, 'stall end');
    const resumed = Date.now();
    const g = feed.status().completeness[0]!.gaps.find((x) => x.kind === 'stall')!;
    expect(g.to).not.toBeNull();
    // the gap spans the real stall (about 1.5 s), not the moment of detection
    expect(g.durationMs!).toBeGreaterThanOrEqual(1400);
    expect(g.durationMs!).toBeLessThanOrEqual(resumed - lastData + 50);
    const ev = r.gaps.find((x) => x.reason.startsWith('binance-usdm: stall '))!;
    expect(ev).toBeDefined();
    expect(ev.to - ev.from).toBe(g.durationMs);
    expect(ev.reason).toMatch(/binance-usdm: stall \d+ ms: stalled: the connection was open but carried no data/);
  }, 20_000);

  it('Bybit: the answers to its application ping are not data; Coinbase: heartbeats are not data', async () => {
    const bv = await FakeVenue.start();
    cleanup.push(() => bv.close());
    const cv = await FakeVenue.start();
    cleanup.push(() => cv.close());
    const r = feedRig([
      { venue: 'bybit', symbols: ['BTCUSDT'], wsUrl: `${bv.wsBase}/v5/public/linear`, restUrl: bv.restUrl, depth: false, appPingMs: 50, stallMs: 500 },
      { venue: 'coinbase', symbols: ['BTC-USD'], wsUrl: cv.wsBase, restUrl: cv.restUrl, depth: false, stallMs: 500 },
    ], (fn) => cleanup.push(fn));
    const [bf, cf] = r.feeds.feeds as [typeof r.feeds.feeds[0], typeof r.feeds.feeds[0]];
    await r.feeds.start();
    await bv.connection(1);
    await cv.connection(1);
    const T = Date.now();
    bv.send(bybit.trades('BTCUSDT', T, [{ i: 'u-1', T, p: '60000.0', v: '0.010', S: 'Buy' }]));
    cv.send(coinbase.trades(1, 'update', [{ trade_id: '1', product_id: 'BTC-USD', price: '60000.00', size: '0.01', side: 'BUY', time: new Date(T).toISOString() }]));
    await waitFor(() => r.trades.length === 2, [bf!, cf!], 5000, 'one trade each');
    // from now on: Bybit answers every {"op":"ping"} (FakeVenue does), Coinbase sends heartbeats, nothing else
    let seq = 2, n = 0;
    const hb = setInterval(() => cv.send(coinbase.heartbeat(seq++, n++, new Date().toISOString())), 50);
    cleanup.push(async () => clearInterval(hb));
    await waitFor(() => bf!.status().stalled !== null && cf!.status().stalled !== null, [bf!, cf!, bv, cv], 5000, 'both stalled');
    expect(bv.received.filter((m) => (m as { op?: string }).op === 'ping').length).toBeGreaterThan(3);
    expect(bf!.status().completeness[0]!.gaps.some((g) => g.kind === 'stall' && g.to === null)).toBe(true);
    expect(cf!.status().completeness[0]!.gaps.some((g) => g.kind === 'stall' && g.to === null)).toBe(true);
  }, 20_000);
});
