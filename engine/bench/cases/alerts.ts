/**
 * Alert path cost: pipeline throughput (Engine + SignalEngine on a simulated tape with scripted
 * absorption / exhaustion / divergence / stop runs across a session boundary) with Telegram alerts off,
 * and on with the local Bot API stalled (accepts connections, never answers). The replay yields to the
 * event loop every `chunk` events in both runs, so the engine thread's share of the alert path (payload
 * capture, batch posting, answering the worker's chart-data requests) runs interleaved with ingestion
 * as it would live, while routing, SQLite, sending and chart drawing run in the alerts worker thread.
 * Off and on alternate for `rounds` rounds (a run is well under a second: single runs are noisy); the
 * two JSON lines give the medians, and every round's figure.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstrumentRegistry } from '../../src/core/instruments.js';
import { SESSION_TEMPLATES } from '../../src/core/sessions.js';
import type { MarketEvent } from '../../src/core/events.js';
import { Engine } from '../../src/analytics/engine.js';
import { MarketSimulator, type ScriptedEvent, type ScriptKind } from '../../src/sim/index.js';
import { SignalEngine } from '../../src/signals/engine.js';
import { AlertService } from '../../src/alerts/service.js';
import { footprintChartProvider } from '../../src/alerts/chart.js';
import { ChatDirectory } from '../../src/alerts/chats.js';
import { HistoryService } from '../../../datafeed-adapter/src/service/history.js';
import { openAlertDb } from '../../src/alerts/queue.js';
import { ALERT_KINDS } from '../../src/alerts/types.js';
import { emit, peakRssMB, rssMB } from '../harness.js';

function registry(): InstrumentRegistry {
  const r = new InstrumentRegistry();
  r.add({ id: 'SIM', symbol: 'SIM', venue: 'generic', assetClass: 'crypto', description: 'simulated', tickSize: '1', lotStep: '1', profileRow: '10', contractSize: 1, session: SESSION_TEMPLATES.crypto_24x7, thresholds: { absorptionMinVolume: 800, initiativeMinDelta: 150 }, flow: 'orderflow' });
  return r;
}

function tape(hours: number): MarketEvent[] {
  const kinds: ScriptKind[] = ['absorption', 'absorption', 'exhaustion', 'divergence', 'stop_run'];
  const scenario: ScriptedEvent[] = [];
  const n = Math.floor(((hours * 60 - 45) * 60_000) / 180_000);
  for (let i = 0; i < n; i++) scenario.push({ kind: kinds[i % kinds.length], offsetMs: 40 * 60_000 + i * 180_000, side: i % 2 ? 'buy' : 'sell' });
  const sim = new MarketSimulator({ seed: 7, instrument: 'SIM', startTs: Date.UTC(2024, 0, 9, 23, 0), startPrice: 100_000, levelTicks: 1, durationMs: hours * 3_600_000, scenario });
  const out: MarketEvent[] = [];
  sim.run((ev) => out.push({ ...ev } as MarketEvent));
  return out;
}

/**
 * A Bot API that accepts connections and never answers, in a child process: in production the Bot
 * API is remote, so its socket handling must not be charged to the engine's event loop.
 */
async function stalledServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const script = `
    const http = require('node:http');
    let n = 0; const socks = new Set();
    const s = http.createServer(() => { n++; process.send?.({ n }); });
    s.on('connection', (c) => { socks.add(c); c.on('close', () => socks.delete(c)); });
    s.listen(0, '127.0.0.1', () => process.send({ port: s.address().port }));
    process.on('message', () => { for (const c of socks) c.destroy(); s.close(() => process.exit(0)); });`;
  const file = join(mkdtempSync(join(tmpdir(), 'tapeflow-stall-')), 'stall.cjs');
  writeFileSync(file, script);
  const child = fork(file, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let requests = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: { port?: number; n?: number }) => { if (m.port) resolve(m.port); if (m.n) requests = m.n; });
    child.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.send('close'); }),
  };
}

const CHATS = [1, 2, -100];

