/**
 * The alert path in its worker thread (the default): payloads captured on the engine's thread, posted in
 * batches; policy, formatting, the SQLite outbox, the sender, the bot commands and chart drawing in the
 * worker; live state and chart data asked from the engine's thread over the port. Against the local Bot
 * API server on 127.0.0.1 with the real clock. Also: the bounded capture buffer, the bounded outbox
 * with the Bot API stalled, the config keys through AlertService.fromConfig, the in-thread fallback,
 * and the worker loaded from the esbuild bundle by `tapeflow start`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AlertService, type AlertServiceOptions } from '../../engine/src/alerts/service.js';
import { footprintChartProvider, packBar, type ChartData, type ChartSnapshotProvider } from '../../engine/src/alerts/chart.js';
import { openAlertDb, OutboundQueue } from '../../engine/src/alerts/queue.js';
import { stripHtml } from '../../engine/src/alerts/format.js';
import type { EntryAlert, ExitAlert, RuleAlert, SweepAlert } from '../../engine/src/alerts/types.js';
import { validateConfig } from '../../engine/src/config/validate.js';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { SESSION_TEMPLATES } from '../../engine/src/core/sessions.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { MarketSimulator, type ScriptedEvent, type ScriptKind } from '../../engine/src/sim/index.js';
import { SignalEngine } from '../../engine/src/signals/engine.js';
import { createLogger } from '../../engine/src/log.js';
import { BotApiServer, decodePng, htmlVisibleLength, startBotApiServer, type RecordedCall } from '../helpers/bot-api-server.js';

const TOKEN = '777:WORKER-secret-token';
const NOW = Date.now();

const rule = (symbol: string, ts: number, signal: 'LONG' | 'SHORT' = 'LONG'): RuleAlert => ({
  kind: 'rule', symbol, ts, key: `rule:${symbol}:${signal}:${ts}`, signal, confidence: 75, level: 'medium', price: '100', cvd: 10, imbalance: 0.3, vwap: 99.5,
  absorption: 0, sessionActive: true, session: 's', reasoning: ['CVD rising'],
});
const entry = (symbol: string, ts: number): EntryAlert => ({
  kind: 'entry', symbol, ts, key: `entry:${symbol}:buy:${ts}`, side: 'buy', score: 72, grade: 'A', pattern: 'absorption/level', delta: -5, volume: 30, avgVolume: 10,
  bias: null, entry: '100', sl: '99', tp: '103', rr: 3, level: null, reasoning: ['absorption at VAL'],
});
const exit = (symbol: string, ts: number): ExitAlert => ({
  kind: 'exit', symbol, ts, key: `exit:${symbol}:buy:${ts}`, side: 'buy', grade: 'A', entry: '100', exit: '99', reason: 'sl', pnl: '-1', r: -1, durationMs: 60_000, summary: ['stop 99 touched'],
});
const sweep = (symbol: string, ts: number): SweepAlert => ({ kind: 'sweep', symbol, ts, key: `sweep:${symbol}:${ts}`, side: 'buy', low: '99', high: '101', strength: 80, reasoning: ['swept'] });

/** A provider whose chart data is two hand-made bars (drawn in the worker). */
function dataProvider(requests: { symbol: string; at?: number }[]): ChartSnapshotProvider {
  const data = (symbol: string, req: { at?: number } = {}): ChartData => {
    requests.push({ symbol, at: req.at });
    return {
      title: symbol, width: 420, height: 260, theme: 'dark', profile: null,
      bars: [
        packBar({ time: NOW, open: 100, high: 103, low: 99, close: 102, volume: 30, delta: 6, rowSize: 1, rows: [{ price: 99, bid: 5, ask: 2 }, { price: 100, bid: 4, ask: 6 }, { price: 101, bid: 3, ask: 5 }, { price: 102, bid: 1, ask: 4 }] }),
        packBar({ time: NOW + 60_000, open: 102, high: 104, low: 101, close: 101, volume: 20, delta: -4, rowSize: 1, rows: [{ price: 101, bid: 6, ask: 2 }, { price: 102, bid: 5, ask: 3 }, { price: 103, bid: 3, ask: 1 }] }),
      ],
    };
  };
  return { data, snapshot: async () => { throw new Error('the worker draws: snapshot() must not be called'); } };
}

interface Rig { server: BotApiServer; svc: AlertService; dir: string; logs: string[] }
const rigs: Rig[] = [];

