/**
 * Options-chain PCR (signals/pcr.ts) on a hand-built chain, and end to end through a loopback Kite Ticker:
 * the feed subscribes the chain's calls and puts in full mode and the index in its own mode, and reports PCR
 * by OI and volume, overall and near the money, with the change over the session and the bias.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PCR_THRESHOLDS, PcrSession, classifyPcr, computePcr, pcrThresholdsProblem, selectChain, type PcrLeg } from '../../engine/src/signals/pcr.js';
import { feedRig } from '../helpers/feed-rig.js';
import { FakeVenue, waitFor } from '../../engine/src/feeds/testing.js';
import type { KiteFeed } from '../../engine/src/venues/kite/feed.js';
import { validateConfig } from '../../engine/src/config/index.js';
import { pcrAlert } from '../../engine/src/alerts/pcr-alert.js';
import { formatAlert } from '../../engine/src/alerts/format.js';
import { FeedContext } from '../../engine/src/replay/context.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { kiteState, parseKiteFrame } from '../../engine/src/venues/kite/parse.js';
import { KITE_CSV_HEADER, indexPacket, kiteMessage, tickPacket } from '../helpers/kite.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

const T = DEFAULT_PCR_THRESHOLDS;
function legs(rows: Array<[number, number, number, number, number]>): PcrLeg[] {
  // [strike, call OI, put OI, call volume, put volume]
  return rows.flatMap(([k, coi, poi, cv, pv]) => [{ strike: k, type: 'CE' as const, expiry: 'E', oi: coi, volume: cv }, { strike: k, type: 'PE' as const, expiry: 'E', oi: poi, volume: pv }]);
}

describe('PCR', () => {
  it('overall and near-the-money PCR by OI and volume, ATM nearest the spot, bias thresholds', () => {
    const chain = legs([[25800, 100, 900, 10, 90], [25900, 200, 600, 20, 60], [26000, 300, 300, 30, 30], [26100, 600, 150, 60, 15], [26200, 900, 50, 90, 5]]);
    const r = computePcr('NIFTY', ['E'], chain, 26_040, 1, T, 1);
    expect(r.overall).toEqual({ pcrOi: 2000 / 2100, pcrVolume: 200 / 210, putOi: 2000, callOi: 2100, putVolume: 200, callVolume: 210 });
    expect([r.atmStrike, r.nearAtm!.strikeLow, r.nearAtm!.strikeHigh, r.nearAtm!.putOi, r.nearAtm!.callOi]).toEqual([26000, 25900, 26100, 1050, 1100]);
    expect(r.bias).toBe('neutral'); // 1050/1100 = 0.95
    expect(computePcr('NIFTY', ['E'], chain, 25_810, 1, T, 1).bias).toBe('strong bullish'); // (900+600)/(100+200) = 5
    expect(computePcr('NIFTY', ['E'], chain, 26_190, 0, T, 1).bias).toBe('strong bearish'); // 50/900
    expect(computePcr('NIFTY', ['E'], chain, null, 1, T, 1)).toMatchObject({ atmStrike: null, nearAtm: null, bias: 'neutral' });
    expect([classifyPcr(0.8), classifyPcr(0.81), classifyPcr(1.2), classifyPcr(1.5), classifyPcr(null)]).toEqual(['bearish', 'neutral', 'bullish', 'strong bullish', null]);
    expect(pcrThresholdsProblem({ strongBearish: 0.9, bearish: 0.8, bullish: 1.2, strongBullish: 1.5 })).toMatch(/must increase/);
    // the change is against the first reading of the IST day; a new IST day starts over
    const s = new PcrSession();
    const day = Date.UTC(2026, 11, 4, 4, 0);
    expect(s.report(computePcr('N', ['E'], legs([[1, 100, 100, 1, 1]]), null, 0, T, day)).changePcrOi).toBeNull();
    expect(s.report(computePcr('N', ['E'], legs([[1, 100, 130, 1, 1]]), null, 0, T, day + 60_000)).changePcrOi).toBeCloseTo(0.3, 12);
    expect(s.report(computePcr('N', ['E'], legs([[1, 100, 50, 1, 1]]), null, 0, T, Date.UTC(2026, 11, 4, 19, 0))).sessionOpenPcrOi).toBe(0.5); // 00:30 IST next day
  });

  it('chain selection: nearest expiry on or after today, or the listed ones; config validation', () => {
    const rows = [
      { name: 'NIFTY', type: 'CE', expiry: '2026-12-03', exchange: 'NFO' }, { name: 'NIFTY', type: 'PE', expiry: '2026-12-10', exchange: 'NFO' },
      { name: 'NIFTY', type: 'CE', expiry: '2026-12-10', exchange: 'NFO' }, { name: 'NIFTY', type: 'FUT', expiry: '2026-12-10', exchange: 'NFO' },
      { name: 'BANKNIFTY', type: 'CE', expiry: '2026-12-10', exchange: 'NFO' }, { name: 'NIFTY', type: 'CE', expiry: '2026-12-31', exchange: 'NFO' },
    ];
    expect(selectChain(rows, 'nifty', 'nearest', '2026-12-04')).toEqual({ expiries: ['2026-12-10'], legs: [rows[1], rows[2]] });
    expect(selectChain(rows, 'NIFTY', ['2026-12-31', '2026-12-03'], '2026-12-04').expiries).toEqual(['2026-12-03', '2026-12-31']);
    const bad = validateConfig({ feeds: [{ venue: 'kite', symbols: ['NSE:RELIANCE'], kite: { pcr: { underlying: 'NIFTY', spot: 'NIFTY 50', expiry: 'soon', thresholds: { bearish: 2 } } } }] });
    expect(bad.errors.map((e) => e.path)).toEqual(['feeds[0].kite.pcr.spot', 'feeds[0].kite.pcr.expiry', 'feeds[0].kite.pcr.thresholds']);
    expect(validateConfig({ feeds: [{ venue: 'kite', symbols: ['NSE:RELIANCE'], kite: { holidays: ['2026-12-25'], pcr: { underlying: 'NIFTY', spot: 'NSE:NIFTY 50', expiry: ['2026-12-10'], strikes: 3 } } }] }).errors).toEqual([]);
  });
});

describe('PCR through the loopback Kite Ticker', () => {
  it('subscribes the chain in full mode, reads OI and volume from full packets, reports PCR with its change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-kite-pcr-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const NIFTY = (1024 << 8) | 9; // index, segment 9
    const tok = (k: number, pe: boolean): number => ((((k / 100) * 2 + (pe ? 1 : 0)) << 8) | 2);
    const strikes = [25800, 25900, 26000, 26100, 26200];
    const csv = [KITE_CSV_HEADER, `${NIFTY},256,NIFTY 50,NIFTY 50,0,,0,0.05,1,EQ,INDICES,NSE`,
      ...strikes.flatMap((k) => [`${tok(k, false)},1,NIFTY26DEC${k}CE,NIFTY,0,2026-12-10,${k},0.05,75,CE,NFO-OPT,NFO`, `${tok(k, true)},1,NIFTY26DEC${k}PE,NIFTY,0,2026-12-10,${k},0.05,75,PE,NFO-OPT,NFO`]),
      `${tok(30000, false)},1,NIFTY26DEC30000CE,NIFTY,0,2026-12-31,30000,0.05,75,CE,NFO-OPT,NFO`].join('\n');
    writeFileSync(join(dir, 'i.csv'), csv);
    const old = { ...process.env };
    Object.assign(process.env, { KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't', KITE_INSTRUMENTS: join(dir, 'i.csv') });
    cleanup.push(() => { for (const k of ['KITE_API_KEY', 'KITE_ACCESS_TOKEN', 'KITE_INSTRUMENTS']) if (old[k] === undefined) delete process.env[k]; else process.env[k] = old[k]; });
    const now = Date.UTC(2026, 11, 4, 4, 0);
    let clock = now;
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    const frames: Array<[number, unknown]> = [];
    const r = feedRig([{ venue: 'kite', symbols: ['NSE:NIFTY 50'], wsUrl: v.wsBase, kite: { mode: 'quote', pcr: { underlying: 'NIFTY', spot: 'NSE:NIFTY 50', strikes: 1 } } }], (fn) => cleanup.push(fn), { now: () => clock, tap: (recv, _venue, f) => frames.push([recv, f]) });
    const feed = r.feeds.feeds[0]! as KiteFeed;
    await r.feeds.start();
    const sock = await v.connection(1);
    await waitFor(() => v.received.length >= 3, [v], 5000, 'subscribe + 2 modes');
    const chainTokens = strikes.flatMap((k) => [tok(k, false), tok(k, true)]);
    expect(v.received[0]).toEqual({ a: 'subscribe', v: [NIFTY, ...chainTokens] });
    expect(v.received.slice(1, 3)).toEqual([{ a: 'mode', v: ['quote', [NIFTY]] }, { a: 'mode', v: ['full', chainTokens] }]);
    const oi = (k: number, pe: boolean): number => (pe ? (26300 - k) * 10 : (k - 25700) * 10);
    const secs = now / 1000;
    const send = (spot: number, bump: number): void => {
      sock.send(Buffer.from(kiteMessage([
        indexPacket(NIFTY, { last: spot * 100, high: 0, low: 0, open: 0, close: 0, change: 0, exchangeTime: secs }),
        ...strikes.flatMap((k) => [tickPacket({ token: tok(k, false), last: 10_000, volume: 750, oi: oi(k, false), exchangeTime: secs }), tickPacket({ token: tok(k, true), last: 10_000, volume: 1500, oi: oi(k, true) + (bump && k === 26000 ? bump : 0), exchangeTime: secs })]),
      ])));
    };
    send(26_040, 0);
    await waitFor(() => feed.pcr() !== null, [feed], 5000, 'first PCR');
    const a = feed.pcr()!;
    expect([a.underlying, a.expiries, a.spot, a.atmStrike, a.legs, a.bias]).toEqual(['NIFTY', ['2026-12-10'], 26040, 26000, 10, 'neutral']);
    expect(a.overall).toEqual({ pcrOi: 1, pcrVolume: 2, putOi: 15000, callOi: 15000, putVolume: 7500, callVolume: 3750 });
    expect([a.nearAtm!.putOi, a.nearAtm!.callOi, a.changePcrOi]).toEqual([9000, 9000, null]);
    clock += 2000; // PCR is recomputed at most once a second
    send(26_040, 6000);
    await waitFor(() => feed.pcr()!.changePcrOi !== null, [feed], 5000, 'second PCR');
    const b = feed.pcr()!;
    expect(b.overall.pcrOi).toBeCloseTo(21000 / 15000, 12);
    expect(b.changePcrOi).toBeCloseTo(0.4, 12);
    expect([b.nearAtm!.pcrOi, b.bias]).toEqual([15000 / 9000, 'strong bullish']);
    expect(r.registry.get('KITE:NFO:NIFTY26DEC26000PE').lotStep).toBe('75');
    // the recorded frames (the chain is in the instruments frame) replayed through the parser give the same PCR
    const ctx = new FeedContext(new InstrumentRegistry());
    for (const [recv, f] of frames) parseKiteFrame(f, recv, ctx, () => {});
    expect(kiteState(ctx).pcr!.last).toEqual(b);
    // the Telegram alert of the bias change
    const alert = pcrAlert(b, a.bias)!;
    expect(pcrAlert(b, b.bias)).toBeNull();
    expect(formatAlert(alert).split('\n')).toEqual([
      '🟢 <b>PCR BIAS · STRONG BULLISH</b> <code>NIFTY</code> (was neutral)',
      'Expiry 2026-12-10 · spot <code>26040</code> · ATM <code>26000</code>',
      'PCR OI <b>1.4</b> · near ATM <b>1.67</b> · volume <b>2</b> · session change <b>+0.4</b>',
      '• bias from the near-the-money PCR by OI (ATM ± 1 strikes, 25900–26100)',
      '• thresholds: ≤ 0.5 strong bearish, ≤ 0.8 bearish, ≥ 1.2 bullish, ≥ 1.5 strong bullish',
      '• 10 options of 2026-12-10; put OI 21000, call OI 15000',
      '🕒 2026-12-04 04:00:00 UTC',
    ]);
  });
});
