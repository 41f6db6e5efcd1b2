/**
 * WebSocket fan-out: bar + footprint (1m) updates from one engine to N real `ws` clients on loopback.
 * Clients live in worker threads (their msgpack decoding would otherwise share the server's event
 * loop and be measured as server lag); the server's own event-loop delay is sampled during the feed.
 * The tape advances 20 ms of exchange time per trade, so a one-minute bar closes every 3000 trades
 * (~10 closes/s at the feed rate below) and open-bar updates are conflated to 250 ms. Delivery lag is
 * measured on closed bars: client receive time − engine bar-close time (same process, same clock).
 */
import { Worker } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { newTrade, type Trade } from '../../src/core/events.js';
import { Engine } from '../../src/analytics/engine.js';
import { createStreamServer } from '../../../datafeed-adapter/src/ws/server.js';
import { emit, peakRssMB } from '../harness.js';
import { profileTop } from '../cpu-profile.js';

const now = (): number => performance.timeOrigin + performance.now();

function makeTape(n: number, start: number, stepMs: number): Trade[] {
  let a = 12345;
  const r = (): number => { a = (a * 1103515245 + 12345) % 2147483648; return a / 2147483648; };
  let p = 600_000;
  const out: Trade[] = [];
  for (let i = 0; i < n; i++) {
    p += Math.floor(r() * 7) - 3;
    const t = newTrade('BTCUSDT');
    t.ts = start + i * stepMs; t.id = i + 1; t.price = p; t.size = 1 + Math.floor(r() * 40);
    t.side = r() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag';
    out.push(t);
  }
  return out;
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** One worker's clients: connect, subscribe bar + footprint, record (bar time, receive time) of closed-bar updates. */
const CLIENTS = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { WebSocket } = require('ws');
const { Unpackr, Packr } = require('msgpackr');
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const packr = new Packr({ useRecords: false });
const now = () => performance.timeOrigin + performance.now();
let measuring = false, updates = 0, bytes = 0, snapshots = 0;
const closed = [];
const sockets = [];
const connectOne = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(w.url, { perMessageDeflate: false });
  let subs = 0;
  ws.on('message', (data) => {
    const m = unpackr.unpack(data);
    if (m.op === 'snapshot') { snapshots++; if (++subs === 2) resolve(); return; }
    if (m.op !== 'update' || !measuring) return;
    updates++; bytes += data.length;
    if (m.d && m.d.closed) closed.push(m.d.t, now());
  });
  ws.once('error', reject);
  ws.once('open', () => {
    ws.send(packr.pack({ v: 1, op: 'subscribe', id: 1, ch: 'bar', sym: 'BTCUSDT', tf: '1m', limit: 10 }));
    ws.send(packr.pack({ v: 1, op: 'subscribe', id: 2, ch: 'footprint', sym: 'BTCUSDT', tf: '1m', limit: 5 }));
  });
  sockets.push(ws);
});
(async () => {
  for (let i = 0; i < w.n; i += 50) await Promise.all(Array.from({ length: Math.min(50, w.n - i) }, connectOne));
  parentPort.postMessage({ ready: true, snapshots });
})();
parentPort.on('message', (m) => {
  if (m === 'start') measuring = true;
  if (m === 'stop') {
    measuring = false;
    for (const ws of sockets) ws.terminate();
    parentPort.postMessage({ updates, bytes, closed: Float64Array.from(closed) });
  }
});
`;

export async function benchFanout(clients = Number(process.env.FANOUT_CLIENTS ?? 5000), seconds = Number(process.env.FANOUT_SECONDS ?? 8)): Promise<void> {
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 2000 });
  const T0 = Date.UTC(2024, 7, 8);
  const history = makeTape(60 * 3000, T0, 20); // one hour
  for (const t of history) engine.onEvent(t);
  const server = createStreamServer({ engine, heartbeatMs: 60_000 });
  const { url } = await server.listen(0, '127.0.0.1');
  const closeAt = new Map<number, number>();
  let barsClosed = 0, measuring = false;
  engine.pipeline('BTCUSDT').onBarClose((cb) => { closeAt.set(cb.bar.start, now()); if (measuring) barsClosed++; });

  const W = Math.max(1, Number(process.env.FANOUT_WORKERS ?? 2));
  const tc = now();
  const workers = Array.from({ length: W }, (_, k) => new Worker(CLIENTS, { eval: true, workerData: { url, n: Math.floor(clients / W) + (k < clients % W ? 1 : 0) } }));
  const ready = await Promise.all(workers.map((w) => new Promise<{ snapshots: number }>((ok, bad) => { w.once('message', ok); w.once('error', bad); })));
  const snapshots = ready.reduce((a, r) => a + r.snapshots, 0);
  const connectSecs = (now() - tc) / 1000;

  const live = makeTape(seconds * 40 * 3000, T0 + 3_600_000, 20);
  let i = 0;
  for (const w of workers) w.postMessage('start');
  measuring = true;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t0 = now();
  const feed = (): Promise<void> => new Promise<void>((resolve) => {
    const step = (): void => {
      const elapsed = now() - t0;
      if (elapsed >= seconds * 1000 || i >= live.length) { resolve(); return; }
      // 300 trades every 10 ms ≈ 30k trades/s ≈ 10 one-minute bar closes per second
      const target = Math.min(live.length, Math.floor((elapsed / 10 + 1) * 300));
      for (; i < target; i++) engine.onEvent(live[i]);
      setTimeout(step, 10);
    };
    step();
  });
  // the feed runs under the sampling profiler (its overhead is in the figures; say so below)
  const topSelf = await profileTop(feed);
  const feedSecs = (now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1500)); // drain
  loop.disable();
  measuring = false;
  const res = await Promise.all(workers.map((w) => new Promise<{ updates: number; bytes: number; closed: Float64Array }>((ok) => { w.once('message', ok); w.postMessage('stop'); })));
  await Promise.all(workers.map((w) => w.terminate()));
  const lags: number[] = [];
  let updates = 0, bytes = 0, closedMsgs = 0;
  for (const r of res) {
    updates += r.updates; bytes += r.bytes;
    for (let k = 0; k < r.closed.length; k += 2) {
      closedMsgs++;
      const at = closeAt.get(r.closed[k]);
      if (at !== undefined) lags.push(r.closed[k + 1] - at);
    }
  }
  const st = server.stats();
  emit({
    name: `ws fan-out (bar + footprint 1m) to ${clients} clients on loopback`,
    clients, clientWorkers: W, snapshots, connectSeconds: +connectSecs.toFixed(2), feedSeconds: +feedSecs.toFixed(2), tradesFed: i,
    barsClosed, updatesDelivered: updates, updatesPerSec: Math.round(updates / feedSecs),
    closedBarMessages: closedMsgs, closedExpected: barsClosed * 2 * clients,
    mbPerSec: +((bytes / feedSecs) / 1048576).toFixed(1),
    lagP50Ms: +pct(lags, 50).toFixed(2), lagP99Ms: +pct(lags, 99).toFixed(2), lagMaxMs: +pct(lags, 100).toFixed(2),
    eventLoopDelayP99Ms: +(loop.percentile(99) / 1e6).toFixed(1), eventLoopDelayMaxMs: +(loop.max / 1e6).toFixed(1),
    dropped: st.counters.dropped, peakRssMB: peakRssMB(), topSelf,
    note: 'clients in worker threads of the bench process; lag = client receive − engine bar close (same clock); server thread sampled by the profiler during the feed',
  });
  await server.close();
}
