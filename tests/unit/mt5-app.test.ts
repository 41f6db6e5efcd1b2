/**
 * The MT5 bridge in the composition root (startApp): configuration errors that `start` would hit are
 * reported by `config check`; a bridge that cannot listen stops the app instead of serving without it;
 * and the EA's backfill (the EA's own source through the MQL5 shim) reaches the engine, hence /history
 * and the footprint API, bar for bar the same as a live replay of the same ticks through the bridge.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig } from '../../engine/src/config/load.js';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { SimulatedEA } from '../../mt5-bridge/src/sim-ea.js';
import { flaggedTape } from '../../mt5-bridge/src/sources.js';
import { ShimEA } from '../../mt5-bridge/shim/run.js';
import { until } from '../helpers/shim-ea.js';

const dir = mkdtempSync(join(tmpdir(), 'tapeflow-mt5-app-'));
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

function cfg(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

describe('mt5 configuration', () => {
  it('config check fails when mt5.enabled has no secret in the environment, and accepts the documented symbol options', async () => {
    const p = cfg('a.yaml', 'feeds: []\nmt5:\n  enabled: true\n  symbols:\n    "WIN$N": WIN\n    "US100.cash": ""\n  suffixes: [m]\n  dst: us\n');
    const bad = await checkConfig(p, {});
    expect(bad.issues.map((i) => i.path)).toEqual(['mt5.secretEnv']);
    expect(bad.issues[0].message).toContain('TAPEFLOW_MT5_SECRET');
    const ok = await checkConfig(p, { TAPEFLOW_MT5_SECRET: 's' });
    expect(ok.issues).toEqual([]);
    expect(ok.config!.mt5.symbols).toEqual({ 'WIN$N': 'WIN', 'US100.cash': '' });
    expect(ok.config!.mt5.suffixes).toEqual(['m']);
    expect((await checkConfig(cfg('b.yaml', 'mt5:\n  dst: summer\n'), {})).issues[0].path).toBe('mt5.dst');
  });

  it('a bridge that cannot listen stops startApp and releases the HTTP port (start exits non-zero)', async () => {
    const blocker = createServer();
    const busy = await new Promise<number>((r) => blocker.listen(0, '127.0.0.1', () => r((blocker.address() as { port: number }).port)));
    cleanups.push(() => new Promise((r) => blocker.close(() => r(undefined))));
    process.env.TAPEFLOW_MT5_SECRET = 'app-secret';
    const p = cfg('c.yaml', `feeds: []\nmt5:\n  enabled: true\n  port: ${busy}\n  dbPath: ${join(dir, 'c.sqlite')}\n`);
    await expect(startApp({ config: p, port: 0, storePath: null })).rejects.toThrow(/mt5 bridge cannot listen/);
  });
});

describe('MT5 backfill in the app', () => {
  it('/history and the footprint API show the backfilled window bar for bar (1m bars: OHLCV and every footprint cell) like a live replay of the same ticks', async () => {
    process.env.TAPEFLOW_MT5_SECRET = 'app-secret';
    const start = Date.UTC(2024, 6, 1, 13, 0, 7);
    const tape = flaggedTape({ n: 40_000, seed: 21, start, utcOffset: 10800 }); // ~9 minutes
    const k = 36_000; // the EA starts here: the ~8 minutes before are history, backfilled on first contact
    const mk = async (name: string): Promise<StartedApp> => {
      const app = await startApp({ config: cfg(`${name}.yaml`, `feeds: []\nmt5:\n  enabled: true\n  port: 0\n  dbPath: ${join(dir, `${name}.sqlite`)}\n`), port: 0, storePath: join(dir, `${name}-store.sqlite`) });
      cleanups.push(() => app.close());
      return app;
    };
    const a = await mk('shim');
    const ea = new ShimEA({ broker: { startUtc: tape.ticks[k].utc, speed: 20, offsets: [{ fromUtc: 0, off: 10800 }], symbols: [tape] }, inputs: { InpPort: a.mt5!.port, InpSecret: 'app-secret', InpSymbols: tape.sym, InpBackfillDays: 1 } });
    ea.start();
    cleanups.push(() => ea.stop());
    // the replay: the same ticks through a second app's bridge, all live from the first one
    const b = await mk('replay');
    const sim = new SimulatedEA({ port: b.mt5!.port, secret: 'app-secret', symbols: [{ ...tape, released: 0 }], utcOffset: 10800, heartbeats: false });
    cleanups.push(() => sim.close());
    await sim.start();
    sim.release();
    await sim.drain();
    await sim.waitAcked(60_000);
    await until(() => a.mt5!.server.stats.ticksLive + a.mt5!.server.stats.historyToEngine >= tape.ticks.length, 60_000, 'history and live in the engine');
    expect(a.mt5!.server.stats.historyToEngine).toBeGreaterThanOrEqual(k);
    expect(b.mt5!.server.stats.ticksLive).toBe(tape.ticks.length);
    const inst = a.mt5!.server.instrumentOf([...a.mt5!.server.feeds.keys()][0], tape.sym)!;
    const from = Math.floor(tape.ticks[0].utc / 60_000) * 60, to = Math.floor(tape.ticks[k].utc / 60_000) * 60 - 1; // the whole minutes before live
    const get = async (app: StartedApp, path: string): Promise<unknown> => (await fetch(`${app.server.url}${path}`)).json();
    const hist = `/history?symbol=${inst}&resolution=1&from=${from}&to=${to}`;
    type Udf = { s: string; t: number[]; o: number[]; h: number[]; l: number[]; c: number[]; v: number[] };
    const ha = await get(a, hist) as Udf, hb = await get(b, hist) as Udf;
    expect(ha.s).toBe('ok');
    expect(ha.t.length).toBeGreaterThanOrEqual(7); // one-minute bars of backfilled ticks only
    expect(ha.t[0]).toBe(from);
    for (let i = 0; i < hb.t.length; i++) {
      const bar = (u: Udf): number[] => [u.t[i], u.o[i], u.h[i], u.l[i], u.c[i], u.v[i]];
      expect(bar(ha), `bar ${new Date(hb.t[i] * 1000).toISOString()}`).toEqual(bar(hb));
    }
    expect(ha).toEqual(hb);
    const fp = `/api/v1/footprint?symbol=${inst}&agg=time&resolution=1&from=${from * 1000}&to=${to * 1000 + 999}`; // Unix ms
    type Fp = { bars: { t: number; rows?: unknown[] }[] };
    const fa = await get(a, fp) as Fp, fb = await get(b, fp) as Fp;
    expect(fa.bars.length).toBe(ha.t.length);
    for (let i = 0; i < fb.bars.length; i++) {
      expect(fa.bars[i].rows?.length, 'footprint rows').toBeGreaterThan(0);
      expect(fa.bars[i], `footprint bar ${i}`).toEqual(fb.bars[i]);
    }
    expect(fa).toEqual(fb);
  }, 120_000);
});
