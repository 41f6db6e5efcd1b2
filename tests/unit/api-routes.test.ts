/**
 * Order-flow API and server hardening against the real server on an ephemeral port: every /api/v1
 * route, OpenAPI coverage, token auth, CORS, 200 generated malformed queries (each 400/404 with a
 * clear error, the server still answering /time), and the /history cache (hit, invalidation by the
 * open bar).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { newTrade } from '../../engine/src/core/events.js';
import { Store } from '../../engine/src/store/store.js';
import { recordEngine } from '../../engine/src/store/recorder.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { API_ROUTES } from '../../datafeed-adapter/src/http/api.js';
import { UDF_ROUTES } from '../../datafeed-adapter/src/http/udf.js';
import { randomTape, rng } from '../helpers/tape.js';

const TOKEN = 'sekret-token';
const T0 = Date.UTC(2024, 7, 8, 23, 0);
let srv: DatafeedServer;
let engine: Engine;
let store: Store;
const tape = randomTape(5, 30000);
const END = tape[tape.length - 1].ts + 1;

async function get(path: string, headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` }): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const r = await fetch(srv.url + path, { headers });
  const text = await r.text();
  let body: unknown;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: r.status, body, text, headers: r.headers };
}

beforeAll(async () => {
  engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
  store = Store.open({ path: ':memory:', flushIntervalMs: 0 });
  recordEngine(engine, store);
  srv = await createServer({ engine, store, port: 0, cors: ['http://ok.example'], authToken: TOKEN, staticDir: false });
  for (const t of tape) engine.onEvent(t);
  store.putSignal('BTCUSDT', T0 + 60_000, 'absorption', { side: 'sell', price: 60000 });
  await store.flush();
});
afterAll(async () => { await srv.close(); store.close(); });

describe('/api/v1 routes', () => {
  it('instruments list and one instrument with stats', async () => {
    const all = (await get('/api/v1/instruments')).body.instruments;
    expect(all.length).toBe(new InstrumentRegistry().all().length);
    const btc = all.find((x: any) => x.id === 'BTCUSDT');
    expect(btc).toMatchObject({ active: true, trades: 30000 });
    const one = (await get('/api/v1/instruments/BTCUSDT')).body;
    expect(one.last).toBeCloseTo(tape[tape.length - 1].price / 10, 9);
    expect(one.symbolInfo.pricescale).toBe(100);
    expect((await get('/api/v1/instruments/NOPE')).status).toBe(404);
  });

  it('footprint: time aggregation merges rows exactly; tick and volume aggregation', async () => {
    const p = engine.pipelines.get('BTCUSDT')!;
    const five = (await get(`/api/v1/footprint?symbol=BTCUSDT&resolution=5&from=${T0}&to=${T0 + 3_600_000}`)).body.bars;
    const one = (await get(`/api/v1/footprint?symbol=BTCUSDT&resolution=1&from=${T0}&to=${T0 + 3_600_000}`)).body.bars;
    expect(five.length).toBe(12);
    expect(one.length).toBe(60);
    const sum = (bars: any[], f: (b: any) => number) => bars.reduce((a, b) => a + f(b), 0);
    const first5 = one.filter((b: any) => b.time < T0 + 300_000);
    expect(five[0].volume).toBeCloseTo(sum(first5, (b) => b.volume), 9);
    expect(five[0].delta).toBeCloseTo(sum(first5, (b) => b.delta), 9);
    expect(five[0].high).toBe(Math.max(...first5.map((b: any) => b.high)));
    expect(five[0].cvd.close).toBe(first5[first5.length - 1].cvd.close);
    const rowsAsk = sum(five[0].rows, (r) => r.ask), rowsBid = sum(five[0].rows, (r) => r.bid);
    expect(rowsAsk).toBeCloseTo(five[0].buyVolume, 9);
    expect(rowsBid).toBeCloseTo(five[0].sellVolume, 9);
    // deltaMin of the merged bar = min over the running delta across the 5 bars
    let run = 0, mn = 0;
    for (const b of first5) { mn = Math.min(mn, run + b.deltaMin); run += b.delta; }
    expect(five[0].deltaMin).toBeCloseTo(mn, 9);
    expect(one[0].poc).toBe(p.bars[0].stats.poc / 10);
    const tick = (await get(`/api/v1/footprint?symbol=BTCUSDT&agg=tick&size=50&from=${T0}&to=${T0 + 600_000}`)).body.bars;
    expect(tick.slice(0, -1).every((b: any) => b.trades === 50)).toBe(true);
    const vol = (await get(`/api/v1/footprint?symbol=BTCUSDT&agg=volume&size=10&from=${T0}&to=${T0 + 600_000}&rows=false`)).body.bars;
    expect(vol.slice(0, -1).every((b: any) => b.volume >= 10 && b.rows === undefined)).toBe(true);
  });

  it('profile: session, composite, fixed, visible', async () => {
    const s = (await get('/api/v1/profile?symbol=BTCUSDT')).body;
    expect(s.session).toBe('2024-08-09');
    expect(s.rows.length).toBeGreaterThan(0);
    for (const r of s.rows) expect(r.volume).toBeCloseTo(r.bid + r.ask + r.unknown, 9);
    expect(s.poc).toBeGreaterThanOrEqual(s.val);
    expect(s.vah).toBeGreaterThanOrEqual(s.poc);
    expect(['P', 'b', 'D', 'double']).toContain(s.shape);
    const old = (await get('/api/v1/profile?symbol=BTCUSDT&session=2024-08-08')).body;
    expect(old.closed).toBe(true);
    const c = (await get('/api/v1/profile?symbol=BTCUSDT&type=composite&sessions=2&rows=false')).body;
    expect(c.totalVolume).toBeCloseTo(s.totalVolume + old.totalVolume, 6);
    const f = (await get(`/api/v1/profile?symbol=BTCUSDT&type=fixed&from=${T0}&to=${END}`)).body;
    expect(f.totalVolume).toBeCloseTo(c.totalVolume, 6);
    const v = (await get(`/api/v1/profile?symbol=BTCUSDT&type=visible&from=${T0}&to=${T0 + 600_000}&rowSize=5`)).body;
    expect(v.rowSize).toBe(5);
    // a row height off the tick grid is a clear error (0.05 on a 0.1 tick)
    expect((await get(`/api/v1/profile?symbol=BTCUSDT&type=visible&from=${T0}&to=${T0 + 600_000}&rowSize=0.05`)).body).toMatchObject({ param: 'rowSize', reason: expect.stringMatching(/multiple of the tick size 0.1/) });
    expect((await get('/api/v1/profile?symbol=BTCUSDT&session=2020-01-01')).status).toBe(404);
  });

  it('delta/CVD, VWAP, time & sales', async () => {
    const d = (await get(`/api/v1/delta?symbol=BTCUSDT&resolution=60&from=${T0}&to=${END}`)).body;
    expect(d.bars.length).toBe(2);
    expect(d.bars[1].cvdClose).toBeCloseTo(d.cvd, 9);
    const v = (await get('/api/v1/vwap?symbol=BTCUSDT')).body;
    expect(v.session.upper.length).toBe(3);
    const a = (await get(`/api/v1/vwap?symbol=BTCUSDT&anchor=${Date.UTC(2024, 7, 9)}&resolution=5&to=${END}`)).body;
    expect(a.anchored.complete).toBe(true);
    expect(a.anchored.current.vwap).toBeCloseTo(v.session.vwap, 6);
    const t = (await get('/api/v1/trades?symbol=BTCUSDT&limit=3')).body.trades;
    expect(t.map((x: any) => x.id)).toEqual([29998, 29999, 30000]);
    const big = (await get(`/api/v1/trades?symbol=BTCUSDT&from=${T0}&minSize=0.3&limit=5`)).body.trades;
    expect(big.every((x: any) => x.size >= 0.3)).toBe(true);
  });

  it('provider-backed routes answer the documented empty state; signals come from the store', async () => {
    expect((await get('/api/v1/orderbook/history?symbol=BTCUSDT')).body).toMatchObject({ available: false, snapshots: [] });
    expect((await get('/api/v1/bias?symbol=BTCUSDT')).body).toMatchObject({ available: false, bias: null });
    const lv = (await get('/api/v1/levels?symbol=BTCUSDT')).body;
    expect(lv.session.key).toBe('2024-08-09');
    expect((await get('/api/v1/trade-state?symbol=BTCUSDT')).body).toMatchObject({ available: false, journal: [] });
    expect((await get('/api/v1/strategy')).body).toEqual({ available: false, strategies: [] });
    expect((await get('/api/v1/scanner')).body).toEqual({ available: false, rows: [] });
    const sig = (await get(`/api/v1/signals?symbol=BTCUSDT&from=${T0}`)).body.signals;
    expect(sig).toMatchObject([{ kind: 'absorption', side: 'sell', price: 60000 }]);
    const sys = (await get('/api/v1/system')).body;
    expect(sys.events).toBe(30000);
    expect(sys.store.errors).toBe(0);
    expect((await get('/api/v1/health')).body.status).toBe('ok');
  });

  it('token auth on /api (Bearer or ?token=), /health and UDF open', async () => {
    expect((await get('/api/v1/system', {})).status).toBe(401);
    expect((await get('/api/v1/system', { Authorization: 'Bearer wrong' })).body).toMatchObject({ error: 'unauthorized', param: 'token' });
    expect((await get(`/api/v1/system?token=${TOKEN}`, {})).status).toBe(200);
    expect((await get('/health', {})).status).toBe(200);
    expect((await get('/config', {})).status).toBe(200);
  });

  it('CORS only for configured origins, with preflight', async () => {
    expect((await get('/config', { Origin: 'http://ok.example' })).headers.get('access-control-allow-origin')).toBe('http://ok.example');
    expect((await get('/config', { Origin: 'http://evil.example' })).headers.get('access-control-allow-origin')).toBe(null);
    const pre = await fetch(srv.url + '/api/v1/system', { method: 'OPTIONS', headers: { Origin: 'http://ok.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  it('/openapi.json (3.1) describes every route with its parameters', async () => {
    const doc = (await get('/openapi.json', {})).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const r of API_ROUTES) {
      const op = doc.paths[r.path]?.get;
      expect(op, r.path).toBeDefined();
      expect((op.parameters ?? []).map((x: any) => x.name)).toEqual(r.params.map((x) => x.name));
      expect(op.security).toBeDefined();
    }
    for (const r of Object.values(UDF_ROUTES)) expect(doc.paths[r.path]?.get, r.path).toBeDefined();
    // every success response is typed (a schema with a type or a $ref), no stale "until wired" summaries
    const ops = Object.entries(doc.paths as Record<string, any>).map(([p, v]) => [p, v.get] as const);
    for (const [p, op] of ops) {
      const content = op.responses['200'].content;
      const schema = (Object.values(content)[0] as any).schema;
      expect(schema.type ?? schema.$ref ?? schema.anyOf, p).toBeDefined();
      expect(op.summary, p).not.toMatch(/until wired/);
    }
    // the parameters carry the validator's bounds and enums
    const fp = doc.paths['/api/v1/footprint'].get.parameters;
    expect(fp.find((x: any) => x.name === 'agg').schema).toMatchObject({ enum: ['time', 'tick', 'volume'], default: 'time' });
    expect(fp.find((x: any) => x.name === 'countback').schema).toMatchObject({ type: 'integer', minimum: 0 });
    expect(doc.components.schemas.FootprintBar.properties.rows).toBeDefined();
  });
});

describe('UDF leniency (what the real Charting Library sends)', () => {
  it('countback above the cap is clamped and the answer says so; a future `to` is clamped to now; unknown parameters are ignored', async () => {
    const from = Math.floor(T0 / 1000), end = Math.ceil(END / 1000);
    const plain = await get(`/history?symbol=BTCUSDT&resolution=1&from=${from}&to=${end}`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-tapeflow-limits')).toBe(null);
    const huge = await get(`/history?symbol=BTCUSDT&resolution=1&from=${from}&to=${end}&countback=1220930`);
    expect(huge.status).toBe(200);
    expect(huge.body.s).toBe('ok');
    expect(huge.headers.get('x-tapeflow-limits')).toContain('countback 1220930 clamped to 20000');
    // every bar there is (fewer than the cap) comes back, the same as countback = their number
    const n = huge.body.t.length;
    expect((await get(`/history?symbol=BTCUSDT&resolution=1&from=${from}&to=${end}&countback=${n}`)).body.t).toEqual(huge.body.t);
    const future = await get(`/history?symbol=BTCUSDT&resolution=1&from=${from}&to=4102444000&_=1&currencyCode=USD`);
    expect(future.status).toBe(200);
    expect(future.body.t).toEqual(plain.body.t);
    const api = await get(`/api/v1/delta?symbol=BTCUSDT&resolution=1&from=${T0}&countback=99999999&_=123`);
    expect(api.status).toBe(200);
    expect(api.body.limits).toEqual(['countback 99999999 clamped to 20000']);
  });
});

describe('malformed queries', () => {
  it('200 generated bad queries each get a 400/404 with a clear error; the server keeps answering', async () => {
    const r = rng(2024);
    const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
    const bad = ['', 'abc', '-1', '1.5', '1e400', 'NaN', '99999999999999999999', '%00', "'; DROP TABLE trades;--", 'x'.repeat(300), '[]', '{}'];
    const gens: (() => string)[] = [
      () => `/history?symbol=BTCUSDT&resolution=1&from=${pick(bad)}&to=1723161600`,
      () => `/history?symbol=BTCUSDT&resolution=1&from=1723158000&to=${pick(bad)}`,
      () => `/history?symbol=BTCUSDT&resolution=${pick(['7X', '0', '61S', '2D', '0T', '99999T', 'abc', '1441', ''])}&from=1723158000&to=1723161600`,
      () => `/history?symbol=${pick(['NOPE', 'BTC USDT', 'x'.repeat(100), ''])}&resolution=1&from=1723158000&to=1723161600`,
      () => `/history?symbol=BTCUSDT&resolution=1&from=1723161600&to=1723158000`,
      () => `/history?symbol=BTCUSDT&resolution=1S&from=0&to=1723161600`,
      () => `/history?symbol=BTCUSDT&resolution=1&from=1723158000&to=1723161600&countback=${pick(['-1', '1e3', 'many', '1.5'])}`,
      () => `/history?symbol=BTCUSDT&resolution=1&from=1&to=2&from=3`,
      () => `/history?symbol=BTCUSDT&resolution=1&from=1&to=2&countback=${pick(['1', '2'])}&countback=3`,
      () => `/symbols?symbol=${pick(['NOPE', '', 'ZZZ:ZZZ'])}`,
      () => `/search?limit=${pick(['0', '-3', 'abc', '100000'])}`,
      () => `/marks?symbol=BTCUSDT&from=${pick(bad)}&to=1&resolution=1`,
      () => `/timescale_marks?symbol=BTCUSDT&from=1&to=2&resolution=${pick(['', 'Q', '0'])}`,
      () => `/quotes?symbols=${pick(['', ',,,'])}`,
      () => `/symbol_info?group=${pick(['nyse', 'NOPE'])}`,
      () => `/api/v1/footprint?symbol=BTCUSDT&agg=${pick(['hour', 'TIME', ''])}x`,
      () => `/api/v1/footprint?symbol=BTCUSDT&agg=volume`,
      () => `/api/v1/footprint?symbol=BTCUSDT&agg=tick&size=${pick(['0.5', '20000', '-1'])}`,
      () => `/api/v1/footprint?symbol=BTCUSDT&from=0&to=4102444800000`,
      () => `/api/v1/footprint?symbol=BTCUSDT&rows=${pick(['yes', '2', 'TRUE'])}`,
      () => `/api/v1/footprint?symbol=${pick(['NOPE', 'x'.repeat(120)])}`,
      () => `/api/v1/profile?symbol=BTCUSDT&type=${pick(['weekly', 'fixed', 'visible'])}`,
      () => `/api/v1/profile?symbol=BTCUSDT&session=${pick(['2024-8-9', 'today', '2024-08-09T00'])}`,
      () => `/api/v1/profile?symbol=BTCUSDT&valueArea=${pick(['0', '1.5', 'abc'])}`,
      () => `/api/v1/profile?symbol=BTCUSDT&sessions=${pick(['0', '1000'])}&type=composite`,
      () => `/api/v1/delta?symbol=BTCUSDT&resolution=${pick(['2D', 'X', '1441'])}`,
      () => `/api/v1/vwap?symbol=BTCUSDT&anchor=${pick(['abc', '-5', '4102444800001'])}`,
      () => `/api/v1/vwap?symbol=BTCUSDT&anchor=1000&to=500`,
      () => `/api/v1/vwap?symbol=BTCUSDT&anchor=1&to=${T0}`,
      () => `/api/v1/orderbook?symbol=BTCUSDT&depth=${pick(['0', '1001', 'all'])}`,
      () => `/api/v1/trades?symbol=BTCUSDT&limit=${pick(['0', '10001', 'x'])}`,
      () => `/api/v1/trades?symbol=BTCUSDT&from=0&to=${END}`,
      () => `/api/v1/signals?symbol=BTCUSDT&from=0&to=${END}`,
      () => `/api/v1/signals?symbol=NOPE`,
      () => `/api/v1/instruments/${pick(['NOPE', 'ZZZ'])}`,
      () => `/api/v1/trades?symbol=BTCUSDT&limit=5&limit=${pick(bad)}`,
      () => `/api/v1/${pick(['nope', 'footprints', 'trade_state'])}`,
      () => `/nothing/here?${pick(bad)}`,
    ];
    const seen = new Set<number>();
    for (let k = 0; k < 200; k++) {
      const g = k < gens.length ? k : Math.floor(r() * gens.length);
      seen.add(g);
      const path = gens[g]().replace(/ /g, '%20').replace(/'/g, '%27').replace(/;/g, '%3B');
      const res = await get(path);
      expect([400, 404], `${path} → ${res.status} ${res.text.slice(0, 200)}`).toContain(res.status);
      const b = res.body;
      expect(b, path).toBeDefined();
      if (b.s !== undefined) {
        expect(b.s).toBe('error');
        expect(b.errmsg.length).toBeGreaterThan(3);
      } else {
        expect(typeof b.error).toBe('string');
        expect(typeof b.reason).toBe('string');
        expect(b.reason.length).toBeGreaterThan(3);
        expect('param' in b).toBe(true);
      }
    }
    expect(seen.size).toBe(gens.length);
    const t = await get('/time');
    expect(t.status).toBe(200);
    expect(t.text).toMatch(/^\d+$/);
  });
});

describe('/history cache', () => {
  it('hits for identical slices, invalidates a slice holding the open bar when it changes, keeps closed slices', async () => {
    const p = engine.pipelines.get('BTCUSDT')!;
    const open = p.openBar!;
    const to = Math.floor(open.start / 1000) + 60;
    const live = `/history?symbol=BTCUSDT&resolution=1&from=${to - 600}&to=${to}&countback=5`;
    const closed = `/history?symbol=BTCUSDT&resolution=1&from=${to - 3600}&to=${to - 1800}&countback=5`;
    const before = { ...srv.cache };
    expect((await get(live)).headers.get('x-cache')).toBe('miss');
    expect((await get(closed)).headers.get('x-cache')).toBe('miss');
    const a = await get(live);
    expect(a.headers.get('x-cache')).toBe('hit');
    const t = newTrade('BTCUSDT');
    t.ts = open.lastTs + 1; t.price = open.close + 100; t.size = 7; t.side = 'buy'; t.sideSource = 'flag';
    engine.onEvent(t);
    const b = await get(live);
    expect(b.headers.get('x-cache')).toBe('miss');
    expect(b.body.h[b.body.h.length - 1]).toBeCloseTo((open.close) / 10, 9);
    const last = a.body.v.length - 1;
    expect(b.body.t[last]).toBe(a.body.t[last]);
    expect(b.body.v[last]).toBeCloseTo(a.body.v[last] + 0.007, 9);
    expect((await get(closed)).headers.get('x-cache')).toBe('hit');
    expect(srv.cache.hits - before.hits).toBe(2);
    expect(srv.cache.invalidations - before.invalidations).toBe(1);
  });
});
