/**
 * Alert path cost: ingestion throughput (Engine + SignalEngine on a simulated tape with scripted
 * absorption / exhaustion / divergence / stop runs across a session boundary) with Telegram alerts off,
 * and on against a local Bot API that is stalled (accepts connections, never answers) or answering. The
 * tape is held off the JS heap (packed-tape.ts) and its first third is a warm-up; the rest is timed,
 * yielding to the event loop every `chunk` events in every variant, so the engine thread's share of the
 * alert path (capturing payloads, posting batches, answering the worker's chart-data requests) runs
 * interleaved with ingestion as it would live, while routing, SQLite, sending and chart drawing run in
 * the alerts worker thread. A run is a fraction of a second and this machine's runs vary by ±20 %, so
 * variants alternate over `rounds` rounds and the lines give medians, quartiles and every round.
 */
import { fork } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { ALERT_KINDS, DEFAULT_KINDS } from '../../src/alerts/types.js';
import { threadSched } from '../../src/alerts/thread-sched.js';
import { emit, peakRssMB, rssMB } from '../harness.js';
import { PackedTape } from '../packed-tape.js';

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
 * A local Bot API in a child process (in production it is remote: its socket handling must not be
 * charged to the engine's process): `stalled` accepts connections and never answers; otherwise every
 * call is answered at once with a sent message.
 */
async function botApi(stalled: boolean): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const script = `
    const http = require('node:http');
    let n = 0; const socks = new Set();
    const s = http.createServer((req, res) => {
      n++; process.send?.({ n });
      if (${stalled}) return;
      req.resume();
      req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ ok: true, result: { message_id: n, date: 0, chat: { id: 1, type: 'private' } } })); });
    });
    s.on('connection', (c) => { socks.add(c); c.on('close', () => socks.delete(c)); });
    s.listen(0, '127.0.0.1', () => process.send({ port: s.address().port }));
    process.on('message', () => { for (const c of socks) c.destroy(); s.close(() => process.exit(0)); });`;
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-botapi-'));
  const file = join(dir, 'bot-api.cjs');
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
    close: () => new Promise<void>((resolve) => { child.once('exit', () => { rmSync(dir, { recursive: true, force: true }); resolve(); }); child.send('close'); }),
  };
}

const CHATS = [1, 2, -100];

let gcMs = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) gcMs += e.duration; }).observe({ entryTypes: ['gc'] });

interface RunResult {
  trades: number; events: number; signals: number; tradesPerSec: number;
  /** engine thread: CPU time, time runnable but waiting for a CPU (Linux schedstat; null elsewhere), GC pauses */
  cpuMs: number | null; waitMs: number | null; gcMs: number;
  /** the alerts worker thread's CPU time from start until everything was routed (null when off / in-thread) */
  workerCpuMs: number | null;
  detail: Record<string, unknown>;
}

/**
 * 'stress': every kind (sweeps too) for every chat, no cooldowns on sweeps / rule calls / exit warnings;
 * 'defaults': the shipped kinds and cooldowns; 'none': no kind switched on (the worker receives every
 * payload and routes nothing: what is left is the engine thread's share, capturing and posting)
 */
type Density = 'stress' | 'defaults' | 'none';

