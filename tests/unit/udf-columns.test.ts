import { afterAll, describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { newTrade, type Trade } from '../../engine/src/core/events.js';
import { Store } from '../../engine/src/store/store.js';
import { recordEngine } from '../../engine/src/store/recorder.js';
import { HistoryService } from '../../datafeed-adapter/src/service/history.js';
import { udfHistoryNow, udfHistoryWalk, udfHistoryWork } from '../../datafeed-adapter/src/service/bars.js';
import { isEncoded, joinEncoded } from '../../datafeed-adapter/src/service/udf-columns.js';
import { runSync } from '../../datafeed-adapter/src/service/work.js';
import { createServer, type DatafeedServer } from '../../datafeed-adapter/src/server.js';
import { rng } from '../helpers/tape.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 0, 0, 7);

/**
 * A random walk with pauses: trades 0–8 s apart, now and then a gap of minutes to hours that ends off
 * any bucket boundary (empty buckets, buckets whose first bar is not at their start). Prices in
 * ticks, sizes in lots; the last trades leave an open bar.
 */
function tape(seed: number, n: number, instrument = 'BTCUSDT', price = 600_000, maxLots = 500): Trade[] {
  const r = rng(seed);
  const out: Trade[] = [];
  let ts = T0, p = price;
  for (let k = 0; k < n; k++) {
    ts += Math.floor(r() * 8000);
    if (r() < 0.0005) ts += Math.floor(r() * 5 * 3_600_000);
    p += Math.floor(r() * 9) - 4;
    const t = newTrade(instrument);
    t.ts = ts; t.id = k + 1; t.price = p; t.size = 1 + Math.floor(r() * r() * maxLots);
    t.side = r() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag';
    out.push(t);
  }
  return out;
}

/** The body udfHistoryWork answers, as the bytes the server sends. */
function answer(s: HistoryService, sym: string, res: string, fromS: number, toS: number, cb: number): { bytes: string; fast: boolean } {
  const b = runSync(udfHistoryWork(s, sym, res, fromS, toS, cb)).body;
  return isEncoded(b) ? { bytes: joinEncoded(b).toString('latin1'), fast: true } : { bytes: JSON.stringify(b), fast: false };
}

/** The reference: the general bar walk, encoded by JSON.stringify. */
function reference(s: HistoryService, sym: string, res: string, fromS: number, toS: number, cb: number): string {
  const i = s.instrument(sym);
  return JSON.stringify(runSync(udfHistoryWalk(s, i, s.resolution(res, i.id), fromS, toS, cb)).body);
}

const COUNTBACKS = [0, 0, 1, 2, 5, 300, 1023, 1024, 1025, 2999, 5000];

/** Random windows (seconds, off minute boundaries too) and countbacks around the held bars; returns how many took the fast path. */
function check(s: HistoryService, sym: string, res: string, r: () => number, n: number): number {
  const p = s.pipeline(s.instrument(sym).id)!;
  const lo = Math.floor((p.bars.length ? p.bars[0].bar.start : p.openBar!.start) / 1000) - 3 * 3600;
  const hi = Math.floor((p.openBar?.start ?? p.lastTs) / 1000) + 600;
  let fast = 0;
  for (let q = 0; q < n; q++) {
    const a = lo + Math.floor(r() * (hi - lo));
    const span = r() < 0.2 ? Math.floor(r() * 600) + 1 : Math.floor(r() * 400_000) + 1;
    const cb = COUNTBACKS[Math.floor(r() * COUNTBACKS.length)];
    const got = answer(s, sym, res, a, a + span, cb);
    expect(got.bytes, `${sym} ${res} from=${a} to=${a + span} countback=${cb}`).toBe(reference(s, sym, res, a, a + span, cb));
    if (got.fast) fast++;
  }
  return fast;
}

describe('UDF /history from encoded column blocks is byte-identical to the general walk', () => {
  it('minute resolutions while bars close, buckets seal and old bars (and whole blocks) leave memory', () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 2600 });
    const s = new HistoryService(engine);
    const t = tape(3, 240_000);
    const r = rng(9);
    const fast: Record<string, number> = { 1: 0, 3: 0, 5: 0, 15: 0, 60: 0 };
    for (let k = 0; k < t.length; k++) {
      engine.onEvent(t[k]);
      if (k % 24_000 !== 23_999 && k !== t.length - 1) continue;
      for (const res of Object.keys(fast)) fast[res] += check(s, 'BTCUSDT', res, r, 25);
    }
    expect(engine.pipeline('BTCUSDT').bars.length).toBe(2600); // the front was trimmed
    expect(engine.pipeline('BTCUSDT').openBar!.trades).toBeGreaterThan(0);
    // most answers took the encoded path at every resolution (the test would pass vacuously otherwise)
    for (const [res, n] of Object.entries(fast)) expect(n, `resolution ${res}`).toBeGreaterThan(120);
  });

  it('edges: countback, from/to inside a bucket and a block, the open bar, no_data, a 5,000-bar page', () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    const s = new HistoryService(engine);
    for (const x of tape(5, 120_000)) engine.onEvent(x);
    const p = engine.pipeline('BTCUSDT');
    const first = Math.floor(p.bars[0].bar.start / 1000), open = Math.floor(p.openBar!.start / 1000);
    const blockEdge = Math.floor(p.bars[1024].bar.start / 1000);
    // thousands of bars never encoded: the synchronous path declines, the scheduled one catches up in bounded steps
    const i = s.instrument('BTCUSDT'), r1 = s.resolution('1', i.id);
    expect(p.bars.length).toBeGreaterThan(6000);
    expect(udfHistoryNow(s, i, r1, open - 3600, open + 60, 0)).toBeNull();
    const w = udfHistoryWork(s, 'BTCUSDT', '1', open - 3600, open + 60, 0);
    let steps = 0, x = w.next();
    while (!x.done) { steps++; x = w.next(); }
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(isEncoded(x.value.body)).toBe(true);
    const now = udfHistoryNow(s, i, r1, open - 3600, open + 60, 0);
    expect(now && joinEncoded(now).toString('latin1')).toBe(reference(s, 'BTCUSDT', '1', open - 3600, open + 60, 0));
    const cases: [string, number, number, number][] = [
      ['1', open - 5000 * 60, open + 60, 5000], // the bench's page, the open bar last
      ['1', open - 60, open + 1, 0], // the last closed bar and the open bar
      ['1', open, open + 60, 0], // the open bar alone
      ['1', open + 30, open + 90, 1], // nothing in range: countback reaches back
      ['1', blockEdge - 61, blockEdge + 59, 0], // across a block boundary, both ends mid-minute
      ['1', blockEdge, blockEdge + 60, 0], // the first entry of a block alone
      ['1', blockEdge - 60, blockEdge, 0], // the last entry of a block alone
      ['5', blockEdge - 7 * 60 - 13, blockEdge + 3 * 60 + 1, 0], // mid-bucket bounds
      ['5', open - 1, open + 1, 0], // the open bar's bucket, partly closed bars
      ['15', first - 7200, first + 30, 0], // before the first bar: the partial oldest bucket
      ['1', first - 7200, first - 60, 0], // no_data: nothing before
      ['1', first - 7200, first - 60, 10], // countback with nothing before `to`
      ['60', first, open + 3600, 20000], // countback above what exists
      ['1', open + 3600, open + 7200, 0], // after the data: no_data with nextTime
    ];
    let fast = 0;
    for (const [res, a, b, cb] of cases) {
      const got = answer(s, 'BTCUSDT', res, a, b, cb);
      expect(got.bytes, `${res} ${a} ${b} ${cb}`).toBe(reference(s, 'BTCUSDT', res, a, b, cb));
      if (got.fast) fast++;
    }
    expect(JSON.parse(answer(s, 'BTCUSDT', '1', open - 5000 * 60, open + 60, 5000).bytes).t).toHaveLength(5000);
    expect(answer(s, 'BTCUSDT', '1', first - 7200, first - 60, 0).bytes).toBe('{"s":"no_data"}');
    expect(fast).toBeGreaterThanOrEqual(10);
  });

  it('prices and volumes with many decimals (FX ticks, 1e-8 lots, huge lots)', () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 1500 });
    const s = new HistoryService(engine);
    const r = rng(21);
    const tapes = [tape(7, 60_000, 'EURUSD', 108_123, 90_000), tape(8, 60_000, 'COINBASE:BTC-USD', 4_312_345, 123_456_789), tape(9, 60_000, 'XAGUSDT', 31_337, 7)];
    for (let k = 0; k < 60_000; k++) for (const tp of tapes) engine.onEvent(tp[k]);
    let fast = 0;
    for (const sym of ['EURUSD', 'COINBASE:BTC-USD', 'XAGUSDT']) for (const res of ['1', '5']) fast += check(s, sym, res, r, 60);
    expect(fast).toBeGreaterThan(200);
    // the texts really carry many decimals
    const body = JSON.parse(answer(s, 'COINBASE:BTC-USD', '1', 0, 4_102_444_800, 50).bytes) as { v: number[] };
    expect(body.v.some((x) => String(x).split('.')[1]?.length >= 6)).toBe(true);
  });

  it('with a store behind memory: answers that need stored bars take the general walk, the rest stay identical', () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 700 });
    const store = Store.open({ path: ':memory:', flushIntervalMs: 0, synchronous: 'NORMAL' });
    recordEngine(engine, store);
    const s = new HistoryService(engine, store);
    const r = rng(33);
    let fast = 0;
    const t = tape(11, 60_000);
    for (let k = 0; k < t.length; k++) {
      engine.onEvent(t[k]);
      if (k % 30_000 !== 29_999) continue;
      while (store.queued > 0 && store.commit() > 0);
      for (const res of ['1', '5', '15']) fast += check(s, 'BTCUSDT', res, r, 24);
    }
    expect(store.barCount('BTCUSDT', '1m')).toBeGreaterThan(2000);
    expect(fast).toBeGreaterThan(25);
    store.close();
  });

  it('an answer held as parts (a cached body) keeps its bytes while the columns move on', () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 1100 });
    const s = new HistoryService(engine);
    const t = tape(13, 80_000);
    for (let k = 0; k < 30_000; k++) engine.onEvent(t[k]);
    const p = engine.pipeline('BTCUSDT');
    const a = Math.floor(p.bars[0].bar.start / 1000), b = Math.floor(p.openBar!.start / 1000) + 60;
    const held = runSync(udfHistoryWork(s, 'BTCUSDT', '1', a, b, 0)).body;
    expect(isEncoded(held)).toBe(true);
    const bytes = joinEncoded(held as never).toString('latin1');
    expect(bytes).toBe(reference(s, 'BTCUSDT', '1', a, b, 0));
    // new blocks fill, the old ones leave memory, a query re-syncs after each step
    for (let k = 30_000; k < t.length; k++) { engine.onEvent(t[k]); if (k % 5000 === 0) answer(s, 'BTCUSDT', '1', a, b + 100_000, 0); }
    expect(p.bars[0].bar.start).toBeGreaterThan(b * 1000);
    expect(joinEncoded(held as never).toString('latin1')).toBe(bytes);
  });
});

