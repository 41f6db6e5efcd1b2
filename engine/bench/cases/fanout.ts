/**
 * WebSocket fan-out: bar + footprint (1m) updates from one engine to N real `ws` clients on loopback.
 * Clients live in worker threads of this process (their msgpack decoding would otherwise share the
 * server's event loop and be measured as server lag). They are NOT free: on this 2-core machine the
 * client threads compete with the server for the same cores, so the busy fraction of every thread is
 * reported beside the figures (serverLoopBusy, clientLoopBusy).
 * The tape advances 20 ms of exchange time per trade, so a one-minute bar closes every 3000 trades
 * (~10 closes/s at the feed rate below) and open-bar updates are conflated to 250 ms.
 * Figures:
 *  - lag: on closed bars, client receive time (before decoding) − engine bar-close time (same process,
 *    same clock): what a user sees, including the client threads' own queueing;
 *  - server send delay: emit → socket write of the same closed-bar messages, from the server's stats;
 *  - floor: the same job as a tight loop — one pre-encoded frame of a close's size written to every
 *    client socket — against the server's fan-out of one close (ratio in the same run);
 *  - floor at rate: the same tight loop once per bar close, at the feed's closes/s and for as long as the
 *    feed, each frame carrying its loop's start time so the clients measure its lag exactly as they
 *    measure the server's (no engine, no protocol, one write per socket per close): the least lag any
 *    server writing every close to every socket could show on this machine with these clients;
 *  - run-queue wait: per second of feed, how long the server's thread and the client threads were
 *    runnable but kept off a core (Linux schedstat) — the share of the lag that is the 2 cores being full;
 *  - clients' floor: each client decoding its own closed-bar messages of one close (msgpack only, tight
 *    loop, summed over the client threads) — the least the clients must do per close;
 *  - cores: CPU of the server's thread, the client threads and V8's helper threads during the feed
 *    (from /proc), so the reader sees how much of the 2 cores the load generator itself takes;
 *  - the timed feed runs without the profiler; top-5 self time comes from a separate profiled feed.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { newTrade, type Trade } from '../../src/core/events.js';
import { Engine } from '../../src/analytics/engine.js';
import { createStreamServer } from '../../../datafeed-adapter/src/ws/server.js';
import { encode } from '../../../datafeed-adapter/src/ws/frames.js';
import { emit, peakRssMB, percentile as pct } from '../harness.js';
import { profileTop } from '../cpu-profile.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A deterministic random-walk tape, one trade per call: the live feed makes its trades as it goes, so
 * the bench holds no tape of hundreds of thousands of objects in the server's heap (its GC would be
 * counted as server lag).
 */
function tape(start: number, stepMs: number): () => Trade {
  let a = 12345, p = 600_000, i = 0;
  const r = (): number => { a = (a * 1103515245 + 12345) % 2147483648; return a / 2147483648; };
  return () => {
    p += Math.floor(r() * 7) - 3;
    const t = newTrade('BTCUSDT');
    t.ts = start + i * stepMs; t.id = i + 1; t.price = p; t.size = 1 + Math.floor(r() * 40);
    t.side = r() < 0.5 ? 'buy' : 'sell'; t.sideSource = 'flag';
    i++;
    return t;
  };
}

/**
 * Per thread of this process (Linux /proc, keyed by task id): CPU seconds (utime + stime) and seconds spent
 * runnable but waiting for a core (schedstat field 2: the OS kept the thread off the CPU while it had work).
 * Empty elsewhere.
 */
function threadTimes(): Map<string, { cpu: number; wait: number }> {
  const m = new Map<string, { cpu: number; wait: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
      let wait = NaN;
      try { wait = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e9; } catch { /* no schedstat */ }
      m.set(tid, { cpu: (Number(x[11]) + Number(x[12])) / 100, wait }); // clock ticks, USER_HZ = 100
    }
  } catch { /* not linux */ }
  return m;
}

