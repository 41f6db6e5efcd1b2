/**
 * The hostile mix: normal chart clients (/history 1m, 300 bars, distinct windows) alongside clients
 * that send every heavy query with its worst legal parameters, against the real server on a real
 * SQLite store of 2 000 000 trades over one day (a falling market, 1-tick rows). Reported: normal
 * /history p50/p99 and the server's event-loop delay p99 with the hostile mix, each beside its floor
 * (the same normal load with no hostile client, measured in the same run), and the hostile
 * answers per second. Clients run in worker threads so their parsing does not load the server's loop.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { Engine } from '../../src/analytics/engine.js';
import { newTrade } from '../../src/core/events.js';
import { Store } from '../../src/store/store.js';
import { recordEngine } from '../../src/store/recorder.js';
import { createServer } from '../../../datafeed-adapter/src/server.js';
import { emit, peakRssMB } from '../harness.js';

const CLIENT = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { Agent, get } = require('node:http');
const agent = new Agent({ keepAlive: true, maxSockets: w.conc });
const lat = []; let k = 0, bad = 0, bytes = 0;
const t0 = performance.now();
const one = (p) => new Promise((resolve) => {
  const s = performance.now();
  get(w.base + p, { agent, headers: w.headers }, (res) => {
    res.on('data', (c) => { bytes += c.length; });
    res.on('end', () => { if (res.statusCode !== 200) bad++; lat.push(performance.now() - s); resolve(); });
  }).on('error', () => { bad++; resolve(); });
});
Promise.all(Array.from({ length: w.conc }, async () => { while (performance.now() - t0 < w.ms) await one(w.paths[k++ % w.paths.length]); }))
  .then(() => { agent.destroy(); parentPort.postMessage({ lat, secs: (performance.now() - t0) / 1000, bad, bytes }); });
`;

interface Run { lat: number[]; secs: number; bad: number; bytes: number }

function client(base: string, conc: number, ms: number, paths: string[]): Promise<Run> {
  const w = new Worker(CLIENT, { eval: true, workerData: { base, conc, ms, paths, headers: {} } });
  return new Promise<Run>((resolve, reject) => { w.once('message', (r: Run) => { void w.terminate(); resolve(r); }); w.once('error', reject); });
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2));
}

export async function benchHostile(): Promise<void> {
  const N = Number(process.env.HOSTILE_TRADES ?? 2_000_000);
  const DAY = 86_400_000;
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-bench-hostile-'));
  const end = Date.now();
  const t0 = performance.now();
  // the store: a day of a falling market, recorded by the engine through the store's own writer
  const rec = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
  const store = Store.open({ path: join(dir, 'store.sqlite'), flushIntervalMs: 0, synchronous: 'NORMAL', maxQueue: 400_000 });
  recordEngine(rec, store);
  let seed = 7, price = 700_000;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const drain = (): void => { while (store.queued > 0 && store.commit() > 0); };
  for (let i = 0; i < N; i++) {
    const t = newTrade('BTCUSDT');
    t.ts = Math.floor(end - DAY + (i * DAY) / N); t.id = i + 1;
    price += Math.floor(rnd() * 7) - 3 - (rnd() < 0.02 ? 1 : 0); // drifts down, 1-tick steps
    t.price = price; t.size = 1 + Math.floor(rnd() * rnd() * 400); t.side = rnd() < 0.52 ? 'sell' : 'buy'; t.sideSource = 'flag';
    rec.onEvent(t);
    if (i % 100_000 === 99_999) drain();
  }
  drain();
  const buildS = (performance.now() - t0) / 1000;
  // the server: a fresh engine over the store (older history comes from SQLite, like after a restart)
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m' });
  const srv = await createServer({ engine, store, port: 0, staticDir: false });
  const nowS = Math.floor(Date.now() / 1000), now = Date.now();
  const normal = Array.from({ length: 2000 }, (_, k) => `/history?symbol=BTCUSDT&resolution=1&from=${nowS - 86_400 + k * 30}&to=${nowS - 86_400 + 18_000 + k * 30}&countback=300`);
  const hostile = [
    `/history?symbol=BTCUSDT&resolution=1T&from=${nowS - 2 * 86_400}&to=${nowS}`,
    `/history?symbol=BTCUSDT&resolution=1T&from=0&to=${nowS}&countback=1220930`,
    `/history?symbol=BTCUSDT&resolution=10000T&from=${nowS - 2 * 86_400}&to=${nowS}`,
    `/history?symbol=BTCUSDT&resolution=1S&from=${nowS - 86_400}&to=${nowS}`,
    `/api/v1/footprint?symbol=BTCUSDT&agg=tick&size=1&from=${now - 2 * DAY}&to=${now}`,
    `/api/v1/footprint?symbol=BTCUSDT&agg=volume&size=0.001&from=${now - 2 * DAY}&to=${now}`,
    `/api/v1/delta?symbol=BTCUSDT&resolution=1T&from=${now - 2 * DAY}&countback=1220930`,
    `/api/v1/vwap?symbol=BTCUSDT&anchor=${now - 30 * DAY}&resolution=1S`,
    `/api/v1/trades?symbol=BTCUSDT&limit=10000&minSize=1000000`,
    `/api/v1/profile?symbol=BTCUSDT&type=fixed&from=${now - 400 * DAY}&rowTicks=1`,
  ];
  const loopDelay = async <T>(fn: () => Promise<T>): Promise<{ r: T; p99: number; max: number }> => {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const r = await fn();
    h.disable();
    return { r, p99: Number((h.percentile(99) / 1e6).toFixed(2)), max: Number((h.max / 1e6).toFixed(2)) };
  };
  await client(srv.url, 4, 1000, normal); // warm-up
  // floor: the normal clients alone; then the same with 4 hostile clients beside them
  const floor = await loopDelay(() => client(srv.url, 4, 8000, normal));
  const mixed = await loopDelay(async () => {
    const [n, h] = await Promise.all([client(srv.url, 4, 20_000, normal), client(srv.url, 4, 20_000, hostile)]);
    return { n, h };
  });
  await srv.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  const fr = floor.r, mn = mixed.r.n, mh = mixed.r.h;
  emit({
    name: 'hostile_mix', trades: N, storeBuildS: Number(buildS.toFixed(1)),
    normal: { requests: mn.lat.length, p50ms: pct(mn.lat, 0.5), p99ms: pct(mn.lat, 0.99), errors: mn.bad },
    normalFloor: { requests: fr.lat.length, p50ms: pct(fr.lat, 0.5), p99ms: pct(fr.lat, 0.99), errors: fr.bad },
    normalP99VsFloor: Number((pct(mn.lat, 0.99) / pct(fr.lat, 0.99)).toFixed(2)),
    eventLoopDelayP99ms: mixed.p99, eventLoopDelayMaxMs: mixed.max, eventLoopDelayFloorP99ms: floor.p99,
    hostile: { answers: mh.lat.length, perSec: Number((mh.lat.length / mh.secs).toFixed(2)), p50ms: pct(mh.lat, 0.5), p99ms: pct(mh.lat, 0.99), errors: mh.bad, mbPerSec: Number((mh.bytes / 1048576 / mh.secs).toFixed(1)) },
    note: 'floor: the same 4 normal clients with no hostile client, same run; clients in worker threads',
    peakRssMB: peakRssMB(),
  });
}
