/**
 * What `tapeflow start` says about itself, over real HTTP: /health and /api/v1/system name every
 * problem (a feed that cannot connect, an order book out of sync, a Telegram poller that keeps getting
 * 409 Conflict) and clear them when they end; /metrics (Prometheus text format, prom-client) carries
 * feed frames, gaps, lag, the store queue, event-loop delay, WebSocket clients, dropped slow consumers
 * and the alert outbox, and its values move with what happens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import type { BookDelta, BookSnapshot } from '../../engine/src/core/events.js';
import { randomTape } from '../helpers/tape.js';
import { startBotApiServer, type BotApiServer } from '../helpers/bot-api-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tapeflow-status-'));
let app: StartedApp;
let bot: BotApiServer;
let conflict = true;
const T = Date.now() - 60_000;

beforeAll(async () => {
  bot = await startBotApiServer();
  bot.once((c) => c.method === 'getUpdates' && conflict, { status: 409, body: { ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' } }, 1e9);
  const cfg = join(dir, 'cfg.yaml');
  // port 9 on loopback: nothing listens, the feed stays in backoff
  writeFileSync(cfg, [
    'feeds:', '  - venue: binance-usdm', '    symbols: [BTCUSDT]', '    wsUrl: ws://127.0.0.1:9/stream', '    restUrl: http://127.0.0.1:9',
    'alerts:', '  telegram:', '    enabled: true', '    tokenEnv: TF_STATUS_TG_TOKEN', `    apiRoot: ${bot.url}`, `    dbPath: ${join(dir, 'alerts.sqlite')}`, '    allowChatIds: [42]', '',
  ].join('\n'));
  process.env.TF_STATUS_TG_TOKEN = '123:status-test-token';
  app = await startApp({ config: cfg, port: 0, storePath: join(dir, 'store.sqlite'), feeds: true });
}, 30_000);

afterAll(async () => {
  await app?.close();
  await bot?.close();
  delete process.env.TF_STATUS_TG_TOKEN;
  rmSync(dir, { recursive: true, force: true });
});

const get = async (p: string): Promise<any> => (await fetch(app.server.url + p)).json();
async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One sample of the exposition text: `name{labels} value` (labels matched as a substring). */
function sample(text: string, name: string, labels = ''): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labels && !(m[2] ?? '').includes(labels)) continue;
    return Number(m[3]);
  }
  return null;
}
async function scrape(): Promise<string> {
  const r = await fetch(`${app.server.url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text();
}

describe('/health and /api/v1/system name every problem', () => {
  it('a feed that cannot connect, a book out of sync and a Telegram poller in conflict; each clears when it ends', async () => {
    // a depth update before any snapshot: the book is not in sync
    const delta: BookDelta = { type: 'book_delta', instrument: 'BTCUSDT', ts: T, firstSeq: 5, seq: 6, prevSeq: 4, bids: [[599990, 1000]], asks: [] };
    app.engine.onEvent(delta);
    const h = await until('three problems', async () => {
      const x = await get('/health');
      const comps = (x.problems as { component: string }[]).map((p) => p.component.split(':')[0]);
      return comps.includes('feed') && comps.includes('book') && comps.includes('telegram') ? x : null;
    });
    expect(h.status).toBe('degraded');
    const by = (c: string): { reason: string; since: number | null } => h.problems.find((p: { component: string }) => p.component.startsWith(c));
    expect(by('feed:').reason).toMatch(/^binance-usdm (backoff|connecting)/);
    expect(by('book:BTCUSDT').reason).toBe('L2 order book not in sync (waiting for a snapshot or resync)');
    expect(by('telegram').reason).toBe('bot-command polling retrying: 409 Conflict: another instance polls this bot');
    expect(by('telegram').since).toBeGreaterThan(0);
    const sys = await get('/api/v1/system');
    expect(sys.status).toBe('degraded');
    expect(sys.problems.map((p: { component: string }) => p.component).sort()).toEqual(h.problems.map((p: { component: string }) => p.component).sort());

    // the book gets its snapshot; the other bot instance goes away
    const snap: BookSnapshot = { type: 'book_snapshot', instrument: 'BTCUSDT', ts: T + 1, seq: 100, bids: [[599990, 5000]], asks: [[600010, 4000]] };
    app.engine.onEvent(snap);
    conflict = false;
    const later = await until('book and telegram cleared', async () => {
      const x = await get('/health');
      const comps = (x.problems as { component: string }[]).map((p) => p.component);
      return !comps.some((c) => c.startsWith('book:') || c === 'telegram') ? x : null;
    });
    // the feed still cannot connect
    expect(later.problems.map((p: { component: string }) => p.component.split(':')[0])).toEqual(['feed']);
  }, 40_000);
});

describe('/metrics', () => {
  it('serves Prometheus text whose values move: events, lag, feed, book, store, event loop, WebSocket clients, alert outbox', async () => {
    const a = await scrape();
    // the feed keeps failing to connect: up 0, counters exported per feed
    expect(sample(a, 'tapeflow_feed_up', 'venue="binance-usdm"')).toBe(0);
    expect(sample(a, 'tapeflow_feed_frames_total', 'venue="binance-usdm"')).toBe(0);
    expect(sample(a, 'tapeflow_feed_gaps_total', 'venue="binance-usdm"')).not.toBeNull();
    expect(sample(a, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    expect(sample(a, 'tapeflow_store_queue_max_ops')).toBe(200_000);
    expect(sample(a, 'tapeflow_ws_clients')).toBe(0);
    expect(sample(a, 'tapeflow_ws_dropped_slow_consumers_total')).toBe(0);
    expect(sample(a, 'tapeflow_alert_outbox_pending')).toBe(0);
    expect(sample(a, 'tapeflow_alert_outbox_bound')).toBe(10_000);
    expect(sample(a, 'tapeflow_book_synced', 'instrument="BTCUSDT"')).toBe(1);
    expect(sample(a, 'tapeflow_degraded')).toBe(1);
    expect(sample(a, 'tapeflow_problems', 'component="feed"')).toBe(1);
    const events0 = sample(a, 'tapeflow_events_total')!;
    const commits0 = sample(a, 'tapeflow_store_commits_total')!;

    // trades arrive, a client connects
    const tape = randomTape(5, 3000, { start: Date.now() - 1_300_000, price: 600000 }); // ends in the past (≤ 400 ms apart)
    for (const t of tape) app.engine.onEvent({ ...t });
    await app.store!.flush();
    const ws = new WebSocket(`${app.server.url.replace('http', 'ws')}/ws`);
    await new Promise<void>((resolve, reject) => { ws.on('open', () => resolve()); ws.on('error', reject); });
    try {
      const b = await until('the WebSocket client in /metrics', async () => { const t = await scrape(); return sample(t, 'tapeflow_ws_clients') === 1 ? t : null; });
      expect(sample(b, 'tapeflow_events_total')).toBe(events0 + 3000);
      expect(sample(b, 'tapeflow_store_commits_total')!).toBeGreaterThan(commits0);
      expect(sample(b, 'tapeflow_store_queue_ops')).toBe(0);
      expect(sample(b, 'tapeflow_ws_connections_total')!).toBeGreaterThanOrEqual(1);
      expect(sample(b, 'tapeflow_ws_congested_clients')).toBe(0);
      expect(sample(b, 'tapeflow_ws_conflated_total')).toBe(0);
      // lag: local now minus the exchange time of BTCUSDT's last event (the book snapshot above is newer than the tape)
      const lag = sample(b, 'tapeflow_feed_lag_seconds', 'instrument="BTCUSDT"')!;
      const expected = (Date.now() - Math.max(tape[tape.length - 1].ts, T + 1)) / 1000;
      expect(lag).toBeGreaterThan(0);
      expect(Math.abs(lag - expected)).toBeLessThan(5);
    } finally {
      ws.close();
    }
    await until('the client gone', async () => sample(await scrape(), 'tapeflow_ws_clients') === 0);
  }, 30_000);
});
