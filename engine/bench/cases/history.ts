/**
 * /history latency over 5,000 1m bars against the real server on loopback: uncached (a distinct
 * slice per request) and cached (the same slice repeated), plus a 5-minute aggregation. Prints one
 * JSON line per variant with p50/p99 in ms. "As started" is the same server configured the way
 * `tapeflow start` runs it (access log through pino-http into a Logger, static examples/ mounted),
 * so the middleware's share is measured, not assumed.
 */
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { Engine } from '../../src/analytics/engine.js';
import { newTrade } from '../../src/core/events.js';
import { createServer } from '../../../datafeed-adapter/src/server.js';
import { emit, peakRssMB } from '../harness.js';
import { profileTop } from '../cpu-profile.js';
import { createLogger } from '../../src/log.js';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Load client, run in a worker thread so its socket reads and HTTP parsing use the other core
 * instead of competing with the server's event loop: `conc` clients on keep-alive sockets, each
 * sending the next path as soon as its answer is read, for `ms`.
 */
const LOAD_CLIENT = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { Agent, get } = require('node:http');
const agent = new Agent({ keepAlive: true, maxSockets: w.conc });
const lat = []; let k = 0, bytes = 0, bad = '';
const t0 = performance.now();
const one = (p) => new Promise((resolve) => {
  const s = performance.now();
  get(w.base + p, { agent }, (res) => {
    let n = 0;
    res.on('data', (c) => { n += c.length; });
    res.on('end', () => { if (res.statusCode !== 200 || n < 1000) bad = 'status ' + res.statusCode + ', ' + n + ' bytes'; bytes += n; lat.push(performance.now() - s); resolve(); });
  }).on('error', (e) => { bad = String(e); resolve(); });
});
const path = (k) => w.paths[k % w.paths.length];
Promise.all(Array.from({ length: w.conc }, async () => { while (performance.now() - t0 < w.ms && !bad) await one(path(k++)); }))
  .then(() => { agent.destroy(); parentPort.postMessage({ lat, secs: (performance.now() - t0) / 1000, bytes, bad }); });