async function rig(o: Partial<AlertServiceOptions> = {}, server?: BotApiServer): Promise<Rig> {
  server ??= await startBotApiServer();
  const dir = mkdtempSync(join(tmpdir(), 'tf-tg-worker-'));
  const logs: string[] = [];
  const svc = new AlertService({
    token: TOKEN, apiRoot: server.url, dbPath: join(dir, 'alerts.sqlite'), commands: 'off', maxEventAgeMs: Infinity, chatIds: [1], requestTimeoutMs: 3000,
    sender: { perChatIntervalMs: 0, groupIntervalMs: 0, stopTimeoutMs: 100 }, log: createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) }), ...o,
  });
  await svc.start();
  const r = { server, svc, dir, logs };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.svc.close().catch(() => {});
    await r.server.close();
    rmSync(r.dir, { recursive: true, force: true });
  }
});

const first = (c: RecordedCall): string => stripHtml(c.fields.text ?? c.fields.caption ?? '').split('\n')[0];

describe('delivery from the worker thread', () => {
  it('routes, formats, draws the chart from data sent over the port, and sends; logs reach the engine thread without the token', async () => {
    const charts: { symbol: string; at?: number }[] = [];
    const { server, svc, logs } = await rig({ chatIds: [1, 2], charts: dataProvider(charts) });
    expect(svc.thread).toBe('worker');
    expect(() => svc.queue).toThrow(/runs in a worker thread/);
    server.blocked((c) => c.fields.chat_id === '2');
    svc.publish(rule('BTCUSDT', NOW));
    svc.publish(entry('ETHUSDT', NOW + 1));
    await svc.idle();
    const photos = server.of('sendPhoto').filter((c) => c.status === 200);
    expect(photos.length).toBe(1);
    expect(photos[0].fields.chat_id).toBe('1');
    expect(first(photos[0])).toBe('🟢 ENTRY SIGNAL · LONG ETHUSDT');
    expect(decodePng(photos[0].files.photo.bytes)).toMatchObject({ width: 420, height: 260 });
    expect(htmlVisibleLength(photos[0].fields.caption)).toBeLessThanOrEqual(1024);
    // chart data asked once, for the entry (the rule gets none), at the alert's time
    expect(charts).toEqual([{ symbol: 'ETHUSDT', at: NOW + 1 }]);
    expect(server.delivered().filter((c) => c.fields.chat_id === '1').map(first)).toEqual(['🟢 LONG BTCUSDT · confidence 75 (medium)', '🟢 ENTRY SIGNAL · LONG ETHUSDT']);
    const st = svc.stats;
    expect(st).toMatchObject({ thread: 'worker', captured: 2, routed: 2, sent: 2, queuePending: 0, captureBuffer: 0, captureDrops: 0, chartErrors: 0 });
    expect(st.requests).toBe(1);
    const { queue, sender } = await svc.queueStats();
    expect(queue).toMatchObject({ pending: 0, sending: 0, sent: 2 });
    expect(sender.disabledChats).toBe(1);
    // the worker yields to the engine: SCHED_IDLE where util-linux chrt exists (Linux), and reports its CPU time
    if (process.platform === 'linux') {
      const hasChrt = spawnSync('chrt', ['--version'], { stdio: 'ignore' }).status === 0;
      expect(svc.stats.worker?.policy).toBe(hasChrt ? 'idle' : 'nice');
      expect(svc.stats.worker?.cpuMs).toBeGreaterThan(0);
    }
    // the 403 was logged in the worker and written by the engine thread's logger
    expect(logs.some((l) => l.includes('"chatId":2'))).toBe(true);
    expect(logs.join('\n')).not.toContain('WORKER-secret');
  });

  it('the capture buffer is bounded: lowest priority dropped first, the exit kept', async () => {
    const { server, svc } = await rig({ maxCapture: 5 });
    for (let i = 0; i < 10; i++) svc.publish(sweep(`W${i}`, NOW));
    for (let i = 0; i < 5; i++) svc.publish(rule(`R${i}`, NOW));
    svc.publish(exit('X', NOW));
    expect(svc.stats).toMatchObject({ captureBuffer: 5, captureDrops: 11, captured: 16 });
    await svc.idle();
    expect(server.delivered().map(first)).toEqual(['R1', 'R2', 'R3', 'R4'].map((s) => `🟢 LONG ${s} · confidence 75 (medium)`).concat(['❌ EXIT · LONG X · stop hit']));
  });

  it('with the Bot API stalled the outbox stays at its bound (lowest priority dropped, exits kept) and nothing is lost on close', async () => {
    const { server, svc, dir } = await rig({ maxPending: 5 });
    server.stallAll = true;
    for (let i = 0; i < 20; i++) svc.publish(rule(`S${i}`, NOW));
    svc.publish(exit('X', NOW));
    await svc.drain();
    expect(svc.stats).toMatchObject({ queuePending: 5, queueBound: 5, overflowDrops: 16, queuedMessages: 21 });
    expect(svc.stats.queuePendingMax).toBe(5);
    await svc.close();
    const db = openAlertDb(join(dir, 'alerts.sqlite'));
    const open = new OutboundQueue(db, 5).rows(1).filter((r) => r.status === 'pending' || r.status === 'sending');
    expect(open.length).toBe(5);
    expect(open.map((r) => r.kind)).toContain('exit');
    db.close();
  });

  it('falls back to running in-thread, with a log line, when the worker cannot start', async () => {
    const { server, svc, logs } = await rig({ workerUrl: pathToFileURL(join(tmpdir(), 'no-such-alerts-worker.js')) });
    expect(svc.thread).toBe('inline');
    expect(logs.some((l) => l.includes('worker thread unavailable, running in-thread'))).toBe(true);
    svc.publish(exit('X', NOW));
    await svc.idle();
    expect(server.delivered().map(first)).toEqual(['❌ EXIT · LONG X · stop hit']);
    expect(svc.queue.stats()).toMatchObject({ sent: 1 });
  });
});

