/**
 * Kite live feed against a loopback Kite Ticker (FakeVenue: credentials as URL query parameters, JSON
 * subscribe/mode messages, 1-byte heartbeats, binary full-mode packets sampled once a second from the
 * simulator's book and trades for an NSE instrument, a NIFTY options chain, text error/order messages, a disconnect):
 * connect → footprint bars, a synced 5-level book and the chain's PCR (resubscribed after the reconnect); derived volume = the simulator's traded volume with
 * nothing counted twice across the reconnect; the quote-rule classification accuracy against the simulator's
 * true aggressor sides, reported; `tapeflow record` frames → `tapeflow replay` with the live checksum.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feedRig } from '../helpers/feed-rig.js';
import { FakeVenue, waitFor } from '../../engine/src/feeds/testing.js';
import { FrameRecorder } from '../../engine/src/feeds/recorder.js';
import { runReplay } from '../../engine/src/cli/commands/replay.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { FeedContext } from '../../engine/src/replay/context.js';
import { parseKiteFrame, registerKiteInstruments, kiteState } from '../../engine/src/venues/kite/parse.js';
import { parseInstrumentsCsv } from '../../engine/src/venues/kite/instruments.js';
import type { Trade } from '../../engine/src/core/events.js';
import type { KiteFeed } from '../../engine/src/venues/kite/feed.js';
import { KITE_CSV_HEADER, kiteTapeFromSim, type KiteTape } from '../helpers/kite.js';
import { CHAIN_STRIKES, NIFTY_TOKEN, chainCsv, chainMessage, chainToken } from '../helpers/kite-chain.js';

const TOKEN = 738561; // NSE (segment 1)
const CSV = `${KITE_CSV_HEADER}\n${TOKEN},2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE\n`;
const T0 = Date.UTC(2026, 11, 4, 4, 0, 0); // 09:30 IST
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

function setEnv(vars: Record<string, string>): void {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  cleanup.push(() => { for (const [k, v] of Object.entries(old)) if (v === undefined) delete process.env[k]; else process.env[k] = v; });
}

/** Offline: derive trades from the tape and score their sides against the simulator's trades of each interval (by volume). */
function accuracy(tape: KiteTape): { volume: number; agree: number; unknown: number; intervals: number; intervalsRight: number } {
  const ctx = new FeedContext(new InstrumentRegistry());
  registerKiteInstruments(ctx, parseInstrumentsCsv(CSV).instruments);
  let volume = 0, agree = 0, unknown = 0, intervals = 0, intervalsRight = 0, j = 0, prevT = -Infinity;
  tape.messages.forEach((m, k) => {
    const derived: Trade[] = [];
    parseKiteFrame(m.bytes, m.t, ctx, (e) => { if (e.type === 'trade') derived.push({ ...e }); });
    const inInterval: Trade[] = [];
    while (j < tape.truth.length && tape.truth[j]!.ts < m.t) { if (tape.truth[j]!.ts >= prevT) inInterval.push(tape.truth[j]!); j++; }
    prevT = m.t;
    if (k === 0 || !derived.length) return;
    const d = derived[0]!;
    const vol = inInterval.reduce((s, t) => s + t.size, 0);
    const net = inInterval.reduce((s, t) => s + (t.side === 'buy' ? t.size : -t.size), 0);
    volume += vol;
    intervals++;
    if (d.side === 'unknown') { unknown += vol; return; }
    agree += inInterval.filter((t) => t.side === d.side).reduce((s, t) => s + t.size, 0);
    if ((net > 0 && d.side === 'buy') || (net < 0 && d.side === 'sell')) intervalsRight++;
  });
  expect(kiteState(ctx).stats.malformedPackets).toBe(0);
  return { volume, agree, unknown, intervals, intervalsRight };
}

