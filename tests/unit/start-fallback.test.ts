/**
 * First run that always shows a market: `startApp` with a live feed whose loopback venue refuses every
 * connection serves the simulator (SIM:… instruments) after the fallback delay, says so on /health,
 * /api/v1/feeds and in a log line naming the config, never stores the simulated data, and switches to
 * live without a restart when the venue starts accepting. A reachable venue's first bar comes within 10 s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { FakeVenue, binance } from '../../engine/src/feeds/testing.js';
import { createLogger } from '../../engine/src/log.js';
import { SIMULATED_BANNER } from '../../engine/src/cli/fallback.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function setup(refuse: boolean, fallback: { afterMs: number; backfillMs: number } | false): Promise<{ app: StartedApp; venue: FakeVenue; lines: string[]; dir: string }> {
  const venue = await FakeVenue.start();
  cleanup.push(() => venue.close());
  venue.refuse = refuse;
  // answers only what the feed needs; no book snapshot is needed for trades
  venue.routes.set('/fapi/v1/exchangeInfo', () => ({ body: binance.exchangeInfo([{ symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', tick: '0.10', step: '0.001' }]) }));
  venue.routes.set('/fapi/v1/depth', () => ({ body: binance.snapshot(100, [['60000.0', '1.000']], [['60000.1', '1.500']], Date.now()) }));
  const dir = mkdtempSync(join(tmpdir(), 'tapeflow-fallback-'));
  const cfg = join(dir, 'cfg.yaml');
  writeFileSync(cfg, `feeds:\n  - venue: binance-usdm\n    symbols: [BTCUSDT]\n    wsUrl: ${venue.wsBase}/stream\n    restUrl: ${venue.restUrl}\n`);
  const lines: string[] = [];
  const app = await startApp({ config: cfg, port: 0, storePath: join(dir, 'store.sqlite'), feeds: true, clock: Date.now, fallback, logger: createLogger({ level: 'info', write: (l) => lines.push(l) }) });
  cleanup.push(() => app.close());
  return { app, venue, lines, dir };
}

/** Send live aggTrades on every open connection until stopped. */
function pump(venue: FakeVenue): () => void {
  let a = 1;
  const t = setInterval(() => { const now = Date.now(); venue.send(binance.aggTrade('BTCUSDT', a, (60000 + (a % 7) / 10).toFixed(1), '0.010', now, a % 2 === 0)); a++; }, 50);
  return () => clearInterval(t);
}

const get = async (app: StartedApp, path: string): Promise<any> => (await fetch(app.server.url + path)).json();

describe('first run: simulator fallback', () => {
  it('serves the simulator when venues are unreachable, labels it everywhere, never stores it, and goes live when the venue accepts', async () => {
    const { app, venue, lines, dir } = await setup(true, { afterMs: 1500, backfillMs: 20 * 60_000 });
    const before = await get(app, '/api/v1/health');
    expect(before.problems.some((x: { component: string }) => x.component === 'simulator')).toBe(false);
    const feeds = await until('simulated mode', async () => { const f = await get(app, '/api/v1/feeds'); return f.mode === 'simulated' ? f : undefined; });
    expect(feeds.simulated.instruments).toEqual(['SIM:BTCUSDT']);
    expect(feeds.simulated.banner).toBe(SIMULATED_BANNER);
    for (const path of ['/health', '/api/v1/health']) {
      const h = await get(app, path);
      expect(h.status).toBe('degraded');
      expect(h.problems.map((x: { reason: string }) => x.reason).join(' ')).toMatch(/SIMULATED — live venues unreachable.*binance-usdm/);
    }
    const log = lines.join('\n');
    expect(log).toMatch(/live venues unreachable .*serving SIMULATED data as SIM:BTCUSDT/);
    expect(log).toContain('`feeds` section (venue, symbols, wsUrl, restUrl) in');
    expect(log).toContain('cfg.yaml');
    // the backfilled simulated session: many 1 m bars, not one
    const now = Math.floor(Date.now() / 1000);
    const hist = await get(app, `/history?symbol=SIM:BTCUSDT&resolution=1&from=${now - 3600}&to=${now + 60}`);
    expect(hist.s).toBe('ok');
    expect(hist.t.length).toBeGreaterThanOrEqual(20);
    expect(app.engine.pipelines.has('BTCUSDT')).toBe(false);

    // the venue comes back: live without a restart
    venue.refuse = false;
    const stop = pump(venue);
    cleanup.push(async () => stop());
    await until('live mode', async () => { const f = await get(app, '/api/v1/feeds'); return f.mode === 'live' ? f : undefined; }, 20_000);
    expect((await get(app, '/health')).problems.some((x: { component: string }) => x.component === 'simulator')).toBe(false);
    expect(lines.join('\n')).toMatch(/live data is back/);
    await until('live trades', () => (app.engine.pipelines.get('BTCUSDT')?.counters.trades ?? 0) > 5 ? true : undefined);
    // the simulator stopped: SIM:BTCUSDT gets no more trades
    const simTrades = app.engine.pipeline('SIM:BTCUSDT').counters.trades;
    await new Promise((r) => setTimeout(r, 400));
    expect(app.engine.pipeline('SIM:BTCUSDT').counters.trades).toBe(simTrades);
    stop();
    await app.close();
    cleanup.pop(); // app closed here so the store is flushed
    const db = new Database(join(dir, 'store.sqlite'), { readonly: true });
    const ids = (db.prepare('SELECT id FROM instruments').all() as { id: string }[]).map((r) => r.id);
    db.close();
    expect(ids).toContain('BTCUSDT');
    expect(ids.filter((i) => i.startsWith('SIM:'))).toEqual([]);
  }, 60_000);

  it('a reachable loopback venue: the first live bar within 10 s, no simulator', async () => {
    const t0 = Date.now();
    const { app, venue } = await setup(false, { afterMs: 10_000, backfillMs: 0 });
    const stop = pump(venue);
    cleanup.push(async () => stop());
    await until('first bar', async () => {
      const now = Math.floor(Date.now() / 1000);
      const h = await get(app, `/history?symbol=BTCUSDT&resolution=1&from=${now - 600}&to=${now + 60}`);
      return h.s === 'ok' && h.t.length > 0 ? true : undefined;
    }, 10_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const fd = await get(app, '/api/v1/feeds');
    expect(fd.mode).toBe('live');
  }, 30_000);
});