describe('Telegram unreachable at start', () => {
  /** A worker-mode service with long polling over an empty data source (commands need one to start). */
  async function pollingRig(server: BotApiServer): Promise<Rig> {
    const dir = mkdtempSync(join(tmpdir(), 'tf-tg-offline-'));
    const logs: string[] = [];
    const svc = new AlertService({
      token: TOKEN, apiRoot: server.url, dbPath: join(dir, 'alerts.sqlite'), commands: 'polling', pollTimeoutSec: 1, chatIds: [1], requestTimeoutMs: 3000,
      sender: { stopTimeoutMs: 100 }, log: createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) }),
    });
    const r = { server, svc, dir, logs };
    rigs.push(r);
    await svc.start({ symbols: () => [], resolve: () => null, status: () => undefined, bias: () => null, signals: () => [] });
    return r;
  }

  it('start() does not fail: deleteWebhook is retried in the background, then polling begins and commands are answered', async () => {
    const server = await startBotApiServer();
    server.once('deleteWebhook', { network: true }, 3); // the client's own 3 attempts of the first call all fail
    const { svc, logs } = await pollingRig(server);
    expect(svc.thread).toBe('worker');
    expect(server.of('getUpdates')).toHaveLength(0); // not polling before deleteWebhook got through
    await server.waitFor(() => server.of('getUpdates').length > 0, 5000, 'polling after the retry');
    expect(server.of('deleteWebhook').map((c) => c.status)).toEqual([-1, -1, -1, 200]);
    expect(logs.some((l) => l.includes('telegram deleteWebhook failed; will retry in the background'))).toBe(true);
    expect(logs.some((l) => l.includes('telegram deleteWebhook succeeded after retrying'))).toBe(true);
    server.sendText(1, '/help');
    await server.waitFor(() => server.of('sendMessage').some((c) => (c.fields.text ?? '').startsWith('<b>TapeFlow alerts</b>')), 5000, 'the /help answer');
  });

  it('close() while still retrying returns promptly', async () => {
    const server = await startBotApiServer();
    server.once('deleteWebhook', { network: true }, 100);
    const { svc } = await pollingRig(server);
    const t0 = Date.now();
    await svc.close();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(server.of('getUpdates')).toHaveLength(0);
  });
});