describe('Kite derivation vs the simulator ground truth', () => {
  it('derived volume equals the true volume; quote-rule side accuracy reported per sampling interval', () => {
    const rows: string[] = [];
    for (const intervalMs of [250, 1000]) {
      const tape = kiteTapeFromSim({ seed: 11, token: TOKEN, startTs: T0, durationMs: 30 * 60_000, intervalMs, startTicks: 28_250, paisePerTick: 5 });
      const a = accuracy(tape);
      const first = tape.truth.filter((t) => t.ts < tape.sampleTs[0]!).reduce((s, t) => s + t.size, 0);
      const lastT = tape.sampleTs[tape.sampleTs.length - 1]!;
      const total = tape.truth.filter((t) => t.ts < lastT).reduce((s, t) => s + t.size, 0);
      expect(a.volume).toBe(total - first); // every unit of volume after the first snapshot is derived, once
      const byVol = a.agree / a.volume, byInterval = a.intervalsRight / a.intervals;
      rows.push(`interval ${intervalMs} ms: ${a.intervals} derived trades, side accuracy by volume ${(100 * byVol).toFixed(1)} %, net side of the interval right ${(100 * byInterval).toFixed(1)} %, unclassified ${(100 * a.unknown / a.volume).toFixed(1)} %`);
      // far better than a coin flip; the finer sampling is the more accurate
      expect(byVol).toBeGreaterThan(0.6);
    }
    console.log(`Kite quote rule on snapshots vs simulator truth (seed 11, 30 min):\n  ${rows.join('\n  ')}`);
  });
});

