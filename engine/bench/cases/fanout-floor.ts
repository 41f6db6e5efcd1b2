/**
 * The fan-out floor with the writing spread over processes: could more cores on the server side get
 * the 5,000-client lag below what one event loop can (`BENCH=fanout`'s floor at rate)?
 * Each writer is its own Node process running a `ws` server; the same 5,000 `ws` clients as the fan-out
 * case (two worker threads of this process, msgpack-decoding every message) are split evenly over the
 * writers. Ten times a second every writer writes one pre-encoded frame of a bar close's size (~525 B,
 * carrying the round's start time) to each of its sockets; the clients record receive − start. Variants
 * (1 writer process, 2 writer processes) alternate, twice each, each on fresh connections.
 * No engine and no protocol: this is the least lag of the job itself, by writer count, on this machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { emit, percentile } from '../harness.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** a writer process: a ws server; on {go: time} it writes one frame stamped `time` to every socket */
const WRITER = `
const { WebSocketServer } = require('ws');
const { Packr } = require('msgpackr');
const packr = new Packr({ useRecords: false });
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
const socks = [];
wss.on('connection', (ws) => socks.push(ws._socket));
wss.on('listening', () => process.send({ port: wss.address().port }));
process.on('message', (m) => {
  if (m.go === undefined) return;
  const body = packr.pack({ v: 1, op: 'pong', time: m.go, floor: 1, pad: 'x'.repeat(m.pad) });
  const frame = Buffer.concat([Buffer.from([0x82, 126, body.length >> 8, body.length & 0xff]), body]);
  for (const s of socks) s.write(frame);
});
`;

/** clients: connect `n` sockets to each url, decode every message, record the floor frames' lag */
const CLIENTS = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { WebSocket } = require('ws');
const { Unpackr } = require('msgpackr');
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const now = () => performance.timeOrigin + performance.now();
const lags = [], sockets = [];
const one = (url) => new Promise((ok, bad) => {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('message', (data) => { const at = now(); const m = unpackr.unpack(data); if (m.floor) lags.push(at - m.time); });
  ws.once('open', ok); ws.once('error', bad);
  sockets.push(ws);
});
(async () => {
  for (const url of w.urls) for (let i = 0; i < w.n; i += 50) await Promise.all(Array.from({ length: Math.min(50, w.n - i) }, () => one(url)));
  parentPort.postMessage('ready');
})();
parentPort.on('message', (m) => {
  if (m === 'lags') parentPort.postMessage(Float64Array.from(lags));
  if (m === 'stop') { for (const ws of sockets) ws.terminate(); parentPort.postMessage('stopped'); }
});
`;


async function variant(writers: number, clients: number, rounds: number, everyMs: number, pad: number): Promise<{ p50: number; p99: number; max: number; n: number; expected: number }> {
  const procs: ChildProcess[] = Array.from({ length: writers }, () => spawn(process.execPath, ['-e', WRITER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const ports = await Promise.all(procs.map((p) => new Promise<number>((ok, bad) => { p.once('message', (m: { port: number }) => ok(m.port)); p.once('error', bad); })));
    const urls = ports.map((p) => `ws://127.0.0.1:${p}`);
    const per = Math.floor(clients / 2 / writers);
    const ws = [0, 1].map(() => new Worker(CLIENTS, { eval: true, workerData: { urls, n: per } }));
    const ask = <T>(msg: string): Promise<T[]> => Promise.all(ws.map((w) => new Promise<T>((ok, bad) => { w.once('message', ok); w.once('error', bad); w.postMessage(msg); })));
    await Promise.all(ws.map((w) => new Promise((ok, bad) => { w.once('message', ok); w.once('error', bad); })));
    await sleep(500);
    const t0 = now();
    for (let r = 0; r < rounds; r++) {
      const wait = t0 + r * everyMs - now();
      if (wait > 0) await sleep(wait);
      const go = now();
      for (const p of procs) p.send({ go, pad });
    }
    await sleep(2000);
    const all = (await ask<Float64Array>('lags'));
    const lags = new Float64Array(all.reduce((a, x) => a + x.length, 0));
    let o = 0; for (const x of all) { lags.set(x, o); o += x.length; }
    await ask('stop');
    await Promise.all(ws.map((w) => w.terminate()));
    return { p50: +percentile(lags, 50).toFixed(2), p99: +percentile(lags, 99).toFixed(2), max: +percentile(lags, 100).toFixed(2), n: lags.length, expected: rounds * per * 2 * writers };
  } finally { for (const p of procs) p.kill(); }
}

export async function benchFanoutFloor(clients = Number(process.env.FANOUT_CLIENTS ?? 5000)): Promise<void> {
  const rounds = 80, everyMs = 100, pad = 455; // 8 s at 10 closes/s, a ~525 B frame: the fan-out case's load
  const runs: Record<string, { p50: number; p99: number; max: number; n: number; expected: number }[]> = { '1': [], '2': [] };
  for (const w of [1, 2, 1, 2]) runs[String(w)].push(await variant(w, clients, rounds, everyMs, pad));
  const loadavg = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ');
  emit({
    name: `ws fan-out floor by writer processes (${clients} clients, one ~525 B frame per socket 10×/s)`,
    clients, rounds, everyMs, oneWriterProcess: runs['1'], twoWriterProcesses: runs['2'], loadavg,
    note: 'lag = client receive (before decode) − the round\'s start; clients in 2 worker threads of the bench process decode every message; each variant on fresh connections, alternating 1, 2, 1, 2',
  });
}