describe('config keys through AlertService.fromConfig', () => {
  it('dbPath, kinds, charts, commands, quietHours and cooldownMs reach the worker', async () => {
    const server = await startBotApiServer();
    const dir = mkdtempSync(join(tmpdir(), 'tf-tg-cfg-'));
    const dbPath = join(dir, 'nested', 'alerts-db.sqlite');
    const yaml = [
      'store:', `  path: ${join(dir, 'store', 'tapeflow.sqlite')}`,
      'alerts:', '  telegram:', '    enabled: true', '    tokenEnv: TF_TEST_TG_TOKEN', '    chatIdsEnv: TF_TEST_TG_CHATS', `    apiRoot: ${server.url}`,
      `    dbPath: ${dbPath}`, '    kinds: [entry, rule, exit]', '    charts: false', '    commands: "off"',
      '    quietHours: {start: "00:00", end: "24:00", timezone: Europe/Berlin, mode: silent}', '    cooldownMs: {rule: 0}',
    ].join('\n');
    const { config, errors } = validateConfig(parse(yaml));
    expect(errors).toEqual([]);
    const charts: { symbol: string }[] = [];
    const svc = AlertService.fromConfig(config!, { TF_TEST_TG_TOKEN: TOKEN, TF_TEST_TG_CHATS: '5' }, { maxEventAgeMs: Infinity, charts: dataProvider(charts), sender: { perChatIntervalMs: 0, stopTimeoutMs: 100 } })!;
    rigs.push({ server, svc, dir, logs: [] });
    await svc.start();
    expect(svc.thread).toBe('worker');
    expect(existsSync(dbPath)).toBe(true);
    svc.publish(rule('A', NOW));
    svc.publish(rule('A', NOW + 60_000, 'LONG'));
    svc.publish(entry('A', NOW));
    svc.publish({ kind: 'break_even', symbol: 'A', ts: NOW, key: 'be:A', side: 'buy', grade: 'A', entry: '100', sl: '100', tp: '103', reasoning: ['moved to entry'] });
    svc.publish(exit('A', NOW));
    await svc.idle();
    const got = server.delivered().map((c) => [c.method, c.fields.chat_id, first(c).split(' · ')[0], c.fields.disable_notification ?? 'notify']);
    expect(got).toEqual([
      ['sendMessage', '5', '🟢 LONG A', 'true'], // quiet hours (silent) all day; cooldown 0: both rule calls
      ['sendMessage', '5', '🟢 LONG A', 'true'],
      ['sendMessage', '5', '🟢 ENTRY SIGNAL', 'true'], // charts: false → text, no chart data asked
      ['sendMessage', '5', '❌ EXIT', 'notify'], // exits bypass quiet hours; break_even (subscribed by default) is not in kinds
    ]);
    expect(charts).toEqual([]);
    expect(svc.stats.routed).toBe(5);
    expect(server.of('getUpdates').length).toBe(0); // commands: off
  });
});

// ───────────────────────────── replay + commands, worker thread ─────────────────────────────