async function run(tape: PackedTape, alerts: { url: string; dir: string; maxPending: number; thread: 'worker' | 'inline'; density: Density } | null, chunk: number): Promise<RunResult> {
  const engine = new Engine(registry(), { timeframe: '1m', keepBars: 10_000 });
  const signals = new SignalEngine({ levelAbsorption: { levelTicks: 1, maxDisplacementTicks: 1, minAttempts: 3, windowMs: 20_000 } });
  signals.attach(engine);
  // the app's HistoryService (it serves /api/v1 whether alerts are on or not; it keeps a trade ring per
  // instrument): present in both runs, as in startApp, so the difference is the alert path alone
  const service = new HistoryService(engine);
  let svc: AlertService | null = null;
  let worker0: number | null = null;
  if (alerts) {
    const dbPath = join(alerts.dir, 'alerts.sqlite');
    const stress = alerts.density === 'stress';
    // three chats, subscribed before the worker opens the database
    const db = openAlertDb(dbPath);
    const chats = new ChatDirectory(db);
    for (const c of CHATS) chats.subscribe(c, '*', stress ? ALERT_KINDS : DEFAULT_KINDS);
    db.close();
    svc = new AlertService({
      token: '1:bench', apiRoot: alerts.url, dbPath, chatIds: CHATS, commands: 'off', maxEventAgeMs: Infinity,
      maxPending: alerts.maxPending, requestTimeoutMs: 60_000, ...(stress ? { cooldownMs: { sweep: 0, rule: 0, exit_warning: 0 } } : {}), charts: footprintChartProvider(engine, { bars: 30, service }),
      sender: { stopTimeoutMs: 100 }, thread: alerts.thread, ...(alerts.density === 'none' ? { kinds: [] } : {}),
    }).attach(signals, engine);
    await svc.start();
  }
  // warm-up, untimed: the first third of the tape, everything it alerted routed; a long-running process
  // has its alert path compiled and its SQLite pages cached, a fresh worker has not
  const warm = Math.floor(tape.length / 3 / chunk) * chunk;
  for (let k = 0; k < warm; k++) engine.onEvent(tape.at(k));
  if (svc) {
    await svc.drain();
    await svc.queueStats(); // a round trip: the worker's CPU counter as of now
    worker0 = svc.stats.worker?.cpuMs ?? null;
  }
  const captured0 = svc?.stats.captured ?? 0;
  let trades = 0, captureMax = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const gc0 = gcMs;
  const s0 = threadSched();
  const t0 = process.hrtime.bigint();
  for (let i = warm; i < tape.length; i += chunk) {
    const end = Math.min(tape.length, i + chunk);
    for (let k = i; k < end; k++) { const ev = tape.at(k); if (ev.type === 'trade') trades++; engine.onEvent(ev); }
    await new Promise<void>((r) => setImmediate(r));
    if (svc) captureMax = Math.max(captureMax, svc.captureBuffered);
  }
  engine.finish();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const s1 = threadSched();
  const res: RunResult = {
    trades, events: tape.length - warm, signals: signals.signals.length, tradesPerSec: Math.round(trades / secs),
    cpuMs: s0 && s1 ? +(s1.cpuMs - s0.cpuMs).toFixed(1) : null, waitMs: s0 && s1 ? +(s1.waitMs - s0.waitMs).toFixed(1) : null, gcMs: +(gcMs - gc0).toFixed(1),
    workerCpuMs: null, detail: {},
  };
  if (svc) {
    await svc.drain(); // after the clock stopped: the alert path finishes routing what it was given
    const q = (await svc.queueStats()).queue;
    const st = svc.stats;
    const w1 = st.worker?.cpuMs ?? null;
    res.workerCpuMs = worker0 !== null && w1 !== null ? +(w1 - worker0).toFixed(1) : null;
    res.detail = {
      thread: st.thread, workerPolicy: st.worker?.policy ?? null, alertsCaptured: st.captured, alertsInTimedPart: st.captured - captured0, routed: st.routed, messagesQueued: st.queuedMessages, queuePending: q.pending + q.sending,
      queuePendingMax: st.queuePendingMax, queueBound: st.queueBound, overflowDrops: q.overflowDrops, captureBufferMax: captureMax, captureDrops: st.captureDrops, inboxDrops: st.inboxDrops,
      chartErrors: st.chartErrors, chartsDrawn: (await svc.queueStats()).sender.chartsDrawn, engineThreadRequests: st.requests, engineThreadRequestMs: +st.requestMs.toFixed(1), alertPathOnEngineThreadMs: +st.engineThreadMs.toFixed(1),
    };
    await svc.close();
  }
  return res;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const quartiles = (xs: number[]): [number, number] => { const s = [...xs].sort((a, b) => a - b); const q = (f: number): number => s[Math.min(s.length - 1, Math.max(0, Math.round(f * (s.length - 1))))]; return [q(0.25), q(0.75)]; };

async function onRun(tape: PackedTape, url: string, maxPending: number, thread: 'worker' | 'inline', density: Density, chunk: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-bench-alerts-'));
  try {
    return await run(tape, { url, dir, maxPending, thread, density }, chunk);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const VARIANTS = {
  off: null,
  stalled: { api: 'stalled', thread: 'worker', density: 'stress' },
  answering: { api: 'answering', thread: 'worker', density: 'stress' },
  defaults: { api: 'stalled', thread: 'worker', density: 'defaults' },
  captureOnly: { api: 'stalled', thread: 'worker', density: 'none' },
  inline: { api: 'stalled', thread: 'inline', density: 'stress' },
} as const;
type Variant = keyof typeof VARIANTS;

/**
 * Rounds of one run per variant, in a rotating order so none always follows another: alerts off; on
 * with the Bot API stalled (the alert path in its worker thread, the default); on with the Bot API
 * answering; stalled with the shipped kinds and cooldowns; stalled with nothing routed (the engine
 * thread's share alone); stalled with the alert path in-thread (the fallback when no worker can start).
 * Per round the ratios of ingestion throughput stalled / answering (what a stall changes) and on / off
 * (what alerting costs); reported as the median and quartiles over rounds, with the engine thread's CPU
 * time and run-queue wait and the worker's CPU time (the alert path's work, done elsewhere).
 */
export async function benchAlerts(hours = 6, chunk = 2000, rounds = Number(process.env.ALERTS_ROUNDS ?? 15), maxPending = 500): Promise<void> {
  const events = new PackedTape(tape(hours));
  const stalled = await botApi(true);
  const answering = await botApi(false);
  // ALERTS_VARIANTS=stalled,… runs only those (profiling one variant); the summary needs them all
  const pick = process.env.ALERTS_VARIANTS?.split(',');
  const order = (Object.keys(VARIANTS) as Variant[]).filter((v) => !pick || pick.includes(v));
  const runs = Object.fromEntries(order.map((v) => [v, [] as RunResult[]])) as Record<Variant, RunResult[]>;
  try {
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < order.length; k++) {
        const v = order[(k + r) % order.length];
        const o = VARIANTS[v];
        runs[v].push(o === null ? await run(events, null, chunk) : await onRun(events, o.api === 'answering' ? answering.url : stalled.url, maxPending, o.thread, o.density, chunk));
      }
    }
  } finally {
    await stalled.close();
    await answering.close();
  }
  const num = (xs: (number | null)[]): number[] => xs.filter((x): x is number => x !== null);
  const r3 = (x: number): number => +x.toFixed(3);
  const summary = (rs: RunResult[]): Record<string, unknown> => {
    const cpu = num(rs.map((x) => x.cpuMs)), wait = num(rs.map((x) => x.waitMs)), wcpu = num(rs.map((x) => x.workerCpuMs));
    return {
      tradesPerSec: median(rs.map((x) => x.tradesPerSec)), perRound: rs.map((x) => x.tradesPerSec),
      ...(cpu.length ? { engineThreadCpuMs: +median(cpu).toFixed(1), engineThreadWaitMs: +median(wait).toFixed(1) } : {}),
      engineGcMs: +median(rs.map((x) => x.gcMs)).toFixed(1),
      ...(wcpu.length ? { workerCpuMs: +median(wcpu).toFixed(1) } : {}),
    };
  };
  if (pick) { for (const v of order) emit({ name: `alerts: ${v}`, ...summary(runs[v]), ...runs[v][rounds - 1].detail }); return; }
  const o = runs.off[rounds - 1];
  const versus = (name: string, rs: RunResult[], base: RunResult[]): Record<string, unknown> => {
    const ratio = rs.map((x, i) => x.tradesPerSec / base[i].tradesPerSec);
    const cpu = num(rs.map((x, i) => (x.cpuMs !== null && base[i].cpuMs ? x.cpuMs / base[i].cpuMs! : null)));
    const [q1, q3] = quartiles(ratio);
    return {
      [`ratioVs${name}`]: r3(median(ratio)), [`ratioVs${name}Quartiles`]: [r3(q1), r3(q3)], [`ratioVs${name}PerRound`]: ratio.map(r3),
      ...(cpu.length ? { [`engineThreadCpuVs${name}`]: r3(median(cpu)) } : {}),
    };
  };
  emit({ name: 'alerts off (Engine + SignalEngine, simulated tape)', trades: o.trades, events: o.events, signals: o.signals, rounds, ...summary(runs.off), peakRssMB: peakRssMB() });
  emit({
    name: 'alerts on, Bot API stalled (worker thread; 3 chats, every kind, charts on ENTRY/BIAS)', trades: o.trades, rounds, ...summary(runs.stalled),
    ...versus('Answering', runs.stalled, runs.answering), ...versus('Off', runs.stalled, runs.off), ...runs.stalled[rounds - 1].detail, requestsHangingAtServer: stalled.requests(),
    rssMB: rssMB(), peakRssMB: peakRssMB(),
  });
  emit({ name: 'alerts on, Bot API answering (worker thread)', trades: o.trades, rounds, ...summary(runs.answering), ...versus('Off', runs.answering, runs.off), ...runs.answering[rounds - 1].detail, requestsAnswered: answering.requests() });
  emit({ name: 'alerts on, Bot API stalled, shipped defaults (kinds without sweeps, cooldowns; worker thread)', trades: o.trades, rounds, ...summary(runs.defaults), ...versus('Off', runs.defaults, runs.off), ...runs.defaults[rounds - 1].detail });
  emit({ name: 'alerts on, Bot API stalled, nothing routed (the engine thread\'s share: capture and posting; worker thread)', trades: o.trades, rounds, ...summary(runs.captureOnly), ...versus('Off', runs.captureOnly, runs.off), ...runs.captureOnly[rounds - 1].detail });
  emit({ name: 'alerts on, Bot API stalled, in-thread (the fallback)', trades: o.trades, rounds, ...summary(runs.inline), ...versus('Off', runs.inline, runs.off), ...runs.inline[rounds - 1].detail });
}
