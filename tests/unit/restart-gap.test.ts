/**
 * What a restart cannot recover is a gap, persisted in the store and shown where the user looks:
 * /timescale_marks (a "G" mark) and /api/v1/feeds (the completeness record). Here the venue's REST
 * aggTrades refuses, so the downtime between the stored last trade and the first live one is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { FakeVenue, binance } from '../../engine/src/feeds/testing.js';
import { Store } from '../../engine/src/store/store.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) { if (Date.now() - t0 > ms) throw new Error(`timeout: ${what}`); await sleep(50); }
}

describe('restart: the unrecoverable downtime is a persisted, visible gap', () => {
  it('records trade ids it cannot backfill in the store, /timescale_marks and /api/v1/feeds', async () => {
    const v = await FakeVenue.start();
    cleanup.push(() => v.close());
    v.routes.set('/fapi/v1/exchangeInfo', () => ({ body: binance.exchangeInfo([{ symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', tick: '0.10', step: '0.001' }]) }));
    v.routes.set('/fapi/v1/depth', () => ({ body: binance.snapshot(1, [['60000.0', '1.000']], [['60000.1', '1.000']], Date.now()) }));
    let restOk = true;
    const tape: Record<string, unknown>[] = [];
    v.routes.set('/fapi/v1/aggTrades', (url) => restOk ? { body: tape.slice(Number(url.searchParams.get('fromId')) - 1, Number(url.searchParams.get('fromId')) - 1 + 1000) } : { status: 503, body: { code: -1, msg: 'unavailable' } });
    const publish = (a: number): void => {
      const T = Date.now();
      tape.push({ a, p: '60000.0', q: '0.001', f: a, l: a, T, m: false });
      v.send(binance.aggTrade('BTCUSDT', a, '60000.0', '0.001', T, false)); // every open socket; the feed dedupes by id
    };
    const dir = mkdtempSync(join(tmpdir(), 'tapeflow-restart-gap-'));
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, `feeds:\n  - venue: binance-usdm\n    symbols: [BTCUSDT]\n    wsUrl: ${v.wsBase}\n    restUrl: ${v.restUrl}\n`);
    const storePath = join(dir, 'store.sqlite');
    const open = (): Promise<StartedApp> => startApp({ config: cfg, port: 0, storePath, feeds: true, clock: Date.now, fallback: false, feedDefaults: { backoff: { baseMs: 10, maxMs: 50 } } });

    const a = await open();
    await until('first run connected', () => v.sockets.size >= 1);
    for (let id = 1; id <= 50; id++) publish(id);
    await until('first run stored 50', () => (a.engine.pipelines.get('BTCUSDT')?.counters.trades ?? 0) === 50);
    await a.close();
    // downtime: the venue goes on (ids 51..99), then REST backfill fails after the restart
    for (let id = 51; id <= 99; id++) publish(id);
    restOk = false;
    const b = await open();
    cleanup.push(() => b.close());
    await until('second run connected', () => v.sockets.size >= 1);
    const pump = setInterval(() => publish(tape.length + 1), 20);
    cleanup.push(async () => clearInterval(pump));
    await until('gap closed unrecovered', async () => {
      const f = await (await fetch(`${b.server.url}/api/v1/feeds`)).json() as { completeness: { gaps: { kind: string; complete?: boolean; to: number | null }[] }[] };
      return f.completeness[0]?.gaps.some((g) => g.kind === 'trades' && g.complete === false && g.to !== null) ?? false;
    });
    clearInterval(pump);
    const feeds = await (await fetch(`${b.server.url}/api/v1/feeds`)).json() as { completeness: { gaps: { kind: string; reason: string; missing?: number; recovered?: number }[] }[] };
    const g = feeds.completeness[0]!.gaps.find((x) => x.kind === 'trades')!;
    expect(g.reason).toBe('trade ids 51..99 missing');
    expect([g.missing, g.recovered]).toEqual([49, 0]);
    const now = Math.floor(Date.now() / 1000);
    await until('gap mark', async () => {
      const m = await (await fetch(`${b.server.url}/timescale_marks?symbol=BTCUSDT&resolution=1&from=${now - 600}&to=${now + 60}`)).json() as { label: string; tooltip: string[] }[];
      return m.some((x) => x.label === 'G' && x.tooltip.join(' ').includes('49 trades not recovered: trade ids 51..99 missing'));
    });
    await b.close();
    cleanup.pop(); cleanup.pop();
    const s = Store.open({ path: storePath });
    try {
      const gaps = s.gaps('BTCUSDT');
      expect(gaps.map((x) => x.reason)).toContain('binance-usdm: 49 trades not recovered: trade ids 51..99 missing');
      expect(s.tradeCount('BTCUSDT')).toBeGreaterThan(50);
    } finally { s.close(); }
  }, 60_000);
});