describe('replay through Engine + SignalEngine, commands over long polling, all in the worker', () => {
  let server: BotApiServer;
  let svc: AlertService;
  let dir: string;
  let signals: SignalEngine;

  beforeAll(async () => {
    server = await startBotApiServer();
    dir = mkdtempSync(join(tmpdir(), 'tf-tg-worker-e2e-'));
    const registry = new InstrumentRegistry();
    registry.add({ id: 'SIM', symbol: 'SIM', venue: 'generic', assetClass: 'crypto', description: 'simulated', tickSize: '1', lotStep: '1', profileRow: '10', contractSize: 1, session: SESSION_TEMPLATES.crypto_24x7, thresholds: { absorptionMinVolume: 800, initiativeMinDelta: 150 }, flow: 'orderflow' });
    const kinds: ScriptKind[] = ['absorption', 'absorption', 'exhaustion', 'divergence', 'stop_run'];
    const scenario: ScriptedEvent[] = [];
    for (let i = 0; i < 30; i++) scenario.push({ kind: kinds[i % kinds.length], offsetMs: 40 * 60_000 + i * 180_000, side: i % 2 ? 'buy' : 'sell' });
    const sim = new MarketSimulator({ seed: 7, instrument: 'SIM', startTs: Date.UTC(2024, 0, 9, 23, 0), startPrice: 100_000, levelTicks: 1, durationMs: 2.5 * 3_600_000, scenario });
    const engine = new Engine(registry, { timeframe: '1m', keepBars: 10_000 });
    signals = new SignalEngine({ levelAbsorption: { levelTicks: 1, maxDisplacementTicks: 1, minAttempts: 3, windowMs: 20_000 } });
    signals.attach(engine);
    svc = new AlertService({
      token: TOKEN, apiRoot: server.url, dbPath: join(dir, 'alerts.sqlite'), chatIds: [1], allowChatIds: [1], maxEventAgeMs: Infinity,
      charts: footprintChartProvider(engine, { bars: 30 }), commands: 'polling', pollTimeoutSec: 1, requestTimeoutMs: 5000, sender: { perChatIntervalMs: 0 },
    }).attach(signals, engine);
    await svc.start();
    sim.run(engine.onEvent);
    engine.finish();
    await svc.idle(60_000);
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ask(chat: number, text: string): Promise<RecordedCall> {
    const n = server.calls.length;
    server.sendText(chat, text);
    const mine = (): RecordedCall[] => server.calls.slice(n).filter((c) => (c.method === 'sendMessage' || c.method === 'sendPhoto') && c.fields.chat_id === String(chat) && c.status !== 0);
    await server.waitFor(() => mine().length >= 1, 8000, `reply to ${text}`);
    return mine()[0];
  }

  it('ENTRY and DAILY BIAS arrive as 1000×600 PNGs drawn in the worker from engine data', () => {
    expect(svc.thread).toBe('worker');
    const photos = server.of('sendPhoto').filter((c) => c.status === 200);
    const e = photos.find((c) => c.fields.caption.includes('ENTRY SIGNAL'));
    const b = photos.find((c) => c.fields.caption.includes('DAILY BIAS'));
    for (const p of [e, b]) expect(decodePng(p!.files.photo.bytes)).toMatchObject({ width: 1000, height: 600 });
    const bodies = server.delivered().map((c) => c.fields.text ?? c.fields.caption);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect(svc.stats).toMatchObject({ queuePending: 0, chartErrors: 0 });
    expect(svc.stats.requests).toBeGreaterThanOrEqual(2);
  });

  it('/status, /bias, /signals ask the engine thread for live state', async () => {
    const st = signals.status('SIM')!;
    const s = stripHtml((await ask(1, '/status')).fields.text).split('\n');
    expect(s[0]).toBe('TapeFlow status');
    expect(s[1]).toBe(`SIM ${st.label} · ${st.state} · price ${st.price}`);
    expect(s).toContain('Outbound queue: 0');
    expect(stripHtml((await ask(1, '/bias sim')).fields.text)).toMatch(/^🧭 DAILY BIAS SIM · 2024-01-10\nPrior session 2024-01-09: shape /);
    const lines = stripHtml((await ask(1, '/signals SIM 3')).fields.text).split('\n');
    expect(lines[0]).toBe('Last 3 signals SIM');
    expect(lines.slice(1).map((l) => l.split(' ')[2])).toEqual(signals.signals.filter((x) => x.instrument === 'SIM').slice(-3).map((x) => `${x.kind}/${x.variant}`));
  });

  it('/chart draws in the worker (default and 5m); a bad timeframe is reported', async () => {
    for (const cmd of ['/chart SIM', '/chart SIM 5m']) {
      const p = await ask(1, cmd);
      expect(p.method).toBe('sendPhoto');
      expect(decodePng(p.files.photo.bytes)).toMatchObject({ width: 1000, height: 600 });
    }
    expect(stripHtml((await ask(1, '/chart SIM 7x')).fields.text)).toMatch(/^Cannot draw SIM 7x: /);
    expect(stripHtml((await ask(1, '/subscribe NOPE')).fields.text)).toBe('Unknown symbol NOPE. Known: SIM');
  });
});

describe('the bundle', () => {
  it('`tapeflow start` (dist/cli.js) loads dist/alerts-worker.js and polls for commands from it', async () => {
    const root = resolve(__dirname, '../..');
    expect(existsSync(join(root, 'dist', 'alerts-worker.js'))).toBe(true);
    const server = await startBotApiServer();
    const dir = mkdtempSync(join(tmpdir(), 'tf-tg-cli-'));
    const cfg = join(dir, 'tapeflow.config.yaml');
    writeFileSync(cfg, ['server:', '  port: 0', 'store:', `  path: ${join(dir, 'data', 'tapeflow.sqlite')}`, 'alerts:', '  telegram:', '    enabled: true', '    tokenEnv: TF_TEST_TG_TOKEN', `    apiRoot: ${server.url}`, ''].join('\n'));
    const child = spawn(process.execPath, [join(root, 'bin', 'tapeflow.js'), 'start', '--config', cfg], {
      cwd: dir, env: { ...process.env, TF_TEST_TG_TOKEN: TOKEN, TAPEFLOW_LOG_LEVEL: 'debug', TAPEFLOW_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout.on('data', () => {});
    try {
      await server.waitFor(() => server.of('getUpdates').length >= 1, 20_000, 'getUpdates from the worker');
      await server.waitFor(() => err.includes('telegram alerts run in a worker thread'), 5000, 'worker log line');
      const line = err.split('\n').find((l) => l.includes('telegram alerts run in a worker thread'))!;
      expect(JSON.parse(line).script).toBe(join(root, 'dist', 'alerts-worker.js'));
      expect(existsSync(join(dir, 'data', 'alerts.sqlite'))).toBe(true);
      expect(err).not.toContain('WORKER-secret');
    } finally {
      child.kill('SIGTERM');
      await new Promise<void>((r) => { if (child.exitCode !== null) r(); else child.once('exit', () => r()); });
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
