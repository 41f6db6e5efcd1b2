/**
 * No silent loss across restarts: `tapeflow start` ingests a loopback Binance USD-M venue (aggTrades on
 * the documented /market route, REST aggTrades by fromId) into a real SQLite store and is killed with
 * SIGKILL 20 times mid-ingest. After each restart the feed continues from the store's last trade and
 * backfills the downtime over REST. At the end every trade id the venue published is in the store exactly
 * once, or inside a persisted gap record.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type WebSocket from 'ws';
import { FakeVenue, binance } from '../../engine/src/feeds/testing.js';
import { REPO_ROOT } from '../helpers/data.js';

const dir = mkdtempSync(join(tmpdir(), 'tapeflow-sigkill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row { a: number; p: string; q: string; f: number; l: number; T: number; m: boolean }

describe('restarts: SIGKILL ×20 during ingest', () => {
  it('loses no trade id: each is stored once or covered by a persisted gap', async () => {
    const v = await FakeVenue.start();
    const market = new Set<WebSocket>();
    v.on('connection', (ws: WebSocket, url: string) => { if (url.startsWith('/market')) { market.add(ws); ws.on('close', () => market.delete(ws)); } });
    v.routes.set('/fapi/v1/exchangeInfo', () => ({ body: binance.exchangeInfo([{ symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', tick: '0.10', step: '0.001' }]) }));
    v.routes.set('/fapi/v1/depth', () => ({ body: binance.snapshot(1, [['60000.0', '1.000']], [['60000.1', '1.000']], Date.now()) }));
    const tape: Row[] = [];
    v.routes.set('/fapi/v1/aggTrades', (url) => {
      const from = Number(url.searchParams.get('fromId'));
      const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? 500));
      return { body: tape.slice(from - 1, from - 1 + limit) };
    });
    // the venue publishes one aggTrade every 4 ms on /market, ids from 1, contiguous
    const gen = setInterval(() => {
      const a = tape.length + 1;
      const r: Row = { a, p: (60000 + (a % 17) / 10).toFixed(1), q: '0.001', f: a, l: a, T: Date.now(), m: a % 3 === 0 };
      tape.push(r);
      for (const ws of market) v.send(binance.aggTrade('BTCUSDT', a, r.p, r.q, r.T, r.m), ws);
    }, 4);
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, `feeds:\n  - venue: binance-usdm\n    symbols: [BTCUSDT]\n    wsUrl: ${v.wsBase}\n    restUrl: ${v.restUrl}\nlog:\n  level: warn\n`);
    const store = join(dir, 'store.sqlite');
    const run = (): ChildProcess => spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tapeflow.js'), 'start', '--config', cfg, '--store', store, '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = (c: ChildProcess) => new Promise<void>((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
    try {
      for (let k = 0; k < 20; k++) {
        const c = run();
        const before = v.connectionUrls.length;
        // ingesting: its /market connection is up, then a little more, then SIGKILL
        for (let i = 0; i < 200 && !v.connectionUrls.slice(before).some((u) => u.startsWith('/market')); i++) await sleep(25);
        await sleep(300 + ((k * 137) % 900));
        c.kill('SIGKILL');
        await exited(c);
      }
      // a last run catches up, then stops cleanly (store flushed)
      const last = run();
      const target = tape.length + 200;
      const stored = (): number => {
        try {
          const db = new Database(store, { readonly: true });
          try { return (db.prepare('SELECT MAX(id) AS m FROM trades').get() as { m: number | null }).m ?? 0; } finally { db.close(); }
        } catch { return 0; }
      };
      for (let i = 0; i < 300 && stored() < target; i++) await sleep(100);
      clearInterval(gen);
      await sleep(300);
      last.kill('SIGTERM');
      await exited(last);
    } finally {
      clearInterval(gen);
      await v.close();
    }
    const db = new Database(store, { readonly: true });
    const ids = (db.prepare('SELECT id FROM trades ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    const gaps = (db.prepare('SELECT reason FROM gaps').all() as { reason: string }[]).map((r) => r.reason);
    db.close();
    const max = ids[ids.length - 1]!;
    expect(max).toBeGreaterThan(2000);
    const have = new Set(ids);
    expect(have.size).toBe(ids.length); // each id once
    const covered = (id: number): boolean => gaps.some((g) => { const m = /trade ids (\d+)\.\.(\d+) missing/.exec(g); return m !== null && id >= Number(m[1]) && id <= Number(m[2]); });
    // from the first trade the first run saw (what the venue published before it is not ours to keep)
    const missing: number[] = [];
    for (let id = ids[0]!; id <= max; id++) if (!have.has(id) && !covered(id)) missing.push(id);
    const ranges: string[] = [];
    for (let i = 0; i < missing.length; i++) { let j = i; while (j + 1 < missing.length && missing[j + 1] === missing[j]! + 1) j++; ranges.push(`${missing[i]}..${missing[j]}`); i = j; }
    expect(ranges).toEqual([]);
    console.log(`SIGKILL ×20: ${max} trade ids published up to the last stored one, ${ids.length} stored, ${max - ids.length} in ${gaps.length} persisted gap records`);
  }, 240_000);
});
