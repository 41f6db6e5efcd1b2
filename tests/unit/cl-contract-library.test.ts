/**
 * Charting Library contract (items 2, 4, 6 of issue 15): the call patterns the real library v29.2 made
 * against TapeFlow (observed with scripts/cl-check.mjs), replayed here without the library. A real
 * server from the composition root (startApp) serves a replay of a recorded-format CSV; the browser
 * datafeed (TapeFlowDatafeed wrapped with the derived tickers) talks to it over HTTP and WebSocket.
 *
 * Observed patterns: the first request of every study asks countBack 1,220,930 with `to` = the browser's
 * now; marks are asked with to = 2114380800 (2037); getQuotes([]) from an empty watchlist; 1T/1S/15S
 * resolutions; switches 1 → 5 → 15 → 60 → 1D; scroll-back with `to` = the earliest bar shown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { feedEvents, loadReplayEvents } from '../../datafeed-adapter/src/service/serve-replay.js';
import { TapeFlowDatafeed } from '../../datafeed-adapter/src/client/datafeed.js';
import type { Bar, HistoryMetadata, LibrarySymbolInfo, Mark, QuoteData, ResolutionString } from '../../datafeed-adapter/src/client/types.js';
import type { WebSocketCtor } from '../../datafeed-adapter/src/client/stream.js';
import { withDerivedTickers, DERIVED_KINDS } from '../../indicators/charting-library/derived.js';
import { rng } from '../helpers/tape.js';
import { sleep } from '../browser/stream-support.js';
import type { SignalEvent } from '../../engine/src/signals/types.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 7, 6, 0, 0);
const END = T0 + 3 * DAY; // three sessions of data
const BROWSER_NOW_S = Date.UTC(2026, 11, 4, 22, 0) / 1000;
const LIB_COUNTBACK = 1_220_930;
const MARKS_TO_S = 2_114_380_800;

let app: StartedApp;
/** [ts ms, qty] of every trade in the dense last hour */
const lastHour: [number, number][] = [];
let requests: string[] = [];
let df: TapeFlowDatafeed;
const dir = mkdtempSync(join(tmpdir(), 'tapeflow-cl-contract-'));

beforeAll(async () => {
  // a recorded tape in the generic CSV format: a trade every ~20 s for three days, dense in the last hour
  const r = rng(15);
  const lines = ['time,price,qty,side'];
  let p = 60000;
  for (let ts = T0; ts < END;) {
    p = Math.round((p + (r() - 0.5) * 8) * 10) / 10;
    const q = 0.001 * (1 + Math.floor(r() * 900));
    lines.push(`${ts},${p.toFixed(1)},${q.toFixed(3)},${r() < 0.5 ? 'buy' : 'sell'}`);
    if (ts >= END - 3_600_000) lastHour.push([ts, q]);
    ts += END - ts < 3_600_000 ? 40 + Math.floor(r() * 120) : 10_000 + Math.floor(r() * 20_000);
  }
  writeFileSync(join(dir, 'tape.csv'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'cfg.yaml'), 'feeds: []\n');
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: null });
  const { events } = await loadReplayEvents([join(dir, 'tape.csv')], app.engine.registry, { instrument: 'BTCUSDT' });
  await feedEvents(events, app.engine.onEvent, 'max').done;
  const counting: typeof fetch = (u, init) => { requests.push(String(u)); return fetch(u, init); };
  df = withDerivedTickers(new TapeFlowDatafeed({ baseUrl: app.server.url, fetch: counting, WebSocket: WebSocket as unknown as WebSocketCtor }), { apiBase: app.server.url, fetch: counting });
}, 60_000);

afterAll(async () => { df?.destroy(); await app?.close(); });

const R = (r: string) => r as ResolutionString;
const resolve = (name: string) => new Promise<LibrarySymbolInfo>((ok, bad) => df.resolveSymbol(name, ok, bad));
const getBars = (info: LibrarySymbolInfo, res: string, from: number, to: number, countBack: number, first: boolean) =>
  new Promise<{ bars: Bar[]; meta?: HistoryMetadata }>((ok, bad) => df.getBars(info, R(res), { from, to, countBack, firstDataRequest: first }, (bars, meta) => ok({ bars, meta }), bad));
const ascending = (bars: Bar[]) => bars.every((b, i) => i === 0 || b.time > bars[i - 1].time);