`;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(3));
}

interface LoadResult { requests: number; reqPerSec: number; p50ms: number; p99ms: number; bytesPerAnswer: number }

async function load(base: string, conc: number, ms: number, paths: string[]): Promise<LoadResult> {
  const w = new Worker(LOAD_CLIENT, { eval: true, workerData: { base, conc, ms, paths } });
  const r = await new Promise<{ lat: number[]; secs: number; bytes: number; bad: string }>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  await w.terminate();
  if (r.bad) throw new Error(`history load: bad answer (${r.bad})`);
  return { requests: r.lat.length, reqPerSec: Math.round(r.lat.length / r.secs), p50ms: pct(r.lat, 0.5), p99ms: pct(r.lat, 0.99), bytesPerAnswer: Math.round(r.bytes / Math.max(1, r.lat.length)) };
}

export async function benchHistory(): Promise<void> {
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
  const start = Date.UTC(2024, 0, 1);
  // every window below (up to 78 000 s back from the newest) holds a full 5,000 bars
  const bars = 6600;
  let seed = 1, price = 600_000, id = 0;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const t = newTrade('BTCUSDT');
  for (let ts = start; ts < start + bars * 60_000; ts += 500 + Math.floor(rnd() * 4000)) {
    price += Math.floor(rnd() * 9) - 4;
    t.ts = ts; t.id = ++id; t.price = price; t.size = 1 + Math.floor(rnd() * 200); t.side = rnd() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag';
    engine.onEvent(t);
  }
  const srv = await createServer({ engine, port: 0, staticDir: false, cacheEntries: 10_000 });
  // the same service behind a server set up as `tapeflow start` sets it up (its own response cache)
  const started = await createServer({ engine, service: srv.service, port: 0, cacheEntries: 10_000, logger: createLogger({ level: 'info', write: () => {} }), staticDir: 'examples' });
  const endS = (start + bars * 60_000) / 1000;
  const time = async (path: string): Promise<number> => {
    const t0 = performance.now();
    const r = await fetch(srv.url + path);
    const body = await r.text();
    if (r.status !== 200 || body.length < 1000) throw new Error(`bad answer ${r.status} ${body.slice(0, 100)}`);
    return performance.now() - t0;
  };
  const q = (res: string, to: number): string => `/history?symbol=BTCUSDT&resolution=${res}&from=${to - 5000 * 60}&to=${to}&countback=5000`;
  for (let k = 0; k < 20; k++) await time(q('1', endS - k * 60)); // warm-up
  for (const [name, res] of [['history_1m_5000', '1'], ['history_5m_over_5000_1m', '5']] as const) {
    const unc: number[] = [];
    for (let k = 0; k < 200; k++) unc.push(await time(q(res, endS - 60 * (100 + k))));
    const cached: number[] = [];
    const same = q(res, endS - 60 * 100);
    for (let k = 0; k < 200; k++) cached.push(await time(same));
    // throughput at concurrency 16, interleaved with its floor: a bare node:http server writing the
    // same answer's bytes (no routing, no query) to the same load client. Uncached = distinct windows
    // (one second apart), every request a cache miss; cached = one window repeated.
    const answer = Buffer.from(await (await fetch(srv.url + same)).arrayBuffer());
    const bare = createHttpServer((_req, r) => { r.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length }); r.end(answer); });
    await new Promise<void>((ok) => bare.listen(0, '127.0.0.1', ok));
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    // uncached windows end before every window asked above (warm-up, the 200 sequential ones, `same`): never cached
    const older = endS - 18_001;
    const paths = Array.from({ length: 40_000 }, (_, k) => q(res, older - k));
    let unc16: LoadResult | null = null, hit16: LoadResult | null = null, floor: LoadResult | null = null, asStarted: LoadResult | null = null;
    const load1 = loadavg()[0];
    const best = (a: LoadResult | null, b: LoadResult): LoadResult => (a && a.reqPerSec >= b.reqPerSec ? a : b);
    // an uncached run must be all response-cache misses (checked, not assumed)
    const missesOnly = async (server: typeof srv, run: () => Promise<LoadResult>): Promise<LoadResult> => {
      const misses0 = server.cache.misses;
      const r = await run();
      if (server.cache.misses - misses0 < r.requests) throw new Error(`history bench: ${r.requests - (server.cache.misses - misses0)} "uncached" requests hit the response cache`);
      return r;
    };
    for (let round = 0; round < 2; round++) {
      floor = best(floor, await load(bareUrl, 16, 1500, ['/']));
      unc16 = best(unc16, await missesOnly(srv, () => load(srv.url, 16, 1500, paths.slice(round * 20_000, (round + 1) * 20_000))));
      hit16 = best(hit16, await load(srv.url, 16, 1500, [same]));
      // its own response cache: the same distinct windows are misses there too
      asStarted = best(asStarted, await missesOnly(started, () => load(started.url, 16, 1500, paths.slice(round * 20_000, (round + 1) * 20_000))));
    }
    bare.close();
    // server-side profile of an uncached load (the load client is in its own thread, not sampled)
    const topSelf = await profileTop(async () => { await load(srv.url, 16, 1500, Array.from({ length: 20_000 }, (_, k) => q(res, older - 40_000 - k))); });
    emit({
      name: `${name} at concurrency 16 (best of 2 interleaved rounds)`, uncached: unc16, cached: hit16, floor,
      uncachedAsStarted: asStarted,
      uncachedVsFloor: +(floor!.reqPerSec / unc16!.reqPerSec).toFixed(2), cachedVsFloor: +(floor!.reqPerSec / hit16!.reqPerSec).toFixed(2), asStartedVsFloor: +(floor!.reqPerSec / asStarted!.reqPerSec).toFixed(2),
      loadAvg1m: [+load1.toFixed(1), +loadavg()[0].toFixed(1)],
      note: 'floor: bare node:http writing the same bytes; load client in a worker thread. uncached = every request a response-cache miss (distinct windows); closed bars/buckets are served from column blocks encoded once when their bucket sealed (datafeed-adapter/src/service/udf-columns.ts), only the newest bucket and the open bar are rendered per request', peakRssMB: peakRssMB(), uncachedTopSelf: topSelf,
    });
    emit({ name, requests: 200, uncachedP50ms: pct(unc, 0.5), uncachedP99ms: pct(unc, 0.99), cachedP50ms: pct(cached, 0.5), cachedP99ms: pct(cached, 0.99), cacheHits: srv.cache.hits, peakRssMB: peakRssMB() });
  }
  await srv.close();
  await started.close();
}