describe('UDF /history over HTTP writes the encoded parts', () => {
  let srv: DatafeedServer;
  afterAll(async () => { await srv?.close(); });

  it('miss and hit send the reference bytes with the right length and type; HEAD sends none', async () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    for (const x of tape(17, 50_000)) engine.onEvent(x);
    srv = await createServer({ engine, port: 0, staticDir: false });
    const s = srv.service;
    const open = Math.floor(engine.pipeline('BTCUSDT').openBar!.start / 1000);
    const r = rng(4);
    const paths: [string, number, number, number][] = [];
    for (let k = 0; k < 24; k++) { const to = open + 60 - Math.floor(r() * 20_000) * 7; paths.push([['1', '5', '60'][k % 3], to - 300_000, to, [0, 5000, 100][k % 3]]); }
    // concurrent distinct windows (misses), then the same again (hits)
    for (const want of ['miss', 'hit']) {
      const got = await Promise.all(paths.map(async ([res, a, b, cb]) => {
        const x = await fetch(`${srv.url}/history?symbol=BTCUSDT&resolution=${res}&from=${a}&to=${b}&countback=${cb}`);
        return { x, text: await x.text() };
      }));
      got.forEach(({ x, text }, k) => {
        const [res, a, b, cb] = paths[k];
        expect(x.status).toBe(200);
        expect(x.headers.get('x-cache')).toBe(want);
        expect(x.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(Number(x.headers.get('content-length'))).toBe(Buffer.byteLength(text));
        expect(text).toBe(reference(s, 'BTCUSDT', res, a, b, cb));
      });
    }
    const [res, a, b, cb] = paths[0];
    const head = await fetch(`${srv.url}/history?symbol=BTCUSDT&resolution=${res}&from=${a}&to=${b}&countback=${cb}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(reference(s, 'BTCUSDT', res, a, b, cb).length);
    expect(await head.text()).toBe('');
  });

  it('with static files mounted (as `tapeflow start` does) pages still load and UDF paths still answer', async () => {
    const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
    for (const x of tape(19, 5_000)) engine.onEvent(x);
    const web = await createServer({ engine, port: 0, staticDir: 'examples' });
    try {
      const page = await fetch(`${web.url}/index.html`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect((await page.text()).length).toBeGreaterThan(100);
      const open = Math.floor(engine.pipeline('BTCUSDT').openBar!.start / 1000);
      const h = await fetch(`${web.url}/history?symbol=BTCUSDT&resolution=1&from=${open - 3600}&to=${open + 60}`);
      expect(h.status).toBe(200);
      expect(await h.text()).toBe(reference(web.service, 'BTCUSDT', '1', open - 3600, open + 60, 0));
      expect((await fetch(`${web.url}/config`)).status).toBe(200);
    } finally { await web.close(); }
  });
});