describe('CL contract: what the library asks on first load and on resolution switches', () => {
  it('main series and every derived ticker answer countBack 1,220,930 with to = the browser now at 1/5/15/60/1D', async () => {
    for (const res of ['1', '5', '15', '60', '1D']) {
      const main = await getBars(await resolve('BTCUSDT'), res, T0 / 1000, BROWSER_NOW_S, LIB_COUNTBACK, true);
      expect(main.bars.length, res).toBeGreaterThan(res === '1D' ? 2 : 20);
      expect(ascending(main.bars)).toBe(true);
      const times = new Set(main.bars.map((b) => b.time));
      for (const k of DERIVED_KINDS) {
        const d = await getBars(await resolve(`BTCUSDT#${k}`), res, T0 / 1000, BROWSER_NOW_S, LIB_COUNTBACK, true);
        expect(d.bars.length, `${k} at ${res}`).toBeGreaterThan(0);
        expect(ascending(d.bars), `${k} at ${res}`).toBe(true);
        // every derived bar sits on a main-series bar (the studies align them with adopt)
        expect(d.bars.filter((b) => !times.has(b.time)).map((b) => b.time), `${k} at ${res}`).toEqual([]);
        for (const b of d.bars) for (const v of [b.open, b.high, b.low, b.close]) expect(Number.isFinite(v)).toBe(true);
      }
    }
  });

  it('CVD candles carry the cumulative delta of the tape (open of a bar = close of the one before)', async () => {
    const d = (await getBars(await resolve('BTCUSDT#CVD'), '60', T0 / 1000, BROWSER_NOW_S, 300, true)).bars;
    // (the CVD restarts at 0 with each session: cvdReset 'session')
    for (let i = 1; i < d.length; i++) if (d[i].time % DAY !== 0) expect(d[i].open).toBeCloseTo(d[i - 1].close, 6); else expect(d[i].open).toBe(0);
    expect(d.some((b) => b.close > b.open) && d.some((b) => b.close < b.open)).toBe(true); // both colours occur
  });

  it('scroll-back: to = the earliest bar shown returns strictly older bars until noData', async () => {
    const info = await resolve('BTCUSDT');
    let { bars } = await getBars(info, '5', T0 / 1000, BROWSER_NOW_S, 300, true);
    const seen = new Set(bars.map((b) => b.time));
    let to = bars[0].time / 1000, rounds = 0, ended = false;
    while (rounds++ < 20) {
      const r = await getBars(info, '5', to - 300 * 300, to, 300, false);
      if (r.bars.length === 0) { expect(r.meta?.noData).toBe(true); ended = true; break; }
      expect(ascending(r.bars)).toBe(true);
      expect(r.bars[r.bars.length - 1].time).toBeLessThan(to * 1000);
      for (const b of r.bars) { expect(seen.has(b.time)).toBe(false); seen.add(b.time); }
      to = r.bars[0].time / 1000;
      // the derived tickers scroll back the same way
      const d = await getBars(await resolve('BTCUSDT#DELTA'), '5', to - 300 * 300, r.bars[r.bars.length - 1].time / 1000 + 1, 300, false);
      expect(d.bars.length).toBeGreaterThan(0);
    }
    expect(ended).toBe(true);
    expect(Math.min(...seen)).toBe(Math.floor(T0 / 300_000) * 300_000);
  });

  it('tick and seconds intervals: offered in config and symbol info, served by getBars (1T one bar per second)', async () => {
    const cfg = await new Promise<Record<string, unknown>>((ok) => df.onReady((c) => ok(c as Record<string, unknown>)));
    expect(cfg.supported_resolutions).toEqual(expect.arrayContaining(['1T', '1S', '15S']));
    // the library rejects N-tick resolutions of a datafeed symbol as a misconfiguration: not announced
    expect(cfg.supported_resolutions).not.toContain('100T');
    const info = await resolve('BTCUSDT');
    expect(info).toMatchObject({ has_ticks: true, has_seconds: true });
    expect(info.seconds_multipliers).toEqual(expect.arrayContaining(['1']));
    for (const res of ['1T', '100T', '1S', '15S']) {
      const r = await getBars(info, res, (END - 600_000) / 1000, BROWSER_NOW_S, 300, true);
      expect(r.bars.length, res).toBeGreaterThan(10);
      expect(ascending(r.bars), res).toBe(true);
      const d = await getBars(await resolve('BTCUSDT#CVD'), res, (END - 600_000) / 1000, BROWSER_NOW_S, 300, true);
      const times = new Set(r.bars.map((b) => b.time));
      expect(d.bars.length, res).toBeGreaterThan(0);
      // (a derived bar before the main series' first bar is never read: adopt maps onto the main bars)
      expect(d.bars.filter((b) => b.time >= r.bars[0].time && !times.has(b.time)).map((b) => b.time), res).toEqual([]);
    }
  });

  it('/history at 1T is complete: a page cut at the bar cap says so and the next pages (to = first second shown) hold the rest', async () => {
    expect(lastHour.length).toBeGreaterThan(20_000); // more trades than one answer holds
    const from = (END - 3_600_000) / 1000;
    let to = END / 1000 + 1, pages = 0, cut = 0;
    const seconds = new Map<number, number>();
    while (pages++ < 10) {
      const res = await fetch(`${app.server.url}/history?symbol=BTCUSDT&resolution=1T&from=${from}&to=${to}`);
      const h = await res.json() as { s: string; t: number[]; v: number[] };
      if (h.s !== 'ok') break;
      if (res.headers.get('x-tapeflow-limits')) cut++;
      h.t.forEach((t, k) => { expect(seconds.has(t)).toBe(false); seconds.set(t, h.v[k]); });
      to = h.t[0];
    }
    expect(cut).toBeGreaterThan(0);
    const want = new Map<number, number>();
    for (const [ts, q] of lastHour) want.set(Math.floor(ts / 1000), (want.get(Math.floor(ts / 1000)) ?? 0) + q);
    expect([...seconds.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [t, v] of want) expect(seconds.get(t)).toBeCloseTo(v, 6);
  });

  it('seconds footprint bars are closed once later trades exist', async () => {
    const fp = await (await fetch(`${app.server.url}/api/v1/footprint?symbol=BTCUSDT&resolution=15S&from=${END - 3_600_000}&to=${END}&rows=false`)).json() as { bars: { closed: boolean; end: number }[] };
    expect(fp.bars.length).toBeGreaterThan(100);
    expect(fp.bars.slice(0, -1).every((b) => b.closed)).toBe(true);
  });
});

describe('CL contract: UDF requests as the library and its UDF client send them', () => {
  it('/history with countback 1,220,930, to in 2037 and a cache-buster answers bars, not 400', async () => {
    const res = await fetch(`${app.server.url}/history?symbol=BTCUSDT&resolution=1&from=0&to=${MARKS_TO_S}&countback=${LIB_COUNTBACK}&_=1`);
    expect(res.status).toBe(200);
    const h = await res.json() as { s: string; t: number[] };
    expect(h.s).toBe('ok');
    expect(h.t[h.t.length - 1]).toBe(Math.floor(app.engine.pipelines.get('BTCUSDT')!.lastTs / 60_000) * 60);
    for (const path of ['/api/v1/footprint', '/api/v1/delta']) {
      const r = await fetch(`${app.server.url}${path}?symbol=BTCUSDT&resolution=1&from=${T0}&to=${MARKS_TO_S * 1000}&countback=${LIB_COUNTBACK}&rows=false`.replace('&rows=false', path.endsWith('footprint') ? '&rows=false' : ''));
      expect(r.status, path).toBe(200);
    }
  });

  it('the built-in volume profile is asked for bars no coarser than 1S up to 6 h and 1m up to 10 days', async () => {
    const info = await resolve('BTCUSDT');
    await new Promise((ok) => df.onReady(ok));
    const at = (span: number) => df.getVolumeProfileResolutionForPeriod!(R('60'), END / 1000 - span, END / 1000, info);
    expect([at(3600), at(2 * 86_400), at(30 * 86_400)]).toEqual(['1S', '1', '60']);
  });

  it('the CVD study declares every candle field the renderer reads and an up/down colourer', async () => {
    const { METAINFO, validateMetainfo } = await import('../../indicators/charting-library/studies.js');
    const cvd = METAINFO.cvd;
    expect(validateMetainfo(cvd)).toEqual([]);
    expect(cvd.defaults.ohlcPlots!.cvd).toMatchObject({ plottype: 'ohlc_candles', borderColor: expect.any(String), wickColor: expect.any(String), color: expect.any(String) });
    const col = cvd.plots.find((p) => p.type === 'ohlc_colorer');
    expect(col).toMatchObject({ target: 'cvd', palette: 'dir' });
    expect(Object.keys(cvd.defaults.palettes!.dir.colors)).toEqual(['0', '1']);
  });
});

describe('CL contract: marks, quotes, symbols', () => {
  it('marks through the wrapped datafeed with to = 2037: at most one per bar and side, with a count badge', async () => {
    // after the tape (the signal engine found its own signals inside it): only ours are in this window
    const base = END + 600_000;
    const sig = (k: number, side: 'buy' | 'sell', ts: number): SignalEvent => ({ id: `BTCUSDT:absorption:${k}`, kind: 'absorption', variant: 'level', instrument: 'BTCUSDT', side, priceLow: 600000, priceHigh: 600000, strength: 50, firstSeenAt: ts, confirmedAt: ts, evidence: {}, reasoning: [`signal ${k}`] });
    for (let k = 0; k < 12; k++) app.signals.signals.push(sig(k, k < 10 ? 'buy' : 'sell', base + 1000 + k));
    app.signals.signals.push(sig(99, 'buy', base + 120_000));
    const symbols: Record<string, LibrarySymbolInfo> = { BTCUSDT: await resolve('BTCUSDT'), 'BTCUSDT#SIG': await resolve('BTCUSDT#SIG') };
    for (const name of ['BTCUSDT', 'BTCUSDT#SIG']) {
      const marks = await new Promise<Mark[]>((ok) => df.getMarks!(symbols[name], (base - 60_000) / 1000, MARKS_TO_S, ok, R('1')));
      expect(marks.map((m) => [m.time, m.color, m.label]), name).toEqual([
        [Math.floor(base / 60_000) * 60, 'green', '9+'], [Math.floor(base / 60_000) * 60, 'red', '2'], [Math.floor((base + 120_000) / 60_000) * 60, 'green', 'A'],
      ]);
    }
    // the Signals study counts them into its bars (a trade in that minute gives it a bar)
    const last = app.engine.pipelines.get('BTCUSDT')!.lastTs;
    app.engine.onEvent({ type: 'trade', instrument: 'BTCUSDT', ts: Math.max(last + 1, base + 5), id: 9_000_001, price: 600000, size: 5, side: 'buy', sideSource: 'flag' });
    const sigBars = (await getBars(await resolve('BTCUSDT#SIG'), '1', (base - 600_000) / 1000, BROWSER_NOW_S, LIB_COUNTBACK, true)).bars;
    expect(sigBars.find((b) => b.time === Math.floor(base / 60_000) * 60_000)).toMatchObject({ open: 10, close: 2 });
  });

  it('getQuotes([]) answers [] without a request; quotes have consistent ch/chp and no null prices', async () => {
    const before = requests.length;
    const empty = await new Promise<QuoteData[]>((ok, bad) => df.getQuotes([], ok, bad));
    expect(empty).toEqual([]);
    expect(requests.length).toBe(before);
    const q = await new Promise<QuoteData[]>((ok, bad) => df.getQuotes(['BTCUSDT', 'ETHUSDT'], ok, bad));
    const btc = q[0].v as Record<string, number>;
    expect(q[0].s).toBe('ok');
    expect(btc.ch).toBeCloseTo(btc.lp - btc.prev_close_price, 6);
    expect(btc.chp).toBeCloseTo(((btc.lp - btc.prev_close_price) / btc.prev_close_price) * 100, 3);
    expect(btc.ch).not.toBe(0);
    for (const x of q) for (const [k, v] of Object.entries(x.v)) expect(v, `${x.n}.${k}`).not.toBeNull();
    expect('lp' in q[1].v).toBe(false); // ETHUSDT has no trades: no price, not a null one
  });

  it('resolves venue:SYMBOL like the library sends it', async () => {
    const info = await resolve('binance-usdm:BTCUSDT');
    expect(info.ticker).toBe('BTCUSDT');
    const udf = await (await fetch(`${app.server.url}/symbols?symbol=${encodeURIComponent('binance-usdm:BTCUSDT')}`)).json() as { ticker: string };
    expect(udf.ticker).toBe('BTCUSDT');
  });
});

describe('CL contract: realtime at every resolution, derived studies included', () => {
  it('15S: the main series, CVD, Bar Delta and Signals tick from the stream (built from trades where the engine streams 1m)', async () => {
    const info = await resolve('BTCUSDT');
    const got: Record<string, Bar[]> = {};
    for (const name of ['BTCUSDT', 'BTCUSDT#CVD', 'BTCUSDT#DELTA', 'BTCUSDT#SIG']) {
      const i = name === 'BTCUSDT' ? info : await resolve(name);
      await getBars(i, '15S', (END - 600_000) / 1000, BROWSER_NOW_S, 300, true);
      got[name] = [];
      df.subscribeBars(i, R('15S'), (b) => got[name].push(b), `g-${name}`, () => {});
    }
    await sleep(400);
    const last = app.engine.pipelines.get('BTCUSDT')!.lastTs;
    let p = 60000;
    for (let k = 1; k <= 40; k++) {
      const t = { type: 'trade', instrument: 'BTCUSDT', ts: last + k * 1000, id: 10_000_000 + k, price: (p += 1) * 10, size: 5, side: k % 3 ? 'buy' : 'sell', sideSource: 'flag' } as const;
      app.engine.onEvent({ ...t });
      if (k === 20) app.stream.publish('signal', 'BTCUSDT', { kind: 'sweep', side: 'sell', confirmedAt: t.ts, instrument: 'BTCUSDT' });
      await sleep(15);
    }
    await sleep(500);
    for (const n of Object.keys(got)) {
      expect(got[n].length, n).toBeGreaterThan(0);
      expect(got[n].every((b) => b.time % 15_000 === 0), n).toBe(true);
    }
    expect(got['BTCUSDT#SIG'].some((b) => b.close === 1)).toBe(true);
    const cvd = got['BTCUSDT#CVD'];
    expect(cvd[cvd.length - 1].close).not.toBe(cvd[0].open);
    for (const n of Object.keys(got)) df.unsubscribeBars(`g-${n}`);
  });
});
