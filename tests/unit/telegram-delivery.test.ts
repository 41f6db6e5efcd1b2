/**
 * Delivery against a local Bot API server on 127.0.0.1: wire format, 429 retry_after, rate limits,
 * 403, group migration, network errors, dedup, cooldown, quiet hours, mute, subscriptions, splitting,
 * photo upload, the persistent outbox across restarts, and a bounded queue. The sender's clock is
 * virtual, so waits of seconds are asserted exactly without sleeping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertService, type AlertServiceOptions } from '../../engine/src/alerts/service.js';
import type { ChartSnapshotProvider, SnapshotRequest } from '../../engine/src/alerts/chart.js';
import { chartSpecOf } from '../../engine/src/alerts/core.js';
import { openAlertDb, OutboundQueue } from '../../engine/src/alerts/queue.js';
import type { AlertPayload, EntryAlert, ExitAlert, RuleAlert } from '../../engine/src/alerts/types.js';
import { createLogger } from '../../engine/src/log.js';
import { renderFootprintPng } from '../../indicators/render/node-png.js';
import { BotApiServer, decodePng, htmlVisibleLength, startBotApiServer, VirtualClock } from '../helpers/bot-api-server.js';

const TOKEN = '123456:TEST-token-never-logged';
const T0 = Date.UTC(2024, 0, 10, 12, 0, 0);

const rule = (symbol: string, ts: number, signal: 'LONG' | 'SHORT' = 'LONG', confidence = 75): RuleAlert => ({
  kind: 'rule', symbol, ts, key: `rule:${symbol}:${signal}:${ts}`, signal, confidence, level: 'medium', price: '100', cvd: 10, imbalance: 0.3, vwap: 99.5,
  absorption: 0, sessionActive: true, session: '2024-01-10', reasoning: ['CVD rising'],
});
const entry = (symbol: string, ts: number, grade = 'A', reasoning: string[] = ['absorption at VAL']): EntryAlert => ({
  kind: 'entry', symbol, ts, key: `entry:${symbol}:buy:${ts}`, side: 'buy', score: 72, grade, pattern: 'absorption/level', delta: -5, volume: 30, avgVolume: 10,
  bias: null, entry: '100', sl: '99', tp: '103', rr: 3, level: null, reasoning,
});
const exit = (symbol: string, ts: number): ExitAlert => ({
  kind: 'exit', symbol, ts, key: `exit:${symbol}:buy:${ts}`, side: 'buy', grade: 'A', entry: '100', exit: '99', reason: 'sl', pnl: '-1', r: -1, durationMs: 60_000, summary: ['stop 99 touched'],
});

interface Rig { server: BotApiServer; svc: AlertService; clock: VirtualClock; dir: string; db: string; logs: string[] }
const rigs: Rig[] = [];

async function rig(o: Partial<AlertServiceOptions> = {}, server?: BotApiServer, dir?: string, clock?: VirtualClock): Promise<Rig> {
  server ??= await startBotApiServer();
  dir ??= mkdtempSync(join(tmpdir(), 'tf-tg-'));
  clock ??= new VirtualClock(T0);
  const logs: string[] = [];
  const db = join(dir, 'alerts.sqlite');
  const svc = new AlertService({
    token: TOKEN, apiRoot: server.url, dbPath: db, commands: 'off', maxEventAgeMs: Infinity, clock, chatIds: [1], requestTimeoutMs: 3000,
    log: createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) }), ...o,
  });
  await svc.start();
  const r = { server, svc, clock, dir, db, logs };
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

const texts = (s: BotApiServer, chat?: number): string[] => s.delivered().filter((c) => chat === undefined || c.fields.chat_id === String(chat)).map((c) => c.fields.text ?? c.fields.caption);

describe('wire format', () => {
  it('sends HTML, urlencoded, with link previews off and the token only in the URL path', async () => {
    const { server, svc } = await rig();
    svc.publish(rule('BTCUSDT', T0));
    await svc.idle();
    const [c] = server.of('sendMessage');
    expect(c.token).toBe(TOKEN);
    expect(c.contentType).toBe('application/x-www-form-urlencoded');
    expect(c.fields.chat_id).toBe('1');
    expect(c.fields.parse_mode).toBe('HTML');
    expect(c.fields.link_preview_options).toBe('{"is_disabled":true}');
    expect(c.fields.disable_notification).toBeUndefined();
    expect(c.fields.text.split('\n')[0]).toBe('🟢 <b>LONG</b> <code>BTCUSDT</code> · confidence <b>75</b> (medium)');
    expect(svc.queue.stats()).toMatchObject({ pending: 0, sent: 1 });
  });
});

describe('429 and rate limits', () => {
  it('waits retry_after before resending the same message (virtual clock), without counting an attempt', async () => {
    const { server, svc } = await rig();
    server.tooMany('sendMessage', 3);
    svc.publish(rule('BTCUSDT', T0));
    const t = Date.now();
    await svc.idle();
    expect(Date.now() - t).toBeLessThan(2000);
    const calls = server.of('sendMessage');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[0].fields.text).toBe(calls[1].fields.text);
    const at = svc.sender.attempts;
    expect(at.map((a) => a.outcome)).toEqual(['429 retry_after=3', 'sent']);
    expect(at[1].at - at[0].at).toBeGreaterThanOrEqual(3000);
    expect(at[1].at - at[0].at).toBeLessThan(3100);
    expect(svc.queue.rows(1)[0].attempts).toBe(1);
  });

  it('spaces messages to one chat by >= 1 s and to a group by >= 3 s', async () => {
    const { server, svc } = await rig({ chatIds: [1, -500] });
    for (let i = 0; i < 3; i++) svc.publish(entry(`S${i}`, T0 + i));
    await svc.idle();
    expect(server.delivered().length).toBe(6);
    const times = (chat: number): number[] => svc.sender.attempts.filter((a) => a.chatId === chat).map((a) => a.at);
    const gaps = (xs: number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]);
    for (const g of gaps(times(1))) expect(g).toBeGreaterThanOrEqual(1000);
    for (const g of gaps(times(-500))) expect(g).toBeGreaterThanOrEqual(3000);
    expect(texts(server, 1).map((t) => t.split('\n')[0])).toEqual(['S0', 'S1', 'S2'].map((s) => `🟢 <b>ENTRY SIGNAL · LONG</b> <code>${s}</code>`));
  });

  it('sends at most 30 messages in any one-second window across chats', async () => {
    const chats = Array.from({ length: 70 }, (_, i) => 1000 + i);
    const { server, svc } = await rig({ chatIds: chats, sender: { concurrency: 16 } });
    svc.publish(entry('BTCUSDT', T0));
    await svc.idle(20_000);
    expect(server.delivered().length).toBe(70);
    const at = svc.sender.attempts.map((a) => a.at).sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0; i < at.length; i++) { let j = i; while (j < at.length && at[j] < at[i] + 1000) j++; worst = Math.max(worst, j - i); }
    expect(worst).toBe(30);
    expect(at[at.length - 1] - at[0]).toBeGreaterThanOrEqual(2000);
  });
});

describe('errors', () => {
  it('403: the chat is disabled, its queue dropped, other chats unaffected', async () => {
    const { server, svc } = await rig({ chatIds: [1, 2] });
    server.blocked((c) => c.method === 'sendMessage' && c.fields.chat_id === '1');
    svc.publish(rule('A', T0));
    svc.publish(rule('B', T0));
    await svc.idle();
    expect(svc.chats.get(1)).toMatchObject({ active: false, disabledReason: 'Forbidden: bot was blocked by the user' });
    expect(texts(server, 1)).toEqual([]);
    expect(texts(server, 2).length).toBe(2);
    svc.publish(rule('C', T0));
    await svc.idle();
    expect(server.of('sendMessage').filter((c) => c.fields.chat_id === '1').length).toBe(1);
    expect(texts(server, 2).length).toBe(3);
    expect(svc.queue.rows(1).map((r) => r.status)).toEqual(['dropped', 'dropped']);
  });

  it('follows migrate_to_chat_id: resends to the supergroup and moves the subscription', async () => {
    const { server, svc } = await rig({ chatIds: [-42] });
    server.migrated((c) => c.fields.chat_id === '-42', -1009876543210);
    svc.publish(rule('A', T0));
    await svc.idle();
    expect(server.of('sendMessage').map((c) => [c.fields.chat_id, c.status])).toEqual([['-42', 400], ['-1009876543210', 200]]);
    expect(svc.chats.get(-42)).toBeUndefined();
    expect(svc.chats.subscriptions(-1009876543210).map((s) => s.symbol)).toEqual(['*']);
    svc.publish(rule('B', T0));
    await svc.idle();
    expect(server.of('sendMessage').slice(2).map((c) => c.fields.chat_id)).toEqual(['-1009876543210']);
    // dedup history moved too: the first alert is not sent again
    svc.publish(rule('A', T0));
    await svc.idle();
    expect(server.of('sendMessage').length).toBe(3);
  });

  it('retries network errors with backoff and delivers exactly once', async () => {
    const { server, svc } = await rig();
    server.networkError('sendMessage', 2);
    svc.publish(exit('BTCUSDT', T0));
    await svc.idle();
    expect(server.of('sendMessage').map((c) => c.status)).toEqual([-1, -1, 200]);
    const at = svc.sender.attempts;
    expect(at.map((a) => a.outcome.split(':')[0])).toEqual(['transient', 'transient', 'sent']);
    expect(at[1].at - at[0].at).toBeGreaterThanOrEqual(1000);
    expect(at[2].at - at[1].at).toBeGreaterThanOrEqual(2000);
    expect(texts(server).length).toBe(1);
  });

  it('falls back to plain text when Telegram cannot parse the HTML', async () => {
    const { server, svc } = await rig();
    server.once('sendMessage', { status: 400, body: { ok: false, error_code: 400, description: "Bad Request: can't parse entities: Unsupported start tag" } });
    svc.publish(rule('A<B', T0));
    await svc.idle();
    const calls = server.of('sendMessage');
    expect(calls.map((c) => c.status)).toEqual([400, 200]);
    expect(calls[1].fields.parse_mode).toBeUndefined();
    expect(calls[1].fields.text.split('\n')[0]).toBe('🟢 LONG A<B · confidence 75 (medium)');
  });

  it('never logs the token', async () => {
    const { server, svc, logs } = await rig({ chatIds: [1, 2, 3] });
    server.tooMany((c) => c.fields.chat_id === '1', 1);
    server.blocked((c) => c.fields.chat_id === '2');
    server.networkError((c) => c.fields.chat_id === '3');
    svc.publish(rule('A', T0));
    await svc.idle();
    expect(logs.length).toBeGreaterThanOrEqual(3);
    expect(logs.join('\n')).not.toContain(TOKEN);
    expect(logs.join('\n')).not.toContain('TEST-token');
  });
});

describe('delivery rules', () => {
  it('never sends the same alert twice, including after a restart', async () => {
    const r = await rig();
    r.svc.publish(entry('A', T0));
    r.svc.publish(entry('A', T0));
    await r.svc.idle();
    expect(texts(r.server).length).toBe(1);
    expect(r.svc.stats.deduplicated).toBe(1);
    await r.svc.close();
    const r2 = await rig({}, r.server, r.dir, r.clock);
    r2.svc.publish(entry('A', T0));
    await r2.svc.idle();
    expect(texts(r.server).length).toBe(1);
    expect(r2.svc.stats.deduplicated).toBe(1);
  });

  it('cooldown per chat, symbol and direction in event time (rule: 5 min)', async () => {
    const { server, svc } = await rig();
    svc.publish(rule('A', T0));
    svc.publish(rule('A', T0 + 60_000));
    svc.publish(rule('A', T0 + 90_000, 'SHORT'));
    svc.publish(rule('A', T0 + 301_000));
    await svc.idle();
    expect(server.delivered().map((c) => c.fields.text.split('\n').pop())).toEqual(['🕒 2024-01-10 12:00:00 UTC', '🕒 2024-01-10 12:01:30 UTC', '🕒 2024-01-10 12:05:01 UTC']);
    expect(svc.stats.suppressed.cooldown).toBe(1);
  });

  it('quiet hours: silent delivery or suppression; exits bypass with notification', async () => {
    const { server, svc } = await rig({ chatIds: [1, 2] });
    svc.chats.update(1, { quiet: { start: '11:00', end: '13:30', timezone: 'UTC', mode: 'silent' } });
    svc.chats.update(2, { quiet: { start: '12:30', end: '07:00', timezone: 'Asia/Tokyo', mode: 'suppress' } }); // 21:00 in Tokyo
    svc.publish(rule('A', T0));
    svc.publish(exit('A', T0));
    await svc.idle();
    const c1 = server.delivered().filter((c) => c.fields.chat_id === '1');
    expect(c1.map((c) => [c.fields.text.split(' ')[0], c.fields.disable_notification])).toEqual([['🟢', 'true'], ['❌', undefined]]);
    const c2 = server.delivered().filter((c) => c.fields.chat_id === '2');
    expect(c2.map((c) => [c.fields.text.split(' ')[0], c.fields.disable_notification])).toEqual([['❌', undefined]]);
  });

  it('mute suppresses everything but exits; subscriptions filter symbol, kind, grade and confidence', async () => {
    const { server, svc, clock } = await rig({ chatIds: [] });
    svc.chats.subscribe(10, 'BTCUSDT', ['entry', 'exit']);
    svc.chats.subscribe(11, '*');
    svc.chats.update(11, { minGrade: 'A', minConfidence: 80 });
    svc.chats.subscribe(12, '*');
    svc.chats.update(12, { mutedUntil: clock.now() + 3_600_000 });
    svc.publish(entry('BTCUSDT', T0, 'B'));
    svc.publish(entry('ETHUSDT', T0, 'A+'));
    svc.publish(rule('BTCUSDT', T0, 'LONG', 79));
    svc.publish(rule('ETHUSDT', T0, 'LONG', 85));
    svc.publish(exit('BTCUSDT', T0));
    await svc.idle();
    const got = (chat: number): string[] => texts(server, chat).map((t) => t.split('\n')[0].replace(/<[^>]+>/g, ''));
    expect(got(10)).toEqual(['🟢 ENTRY SIGNAL · LONG BTCUSDT', '❌ EXIT · LONG BTCUSDT · stop hit']);
    expect(got(11)).toEqual(['🟢 ENTRY SIGNAL · LONG ETHUSDT', '🟢 LONG ETHUSDT · confidence 85 (medium)', '❌ EXIT · LONG BTCUSDT · stop hit']);
    expect(got(12)).toEqual(['❌ EXIT · LONG BTCUSDT · stop hit']);
  });

  it('splits a long alert into ordered parts within 4096 characters each', async () => {
    const { server, svc } = await rig();
    svc.publish(entry('BTCUSDT', T0, 'A', Array.from({ length: 150 }, (_, i) => `reason ${i} ${'x'.repeat(30)} <&>`)));
    await svc.idle();
    const calls = server.of('sendMessage');
    expect(calls.map((c) => c.status)).toEqual([200, 200]);
    expect(calls.every((c) => htmlVisibleLength(c.fields.text) <= 4096)).toBe(true);
    expect(calls[0].fields.text.startsWith('🟢 <b>ENTRY SIGNAL')).toBe(true);
    expect(calls[1].fields.text.endsWith('🕒 2024-01-10 12:00:00 UTC')).toBe(true);
  });
});

describe('chart snapshots', () => {
  const png = renderFootprintPng([
    { time: T0, open: 100, high: 103, low: 99, close: 102, volume: 30, delta: 6, rowSize: 1, rows: [{ price: 99, bid: 5, ask: 2 }, { price: 100, bid: 4, ask: 6 }, { price: 101, bid: 3, ask: 5 }, { price: 102, bid: 1, ask: 4 }] },
    { time: T0 + 60_000, open: 102, high: 104, low: 101, close: 101, volume: 20, delta: -4, rowSize: 1, rows: [{ price: 101, bid: 6, ask: 2 }, { price: 102, bid: 5, ask: 3 }, { price: 103, bid: 3, ask: 1 }] },
  ], null, { width: 400, height: 300 });
  const charts: ChartSnapshotProvider = { snapshot: async () => png };

  it('attaches the PNG to ENTRY as a multipart upload; the caption fits 1024 and the rest follows as text', async () => {
    const { server, svc } = await rig({ charts });
    svc.publish(entry('BTCUSDT', T0));
    svc.publish(entry('ETHUSDT', T0 + 1, 'A', Array.from({ length: 40 }, (_, i) => `reason ${i} ${'y'.repeat(30)}`)));
    svc.publish(rule('BTCUSDT', T0));
    await svc.idle();
    const photos = server.of('sendPhoto');
    expect(photos.length).toBe(2);
    for (const p of photos) {
      expect(p.status).toBe(200);
      expect(p.contentType).toMatch(/^multipart\/form-data; boundary=/);
      expect(p.files.photo.filename).toBe('chart.png');
      expect(p.files.photo.type).toBe('image/png');
      expect(Buffer.compare(p.files.photo.bytes, png)).toBe(0);
      expect(decodePng(p.files.photo.bytes)).toMatchObject({ width: 400, height: 300 });
      expect(p.fields.parse_mode).toBe('HTML');
      expect(htmlVisibleLength(p.fields.caption)).toBeLessThanOrEqual(1024);
    }
    expect(photos[0].fields.caption.endsWith('🕒 2024-01-10 12:00:00 UTC')).toBe(true);
    const follow = server.of('sendMessage').filter((c) => c.fields.text.includes('reason 39'));
    expect(follow.length).toBe(1);
    expect(server.of('sendMessage').filter((c) => c.fields.text.includes('<b>LONG</b>')).length).toBe(1);
  });

  it('draws a chart only when its row is sent: a stalled Bot API costs no drawing, the chats of one alert share one', async () => {
    const asked: { symbol: string; at?: number }[] = [];
    const counting: ChartSnapshotProvider = { snapshot: async (symbol, req = {}) => { asked.push({ symbol, at: req.at }); return png; } };
    const { server, svc } = await rig({ charts: counting, chatIds: [1, 2, 3] });
    server.stallAll = true;
    for (let i = 0; i < 6; i++) svc.publish(entry(`S${i}`, T0 + i));
    await svc.drain();
    await server.waitFor(() => server.stalledCount === 3, 3000, 'three stalled sends');
    // 18 photo rows queued, the three chats' first rows in flight: one drawing (S0, at its alert time)
    expect(svc.queue.stats()).toMatchObject({ pending: 15, sending: 3 });
    expect(svc.queue.rows(1).every((r) => r.method === 'photo' && r.photo === null && r.chart?.symbol === r.symbol)).toBe(true);
    expect(asked).toEqual([{ symbol: 'S0', at: T0 }]);
    server.release();
    await svc.idle();
    expect(server.of('sendPhoto').filter((c) => c.status === 200).length).toBe(18);
    expect(asked.map((a) => a.symbol)).toEqual(['S0', 'S1', 'S2', 'S3', 'S4', 'S5']);
    expect(asked.map((a) => a.at)).toEqual([0, 1, 2, 3, 4, 5].map((i) => T0 + i));
    expect(svc.sender.stats).toMatchObject({ chartsDrawn: 6, chartErrors: 0 });
  });

  it('the chart request carries the alert: ENTRY its entry / stop / target and a marker, DAILY BIAS the prior session', async () => {
    const seen: { symbol: string; req: SnapshotRequest }[] = [];
    const { server, svc } = await rig({ charts: { snapshot: async (symbol, req = {}) => { seen.push({ symbol, req }); return png; } } });
    svc.publish({ ...entry('BTCUSDT', T0), side: 'sell', entry: '100.5', sl: '101', tp: '99' });
    await svc.idle();
    expect(server.of('sendPhoto').filter((c) => c.status === 200)).toHaveLength(1);
    expect(seen).toEqual([{
      symbol: 'BTCUSDT',
      req: {
        at: T0, marker: { time: T0, side: 'sell' },
        levels: [{ price: 100.5, label: 'ENTRY 100.5', role: 'entry' }, { price: 101, label: 'SL 101', role: 'sl' }, { price: 99, label: 'TP 99', role: 'tp' }],
      },
    }]);
    const bias = { kind: 'daily_bias', symbol: 'NAS100', ts: T0, key: 'bias:NAS100:a:b', session: '2024-01-10', priorSession: '2024-01-09' } as AlertPayload;
    expect(chartSpecOf(bias)).toEqual({ symbol: 'NAS100', at: T0, profileSession: '2024-01-09' });
  });

  it('sends the caption as text when the chart cannot be drawn (nothing to draw, or the drawing fails)', async () => {
    let n = 0;
    const flaky: ChartSnapshotProvider = { snapshot: async () => { n++; if (n === 1) return null; throw new Error('renderer exploded'); } };
    const { server, svc, logs } = await rig({ charts: flaky });
    svc.publish(entry('BTCUSDT', T0));
    svc.publish(entry('ETHUSDT', T0 + 1));
    await svc.idle();
    expect(server.of('sendPhoto').length).toBe(0);
    const sent = server.of('sendMessage');
    expect(sent.map((c) => c.fields.text.split('\n')[0].replace(/<[^>]+>/g, ''))).toEqual(['🟢 ENTRY SIGNAL · LONG BTCUSDT', '🟢 ENTRY SIGNAL · LONG ETHUSDT']);
    expect(sent.every((c) => c.fields.parse_mode === 'HTML' && htmlVisibleLength(c.fields.text) <= 1024)).toBe(true);
    expect(svc.stats.chartErrors).toBe(2);
    expect(logs.some((l) => l.includes('renderer exploded'))).toBe(true);
  });
});

describe('persistent outbox', () => {
  it('survives a restart with the Bot API stalled: nothing lost, nothing duplicated', async () => {
    const r = await rig({ chatIds: [1, 2], sender: { stopTimeoutMs: 100 } });
    r.server.stallAll = true;
    for (let i = 0; i < 3; i++) r.svc.publish(entry(`S${i}`, T0 + i));
    await r.svc.drain();
    await r.server.waitFor(() => r.server.stalledCount === 2, 3000, 'two stalled sends');
    expect(r.svc.queue.stats()).toMatchObject({ pending: 4, sending: 2, sent: 0 });
    await r.svc.close(); // aborts the two stalled requests: they stay queued
    r.server.stallAll = false;
    const r2 = await rig({ chatIds: [1, 2] }, r.server, r.dir, r.clock);
    await r2.svc.idle();
    const got = r.server.delivered().map((c) => `${c.fields.chat_id}:${c.fields.text.split('\n')[0].replace(/<[^>]+>/g, '')}`);
    expect(got.length).toBe(6);
    expect(new Set(got).size).toBe(6);
    expect(got.filter((g) => g.startsWith('1:'))).toEqual(['1:🟢 ENTRY SIGNAL · LONG S0', '1:🟢 ENTRY SIGNAL · LONG S1', '1:🟢 ENTRY SIGNAL · LONG S2']);
    expect(r2.svc.queue.stats()).toMatchObject({ pending: 0, sending: 0, sent: 6, dropped: 0 });
    r.server.release(); // the two requests aborted at the stop: their client is gone, nothing was delivered
    expect(r.server.calls.filter((c) => c.status === -2).length).toBe(2);
    expect(r.server.delivered().length).toBe(6);
  });

  it('opens an outbox written before send-time charts (no chart column) and keeps its rows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-tg-old-'));
    try {
      const db = openAlertDb(join(dir, 'alerts.sqlite'));
      db.exec(`CREATE TABLE alert_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL, thread_id INTEGER, dedup_key TEXT NOT NULL, kind TEXT NOT NULL,
        symbol TEXT NOT NULL, priority INTEGER NOT NULL, method TEXT NOT NULL, text TEXT NOT NULL, parse_mode TEXT, photo BLOB, silent INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL, created_at INTEGER NOT NULL, done_at INTEGER,
        message_id INTEGER, error TEXT, UNIQUE (chat_id, dedup_key))`);
      db.prepare(`INSERT INTO alert_outbox (chat_id, dedup_key, kind, symbol, priority, method, text, photo, due_at, created_at) VALUES (1, 'old#0', 'entry', 'BTCUSDT', 1, 'photo', 'old', x'89504e47', 1, 1)`).run();
      const q = new OutboundQueue(db);
      q.enqueue([{ chatId: 1, key: 'new#0', kind: 'entry', symbol: 'ETHUSDT', priority: 1, method: 'photo', text: 'new', chart: { symbol: 'ETHUSDT', at: T0 } }], T0);
      const rows = q.rows(1);
      expect(rows.map((r) => [r.key, r.photo?.length ?? null, r.chart])).toEqual([['old#0', 4, null], ['new#0', null, { symbol: 'ETHUSDT', at: T0 }]]);
      expect(q.pendingCount()).toBe(2);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a graceful stop lets requests in flight finish: not resent after the restart', async () => {
    const r = await rig({ sender: { stopTimeoutMs: 5000 } });
    r.server.once('sendMessage', { stall: true });
    r.svc.publish(entry('S0', T0));
    await r.svc.drain();
    await r.server.waitFor(() => r.server.stalledCount === 1, 3000, 'stalled send');
    const closing = r.svc.close();
    setTimeout(() => r.server.release(), 100);
    await closing;
    const r2 = await rig({}, r.server, r.dir, r.clock);
    await r2.svc.idle();
    expect(r.server.delivered().length).toBe(1);
    expect(r2.svc.queue.stats()).toMatchObject({ pending: 0, sent: 1 });
  });

  it('stays bounded when the Bot API is stalled: lowest priority dropped first, exits kept', async () => {
    const { server, svc } = await rig({ maxPending: 5, sender: { stopTimeoutMs: 50 } });
    server.stallAll = true;
    for (let i = 0; i < 20; i++) svc.publish(rule(`S${i}`, T0));
    svc.publish(exit('X', T0));
    await svc.drain();
    expect(svc.queue.pendingCount()).toBe(5);
    expect(svc.queue.stats().overflowDrops).toBe(16);
    expect(svc.queue.rows(1).filter((r) => r.status === 'pending' || r.status === 'sending').map((r) => r.kind)).toContain('exit');
  });
});