describe('Kite live feed (loopback Ticker)', () => {
  it('auth query, subscribe+mode, heartbeats, text messages, malformed packets, reconnect without double counting, bars + book + PCR, record → replay checksum', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-kite-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // RELIANCE plus the NIFTY index and a NIFTY options chain for the PCR
    writeFileSync(join(dir, 'instruments.csv'), `${chainCsv()}\n${CSV.split('\n')[1]}\n`);
    setEnv({ KITE_API_KEY: 'key123', KITE_ACCESS_TOKEN: 'tok456', KITE_INSTRUMENTS: join(dir, 'instruments.csv') });
    const tape = kiteTapeFromSim({ seed: 5, token: TOKEN, startTs: T0, durationMs: 6 * 60_000, intervalMs: 1000, startTicks: 28_250, paisePerTick: 5 });
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    const rec = new FrameRecorder({ dir: join(dir, 'rec'), prefix: 'kite' });
    const logs: string[] = [];
    const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m), debug: () => {}, child: () => log };
    const r = feedRig([{ venue: 'kite', symbols: ['NSE:RELIANCE'], wsUrl: v.wsBase, kite: { pcr: { underlying: 'NIFTY', spot: 'NSE:NIFTY 50', strikes: 1 } } }], (fn) => cleanup.push(fn), { tap: rec.tap, log: log as never });
    const feed = r.feeds.feeds[0]! as KiteFeed;
    let closed = 0;
    r.engine.onPipeline((p) => p.onBarClose(() => closed++));
    await r.feeds.start();
    const sock = await v.connection(1);
    await waitFor(() => v.received.length >= 3, [v], 5000, 'subscribe and modes');
    expect(v.connectionUrls[0]).toBe('/?api_key=key123&access_token=tok456');
    const chain = [...CHAIN_STRIKES.flatMap((k) => [chainToken(k, false), chainToken(k, true)]), NIFTY_TOKEN];
    const subs = [{ a: 'subscribe', v: [TOKEN, ...chain] }, { a: 'mode', v: ['full', [TOKEN]] }, { a: 'mode', v: ['full', chain] }];
    expect(v.received.slice(0, 3)).toEqual(subs);
    const half = Math.floor(tape.messages.length / 2);
    sock.send(Buffer.from([0]));
    sock.send(JSON.stringify({ type: 'order', data: { order_id: '151220000000000', status: 'COMPLETE' } }));
    sock.send(JSON.stringify({ type: 'error', data: 'Invalid instrument token' }));
    for (const m of tape.messages.slice(0, half)) sock.send(Buffer.from(m.bytes));
    sock.send(Buffer.from(chainMessage(26_040, 0, T0 / 1000)));
    sock.send(Buffer.from([0, 1, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])); // one packet of 12 bytes: no such mode
    const volAt = (k: number): number => new DataView(tape.messages[k]!.bytes.buffer).getUint32(4 + 16);
    const sum = (): number => r.trades.reduce((s, t) => s + t.size, 0);
    await waitFor(() => sum() === volAt(half - 1) - volAt(0), [feed], 10_000, 'first half');
    expect(feed.counters.malformed).toBe(1);
    expect(feed.textMessages).toEqual({ error: 1, order: 1, message: 0, other: 0 });
    // disconnect: 10 snapshots are never delivered; the Ticker resends full mode after the resubscribe
    v.dropAll();
    const sock2 = await v.connection(2);
    await waitFor(() => v.received.length >= 6, [v, feed], 5000, 'resubscribed');
    expect(v.received.slice(3, 6)).toEqual(subs); // the chain is resubscribed in full mode too
    expect(feed.pcr()).toMatchObject({ underlying: 'NIFTY', spot: 26040, atmStrike: 26000, bias: 'neutral', overall: { pcrOi: 1 } });
    // the last snapshot before the drop arrives again (a reconnect replays the current state): no volume twice
    sock2.send(Buffer.from(tape.messages[half - 1]!.bytes));
    for (const m of tape.messages.slice(half + 10)) sock2.send(Buffer.from(m.bytes));
    // seconds of receive time later (the PCR is recomputed at most once a second): puts written at the money
    await new Promise((res) => setTimeout(res, 1100));
    sock2.send(Buffer.from(chainMessage(26_040, 6000, T0 / 1000 + 60)));
    const lastVol = volAt(tape.messages.length - 1);
    await waitFor(() => sum() === lastVol - volAt(0), [feed], 10_000, 'all volume');
    await new Promise((res) => setTimeout(res, 100));
    expect(sum()).toBe(lastVol - volAt(0)); // nothing counted twice, nothing lost (the outage is one aggregated derived trade)
    await waitFor(() => feed.pcr()?.bias === 'strong bullish', [feed], 5000, 'PCR after the reconnect');
    expect([feed.pcr()!.nearAtm!.pcrOi, feed.pcr()!.changePcrOi]).toEqual([15000 / 9000, 21000 / 15000 - 1]);
    expect(r.trades.every((t) => t.instrument === 'KITE:NSE:RELIANCE' && t.sideSource !== 'flag')).toBe(true); // the chain's volume did not change: no option trades
    // footprint bars and a synced 5-level book
    await r.feeds.stop();
    await rec.close();
    r.engine.finish();
    expect(closed).toBeGreaterThanOrEqual(5); // 1-minute footprint bars over the 6 simulated minutes
    const book = r.books.book('KITE:NSE:RELIANCE')!;
    expect(r.books.l2.get('KITE:NSE:RELIANCE')!.synced).toBe(true);
    expect(book.levelCount('bid')).toBeLessThanOrEqual(5);
    const lastBytes = new DataView(tape.messages[tape.messages.length - 1]!.bytes.buffer);
    expect(book.bestBid() * 5).toBe(lastBytes.getInt32(4 + 64 + 4)); // bid[0] price in paise
    // credentials never logged
    expect(logs.join('\n')).not.toMatch(/tok456|key123/);
    expect(feed.status().connections[0]!.url).toBe(`${v.wsBase}?api_key=***&access_token=***`);
    // record → replay: the same bars
    const replayed = await runReplay(rec.files, {});
    expect(replayed.instruments.find((i) => i.instrument === 'KITE:NSE:RELIANCE')!.trades).toBe(r.trades.length);
    expect(replayed.checksum).toBe(r.engine.checksum());
  });
});
