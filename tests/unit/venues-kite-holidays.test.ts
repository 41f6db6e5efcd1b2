/**
 * NSE/BSE holidays from the config (feeds[].kite.holidays) close the session calendar: on a holiday no
 * session opens, so trades that day build no session bars (session key ''), no session VWAP and no session
 * profile; the calendar, /api/v1/instruments and the UDF symbol info say so. The holidays travel in the
 * recording's instruments frame, so a replay has the same calendar; the live feed puts them there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionCalendar, sessionSpecProblems } from '../../engine/src/core/sessions.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { FeedContext } from '../../engine/src/replay/context.js';
import { parseKiteFrame } from '../../engine/src/venues/kite/parse.js';
import { NSE_SESSION, parseInstrumentsCsv } from '../../engine/src/venues/kite/instruments.js';
import { HistoryService } from '../../datafeed-adapter/src/service/history.js';
import { symbolInfo } from '../../datafeed-adapter/src/service/symbols.js';
import { validateConfig } from '../../engine/src/config/index.js';
import { feedRig } from '../helpers/feed-rig.js';
import { FakeVenue, waitFor } from '../../engine/src/feeds/testing.js';
import { BadRow } from '../../engine/src/replay/types.js';
import { KITE_CSV_HEADER, kiteMessage, tickPacket } from '../helpers/kite.js';

const TOKEN = 738561;
const CSV = `${KITE_CSV_HEADER}\n${TOKEN},2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE\n`;
const ID = 'KITE:NSE:RELIANCE';
const HOLIDAY = '2026-12-25'; // a Friday (Christmas, an NSE trading holiday)
const Z = (iso: string): number => Date.parse(iso);
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

describe('session calendar with holidays', () => {
  it('a holiday opens no session; the next session is the next weekday that is not a holiday', () => {
    const cal = new SessionCalendar({ ...NSE_SESSION, days: [...NSE_SESSION.days], holidays: [HOLIDAY, '2026-12-28'] });
    const plain = new SessionCalendar({ ...NSE_SESSION, days: [...NSE_SESSION.days] });
    const noonIst = Z('2026-12-25T06:30:00Z'); // 12:00 IST on the holiday
    expect(plain.sessionAt(noonIst)?.key).toBe(HOLIDAY);
    expect(cal.sessionAt(noonIst)).toBeNull();
    expect([cal.tradesOn(2026, 12, 25), cal.tradesOn(2026, 12, 24), plain.tradesOn(2026, 12, 25)]).toEqual([false, true, true]);
    // Friday and the following Monday are holidays: the next session opens Tuesday 09:15 IST
    const next = cal.sessionFrom(noonIst);
    expect([next.key, new Date(next.start).toISOString()]).toEqual(['2026-12-29', '2026-12-29T03:45:00.000Z']);
    expect(cal.sessionAt(Z('2026-12-24T09:59:59Z'))?.key).toBe('2026-12-24'); // 15:29:59 IST the day before
    expect(cal.sessionAt(Z('2026-12-24T10:00:00Z'))).toBeNull(); // 15:30 IST: closed
    expect(sessionSpecProblems({ ...NSE_SESSION, days: [1], holidays: ['2026-02-30'] })).toEqual([['holidays', 'holidays must be a list of dates YYYY-MM-DD']]);
    expect(validateConfig({ feeds: [{ venue: 'kite', symbols: ['NSE:RELIANCE'], kite: { holidays: ['25-12-2026'] } }] }).errors.map((e) => e.path)).toEqual(['feeds[0].kite.holidays[0]']);
  });
});

describe('Kite instruments frame with holidays → pipeline', () => {
  it('trades on a holiday make no session bar, VWAP or profile; the day before and after do', () => {
    const registry = new InstrumentRegistry();
    const engine = new Engine(registry, { timeframe: '1m' });
    const ctx = new FeedContext(registry);
    const sink = (e: Parameters<typeof engine.onEvent>[0]): void => engine.onEvent(e);
    // the frame the live feed writes first to its recording (feed.ts prepare)
    parseKiteFrame({ kite: 'instruments', rows: parseInstrumentsCsv(CSV).instruments, holidays: [HOLIDAY] }, 0, ctx, sink);
    expect(() => parseKiteFrame({ kite: 'instruments', rows: [], holidays: ['soon'] }, 0, ctx, sink)).toThrow(BadRow);
    const inst = registry.get(ID);
    expect(inst.session.holidays).toEqual([HOLIDAY]);
    let vol = 1000;
    const day = (d: string, k: number): void => {
      const t0 = Z(`${d}T04:00:00Z`) / 1000; // 09:30 IST
      for (let i = 0; i < k; i++) {
        vol += 10;
        const last = 282_500 + 5 * (i % 3);
        parseKiteFrame(kiteMessage([tickPacket({ token: TOKEN, last, volume: vol, exchangeTime: t0 + 60 * i, bids: [[100, 282_495, 3]], asks: [[100, 282_510, 2]] })]), (t0 + 60 * i) * 1000, ctx, sink);
      }
    };
    day('2026-12-24', 4);
    day(HOLIDAY, 4);
    engine.finish();
    const p = engine.pipelines.get(ID)!;
    const keys = p.bars.map((b) => b.bar.sessionKey);
    expect(keys).toEqual(['2026-12-24', '2026-12-24', '2026-12-24', '', '', '', '']);
    expect(p.profiles.sessions.map((s) => s.key)).toEqual(['2026-12-24']);
    expect(p.sessionVwapState().session).toBe('2026-12-24'); // the holiday's trades never reset or feed the session VWAP
    // the API and the UDF symbol info state the holiday
    const service = new HistoryService(engine);
    expect(service.instrumentStats(ID)).toMatchObject({ session: '0915-1530:23456', timezone: 'Asia/Kolkata', holidays: [HOLIDAY] });
    expect(symbolInfo(inst).session_holidays).toBe('20261225');
  });

  it('the live feed registers its instruments with the config holidays (and records them)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-kite-hol-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'i.csv'), CSV);
    const old = { ...process.env };
    Object.assign(process.env, { KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't', KITE_INSTRUMENTS: join(dir, 'i.csv') });
    cleanup.push(() => { for (const k of ['KITE_API_KEY', 'KITE_ACCESS_TOKEN', 'KITE_INSTRUMENTS']) if (old[k] === undefined) delete process.env[k]; else process.env[k] = old[k]; });
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    const frames: unknown[] = [];
    const r = feedRig([{ venue: 'kite', symbols: ['NSE:RELIANCE'], wsUrl: v.wsBase, kite: { holidays: ['2026-12-25', '2026-03-03'] } }], (fn) => cleanup.push(fn), { tap: (_recv, _venue, frame) => frames.push(frame) });
    await r.feeds.start();
    await v.connection(1);
    await waitFor(() => v.received.length >= 2, [v], 5000, 'subscribe and mode');
    expect(r.registry.get(ID).session.holidays).toEqual(['2026-03-03', '2026-12-25']);
    expect(frames[0]).toMatchObject({ kite: 'instruments', holidays: ['2026-12-25', '2026-03-03'] });
  });
});
