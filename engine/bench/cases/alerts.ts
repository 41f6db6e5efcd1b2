/**
 * Alert path cost: pipeline throughput (Engine + SignalEngine on a simulated tape with scripted
 * absorption / exhaustion / divergence / stop runs across a session boundary) with Telegram alerts off,
 * and on with the local Bot API stalled (accepts connections, never answers). The replay yields to the
 * event loop every `chunk` events in both runs, so alert draining, chart rendering and the sender run
 * interleaved with ingestion as they would live. Prints one JSON line per run.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
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

async function stalledServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer(() => { requests++; /* never answer */ });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, requests: () => requests, close: async () => { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); } };
}

async function run(events: MarketEvent[], alerts: { url: string; dir: string } | null, chunk: number) {
  const engine = new Engine(registry(), { timeframe: '1m', keepBars: 10_000 });
  const signals = new SignalEngine({ levelAbsorption: { levelTicks: 1, maxDisplacementTicks: 1, minAttempts: 3, windowMs: 20_000 } });
  signals.attach(engine);
  let svc: AlertService | null = null;
  if (alerts) {
    svc = new AlertService({
      token: '1:bench', apiRoot: alerts.url, dbPath: join(alerts.dir, 'alerts.sqlite'), chatIds: [1, 2, -100], commands: 'off', maxEventAgeMs: Infinity,
      maxPending: 2000, requestTimeoutMs: 60_000, cooldownMs: { sweep: 0, rule: 0, exit_warning: 0 }, charts: footprintChartProvider(engine, { bars: 30 }),
      sender: { stopTimeoutMs: 100 },
    }).attach(signals, engine);
    for (const c of [1, 2, -100]) svc.chats.subscribe(c, '*', ALERT_KINDS);
    await svc.start();
  }
  let trades = 0, pendingMax = 0, inboxMax = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += chunk) {
    const end = Math.min(events.length, i + chunk);
    for (let k = i; k < end; k++) { const ev = events[k]; if (ev.type === 'trade') trades++; engine.onEvent(ev); }
    await new Promise<void>((r) => setImmediate(r));
    if (svc) { pendingMax = Math.max(pendingMax, svc.queue.pendingCount()); inboxMax = Math.max(inboxMax, svc.stats.inbox); }
  }
  engine.finish();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const res = { trades, events: events.length, seconds: +secs.toFixed(3), tradesPerSec: Math.round(trades / secs), signals: signals.signals.length, svc, pendingMax, inboxMax };
  return res;
}

export async function benchAlerts(hours = 6, chunk = 2000): Promise<void> {
  const events = tape(hours);
  const off = await run(events, null, chunk);
  emit({ name: 'alerts off (Engine + SignalEngine, simulated tape)', trades: off.trades, events: off.events, signals: off.signals, seconds: off.seconds, tradesPerSec: off.tradesPerSec, peakRssMB: peakRssMB() });
  const server = await stalledServer();
  const dir = mkdtempSync(join(tmpdir(), 'tf-bench-alerts-'));
  try {
    const on = await run(events, { url: server.url, dir }, chunk);
    const svc = on.svc!;
    await svc.drain();
    const q = svc.queue.stats();
    emit({
      name: 'alerts on, Bot API stalled (3 chats, every kind, charts on ENTRY/BIAS)', trades: on.trades, events: on.events, signals: on.signals, seconds: on.seconds, tradesPerSec: on.tradesPerSec,
      ratioVsOff: +(on.tradesPerSec / off.tradesPerSec).toFixed(3), alertsCaptured: svc.stats.captured, messagesQueued: svc.stats.queuedMessages, queuePending: q.pending + q.sending,
      queuePendingMax: on.pendingMax, queueBound: svc.queue.maxPending, overflowDrops: q.overflowDrops, inboxMax: on.inboxMax, inboxDrops: svc.stats.inboxDrops,
      requestsHangingAtServer: server.requests(), rssMB: rssMB(), peakRssMB: peakRssMB(),
    });
    await svc.close();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