type ThreadGroup = 'server' | 'clients' | 'v8Helpers';
/** Per second of `secs`, the CPU and the run-queue wait between two `threadTimes()` readings, by group of threads. */
function byGroup(t0: ReturnType<typeof threadTimes>, t1: ReturnType<typeof threadTimes>, secs: number, clientTids: Set<string>): Record<ThreadGroup, { cpu: number; wait: number }> {
  const out: Record<ThreadGroup, { cpu: number; wait: number }> = { server: { cpu: 0, wait: 0 }, clients: { cpu: 0, wait: 0 }, v8Helpers: { cpu: 0, wait: 0 } };
  for (const [k, v] of t1) {
    const g = out[k === String(process.pid) ? 'server' : clientTids.has(k) ? 'clients' : 'v8Helpers'], a = t0.get(k);
    g.cpu += (v.cpu - (a?.cpu ?? 0)) / secs;
    g.wait += (v.wait - (a?.wait ?? 0)) / secs;
  }
  return out;
}

/** Wait until no connection has anything queued or unsent in its socket (at most `maxMs`). */
async function drained(server: { conns: Set<{ queued: number; ws: { bufferedAmount: number } }> }, maxMs: number): Promise<void> {
  const t = now();
  while (now() - t < maxMs) {
    let busy = false;
    for (const c of server.conns) if (c.queued > 0 || c.ws.bufferedAmount > 0) { busy = true; break; }
    if (!busy) return;
    await sleep(100);
  }
}


/**
 * One worker's clients: connect, subscribe bar + footprint, record (bar time, receive time) of
 * closed-bar updates, check every update's seq is the previous + 1, count floor frames.
 */
