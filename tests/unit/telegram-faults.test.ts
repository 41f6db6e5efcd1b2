/**
 * Telegram faults against the local Bot API server (127.0.0.1), on a virtual clock: bot-command
 * polling survives 409 Conflict, bodies that are not JSON and 5xx (backing off and polling again; a
 * conflict is logged once and shown by health()); a refused photo goes out as its text alert; an
 * outage of an hour loses nothing and its errors are readable; a row that outlives the outbox time is
 * dropped with its last error; an outbox that cannot be written keeps its alerts in memory until it can;
 * command replies share the 30 msg/s limiter; a stranger cannot /subscribe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertService, type AlertServiceOptions } from '../../engine/src/alerts/service.js';
import type { ChartSnapshotProvider } from '../../engine/src/alerts/chart.js';
import type { AlertDataSource } from '../../engine/src/alerts/commands.js';
import type { EntryAlert, ExitAlert } from '../../engine/src/alerts/types.js';
import { createLogger } from '../../engine/src/log.js';
import { renderFootprintPng } from '../../indicators/render/node-png.js';
import { BotApiServer, startBotApiServer, VirtualClock, type RecordedCall } from '../helpers/bot-api-server.js';

const TOKEN = '123456:TEST-faults-token';
const T0 = Date.UTC(2024, 0, 10, 12, 0, 0);
const HOUR = 3_600_000;

const entry = (symbol: string, ts: number): EntryAlert => ({
  kind: 'entry', symbol, ts, key: `entry:${symbol}:buy:${ts}`, side: 'buy', score: 72, grade: 'A', pattern: 'absorption/level', delta: -5, volume: 30, avgVolume: 10,
  bias: null, entry: '100', sl: '99', tp: '103', rr: 3, level: null, reasoning: ['absorption at VAL'],
});
const exit = (symbol: string, ts: number): ExitAlert => ({
  kind: 'exit', symbol, ts, key: `exit:${symbol}:buy:${ts}`, side: 'buy', grade: 'A', entry: '100', exit: '99', reason: 'sl', pnl: '-1', r: -1, durationMs: 60_000, summary: ['stop 99 touched'],
});
const EMPTY: AlertDataSource = { symbols: () => ['BTCUSDT'], resolve: (s) => (s.toUpperCase() === 'BTCUSDT' ? 'BTCUSDT' : null), status: () => undefined, bias: () => null, signals: () => [] };

interface Rig { server: BotApiServer; svc: AlertService; clock: VirtualClock; dir: string; logs: string[] }
const rigs: Rig[] = [];

async function rig(o: Partial<AlertServiceOptions> = {}, data: AlertDataSource | undefined = undefined): Promise<Rig> {
  const server = await startBotApiServer();
  const dir = mkdtempSync(join(tmpdir(), 'tf-tg-faults-'));
  const clock = new VirtualClock(T0);
  const logs: string[] = [];
  const svc = new AlertService({
    token: TOKEN, apiRoot: server.url, dbPath: join(dir, 'alerts.sqlite'), commands: 'off', maxEventAgeMs: Infinity, clock, chatIds: [1], requestTimeoutMs: 3000, pollTimeoutSec: 1,
    log: createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) }), ...o,
  });
  const r = { server, svc, clock, dir, logs };
  rigs.push(r);
  await svc.start(data);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.svc.close().catch(() => {});
    await r.server.close();
    rmSync(r.dir, { recursive: true, force: true });
  }
});

const lines = (logs: string[], re: RegExp): string[] => logs.filter((l) => re.test(l));
const replyTo = (s: BotApiServer, chat: number, start: string): RecordedCall | undefined => s.of('sendMessage').find((c) => c.fields.chat_id === String(chat) && c.status === 200 && (c.fields.text ?? '').startsWith(start));

describe('bot-command polling never stops by itself', () => {
  it('409 Conflict: backs off (doubling), polls again, logs "another instance polls this bot" once, health shows it, then answers commands', async () => {
    let conflict = true;
    const CONFLICT = { status: 409, body: { ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' } };
    const { server, svc, clock, logs } = await rig({ commands: 'polling' }, EMPTY);
    server.once((c) => c.method === 'getUpdates' && conflict, CONFLICT, 1e9);
    await server.waitFor(() => server.of('getUpdates').filter((c) => c.status === 409).length >= 6, 10_000, 'six conflicting polls');
    // still retrying: the conflict is in health() with its reason, and was logged once
    const h = svc.health();
    expect(h.problem).toMatchObject({ component: 'telegram', reason: 'bot-command polling retrying: 409 Conflict: another instance polls this bot' });
    expect(h.pollerUp).toBe(false);
    expect(lines(logs, /another instance polls this bot/)).toHaveLength(1);
    // the waits between polls double from 1 s (on the virtual clock)
    expect(clock.sleeps.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16000]);
    conflict = false;
    server.sendText(1, '/help');
    await server.waitFor(() => !!replyTo(server, 1, '<b>TapeFlow alerts</b>'), 10_000, 'the /help answer after the conflict');
    expect(svc.health().problem).toBeNull();
    expect(svc.health().pollerUp).toBe(true);
    expect(lines(logs, /telegram polling resumed/)).toHaveLength(1);
    expect(lines(logs, /another instance polls this bot/)).toHaveLength(1);
  });

  it('409 because a webhook was set meanwhile: the webhook is deleted and polling goes on', async () => {
    const { server, logs } = await rig({ commands: 'polling' }, EMPTY);
    await server.waitFor(() => server.of('getUpdates').length >= 1, 5000, 'polling');
    const before = server.of('deleteWebhook').length;
    server.once('getUpdates', { status: 409, body: { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" } });
    await server.waitFor(() => server.of('deleteWebhook').length > before, 5000, 'deleteWebhook after the conflict');
    server.sendText(1, '/help');
    await server.waitFor(() => !!replyTo(server, 1, '<b>TapeFlow alerts</b>'), 10_000, 'the /help answer');
    expect(lines(logs, /a webhook is set for this bot; deleting it/)).toHaveLength(1);
    expect(lines(logs, /another instance/)).toHaveLength(0);
  });

  it('a 200 whose body is not JSON, an envelope without ok, and a 502 HTML page: each backs off and polling goes on', async () => {
    const { server, svc, logs } = await rig({ commands: 'polling' }, EMPTY);
    server.once('getUpdates', { status: 200, raw: '<html><body>captive portal</body></html>' }, 2);
    server.once('getUpdates', { status: 200, body: 'oops' }, 1);
    server.once('getUpdates', { status: 502, raw: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>' }, 3); // the client's own retries included
    await server.waitFor(() => server.of('getUpdates').length >= 7, 15_000, 'polls after the bad answers');
    server.sendText(1, '/help');
    await server.waitFor(() => !!replyTo(server, 1, '<b>TapeFlow alerts</b>'), 10_000, 'the /help answer');
    expect(lines(logs, /telegram getUpdates failed \(answer is not JSON: \\"<html><body>captive portal<\/body><\/html>\\"\)/)).toHaveLength(1);
    expect(lines(logs, /telegram getUpdates failed \(Telegram answered an error without error_code or description\)/)).toHaveLength(1);
    expect(lines(logs, /telegram getUpdates failed \(502: HTTP 502 Bad Gateway: 502 Bad Gateway nginx\)/)).toHaveLength(1);
    expect(logs.join('\n')).not.toContain('undefined: undefined');
    expect(lines(logs, /telegram polling stopped/)).toHaveLength(0);
    expect(svc.health().problem).toBeNull();
  });
});

describe('alerts through refusals and outages', () => {
  const png = renderFootprintPng([
    { time: T0, open: 100, high: 103, low: 99, close: 102, volume: 30, delta: 6, rowSize: 1, rows: [{ price: 99, bid: 5, ask: 2 }, { price: 100, bid: 4, ask: 6 }] },
  ], null, { width: 400, height: 300 });
  const charts: ChartSnapshotProvider = { snapshot: async () => png };

  it('a refused photo (not enough rights, PHOTO_INVALID_DIMENSIONS) goes out as the text alert', async () => {
    const { server, svc } = await rig({ charts, chatIds: [1, -100200] });
    server.once((c) => c.method === 'sendPhoto' && c.fields.chat_id === '-100200', { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: not enough rights to send photos to the chat' } });
    server.once((c) => c.method === 'sendPhoto' && c.fields.chat_id === '1', { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: PHOTO_INVALID_DIMENSIONS' } });
    svc.publish(entry('BTCUSDT', T0));
    await svc.idle();
    for (const chat of ['1', '-100200']) {
      const photo = server.of('sendPhoto').find((c) => c.fields.chat_id === chat)!;
      expect(photo.status).toBe(400);
      const text = server.delivered().filter((c) => c.fields.chat_id === chat);
      expect(text.map((c) => c.method)).toEqual(['sendMessage']);
      expect(text[0].fields.text).toBe(photo.fields.caption); // the same alert, as text
      expect(text[0].fields.text.split('\n')[0]).toBe('🟢 <b>ENTRY SIGNAL · LONG</b> <code>BTCUSDT</code>');
    }
    expect(svc.sender.stats).toMatchObject({ photoFallbacks: 2, dropped: 0 });
    expect(svc.queue.stats()).toMatchObject({ pending: 0, sent: 2, dropped: 0 });
  });

  it('a one-hour 5xx outage drops nothing; every error is readable', async () => {
    const { server, svc, clock, logs } = await rig({ chatIds: [1, 2] });
    const until = T0 + HOUR;
    let n = 0;
    // an hour of answers a proxy or a struggling Bot API gives: an HTML 502, an envelope with no code, a bare 503
    server.once((c) => c.method === 'sendMessage' && clock.now() < until, () => {
      n++;
      return n % 3 === 0 ? { status: 502, raw: '<html><title>502 Bad Gateway</title></html>' } : n % 3 === 1 ? { status: 500, body: { ok: false } } : { status: 503, body: { ok: false, error_code: 503, description: 'Service Unavailable' } };
    }, 1e9);
    for (let i = 0; i < 5; i++) svc.publish(exit(`S${i}`, T0 + i));
    await svc.idle(30_000);
    expect(clock.now()).toBeGreaterThanOrEqual(until);
    const failed = server.of('sendMessage').filter((c) => c.status >= 500);
    expect(failed.length).toBeGreaterThan(40); // an hour of retries at up to 60 s apart
    expect(server.delivered().filter((c) => c.fields.chat_id === '1').map((c) => c.fields.text.split('\n')[0])).toEqual(['S0', 'S1', 'S2', 'S3', 'S4'].map((s) => `❌ <b>EXIT · LONG</b> <code>${s}</code> · stop hit`));
    expect(server.delivered()).toHaveLength(10);
    expect(svc.queue.stats()).toMatchObject({ pending: 0, sent: 10, dropped: 0 });
    const errs = lines(logs, /will retry/).map((l) => (JSON.parse(l) as { error: string }).error);
    expect(new Set(errs)).toEqual(new Set(['500: HTTP 500 Internal Server Error', '503: Service Unavailable', '502: HTTP 502 Bad Gateway: 502 Bad Gateway']));
    expect(logs.join('\n')).not.toContain('undefined');
  });

  it('a row that outlives the outbox time is dropped with its last error; the next alert goes out', async () => {
    const { server, svc, clock, logs } = await rig({ outboxTtlMs: 2 * HOUR });
    server.once((c) => c.method === 'sendMessage' && clock.now() < T0 + 3 * HOUR, { status: 503, body: { ok: false, error_code: 503, description: 'Service Unavailable' } }, 1e9);
    svc.publish(exit('OLD', T0));
    await svc.idle(30_000);
    const [row] = svc.queue.rows(1);
    expect(row.status).toBe('dropped');
    expect(row.error).toBe('not delivered within 2 h (last error: 503: Service Unavailable)');
    expect(clock.now() - T0).toBeGreaterThan(2 * HOUR);
    expect(lines(logs, /outlived the outbox time/)).toHaveLength(1);
    expect(svc.sender.stats.expired).toBe(1);
    // the outage ends; a new alert is delivered
    clock.t = T0 + 3 * HOUR;
    svc.publish(exit('NEW', clock.now()));
    await svc.idle();
    expect(server.delivered().map((c) => c.fields.text.split('\n')[0])).toEqual(['❌ <b>EXIT · LONG</b> <code>NEW</code> · stop hit']);
  });
});

describe('the outbox on a failing disk', () => {
  it('alerts wait in memory while the outbox cannot be written, health says so, and they go out after recovery', async () => {
    const { server, svc, logs } = await rig();
    // a real SQLite error on every outbox insert (what a full disk does to the alerts database)
    svc.db.exec(`CREATE TEMP TRIGGER full BEFORE INSERT ON main.alert_outbox BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected)'); END;`);
    svc.publish(exit('A', T0));
    svc.publish(exit('B', T0 + 1));
    await svc.drain();
    expect(svc.queue.pendingCount()).toBe(0);
    expect(svc.health().problem).toMatchObject({ component: 'telegram', reason: 'outbox writes failing (SQLITE_CONSTRAINT_TRIGGER); 2 alerts wait in memory' });
    expect(lines(logs, /telegram outbox writes failing/)).toHaveLength(1);
    expect(server.delivered()).toHaveLength(0);
    svc.db.exec('DROP TRIGGER temp.full');
    // retried every second (real time): both alerts are queued and sent, in order
    await server.waitFor(() => server.delivered().length === 2, 5000, 'the two alerts after recovery');
    expect(server.delivered().map((c) => c.fields.text.split('\n')[0])).toEqual(['❌ <b>EXIT · LONG</b> <code>A</code> · stop hit', '❌ <b>EXIT · LONG</b> <code>B</code> · stop hit']);
    expect(svc.health().problem).toBeNull();
    expect(lines(logs, /telegram outbox writes recovered/)).toHaveLength(1);
    await svc.idle();
    expect(svc.queue.stats()).toMatchObject({ pending: 0, sent: 2, dropped: 0 });
  });
});

describe('the sender on a failing outbox', () => {
  const FULL = `CREATE TEMP TRIGGER full BEFORE UPDATE ON main.alert_outbox BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected)'); END;`;

  it('a delivered message whose outbox update fails is recorded later with its message id, not sent again', async () => {
    const { server, svc, logs } = await rig();
    // the disk fills up while A is on its way: Telegram takes it, the outbox cannot record it
    server.once((c) => c.method === 'sendMessage' && c.fields.text.includes('<code>A</code>'), (c) => { svc.db.exec(FULL); return { body: { ok: true, result: { message_id: 501, date: 0, chat: { id: Number(c.fields.chat_id), type: 'private' } } } }; });
    svc.publish(exit('A', T0));
    await server.waitFor(() => lines(logs, /outbox update failed/).length === 1, 5000, 'the failed ack');
    svc.publish(exit('B', T0 + 1));
    await svc.drain();
    await new Promise((r) => setTimeout(r, 200));
    expect(svc.sender.stuckRows).toBe(1);
    expect(svc.sender.isRunning).toBe(true);
    expect(server.of('sendMessage')).toHaveLength(1); // B waits behind A (per-chat order)
    svc.db.exec('DROP TRIGGER temp.full');
    await svc.idle();
    expect(server.delivered().map((c) => c.fields.text.split('\n')[0])).toEqual(['❌ <b>EXIT · LONG</b> <code>A</code> · stop hit', '❌ <b>EXIT · LONG</b> <code>B</code> · stop hit']);
    expect(svc.queue.stats()).toMatchObject({ pending: 0, sending: 0, sent: 2, dropped: 0 });
    expect(svc.db.prepare("SELECT message_id FROM alert_outbox WHERE dedup_key LIKE 'exit:A:%'").get()).toEqual({ message_id: 501 });
    expect(svc.sender.stuckRows).toBe(0);
  });

  it('rows that cannot be claimed wait (logged once); the sender keeps running and sends them when the outbox takes writes', async () => {
    const { server, svc, logs } = await rig();
    svc.db.exec(FULL);
    svc.publish(exit('A', T0));
    await svc.drain();
    await new Promise((r) => setTimeout(r, 300));
    expect(lines(logs, /telegram outbox writes failing; sending waits/)).toHaveLength(1);
    expect(svc.sender.isRunning).toBe(true);
    expect(server.of('sendMessage')).toHaveLength(0);
    svc.db.exec('DROP TRIGGER temp.full');
    await svc.idle();
    expect(server.delivered().map((c) => c.fields.text.split('\n')[0])).toEqual(['❌ <b>EXIT · LONG</b> <code>A</code> · stop hit']);
  });
});

describe('commands', () => {
  it('replies go through the alerts\' rate limiter: at most 30 per second overall, 1 per second per chat', async () => {
    const { server, svc, clock } = await rig({ commands: 'polling', allowChatIds: [], chatIds: Array.from({ length: 40 }, (_, i) => i + 1) }, EMPTY);
    const at: { chat: string; t: number }[] = [];
    server.once((c) => { if (c.method === 'sendMessage') at.push({ chat: c.fields.chat_id, t: clock.now() }); return false; }, {}, 1e9);
    for (let chat = 1; chat <= 40; chat++) server.sendText(chat, '/help');
    server.sendText(1, '/status');
    server.sendText(1, '/help');
    await server.waitFor(() => server.of('sendMessage').filter((c) => c.status === 200).length >= 42, 20_000, '42 replies');
    expect(svc.sender.stats.replies).toBe(42);
    const ts = at.map((x) => x.t).sort((a, b) => a - b);
    for (let i = 0; i + 30 < ts.length; i++) expect(ts[i + 30] - ts[i]).toBeGreaterThanOrEqual(1000); // no 31 in any second
    const one = at.filter((x) => x.chat === '1').map((x) => x.t);
    expect(one).toHaveLength(3);
    for (let i = 1; i < one.length; i++) expect(one[i] - one[i - 1]).toBeGreaterThanOrEqual(1000);
  });

  it('with no allowChatIds, a stranger chat cannot /subscribe (the configured chats can); reading stays open', async () => {
    const { server, svc } = await rig({ commands: 'polling', chatIds: [1] }, EMPTY);
    server.sendText(99, '/subscribe *');
    await server.waitFor(() => !!replyTo(server, 99, '⛔'), 10_000, 'the refusal');
    expect(replyTo(server, 99, '⛔')!.fields.text).toBe('⛔ This chat (<code>99</code>) is not allowed to change alert subscriptions.');
    expect(svc.chats.subscriptions(99)).toEqual([]);
    server.sendText(99, '/help');
    await server.waitFor(() => !!replyTo(server, 99, '<b>TapeFlow alerts</b>'), 10_000, '/help for the stranger');
    server.sendText(1, '/subscribe BTCUSDT entry');
    await server.waitFor(() => !!replyTo(server, 1, '✅'), 10_000, 'the configured chat subscribes');
    expect(svc.chats.subscriptions(1).map((s) => s.symbol)).toContain('BTCUSDT');
  });
});
