/**
 * End to end: a simulated tape (market simulator, across a UTC session boundary) replayed through
 * Engine + SignalEngine with the AlertService attached; alerts (with footprint + profile PNGs) reach a
 * local Bot API server. Then every bot command is answered over long polling against the same state.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstrumentRegistry } from '../../engine/src/core/instruments.js';
import { SESSION_TEMPLATES } from '../../engine/src/core/sessions.js';
import { Engine } from '../../engine/src/analytics/engine.js';
import { MarketSimulator, type ScriptedEvent, type ScriptKind } from '../../engine/src/sim/index.js';
import { SignalEngine } from '../../engine/src/signals/engine.js';
import { AlertService } from '../../engine/src/alerts/service.js';
import { footprintChartProvider } from '../../engine/src/alerts/chart.js';
import { stripHtml } from '../../engine/src/alerts/format.js';
import { BotApiServer, decodePng, htmlParseError, htmlVisibleLength, startBotApiServer, VirtualClock, type RecordedCall } from '../helpers/bot-api-server.js';

const TOKEN = '42:E2E-secret';
const START = Date.UTC(2024, 0, 9, 23, 0);

function buildSim(): { engine: Engine; signals: SignalEngine; sim: MarketSimulator } {
  const registry = new InstrumentRegistry();
  registry.add({ id: 'SIM', symbol: 'SIM', venue: 'generic', assetClass: 'crypto', description: 'simulated', tickSize: '1', lotStep: '1', profileRow: '10', contractSize: 1, session: SESSION_TEMPLATES.crypto_24x7, thresholds: { absorptionMinVolume: 800, initiativeMinDelta: 150 }, flow: 'orderflow' });
  const kinds: ScriptKind[] = ['absorption', 'absorption', 'exhaustion', 'divergence', 'stop_run'];
  const scenario: ScriptedEvent[] = [];
  for (let i = 0; i < 30; i++) scenario.push({ kind: kinds[i % kinds.length], offsetMs: 40 * 60_000 + i * 180_000, side: i % 2 ? 'buy' : 'sell' });
  const sim = new MarketSimulator({ seed: 7, instrument: 'SIM', startTs: START, startPrice: 100_000, levelTicks: 1, durationMs: 2.5 * 3_600_000, scenario });
  const engine = new Engine(registry, { timeframe: '1m', keepBars: 10_000 });
  const signals = new SignalEngine({ levelAbsorption: { levelTicks: 1, maxDisplacementTicks: 1, minAttempts: 3, windowMs: 20_000 } });
  signals.attach(engine);
  return { engine, signals, sim };
}

let server: BotApiServer;
let svc: AlertService;
let dir: string;
let signals: SignalEngine;
let clock: VirtualClock;
const transitions: string[] = [];

beforeAll(async () => {
  server = await startBotApiServer();
  dir = mkdtempSync(join(tmpdir(), 'tf-tg-e2e-'));
  const b = buildSim();
  signals = b.signals;
  signals.onTransition((t) => transitions.push(t.to));
  svc = new AlertService({
    token: TOKEN, apiRoot: server.url, dbPath: join(dir, 'alerts.sqlite'), chatIds: [1], allowChatIds: [1], maxEventAgeMs: Infinity,
    clock: (clock = new VirtualClock(Date.UTC(2024, 0, 10, 12))), charts: footprintChartProvider(b.engine, { bars: 30 }), commands: 'polling', pollTimeoutSec: 1, requestTimeoutMs: 5000,
  }).attach(b.signals, b.engine);
  await svc.start();
  b.sim.run(b.engine.onEvent);
  b.engine.finish();
  await svc.idle(60_000);
}, 120_000);

afterAll(async () => {
  await svc?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sends = (): RecordedCall[] => server.delivered();
const body = (c: RecordedCall): string => c.fields.text ?? c.fields.caption ?? '';

describe('replay → signal → alert at the local Bot API', () => {
  it('the replay produced trade transitions and alerts reached the server, each exactly once', () => {
    expect(transitions).toContain('POSITION_OPEN');
    const bodies = sends().map(body);
    expect(bodies.length).toBeGreaterThanOrEqual(5);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect(svc.queue.stats()).toMatchObject({ pending: 0, sending: 0, dropped: 0 });
    for (const b of bodies) expect(htmlParseError(b)).toBeNull();
  });

  it('ENTRY SIGNAL and DAILY BIAS arrive as photos (multipart, decodable PNG) with their captions', () => {
    const photos = server.of('sendPhoto').filter((c) => c.status === 200);
    const entry = photos.find((c) => c.fields.caption.includes('ENTRY SIGNAL'));
    const bias = photos.find((c) => c.fields.caption.includes('DAILY BIAS'));
    expect(entry).toBeDefined();
    expect(bias).toBeDefined();
    mkdirSync('artifacts', { recursive: true }); // to look at (not asserted): what a chat receives
    writeFileSync('artifacts/telegram-entry.png', entry!.files.photo.bytes);
    writeFileSync('artifacts/telegram-bias.png', bias!.files.photo.bytes);
    for (const p of [entry!, bias!]) {
      expect(p.contentType).toMatch(/^multipart\/form-data/);
      expect(p.files.photo).toMatchObject({ filename: 'chart.png', type: 'image/png' });
      expect(decodePng(p.files.photo.bytes)).toMatchObject({ width: 1000, height: 600, bitDepth: 8 });
      expect(htmlVisibleLength(p.fields.caption)).toBeLessThanOrEqual(1024);
      expect(p.fields.chat_id).toBe('1');
    }
    const e = stripHtml(entry!.fields.caption);
    expect(e).toMatch(/^🟢 ENTRY SIGNAL · LONG SIM|^🔴 ENTRY SIGNAL · SHORT SIM/);
    expect(e).toMatch(/\nScore \d+(\.\d+)? · grade (A\+|A|B|C) · absorption\/(level|delta-mismatch)\n/);
    expect(e).toMatch(/\nEntry \d+ · SL \d+ · TP \d+\nR:R \d/);
    expect(stripHtml(bias!.fields.caption)).toMatch(/^🧭 DAILY BIAS SIM · 2024-01-10\nPrior session 2024-01-09: shape /);
  });

  it('the trade lifecycle follows: BREAK EVEN / EXIT with PnL in price units and R', () => {
    const texts = sends().map((c) => stripHtml(body(c)));
    const exits = texts.filter((t) => / EXIT · (LONG|SHORT) SIM/.test(t));
    expect(exits.length).toBe(transitions.filter((t) => t === 'CLOSED').length);
    expect(exits[0]).toMatch(/\nPnL [+-]?\d+(\.\d+)? · [+-]?\d+(\.\d+)? R · held /);
    expect(texts.filter((t) => t.includes('BREAK EVEN SIM')).length).toBe(transitions.filter((t) => t === 'BREAK_EVEN').length);
    expect(texts.filter((t) => t.includes('ENTRY SIGNAL')).length).toBe(transitions.filter((t) => t === 'POSITION_OPEN').length);
  });
});

describe('bot commands over long polling', () => {
  /** Send a command as chat `chat` and wait for the bot's answer(s). */
  async function ask(chat: number, text: string, replies = 1): Promise<RecordedCall[]> {
    const n = server.calls.length;
    server.sendText(chat, text);
    const mine = (): RecordedCall[] => server.calls.slice(n).filter((c) => (c.method === 'sendMessage' || c.method === 'sendPhoto') && c.fields.chat_id === String(chat) && c.status !== 0);
    await server.waitFor(() => mine().length >= replies, 8000, `reply to ${text}`);
    return mine();
  }

  it('polls after deleteWebhook and registers the command menu', () => {
    expect(server.of('deleteWebhook').length).toBe(1);
    expect(server.of('getMe').length).toBe(1);
    expect(JSON.parse(server.of('setMyCommands')[0].fields.commands).map((c: { command: string }) => c.command)).toContain('subscribe');
    expect(server.of('getUpdates').length).toBeGreaterThanOrEqual(1);
  });

  it('/start and /help', async () => {
    const [s] = await ask(1, '/start');
    expect(stripHtml(s.fields.text)).toMatch(/^👋 TapeFlow alerts are on for this chat\.\nSubscribed: \*/);
    const [h] = await ask(1, '/help');
    expect(h.fields.text.split('\n')[0]).toBe('<b>TapeFlow alerts</b>');
    expect(h.fields.parse_mode).toBe('HTML');
  });

  it('/subscribe and /unsubscribe (allow-listed chat), refused elsewhere', async () => {
    const [s] = await ask(1, '/subscribe sim entry,exit min=10 grade=B');
    expect(stripHtml(s.fields.text)).toBe('✅ Subscribed to SIM: entry, exit\nmin confidence 10 · min grade B');
    expect(svc.chats.subscriptions(1).map((x) => [x.symbol, x.kinds])).toEqual([['*', ['entry', 'break_even', 'trail', 'exit', 'exit_warning', 'daily_bias', 'rule']], ['SIM', ['entry', 'exit']]]);
    const [u] = await ask(1, '/unsubscribe SIM');
    expect(stripHtml(u.fields.text)).toBe('🔕 Unsubscribed from SIM (1 subscription)');
    const [bad] = await ask(1, '/subscribe NOPE');
    expect(stripHtml(bad.fields.text)).toBe('Unknown symbol NOPE. Known: SIM');
    const [denied] = await ask(99, '/subscribe SIM');
    expect(stripHtml(denied.fields.text)).toBe('⛔ This chat (99) is not allowed to change alert subscriptions.');
    expect(svc.chats.subscriptions(99)).toEqual([]);
    const [m] = await ask(99, '/mute 10');
    expect(m.fields.text).toContain('not allowed');
  });

  it('/status lists instruments and trade states', async () => {
    const [s] = await ask(1, '/status');
    const t = stripHtml(s.fields.text);
    const st = signals.status('SIM')!;
    expect(t.split('\n')[0]).toBe('TapeFlow status');
    expect(t.split('\n')[1]).toBe(`SIM ${st.label} · ${st.state} · price ${st.price}`);
    expect(t).toContain('Outbound queue: 0');
  });

  it('/bias and /signals', async () => {
    const [b] = await ask(1, '/bias SIM');
    expect(stripHtml(b.fields.text)).toMatch(/^🧭 DAILY BIAS SIM · 2024-01-10\nPrior session 2024-01-09: shape (P|b|D|double) → (LONG|SHORT|NEUTRAL), confidence \d/);
    const [s] = await ask(1, '/signals SIM 3');
    const lines = stripHtml(s.fields.text).split('\n');
    expect(lines[0]).toBe('Last 3 signals SIM');
    const last = signals.signals.filter((e) => e.instrument === 'SIM').slice(-3);
    expect(lines.slice(1).map((l) => l.split(' ')[2])).toEqual(last.map((e) => `${e.kind}/${e.variant}`));
  });

  it('/chart uploads a decodable PNG (default and 5m)', async () => {
    for (const cmd of ['/chart SIM', '/chart SIM 5m']) {
      const [p] = await ask(1, cmd);
      expect(p.method).toBe('sendPhoto');
      expect(p.contentType).toMatch(/^multipart\/form-data/);
      expect(decodePng(p.files.photo.bytes)).toMatchObject({ width: 1000, height: 600 });
      expect(stripHtml(p.fields.caption)).toMatch(/^SIM( 5m)? footprint \+ profile · 2024-01-10 12:/);
    }
    const [bad] = await ask(1, '/chart SIM 7x');
    expect(stripHtml(bad.fields.text)).toMatch(/^Cannot draw SIM 7x: /);
  });

  it('/mute and /quiet change the chat settings; commands for another bot are ignored', async () => {
    const before = clock.now();
    const [m] = await ask(1, '/mute 30');
    // the reply waited for its slot in the shared rate limiter (1 message per second per chat) on the virtual clock
    const until = svc.chats.get(1)!.mutedUntil;
    expect(until - 30 * 60_000).toBeGreaterThanOrEqual(before);
    expect(until - 30 * 60_000).toBeLessThanOrEqual(before + 1000);
    expect(stripHtml(m.fields.text)).toBe(`🔇 Muted for 30 min (until ${new Date(until).toISOString().slice(0, 19).replace('T', ' ')} UTC). Exits are still delivered.`);
    const [q] = await ask(1, '/quiet 22:00-07:00 Europe/Berlin suppress');
    expect(svc.chats.get(1)!.quiet).toEqual({ start: '22:00', end: '07:00', timezone: 'Europe/Berlin', mode: 'suppress' });
    expect(stripHtml(q.fields.text)).toContain('alerts are suppressed');
    const [u] = await ask(1, '/mute 0');
    expect(stripHtml(u.fields.text)).toBe('🔔 Unmuted.');
    const n = server.calls.length;
    server.sendText(-5, '/status@OtherBot');
    const [s] = await ask(-5, '/status@tapeflow_test_bot');
    expect(server.calls.slice(n).filter((c) => c.method === 'sendMessage' && c.fields.chat_id === '-5').length).toBe(1);
    expect(stripHtml(s.fields.text).split('\n')[0]).toBe('TapeFlow status');
  });
});