const CLIENTS = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { performance: perf } = require('node:perf_hooks');
const { WebSocket } = require('ws');
const { Unpackr, Packr } = require('msgpackr');
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const packr = new Packr({ useRecords: false });
const now = () => performance.timeOrigin + performance.now();
let measuring = false, updates = 0, bytes = 0, snapshots = 0, gaps = 0, floorFrames = 0, elu0 = null;
const closed = [];
const floorLags = []; // floor frames: client receive − the floor loop's start (the frame's \`time\`)
const sockets = [];
const lastClosed = []; // per socket: its subscriptions' last closed-bar message, raw (for the decode floor)
let tid = 0;
try { tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()); } catch {}
const connectOne = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(w.url, { perMessageDeflate: false });
  const seqs = new Map();
  const mine = new Map();
  lastClosed.push(mine);
  ws.on('message', (data) => {
    const at = now();
    const m = unpackr.unpack(data);
    if (m.op === 'snapshot') { snapshots++; seqs.set(m.sub, 0); if (seqs.size === 2) resolve(); return; }
    if (m.op === 'pong' && m.floor) { floorFrames++; if (m.time) floorLags.push(at - m.time); return; }
    if (m.op !== 'update') return;
    if (m.seq !== seqs.get(m.sub) + 1) gaps++;
    seqs.set(m.sub, m.seq);
    if (!measuring) return;
    updates++; bytes += data.length;
    if (m.d && m.d.closed) { closed.push(m.d.t, at); mine.set(m.sub, data); }
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
  parentPort.postMessage({ ready: true, snapshots, tid });
})();
parentPort.on('message', (m) => {
  if (m === 'start') { measuring = true; elu0 = perf.eventLoopUtilization(); }
  if (m === 'pause') {
    measuring = false;
    parentPort.postMessage({ updates, bytes, closed: Float64Array.from(closed), busy: perf.eventLoopUtilization(elu0).utilization });
  }
  if (m === 'floor') { parentPort.postMessage({ floorFrames, lags: Float64Array.from(floorLags) }); floorLags.length = 0; }
  if (m === 'decode-floor') {
    // the least a client must do per close: decode this thread's share of one close's messages, tight loop
    const bufs = lastClosed.flatMap((m) => [...m.values()]), runs = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      for (const b of bufs) unpackr.unpack(b);
      runs.push(performance.now() - t0);
    }
    runs.sort((a, b) => a - b);
    parentPort.postMessage({ ms: runs[3], messages: bufs.length });
  }
  if (m === 'count') parentPort.postMessage({ closed: closed.length / 2 });
  if (m === 'stop') {
    for (const ws of sockets) ws.terminate();
    parentPort.postMessage({ gaps });
  }
});
`;

interface RawSock { write(b: Uint8Array): boolean; writableLength: number }

export async function benchFanout(clients = Number(process.env.FANOUT_CLIENTS ?? 5000), seconds = Number(process.env.FANOUT_SECONDS ?? 8)): Promise<void> {
  const profileSeconds = Number(process.env.FANOUT_PROFILE_SECONDS ?? 3);
  const engine = new Engine(new InstrumentRegistry(), { timeframe: '1m', keepBars: 2000 });
  const T0 = Date.UTC(2024, 7, 8);
  const history = tape(T0, 20);
  for (let k = 0; k < 60 * 3000; k++) engine.onEvent(history()); // one hour
  const server = createStreamServer({ engine, heartbeatMs: 60_000 });
  const { url } = await server.listen(0, '127.0.0.1');
  const closeAt = new Map<number, number>();
  let barsClosed = 0, measuring = false;
  engine.pipeline('BTCUSDT').onBarClose((cb) => { closeAt.set(cb.bar.start, now()); if (measuring) barsClosed++; });

  const W = Math.max(1, Number(process.env.FANOUT_WORKERS ?? 2));
  const tc = now();
  const workers = Array.from({ length: W }, (_, k) => new Worker(CLIENTS, { eval: true, workerData: { url, n: Math.floor(clients / W) + (k < clients % W ? 1 : 0) } }));
  const ask = <T>(msg: string): Promise<T[]> => Promise.all(workers.map((w) => new Promise<T>((ok, bad) => { w.once('message', ok); w.once('error', bad); w.postMessage(msg); })));
  const ready = await Promise.all(workers.map((w) => new Promise<{ snapshots: number; tid: number }>((ok, bad) => { w.once('message', ok); w.once('error', bad); })));
  const snapshots = ready.reduce((a, r) => a + r.snapshots, 0);
  const connectSecs = (now() - tc) / 1000;

  const live = tape(T0 + 3_600_000, 20);
  let i = 0;
  // 300 trades every 10 ms ≈ 30k trades/s ≈ 10 one-minute bar closes per second
  const feed = (secs: number): Promise<void> => new Promise<void>((resolve) => {
    const t0 = now(), i0 = i;
    const step = (): void => {
      const elapsed = now() - t0;
      if (elapsed >= secs * 1000) { resolve(); return; }
      const target = i0 + Math.floor((elapsed / 10 + 1) * 300);
      for (; i < target; i++) engine.onEvent(live());
      setTimeout(step, 10);
    };
    step();
  });

  // ---- timed feed (no profiler) ----
  for (const w of workers) w.postMessage('start');
  await sleep(50);
  server.resetDelivery();
  measuring = true;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const elu0 = performance.eventLoopUtilization();
  const th0 = threadTimes();
  const t0 = now();
  const i0 = i;
  await feed(seconds);
  const feedSecs = (now() - t0) / 1000;
  // cores used by each thread during the feed (the server's loop, the client threads, V8's helpers), and how
  // long per second each was kept off a core by the others (run-queue wait)
  const clientTids = new Set(ready.map((r) => String(r.tid)));
  const feedThreads = byGroup(th0, threadTimes(), feedSecs, clientTids);
  const tradesFed = i - i0;
  await drained(server, 20_000);
  // the clients read what the kernel still holds: wait for every closed bar (at most 20 s)
  for (const tw = now(); now() - tw < 20_000; await sleep(100)) {
    const got = (await ask<{ closed: number }>('count')).reduce((a, r) => a + r.closed, 0);
    if (got >= barsClosed * 2 * clients) break;
  }
  const drainSecs = (now() - t0) / 1000 - feedSecs;
  const serverBusy = performance.eventLoopUtilization(elu0).utilization;
  const serverCpu = (threadTimes().get(String(process.pid))?.cpu ?? NaN) - (th0.get(String(process.pid))?.cpu ?? NaN);
  loop.disable();
  measuring = false;
  const delivery = server.deliveryStats();
  const res = await ask<{ updates: number; bytes: number; closed: Float64Array; busy: number }>('pause');

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

  // ---- floor: one pre-encoded frame of a close's size written to every client socket, tight loop ----
  const socks: RawSock[] = [];
  for (const c of server.conns) { const s = (c.ws as unknown as { _socket?: RawSock })._socket; if (s) socks.push(s); }
  const closeBytes = delivery.sendDelayMs.n > 0 ? Math.round((bytes / Math.max(1, updates)) * 2) : 600;
  // the frame carries the loop's start time, so the clients measure the floor's own lag as they do the server's
  const floorFrame = (time: number): Buffer => {
    const body = encode({ v: 1, op: 'pong', ref: null, t: null, time, floor: 1, pad: 'x'.repeat(Math.max(0, closeBytes - 70)) });
    return Buffer.concat([Buffer.from(body.length < 126 ? [0x82, body.length] : [0x82, 126, body.length >> 8, body.length & 0xff]), body]);
  };
  const frame = floorFrame(now());
  const floorRuns: number[] = [];
  for (let r = 0; r < 7; r++) {
    const f = floorFrame(now()), f0 = performance.now();
    for (const s of socks) s.write(f);
    floorRuns.push(performance.now() - f0);
    await drained(server, 5000);
    await sleep(100);
  }
  const once = await ask<{ floorFrames: number; lags: Float64Array }>('floor');
  // the floor at the feed's rate: one such frame to every socket per bar close, at the closes/s of the timed
  // feed, for as long as it (no engine, no protocol): the least lag any server writing each close once per
  // socket could give on this machine with these clients
  const closeEvery = 1000 / Math.max(1, barsClosed / feedSecs);
  const floorRateRounds = Math.max(10, Math.round((seconds * 1000) / closeEvery));
  const fth0 = threadTimes(), ft0 = now();
  for (let r = 0, tr = now(); r < floorRateRounds; r++) {
    const wait = tr + r * closeEvery - now();
    if (wait > 0) await sleep(wait);
    const f = floorFrame(now());
    for (const s of socks) s.write(f);
  }
  const floorThreads = byGroup(fth0, threadTimes(), (now() - ft0) / 1000, clientTids);
  await drained(server, 5000);
  await sleep(300);
  const rate = await ask<{ floorFrames: number; lags: Float64Array }>('floor');
  const floorFrames = rate.reduce((a, r) => a + r.floorFrames, 0); // cumulative: both floors
  const lagsOf = (rs: { lags: Float64Array }[]): number[] => rs.flatMap((r) => Array.from(r.lags));
  const floorOnceLags = lagsOf(once), floorRateLags = lagsOf(rate);
  const floorMs = pct(floorRuns, 50);
  // clients' floor: every client decoding its closed bar + footprint messages of one close (summed over threads)
  const decodeFloor = await ask<{ ms: number; messages: number }>('decode-floor');
  const clientDecodeFloorMs = decodeFloor.reduce((a, r) => a + r.ms, 0);
  const closesPerSec = barsClosed / feedSecs;

  // ---- profiled feed (separate, so the profiler's overhead is not in the figures above) ----
  const topSelf = profileSeconds > 0 ? await profileTop(() => feed(profileSeconds)) : [];
  await sleep(500);
  const gaps = (await ask<{ gaps: number }>('stop')).reduce((a, r) => a + r.gaps, 0);
  await Promise.all(workers.map((w) => w.terminate()));

  const st = server.stats();
  const sd = delivery.sendDelayMs;
  emit({
    name: `ws fan-out (bar + footprint 1m) to ${clients} clients on loopback`,
    clients, clientWorkers: W, snapshots, connectSeconds: +connectSecs.toFixed(2), feedSeconds: +feedSecs.toFixed(2), tradesFed,
    barsClosed, updatesDelivered: updates, updatesPerSec: Math.round(updates / feedSecs),
    closedBarMessages: closedMsgs, closedExpected: barsClosed * 2 * clients, seqGaps: gaps,
    mbPerSec: +((bytes / feedSecs) / 1048576).toFixed(1),
    socketWritesPerSec: Math.round(delivery.writes / feedSecs), conflated: delivery.conflated,
    lagP50Ms: +pct(lags, 50).toFixed(2), lagP99Ms: +pct(lags, 99).toFixed(2), lagMaxMs: +pct(lags, 100).toFixed(2),
    serverSendDelayMs: { p50: sd.p50, p99: sd.p99, max: sd.max },
    floorFanoutMs: +floorMs.toFixed(2), floorFrameBytes: frame.length, floorFramesReceived: floorFrames, floorFramesSent: (7 + floorRateRounds) * socks.length, floorSockets: socks.length,
    sendDelayP99VsFloor: sd.p99 !== null ? +(sd.p99 / floorMs).toFixed(1) : null,
    floorLagOnceMs: { p50: +pct(floorOnceLags, 50).toFixed(2), p99: +pct(floorOnceLags, 99).toFixed(2), n: floorOnceLags.length },
    floorLagAtRateMs: { p50: +pct(floorRateLags, 50).toFixed(2), p99: +pct(floorRateLags, 99).toFixed(2), max: +pct(floorRateLags, 100).toFixed(2), rounds: floorRateRounds, everyMs: +closeEvery.toFixed(1), n: floorRateLags.length, cores: { server: +floorThreads.server.cpu.toFixed(2), clients: +floorThreads.clients.cpu.toFixed(2), v8Helpers: +floorThreads.v8Helpers.cpu.toFixed(2) } },
    lagP99VsFloorAtRate: +(pct(lags, 99) / pct(floorRateLags, 99)).toFixed(2),
    eventLoopDelayP99Ms: +(loop.percentile(99) / 1e6).toFixed(1), eventLoopDelayMaxMs: +(loop.max / 1e6).toFixed(1),
    drainSeconds: +drainSecs.toFixed(2), serverCpuSeconds: +serverCpu.toFixed(2),
    serverCpuUsPerMessage: +((serverCpu * 1e6) / Math.max(1, delivery.messages)).toFixed(2),
    runQueueWaitMsPerSec: { server: +(1000 * feedThreads.server.wait).toFixed(1), clients: +(1000 * feedThreads.clients.wait).toFixed(1) },
    cores: { server: +feedThreads.server.cpu.toFixed(2), clients: +feedThreads.clients.cpu.toFixed(2), v8Helpers: +feedThreads.v8Helpers.cpu.toFixed(2), machine: availableParallelism() },
    clientDecodeFloorMs: +clientDecodeFloorMs.toFixed(2),
    floorsCoreMsPerClose: +(floorMs + clientDecodeFloorMs).toFixed(1),
    floorsCoresAtThisRate: +(((floorMs + clientDecodeFloorMs) * closesPerSec) / 1000).toFixed(2),
    serverLoopBusy: +serverBusy.toFixed(2), clientLoopBusy: res.map((r) => +r.busy.toFixed(2)),
    dropped: st.counters.dropped, peakRssMB: peakRssMB(), topSelf,
    note: `clients in ${W} worker threads of the bench process share the machine's cores with the server (loop busy fractions above); lag = client receive (before decode) − engine bar close (same clock); floor = one ${frame.length} B frame written to every socket in a tight loop (median of 7); top-5 self from a separate ${profileSeconds} s profiled feed`,
  });
  await server.close();
}
