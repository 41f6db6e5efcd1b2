/**
 * charting-hosts.md §6 items 1–20, server side: each item as its own test against the real UDF
 * server on an ephemeral port, fed a deterministic generated tape. Items about the browser datafeed
 * object (callbacks, subscribe) are checked through the UDF data they are built from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { newTrade, type Trade } from '../../engine/src/core/events.js';
import { Store } from '../../engine/src/store/store.js';
import { recordEngine } from '../../engine/src/store/recorder.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { parseResolution } from '../../datafeed-adapter/src/service/resolution.js';
import { rng } from '../helpers/tape.js';

const DAY = 86_400_000;
/** Thu 2024-08-08 00:00 UTC */
const T0 = Date.UTC(2024, 7, 8);

/** Deterministic BTCUSDT tape over 5 days (a trade every 2–8 s) and NAS100 in its NY sessions Thu–Mon (weekend gap). */
function tape(): Trade[] {
  const r = rng(42);
  const out: Trade[] = [];
  let id = 0;
  let p = 600_000;
  for (let ts = T0; ts < T0 + 5 * DAY; ts += 2000 + Math.floor(r() * 6000)) {
    p += Math.floor(r() * 5) - 2;
    const t = newTrade('BTCUSDT');
    t.ts = ts; t.id = ++id; t.price = p; t.size = 1 + Math.floor(r() * 300); t.side = r() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag';
    out.push(t);
  }
  // NAS100: 2024-08-08 (Thu), 08-09 (Fri), 08-12 (Mon) 13:30–20:00 UTC (EDT)
  let q = 190_000;
  for (const day of [0, 1, 4]) {
    const s = T0 + day * DAY + 13.5 * 3_600_000;
    for (let ts = s; ts < s + 6.5 * 3_600_000; ts += 5000 + Math.floor(r() * 10_000)) {
      q += Math.floor(r() * 7) - 3;
      const t = newTrade('NAS100');
      t.ts = ts; t.id = 0; t.price = q; t.size = 100 * (1 + Math.floor(r() * 5)); t.side = r() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag';
      out.push(t);
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

let srv: DatafeedServer;
let engine: Engine;
let store: Store;
const END = T0 + 5 * DAY;
const S = (ms: number): number => Math.floor(ms / 1000);

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const r = await fetch(srv.url + path, { headers });
  const text = await r.text();
  let body: unknown = undefined;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body, text, headers: r.headers };
}

beforeAll(async () => {
  const reg = new InstrumentRegistry();
  engine = new Engine(reg, { timeframe: '1m' });
  store = Store.open({ path: ':memory:', flushIntervalMs: 0 });
  recordEngine(engine, store);
  srv = await createServer({ engine, store, port: 0, cors: ['*'], staticDir: false });
  for (const t of tape()) engine.onEvent(t);
  await store.flush();
});

afterAll(async () => { await srv.close(); store.close(); });

describe('charting-hosts §6 checklist (UDF server)', () => {
  it('1: /config resolutions follow the §1.12 grammar; supports_* only for served endpoints', async () => {
    const { body } = await get('/config');
    expect(body.supported_resolutions.length).toBeGreaterThan(5);
    for (const r of body.supported_resolutions) {
      expect(r).toMatch(/^(\d+[TS]?|\d*[DWM])$/);
      expect(typeof parseResolution(r)).toBe('object');
    }
    expect(body.supports_search !== body.supports_group_request).toBe(true);
    expect(body.supports_marks).toBe(true);
    expect((await get(`/marks?symbol=BTCUSDT&from=${S(T0)}&to=${S(END)}&resolution=1`)).status).toBe(200);
    expect(body.supports_timescale_marks).toBe(true);
    expect((await get(`/timescale_marks?symbol=BTCUSDT&from=${S(T0)}&to=${S(END)}&resolution=1`)).status).toBe(200);
    expect(body.supports_time).toBe(true);
    expect((await get('/time')).status).toBe(200);
  });

  it('2: /search answers [] on no match, treats empty exchange/type as no filter, items carry symbol/description/exchange/type/ticker', async () => {
    expect((await get('/search?query=ZZZNOPE&type=&exchange=&limit=30')).body).toEqual([]);
    const all = (await get('/search?query=BTC&type=&exchange=&limit=30')).body;
    expect(all.length).toBeGreaterThan(3);
    const venues = new Set(all.map((x: any) => x.exchange));
    expect(venues.size).toBeGreaterThan(1);
    for (const x of all) for (const k of ['symbol', 'description', 'exchange', 'type', 'ticker']) expect(typeof x[k]).toBe('string');
    const f = (await get('/search?query=BTC&type=crypto&exchange=coinbase&limit=30')).body;
    expect(f.map((x: any) => x.symbol)).toEqual(['COINBASE:BTC-USD']);
    expect(all.some((x: any) => 'full_name' in x)).toBe(false);
  });

  it('3: /symbols accepts the name and the ticker; unknown symbols answer unknown_symbol', async () => {
    const a = (await get('/symbols?symbol=BTCUSDT')).body;
    const b = (await get(`/symbols?symbol=${encodeURIComponent(a.ticker)}`)).body;
    expect(b).toEqual(a);
    const c = (await get('/symbols?symbol=BTC-USD')).body; // venue symbol → primary instrument
    expect(c.ticker).toBe('COINBASE:BTC-USD');
    const u = await get('/symbols?symbol=NOPE');
    expect(u.status).toBe(404);
    expect(u.body.s).toBe('error');
    expect(u.body.errmsg).toBe('unknown_symbol');
  });

  it('4: symbol info has every required field; pricescale = 10^n and minmov/pricescale = tick size', async () => {
    const reg = new InstrumentRegistry();
    for (const id of ['BTCUSDT', 'NAS100', 'EURUSD', 'USDJPY', 'DJ30', 'COINBASE:BTC-USD']) {
      const s = (await get(`/symbols?symbol=${encodeURIComponent(id)}`)).body;
      for (const k of ['name', 'ticker', 'description', 'type', 'session', 'timezone', 'exchange', 'listed_exchange', 'format', 'pricescale', 'minmov']) expect(s[k], k).toBeDefined();
      expect(Math.log10(s.pricescale) % 1).toBe(0);
      expect(s.minmov / s.pricescale).toBeCloseTo(Number(reg.get(id).tickSize), 12);
    }
    const es = (await get('/symbols?symbol=BTCUSDT')).body;
    expect([es.pricescale, es.minmov]).toEqual([100, 10]);
    const nas = (await get('/symbols?symbol=NAS100')).body;
    expect([nas.session, nas.timezone]).toEqual(['0930-1600:23456', 'America/New_York']);
    expect((await get('/symbols?symbol=BTCUSDT')).body.session).toBe('24x7');
  });

  it('5: has_intraday with ascending served multipliers; seconds and ticks flags', async () => {
    const s = (await get('/symbols?symbol=BTCUSDT')).body;
    expect(s.has_intraday).toBe(true);
    const m = s.intraday_multipliers.map(Number);
    expect([...m].sort((a: number, b: number) => a - b)).toEqual(m);
    for (const r of [...s.intraday_multipliers, ...s.seconds_multipliers.map((x: string) => `${x}S`), '1T', '100T']) {
      const h = await get(`/history?symbol=BTCUSDT&resolution=${r}&from=${S(T0 + DAY)}&to=${S(T0 + DAY + 3_600_000)}&countback=2`);
      expect(h.body.s, r).toBe('ok');
    }
    expect(s.has_seconds).toBe(true);
    for (const x of s.seconds_multipliers) expect(x).toMatch(/^\d+$/);
    expect(s.has_ticks).toBe(true);
  });

  it('6: visible_plots_set instead of has_no_volume, no holidays, no full_name', async () => {
    const s = (await get('/symbols?symbol=BTCUSDT')).body;
    expect(s.visible_plots_set).toBe('ohlcv');
    for (const k of ['has_no_volume', 'holidays', 'full_name']) expect(k in s).toBe(false);
  });

  it('7: every /history request gets exactly one well-formed answer', async () => {
    const reqs = [
      `/history?symbol=BTCUSDT&resolution=1&from=${S(T0)}&to=${S(T0 + 3_600_000)}`,
      `/history?symbol=BTCUSDT&resolution=1&from=${S(T0 - 10 * DAY)}&to=${S(T0 - 9 * DAY)}`,
      `/history?symbol=NOPE&resolution=1&from=${S(T0)}&to=${S(T0 + 3_600_000)}`,
      `/history?symbol=BTCUSDT&resolution=7X&from=${S(T0)}&to=${S(T0 + 3_600_000)}`,
    ];
    const answers = await Promise.all(reqs.map((q) => get(q)));
    expect(answers.map((a) => a.body.s)).toEqual(['ok', 'no_data', 'error', 'error']);
  });

  it('8: bars strictly ascending with unique second-multiple times; D/W/M at 00:00 UTC', async () => {
    for (const r of ['1S', '1', '5', '60', '1D', '1W', '1M', '100T', '1T']) {
      const h = (await get(`/history?symbol=BTCUSDT&resolution=${r}&from=${S(T0)}&to=${S(END)}&countback=50`)).body;
      expect(h.s, r).toBe('ok');
      for (let k = 1; k < h.t.length; k++) expect(h.t[k], r).toBeGreaterThan(h.t[k - 1]);
      for (const t of h.t) expect(Number.isInteger(t) && t * 1000 > 1e12).toBe(true);
      if (/[DWM]$/.test(r)) for (const t of h.t) expect(t % 86400, r).toBe(0);
    }
    const d = (await get(`/history?symbol=NAS100&resolution=1D&from=${S(T0 - 3 * DAY)}&to=${S(END)}`)).body;
    expect(d.t.map((t: number) => new Date(t * 1000).toISOString().slice(0, 10))).toEqual(['2024-08-08', '2024-08-09', '2024-08-12']);
    const w = (await get(`/history?symbol=NAS100&resolution=1W&from=${S(T0 - 7 * DAY)}&to=${S(END)}`)).body;
    expect(w.t.map((t: number) => new Date(t * 1000).toISOString().slice(0, 10))).toEqual(['2024-08-05', '2024-08-12']);
    const m = (await get(`/history?symbol=BTCUSDT&resolution=1M&from=${S(T0 - 40 * DAY)}&to=${S(END)}`)).body;
    expect(m.t.map((t: number) => new Date(t * 1000).toISOString().slice(0, 10))).toEqual(['2024-08-01']);
  });

  it('9: bars in [from, to), or countback bars before to; never the bar at to', async () => {
    const from = S(T0 + DAY), to = S(T0 + DAY + 30 * 60_000);
    const a = (await get(`/history?symbol=BTCUSDT&resolution=1&from=${from}&to=${to}&countback=10`)).body;
    expect(a.t.length).toBe(30);
    expect(a.t[0]).toBe(from);
    expect(a.t[a.t.length - 1]).toBe(to - 60);
    const b = (await get(`/history?symbol=BTCUSDT&resolution=1&from=${from}&to=${to}&countback=100`)).body;
    expect(b.t.length).toBe(100);
    expect(b.t[b.t.length - 1]).toBe(to - 60);
    expect(b.t[0]).toBeLessThan(from);
    const c = (await get(`/history?symbol=BTCUSDT&resolution=5&from=${from}&to=${to}`)).body;
    expect(c.t).toEqual([0, 1, 2, 3, 4, 5].map((k) => from + k * 300));
  });

  it('10: no_data only when nothing exists before to; with countback never empty while older data exists', async () => {
    const none = (await get(`/history?symbol=BTCUSDT&resolution=1&from=${S(T0 - 5 * DAY)}&to=${S(T0 - 4 * DAY)}&countback=300`)).body;
    expect(none).toEqual({ s: 'no_data' });
    const unused = (await get(`/history?symbol=ETHUSDT&resolution=1&from=${S(T0)}&to=${S(END)}&countback=300`)).body;
    expect(unused).toEqual({ s: 'no_data' });
    // weekend gap for NAS100: the range is empty, countback returns Friday's bars
    const wk = (await get(`/history?symbol=NAS100&resolution=1&from=${S(T0 + 2 * DAY)}&to=${S(T0 + 4 * DAY)}&countback=20`)).body;
    expect(wk.s).toBe('ok');
    expect(wk.t.length).toBe(20);
    expect(new Date(wk.t[19] * 1000).toISOString()).toBe('2024-08-09T19:59:00.000Z');
  });

  it('11: nextTime (only without countback) is in ms and strictly < from×1000', async () => {
    const from = S(T0 + 2 * DAY), to = S(T0 + 4 * DAY);
    const r = (await get(`/history?symbol=NAS100&resolution=1&from=${from}&to=${to}`)).body;
    expect(r.s).toBe('no_data');
    expect(r.nextTime).toBe(Date.UTC(2024, 7, 9, 19, 59));
    expect(r.nextTime).toBeLessThan(from * 1000);
    expect(r.nextTime).toBeGreaterThan(1e12);
  });

  it('12: a first request (to = now) returns bars up to the latest (open) bar', async () => {
    const now = S(Date.now());
    const r = (await get(`/history?symbol=BTCUSDT&resolution=1&from=${now - 86400}&to=${now}&countback=5`)).body;
    const open = engine.pipelines.get('BTCUSDT')!.openBar!;
    expect(r.t[r.t.length - 1]).toBe(open.start / 1000);
    expect(r.c[r.c.length - 1]).toBeCloseTo(open.close * 0.1, 9);
    expect(r.t.length).toBe(5);
  });

  it('13: the pulse (countback=2) sees the last bar replaced at equal time and a new bar at the next boundary', async () => {
    const p = engine.pipelines.get('BTCUSDT')!;
    const open = p.openBar!;
    const q = `/history?symbol=BTCUSDT&resolution=1&from=${S(open.start) - 600}&to=${S(open.start) + 600}&countback=2`;
    const a = (await get(q)).body;
    const t = newTrade('BTCUSDT');
    t.ts = open.lastTs + 1; t.price = open.close + 30; t.size = 5; t.side = 'buy'; t.sideSource = 'flag';
    engine.onEvent(t);
    const b = (await get(q)).body;
    expect(b.t[b.t.length - 1]).toBe(a.t[a.t.length - 1]);
    expect(b.c[b.c.length - 1]).toBeCloseTo((open.close) * 0.1, 9);
    expect(b.v[b.v.length - 1]).toBeCloseTo(a.v[a.v.length - 1] + 0.005, 9);
    const t2 = newTrade('BTCUSDT');
    t2.ts = open.start + 60_000 + 10; t2.price = open.close; t2.size = 5; t2.side = 'sell'; t2.sideSource = 'flag';
    engine.onEvent(t2);
    const c = (await get(q)).body;
    expect(c.t[c.t.length - 1]).toBe(a.t[a.t.length - 1] + 60);
    expect(c.t[c.t.length - 1] % 60).toBe(0);
    expect(c.t[c.t.length - 2]).toBe(a.t[a.t.length - 1]);
  });

  it('14: closed bars never change: a cached slice of closed bars stays valid (hit) and equal to a fresh answer', async () => {
    const q = `/history?symbol=BTCUSDT&resolution=5&from=${S(T0 + DAY)}&to=${S(T0 + 2 * DAY)}&countback=10`;
    const a = await get(q);
    const t = newTrade('BTCUSDT');
    const open = engine.pipelines.get('BTCUSDT')!.openBar!;
    t.ts = open.lastTs + 1; t.price = open.close; t.size = 3; t.side = 'buy'; t.sideSource = 'flag';
    engine.onEvent(t);
    const b = await get(q);
    expect(b.headers.get('x-cache')).toBe('hit');
    expect(b.text).toBe(a.text);
    const fresh = JSON.stringify(srv.service.udfHistory('BTCUSDT', '5', S(T0 + DAY), S(T0 + 2 * DAY), 10));
    expect(b.text).toBe(fresh);
  });

  it('15: marks are at bar start times in seconds, one per bar and side with a count badge, with every required field', async () => {
    const ts = T0 + DAY + 90_000 + 12_345;
    for (let k = 0; k < 12; k++) store.putSignal('BTCUSDT', ts + k, 'absorption', { side: k % 2 ? 'buy' : 'sell', price: 60000, text: `sig ${k}` });
    store.putGap('BTCUSDT', ts, 1, 5, 'sequence gap');
    await store.flush();
    const m = (await get(`/marks?symbol=BTCUSDT&from=${S(T0 + DAY)}&to=${S(T0 + DAY + 3_600_000)}&resolution=1`)).body;
    // 12 signals in one bar: one bullish and one bearish mark, each labelled with its count (was 10 stacked marks)
    expect(m.map((x: any) => [x.color, x.label])).toEqual([['green', '6'], ['red', '6']]);
    expect(m[0].text.split('\n')[0]).toBe('6 signals');
    for (const x of m) {
      expect(x.time).toBe(S(T0 + DAY + 60_000));
      for (const k of ['id', 'time', 'color', 'text', 'label', 'labelFontColor', 'minSize']) expect(x[k], k).toBeDefined();
    }
    const m5 = (await get(`/marks?symbol=BTCUSDT&from=${S(T0 + DAY)}&to=${S(T0 + DAY + 3_600_000)}&resolution=5`)).body;
    expect(m5[0].time).toBe(S(T0 + DAY));
    const tm = (await get(`/timescale_marks?symbol=BTCUSDT&from=${S(T0 + DAY)}&to=${S(T0 + DAY + 3_600_000)}&resolution=1`)).body;
    // the data gap, and the session that opens at T0 + DAY (00:00 UTC for the 24x7 crypto session)
    expect(tm.map((x: any) => x.label)).toEqual(['S', 'G']);
    for (const x of tm) {
      for (const k of ['id', 'time', 'color', 'label', 'tooltip']) expect(x[k], k).toBeDefined();
      expect(Array.isArray(x.tooltip)).toBe(true);
    }
    expect(tm[0].time).toBe(S(T0 + DAY));
    expect(tm[1].time).toBe(S(T0 + DAY + 60_000));
  });

  it('16: /time is an integer number of seconds close to now', async () => {
    const r = await get('/time');
    expect(r.text).toMatch(/^\d+$/);
    expect(Math.abs(Number(r.text) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('17: /quotes answers one {s, n, v} per symbol with n byte-identical and lp/ch/chp/prev_close_price/volume', async () => {
    const names = ['BTCUSDT', 'btcusdt', 'NAS100', 'COINBASE:BTC-USD', 'NOPE'];
    const r = (await get(`/quotes?symbols=${encodeURIComponent(names.join(','))}`)).body;
    expect(r.s).toBe('ok');
    expect(r.d.map((x: any) => x.n)).toEqual(names);
    for (const x of r.d.slice(0, 3)) {
      expect(x.s).toBe('ok');
      for (const k of ['lp', 'ch', 'chp', 'prev_close_price', 'volume']) expect(typeof x.v[k], k).toBe('number');
    }
    expect(r.d[4].s).toBe('error');
  });

  it('18: order-book snapshots are full books with both sides ascending (empty state until the book is wired)', async () => {
    const empty = (await get('/api/v1/orderbook?symbol=BTCUSDT')).body;
    expect(empty).toMatchObject({ available: false, snapshot: true, bids: [], asks: [] });
    srv.service.providers.orderbook = () => ({ ts: 1, bids: [[600000, 10], [600010, 5], [599990, 7]], asks: [[600030, 1], [600020, 2]] });
    const b = (await get('/api/v1/orderbook?symbol=BTCUSDT&depth=2')).body;
    delete srv.service.providers.orderbook;
    expect(b.snapshot).toBe(true);
    expect(b.bids.map((l: any) => l.price)).toEqual([60000, 60001]);
    expect(b.asks.map((l: any) => l.price)).toEqual([60002, 60003]);
  });

  it('19: /history ok bodies have equal-length t/o/h/l/c/v with ascending seconds; errors carry errmsg; countback honoured; to excluded', async () => {
    const to = S(T0 + DAY + 3_600_000);
    const r = (await get(`/history?symbol=BTCUSDT&resolution=1&from=${to - 60}&to=${to}&countback=1000`)).body;
    expect(r.s).toBe('ok');
    for (const k of ['o', 'h', 'l', 'c', 'v']) expect(r[k].length).toBe(r.t.length);
    expect(r.t.length).toBe(1000);
    expect(r.t.includes(to)).toBe(false);
    const e = (await get('/history?symbol=BTCUSDT&resolution=1&from=x&to=1')).body;
    expect(e.s).toBe('error');
    expect(typeof e.errmsg).toBe('string');
  });

  it('20: no `s` on /symbols and /search; bare /time; CORS headers; /history not truncated below countback', async () => {
    expect('s' in (await get('/symbols?symbol=BTCUSDT')).body).toBe(false);
    expect(Array.isArray((await get('/search?query=&limit=5')).body)).toBe(true);
    const t = await get('/time', { Origin: 'http://chart.example' });
    expect(t.text).toMatch(/^\d+$/);
    expect(t.headers.get('access-control-allow-origin')).toBe('*');
    for (const p of ['/config', '/symbols?symbol=BTCUSDT', '/search?query=B', `/history?symbol=BTCUSDT&resolution=1&from=${S(T0)}&to=${S(END)}&countback=1`, '/quotes?symbols=BTCUSDT']) {
      const r = await get(p, { Origin: 'http://chart.example' });
      expect(r.headers.get('access-control-allow-origin'), p).toBe('*');
      expect(r.body, p).toBeDefined();
    }
    const to = S(END);
    const big = (await get(`/history?symbol=BTCUSDT&resolution=1&from=${to - 60}&to=${to}&countback=5000`)).body;
    expect(big.t.length).toBe(5000);
  });
});