/** CPU time (user + system, ms) of the calling thread so far, from /proc (Linux; 10 ms ticks); null elsewhere. */
function threadCpuMs(): number | null {
  try {
    const f = readFileSync('/proc/thread-self/stat', 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10; // utime, stime (fields 14, 15) in USER_HZ = 100 ticks
  } catch { return null; }
}

async function run(events: MarketEvent[], alerts: { url: string; dir: string; maxPending: number; thread: 'worker' | 'inline' } | null, chunk: number) {
  const engine = new Engine(registry(), { timeframe: '1m', keepBars: 10_000 });
  const signals = new SignalEngine({ levelAbsorption: { levelTicks: 1, maxDisplacementTicks: 1, minAttempts: 3, windowMs: 20_000 } });
  signals.attach(engine);
  // the app's HistoryService (it serves /api/v1 whether alerts are on or not; it keeps a trade ring per
  // instrument): present in both runs, as in startApp, so the difference is the alert path alone
  const service = new HistoryService(engine);
  let svc: AlertService | null = null;
  if (alerts) {
    const dbPath = join(alerts.dir, 'alerts.sqlite');
    // every kind (sweeps included) for three chats, written before the worker opens the database
    const db = openAlertDb(dbPath);
    const chats = new ChatDirectory(db);
    for (const c of CHATS) chats.subscribe(c, '*', ALERT_KINDS);
    db.close();
    svc = new AlertService({
      token: '1:bench', apiRoot: alerts.url, dbPath, chatIds: CHATS, commands: 'off', maxEventAgeMs: Infinity,
      maxPending: alerts.maxPending, requestTimeoutMs: 60_000, cooldownMs: { sweep: 0, rule: 0, exit_warning: 0 }, charts: footprintChartProvider(engine, { bars: 30, service }),
      sender: { stopTimeoutMs: 100 }, thread: alerts.thread,
    }).attach(signals, engine);
    await svc.start();
  }
  let trades = 0, captureMax = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const cpu0 = threadCpuMs();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += chunk) {
    const end = Math.min(events.length, i + chunk);
    for (let k = i; k < end; k++) { const ev = events[k]; if (ev.type === 'trade') trades++; engine.onEvent(ev); }
    await new Promise<void>((r) => setImmediate(r));
    if (svc) captureMax = Math.max(captureMax, svc.stats.captureBuffer);
  }
  engine.finish();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = threadCpuMs();
  const cpuMs = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  return { trades, events: events.length, seconds: secs, tradesPerSec: Math.round(trades / secs), cpuMs, signals: signals.signals.length, svc, captureMax };
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

async function onRun(events: MarketEvent[], url: string, maxPending: number, thread: 'worker' | 'inline', chunk: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tf-bench-alerts-'));
  try {
    const on = await run(events, { url, dir, maxPending, thread }, chunk);
    const svc = on.svc!;
    await svc.drain(); // after the clock stopped: the alert path finishes routing what it was given
    const st = svc.stats;
    const q = (await svc.queueStats()).queue;
    const detail = {
      thread: st.thread, alertsCaptured: st.captured, routed: st.routed, messagesQueued: st.queuedMessages, queuePending: q.pending + q.sending, queuePendingMax: st.queuePendingMax,
      queueBound: st.queueBound, overflowDrops: q.overflowDrops, captureBufferMax: on.captureMax, captureDrops: st.captureDrops, inboxDrops: st.inboxDrops, chartErrors: st.chartErrors,
      engineThreadRequests: st.requests, engineThreadRequestMs: +st.requestMs.toFixed(1),
    };
    await svc.close();
    return { tradesPerSec: on.tradesPerSec, cpuMs: on.cpuMs, detail };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Rounds of: alerts off; on with the alert path in its worker thread (the default); on with it
 * in-thread (how it ran before the worker, kept as the fallback), so the three compare under the same
 * machine load.
 */
export async function benchAlerts(hours = 6, chunk = 2000, rounds = Number(process.env.ALERTS_ROUNDS ?? 7), maxPending = 500): Promise<void> {
  const events = tape(hours);
  const server = await stalledServer();
  const offTps: number[] = [], workerTps: number[] = [], inlineTps: number[] = [], workerRatio: number[] = [], inlineRatio: number[] = [];
  const offCpu: number[] = [], workerCpu: number[] = [], inlineCpu: number[] = [];
  let off: Awaited<ReturnType<typeof run>> | null = null;
  let wDetail: Record<string, unknown> = {}, iDetail: Record<string, unknown> = {};
  try {
    for (let r = 0; r < rounds; r++) {
      off = await run(events, null, chunk);
      offTps.push(off.tradesPerSec);
      const w = await onRun(events, server.url, maxPending, 'worker', chunk);
      const i = await onRun(events, server.url, maxPending, 'inline', chunk);
      workerTps.push(w.tradesPerSec); inlineTps.push(i.tradesPerSec);
      workerRatio.push(w.tradesPerSec / off.tradesPerSec); inlineRatio.push(i.tradesPerSec / off.tradesPerSec);
      wDetail = w.detail; iDetail = i.detail;
      if (off.cpuMs !== null && w.cpuMs !== null && i.cpuMs !== null) { offCpu.push(off.cpuMs); workerCpu.push(w.cpuMs); inlineCpu.push(i.cpuMs); }
    }
  } finally {
    await server.close();
  }
  const o = off!;
  const r3 = (xs: number[]): number[] => xs.map((x) => +x.toFixed(3));
  // engine-thread CPU (ms, /proc, 10 ms ticks): what ingestion itself cost on its thread, whatever else ran on the machine
  const cpu = (xs: number[]): Record<string, unknown> => (xs.length ? { engineThreadCpuMs: median(xs), engineThreadCpuPerRound: xs } : {});
  const cpuRatio = (xs: number[]): Record<string, unknown> => (xs.length ? { engineThreadCpuVsOff: +(median(xs) / median(offCpu)).toFixed(3) } : {});
  emit({ name: 'alerts off (Engine + SignalEngine, simulated tape)', trades: o.trades, events: o.events, signals: o.signals, rounds, tradesPerSec: median(offTps), perRound: offTps, ...cpu(offCpu), peakRssMB: peakRssMB() });
  emit({
    name: 'alerts on, worker thread, Bot API stalled (3 chats, every kind, charts on ENTRY/BIAS)', trades: o.trades, rounds, tradesPerSec: median(workerTps), perRound: workerTps,
    ratioVsOff: +median(workerRatio).toFixed(3), ratioPerRound: r3(workerRatio), ...cpu(workerCpu), ...cpuRatio(workerCpu), ...wDetail, requestsHangingAtServer: server.requests(), rssMB: rssMB(), peakRssMB: peakRssMB(),
  });
  emit({
    name: 'alerts on, in-thread (the fallback; the pre-worker layout), Bot API stalled', trades: o.trades, rounds, tradesPerSec: median(inlineTps), perRound: inlineTps,
    ratioVsOff: +median(inlineRatio).toFixed(3), ratioPerRound: r3(inlineRatio), ...cpu(inlineCpu), ...cpuRatio(inlineCpu), ...iDetail,
  });
}
